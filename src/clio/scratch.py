"""Private scratch databases for the test suite and the benchmark.

Each run gets a database of its own on each server: a SQLite file, a
MariaDB database or a PostgreSQL schema, named with a prefix and the process
id, created at the start and dropped at the end, so that test runs and
benchmarks running side by side never touch each other's tables.  The
server URLs come from ``CLIO_TEST_MARIADB_URL`` and
``CLIO_TEST_POSTGRESQL_URL``, with the project's defaults.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import sqlalchemy as sa
from sqlalchemy import event

DATABASES = ("sqlite", "mariadb", "postgresql")
DEFAULT_URLS = {
    "mariadb": "mysql+pymysql://root@127.0.0.1:3306/test",
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:5432/test",
}


def server_url(name: str) -> sa.URL:
    """The URL of the MariaDB or PostgreSQL server to use."""
    return sa.make_url(os.environ.get(f"CLIO_TEST_{name.upper()}_URL", DEFAULT_URLS[name]))


def sqlite_engine(path) -> sa.Engine:
    """SQLite with real transactions and SAVEPOINTs: pysqlite's own
    transaction handling is switched off, as SQLAlchemy documents, since
    the session fixtures and the bulk API need SAVEPOINTs."""
    engine = sa.create_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, record):
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA foreign_keys=ON")

    @event.listens_for(engine, "begin")
    def _begin(connection):
        connection.exec_driver_sql("BEGIN")

    return engine


class ScratchDatabase:
    """One private database on one server, for the length of a run.

    An unreachable server raises ``sqlalchemy.exc.OperationalError`` from
    the constructor, before anything is created.
    """

    def __init__(self, name: str, prefix: str, **engine_options):
        if name not in DATABASES:
            raise ValueError(f"unknown database {name!r}; use one of {DATABASES}")
        self.name = name
        self.tag = f"{prefix}{os.getpid()}"
        self.admin = None
        self.tmpdir = None
        self.url = None
        if name == "sqlite":
            self.tmpdir = tempfile.mkdtemp(prefix=f"{prefix}-")
            self.engine = sqlite_engine(os.path.join(self.tmpdir, "clio.sqlite"))
            return
        url = server_url(name)
        self.admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        try:
            with self.admin.connect() as conn:
                if name == "mariadb":
                    conn.execute(sa.text(f"DROP DATABASE IF EXISTS {self.tag}"))
                    conn.execute(sa.text(f"CREATE DATABASE {self.tag} CHARACTER SET utf8mb4"))
                    self.url = url.set(database=self.tag)
                else:
                    conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {self.tag} CASCADE"))
                    conn.execute(sa.text(f"CREATE SCHEMA {self.tag}"))
                    self.url = url.update_query_dict({"options": f"-csearch_path={self.tag}"})
        except sa.exc.OperationalError:
            self.admin.dispose()
            raise
        self.engine = sa.create_engine(self.url, **engine_options)

    def drop(self) -> None:
        self.engine.dispose()
        if self.tmpdir is not None:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
        if self.admin is None:
            return
        with self.admin.connect() as conn:
            if self.name == "mariadb":
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS {self.tag}"))
            else:
                conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {self.tag} CASCADE"))
        self.admin.dispose()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.drop()
        return False
