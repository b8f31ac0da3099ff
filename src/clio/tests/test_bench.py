"""clio-bench runs, and the statement counts of SPEC §6 hold in it.

Timing ratios stay out of the tests (the machine is shared and noisy); they
check that the benchmark runs in quick mode with tiny sizes on every
database, that its statement counts are the bounded ones, and that its
per-step times are there and fit in the whole workload's.  The benchmark
runs in a subprocess: SQLAlchemy-Continuum's switch (``make_versioned``)
installs process-wide listeners that have no business in the test process.
"""

import json
import os
import subprocess
import sys

import pytest
import sqlalchemy as sa

import clio
from clio.bench import runner

CONTENDERS = {"plain", "baseline", "continuum", "clio", "clio_bulk"}
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


@pytest.fixture(scope="module")
def tiny_run(database, tmp_path_factory):
    """One tiny quick run per database, shared by the tests that read it."""
    return bench("--db", database.name, *TINY, tmp_path=tmp_path_factory.mktemp("bench"))


def test_quick_run_on_each_database(database, tiny_run):
    report, text = tiny_run
    (result,) = report["results"]
    assert result["database"] == database.name
    cells = result["cells"]
    for cell in runner.WRITES:
        assert set(cells[cell]["median_s"]) == CONTENDERS
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
    # A new object published in the transaction that created it is not
    # locked (no other transaction can see it); one created earlier is.
    assert clio_steps["publish"] == 1
    assert clio_steps["later: publish"] == 2
    assert clio_steps["tree: publish"] == 3
    assert clio_steps["tree later: publish"] == 4
    # The baseline does the same logical work in as many statements.
    assert steps["baseline"]["steps"]["round: edit"] == 3
    assert steps["baseline"]["steps"]["round: publish"] == 4
    # The bulk API: the same bound for a whole batch of objects.
    bulk = steps["clio_bulk"]
    assert bulk["batch"] == 4
    assert bulk["steps"]["round: publish"] <= 4
    assert bulk["steps"]["publish"] <= 4
    assert bulk["steps"]["round: edit"] <= 4


def test_time_per_step_on_each_database(tiny_run):
    """Each write workload is also timed step by step, in the same runs.

    One repetition, so that each median is that run's time and the steps
    can be held against the whole: they leave out the loading and the
    commit, so they add up to no more than it.  (Over several repetitions
    the medians of the steps need not add up to anything.)"""
    report, text = tiny_run
    (result,) = report["results"]
    cells, steps = result["cells"], result["steps"]
    expected = {
        "create_publish": ["create", "publish"],
        "create_publish_later": ["create", "publish"],
        "rounds": ["edit", "change", "publish"],
        "tree_create_publish": ["create", "publish"],
        "tree_create_publish_later": ["create", "publish"],
        "tree_rounds": ["edit", "change", "publish"],
    }
    assert set(steps) == set(expected)
    for cell, names in expected.items():
        assert list(steps[cell]) == names
        for step in names:
            data = steps[cell][step]
            # every contender marks every step, a no-op one included
            assert set(data["median_s"]) == CONTENDERS
            assert all(seconds > 0 for seconds in data["median_s"].values())
            assert all(len(runs) == 1 for runs in data["runs_s"].values())
            assert {"clio/baseline", "clio_bulk/baseline"} <= set(data["ratios"])
        for name in CONTENDERS:
            total = sum(steps[cell][step]["runs_s"][name][0] for step in names)
            (whole,) = cells[cell]["runs_s"][name]
            assert total <= whole, (cell, name, total, whole)
    assert "Time per step" in text
    assert "| edit → change → publish (per object round) | edit |" in text
    assert "| edit → change → publish, parent + 10 children (per tree round) | publish |" in text


def test_step_timer():
    from clio.bench.runner import StepTimer

    readings = iter([10.0, 11.0, 11.5, 14.0, 14.25, 15.0, 17.0])
    timer = StepTimer(clock=lambda: next(readings))
    timer.start()  # 10
    timer("create")  # 11: 1
    timer("load")  # 11.5: no step, the clock restarts
    timer("edit")  # 14: 2.5
    timer("publish")  # 14.25: 0.25
    timer("load")  # 15
    timer("edit")  # 17: 2 more
    assert timer.totals == {"create": 1.0, "edit": 4.5, "publish": 0.25}

    started = StepTimer(clock=lambda: 5.0)
    started.start(at=2.0)  # the whole workload's own start
    started("create")
    assert started.totals == {"create": 3.0}

    with pytest.raises(RuntimeError):
        StepTimer()("create")


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
            "clio edit",
            "clio edit+publish",
            "clio edit (wide)",
        }
    assert "| 1000 |" in text.replace(",", "")


def test_cli_rejects_an_unknown_database(capsys):
    from clio.bench.cli import main

    with pytest.raises(SystemExit):
        main(["--db", "oracle"])
    assert "invalid choice" in capsys.readouterr().err


def _has_statistics(conn, table: str) -> bool:
    """Whether the database holds planner statistics of ``table`` taken
    from its rows (not the defaults of a table never analysed)."""
    name = conn.dialect.name
    if name == "sqlite":
        if not sa.inspect(conn).has_table("sqlite_stat1"):
            return False  # made by the first ANALYZE
        found = "SELECT count(*) FROM sqlite_stat1 WHERE tbl = :t"
        return conn.execute(sa.text(found), {"t": table}).scalar() > 0
    if name == "postgresql":
        found = "SELECT reltuples FROM pg_class WHERE oid = to_regclass(:t)"
        return conn.execute(sa.text(found), {"t": table}).scalar() > 0
    found = (
        "SELECT n_rows FROM mysql.innodb_table_stats"
        " WHERE database_name = DATABASE() AND table_name = :t"
    )
    return (conn.execute(sa.text(found), {"t": table}).scalar() or 0) > 0


def test_warm_up_leaves_history_and_the_planners_statistics(database):
    """Before the timed repetitions every contender runs its workloads
    once, untimed, and the tables are analysed: the timings then come
    from tables in use, not from plans made for empty ones."""
    from clio.bench.contenders import BaselineContender, ClioContender
    from clio.bench.runner import Settings, warm_up

    engine = database.engine
    contenders = [BaselineContender(engine), ClioContender(engine)]
    metadatas = [c.metadata for c in contenders]
    for metadata in metadatas:
        metadata.create_all(engine)
    try:
        settings = Settings.quick(n=3, k=1, trees=2, reads=2, repeat=1)
        with engine.connect() as conn:
            assert not _has_statistics(conn, "bench_clio_kid")
        warm_up(engine, contenders, metadatas, settings)
        with engine.connect() as conn:
            for metadata in metadatas:
                for table in metadata.sorted_tables:
                    rows = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar()
                    assert rows > 0, table.name
                    assert _has_statistics(conn, table.name), table.name
    finally:
        for metadata in reversed(metadatas):
            metadata.drop_all(engine)
