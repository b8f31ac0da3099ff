import os

from setuptools import find_packages
from setuptools import setup

here = os.path.abspath(os.path.dirname(__file__))


def read(*names):
    with open(os.path.join(here, *names), encoding='utf-8') as f:
        return f.read()


long_description = read('README.rst') + '\n\n' + read('CHANGES.txt')

install_requires = [
    'SQLAlchemy>=2.0',
    'zope.interface',
    'zope.component',
    'transaction',
    'zope.sqlalchemy',
    'pyramid>=2.0',
    'pyramid_tm',
    'pyramid_retry',
    # clio.migrate (the clio-migrate command) upgrades Clio 0.6/0.7
    # databases with alembic operations.
    'alembic',
    # pyramid 2.1 imports pkg_resources, which setuptools 82 removed.
    'setuptools<82',
]

mysql_requires = [
    'PyMySQL',
]

postgresql_requires = [
    'psycopg[binary]',
]

# clio-bench's Continuum contender.  SQLAlchemy-Continuum 2.0 supports
# SQLAlchemy 2.0 and 2.1 and no longer needs SQLAlchemy-Utils (1.4 did).
bench_requires = [
    'SQLAlchemy-Continuum>=2.0',
]

# The demo application and the editorial UI (clio.ui: templates through
# pyramid_jinja2; clio.demo served by waitress through bin/pserve).
demo_requires = [
    'waitress',
    'pyramid_jinja2',
]

test_requires = [
    'pytest',
    'WebTest',
    # src/clio/tests/ui/test_browser.py drives Debian's chromium
    # (/usr/bin/chromium) through Playwright; no bundled browser is used.
    'playwright',
    'hypothesis',
    # src/clio/tests/test_docs.py builds the documentation and runs its
    # doctests.
    'Sphinx',
    'repoze.sphinx.autointerface',
    # src/clio/tests/test_reliability_fuzz.py fuzzes the JSON API from its
    # OpenAPI document.
    'schemathesis',
] + mysql_requires + postgresql_requires + bench_requires + demo_requires

setup(
    name='clio',
    version='1.0.dev0',
    description=(
        'Publication workflow and version history for SQLAlchemy models, '
        'as a Pyramid plugin'
    ),
    long_description=long_description,
    long_description_content_type='text/x-rst',
    classifiers=[
        'Development Status :: 3 - Alpha',
        'Framework :: Pyramid',
        'Intended Audience :: Developers',
        'Programming Language :: Python',
        'Programming Language :: Python :: 3',
        'Programming Language :: Python :: 3 :: Only',
        'Programming Language :: Python :: 3.11',
        'Programming Language :: Python :: 3.12',
        'Programming Language :: Python :: 3.13',
        'Topic :: Database',
        'Topic :: Internet :: WWW/HTTP :: Site Management',
    ],
    keywords='sqlalchemy pyramid workflow versioning publication history',
    license='ZPL-2.1',
    package_dir={'': 'src'},
    packages=find_packages('src'),
    include_package_data=True,
    zip_safe=False,
    python_requires='>=3.11',
    install_requires=install_requires,
    extras_require={
        'test': test_requires,
        'mysql': mysql_requires,
        'postgresql': postgresql_requires,
        'bench': bench_requires,
        'demo': demo_requires,
        'docs': [
            'Sphinx',
            'repoze.sphinx.autointerface',
        ],
    },
    entry_points={
        # demo.ini's "use = egg:clio": the demo application.
        'paste.app_factory': [
            'main = clio.demo:main',
        ],
        'console_scripts': [
            'clio-migrate = clio.migrate:main',
            'clio-bench = clio.bench.cli:main',
            'clio-check = clio.check:main',
        ],
    },
)
