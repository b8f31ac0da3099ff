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


@pytest.fixture
def new_page(engine):
    """A page another test session inserts and keeps uncommitted, and a
    cleanup of what the test committed."""
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite serialises writers; nothing to race")
    from clio.tests.models import Page, Paragraph

    yield Page, Paragraph
    with engine.begin() as conn:
        for cls in (Paragraph, Page):
            table = cls.__table__
            conn.execute(sa.delete(table).where(table.c.code.in_([CODE + 2, CODE + 3])))


def _short_lock_wait(connection, on=True):
    """Make ``connection`` give up waiting for a lock quickly (``on=False``:
    MariaDB's setting back to its default before the connection goes back
    to the pool; PostgreSQL's ends with the transaction)."""
    if connection.dialect.name == "postgresql":
        if on:
            connection.exec_driver_sql("SET LOCAL lock_timeout = '300ms'")
    else:
        wait = "1" if on else "DEFAULT"
        connection.exec_driver_sql(f"SET SESSION innodb_lock_wait_timeout = {wait}")


def test_no_other_transaction_can_touch_a_new_object_before_its_commit(engine, new_page):
    """What lets a transition skip the lock of a new object its own
    transaction inserted (clio.session.inserted_here): another transaction
    neither sees the row nor can hang a child under it (its foreign key
    check waits for the commit), so the publication, without a lock read,
    publishes exactly the tree the inserting session holds."""
    Page, Paragraph = new_page
    with engine.connect() as connection, Session(engine) as mine:
        other = Session(bind=connection)
        page = Page(code=CODE + 2, title="new", tags=[])
        page.paragraphs = [Paragraph(code=CODE + 3, text="mine")]
        mine.add(page)
        mine.flush()
        assert other.scalars(sa.select(Page).where(Page.code == CODE + 2)).first() is None
        _short_lock_wait(other.connection())
        other.add(Paragraph(code=CODE + 4, text="theirs", page_id=page.id))
        # PostgreSQL's lock timeout; MariaDB's lock wait, which clio
        # reports as a lost race
        with pytest.raises((sa.exc.DBAPIError, clio.ConflictError)):
            other.flush()
        other.rollback()
        _short_lock_wait(connection, on=False)
        page.publish()
        mine.commit()
        published = other.scalars(sa.select(Page).where(Page.code == CODE + 2)).one()
        assert published.status == clio.PUBLISHED
        assert [p.code for p in published.paragraphs] == [CODE + 3]
        assert published.paragraphs[0].status == clio.PUBLISHED
        other.close()
