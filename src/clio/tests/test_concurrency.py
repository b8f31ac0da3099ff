"""Concurrent transitions on one object serialise (SPEC §3.3 item 13).

These tests commit for real, so they work on their own rows and clean up.
They run on MariaDB and PostgreSQL; SQLite serialises writers by itself.
"""

import threading

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

import clio
from clio.tests.models import Plain

CODE = 9000


def check_invariants(session, code):
    """One published version, no two pending, contiguous validity intervals."""
    versions = clio.versions(session, Plain, code)
    published = [v for v in versions if v.status in clio.PUBLISHED_STATUSES]
    pending = [v for v in versions if v.status in clio.NEW_VERSION_STATUSES]
    archived = sorted((v for v in versions if v.is_archived()), key=lambda v: v.status)
    assert len(published) == 1
    assert len(pending) <= 1
    chain = archived + published
    for older, newer in zip(chain, chain[1:]):
        assert older.published_end_timestamp == newer.published_start_timestamp
    assert len({v.status for v in versions}) == len(versions)
    return published[0], archived


@pytest.fixture
def shared_object(engine):
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite serialises writers; nothing to race")
    with Session(engine) as session:
        obj = Plain(CODE, "start")
        session.add(obj)
        obj.publish()
        session.commit()
    yield CODE
    with engine.begin() as conn:
        conn.execute(sa.delete(Plain.__table__).where(Plain.__table__.c.code == CODE))


def edit_and_publish(engine, name, barrier, outcome):
    with Session(engine) as session:
        try:
            current = session.scalars(
                sa.select(Plain).where(
                    Plain.code == CODE, Plain.status.in_(clio.PUBLISHED_STATUSES)
                )
            ).one()
            barrier.wait()
            draft = current.edit()
            draft.name = name
            draft.publish()
            session.commit()
            outcome.append(("published", name))
        except clio.ConflictError:
            session.rollback()
            outcome.append(("conflict", name))


def test_two_writers_edit_and_publish_the_same_object(engine, shared_object):
    for round_ in range(5):
        barrier = threading.Barrier(2)
        outcome = []
        threads = [
            threading.Thread(target=edit_and_publish, args=(engine, f"{round_}-{n}", barrier, outcome))
            for n in range(2)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert len(outcome) == 2, outcome
        winners = [name for kind, name in outcome if kind == "published"]
        assert winners, outcome
        with Session(engine) as session:
            live, archived = check_invariants(session, CODE)
            assert live.name == winners[-1]
            # every successful publish left exactly one version behind it
            names = [v.name for v in archived] + [live.name]
            for name in winners:
                assert names.count(name) == 1


def test_writers_that_wait_see_the_winner_or_conflict(engine, shared_object):
    """A loser either publishes on top of the winner or gets ConflictError;
    never a second published version."""
    outcome = []
    barrier = threading.Barrier(4)
    threads = [
        threading.Thread(target=edit_and_publish, args=(engine, f"w{n}", barrier, outcome))
        for n in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(outcome) == 4
    with Session(engine) as session:
        check_invariants(session, CODE)


@pytest.fixture
def stale_rows(engine):
    yield engine
    with engine.begin() as conn:
        conn.execute(sa.delete(Plain.__table__).where(Plain.__table__.c.code == CODE + 1))


def test_stale_draft_cannot_overwrite_what_another_transaction_published(stale_rows):
    """A session still holding a draft that another transaction has since
    published gets ConflictError instead of rewriting the published row."""
    engine = stale_rows
    with Session(engine) as setup:
        setup.add(Plain(CODE + 1, "draft"))
        setup.commit()
    stale = Session(engine, expire_on_commit=False)
    draft = stale.scalars(sa.select(Plain).where(Plain.code == CODE + 1)).one()
    stale.commit()
    with Session(engine) as publisher:
        publisher.scalars(sa.select(Plain).where(Plain.code == CODE + 1)).one().publish()
        publisher.commit()
    draft.name = "overwritten"
    with pytest.raises(clio.ConflictError):
        stale.flush()
    stale.rollback()
    stale.close()
    with Session(engine) as reader:
        live = reader.scalars(sa.select(Plain).where(Plain.code == CODE + 1)).one()
        assert (live.status, live.name) == (clio.PUBLISHED, "draft")
