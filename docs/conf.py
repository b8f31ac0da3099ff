# Sphinx configuration for the clio documentation.
#
# Build with bin/sphinx-build (buildout part "docs") or any Sphinx:
#
#     sphinx-build -W -b html docs docs/_build/html
#     sphinx-build -W -b doctest docs docs/_build/doctest
#
# src/clio/tests/test_docs.py runs both, so a warning or a failing example
# fails the test suite.  The workflow picture (_static/workflow.svg) is
# generated from workflow.dot when it is edited and committed; building
# the documentation does not need graphviz.

import os
import sys
from importlib import metadata

# A source checkout documents its own code, installed or not.
sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), '..', 'src')))

project = 'clio'
copyright = '2009-2026, the clio contributors'
author = 'the clio contributors'

try:
    release = metadata.version('clio')
except metadata.PackageNotFoundError:
    release = '1.0.dev0'
version = '.'.join(release.split('.')[:2])

extensions = [
    'sphinx.ext.autodoc',
    'sphinx.ext.doctest',
    # zope.interface interfaces (IWorkflowed, IVersioned, ...), as Pyramid does.
    'repoze.sphinx.autointerface',
    # No intersphinx: the documentation must build without network.
]

master_doc = 'index'
exclude_patterns = ['_build']
html_theme = 'alabaster'
html_static_path = ['_static']

autodoc_member_order = 'bysource'
autodoc_typehints = 'description'
# The docstrings are written for readers of the code as much as for this
# reference; keep their reST simple and these pages warning-free.
nitpicky = False

# Every doctest in the pages starts from a clean slate: a fresh in-memory
# SQLite database is made by the page's own testsetup block.
doctest_global_setup = '''
import warnings
warnings.simplefilter('ignore', DeprecationWarning)
'''

# The flags the pages' examples are written for (test_docs_modern.py runs
# docs/modern.rst with plain doctest and the same two).
import doctest as _doctest  # noqa: E402

doctest_default_flags = (
    _doctest.ELLIPSIS
    | _doctest.NORMALIZE_WHITESPACE
    | _doctest.IGNORE_EXCEPTION_DETAIL
    | _doctest.DONT_ACCEPT_TRUE_FOR_1
)
