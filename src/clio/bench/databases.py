"""Where the benchmark runs: a private SQLite file, MariaDB database or
PostgreSQL schema, created at the start and dropped at the end.

The names carry the process id and a ``clio_bench`` prefix, so a benchmark
never touches the test suite's databases (``clio_t<pid>``) or another
benchmark running at the same time.  The server URLs are the test suite's:
``CLIO_TEST_MARIADB_URL`` and ``CLIO_TEST_POSTGRESQL_URL``, with the
project's defaults.
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
    return sa.make_url(os.environ.get(f"CLIO_TEST_{name.upper()}_URL", DEFAULT_URLS[name]))


def sqlite_engine(path: str) -> sa.Engine:
    """SQLite with real transactions and SAVEPOINTs (pysqlite's own
    transaction handling off), as the test suite does: ``publish_all`` needs
    SAVEPOINTs."""
    engine = sa.create_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, record):
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA foreign_keys=ON")

    @event.listens_for(engine, "begin")
    def _begin(connection):
        connection.exec_driver_sql("BEGIN")

    return engine


class BenchDatabase:
    """One private database on one server, for the length of a run."""

    def __init__(self, name: str):
        if name not in DATABASES:
            raise ValueError(f"unknown database {name!r}; use one of {DATABASES}")
        self.name = name
        self.tag = f"clio_bench{os.getpid()}"
        self.admin = None
        self.tmpdir = None
        if name == "sqlite":
            self.tmpdir = tempfile.mkdtemp(prefix="clio-bench-")
            self.engine = sqlite_engine(os.path.join(self.tmpdir, "bench.sqlite"))
            return
        url = server_url(name)
        self.admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with self.admin.connect() as conn:
            if name == "mariadb":
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS {self.tag}"))
                conn.execute(sa.text(f"CREATE DATABASE {self.tag} CHARACTER SET utf8mb4"))
                self.engine = sa.create_engine(url.set(database=self.tag))
            else:
                conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {self.tag} CASCADE"))
                conn.execute(sa.text(f"CREATE SCHEMA {self.tag}"))
                self.engine = sa.create_engine(
                    url.update_query_dict({"options": f"-csearch_path={self.tag}"})
                )

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
