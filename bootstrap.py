"""Set up a clio development checkout with buildout, then test or serve.

Usage::

    python3 bootstrap.py [options] [buildout args...]
    python3 bootstrap.py [options] test [pytest args...]
    python3 bootstrap.py [options] serve [pserve args...]

Without a command the checkout is only set up:

1. ``.venv/`` is created beside this file (standard library ``venv``);
2. zc.buildout and a setuptools that pyramid can still use are
   pip-installed into it;
3. ``.venv/bin/buildout bootstrap`` makes ``bin/buildout``, which then
   runs ``buildout.cfg`` and produces ``bin/test``, ``bin/py``,
   ``bin/pserve`` and friends.

Every step is skipped when it is already done.  Buildout is re-run only
when ``buildout.cfg`` or ``setup.py`` changed since the last successful
run, when arguments for buildout are given, or with ``--force``.  Such a
re-run uses buildout's ``-N`` (keep the installed versions, only add what
is missing), which takes seconds; ``--force`` looks for newer versions.

Options (before the command):

--force            re-run buildout, looking for newer versions, even if
                   it looks up to date
--find-links DIR   also look for distributions in DIR (pip and buildout)
--offline          use only DIR from --find-links, never an index
-h, --help         show this help

Any other argument before the command goes to buildout unchanged, for
example ``-N`` or ``-c other.cfg``.

This script uses the standard library only and never downloads anything
except through pip.
"""

import os
import subprocess
import sys
import time

MIN_PYTHON = (3, 11)

# zc.buildout 6 vendors pkg_resources, but the generated scripts run
# pyramid 2.1, which imports pkg_resources from setuptools and so needs
# setuptools < 82.  Installing the cap into the venv together with
# zc.buildout keeps bin/buildout from regenerating broken scripts.
BUILDOUT_REQUIREMENT = 'zc.buildout==6.0.1'
SETUPTOOLS_REQUIREMENT = 'setuptools<82'

HERE = os.path.dirname(os.path.abspath(__file__))
VENV = os.path.join(HERE, '.venv')
VENV_PYTHON = os.path.join(VENV, 'bin', 'python')
VENV_BUILDOUT = os.path.join(VENV, 'bin', 'buildout')
# Written after a successful pip install; holds the requirements used.
PIP_STAMP = os.path.join(VENV, '.clio-bootstrap-pip')
# Written after a successful buildout run started by this script.
BUILDOUT_STAMP = os.path.join(VENV, '.clio-bootstrap-buildout')
BIN = os.path.join(HERE, 'bin')
INSTALLED_CFG = os.path.join(HERE, '.installed.cfg')
# A change to any of these makes the next run re-run buildout.
BUILDOUT_INPUTS = ('buildout.cfg', 'setup.py')

COMMANDS = ('test', 'serve')


def say(message):
    print('bootstrap: %s' % message, flush=True)


class Options(object):

    def __init__(self):
        self.command = None
        self.command_args = []
        self.buildout_args = []
        self.force = False
        self.offline = False
        self.find_links = None


class UsageError(Exception):
    pass


def parse_args(argv):
    options = Options()
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in COMMANDS:
            options.command = arg
            options.command_args = argv[i + 1:]
            break
        if arg in ('-h', '--help'):
            print(__doc__)
            sys.exit(0)
        elif arg == '--force':
            options.force = True
        elif arg == '--offline':
            options.offline = True
        elif arg == '--find-links':
            i += 1
            if i == len(argv):
                raise UsageError('--find-links needs a directory')
            options.find_links = argv[i]
        elif arg.startswith('--find-links='):
            options.find_links = arg.split('=', 1)[1]
        else:
            options.buildout_args.append(arg)
        i += 1
    if options.offline and not options.find_links:
        raise UsageError('--offline needs --find-links DIR')
    if options.find_links:
        options.find_links = os.path.abspath(options.find_links)
        if not os.path.isdir(options.find_links):
            raise UsageError('not a directory: %s' % options.find_links)
    return options


def child_env(options):
    env = dict(os.environ)
    if options.offline:
        env['PIP_NO_INDEX'] = '1'
        # pip's variable is inverted: 0 *disables* build isolation, so
        # the develop egg builds with the setuptools already installed.
        env['PIP_NO_BUILD_ISOLATION'] = '0'
    return env


def run(args, options, cwd=HERE):
    say('running %s' % ' '.join(args))
    return subprocess.call(args, cwd=cwd, env=child_env(options))


def mtime(path):
    try:
        return os.stat(path).st_mtime
    except OSError:
        return None


def ensure_venv():
    if os.path.exists(VENV_PYTHON):
        return
    import venv
    say('creating %s' % VENV)
    # clear=True also repairs a .venv directory left without a Python.
    venv.EnvBuilder(with_pip=True, clear=True).create(VENV)


def ensure_buildout_installed(options):
    wanted = '%s\n%s\n' % (BUILDOUT_REQUIREMENT, SETUPTOOLS_REQUIREMENT)
    if os.path.exists(VENV_BUILDOUT) and read(PIP_STAMP) == wanted:
        say('%s and %s already installed'
            % (BUILDOUT_REQUIREMENT, SETUPTOOLS_REQUIREMENT))
        return 0
    args = [VENV_PYTHON, '-m', 'pip', 'install', '--quiet']
    if options.find_links:
        args += ['--find-links', options.find_links]
    if options.offline:
        args.append('--no-index')
    args += [BUILDOUT_REQUIREMENT, SETUPTOOLS_REQUIREMENT]
    rc = run(args, options)
    if rc == 0:
        write(PIP_STAMP, wanted)
    return rc


def buildout_is_up_to_date():
    installed = mtime(INSTALLED_CFG)
    stamp = mtime(BUILDOUT_STAMP)
    if installed is None or stamp is None:
        return False
    # A later buildout run by hand (which may have failed half-way)
    # touches .installed.cfg after our stamp: run again to be sure.
    if stamp < installed:
        return False
    for name in ('buildout', 'test', 'py'):
        if not os.path.exists(os.path.join(BIN, name)):
            return False
    for name in BUILDOUT_INPUTS:
        changed = mtime(os.path.join(HERE, name))
        if changed is not None and changed >= installed:
            return False
    return True


def ensure_buildout(options):
    if (not options.force and not options.buildout_args
            and buildout_is_up_to_date()):
        say('buildout is up to date (use --force to run it again)')
        return 0
    if os.path.exists(BUILDOUT_STAMP):
        os.remove(BUILDOUT_STAMP)
    local_buildout = os.path.join(BIN, 'buildout')
    if not os.path.exists(local_buildout):
        rc = run([VENV_BUILDOUT, 'bootstrap'], options)
        if rc:
            return rc
    args = [local_buildout]
    # The first run and --force look for the newest versions; other
    # re-runs keep what is installed, which is much faster.
    first_run = not os.path.exists(INSTALLED_CFG)
    if ((options.offline or not (first_run or options.force))
            and '-N' not in options.buildout_args):
        args.append('-N')
    if options.find_links:
        args.append('buildout:find-links=%s' % options.find_links)
    if options.offline:
        args.append('buildout:index=file://%s' % options.find_links)
    args += options.buildout_args
    started = time.time()
    rc = run(args, options)
    if rc == 0:
        write(BUILDOUT_STAMP, '%s\n' % ' '.join(args))
        say('buildout finished in %.1f s' % (time.time() - started))
    else:
        say('buildout failed with exit code %d' % rc)
    return rc


def setup(options):
    ensure_venv()
    rc = ensure_buildout_installed(options)
    if rc:
        say('pip failed with exit code %d' % rc)
        return rc
    return ensure_buildout(options)


def test(options):
    # Run from the caller's directory, so that paths given to pytest keep
    # their meaning; bin/test finds the tests and pyproject.toml itself.
    args = [os.path.join(BIN, 'test')] + options.command_args
    say('running %s' % ' '.join(args))
    return subprocess.call(args, env=child_env(options))


SERVE_LATER = """\
The demo application (demo.ini) is not part of this checkout yet; it
arrives in a later release.  Meanwhile, try the engine in a Python shell:

    %(py)s

and follow "Try the engine in a Python shell" in %(readme)s.
Run the test suite with:

    python3 %(bootstrap)s test
"""


def serve(options):
    demo_ini = os.path.join(HERE, 'demo.ini')
    if not os.path.exists(demo_ini):
        print(SERVE_LATER % {
            'py': shown(os.path.join(BIN, 'py')),
            'readme': shown(os.path.join(HERE, 'README.rst')),
            'bootstrap': shown(os.path.join(HERE, 'bootstrap.py')),
        }, end='', flush=True)
        return 0
    args = [os.path.join(BIN, 'pserve'), demo_ini] + options.command_args
    return run(args, options)


def shown(path):
    """Path relative to the working directory if it is below it."""
    relative = os.path.relpath(path)
    return path if relative.startswith(os.pardir) else relative


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def write(path, text):
    with open(path, 'w') as f:
        f.write(text)


def main(argv=None):
    if sys.version_info < MIN_PYTHON:
        sys.stderr.write(
            'bootstrap.py needs Python %d.%d or later, not %s\n'
            % (MIN_PYTHON + (sys.version.split()[0],)))
        return 2
    if argv is None:
        argv = sys.argv[1:]
    try:
        options = parse_args(argv)
    except UsageError as e:
        sys.stderr.write('bootstrap.py: %s (see --help)\n' % e)
        return 2
    rc = setup(options)
    if rc:
        return rc
    if options.command is None:
        say('ready: bin/test runs the tests, bin/py is a Python shell')
        return 0
    try:
        if options.command == 'test':
            return test(options)
        return serve(options)
    except KeyboardInterrupt:
        return 130


if __name__ == '__main__':
    sys.exit(main())
