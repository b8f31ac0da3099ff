"""clio-bench: how much clio's workflow and history cost (SPEC §5, §6).

Side by side in one process, on SQLite, MariaDB and PostgreSQL: plain
SQLAlchemy without history (the floor), a hand-written same-table baseline
(the logical work of clio's transitions in Core statements), SQLAlchemy-
Continuum, clio, and clio's bulk API.  :mod:`clio.bench.runner` has the
workloads and the report, :mod:`clio.bench.scaling` the read latency as the
table grows, :mod:`clio.bench.cli` the ``clio-bench`` command.  Needs the
``bench`` extra (SQLAlchemy-Continuum) for the Continuum contender.
"""
