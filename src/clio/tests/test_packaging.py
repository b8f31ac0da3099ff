"""Smoke tests for the checkout's packaging files.

They read the files at the top of the source checkout and never import
clio itself. Installed without a checkout (no setup.py beside src/),
they are skipped.
"""

import ast
import importlib.util
import pathlib
import tomllib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.skipif(
    not (ROOT / 'setup.py').is_file() or not (ROOT / 'src' / 'clio').is_dir(),
    reason='needs the clio source checkout',
)


def read(name):
    return (ROOT / name).read_text(encoding='utf-8')


def first_literal_block(text):
    """The lines of the first ``::`` literal block, stripped."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.rstrip().endswith('::'):
            break
    else:
        raise AssertionError('no literal block found')
    block = []
    for line in lines[i + 1:]:
        if not line.strip():
            if block:
                break
            continue
        if not line.startswith((' ', '\t')):
            break
        block.append(line.strip())
    return lines[:i], block


def section_titles(lines):
    """Titles of sections in reST lines (a title line over ===, ***, ...)."""
    titles = []
    for title, underline in zip(lines, lines[1:]):
        mark = underline.strip()
        if (title.strip() and mark and len(set(mark)) == 1
                and mark[0] in '=*-~^' and len(mark) >= len(title.strip())):
            titles.append(title.strip())
    return titles


def test_readme_opens_with_serve_then_test():
    before, block = first_literal_block(read('README.rst'))
    assert block == [
        'python3 bootstrap.py serve',
        'python3 bootstrap.py test',
    ]
    # The commands open the first section after the document title.
    assert section_titles(before) == ['clio', 'Quick start']


def test_readme_names_the_database_variables():
    readme = read('README.rst')
    assert 'CLIO_TEST_MARIADB_URL' in readme
    assert 'CLIO_TEST_POSTGRESQL_URL' in readme


def test_bootstrap_is_python_with_main():
    tree = ast.parse(read('bootstrap.py'), 'bootstrap.py')
    functions = {
        node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    assert 'main' in functions


def load_bootstrap():
    spec = importlib.util.spec_from_file_location(
        '_clio_bootstrap', ROOT / 'bootstrap.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # no side effects outside main()
    return module


def test_bootstrap_passes_arguments_after_the_command_on():
    bootstrap = load_bootstrap()
    options = bootstrap.parse_args(['--force', 'test', '-x', '--force'])
    assert options.force
    assert options.command == 'test'
    assert options.command_args == ['-x', '--force']
    assert options.buildout_args == []

    options = bootstrap.parse_args(['-N'])
    assert options.command is None
    assert options.buildout_args == ['-N']


def setup_keywords():
    tree = ast.parse(read('setup.py'), 'setup.py')
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id == 'setup'):
            return {kw.arg: kw.value for kw in node.keywords}
    raise AssertionError('no setup() call in setup.py')


def test_setup_declares_the_extras():
    extras = setup_keywords()['extras_require']
    assert isinstance(extras, ast.Dict)
    names = {ast.literal_eval(key) for key in extras.keys}
    assert {'test', 'mysql', 'postgresql', 'demo'} <= names


def test_setup_uses_the_src_layout():
    keywords = setup_keywords()
    assert ast.literal_eval(keywords['package_dir']) == {'': 'src'}
    assert ast.literal_eval(keywords['python_requires']) == '>=3.11'


def test_pyproject_configures_pytest():
    with open(ROOT / 'pyproject.toml', 'rb') as f:
        config = tomllib.load(f)
    options = config['tool']['pytest']['ini_options']
    assert options['testpaths'] == ['src/clio/tests']
    assert 'project' not in config  # the metadata stays in setup.py
