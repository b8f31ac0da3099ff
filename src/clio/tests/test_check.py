"""clio.check and clio-check find every kind of corruption.

Each test plants one kind of damage with Core SQL, bypassing clio, and
expects the checker to name it.  The planted rows live in tables without
the ``(code, status)`` unique constraint and without a real foreign key
constraint (``ddl``), so that duplicates and dangling keys can be planted
at all; the checker is told about the foreign key through ``checked``, a
second MetaData describing the same tables, as an application's models
would.  Data goes into the rolled-back ``connection`` of each test, except
for the command-line tests, which commit and clean up.
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

import clio
import clio.check  # noqa: F401  (clio.check is the function; the module is in sys.modules)
from clio import status as st
from clio.tests.models import A, B

checkmod = sys.modules["clio.check"]

T0 = datetime(2025, 1, 1, tzinfo=timezone.utc)


def t(n: int) -> datetime:
    return T0 + timedelta(hours=n)


def _tables(metadata, foreign_key: bool):
    obj = sa.Table(
        "clio_chk_obj", metadata, *clio.workflow_columns(), sa.Column("name", sa.Unicode(50))
    )
    parent = sa.ForeignKey("clio_chk_obj.id") if foreign_key else None
    args = (parent,) if parent is not None else ()
    part = sa.Table(
        "clio_chk_part",
        metadata,
        *clio.workflow_columns(),
        sa.Column("obj_id", sa.Integer, *args, nullable=True),
    )
    return obj, part


ddl = sa.MetaData()
_tables(ddl, foreign_key=False)
#: What the checker is told: the same tables, with the one-to-many key.
checked = sa.MetaData()
OBJ, PART = _tables(checked, foreign_key=True)


@pytest.fixture(scope="module")
def tables(engine):
    ddl.create_all(engine)
    yield OBJ, PART
    ddl.drop_all(engine)


def put(conn, table, code, status, start=None, end=None, **values) -> int:
    result = conn.execute(
        table.insert().values(
            code=code,
            status=status,
            created_timestamp=T0,
            published_start_timestamp=start,
            published_end_timestamp=end,
            **values,
        )
    )
    return result.inserted_primary_key[0]


def kinds(conn, *tables):
    return sorted({v.kind for v in checkmod.check_tables(conn, tables or (OBJ, PART))})


def plant_healthy(conn):
    """One object in every legal state, with children."""
    put(conn, OBJ, 1, 1000, t(0), t(1))
    p1 = put(conn, OBJ, 1, st.PUBLISHED, t(1))
    put(conn, OBJ, 2, st.PUBLISHED_UNDER_EDIT, t(0))
    e2 = put(conn, OBJ, 2, st.EDITABLE)
    put(conn, OBJ, 3, st.NEW)
    put(conn, OBJ, 4, st.PUBLISHED_UNDER_DELETE, t(0))
    put(conn, OBJ, 4, st.DELETED_EDITABLE)
    put(conn, OBJ, 5, st.PUBLISHED_UNDER_UPDATE, t(0))
    put(conn, OBJ, 5, st.UPDATABLE)
    a6 = put(conn, OBJ, 6, 1000, t(0), t(2))  # expired
    put(conn, OBJ, 6, 1001, t(2), t(3))  # archive numbers need not be dense
    put(conn, PART, 10, st.PUBLISHED, t(1), obj_id=p1)
    put(conn, PART, 11, st.NEW, obj_id=p1)
    put(conn, PART, 12, st.PUBLISHED_UNDER_EDIT, t(0), obj_id=p1)
    put(conn, PART, 12, st.EDITABLE, obj_id=e2)
    put(conn, PART, 13, 1000, t(0), t(2), obj_id=a6)
    put(conn, PART, 14, st.NEW)  # no parent at all
    # deleted at t(4) by a schedule: archive and tombstone, a child's too
    a8 = put(conn, OBJ, 8, 1000, t(0), t(4))
    d8 = put(conn, OBJ, 8, st.TOMBSTONE_EDITABLE, t(4), t(4))
    put(conn, PART, 15, 1000, t(0), t(4), obj_id=a8)
    put(conn, PART, 15, st.TOMBSTONE, t(4), t(4), obj_id=d8)
    return p1


def test_healthy_tables_have_no_violation(tables, connection):
    plant_healthy(connection)
    assert checkmod.check_tables(connection, tables) == []


@pytest.mark.parametrize("bad", [42, -1, 13, 999])
def test_unknown_status(tables, connection, bad):
    plant_healthy(connection)
    put(connection, OBJ, 7, bad)
    found = checkmod.check_tables(connection, tables)
    assert [(v.kind, v.code) for v in found] == [("unknown_status", 7)]


def test_duplicate_status_and_two_published(tables, connection):
    plant_healthy(connection)
    put(connection, OBJ, 7, st.PUBLISHED, t(0))
    put(connection, OBJ, 7, st.PUBLISHED, t(5))
    assert "duplicate_status" in kinds(connection)
    assert "several_published" in kinds(connection)


def test_duplicate_archive_number(tables, connection):
    put(connection, OBJ, 7, 1000, t(0), t(1))
    put(connection, OBJ, 7, 1000, t(1), t(2))
    assert kinds(connection) == ["duplicate_status"]


def test_two_published_statuses(tables, connection):
    put(connection, OBJ, 7, st.PUBLISHED, t(0))
    put(connection, OBJ, 7, st.PUBLISHED_UNDER_EDIT, t(1))
    put(connection, OBJ, 7, st.EDITABLE)
    found = kinds(connection)
    assert "several_published" in found
    assert "overlap" in found  # both are valid from their start on


def test_two_pending_versions(tables, connection):
    put(connection, OBJ, 7, st.PUBLISHED_UNDER_EDIT, t(0))
    put(connection, OBJ, 7, st.EDITABLE)
    put(connection, OBJ, 7, st.UPDATABLE)
    found = kinds(connection)
    assert "several_pending" in found
    assert "counterpart" in found  # UPDATABLE without PUBLISHED_UNDER_UPDATE


@pytest.mark.parametrize(
    "statuses",
    [
        (st.PUBLISHED_UNDER_EDIT,),
        (st.PUBLISHED_UNDER_UPDATE,),
        (st.PUBLISHED_UNDER_DELETE,),
        (st.EDITABLE,),
        (st.UPDATABLE,),
        (st.DELETED,),
        (st.DELETED_UPDATABLE,),
        (st.PUBLISHED, st.EDITABLE),
        (st.PUBLISHED, st.DELETED),
        (st.PUBLISHED_UNDER_UPDATE, st.EDITABLE),
        (st.PUBLISHED_UNDER_EDIT, st.DELETED_EDITABLE),
        (st.PUBLISHED, st.NEW),
    ],
)
def test_counterpart_mismatch(tables, connection, statuses):
    plant_healthy(connection)
    for status in statuses:
        published = status in st.PUBLISHED_STATUSES
        put(connection, OBJ, 7, status, t(0) if published else None)
    found = checkmod.check_tables(connection, tables)
    assert {(v.kind, v.code) for v in found} == {("counterpart", 7)}


@pytest.mark.parametrize(
    "status, start, end",
    [
        (st.PUBLISHED, None, None),  # published, never started
        (st.PUBLISHED, t(0), t(1)),  # published with an end
        (st.NEW, t(0), None),  # pending with an interval
        (st.NEW, None, t(0)),
        (1000, t(0), None),  # archived without an end
        (1000, t(2), t(1)),  # ends before it starts
    ],
)
def test_timestamps(tables, connection, status, start, end):
    put(connection, OBJ, 7, status, start, end)
    assert kinds(connection) == ["timestamps"]


@pytest.mark.parametrize(
    "rows",
    [
        [(st.TOMBSTONE, t(1), t(1))],  # no archive ended at its moment
        [(1000, t(0), t(1)), (st.TOMBSTONE, t(1), t(1)), (st.PUBLISHED, t(1), None)],
        [(1000, t(0), t(1)), (st.TOMBSTONE, t(1), t(1)), (st.NEW, None, None)],
    ],
)
def test_tombstone_alone(tables, connection, rows):
    for status, start, end in rows:
        put(connection, OBJ, 7, status, start, end)
    assert kinds(connection) == ["tombstone"]


@pytest.mark.parametrize("start, end", [(None, None), (t(1), t(2)), (t(1), None)])
def test_tombstone_interval_is_empty(tables, connection, start, end):
    put(connection, OBJ, 7, 1000, t(0), t(1))
    put(connection, OBJ, 7, st.TOMBSTONE_UPDATABLE, start, end)
    assert "timestamps" in kinds(connection)


def test_archive_numbers_decrease_with_time(tables, connection):
    put(connection, OBJ, 7, 1000, t(3), t(5))
    put(connection, OBJ, 7, 1001, t(0), t(3))
    put(connection, OBJ, 7, st.PUBLISHED, t(5))
    assert kinds(connection) == ["archive_order"]


@pytest.mark.parametrize(
    "archived, published_start",
    [((t(0), t(2)), t(1)), ((t(0), t(5)), t(0)), ((t(3), t(4)), t(1))],
)
def test_overlapping_intervals(tables, connection, archived, published_start):
    put(connection, OBJ, 7, 1000, *archived)
    put(connection, OBJ, 7, st.PUBLISHED, published_start)
    assert kinds(connection) == ["overlap"]


def test_touching_intervals_do_not_overlap(tables, connection):
    put(connection, OBJ, 7, 1000, t(0), t(1))
    put(connection, OBJ, 7, 1001, t(1), t(1))  # zero length
    put(connection, OBJ, 7, st.PUBLISHED, t(1))
    assert kinds(connection) == []


def test_dangling_parent(tables, connection):
    plant_healthy(connection)
    put(connection, PART, 20, 1000, t(0), t(1), obj_id=987654)
    found = checkmod.check_tables(connection, tables)
    assert [(v.kind, v.table, v.code) for v in found] == [
        ("dangling_parent", "clio_chk_part", 20)
    ]


@pytest.mark.parametrize("child_status", [st.NEW, st.EDITABLE, st.PUBLISHED])
def test_live_child_of_archived_parent(tables, connection, child_status):
    archived = put(connection, OBJ, 7, 1000, t(0), t(1))
    live = put(connection, OBJ, 7, st.PUBLISHED, t(1))
    if child_status == st.EDITABLE:
        put(connection, PART, 20, st.PUBLISHED_UNDER_EDIT, t(0), obj_id=live)
    published = child_status == st.PUBLISHED
    put(connection, PART, 20, child_status, t(0) if published else None, obj_id=archived)
    found = [v for v in checkmod.check_tables(connection, tables) if v.table == "clio_chk_part"]
    assert [v.kind for v in found] == ["archived_parent"]
    assert found[0].ids == (found[0].ids[0], archived)


def test_archived_child_of_archived_parent_is_history(tables, connection):
    archived = put(connection, OBJ, 7, 1000, t(0), t(1))
    put(connection, PART, 20, 1000, t(0), t(1), obj_id=archived)
    assert kinds(connection) == []


def test_tombstone_child_of_archived_parent_is_history(tables, connection):
    """A child deleted in an edit published by a schedule stays a
    tombstone under that version, which a later publication archives."""
    archived = put(connection, OBJ, 7, 1000, t(0), t(2))
    put(connection, OBJ, 7, st.PUBLISHED, t(2))
    put(connection, PART, 20, 1000, t(0), t(1))
    put(connection, PART, 20, st.TOMBSTONE, t(1), t(1), obj_id=archived)
    assert kinds(connection) == []


@pytest.mark.parametrize("parent_status", [st.NEW, st.EDITABLE])
def test_published_child_of_pending_parent(tables, connection, parent_status):
    put(connection, OBJ, 7, st.PUBLISHED_UNDER_EDIT, t(0))
    parent = put(connection, OBJ, 7 if parent_status == st.EDITABLE else 8, parent_status)
    put(connection, PART, 20, st.PUBLISHED, t(1), obj_id=parent)
    found = [v for v in checkmod.check_tables(connection, tables) if v.table == "clio_chk_part"]
    assert [v.kind for v in found] == ["unpublished_parent"]


def test_a_plain_table_is_skipped(tables, connection):
    plain = sa.Table("whatever", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True))
    assert checkmod.check_tables(connection, [plain]) == []


def test_every_kind_is_documented():
    for kind in checkmod.KINDS:
        assert f"``{kind}``" in checkmod.__doc__


# --- clio.check on the ORM level, after real transitions -----------------------


def make_history(session):
    """A few objects taken through every transition by clio itself."""
    a = A(101, "one")
    a.bs.append(B(201, "child"))
    session.add(a)
    a.publish()
    draft = a.edit()
    draft.message = "two"
    draft.bs.append(B(202, "second child"))
    draft.publish()
    other = A(102, "other")
    session.add(other)
    other.publish()
    other.update().message = "updated"
    doomed = A(103, "doomed")
    doomed.bs.append(B(203, "doomed child"))
    session.add(doomed)
    doomed.publish()
    doomed.delete().publish()
    session.add(A(104, "new"))
    session.flush()
    return draft


def test_check_is_clean_after_real_transitions(session):
    make_history(session)
    assert clio.check(session, A) == []
    assert clio.check(session, [A, B]) == []
    assert clio.check(session) == []  # every versioned table in the database


def test_check_flushes_first(session):
    make_history(session)
    a = session.scalars(sa.select(A).where(A.code == 102, A.status == st.UPDATABLE)).one()
    session.delete(a)  # not flushed yet: the PUBLISHED_UNDER_UPDATE is orphaned
    assert clio.check(session, A, flush=False) == []
    assert [(v.kind, v.code) for v in clio.check(session, A)] == [("counterpart", 102)]


def test_check_reports_corruption_behind_clio(session):
    draft = make_history(session)
    connection = session.connection()
    table = A.__table__
    connection.execute(
        table.update().where(table.c.id == draft.id).values(status=st.PUBLISHED_UNDER_EDIT)
    )
    found = clio.check(session, A)
    assert [(v.kind, v.code, v.ids) for v in found] == [("counterpart", 101, (draft.id,))]
    # The children are still fine (B's check does not look at A's rows).
    assert clio.check(session, B) == []


def test_check_reports_children_left_behind(session):
    draft = make_history(session)
    child = draft.bs_original.filter(B.status == st.PUBLISHED).first()
    archived = session.scalars(
        sa.select(A).where(A.code == 101, A.status >= st.ARCHIVED)
    ).one()
    b = B.__table__
    session.connection().execute(b.update().where(b.c.id == child.id).values(a_id=archived.id))
    found = clio.check(session, B)
    assert [(v.kind, v.code) for v in found] == [("archived_parent", child.code)]


# --- clio-check ----------------------------------------------------------------------


@pytest.fixture
def committed(tables, engine):
    with engine.begin() as conn:
        plant_healthy(conn)
    yield engine
    with engine.begin() as conn:
        conn.execute(PART.delete())
        conn.execute(OBJ.delete())


def url_of(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_command_clean(committed, capsys):
    assert checkmod.main([url_of(committed), "--table", "clio_chk_obj", "--table", "clio_chk_part"]) == 0
    out = capsys.readouterr().out
    assert "0 violation(s) in 2 table(s)" in out


def test_command_finds_violations(committed, capsys):
    with committed.begin() as conn:
        put(conn, OBJ, 7, st.PUBLISHED_UNDER_EDIT, t(0))
        put(conn, PART, 20, st.NEW, obj_id=987654)
    code = checkmod.main([url_of(committed), "--models", "clio.tests.test_check:checked"])
    out = capsys.readouterr().out
    assert code == 1
    assert "clio_chk_obj code=7 [counterpart]" in out
    assert "clio_chk_part code=20 [dangling_parent]" in out
    assert "2 violation(s) in 2 table(s)" in out


def test_command_reflects_every_clio_table_by_default(committed, capsys):
    with committed.begin() as conn:
        put(conn, OBJ, 7, 55)
    assert checkmod.main([url_of(committed), "--quiet"]) == 1
    out = capsys.readouterr().out
    assert "clio_chk_obj" in out and "[unknown_status]" not in out
    assert "1 violation(s)" in out


@pytest.mark.parametrize(
    "args",
    [["--table", "no_such_table"], ["--models", "clio.tests.no_such_module"], ["--models", "clio:nothing"]],
)
def test_command_errors_exit_2(committed, capsys, args):
    assert checkmod.main([url_of(committed), *args]) == 2
    assert "clio-check:" in capsys.readouterr().err


def test_tables_from_a_module_and_a_class():
    from clio.tests import models

    names = {t.name for t in checkmod.tables_from(models)}
    assert {"clio_a", "clio_b", "clio_page", "clio_paragraph"} <= names
    assert "clio_cd" not in names  # a pivot table
    assert [t.name for t in checkmod.tables_from(models.A)] == ["clio_a"]
    with pytest.raises(ValueError):
        checkmod.tables_from(int)
