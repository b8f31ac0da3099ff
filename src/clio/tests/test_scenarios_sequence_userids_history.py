"""Reference §7, scenarios 75-87: the code Sequence, user ids and history.

Sequence (SPEC §3.3 item 11) is portable: same contract on SQLite, MariaDB
and PostgreSQL, safe under concurrent callers.  The fixture sequences'
tables exist already (created with the test metadata); each test's writes
are rolled back, but a Sequence remembers per engine that it has seeded its
table, so every sequence test starts with ``reinitialize()``.

History (SPEC §3.2): sorted by full-precision timestamp; at equal instants
archive comes before publish and edit before change.
"""

import threading

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session
from zope.component import queryUtility

import clio
from clio.interfaces import ICurrentUserId
from clio.tests.models import A, a_code


# --- helpers ------------------------------------------------------------------


@pytest.fixture
def fresh_a_code(session):
    """``a_code`` from an empty table and a forgotten check; afterwards the
    check is forgotten again, since this test's rows are rolled back."""
    a_code.reinitialize()
    session.execute(a_code.table.delete())
    yield a_code
    a_code.reinitialize()


def stored_values(session, seq):
    return [row[0] for row in session.execute(sa.select(seq.table.c.id))]


def event_types(session, code=1):
    return [event.event_type for event in clio.history(clio.versions(session, A, code))]


def new_a(session, code=1, message="A"):
    a = A(code, message)
    session.add(a)
    session.flush()
    return a


# --- 75-77: Sequence ---------------------------------------------------------------


def test_s75_first_values(session, fresh_a_code):
    """Scenario 75: a sequence on an empty table returns 1, 2, 3; the table
    is seeded with a single counter row (starting at 0)."""
    seq = fresh_a_code
    assert stored_values(session, seq) == []

    assert [seq(session), seq(session), seq(session)] == [1, 2, 3]

    assert stored_values(session, seq) == [3]


def test_s75_codes_for_objects(session, fresh_a_code):
    """Scenario 75, typical use: ``A(a_code(session), ...)`` numbers new
    objects 1, 2, 3 and the objects publish under those codes."""
    seq = fresh_a_code
    objects = [A(seq(session), f"a{n}") for n in range(3)]
    session.add_all(objects)
    for obj in objects:
        obj.publish()
    session.flush()

    assert [obj.code for obj in objects] == [1, 2, 3]
    assert sorted(session.scalars(sa.select(A.code))) == [1, 2, 3]


def test_s75_creates_missing_table(engine):
    """Scenario 75: the sequence creates its table when it does not exist
    yet, then counts 1, 2, 3."""
    name = "clio_seq_fresh"
    seq = clio.Sequence(name, sa.MetaData())
    with engine.begin() as conn:
        seq.table.drop(conn, checkfirst=True)
    try:
        with Session(engine) as session:
            values = [seq(session), seq(session), seq(session)]
            session.commit()
        assert values == [1, 2, 3]
        assert sa.inspect(engine).has_table(name)
        with engine.connect() as conn:
            assert [row[0] for row in conn.execute(sa.select(seq.table.c.id))] == [3]
    finally:
        with engine.begin() as conn:
            seq.table.drop(conn, checkfirst=True)


def test_s75_creates_missing_table_mid_transaction(engine):
    """Scenario 75 in its typical use, ``A(a_code(session), ...)`` inside a
    unit of work that has already read other tables: the missing sequence
    table is still created and the values are 1, 2, 3.  Where DDL is
    transactional (SQLite, PostgreSQL) the rollback takes the new table
    with it; on MariaDB DDL commits, so the table stays."""
    name = "clio_seq_fresh_mid"
    seq = clio.Sequence(name, sa.MetaData())
    with engine.begin() as conn:
        seq.table.drop(conn, checkfirst=True)
    try:
        with Session(engine) as session:
            assert session.scalars(sa.select(A).where(A.code == -1)).all() == []
            values = [seq(session), seq(session), seq(session)]
            session.add(A(values[0], "first"))
            session.flush()
            session.rollback()
        assert values == [1, 2, 3]
        assert sa.inspect(engine).has_table(name) == (engine.dialect.name == "mysql")
    finally:
        with engine.begin() as conn:
            seq.table.drop(conn, checkfirst=True)


def test_s76_update(session, fresh_a_code):
    """Scenario 76: after the sequence has returned 3, update(session, 100)
    makes the next call return 101."""
    seq = fresh_a_code
    assert [seq(session) for _ in range(3)] == [1, 2, 3]

    seq.update(session, 100)

    assert seq(session) == 101
    assert seq(session) == 102


def test_s76_update_on_fresh_table(session, fresh_a_code):
    """Scenario 76, first use: update() before any call initialises the
    table first, so the next call still returns n + 1."""
    seq = fresh_a_code

    seq.update(session, 41)

    assert seq(session) == 42
    assert stored_values(session, seq) == [42]


def test_s77_reinitialize_after_emptying(session, fresh_a_code):
    """Scenario 77: once the table has been emptied, reinitialize() and a
    call start again at 1."""
    seq = fresh_a_code
    assert [seq(session), seq(session)] == [1, 2]

    session.execute(seq.table.delete())
    seq.reinitialize()

    assert seq(session) == 1
    assert seq(session) == 2


def _take_values(engine, seq, count, barrier, results, errors):
    try:
        barrier.wait(timeout=30)
        with Session(engine) as session:
            for _ in range(count):
                results.append(seq(session))
                session.commit()
    except Exception as error:  # reported by the test thread
        errors.append(error)


def _run_concurrently(engine, seq, threads=2, count=20):
    barrier = threading.Barrier(threads)
    results, errors = [], []
    workers = [
        threading.Thread(target=_take_values, args=(engine, seq, count, barrier, results, errors))
        for _ in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not any(worker.is_alive() for worker in workers), "a worker hung"
    assert errors == []
    return results


@pytest.fixture
def concurrent_sequence(engine):
    if engine.dialect.name == "sqlite":
        pytest.skip("concurrent writers need MariaDB or PostgreSQL")
    seq = clio.Sequence("clio_seq_conc", sa.MetaData())
    with engine.begin() as conn:
        seq.table.drop(conn, checkfirst=True)
        seq.table.create(conn)
    yield seq
    with engine.begin() as conn:
        seq.table.drop(conn, checkfirst=True)


def test_s75_concurrent_callers_get_distinct_values(engine, concurrent_sequence):
    """Scenarios 75-77 under concurrency (SPEC §3.3 item 11: safe under
    concurrent callers): once the counter is seeded, two threads with
    their own sessions each take 20 values, committing each; all 40 are
    distinct and continue the sequence."""
    seq = concurrent_sequence
    with Session(engine) as session:
        assert seq(session) == 1
        session.commit()

    results = _run_concurrently(engine, seq)

    assert len(results) == 40
    assert sorted(results) == list(range(2, 42))


def test_s75_concurrent_first_callers_get_distinct_values(engine, concurrent_sequence):
    """Scenario 75 under concurrency (SPEC §3.3 item 11): two threads start
    on the empty counter table at the same moment, each takes 20 values,
    committing each; all 40 values are distinct and start at 1."""
    seq = concurrent_sequence

    results = _run_concurrently(engine, seq)

    assert len(results) == 40
    assert None not in results
    assert len(set(results)) == 40
    assert min(results) == 1


# --- 78, 79: user ids --------------------------------------------------------------


def test_s78_no_provider_means_unknown(session):
    """Scenario 78: without an ICurrentUserId provider (and no user in the
    session), created, changed and published userids are all 'unknown'."""
    assert queryUtility(ICurrentUserId) is None
    assert "clio.userid" not in session.info
    a = A(1, "A")
    session.add(a)

    a.publish()
    session.flush()

    assert a.created_userid == "unknown"
    assert a.changed_userid == "unknown"
    assert a.published_userid == "unknown"
    session.expire_all()
    stored = session.scalars(sa.select(A).where(A.code == 1)).one()
    assert (stored.created_userid, stored.changed_userid, stored.published_userid) == (
        "unknown",
        "unknown",
        "unknown",
    )


def test_s79_edit_copy_has_no_published_userid(session, userids):
    """Scenario 79: with a provider, an edit copy's published_userid is None
    while the published version keeps its publisher."""
    a = new_a(session)
    a.publish()
    publisher = a.published_userid

    e = a.edit()
    session.flush()

    assert e.published_userid is None
    assert a.published_userid == publisher
    assert publisher in userids
    assert e.created_userid in userids
    assert e.created_userid not in (a.created_userid, publisher)
    assert e.changed_userid == a.changed_userid == a.created_userid == "u0"


# --- 80-87: history ----------------------------------------------------------------


def test_s80_history_of_two_edit_cycles(session):
    """Scenario 80: create, publish, then twice edit and publish: the
    history of all versions reads create, publish, edit, archive, publish,
    edit, archive, publish (archive before publish at equal instants)."""
    v1 = new_a(session, message="v1")
    v1.publish()
    v2 = v1.edit()
    v2.message = "v2"
    v2.publish()
    v3 = v2.edit()
    v3.message = "v3"
    v3.publish()
    session.flush()

    events = clio.history(clio.versions(session, A, 1))

    assert [e.event_type for e in events] == [
        "create",
        "publish",
        "edit",
        "archive",
        "publish",
        "edit",
        "archive",
        "publish",
    ]
    assert [e.version for e in events] == [v1, v1, v2, v1, v2, v3, v2, v3]
    assert [e.event_type for e in events] == [
        clio.HISTORY_CREATE,
        clio.HISTORY_PUBLISH,
        clio.HISTORY_EDIT,
        clio.HISTORY_ARCHIVE,
        clio.HISTORY_PUBLISH,
        clio.HISTORY_EDIT,
        clio.HISTORY_ARCHIVE,
        clio.HISTORY_PUBLISH,
    ]
    # an archive and the publish that caused it share one instant
    assert events[3].timestamp == events[4].timestamp
    assert events[6].timestamp == events[7].timestamp
    assert events[3].userid is None
    assert [e.timestamp for e in events] == sorted(e.timestamp for e in events)
    assert all(e.timestamp.tzinfo is not None for e in events)
    assert all(isinstance(e, clio.HistoryEvent) for e in events)


def test_s81_history_of_new(session):
    """Scenario 81: a NEW object's history is create."""
    a = new_a(session)

    events = clio.history(clio.versions(session, A, 1))

    assert [e.event_type for e in events] == ["create"]
    assert events[0].version is a
    assert events[0].timestamp == a.created_timestamp


def test_s82_history_create_change(session):
    """Scenario 82: a NEW object changed later than its creation: create,
    change."""
    a = new_a(session)
    a.mark_changed()
    session.flush()
    assert a.changed_timestamp > a.created_timestamp

    events = clio.history(clio.versions(session, A, 1))

    assert [e.event_type for e in events] == ["create", "change"]
    assert events[1].timestamp == a.changed_timestamp


def test_s83_history_create_change_publish(session):
    """Scenario 83: 82 followed by publish: create, change, publish."""
    a = new_a(session)
    a.mark_changed()
    a.publish()
    session.flush()

    assert event_types(session) == ["create", "change", "publish"]


def test_s84_history_then_edit(session):
    """Scenario 84: 83 followed by edit: create, change, publish, edit."""
    a = new_a(session)
    a.mark_changed()
    a.publish()
    e = a.edit()
    session.flush()

    events = clio.history(clio.versions(session, A, 1))

    assert [ev.event_type for ev in events] == ["create", "change", "publish", "edit"]
    assert events[-1].version is e


def test_s85_history_then_change_the_edit(session):
    """Scenario 85: 84 followed by mark_changed() on the edit: create,
    change, publish, edit, change."""
    a = new_a(session)
    a.mark_changed()
    a.publish()
    e = a.edit()
    e.mark_changed()
    session.flush()

    events = clio.history(clio.versions(session, A, 1))

    assert [ev.event_type for ev in events] == [
        "create",
        "change",
        "publish",
        "edit",
        "change",
    ]
    assert events[-1].version is e
    assert events[1].version is a


def test_s86_history_of_published_deletion(session, userids):
    """Scenario 86: create, mark_changed, publish, delete, publish: create,
    change, publish, delete; the delete is attributed to the deleter."""
    a = new_a(session)
    a.mark_changed()
    a.publish()
    x = a.delete()
    session.flush()
    assert x.publish() is a
    session.flush()

    events = clio.history(clio.versions(session, A, 1))

    assert [e.event_type for e in events] == ["create", "change", "publish", "delete"]
    assert [e.version for e in events] == [a, a, a, a]
    assert events[-1].timestamp == a.published_end_timestamp
    assert events[-1].userid == a.published_userid == userids[-1]


def test_s87_history_of_pending_deletion(session):
    """Scenario 87: create, publish, delete (not yet published): create,
    publish, edit_delete."""
    a = new_a(session)
    a.publish()
    x = a.delete()
    session.flush()

    events = clio.history(clio.versions(session, A, 1))

    assert [e.event_type for e in events] == ["create", "publish", "edit_delete"]
    assert [e.version for e in events] == [a, a, x]
