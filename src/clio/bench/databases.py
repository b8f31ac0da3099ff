"""Where the benchmark runs: a private SQLite file, MariaDB database or
PostgreSQL schema (see :mod:`clio.scratch`), named ``clio_bench<pid>`` so
that a benchmark never touches the test suite's databases (``clio_t<pid>``)
or another benchmark running at the same time.
"""

from __future__ import annotations

from clio.scratch import DATABASES, ScratchDatabase

__all__ = ["DATABASES", "BenchDatabase"]


class BenchDatabase(ScratchDatabase):
    """The benchmark's private database on one server."""

    def __init__(self, name: str):
        super().__init__(name, "clio_bench")
