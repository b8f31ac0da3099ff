"""Minimal failing tests for engine bugs found by the reliability tests.

Each was first marked ``xfail(strict=True)`` and is now fixed in the
engine; the tests stay as regression tests.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

import clio
from clio import status as st
from clio.tests.models import A, B


def violations(session):
    return [str(v) for v in clio.check(session, [A, B])]


@pytest.mark.parametrize("expire_later", [False, True])
def test_expiring_a_parent_respects_a_childs_pending_schedule(session, clock, expire_later):
    a = A(1, "a")
    b = B(2, "b")
    a.bs.append(b)
    session.add(a)
    a.publish()
    b.update().publish(at=clock.peek() + timedelta(seconds=30))
    try:
        a.expire(at=clock.peek() + timedelta(seconds=5) if expire_later else None)
    except clio.ScheduleError:
        pass  # refusing is a correct answer: the child has a pending schedule
    assert violations(session) == []


def test_publishing_a_deletion_retires_a_child_published_after_the_delete(session):
    a = A(1, "a")
    a.bs.append(B(2, "b"))
    session.add(a)
    a.publish()
    session.commit()
    deletion = a.delete()
    child_deletion = session.scalars(sa.select(B).where(B.status == st.DELETED)).one()
    child_deletion.update().publish()  # the child is PUBLISHED again, under the PUD parent
    session.commit()
    try:
        deletion.publish()
    except clio.ClioError:
        # Refusing would be acceptable only if nothing changed.
        assert violations(session) == []
        raise
    assert violations(session) == []
    assert all(v.is_archived() for v in clio.versions(session, B, 2))


@pytest.fixture
def own_rows(engine):
    from clio.tests.models import Plain

    table = Plain.__table__
    yield engine
    with engine.begin() as conn:
        conn.execute(table.delete().where(table.c.code == 9401))


def test_a_stale_change_cannot_overwrite_a_published_version(own_rows):
    """Fixed: every UPDATE of a version is conditional on the status the
    session loaded, and a mismatch is a ConflictError."""
    from sqlalchemy.orm import Session

    from clio.tests.models import Plain

    engine = own_rows
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite cannot interleave two writing sessions like this")
    with Session(engine) as setup:
        setup.add(Plain(9401, "draft"))
        setup.commit()
    stale = Session(engine)
    draft = stale.scalars(sa.select(Plain).where(Plain.code == 9401)).one()
    assert draft.status == st.NEW
    stale.commit()  # ends the read transaction; the object stays loaded
    draft.name  # noqa: B018 - loaded again, still NEW
    with Session(engine) as publisher:
        publisher.scalars(sa.select(Plain).where(Plain.code == 9401)).one().publish()
        publisher.commit()
    try:
        draft.name = "overwritten"
        stale.commit()
    except clio.ClioError:
        stale.rollback()
    finally:
        stale.close()
    with Session(engine) as reader:
        live = reader.scalars(sa.select(Plain).where(Plain.code == 9401)).one()
        assert live.status == st.PUBLISHED
        assert live.name == "draft"
