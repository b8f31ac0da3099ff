"""Faults in the middle of a transition leave no half-done transition.

Two kinds of fault:

* the database connection is killed while the transition writes: a
  ``before_cursor_execute`` hook waits for the N-th write statement of the
  commit and kills its own connection from a second one (MariaDB ``KILL``,
  PostgreSQL ``pg_terminate_backend``) before the statement runs;
* the process dies mid-request: a subprocess runs the transition, flushes
  it to the database and ``os._exit``\\ s before committing (all three
  databases).

Afterwards, on a new connection, ``clio.check`` is clean and the object's
rows are exactly the rows from before.  These tests commit, so they use
codes of their own and clean up.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

import clio
from clio.tests.models import A, B

CODE, CHILD = 9501, 9502
WRITES = ("INSERT", "UPDATE", "DELETE")
#: Figures for docs/reliability.rst.
FIGURES = {"killed": 0, "exited": 0}


def rows(engine):
    with engine.connect() as conn:
        return {
            table.name: [
                tuple(r)
                for r in conn.execute(
                    sa.select(table).where(table.c.code.in_((CODE, CHILD))).order_by(table.c.id)
                )
            ]
            for table in (A.__table__, B.__table__)
        }


@pytest.fixture
def tree(engine):
    """A published parent with a published child, committed."""

    def clean():
        with engine.begin() as conn:
            conn.execute(B.__table__.delete().where(B.__table__.c.code == CHILD))
            conn.execute(A.__table__.delete().where(A.__table__.c.code == CODE))

    clean()
    with Session(engine) as session:
        a = A(CODE, "parent")
        a.bs.append(B(CHILD, "child"))
        session.add(a)
        a.publish()
        session.commit()
        a.edit().message = "draft"  # a pending edit to publish, revert, delete
        session.commit()
    yield engine
    clean()


def transition(session, operation):
    """Run ``operation`` on the object; return nothing, leave it unflushed."""
    pending = session.scalars(sa.select(A).where(A.code == CODE, A.status == clio.EDITABLE)).one()
    if operation == "publish":
        pending.publish()
    elif operation == "delete_publish":
        pending.delete().publish()
    elif operation == "revert":
        pending.message = "changed"
        pending.revert()
    elif operation == "discard":
        pending.discard()


def assert_untouched(engine, before):
    with Session(engine) as session:
        assert clio.check(session, [A, B]) == []
    assert rows(engine) == before


def killer(engine):
    """A function killing the backend of a DBAPI connection."""
    name = engine.dialect.name
    admin = sa.create_engine(engine.url, poolclass=sa.pool.NullPool)

    def backend_of(dbapi_connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT CONNECTION_ID()" if name == "mysql" else "SELECT pg_backend_pid()")
        (ident,) = cursor.fetchone()
        cursor.close()
        return ident

    def kill(ident):
        with admin.connect() as conn:
            if name == "mysql":
                conn.exec_driver_sql(f"KILL {int(ident)}")
            else:
                conn.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": ident})
            conn.commit()

    return backend_of, kill, admin


@pytest.mark.parametrize("operation", ["publish", "delete_publish", "revert", "discard"])
@pytest.mark.parametrize("nth", [1, 2, 3])
def test_connection_killed_mid_transition(tree, operation, nth):
    engine = tree
    if engine.dialect.name == "sqlite":
        pytest.skip("an SQLite connection cannot be killed from outside")
    before = rows(engine)
    backend_of, kill, admin = killer(engine)
    victim = sa.create_engine(engine.url, poolclass=sa.pool.NullPool)
    state = {"writes": 0, "killed": False}

    @event.listens_for(victim, "before_cursor_execute")
    def pause_and_kill(conn, cursor, statement, parameters, context, executemany):
        if state["killed"] or statement.lstrip().split(None, 1)[0].upper() not in WRITES:
            return
        state["writes"] += 1
        if state["writes"] == nth:
            kill(backend_of(conn.connection.dbapi_connection))
            state["killed"] = True

    try:
        with Session(victim) as session:
            try:
                transition(session, operation)
                session.commit()
            except (sa.exc.DBAPIError, clio.ConflictError):
                session.rollback()
        if not state["killed"]:
            pytest.skip(f"{operation} writes fewer than {nth} statements")
        FIGURES["killed"] += 1
        assert_untouched(engine, before)
    finally:
        victim.dispose()
        admin.dispose()


SCRIPT = textwrap.dedent(
    """
    import os, sys
    import sqlalchemy as sa
    from sqlalchemy.orm import Session
    from clio.tests.models import A
    from clio.tests.test_reliability_faults import transition
    engine = sa.create_engine(sys.argv[1])
    session = Session(engine)
    transition(session, sys.argv[2])
    session.flush()  # the transition's rows are in the database, uncommitted
    print("flushed", flush=True)
    os._exit(3)  # the process dies before the commit
    """
)


@pytest.mark.parametrize("operation", ["publish", "delete_publish", "revert", "discard"])
def test_process_exits_before_commit(tree, operation):
    engine = tree
    before = rows(engine)
    url = engine.url.render_as_string(hide_password=False)
    src = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, *sys.path])}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, url, operation],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 3, done.stderr
    assert "flushed" in done.stdout
    FIGURES["exited"] += 1
    assert_untouched(engine, before)
