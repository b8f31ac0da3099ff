"""Read (and transition) latency of one object as the versions table grows (SPEC §6).

The table is bulk-loaded (executemany; COPY on PostgreSQL) up to each size
in turn, half of the versions in two shapes:

* *deep*: one object (code 1) holding half of all stored versions, a
  contiguous chain of archived validity intervals ending in its published
  version; the hardest case for "read one object";
* *wide*: ten versions per object over many objects, how a table grows in
  practice.

At each size it times, on the same table: clio's published read and its
as-of read at a random moment of the object's history, both through
``clio.version_at`` (the indexed single-object read of ``clio.reads``) and
through the views (``clio.view('published')``, ``clio.view(as_of=t)``,
labelled "(view)"); the published read by status (``code = ? AND status =
6``); the hand-written as-of read that walks the ``(code,
published_start_timestamp)`` index backwards (``ORDER BY
published_start_timestamp DESC LIMIT 1``); and a correlated ``MAX``
criterion that was tried as a loader criterion for ``clio.views`` and
rejected (see ``max_subquery_as_of``).  It also times two transitions on
the object, rolled back each time: an edit, and an edit and publish
("clio edit", "clio edit+publish"; "clio edit (wide)" on the wide
objects): a transition's lock read is what could grow with the history.
The statistics are refreshed
(ANALYZE) after each load, as autovacuum or an operator would.
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

import clio
from clio import status as st
from clio.bench.databases import BenchDatabase, analyze

#: The published versions go live here; the history lies before it.
T0 = datetime(2020, 1, 1, tzinfo=timezone.utc)
DEEP = 1
WIDE_FROM = 2
PER_OBJECT = 10
CHUNK = 10_000


class ScaleBase(DeclarativeBase):
    metadata = sa.MetaData()


class ScaleDoc(clio.Workflowed, ScaleBase):
    __tablename__ = "bench_scale_doc"
    title: Mapped[str] = mapped_column(sa.Unicode(200), default="")


COLUMNS = [
    "code",
    "status",
    "created_timestamp",
    "published_start_timestamp",
    "published_end_timestamp",
    "changed_timestamp",
    "created_userid",
    "published_userid",
    "changed_userid",
    "title",
]


def _row(code, status, start, end):
    return (code, status, start, start, end, start, "bench", "bench", "bench", f"v{code}")


def deep_rows(first: int, last: int):
    """Archived versions first..last of the deep object, going back in time
    one second each (version j covers [T0 - j s, T0 - (j-1) s))."""
    for j in range(first, last + 1):
        end = T0 - timedelta(seconds=j - 1)
        yield _row(DEEP, st.ARCHIVED + j, end - timedelta(seconds=1), end)


def wide_rows(first_object: int, last_object: int):
    for n in range(first_object, last_object + 1):
        code = WIDE_FROM + n
        for i in range(PER_OBJECT - 1):
            start = T0 - timedelta(seconds=PER_OBJECT - i)
            yield _row(code, st.ARCHIVED + i, start, start + timedelta(seconds=1))
        yield _row(code, st.PUBLISHED, T0 - timedelta(seconds=1), None)


def load(engine, rows) -> None:
    """Bulk-insert ``rows`` (tuples in COLUMNS order)."""
    table = ScaleDoc.__table__
    rows = list(rows)
    if not rows:
        return
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            raw = conn.connection.driver_connection
            with raw.cursor() as cursor:
                with cursor.copy(f"COPY {table.name} ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            return
        insert = sa.insert(table)
        for start in range(0, len(rows), CHUNK):
            conn.execute(insert, [dict(zip(COLUMNS, row)) for row in rows[start : start + CHUNK]])


def _median_time(fn, args_list, repeat) -> float:
    fn(*args_list[0])  # compile and cache the statement before timing
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        for args in args_list:
            fn(*args)
        runs.append((time.perf_counter() - start) / len(args_list))
    return statistics.median(runs)


def measure(engine, history: int, objects: int, reads: int, repeat: int, rng) -> dict:
    doc = ScaleDoc
    table = doc.__table__
    moments = [T0 - timedelta(seconds=rng.random() * history) for _ in range(reads)]
    wide_codes = [WIDE_FROM + rng.randrange(objects) for _ in range(reads)]
    wide_moments = [T0 - timedelta(seconds=rng.random() * PER_OBJECT) for _ in range(reads)]

    with Session(engine) as session, engine.connect() as conn:

        def view_read(code, option):
            stmt = sa.select(doc).where(doc.code == code).options(option)
            return session.scalars(stmt).one()

        def view_published(code):
            found = view_read(code, clio.view("published"))
            assert found.status == st.PUBLISHED
            session.expunge_all()

        def view_as_of(code, moment):
            found = view_read(code, clio.view(as_of=moment))
            assert found.published_start_timestamp <= moment
            session.expunge_all()

        def clio_published(code):
            found = clio.version_at(session, doc, code)
            assert found.status == st.PUBLISHED
            session.expunge_all()

        def clio_as_of(code, moment):
            found = clio.version_at(session, doc, code, moment)
            assert found.published_start_timestamp <= moment
            session.expunge_all()

        def clio_edit(code):
            """A transition on the object: its lock read is the part that
            could grow with the history (see clio.run._live_ids)."""
            draft = clio.version_at(session, doc, code).edit()
            assert draft.status == st.EDITABLE
            session.rollback()

        def clio_edit_publish(code):
            """Edit and publish: the publication also reads the object's
            highest archive number."""
            draft = clio.version_at(session, doc, code).edit()
            draft.publish()
            assert draft.status == st.PUBLISHED
            session.rollback()

        def baseline_as_of(code, moment):
            stmt = (
                sa.select(table)
                .where(
                    table.c.code == code,
                    table.c.published_start_timestamp <= moment,
                    sa.or_(
                        table.c.published_end_timestamp.is_(None),
                        table.c.published_end_timestamp > moment,
                    ),
                )
                .order_by(table.c.published_start_timestamp.desc())
                .limit(1)
            )
            return conn.execute(stmt).one()

        def baseline_published(code):
            stmt = sa.select(table).where(table.c.code == code, table.c.status == st.PUBLISHED)
            return conn.execute(stmt).one()

        later = table.alias("later")

        def max_subquery_as_of(code, moment):
            """A criterion that could replace clio.views.live_at without
            ORDER BY/LIMIT (which loader criteria cannot add): pin the start
            to the latest start at or before the moment, correlated on the
            code.  Measured to show it is *not* the fix: MariaDB and
            PostgreSQL run the correlated MAX once per candidate row.
            ``clio.version_at`` binds the code in the subquery instead, which
            makes it uncorrelated: it runs once."""
            latest = (
                sa.select(sa.func.max(later.c.published_start_timestamp))
                .where(
                    later.c.code == table.c.code,
                    later.c.published_start_timestamp <= moment,
                )
                .scalar_subquery()
            )
            stmt = sa.select(table).where(
                table.c.code == code,
                table.c.published_start_timestamp == latest,
                sa.or_(
                    table.c.published_end_timestamp.is_(None),
                    table.c.published_end_timestamp > moment,
                ),
            )
            return conn.execute(stmt).one()

        deep = [(DEEP,)] * reads
        deep_moments = [(DEEP, t) for t in moments]
        results = {
            "clio published": _median_time(clio_published, deep, repeat),
            "clio as-of": _median_time(clio_as_of, deep_moments, repeat),
            "clio published (view)": _median_time(view_published, deep, repeat),
            "clio as-of (view)": _median_time(view_as_of, deep_moments, repeat),
            "baseline published": _median_time(baseline_published, deep, repeat),
            "baseline as-of": _median_time(baseline_as_of, deep_moments, repeat),
            "correlated max published": _median_time(
                max_subquery_as_of, [(DEEP, datetime.now(timezone.utc))] * reads, repeat
            ),
            "correlated max as-of": _median_time(max_subquery_as_of, deep_moments, repeat),
            "clio edit": _median_time(clio_edit, deep, repeat),
            "clio edit+publish": _median_time(clio_edit_publish, deep, repeat),
        }
        if objects:
            wide = [(c,) for c in wide_codes]
            wide_at = list(zip(wide_codes, wide_moments))
            results["clio published (wide)"] = _median_time(clio_published, wide, repeat)
            results["clio as-of (wide)"] = _median_time(clio_as_of, wide_at, repeat)
            results["clio published (view, wide)"] = _median_time(view_published, wide, repeat)
            results["clio as-of (view, wide)"] = _median_time(view_as_of, wide_at, repeat)
            results["clio edit (wide)"] = _median_time(clio_edit, wide, repeat)
    return results


def run_database(name, sizes, reads, repeat, seed) -> dict:
    rng = random.Random(seed)
    with BenchDatabase(name) as db:
        ScaleBase.metadata.create_all(db.engine)
        try:
            load(db.engine, [_row(DEEP, st.PUBLISHED, T0, None)])
            history, objects, rows = 0, 0, []
            for size in sorted(sizes):
                target_history = max(size // 2 - 1, 1)
                target_objects = (size - target_history - 1) // PER_OBJECT
                started = time.perf_counter()
                load(db.engine, deep_rows(history + 1, target_history))
                load(db.engine, wide_rows(objects, target_objects - 1))
                history, objects = target_history, target_objects
                analyze(db.engine, [ScaleDoc.__table__])
                loaded = time.perf_counter() - started
                with db.engine.connect() as conn:
                    stored = conn.execute(sa.select(sa.func.count()).select_from(ScaleDoc)).scalar()
                rows.append(
                    {
                        "versions": size,
                        "stored": stored,
                        "deep_history": history + 1,
                        "wide_objects": objects,
                        "load_s": loaded,
                        "median_s": measure(db.engine, history, objects, reads, repeat, rng),
                    }
                )
            with db.engine.connect() as conn:
                from clio.bench.runner import _server_version

                server = _server_version(conn)
        finally:
            ScaleBase.metadata.drop_all(db.engine)
    first = rows[0]["median_s"]
    for row in rows:
        row["vs_smallest"] = {k: v / first[k] for k, v in row["median_s"].items() if first.get(k)}
    return {"database": name, "server": server, "rows": rows}


def run(databases, sizes, reads=200, repeat=5, seed=6) -> dict:
    return {
        "settings": {"sizes": list(sizes), "reads": reads, "repeat": repeat, "seed": seed},
        "results": [run_database(name, sizes, reads, repeat, seed) for name in databases],
    }


def markdown(report) -> str:
    from clio.bench.runner import _time

    lines = ["# clio-bench --scaling", ""]
    for result in report["results"]:
        keys = list(result["rows"][0]["median_s"])
        lines += [f"## {result['database']} ({result['server']})", ""]
        lines.append("| stored versions | " + " | ".join(keys) + " |")
        lines.append("|---" * (1 + len(keys)) + "|")
        for row in result["rows"]:
            cells = [
                f"{_time(row['median_s'][k])} ({row['vs_smallest'].get(k, 1):.2f}×)" for k in keys
            ]
            lines.append(f"| {row['versions']} | " + " | ".join(cells) + " |")
        lines += [
            "",
            "Deep: one object holding half the versions; wide: 10 versions per "
            "object. In parentheses: the ratio to the smallest size.",
            "",
        ]
    return "\n".join(lines)
