"""The published and as-of reads of one object use clio's indexes
(SPEC §6: reads stay flat however long the history is).

The table is filled with many objects and long histories; then the SQL a
view produces is captured and handed to the database's EXPLAIN.  On
PostgreSQL sequential scans are switched off for the transaction
(``SET LOCAL enable_seqscan = off``): a freshly filled table has no
statistics, and the question is whether an index *can* serve the read, not
what the planner guesses for a small table.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

import clio
from clio.tests.models import Page

CODES = 300
VERSIONS = 10
T0 = datetime(2020, 1, 1, tzinfo=timezone.utc)
INDEXES = ("ix_clio_page_code_start", "clio_page_workflow", "sqlite_autoindex_clio_page")


def moment(n):
    return T0 + timedelta(days=n)


@pytest.fixture
def filled(connection):
    rows = []
    for code in range(1, CODES + 1):
        for n in range(VERSIONS):
            last = n == VERSIONS - 1
            rows.append(
                dict(
                    code=code,
                    status=clio.PUBLISHED if last else clio.ARCHIVED + n,
                    created_timestamp=moment(n),
                    changed_timestamp=moment(n),
                    published_start_timestamp=moment(n),
                    published_end_timestamp=None if last else moment(n + 1),
                    title=f"{code}/{n}",
                )
            )
    connection.execute(sa.insert(Page.__table__), rows)
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    return connection


@contextmanager
def sql_sent(connection):
    """``with sql_sent(connection) as seen:``: the (SQL, parameters) of each
    statement sent on ``connection`` inside the block, in order."""
    seen: list = []

    def capture(conn, cursor, sql, parameters, context, executemany):
        seen.append((sql, parameters))

    event.listen(connection, "before_cursor_execute", capture)
    try:
        yield seen
    finally:
        event.remove(connection, "before_cursor_execute", capture)


def captured_sql(connection, statement):
    """Run ``statement`` in an ORM session and return the SQL and
    parameters it sent, with the result."""
    with sql_sent(connection) as seen:
        with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
            result = [p.title for p in session.scalars(statement)]
    selects = [(sql, params) for sql, params in seen if sql.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 1, seen
    return selects[0], result


def test_archive_numbers_of_a_batch_with_a_long_history(deep):
    """Publishing a batch (or a tree's children) reads the highest archive
    number of each object in one statement.  On PostgreSQL it probes each
    code once, from the end of the ``(code, status)`` index, where the
    grouped form read every entry of every code (clio.run._archive_max_each);
    the archive numbers follow on from the history either way."""
    connection = deep
    name = connection.dialect.name
    with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
        codes = [DEEP, 1, 2]
        published = sa.select(Page).where(Page.code.in_(codes), Page.status == clio.PUBLISHED)
        drafts = clio.edit_all(session, session.scalars(published.order_by(Page.code)).all())
        with sql_sent(connection) as seen:
            clio.publish_all(session, drafts)
        old = session.scalars(
            sa.select(Page.status).where(Page.code == DEEP, Page.status >= clio.ARCHIVED)
        ).all()
        assert max(old) == clio.ARCHIVED + HISTORY  # the next number after the history
    ((sql, params),) = [(sql, p) for sql, p in seen if "max(clio_page.status)" in sql]
    if name == "postgresql":
        assert "unnest(" in sql and "GROUP BY" not in sql, sql
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        text = plan(connection, sql, params)
        assert "Index Only Scan Backward" in text, text
        assert "Aggregate" not in text.replace("InitPlan", ""), text
    else:
        assert "GROUP BY" in sql
        plan(connection, sql, params)  # no full scan


def plan(connection, sql, params) -> str:
    name = connection.dialect.name
    if name == "sqlite":
        rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params).all()
        text = "\n".join(str(row[-1]) for row in rows)
        assert "SCAN clio_page" not in text.replace("USING INDEX", "")  # no full scan
        return text
    if name == "postgresql":
        rows = connection.exec_driver_sql("EXPLAIN " + sql, params).all()
        text = "\n".join(row[0] for row in rows)
        assert "Seq Scan" not in text
        return text
    result = connection.exec_driver_sql("EXPLAIN " + sql, params)
    keys = list(result.keys())
    rows = [dict(zip(keys, row)) for row in result.all()]
    for row in rows:
        assert row["type"] != "ALL", rows  # no full table scan
    return "\n".join(str(row["key"]) for row in rows)


def uses_an_index(text: str) -> bool:
    return any(name in text for name in INDEXES)


@pytest.mark.parametrize(
    "option, expected",
    [
        (clio.view("published"), "150/9"),
        (clio.view(as_of=moment(3)), "150/3"),
        (clio.view(as_of=moment(4) - timedelta(microseconds=1)), "150/3"),
    ],
)
def test_read_of_one_object_uses_an_index(filled, option, expected):
    statement = sa.select(Page).where(Page.code == 150).options(option)
    (sql, params), titles = captured_sql(filled, statement)
    assert titles == [expected]
    text = plan(filled, sql, params)
    assert uses_an_index(text), text


def test_versioned_as_of_uses_an_index(filled):
    with Session(bind=filled, join_transaction_mode="create_savepoint") as session:
        page = session.scalars(
            sa.select(Page).where(Page.code == 7, Page.status == clio.PUBLISHED)
        ).one()
        with sql_sent(filled) as seen:
            old = clio.IVersioned(page).as_of(moment(2))
        assert old.title == "7/2"
        (sql, params), = seen
        assert uses_an_index(plan(filled, sql, params))


def test_walking_a_tree_uses_the_code_index(connection):
    """The query that loads a tree level and locks the children's versions
    (``Run.lock_children``) finds the rows through the children's indexes,
    not by scanning the table (which, with ``FOR UPDATE``, would also lock
    every row it scans on MariaDB); on SQLite and MariaDB each child's
    versions by ranges bounded by more than its code, which would visit
    its whole history (``clio.run._children_rows``)."""
    from clio.tests.models import Paragraph

    pages, paragraphs = [], []
    for code in range(1, CODES + 1):
        pages.append(
            dict(
                code=code,
                status=clio.PUBLISHED,
                created_timestamp=T0,
                published_start_timestamp=T0,
                title=str(code),
            )
        )
    connection.execute(sa.insert(Page.__table__), pages)
    ids = dict(connection.execute(sa.select(Page.__table__.c.code, Page.__table__.c.id)).all())
    for code in range(1, CODES + 1):
        for k in range(3):
            for n in range(VERSIONS):
                last = n == VERSIONS - 1
                paragraphs.append(
                    dict(
                        code=code * 10 + k,
                        status=clio.PUBLISHED if last else clio.ARCHIVED + n,
                        created_timestamp=moment(n),
                        published_start_timestamp=moment(n),
                        published_end_timestamp=None if last else moment(n + 1),
                        page_id=ids[code],
                        text=f"{code}.{k}/{n}",
                    )
                )
    connection.execute(sa.insert(Paragraph.__table__), paragraphs)
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("ANALYZE")
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
        page = session.scalars(sa.select(Page).where(Page.code == 150)).one()
        with sql_sent(connection) as seen:
            draft = page.edit()
        assert sorted(p.text for p in draft.paragraphs) == ["150.0/9", "150.1/9", "150.2/9"]
    (sql, params), = [(sql, p) for sql, p in seen if "clio_kin" in sql or "clio_siblings" in sql]
    name = connection.dialect.name
    if name == "sqlite":
        text = "\n".join(
            str(row[-1]) for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params)
        )
        # No scan but of the parents' keys, a JSON array (json_each).
        scans = [line for line in text.splitlines() if "SCAN" in line]
        assert all("VIRTUAL TABLE" in line for line in scans), text
        # Each child's versions by ranges bounded by more than its code.
        assert "(code=?)" not in text, text
    elif name == "postgresql":
        text = "\n".join(row[0] for row in connection.exec_driver_sql("EXPLAIN " + sql, params))
        assert "Seq Scan" not in text and "status" not in text.split("Filter")[0], text
    else:
        result = connection.exec_driver_sql("EXPLAIN " + sql, params)
        rows = [dict(zip(result.keys(), row)) for row in result.all()]
        for row in rows:
            # a scan of the materialised subquery (20 codes at most) is fine
            assert row["type"] != "ALL" or str(row["table"]).startswith("<"), rows
        text = str(rows)
    assert "code" in text, text


DEEP = 1000
HISTORY = 2000


@pytest.fixture
def deep(connection):
    """Object ``DEEP`` with ``HISTORY`` archived versions and a published
    one, beside ``CODES`` objects of one version each."""
    rows = [
        dict(
            code=DEEP,
            status=clio.ARCHIVED + n,
            created_timestamp=moment(n),
            published_start_timestamp=moment(n),
            published_end_timestamp=moment(n + 1),
            title=f"deep/{n}",
        )
        for n in range(HISTORY)
    ]
    rows.append(
        dict(
            code=DEEP,
            status=clio.PUBLISHED,
            created_timestamp=moment(HISTORY),
            published_start_timestamp=moment(HISTORY),
            published_end_timestamp=None,
            title="deep",
        )
    )
    rows += [
        dict(
            code=code,
            status=clio.PUBLISHED,
            created_timestamp=T0,
            published_start_timestamp=T0,
            published_end_timestamp=None,
            title=str(code),
        )
        for code in range(1, CODES + 1)
    ]
    connection.execute(sa.insert(Page.__table__), rows)
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("ANALYZE clio_page")
    return connection


@pytest.mark.parametrize("batch", [False, True], ids=["one", "batch"])
def test_locking_an_object_with_a_long_history_uses_index_ranges(deep, batch):
    """A transition's lock read (``Run.versions``; ``lock_many`` for a
    batch) finds the live versions and the archives ending in the future
    without scanning the table, and on SQLite by index ranges bounded by
    more than the code (which would visit every version of the object): a
    transition on an object with a long history costs what it costs on a
    new one."""
    connection = deep
    name = connection.dialect.name
    with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
        codes = [DEEP, 1, 2] if batch else [DEEP]
        published = sa.select(Page).where(Page.code.in_(codes), Page.status == clio.PUBLISHED)
        pages = session.scalars(published.order_by(Page.code)).all()
        with sql_sent(connection) as seen:
            drafts = clio.edit_all(session, pages) if batch else [pages[0].edit()]
        assert [(d.status, d.title) for d in drafts][-1] == (clio.EDITABLE, "deep")
    sql, params = next((sql, p) for sql, p in seen if sql.lstrip().upper().startswith("SELECT"))
    # The lock read, not the children query (the first statement sent).
    assert "clio_page" in sql and "clio_siblings" not in sql and "clio_kin" not in sql, sql
    if name == "postgresql":
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    text = plan(connection, sql, params)  # no full scan anywhere
    if name == "sqlite":
        # Every search is bounded by more than the code (clio.run._live_ids,
        # _live_ids_many; the batch's codes are read as a table).
        assert "(code=?)" not in text, text


def test_only_lists_of_integers_travel_as_json():
    """On SQLite a run sends a list of integers (codes, ids, the usual
    keys) as one JSON array (clio.run._list_param); values of other types
    keep an expanding parameter, which converts each through its type (a
    UUID key is stored as hex text on SQLite, say)."""
    import sqlite3

    from clio.run import _JSONList, _list_param

    integer = sa.Column("n", sa.Integer)
    as_json = sqlite3.sqlite_version_info >= (3, 38)
    assert isinstance(_list_param("x", "sqlite", integer).type, _JSONList) is as_json
    for other in (sa.Column("u", sa.Uuid), sa.Column("t", sa.Unicode(10))):
        assert _list_param("x", "sqlite", other).expanding
    for dialect in ("postgresql", "mysql"):
        assert _list_param("x", dialect, integer).expanding
