"""Upgrade a database written by Clio 0.6 or 0.7 to clio 1.0, in place.

What differs between an old database and the schema that
:func:`clio.schema.workflow_columns` and :func:`clio.schema.workflow_constraints`
describe, and what this module does about it:

* Timestamps were naive local time with one-second precision.  They become
  ``DATETIME(6)`` on MariaDB and ``timestamp with time zone`` on
  PostgreSQL (SQLite keeps its text column).  The stored values are taken
  to be UTC unless a time zone is given, in which case each value is
  converted from that zone's local time to UTC first.
* 0.6 tables lack ``changed_timestamp`` and ``created_userid``.  They are
  added and left NULL: nobody recorded those facts, and clio's history
  skips a NULL change time.
* Archive numbers were allocated table-wide.  They are renumbered per
  ``code`` from 1000, in their old order, so that each object's history
  reads 1000, 1001, ... as clio 1.0 allocates them.
* The ``(code, status)`` unique constraint was called ``workflow`` and
  becomes ``<table>_workflow`` (PostgreSQL wants constraint names unique
  per schema); the indexes become the ``ix_<table>_*`` set of the current
  schema: indexes made only of clio's columns that the current schema does
  not have are dropped, those it has are created.  Indexes that involve
  the application's own columns are left alone.

The schema changes are alembic operations, so :func:`upgrade` can print
them as SQL instead of running them (a dry run).  On SQLite a table whose
constraint changes is rebuilt (alembic's batch mode) with foreign key
enforcement switched off for the rebuild, as SQLite's documentation
prescribes, so that dropping the old table cascades nowhere.

Transactions: on SQLite and PostgreSQL the whole upgrade is one
transaction, so a failure leaves the database as it was.  MariaDB commits
before every DDL statement.  The one step that must not run twice, the
time zone conversion, therefore writes a row into a small bookkeeping
table (``clio_migrate``) in the same transaction as the converted values;
a run interrupted between the conversion and the schema change is simply
run again, and the row, not the schema, tells it the values are already
UTC.  The bookkeeping table is removed when the upgrade is complete.

Use it as ``clio-migrate`` (see :func:`main`) or from Python::

    from clio.migrate import upgrade
    upgrade(engine, timezone="Europe/Amsterdam")
"""

from __future__ import annotations

import argparse
import configparser
import io
import os
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone as _tz
from typing import Callable, Iterable, Sequence as _Seq, TextIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy.orm import Session

from clio.exceptions import ClioError
from clio.schema import BOOKKEEPING_COLUMNS, workflow_columns, workflow_constraints
from clio.sequence import Sequence
from clio.status import ARCHIVED
from clio.timestamps import UTCDateTime

__all__ = [
    "MARKER_TABLE",
    "MigrationError",
    "Plan",
    "Step",
    "clio_tables",
    "main",
    "plan",
    "sequence_target",
    "upgrade",
]

#: Bookkeeping table that exists only while an upgrade is under way.
MARKER_TABLE = "clio_migrate"
#: The columns every Clio table has had since 0.6; they identify one.
LEGACY_COLUMNS = (
    "id",
    "code",
    "status",
    "created_timestamp",
    "published_start_timestamp",
    "published_end_timestamp",
    "published_userid",
    "changed_userid",
)
TIMESTAMP_COLUMNS = (
    "created_timestamp",
    "published_start_timestamp",
    "published_end_timestamp",
    "changed_timestamp",
)
#: How many rows the time zone conversion reads and writes at a time.
BATCH_SIZE = 1000


class MigrationError(ClioError):
    """The database or the options given cannot be upgraded as asked."""


@dataclass
class Step:
    """One thing the upgrade does to one table (or sequence).

    ``kind`` is ``"data"`` (rows change, in a transaction), ``"schema"``
    (alembic operations, printable as SQL) or ``"sequence"``.
    """

    table: str
    kind: str
    description: str
    run: Callable = field(repr=False)
    #: True for the time zone conversion, which records itself in
    #: :data:`MARKER_TABLE` so that it never runs twice.
    marks: bool = False


@dataclass
class Plan:
    """The steps an upgrade would take, in order; empty when the database
    is already current."""

    dialect: str
    timezone: str | None
    steps: list[Step] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.steps)

    def describe(self) -> str:
        """The plan as text, one line per step, notes first."""
        lines = [f"-- note: {note}" for note in self.notes]
        if not self.steps:
            lines.append("-- nothing to do: the database is at the current clio schema")
        for number, step in enumerate(self.steps, 1):
            lines.append(f"-- {number}. [{step.table}] {step.description}")
        return "\n".join(lines)


# --- looking at the database ------------------------------------------------


def clio_tables(connection: sa.Connection) -> list[str]:
    """Names of the tables that look like Clio tables (they have every
    column a 0.6 or 0.7 table had), sorted."""
    inspector = sa.inspect(connection)
    found = []
    for name in inspector.get_table_names():
        if name == MARKER_TABLE:
            continue
        columns = {c["name"] for c in inspector.get_columns(name)}
        if set(LEGACY_COLUMNS) <= columns:
            found.append(name)
    return sorted(found)


def _zone(name: str | None):
    if name is None:
        return None
    try:
        zone = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise MigrationError(f"unknown time zone {name!r}: {error}") from None
    if zone.utcoffset(datetime(2000, 1, 1)) == _tz.utc.utcoffset(None) and zone.utcoffset(
        datetime(2000, 7, 1)
    ) == _tz.utc.utcoffset(None):
        return None  # UTC (or an alias of it): nothing to convert
    return zone


def _needs_new_type(dialect: str, coltype) -> bool:
    if dialect in ("mysql", "mariadb"):
        return getattr(coltype, "fsp", None) != 6
    if dialect == "postgresql":
        return not getattr(coltype, "timezone", False)
    return False


def _workflow_constraint(inspector, table: str):
    """The unique constraint over exactly (code, status), or None."""
    for uc in inspector.get_unique_constraints(table):
        if sorted(uc["column_names"]) == ["code", "status"]:
            return uc["name"]
    return None


def _marked(connection: sa.Connection, table: str) -> bool:
    if not sa.inspect(connection).has_table(MARKER_TABLE):
        return False
    marker = _marker_table()
    found = connection.execute(
        sa.select(sa.func.count()).select_from(marker).where(marker.c.tablename == table)
    ).scalar()
    return bool(found)


def _marker_table() -> sa.Table:
    return sa.Table(
        MARKER_TABLE,
        sa.MetaData(),
        sa.Column("tablename", sa.String(200), primary_key=True),
        mysql_engine="InnoDB",
    )


# --- planning -----------------------------------------------------------------


def plan(
    connection: sa.Connection,
    tables: Iterable[str] | None = None,
    timezone: str | None = None,
    sequences: Iterable[tuple[str, str]] = (),
) -> Plan:
    """Work out what :func:`upgrade` would do, without changing anything.

    ``tables`` defaults to every Clio table found; ``timezone`` names the
    zone the old naive timestamps are in (``None``: they are UTC already);
    ``sequences`` holds ``(sequence_name, table_name)`` pairs whose sequence
    is to be set to the highest code in the table.
    """
    zone = _zone(timezone)
    dialect = connection.dialect.name
    result = Plan(dialect=dialect, timezone=timezone)
    found = clio_tables(connection)
    if tables is None:
        names = found
    else:
        names = list(tables)
        for name in names:
            if name not in found:
                raise MigrationError(
                    f"{name!r} is not a Clio table (it needs the columns "
                    f"{', '.join(LEGACY_COLUMNS)})"
                )
    for name in names:
        _plan_table(connection, result, name, zone)
    marker_in_use = any(s.marks for s in result.steps)
    for name in names:
        if _marked(connection, name):
            marker_in_use = True
    if marker_in_use:
        result.steps.append(
            Step("*", "data", f"remove the bookkeeping table {MARKER_TABLE}", _drop_marker)
        )
    for sequence_name, table_name in sequences:
        if table_name not in found:
            raise MigrationError(f"sequence {sequence_name!r}: {table_name!r} is not a Clio table")
        target = sequence_target(connection, sequence_name, table_name)
        if target is not None:
            result.steps.append(
                Step(
                    sequence_name,
                    "sequence",
                    f"set sequence {sequence_name} to {target}, the highest code "
                    f"in {table_name} (the next code is {target + 1})",
                    _sequence_runner(sequence_name, target),
                )
            )
        else:
            result.notes.append(
                f"sequence {sequence_name} needs no change: its next code is "
                f"already above every code in {table_name}"
            )
    return result


def _plan_table(connection, result: Plan, name: str, zone) -> None:
    inspector = sa.inspect(connection)
    dialect = result.dialect
    columns = {c["name"]: c for c in inspector.get_columns(name)}
    constraint = _workflow_constraint(inspector, name)
    target_constraint = f"{name}_workflow"
    legacy = constraint != target_constraint

    # 1. Data: time zone conversion (once) and archive renumbering.
    if zone is not None:
        if legacy and not _marked(connection, name):
            present = [c for c in TIMESTAMP_COLUMNS if c in columns]
            result.steps.append(
                Step(
                    name,
                    "data",
                    f"convert timestamps ({', '.join(present)}) from local time "
                    f"in {result.timezone} to UTC",
                    _converter(name, present, zone),
                    marks=True,
                )
            )
        elif legacy:
            result.notes.append(
                f"{name}: timestamps were converted to UTC by an earlier, "
                f"interrupted run; not converting again"
            )
        else:
            result.notes.append(
                f"{name}: already at the current schema, so its timestamps are "
                f"taken to be UTC; --timezone is ignored for it"
            )
    renumber = _renumbering(connection, name)
    if renumber:
        codes = len({code for _, code, _, _ in renumber})
        result.steps.append(
            Step(
                name,
                "data",
                f"renumber {len(renumber)} archived versions of {codes} objects "
                f"per code from {ARCHIVED}, keeping their order",
                _renumberer(name, renumber),
            )
        )

    # 2. Schema.
    ops: list[tuple[str, Callable]] = []
    target_columns = {c.name: c for c in workflow_columns()}
    for column_name in ("changed_timestamp", "created_userid"):
        if column_name not in columns:
            new = target_columns[column_name]
            ops.append(
                (
                    f"add column {column_name} (left NULL: 0.6 did not record it)",
                    _add_column(new.name, new.type, new.nullable),
                )
            )
    for column_name in TIMESTAMP_COLUMNS:
        info = columns.get(column_name)
        if info is not None and _needs_new_type(dialect, info["type"]):
            ops.append(
                (
                    f"change {column_name} from {info['type']} to "
                    f"{UTCDateTime().compile(dialect=connection.dialect)}",
                    _retype(column_name, info),
                )
            )
    if legacy:
        if constraint is None:
            ops.append(
                (
                    f"add unique constraint {target_constraint} (code, status)",
                    _add_constraint(target_constraint),
                )
            )
        else:
            ops.append(
                (
                    f"rename unique constraint {constraint} to {target_constraint}",
                    _rename_constraint(dialect, constraint, target_constraint),
                )
            )
    wanted = {
        index.name: [c.name if hasattr(c, "name") else str(c) for c in index.expressions]
        for index in workflow_constraints(name)
        if isinstance(index, sa.Index)
    }
    existing = {}
    for index in inspector.get_indexes(name):
        if index.get("duplicates_constraint") or index["name"] == constraint:
            continue
        existing[index["name"]] = list(index["column_names"])
    renamed = set()
    for index_name, index_columns in sorted(existing.items()):
        if index_name in wanted and wanted[index_name] == index_columns:
            continue
        if index_name in wanted or set(index_columns) <= set(BOOKKEEPING_COLUMNS):
            # An old index over the columns of a wanted one that does not
            # exist yet is renamed rather than dropped and built again.
            target = next(
                (
                    n
                    for n, cols in wanted.items()
                    if cols == index_columns and n not in existing and n not in renamed
                ),
                None,
            )
            if target is not None and dialect != "sqlite":
                renamed.add(target)
                ops.append(
                    (
                        f"rename index {index_name} to {target}",
                        _rename_index(dialect, index_name, target),
                    )
                )
                continue
            ops.append(
                (
                    f"drop index {index_name} ({', '.join(index_columns)})",
                    _drop_index(index_name),
                )
            )
    for index_name, index_columns in wanted.items():
        if existing.get(index_name) != index_columns and index_name not in renamed:
            ops.append(
                (
                    f"create index {index_name} ({', '.join(index_columns)})",
                    _create_index(index_name, index_columns),
                )
            )
    for description, runner in ops:
        result.steps.append(Step(name, "schema", description, runner))


def _renumbering(connection, name: str) -> list[tuple[int, int, int, int]]:
    """``(id, code, old, new)`` for every archived version whose number
    changes, in the order the updates must run (ascending per code, which
    never collides with a number still in use: the k-th smallest old
    number of a code is at least 1000 + k)."""
    table = sa.Table(name, sa.MetaData(), autoload_with=connection)
    rows = connection.execute(
        sa.select(table.c.id, table.c.code, table.c.status)
        .where(table.c.status >= ARCHIVED)
        .order_by(table.c.code, table.c.status)
    ).all()
    changes = []
    previous_code, number = None, ARCHIVED
    for row_id, code, status in rows:
        if code != previous_code:
            previous_code, number = code, ARCHIVED
        if status != number:
            changes.append((row_id, code, status, number))
        number += 1
    return changes


def sequence_target(connection: sa.Connection, sequence_name: str, table_name: str) -> int | None:
    """The value a :class:`clio.Sequence` must be set to so that its next
    code is above every code in ``table_name``; None when it already is."""
    table = sa.Table(table_name, sa.MetaData(), autoload_with=connection)
    highest = connection.execute(sa.select(sa.func.max(table.c.code))).scalar()
    if highest is None:
        return None  # no codes yet: a fresh sequence starts at 1 anyway
    inspector = sa.inspect(connection)
    if inspector.has_table(sequence_name):
        columns = {c["name"] for c in inspector.get_columns(sequence_name)}
        if columns != {"id"}:
            raise MigrationError(
                f"{sequence_name!r} exists but is not a sequence table (one column, id)"
            )
        counter = sa.Table(sequence_name, sa.MetaData(), autoload_with=connection)
        current = connection.execute(sa.select(sa.func.max(counter.c.id))).scalar()
        if current is not None and current >= highest:
            return None
    return highest


# --- the runners (each takes the connection and an alembic Operations) --------


def _converter(name: str, present: list[str], zone) -> Callable:
    def run(connection, op):
        table = sa.Table(name, sa.MetaData(), autoload_with=connection)
        update = (
            table.update()
            .where(table.c.id == sa.bindparam("_id"))
            .values({c: sa.bindparam(f"_{c}") for c in present})
        )
        last = None
        while True:
            stmt = sa.select(table.c.id, *[table.c[c] for c in present]).order_by(table.c.id)
            if last is not None:
                stmt = stmt.where(table.c.id > last)
            rows = connection.execute(stmt.limit(BATCH_SIZE)).all()
            if not rows:
                break
            params = []
            for row in rows:
                values = {"_id": row[0]}
                for column_name, value in zip(present, row[1:]):
                    values[f"_{column_name}"] = _to_utc(value, zone)
                params.append(values)
            connection.execute(update, params)
            last = rows[-1][0]
        connection.execute(_marker_table().insert().values(tablename=name))

    return run


def _to_utc(value, zone):
    """A naive local time in ``zone`` as a naive UTC time.  Of an ambiguous
    local time (the hour repeated when summer time ends) the first is
    taken, as ``zoneinfo`` does with ``fold=0``."""
    if value is None:
        return None
    return value.replace(tzinfo=zone).astimezone(_tz.utc).replace(tzinfo=None)


def _renumberer(name: str, changes) -> Callable:
    def run(connection, op):
        table = sa.Table(name, sa.MetaData(), autoload_with=connection)
        update = (
            table.update()
            .where(table.c.id == sa.bindparam("_id"))
            .values(status=sa.bindparam("_status"))
        )
        for row_id, _code, _old, new in changes:
            connection.execute(update, {"_id": row_id, "_status": new})

    return run


def _add_column(column_name, type_, nullable) -> Callable:
    def run(op, batch):
        batch.add_column(sa.Column(column_name, type_, nullable=nullable))

    return run


def _retype(column_name: str, info) -> Callable:
    def run(op, batch):
        batch.alter_column(
            column_name,
            type_=UTCDateTime(),
            existing_type=info["type"],
            existing_nullable=info["nullable"],
            existing_server_default=info.get("default"),
            postgresql_using=f"{op.impl.dialect.identifier_preparer.quote(column_name)} "
            f"AT TIME ZONE 'UTC'",
        )

    return run


def _add_constraint(target: str) -> Callable:
    def run(op, batch):
        batch.create_unique_constraint(target, ["code", "status"])

    return run


def _rename_constraint(dialect: str, old: str, new: str) -> Callable:
    def run(op, batch):
        quote = op.impl.dialect.identifier_preparer.quote
        table = quote(batch.impl.table_name)
        if dialect == "postgresql":
            op.execute(f"ALTER TABLE {table} RENAME CONSTRAINT {quote(old)} TO {quote(new)}")
        elif dialect in ("mysql", "mariadb"):
            op.execute(f"ALTER TABLE {table} RENAME INDEX {quote(old)} TO {quote(new)}")
        else:
            batch.drop_constraint(old, type_="unique")
            batch.create_unique_constraint(new, ["code", "status"])

    return run


def _rename_index(dialect: str, old: str, new: str) -> Callable:
    def run(op, batch):
        quote = op.impl.dialect.identifier_preparer.quote
        if dialect == "postgresql":
            op.execute(f"ALTER INDEX {quote(old)} RENAME TO {quote(new)}")
        else:
            table = quote(batch.impl.table_name)
            op.execute(f"ALTER TABLE {table} RENAME INDEX {quote(old)} TO {quote(new)}")

    return run


def _drop_index(index_name: str) -> Callable:
    def run(op, batch):
        batch.drop_index(index_name)

    return run


def _create_index(index_name: str, columns: list[str]) -> Callable:
    def run(op, batch):
        batch.create_index(index_name, columns)

    return run


def _drop_marker(connection, op):
    if sa.inspect(connection).has_table(MARKER_TABLE):
        _marker_table().drop(connection)


def _sequence_runner(sequence_name: str, value: int) -> Callable:
    def run(engine):
        # Sequence creates its table on a connection of its own, so it gets
        # a session after the upgrade's transaction has ended.
        sequence = Sequence(sequence_name, sa.MetaData())
        sequence.table.create(engine, checkfirst=True)
        with Session(engine) as session:
            sequence.update(session, value)
            session.commit()

    return run


# --- running --------------------------------------------------------------------


def upgrade(
    engine: sa.Engine,
    tables: Iterable[str] | None = None,
    timezone: str | None = None,
    sequences: Iterable[tuple[str, str]] = (),
    dry_run: bool = False,
    out: TextIO | None = None,
) -> Plan:
    """Upgrade the Clio tables reached through ``engine``; see :func:`plan`
    for the arguments.  With ``dry_run`` nothing changes: the plan and the
    SQL of its schema steps are written to ``out`` (default: standard
    output).  Returns the plan that was (or would have been) carried out.
    """
    out = out if out is not None else sys.stdout
    sequences = list(sequences)
    with engine.connect() as connection:
        sqlite_fk = _sqlite_foreign_keys_off(connection)
        try:
            with _transaction(connection):
                the_plan = plan(connection, tables, timezone, sequences)
                if dry_run:
                    out.write(the_plan.describe() + "\n")
                    _run_steps(connection, the_plan, as_sql=True, out=out)
                    connection.rollback()
                    return the_plan
                _run_steps(connection, the_plan, as_sql=False, out=out)
                if sqlite_fk:
                    problems = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if problems:
                        raise MigrationError(f"foreign keys broken by the upgrade: {problems}")
        finally:
            if sqlite_fk:
                connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")
    for step in the_plan.steps:
        if step.kind == "sequence":
            step.run(engine)
    return the_plan


def _sqlite_foreign_keys_off(connection) -> bool:
    """Switch SQLite's foreign key enforcement off outside any transaction
    (inside one the pragma is ignored); True if it was on."""
    if connection.dialect.name != "sqlite":
        return False
    raw = connection.connection.driver_connection
    if raw.execute("PRAGMA foreign_keys").fetchone()[0]:
        raw.execute("PRAGMA foreign_keys=OFF")
        return True
    return False


class _transaction:
    """``connection.begin()``, plus a real BEGIN on pysqlite, whose own
    transaction handling would otherwise run DDL outside the transaction."""

    def __init__(self, connection):
        self.connection = connection

    def __enter__(self):
        self.transaction = self.connection.begin()
        if self.connection.dialect.name == "sqlite":
            raw = self.connection.connection.driver_connection
            if not raw.in_transaction:
                self.isolation = raw.isolation_level
                raw.isolation_level = None
                self.connection.exec_driver_sql("BEGIN")
        return self.transaction

    def __exit__(self, kind, value, tb):
        try:
            if not self.transaction.is_active:
                return None
            if kind is None:
                self.transaction.commit()
            else:
                self.transaction.rollback()
        finally:
            if hasattr(self, "isolation"):
                self.connection.connection.driver_connection.isolation_level = self.isolation
        return None


def _run_steps(connection, the_plan: Plan, as_sql: bool, out: TextIO) -> None:
    buffer = io.StringIO()
    opts = {"as_sql": True, "output_buffer": buffer} if as_sql else {}
    context = MigrationContext.configure(connection=connection, opts=opts)
    op = Operations(context)
    by_table: dict[str, list[Step]] = {}
    order: list[str] = []
    for step in the_plan.steps:
        if step.kind == "sequence":
            continue
        if step.table not in by_table:
            by_table[step.table] = []
            order.append(step.table)
        by_table[step.table].append(step)
    if not as_sql and any(step.marks for step in the_plan.steps):
        _marker_table().create(connection, checkfirst=True)
    # Data first, everywhere: the conversion must see the old naive types.
    for table in order:
        for step in by_table[table]:
            if step.kind == "data" and table != "*" and not as_sql:
                step.run(connection, op)
    for table in order:
        schema_steps = [s for s in by_table[table] if s.kind == "schema"]
        if not schema_steps:
            continue
        if the_plan.dialect == "sqlite":
            copy_from = sa.Table(table, sa.MetaData(), autoload_with=connection)
            with op.batch_alter_table(table, copy_from=copy_from) as batch:
                for step in schema_steps:
                    step.run(op, batch)
        else:
            batch = _Direct(op, table)
            for step in schema_steps:
                step.run(op, batch)
    for step in by_table.get("*", []):
        if not as_sql:
            step.run(connection, op)
    if as_sql and buffer.getvalue().strip():
        out.write(buffer.getvalue())


class _Direct:
    """The batch-operations interface, applied straight to one table: the
    runners are written once for SQLite's batch mode and the servers."""

    def __init__(self, op: Operations, table_name: str):
        self.op = op
        self.impl = self
        self.table_name = table_name

    def add_column(self, column):
        self.op.add_column(self.table_name, column)

    def alter_column(self, column_name, **kw):
        self.op.alter_column(self.table_name, column_name, **kw)

    def create_unique_constraint(self, name, columns):
        self.op.create_unique_constraint(name, self.table_name, columns)

    def drop_constraint(self, name, type_):
        self.op.drop_constraint(name, self.table_name, type_=type_)

    def create_index(self, name, columns):
        self.op.create_index(name, self.table_name, columns)

    def drop_index(self, name):
        self.op.drop_index(name, table_name=self.table_name)


# --- the command ------------------------------------------------------------------


def _url_from(target: str) -> str:
    """A database URL, or the ``sqlalchemy.url`` of a Pyramid ini file."""
    if not target.endswith(".ini"):
        url = sa.make_url(target)
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            if not os.path.isfile(url.database):
                raise MigrationError(f"no such SQLite database: {url.database}")
        return target
    if not os.path.isfile(target):
        raise MigrationError(f"no such ini file: {target}")
    here = os.path.dirname(os.path.abspath(target))
    parser = configparser.ConfigParser(defaults={"here": here})
    parser.read(target, encoding="utf-8")
    for section in parser.sections():
        if section.startswith("app:") and parser.has_option(section, "sqlalchemy.url"):
            return parser.get(section, "sqlalchemy.url")
    raise MigrationError(f"{target} has no sqlalchemy.url in an [app:...] section")


def _sequence_pair(text: str) -> tuple[str, str]:
    sequence_name, sep, table_name = text.partition("=")
    if not sep or not sequence_name or not table_name:
        raise argparse.ArgumentTypeError(f"expected SEQUENCE=TABLE, not {text!r}")
    return sequence_name, table_name


def main(argv: _Seq[str] | None = None) -> int:
    """``clio-migrate``: upgrade a Clio 0.6/0.7 database in place."""
    parser = argparse.ArgumentParser(
        prog="clio-migrate",
        description=(
            "Upgrade the tables of a database written by Clio 0.6 or 0.7 to "
            "the current clio schema, in place. Take a backup first."
        ),
    )
    parser.add_argument(
        "database",
        help="a SQLAlchemy database URL, or a Pyramid .ini file with sqlalchemy.url",
    )
    parser.add_argument(
        "-n",
        "--dry-run",
        action="store_true",
        help="print the plan and the SQL of the schema changes; change nothing",
    )
    parser.add_argument(
        "--timezone",
        metavar="ZONE",
        help="the time zone (e.g. Europe/Amsterdam) the old naive timestamps "
        "are in; they are converted to UTC (default: they are UTC already)",
    )
    parser.add_argument(
        "--table",
        action="append",
        metavar="NAME",
        dest="tables",
        help="upgrade only this table (repeatable; default: every Clio table)",
    )
    parser.add_argument(
        "--sequence",
        action="append",
        type=_sequence_pair,
        default=[],
        metavar="SEQUENCE=TABLE",
        help="set the clio.Sequence SEQUENCE to the highest code in TABLE, so "
        "that new codes do not collide with migrated ones (repeatable)",
    )
    args = parser.parse_args(argv)
    try:
        url = _url_from(args.database)
        engine = sa.create_engine(url)
    except (MigrationError, sa.exc.ArgumentError, ValueError) as error:
        print(f"clio-migrate: {error}", file=sys.stderr)
        return 2
    try:
        result = upgrade(
            engine,
            tables=args.tables,
            timezone=args.timezone,
            sequences=args.sequence,
            dry_run=args.dry_run,
        )
    except MigrationError as error:
        print(f"clio-migrate: {error}", file=sys.stderr)
        return 2
    except sa.exc.OperationalError as error:
        print(f"clio-migrate: cannot use the database: {error.orig}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    if not args.dry_run:
        print(result.describe())
        print("clio-migrate: done" if result else "clio-migrate: nothing to do")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
