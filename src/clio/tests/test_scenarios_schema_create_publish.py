"""Reference §7, scenarios 1-14: schema and declaration, creation, publish.

Each test is named after the scenario it checks (``test_sNN_...``) and its
docstring quotes the scenario number.  The tests run on SQLite, MariaDB and
PostgreSQL through the ``session`` fixture.  The fixture clock hands out one
aware UTC moment per ``_now()`` call, a second apart, and a transition takes
one moment, so ``clock.peek()`` right after a transition is "now" for it.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Query
from sqlalchemy.orm.attributes import InstrumentedAttribute

import clio
from clio.tests.models import A, B, a_code, b_code
from clio.tests.scenario_helpers import by_id, column_values, db_statuses

CLIO_COLUMNS = [
    "id",
    "code",
    "status",
    "created_timestamp",
    "published_start_timestamp",
    "published_end_timestamp",
    "changed_timestamp",
    "created_userid",
    "published_userid",
    "changed_userid",
]


# --- helpers ------------------------------------------------------------------


def new_a_with_children(session, *messages):
    a = A(a_code(session), "A")
    session.add(a)
    children = []
    for message in messages:
        b = B(b_code(session), message)
        a.bs.append(b)
        children.append(b)
    session.flush()
    return a, children


def make_archived(session):
    """A version that has been archived: published, edited, edit published."""
    a = A(a_code(session), "old")
    session.add(a)
    a.publish()
    e = a.edit()
    e.message = "new"
    e.publish()
    session.flush()
    assert a.is_archived()
    return a, e


# --- Schema and declaration -----------------------------------------------------


def test_s01_table_has_clio_columns_first_then_own_columns():
    """Scenario 1: clio.Table gives the ten Clio columns (id the primary
    key), then the caller's columns, and a unique constraint on
    (code, status)."""
    metadata = sa.MetaData()
    table = clio.Table("t", metadata, sa.Column("name", sa.Unicode(50)))

    assert [column.name for column in table.columns] == CLIO_COLUMNS + ["name"]
    assert [column.name for column in table.primary_key.columns] == ["id"]
    for name in ("code", "status", "created_timestamp"):
        assert table.c[name].nullable is False
    for name in ("published_start_timestamp", "published_end_timestamp", "published_userid"):
        assert table.c[name].nullable is True
    uniques = [
        {column.name for column in constraint.columns}
        for constraint in table.constraints
        if isinstance(constraint, sa.UniqueConstraint)
    ]
    assert {"code", "status"} in uniques


def test_s01_table_keyword_arguments_pass_through():
    """Scenario 1 (§1.2): keyword arguments such as mysql_engine go to the
    SQLAlchemy Table unchanged."""
    table = clio.Table(
        "t", sa.MetaData(), sa.Column("name", sa.Unicode(50)), mysql_engine="InnoDB"
    )
    assert table.kwargs["mysql_engine"] == "InnoDB"


def test_s01_created_table_in_the_database(session):
    """Scenario 1, checked on the real database: the created clio_a table
    has the Clio columns, the model column and the (code, status) unique
    constraint."""
    inspector = sa.inspect(session.connection())
    names = [column["name"] for column in inspector.get_columns("clio_a")]
    assert names == CLIO_COLUMNS + ["message"]
    assert inspector.get_pk_constraint("clio_a")["constrained_columns"] == ["id"]
    uniques = [set(u["column_names"]) for u in inspector.get_unique_constraints("clio_a")]
    uniques += [
        set(ix["column_names"]) for ix in inspector.get_indexes("clio_a") if ix.get("unique")
    ]
    assert {"code", "status"} in uniques


def test_s02_same_code_and_status_is_rejected(session):
    """Scenario 2: two rows with the same code and status are rejected by
    the database when flushed."""
    session.add_all([A(7, "first"), A(7, "second")])
    with pytest.raises(sa.exc.IntegrityError):
        session.flush()
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(A).where(A.code == 7)) == 0


def test_s02_same_code_different_status_is_accepted(session):
    """Scenario 2, the control: versions of one code with different
    statuses (published + editable) are stored side by side."""
    a = A(7, "first")
    session.add(a)
    a.publish()
    a.edit()
    assert db_statuses(session, A, 7) == [clio.EDITABLE, clio.PUBLISHED_UNDER_EDIT]


def test_s03_workflow_properties_install_filterable_queries(session):
    """Scenario 3: after workflow_properties(A), bs_original, bs_published,
    bs_editable, bs_actual and bs_archived exist and each is a query that
    can be filtered further."""
    for suffix in ("original", "published", "editable", "actual", "archived"):
        assert hasattr(A, f"bs_{suffix}")

    a, (b1,) = new_a_with_children(session, "B1")
    a.publish()
    b2 = B(b_code(session), "B2")
    a.bs.append(b2)  # a NEW child under the published parent
    session.flush()

    expected = {
        "original": [b1, b2],
        "published": [b1],
        "editable": [b1, b2],
        "actual": [b1, b2],
        "archived": [],
    }
    for suffix, rows in expected.items():
        query = getattr(a, f"bs_{suffix}")
        assert isinstance(query, Query), suffix
        assert by_id(query) == by_id(rows), suffix
        narrowed = query.filter(B.message == "B2")
        assert list(narrowed) == [row for row in rows if row is b2], suffix


def test_s04_many_to_one_gets_no_companions():
    """Scenario 4: workflow_properties on a class whose only relation is
    many-to-one (B.a) adds nothing for that relation."""
    before = set(vars(B))
    clio.workflow_properties(B)
    assert set(vars(B)) == before
    for suffix in ("original", "published", "editable", "actual", "archived"):
        assert not hasattr(B, f"a_{suffix}")
    assert isinstance(B.a, InstrumentedAttribute)


def test_s04_many_to_one_is_an_ordinary_relation(session):
    """Scenario 4: the many-to-one side stays a plain attribute holding the
    parent, not a query."""
    a, (b,) = new_a_with_children(session, "B1")
    assert b.a is a


def test_s05_assigning_the_relation_is_ignored(session):
    """Scenario 5: assigning a.bs = [...] changes nothing."""
    a, (b1,) = new_a_with_children(session, "B1")
    b2 = B(b_code(session), "B2")
    a.bs = [b2]
    session.flush()
    assert list(a.bs) == [b1]
    assert b2 not in session
    a.bs = []
    session.flush()
    assert list(a.bs) == [b1]
    assert session.scalar(sa.select(sa.func.count()).select_from(B).where(B.a_id == a.id)) == 1


# --- Creation ---------------------------------------------------------------------


def test_s06_new_object_bookkeeping(session, clock, userids):
    """Scenario 6: A(code=5) is NEW with code 5, created now by u0, changed
    at its creation by u0, and never published."""
    a = A(5, "hello")
    now = clock.peek()
    assert a.status == clio.NEW
    assert a.code == 5
    assert a.created_timestamp == now
    assert a.created_userid == "u0"
    assert a.changed_timestamp == a.created_timestamp
    assert a.changed_userid == "u0"
    assert a.published_start_timestamp is None
    assert a.published_end_timestamp is None
    assert a.published_userid is None
    assert userids == ["u0"]

    session.add(a)
    session.flush()
    session.expire_all()
    stored = session.get(A, a.id)
    assert (stored.status, stored.code, stored.message) == (clio.NEW, 5, "hello")
    assert stored.created_timestamp == now
    assert stored.changed_timestamp == now
    assert stored.created_timestamp.utcoffset().total_seconds() == 0
    assert (stored.created_userid, stored.changed_userid) == ("u0", "u0")
    assert stored.published_start_timestamp is None
    assert stored.published_end_timestamp is None
    assert stored.published_userid is None


def test_s06_predicates_of_a_new_object():
    """Scenario 6 (§1.5): a NEW version is new, editable and actual, and not
    published, deleted or archived."""
    a = A(5)
    assert a.is_new() and a.is_editable() and a.is_actual()
    assert not (a.is_published() or a.is_deleted() or a.is_archived())


def test_s07_new_object_changed_and_committed_without_workflow(session):
    """Scenario 7: a NEW A can be changed and committed with no workflow
    call."""
    a = A(a_code(session), "draft")
    session.add(a)
    session.commit()
    a.message = "second draft"
    session.commit()
    session.expire_all()
    stored = session.scalars(sa.select(A).where(A.code == a.code)).one()
    assert stored.message == "second draft"
    assert stored.status == clio.NEW


def test_s08_mark_changed_on_new(session, clock, userids):
    """Scenario 8: mark_changed() on a NEW A records the next user (u1) and
    now, later than the creation."""
    a = A(a_code(session), "A")
    session.add(a)
    created = a.created_timestamp
    a.mark_changed()
    assert a.changed_userid == "u1"
    assert a.changed_timestamp == clock.peek()
    assert a.changed_timestamp > created
    assert a.created_userid == "u0"
    assert a.created_timestamp == created
    assert a.status == clio.NEW


# --- Publish ----------------------------------------------------------------------


def test_s09_publish_new(session, clock, userids):
    """Scenario 9: publishing a NEW A returns the same object, status 6,
    published now by the next user (u1), with no end timestamp."""
    a = A(a_code(session), "A")
    session.add(a)
    result = a.publish()
    now = clock.peek()
    assert result is a
    assert a.status == clio.PUBLISHED
    assert a.published_start_timestamp == now
    assert a.published_end_timestamp is None
    assert a.published_userid == "u1"
    assert a.created_userid == "u0"
    assert a.is_published() and not a.is_editable()

    session.flush()
    session.expire_all()
    stored = session.get(A, a.id)
    assert stored.status == clio.PUBLISHED
    assert stored.published_start_timestamp == now
    assert stored.published_end_timestamp is None
    assert stored.published_userid == "u1"


def test_s10_publish_published_is_a_no_op(session):
    """Scenario 10: publish() on a PUBLISHED A returns it and changes
    nothing."""
    a = A(a_code(session), "A")
    session.add(a)
    a.publish()
    session.flush()
    before = column_values(a)
    assert a.publish() is a
    assert column_values(a) == before
    assert not session.is_modified(a)
    assert db_statuses(session, A, a.code) == [clio.PUBLISHED]


def test_s11_publish_archived_raises(session):
    """Scenario 11: publish() on an archived version raises PublishError
    (and changes nothing)."""
    archived, current = make_archived(session)
    before = column_values(archived)
    with pytest.raises(clio.PublishError):
        archived.publish()
    assert column_values(archived) == before
    assert current.status == clio.PUBLISHED
    assert db_statuses(session, A, archived.code) == [clio.PUBLISHED, clio.ARCHIVED]


def test_s12_publish_new_parent_publishes_new_children(session):
    """Scenario 12: publishing a NEW A with two NEW B publishes all three;
    bs, bs_published and bs_editable agree; bs_archived is empty."""
    a, children = new_a_with_children(session, "B1", "B2")
    assert a.publish() is a
    session.flush()
    assert a.status == clio.PUBLISHED
    assert [b.status for b in children] == [clio.PUBLISHED, clio.PUBLISHED]
    assert by_id(a.bs) == by_id(a.bs_published) == by_id(a.bs_editable) == by_id(children)
    assert list(a.bs_archived) == []
    for b in children:
        assert db_statuses(session, B, b.code) == [clio.PUBLISHED]


def test_s13_new_child_of_new_parent_cannot_be_published(session):
    """Scenario 13: B.publish() with a NEW parent raises PublishError
    (unpublished parent); nothing changes."""
    a, (b,) = new_a_with_children(session, "B1")
    with pytest.raises(clio.PublishError):
        b.publish()
    assert (a.status, b.status) == (clio.NEW, clio.NEW)
    assert b.published_start_timestamp is None
    assert db_statuses(session, B, b.code) == [clio.NEW]


def test_s14_new_child_of_published_parent_published_alone(session, clock):
    """Scenario 14: a NEW B appended to a PUBLISHED A can be published on
    its own; it is then 6 and attached to A."""
    a = A(a_code(session), "A")
    session.add(a)
    a.publish()
    b = B(b_code(session), "B1")
    a.bs.append(b)
    session.flush()
    assert b.status == clio.NEW

    assert b.publish() is b
    assert b.status == clio.PUBLISHED
    assert b.published_start_timestamp == clock.peek()
    assert b.a is a
    assert a.status == clio.PUBLISHED
    session.flush()
    assert list(a.bs_published) == [b]
    assert session.scalar(sa.select(B.a_id).where(B.id == b.id)) == a.id
