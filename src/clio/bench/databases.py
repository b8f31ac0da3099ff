"""Where the benchmark runs: a private SQLite file, MariaDB database or
PostgreSQL schema (see :mod:`clio.scratch`), named ``clio_bench<pid>`` so
that a benchmark never touches the test suite's databases (``clio_t<pid>``)
or another benchmark running at the same time.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from clio.scratch import DATABASES, ScratchDatabase

__all__ = ["DATABASES", "BenchDatabase", "analyze"]


class BenchDatabase(ScratchDatabase):
    """The benchmark's private database on one server."""

    def __init__(self, name: str):
        super().__init__(name, "clio_bench")


def analyze(engine: sa.Engine, tables: Iterable[sa.Table]) -> None:
    """Gather the planner's statistics of ``tables``, as autovacuum (or an
    operator) does on a server in use.

    Measured without them, a benchmark times plans made for tables that
    were empty when first queried: PostgreSQL keeps the generic plan of a
    prepared statement (psycopg prepares a statement after five runs)
    until the table is analysed, and a plan made for an empty table scans
    it whole.
    """
    with engine.begin() as conn:
        mysql = conn.dialect.name in ("mysql", "mariadb")
        for table in tables:
            quoted = conn.dialect.identifier_preparer.format_table(table)
            if mysql:  # answers with a row per table, to be read
                conn.exec_driver_sql(f"ANALYZE TABLE {quoted}").all()
            else:
                conn.exec_driver_sql(f"ANALYZE {quoted}")
