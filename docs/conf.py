# Sphinx configuration for the clio documentation.
#
# Build with bin/sphinx-build (buildout part "docs") or any Sphinx:
#
#     sphinx-build -W -b html docs docs/_build/html
#     sphinx-build -b doctest docs docs/_build/doctest

from importlib import metadata

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
    # No intersphinx: the documentation must build without network.
]

master_doc = 'index'
exclude_patterns = ['_build']
html_theme = 'alabaster'
