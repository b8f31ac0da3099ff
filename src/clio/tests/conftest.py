"""Test fixtures: every database test runs on SQLite, MariaDB and PostgreSQL.

The ``engine`` fixture is parametrised over the three databases.  Each test
run gets a database (MariaDB) or schema (PostgreSQL) of its own, so runs in
parallel do not collide.  An unreachable server is a skip, except when the
``CI`` environment variable is set: then it is a failure.  ``--clio-db``
limits a run to some of the databases.
"""

from __future__ import annotations

import itertools
import os
import threading
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session
from zope.component import getGlobalSiteManager

from clio.interfaces import ICurrentUserId
from clio.model import VersionMethods
from clio.scratch import DATABASES, ScratchDatabase, server_url

START = datetime(2026, 1, 1, tzinfo=timezone.utc)


def pytest_addoption(parser):
    parser.addoption(
        "--clio-db",
        action="append",
        choices=DATABASES,
        help="run the database tests only on these databases (repeatable)",
    )


def _unreachable(name, url, error):
    message = f"{name} at {url.render_as_string(hide_password=True)} is unreachable: {error}"
    if os.environ.get("CI"):
        pytest.fail(message + " (CI is set, so this is a failure)", pytrace=False)
    pytest.skip(message)


def open_database(name: str) -> ScratchDatabase:
    """This run's private database on one server (see clio.scratch)."""
    try:
        return ScratchDatabase(name, "clio_t", pool_size=10, max_overflow=10)
    except sa.exc.OperationalError as error:
        _unreachable(name, server_url(name), error.orig)


@pytest.fixture(scope="session", params=DATABASES)
def database(request):
    selected = request.config.getoption("--clio-db")
    if selected and request.param not in selected:
        pytest.skip(f"{request.param} not selected with --clio-db")
    db = open_database(request.param)
    yield db
    db.drop()


@pytest.fixture(scope="session")
def engine(database):
    from clio.tests import models

    models.metadata.create_all(database.engine)
    return database.engine


@pytest.fixture
def connection(engine):
    with engine.connect() as conn:
        outer = conn.begin()
        yield conn
        if outer.is_active:
            outer.rollback()


@pytest.fixture
def session(connection):
    """A session whose commits stay inside the test's outer transaction,
    which is rolled back afterwards."""
    sess = Session(bind=connection, join_transaction_mode="create_savepoint")
    yield sess
    sess.close()


class Clock:
    """Strictly increasing aware UTC moments, one second apart (thread-safe,
    for the concurrency tests)."""

    def __init__(self, start=START, step=timedelta(seconds=1)):
        self.current = start
        self.step = step
        self._lock = threading.Lock()

    def __call__(self):
        with self._lock:
            self.current += self.step
            return self.current

    def peek(self):
        return self.current


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    ticking = Clock()
    monkeypatch.setattr(VersionMethods, "_now", classmethod(lambda cls: ticking()))
    return ticking


@pytest.fixture
def userids():
    """A global ICurrentUserId utility answering u0, u1, ... (Clio 0.7's
    test convention); the list records what it handed out."""
    counter = itertools.count()
    handed = []

    def provider():
        value = f"u{next(counter)}"
        handed.append(value)
        return value

    registry = getGlobalSiteManager()
    registry.registerUtility(provider, ICurrentUserId)
    yield handed
    registry.unregisterUtility(provider, ICurrentUserId)


class StatementCounter:
    def __init__(self):
        self.statements = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        word = statement.lstrip().split(None, 1)[0].upper()
        if word not in ("BEGIN", "SAVEPOINT", "RELEASE", "COMMIT", "ROLLBACK"):
            self.statements.append(statement)

    def __len__(self):
        return len(self.statements)


@pytest.fixture
def count_statements(connection):
    """Use as ``with count_statements() as counted: ...``; ``len(counted)``."""
    from contextlib import contextmanager

    @contextmanager
    def counting():
        counter = StatementCounter()
        event.listen(connection, "before_cursor_execute", counter)
        try:
            yield counter
        finally:
            event.remove(connection, "before_cursor_execute", counter)

    return counting
