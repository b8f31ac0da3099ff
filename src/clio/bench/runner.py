"""Run the workloads side by side and report medians, ratios and
statement counts.

Within one repetition every contender runs every workload on its own
tables, in an order that rotates between repetitions, so the machine's
noise falls on all of them alike; the figures are medians over the
repetitions, and the ratios are taken between medians of the same run.

The write workloads are also timed step by step (create, edit, change,
publish) in the same runs: a workload's whole time mixes the
application's own ORM work (create, change) with clio's transitions
(edit, publish), and SPEC §6 bounds the transitions.
"""

from __future__ import annotations

import platform
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import sqlalchemy as sa
from sqlalchemy import event

from clio.bench.contenders import CONTENDERS, now
from clio.bench.databases import BenchDatabase, analyze

#: (cell, unit the time is divided by, human description)
CELLS = (
    ("create_publish", "object", "create + publish"),
    ("create_publish_later", "object", "create, commit; publish in a new transaction"),
    ("rounds", "object round", "edit → change → publish"),
    ("tree_create_publish", "tree", "create + publish, parent + 10 children"),
    (
        "tree_create_publish_later",
        "tree",
        "create, commit; publish in a new transaction, parent + 10 children",
    ),
    ("tree_rounds", "tree round", "edit → change → publish, parent + 10 children"),
    ("read_published", "read", "published read of one object by code"),
    ("read_as_of", "read", "as-of read of one object at a random past time"),
    ("read_published_view", "read", "published read of one object through clio.view()"),
    ("read_as_of_view", "read", "as-of read of one object through clio.view(as_of=)"),
    ("listing", "listing", "whole-table published listing"),
)
WRITES = (
    "create_publish",
    "create_publish_later",
    "rounds",
    "tree_create_publish",
    "tree_create_publish_later",
    "tree_rounds",
)
#: The steps each write workload marks, in the order they happen.
STEPS = {
    "create_publish": ("create", "publish"),
    "create_publish_later": ("create", "publish"),
    "rounds": ("edit", "change", "publish"),
    "tree_create_publish": ("create", "publish"),
    "tree_create_publish_later": ("create", "publish"),
    "tree_rounds": ("edit", "change", "publish"),
}
#: Tree parents get codes from here up, documents below it.
TREE_BASE = 1_000_000
#: The ``later`` workloads' codes: documents from LATER_BASE, trees from
#: TREE_BASE + LATER_BASE (their children's codes are the parent's * 100 + n).
LATER_BASE = 400_000
#: Codes used only to count statements.
COUNT_BASE = 900_000


def _later(codes: list) -> list:
    """The codes of the ``later`` workloads beside ``codes``."""
    return [code + LATER_BASE for code in codes]
CONTROL = ("BEGIN", "SAVEPOINT", "RELEASE", "COMMIT", "ROLLBACK")


@dataclass
class Settings:
    n: int = 200
    k: int = 3
    trees: int = 20
    reads: int = 200
    repeat: int = 5
    seed: int = 6
    contenders: tuple = tuple(CONTENDERS)

    @classmethod
    def quick(cls, **overrides) -> "Settings":
        values = dict(n=20, k=2, trees=3, reads=30, repeat=3)
        values.update(overrides)
        return cls(**values)


@dataclass
class Counter:
    """Statements sent through an engine, split at each ``mark(step)``."""

    statements: list = field(default_factory=list)
    steps: dict = field(default_factory=dict)
    prefix: str = ""

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().split(None, 1)[0].upper() not in CONTROL:
            self.statements.append(statement)

    def mark(self, step: str) -> None:
        if step == "load":  # the workload fetching its objects: no step's cost
            self.statements.clear()
            return
        key = self.prefix + step
        self.steps[key] = self.steps.get(key, 0) + len(self.statements)
        self.statements.clear()


def count_statements(contender, codes, trees) -> dict:
    """Statements per step of one object's (or one batch's) life."""
    counter = Counter()
    event.listen(contender.engine, "before_cursor_execute", counter)
    try:
        counter.prefix = ""
        contender.create_publish(codes, counter.mark)
        counter.prefix = "later: "
        contender.create_publish(_later(codes), counter.mark, later=True)
        counter.prefix = "round: "
        contender.rounds(codes, 1, counter.mark)
        counter.prefix = "tree: "
        contender.tree_create_publish(trees, counter.mark)
        counter.prefix = "tree later: "
        contender.tree_create_publish(_later(trees), counter.mark, later=True)
        counter.prefix = "tree round: "
        contender.tree_rounds(trees, 1, counter.mark)
    finally:
        event.remove(contender.engine, "before_cursor_execute", counter)
    return counter.steps


@dataclass
class StepTimer:
    """The time spent in each step of a workload, split at each ``mark(step)``.

    A workload calls ``mark(step)`` right after a step's work, so the time
    since the previous mark (or since the workload started) is that step's.
    ``load``, the workload fetching its objects before the steps, only
    restarts the clock: it is no step.  The time after the last mark (the
    commit, closing the session) is in no step either, so the steps add up
    to a little less than the workload's whole time.
    """

    totals: dict = field(default_factory=dict)
    last: float | None = None
    #: The clock (``time.perf_counter``; a test gives its own).
    clock: Callable[[], float] = time.perf_counter

    def start(self, at: float | None = None) -> None:
        """Start the clock (at ``at``, a reading of the same clock, if given)."""
        self.last = self.clock() if at is None else at

    def __call__(self, step: str) -> None:
        at = self.clock()
        if step != "load":
            if self.last is None:
                raise RuntimeError("StepTimer marked before it was started")
            self.totals[step] = self.totals.get(step, 0.0) + (at - self.last)
        self.last = at


def _timed(fn, *args, steps: StepTimer | None = None, **options) -> float:
    """The whole time of ``fn(*args, **options)``; with ``steps``, also
    passed to ``fn`` as its ``mark``, whose clock starts with the whole one
    so that the steps never count time the whole does not."""
    start = time.perf_counter()
    if steps is None:
        fn(*args, **options)
    else:
        steps.start(start)
        fn(*args, steps, **options)
    return time.perf_counter() - start


def run_repetition(contender, rep, settings, rng, timings, step_timings) -> None:
    """One repetition of every cell for one contender.

    ``timings[cell][contender]`` gets the whole time per unit, and
    ``step_timings[cell][step][contender]`` each step's time per the same
    unit, measured in the same calls (not in a pass of their own, which
    would double the run and could differ from the one the whole is of).
    """
    n, k, t = settings.n, settings.k, settings.trees
    base = rep * n + 1
    codes = list(range(base, base + n))
    first = TREE_BASE + rep * t + 1
    parents = list(range(first, first + t))
    cell = timings

    def write(name, fn, args, units, **options):
        steps = StepTimer()
        cell[name][contender.name].append(_timed(fn, *args, steps=steps, **options) / units)
        for step, seconds in steps.totals.items():
            step_timings[name].setdefault(step, {}).setdefault(contender.name, []).append(
                seconds / units
            )

    write("create_publish", contender.create_publish, (codes,), n)
    write("create_publish_later", contender.create_publish, (_later(codes),), n, later=True)
    since = now()
    write("rounds", contender.rounds, (codes, k), n * k)
    write("tree_create_publish", contender.tree_create_publish, (parents,), t)
    tree_later = (_later(parents),)
    write("tree_create_publish_later", contender.tree_create_publish, tree_later, t, later=True)
    write("tree_rounds", contender.tree_rounds, (parents, k), t * k)
    until = now()
    if not contender.reads:
        return
    sample = [rng.choice(codes) for _ in range(settings.reads)]
    span = (until - since).total_seconds()
    moments = [since + (until - since) * rng.random() for _ in sample] if span > 0 else [since] * len(sample)
    with contender.reader() as reader:
        contender.read_published(reader, sample[0])  # warm the statement cache
        start = time.perf_counter()
        for code in sample:
            contender.read_published(reader, code)
        cell["read_published"][contender.name].append((time.perf_counter() - start) / len(sample))
        if contender.as_of:
            start = time.perf_counter()
            for code, moment in zip(sample, moments):
                contender.read_as_of(reader, code, moment)
            cell["read_as_of"][contender.name].append((time.perf_counter() - start) / len(sample))
        cell["listing"][contender.name].append(_timed(contender.listing, reader))
    if hasattr(contender, "read_published_view"):
        # clio's reads through the views, in a session of their own so that
        # they find no object loaded by the reads above.
        with contender.reader() as reader:
            contender.read_published_view(reader, sample[0])
            start = time.perf_counter()
            for code in sample:
                contender.read_published_view(reader, code)
            cell["read_published_view"][contender.name].append(
                (time.perf_counter() - start) / len(sample)
            )
            start = time.perf_counter()
            for code, moment in zip(sample, moments):
                contender.read_as_of_view(reader, code, moment)
            cell["read_as_of_view"][contender.name].append(
                (time.perf_counter() - start) / len(sample)
            )


def _no_timings(contenders) -> tuple[dict, dict]:
    """Empty ``timings`` and ``step_timings`` for :func:`run_repetition`."""
    timings = {cell: {c.name: [] for c in contenders} for cell, _, _ in CELLS}
    return timings, {cell: {} for cell in WRITES}


def warm_up(engine, contenders, metadatas, settings: Settings) -> None:
    """One untimed repetition of every contender, then the tables analysed.

    The timed repetitions then meet tables holding rows and history, with
    the planner's statistics of them (:func:`clio.bench.databases.analyze`),
    as a database in use has, and statements already compiled and cached,
    instead of the first repetition paying for both.  The warm-up uses
    codes of its own (those of repetition ``settings.repeat``)."""
    rng = random.Random(settings.seed + 1)
    timings, step_timings = _no_timings(contenders)
    for contender in contenders:
        run_repetition(contender, settings.repeat, settings, rng, timings, step_timings)
    analyze(engine, [table for metadata in metadatas for table in metadata.sorted_tables])


def run_database(name: str, settings: Settings) -> dict:
    """All cells on one database; the result is JSON-ready."""
    rng = random.Random(settings.seed)
    with BenchDatabase(name) as db:
        contenders = [CONTENDERS[c](db.engine) for c in settings.contenders]
        created = []
        try:
            for contender in contenders:
                if contender.metadata not in created:
                    contender.create_tables()
                    created.append(contender.metadata)
            warm_up(db.engine, contenders, created, settings)
            timings, step_timings = _no_timings(contenders)
            for rep in range(settings.repeat):
                shift = rep % len(contenders)
                for contender in contenders[shift:] + contenders[:shift]:
                    run_repetition(contender, rep, settings, rng, timings, step_timings)
            statements = {}
            for contender in contenders:
                batch = settings.n if contender.name == "clio_bulk" else 1
                codes = list(range(COUNT_BASE, COUNT_BASE + batch))
                trees = [TREE_BASE - 50_000 + i for i in range(batch if batch == 1 else settings.trees)]
                statements[contender.name] = {
                    "batch": batch,
                    "trees": len(trees),
                    "steps": count_statements(contender, codes, trees),
                }
            with db.engine.connect() as conn:
                server = _server_version(conn)
        finally:
            for metadata in reversed(created):
                metadata.drop_all(db.engine)
    cells = {}
    for cell, unit, title in CELLS:
        medians = {
            name: statistics.median(values) for name, values in timings[cell].items() if values
        }
        cells[cell] = {
            "title": title,
            "unit": unit,
            "median_s": medians,
            "runs_s": {name: values for name, values in timings[cell].items() if values},
            "ratios": _ratios(medians),
        }
    steps = {}
    for cell in WRITES:
        # The expected steps first, in their order; any other a contender marked after.
        order = [s for s in STEPS[cell] if s in step_timings[cell]]
        order += [s for s in step_timings[cell] if s not in order]
        steps[cell] = {}
        for step in order:
            runs = step_timings[cell][step]
            medians = {name: statistics.median(values) for name, values in runs.items()}
            steps[cell][step] = {"median_s": medians, "runs_s": runs, "ratios": _ratios(medians)}
    return {
        "database": name,
        "server": server,
        "cells": cells,
        "steps": steps,
        "statements": statements,
    }


def _ratios(medians: dict) -> dict:
    ratios = {}
    for name in ("clio", "clio_bulk"):
        for against in ("baseline", "continuum", "plain"):
            if name in medians and against in medians and medians[against] > 0:
                ratios[f"{name}/{against}"] = medians[name] / medians[against]
    return ratios


def _server_version(conn) -> str:
    if conn.dialect.name == "sqlite":
        return "SQLite " + conn.exec_driver_sql("select sqlite_version()").scalar()
    return str(conn.exec_driver_sql("select version()").scalar()).split(" on ")[0]


def run(databases, settings: Settings) -> dict:
    import importlib.metadata as md

    def version(dist):
        try:
            return md.version(dist)
        except md.PackageNotFoundError:
            return None

    return {
        "settings": asdict(settings),
        "environment": {
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpus": __import__("os").cpu_count(),
            "sqlalchemy": sa.__version__,
            "sqlalchemy-continuum": version("SQLAlchemy-Continuum"),
        },
        "results": [run_database(name, settings) for name in databases],
    }


# --- Markdown ---------------------------------------------------------------------


def _time(seconds: float) -> str:
    if seconds >= 0.1:
        return f"{seconds * 1e3:.0f} ms"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.0f} µs"


def _step_time(seconds: float) -> str:
    """As ``_time``, with a decimal under 10 µs: the no-op steps of plain
    SQLAlchemy and Continuum would otherwise all read "0 µs" or "1 µs"."""
    if seconds < 1e-5:
        return f"{seconds * 1e6:.1f} µs"
    return _time(seconds)


def markdown(report: dict) -> str:
    settings = report["settings"]
    env = report["environment"]
    lines = [
        "# clio-bench",
        "",
        f"N={settings['n']} objects, K={settings['k']} rounds, {settings['trees']} trees "
        f"(parent + 10 children), {settings['reads']} reads, medians of "
        f"{settings['repeat']} repetitions. Python {env['python']}, SQLAlchemy "
        f"{env['sqlalchemy']}, SQLAlchemy-Continuum {env['sqlalchemy-continuum']}, "
        f"{env['cpus']} CPUs.",
        "",
    ]
    for result in report["results"]:
        names = [n for n in settings["contenders"]]
        lines += [f"## {result['database']} ({result['server']})", ""]
        ratio_names = ["clio/baseline", "clio/continuum", "clio_bulk/baseline"]
        lines.append("| workload (per unit) | " + " | ".join(names) + " | " + " | ".join(ratio_names) + " |")
        lines.append("|---" * (1 + len(names) + len(ratio_names)) + "|")
        for cell, unit, title in CELLS:
            row = _timing_row(result["cells"][cell], names, ratio_names, _time)
            lines.append(f"| {title} (per {unit}) | " + " | ".join(row) + " |")
        lines += _step_table(result, names, ratio_names)
        lines += ["", "SQL statements per step (one object; clio_bulk: one batch):", ""]
        steps = []
        for counts in result["statements"].values():
            for step in counts["steps"]:
                if step not in steps:
                    steps.append(step)
        lines.append("| step | " + " | ".join(result["statements"]) + " |")
        lines.append("|---" * (1 + len(result["statements"])) + "|")
        for step in steps:
            row = [str(c["steps"].get(step, "—")) for c in result["statements"].values()]
            lines.append(f"| {step} | " + " | ".join(row) + " |")
        bulk = result["statements"].get("clio_bulk")
        if bulk:
            lines += [
                "",
                f"clio_bulk counts are per batch of {bulk['batch']} objects and "
                f"{bulk['trees']} trees.",
            ]
        lines.append("")
    return "\n".join(lines)


def _step_table(result: dict, names: list, ratio_names: list) -> list:
    """The "Time per step" table: each transition's ratio apart from the
    application's own ORM work (create, change) that the whole workload
    mixes in.  Plain SQLAlchemy and Continuum have no edit or publish:
    their rows for those steps show the few µs between two marks."""
    steps = result.get("steps")
    if not steps:
        return []
    lines = [
        "",
        "Time per step (same runs; per the workload's unit; the commit is in no step):",
        "",
        "| workload (per unit) | step | " + " | ".join(names) + " | " + " | ".join(ratio_names) + " |",
        "|---" * (2 + len(names) + len(ratio_names)) + "|",
    ]
    note = []
    if {"plain", "continuum"} & set(names):
        note = [
            "",
            "plain and continuum have no edit or publish: their times for those steps "
            "are the marks' own, and ratios against them say nothing.",
        ]
    for cell, unit, title in CELLS:
        for step, data in steps.get(cell, {}).items():
            row = _timing_row(data, names, ratio_names, _step_time)
            lines.append(f"| {title} (per {unit}) | {step} | " + " | ".join(row) + " |")
    return lines + note


def _timing_row(data: dict, names: list, ratio_names: list, time_format) -> list:
    """The cells of one Markdown row: each contender's median (through
    ``time_format``), then the ratios; "—" where there is none."""
    times = [time_format(data["median_s"][n]) if n in data["median_s"] else "—" for n in names]
    ratios = [f"{data['ratios'][r]:.2f}×" if r in data["ratios"] else "—" for r in ratio_names]
    return times + ratios
