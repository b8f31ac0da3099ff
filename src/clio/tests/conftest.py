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

DATABASES = ("sqlite", "mariadb", "postgresql")
DEFAULT_URLS = {
    "mariadb": "mysql+pymysql://root@127.0.0.1:3306/test",
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:5432/test",
}
START = datetime(2026, 1, 1, tzinfo=timezone.utc)


def pytest_addoption(parser):
    parser.addoption(
        "--clio-db",
        action="append",
        choices=DATABASES,
        help="run the database tests only on these databases (repeatable)",
    )


def server_url(name: str) -> sa.URL:
    env = f"CLIO_TEST_{name.upper()}_URL"
    return sa.make_url(os.environ.get(env, DEFAULT_URLS[name]))


def _unreachable(name, url, error):
    message = f"{name} at {url.render_as_string(hide_password=True)} is unreachable: {error}"
    if os.environ.get("CI"):
        pytest.fail(message + " (CI is set, so this is a failure)", pytrace=False)
    pytest.skip(message)


def sqlite_engine(path) -> sa.Engine:
    """SQLite with real transactions and SAVEPOINTs (pysqlite's own
    transaction handling is switched off, as SQLAlchemy documents)."""
    engine = sa.create_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, record):
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA foreign_keys=ON")

    @event.listens_for(engine, "begin")
    def _begin(connection):
        connection.exec_driver_sql("BEGIN")

    return engine


class TestDatabase:
    """A private database for this run on one server, created and dropped."""

    def __init__(self, name, tmp_path_factory):
        self.name = name
        self.tag = f"clio_t{os.getpid()}"
        self.admin = None
        if name == "sqlite":
            self.url = None
            self.engine = sqlite_engine(tmp_path_factory.mktemp("db") / "clio.sqlite")
            return
        url = server_url(name)
        self.admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        try:
            with self.admin.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except sa.exc.OperationalError as error:
            self.admin.dispose()
            _unreachable(name, url, error.orig)
        with self.admin.connect() as conn:
            if name == "mariadb":
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS {self.tag}"))
                conn.execute(sa.text(f"CREATE DATABASE {self.tag} CHARACTER SET utf8mb4"))
                self.url = url.set(database=self.tag)
                self.engine = sa.create_engine(self.url, pool_size=10, max_overflow=10)
            else:
                conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {self.tag} CASCADE"))
                conn.execute(sa.text(f"CREATE SCHEMA {self.tag}"))
                self.url = url.update_query_dict({"options": f"-csearch_path={self.tag}"})
                self.engine = sa.create_engine(self.url, pool_size=10, max_overflow=10)

    def drop(self):
        self.engine.dispose()
        if self.admin is None:
            return
        with self.admin.connect() as conn:
            if self.name == "mariadb":
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS {self.tag}"))
            else:
                conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {self.tag} CASCADE"))
        self.admin.dispose()


@pytest.fixture(scope="session", params=DATABASES)
def database(request, tmp_path_factory):
    selected = request.config.getoption("--clio-db")
    if selected and request.param not in selected:
        pytest.skip(f"{request.param} not selected with --clio-db")
    db = TestDatabase(request.param, tmp_path_factory)
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
