"""The documentation builds without a single warning, and its examples run.

Sphinx runs in a child process, as ``sphinx-build`` would, so that the
examples' models and clocks never meet the test suite's.  Both builders
use ``-W``: a warning (a broken reference, a docstring autodoc cannot
read, a missing page) fails the test just like a failing example.
Skipped only without the source checkout (an installed clio has no
``docs/``).
"""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
DOCS = ROOT / "docs"

pytestmark = pytest.mark.skipif(
    not (DOCS / "conf.py").is_file(), reason="needs the clio source checkout with docs/"
)


def sphinx(builder: str, out: pathlib.Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-q",
            "-E",
            "-b",
            builder,
            "-d",
            str(out / "doctrees"),
            str(DOCS),
            str(out / builder),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        # buildout's bin/test puts the eggs on sys.path itself; the child
        # needs them too.
        env=dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p)),
    )


def test_html_builds_without_warnings(tmp_path):
    result = sphinx("html", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "html" / "index.html").is_file()
    # The workflow picture is part of the build, not drawn at build time.
    assert (tmp_path / "html" / "_images" / "workflow.svg").is_file() or (
        tmp_path / "html" / "_static" / "workflow.svg"
    ).is_file()
    api = (tmp_path / "html" / "api.html").read_text(encoding="utf-8")
    assert "clio.migrate.upgrade" in api and "clio.Workflowed" in api


def test_doctests_pass(tmp_path):
    result = sphinx("doctest", tmp_path)
    report = (tmp_path / "doctest" / "output.txt").read_text(encoding="utf-8")
    assert result.returncode == 0, report + result.stdout + result.stderr
    summary = re.search(r"(\d+) tests?\s*\n\s*(\d+) failures? in tests", report)
    assert summary, report
    tests, failures = map(int, summary.groups())
    assert failures == 0, report
    assert tests >= 20, f"expected the documented examples to run:\n{report}"


def test_every_page_is_in_the_toctree():
    index = (DOCS / "index.rst").read_text(encoding="utf-8")
    pages = {p.stem for p in DOCS.glob("*.rst")} - {"index"}
    listed = set(re.findall(r"^   (\w+)$", index, re.MULTILINE))
    assert pages <= listed, pages - listed


def test_the_workflow_picture_matches_its_source():
    """Every status of the engine appears in the diagram, and the
    committed picture is newer than or as new as what it was drawn from
    (it is regenerated with dot whenever workflow.dot changes)."""
    import clio

    source = (DOCS / "workflow.dot").read_text(encoding="utf-8")
    picture = (DOCS / "_static" / "workflow.svg").read_text(encoding="utf-8")
    for name in (
        "NEW",
        "EDITABLE",
        "UPDATABLE",
        "DELETED",
        "DELETED_EDITABLE",
        "DELETED_UPDATABLE",
        "PUBLISHED",
        "PUBLISHED_UNDER_EDIT",
        "PUBLISHED_UNDER_UPDATE",
        "PUBLISHED_UNDER_DELETE",
    ):
        label = f"{name} ({getattr(clio, name)})"
        assert label in source and label in picture, label
    for transition in ("publish", "edit", "update", "delete", "revert", "discard", "expire"):
        assert re.search(rf"label=\"[^\"]*\b{transition}\b", source), transition
        assert re.search(rf">\s*{transition}\b", picture), transition
