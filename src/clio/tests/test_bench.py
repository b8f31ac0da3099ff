"""clio-bench runs, and the statement counts of SPEC §6 hold in it.

Timing stays out of the tests (the machine is shared and noisy); they check
that the benchmark runs in quick mode with tiny sizes on every database and
that its statement counts are the bounded ones.  The benchmark runs in a
subprocess: SQLAlchemy-Continuum's switch (``make_versioned``) installs
process-wide listeners that have no business in the test process.
"""

import json
import os
import subprocess
import sys

import pytest

import clio

TINY = ["--quick", "-n", "4", "-k", "1", "--trees", "2", "--reads", "3", "--repeat", "1"]


def bench(*args, tmp_path):
    out = tmp_path / "bench.json"
    md = tmp_path / "bench.md"
    env = dict(os.environ)
    src = os.path.dirname(os.path.dirname(clio.__file__))
    # The child needs this process's import path: under buildout's bin/test
    # the eggs are on sys.path, not in the interpreter's site-packages.
    env["PYTHONPATH"] = os.pathsep.join(p for p in [src, *sys.path] if p)
    done = subprocess.run(
        [sys.executable, "-m", "clio.bench", *args, "--json", str(out), "--markdown", str(md)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(out.read_text()), md.read_text()


def test_quick_run_on_each_database(database, tmp_path):
    report, text = bench("--db", database.name, *TINY, tmp_path=tmp_path)
    (result,) = report["results"]
    assert result["database"] == database.name
    cells = result["cells"]
    for cell in ("create_publish", "rounds", "tree_create_publish", "tree_rounds"):
        assert set(cells[cell]["median_s"]) == {
            "plain",
            "baseline",
            "continuum",
            "clio",
            "clio_bulk",
        }
    assert "plain" not in cells["read_as_of"]["median_s"]  # no history to read
    # clio's single-object reads also go through the views, side by side
    assert set(cells["read_published_view"]["median_s"]) == {"clio"}
    assert set(cells["read_as_of_view"]["median_s"]) == {"clio"}
    assert {"clio/baseline", "clio/continuum"} <= set(cells["rounds"]["ratios"])
    assert f"## {database.name}" in text and "| edit → change → publish" in text

    steps = result["statements"]
    clio_steps = steps["clio"]["steps"]
    # SPEC §6: edit or publish of an object without relations, ≤ 4.
    assert clio_steps["round: edit"] <= 4
    assert clio_steps["round: publish"] <= 4
    assert clio_steps["publish"] <= 4
    # The baseline does the same logical work in as many statements.
    assert steps["baseline"]["steps"]["round: edit"] == 3
    assert steps["baseline"]["steps"]["round: publish"] == 4
    # The bulk API: the same bound for a whole batch of objects.
    bulk = steps["clio_bulk"]
    assert bulk["batch"] == 4
    assert bulk["steps"]["round: publish"] <= 4
    assert bulk["steps"]["publish"] <= 4
    assert bulk["steps"]["round: edit"] <= 4


def test_scaling_quick_run(database, tmp_path):
    report, text = bench(
        "--scaling", "--db", database.name, "--sizes", "100,1000", "--reads", "3", "--repeat", "1",
        tmp_path=tmp_path,
    )
    (result,) = report["results"]
    sizes = [row["versions"] for row in result["rows"]]
    assert sizes == [100, 1000]
    for row in result["rows"]:
        assert set(row["median_s"]) >= {
            "clio published",
            "clio as-of",
            "clio published (view)",
            "clio as-of (view)",
            "baseline as-of",
        }
    assert "| 1000 |" in text.replace(",", "")


def test_cli_rejects_an_unknown_database(capsys):
    from clio.bench.cli import main

    with pytest.raises(SystemExit):
        main(["--db", "oracle"])
    assert "invalid choice" in capsys.readouterr().err
