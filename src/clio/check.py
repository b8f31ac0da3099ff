"""A consistency checker for clio tables: ``clio.check`` and ``clio-check``.

clio promises that nothing published is lost or duplicated.  The engine keeps
that promise with row locks and atomic transitions; this module *verifies*
it on a live database, so that an operator can run it after an incident, a
migration or a hand-made repair, and so that the test-suite can assert it
after every random step.

It works on table level with SQLAlchemy Core, so it needs neither the
application's models nor clio's ORM machinery, and it reads rows with plain
statements (no ORM events, no default views).  The invariants, per ``code``
of one table (see ``docs/reliability.rst`` for the rationale):

``unknown_status``
    the status is none of the thirteen workflow statuses and below 1000.
``duplicate_status``
    two versions share a status (the ``(code, status)`` unique constraint
    forbids it; a table created without it may still have it).
``several_published``
    more than one version in a published status (6-9).
``several_pending``
    more than one version in a pending status (0-5).
``counterpart``
    a PUBLISHED_UNDER_* version without its pending version or the other
    way round: PUBLISHED_UNDER_EDIT exactly when EDITABLE,
    PUBLISHED_UNDER_UPDATE exactly when UPDATABLE, PUBLISHED_UNDER_DELETE
    exactly when a deleted status; a NEW version beside a published one.
``timestamps``
    a published version without ``published_start_timestamp`` or with a
    ``published_end_timestamp``; a pending version with either; an archived
    version without ``published_end_timestamp``; an interval that ends
    before it starts; a tombstone whose interval is not empty.
``tombstone``
    a tombstone (a deletion carried out by a schedule) beside a published or
    pending version, or without the archived version its deletion ended at
    its moment.
``archive_order``
    archive numbers of one code do not increase with
    ``published_end_timestamp``.
``overlap``
    two validity intervals ``[published_start, published_end)`` of one
    code overlap (an open end reaches to infinity).

And for every foreign key from a clio table to the ``id`` of a clio table
(a one-to-many relation between versioned classes; pivot tables of
many-to-many relations are plain tables and not checked):

``dangling_parent``
    the key points at no row.
``archived_parent``
    a live child (published or pending) points at an archived parent
    version: publishing the parent left it behind, it is lost to readers
    of the current tree.
``unpublished_parent``
    a child in a published status points at a parent version that is not
    in a published status (a pending or archived one), so the published
    tree does not contain it.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from clio import status as st
from clio.timestamps import as_utc

#: The columns a table must have to be checked as a clio table.
REQUIRED_COLUMNS = (
    "id",
    "code",
    "status",
    "published_start_timestamp",
    "published_end_timestamp",
)

#: Every kind of violation :func:`check_tables` reports.
KINDS = (
    "unknown_status",
    "duplicate_status",
    "several_published",
    "several_pending",
    "counterpart",
    "timestamps",
    "tombstone",
    "archive_order",
    "overlap",
    "dangling_parent",
    "archived_parent",
    "unpublished_parent",
)


@dataclass(frozen=True)
class Violation:
    """One broken invariant: which table, object, rule and versions."""

    table: str
    code: int | None
    kind: str
    message: str
    ids: tuple[int, ...] = field(default=())

    def __str__(self) -> str:
        ids = ",".join(str(i) for i in self.ids)
        return f"{self.table} code={self.code} [{self.kind}] {self.message} (ids {ids})"


def is_clio_table(table: sa.Table) -> bool:
    return all(name in table.c for name in REQUIRED_COLUMNS)


def _utc(value):
    """Compare naive (MariaDB, SQLite, reflected tables) and aware values
    alike: clio stores UTC, naive values are UTC."""
    if isinstance(value, datetime):
        return as_utc(value)
    return value


def _describe(status) -> str:
    if st.is_known_status(status):
        return st.status_name(status) if status < st.ARCHIVED else f"archived({status})"
    return f"unknown({status!r})"


# --- per code -------------------------------------------------------------------


@dataclass
class _Row:
    id: int
    code: int
    status: int
    start: datetime | None
    end: datetime | None


def _check_code(table: str, code: int, rows: list[_Row]) -> Iterator[Violation]:
    def violation(kind, message, versions):
        return Violation(table, code, kind, message, tuple(v.id for v in versions))

    known = [r for r in rows if st.is_known_status(r.status)]
    for row in rows:
        if row not in known:
            yield violation("unknown_status", f"status {row.status!r} is not a clio status", [row])

    by_status: dict[int, list[_Row]] = {}
    for row in rows:
        by_status.setdefault(row.status, []).append(row)
    for status, same in by_status.items():
        if len(same) > 1:
            yield violation(
                "duplicate_status", f"{len(same)} versions are {_describe(status)}", same
            )

    published = [r for r in known if r.status in st.PUBLISHED_STATUSES]
    pending = [r for r in known if r.status in st.NEW_VERSION_STATUSES]
    archived = sorted((r for r in known if st.is_archived_status(r.status)), key=lambda r: r.status)
    tombstones = [r for r in known if st.is_tombstone_status(r.status)]
    if len(published) > 1:
        names = ", ".join(_describe(r.status) for r in published)
        yield violation("several_published", f"{len(published)} published versions ({names})", published)
    if len(pending) > 1:
        names = ", ".join(_describe(r.status) for r in pending)
        yield violation("several_pending", f"{len(pending)} pending versions ({names})", pending)

    # PUBLISHED_UNDER_* exists exactly when its pending counterpart does.
    pending_statuses = {r.status for r in pending}
    published_statuses = {r.status for r in published}
    for row in published:
        wanted = st.PENDING_FOR.get(row.status)
        if wanted is not None and not pending_statuses & set(wanted):
            names = " or ".join(st.status_name(s) for s in wanted)
            yield violation(
                "counterpart", f"{_describe(row.status)} but no {names} version", [row]
            )
    for row in pending:
        if row.status == st.NEW:
            if published:
                yield violation(
                    "counterpart",
                    "a new version beside a published one",
                    [row] + published,
                )
            continue
        wanted = st.PUBLISHED_FOR[row.status]
        if wanted not in published_statuses:
            yield violation(
                "counterpart",
                f"{_describe(row.status)} but no {st.status_name(wanted)} version",
                [row] + published,
            )

    # Timestamps that go with the status.
    for row in published:
        if row.start is None:
            yield violation("timestamps", "published without published_start_timestamp", [row])
        if row.end is not None:
            yield violation(
                "timestamps", "published with a published_end_timestamp (an archived one?)", [row]
            )
    for row in pending:
        if row.start is not None or row.end is not None:
            yield violation("timestamps", f"{_describe(row.status)} with a validity interval", [row])
    for row in archived:
        if row.end is None:
            yield violation("timestamps", "archived without published_end_timestamp", [row])
    for row in tombstones:
        if row.start is None or row.start != row.end:
            yield violation("timestamps", f"{_describe(row.status)} with a non-empty interval", [row])
        if published or pending:
            yield violation(
                "tombstone",
                f"{_describe(row.status)} beside a published or pending version",
                [row] + published + pending,
            )
        elif row.start is not None and not any(r.end == row.start for r in archived):
            yield violation(
                "tombstone", f"{_describe(row.status)} without the archive its deletion ended", [row]
            )
    for row in published + archived:
        if row.start is not None and row.end is not None and row.end < row.start:
            yield violation("timestamps", "the validity interval ends before it starts", [row])

    # Archive numbers increase with the time of archiving.
    ended = [r for r in archived if r.end is not None]
    for older, newer in zip(ended, ended[1:]):
        if newer.end < older.end:
            yield violation(
                "archive_order",
                f"archive {newer.status} ended at {newer.end.isoformat()}, before "
                f"archive {older.status} ({older.end.isoformat()})",
                [older, newer],
            )

    # Validity intervals never overlap.
    timeline = sorted(
        (r for r in published + archived if r.start is not None),
        key=lambda r: (r.start, r.id),
    )
    for earlier, later in zip(timeline, timeline[1:]):
        if earlier.end is None or earlier.end > later.start:
            yield violation(
                "overlap",
                f"{_describe(earlier.status)} valid from {earlier.start.isoformat()} to "
                f"{earlier.end.isoformat() if earlier.end else 'open end'} overlaps "
                f"{_describe(later.status)} from {later.start.isoformat()}",
                [earlier, later],
            )


def _rows(connection: sa.Connection, table: sa.Table) -> Iterator[list[_Row]]:
    """The rows of ``table`` grouped by code, streamed in code order."""
    c = table.c
    stmt = sa.select(
        c.id, c.code, c.status, c.published_start_timestamp, c.published_end_timestamp
    ).order_by(c.code, c.id)
    group: list[_Row] = []
    for id_, code, status, start, end in connection.execute(stmt):
        if group and group[0].code != code:
            yield group
            group = []
        group.append(_Row(id_, code, status, _utc(start), _utc(end)))
    if group:
        yield group


# --- parents and children --------------------------------------------------------


def _parent_keys(table: sa.Table) -> Iterator[tuple[sa.Column, sa.Table]]:
    """(child column, parent table) for each foreign key to a clio ``id``."""
    for fk in table.foreign_keys:
        parent = fk.column.table
        if fk.column.name == "id" and isinstance(parent, sa.Table) and is_clio_table(parent):
            yield fk.parent, parent


def _check_children(connection: sa.Connection, table: sa.Table) -> Iterator[Violation]:
    archived = st.ARCHIVED
    published = list(st.PUBLISHED_STATUSES)
    for column, parent_table in _parent_keys(table):
        parent = parent_table.alias("clio_parent")
        child = table.alias("clio_child")
        fk = child.c[column.name]
        live = sa.and_(
            child.c.status < archived, child.c.status.not_in(st.TOMBSTONE_STATUSES)
        )
        stmt = (
            sa.select(
                child.c.id,
                child.c.code,
                child.c.status,
                fk,
                parent.c.id,
                parent.c.code,
                parent.c.status,
            )
            .select_from(child.outerjoin(parent, fk == parent.c.id))
            .where(
                fk.is_not(None),
                sa.or_(
                    parent.c.id.is_(None),
                    sa.and_(live, parent.c.status >= archived),
                    sa.and_(
                        child.c.status.in_(published), parent.c.status.not_in(published)
                    ),
                ),
            )
            .order_by(child.c.code, child.c.id)
        )
        where = f"{table.name}.{column.name} -> {parent_table.name}.id"
        for cid, ccode, cstatus, key, pid, pcode, pstatus in connection.execute(stmt):
            if pid is None:
                kind, text = "dangling_parent", f"{where}={key} points at no row"
            elif pstatus >= archived:
                kind = "archived_parent"
                text = (
                    f"{_describe(cstatus)} child, {where}={key} is an archived "
                    f"version of code {pcode}"
                )
            else:
                kind = "unpublished_parent"
                text = (
                    f"{_describe(cstatus)} child, {where}={key} is "
                    f"{_describe(pstatus)} (code {pcode})"
                )
            ids = (cid,) if pid is None else (cid, pid)
            yield Violation(table.name, ccode, kind, text, ids)


# --- entry points --------------------------------------------------------------------


def check_tables(connection: sa.Connection, tables: Iterable[sa.Table]) -> list[Violation]:
    """Every violation in ``tables`` (clio tables; others are skipped)."""
    found: list[Violation] = []
    for table in tables:
        if not is_clio_table(table):
            continue
        for rows in _rows(connection, table):
            found.extend(_check_code(table.name, rows[0].code, rows))
        found.extend(_check_children(connection, table))
    return found


def _tables_of(classes) -> list[sa.Table]:
    tables: list[sa.Table] = []
    for cls in classes:
        for table in sa.inspect(cls).tables:
            if isinstance(table, sa.Table) and table not in tables:
                tables.append(table)
    return tables


def check(session, cls=None, *, flush: bool = True) -> list[Violation]:
    """Check the invariants of ``cls``'s table (default: every versioned
    class clio knows) as ``session`` sees the database.

    The session is flushed first (``flush=False`` to skip that), so the
    answer covers what it would commit; the rows are read on the session's
    connection, inside its transaction, with Core statements that no view
    or ORM event filters.  Returns the violations, an empty list when all
    is well.
    """
    if flush:
        session.flush()
    if cls is None:
        from clio.model import _versioned_classes

        classes = list(_versioned_classes())
    elif isinstance(cls, type):
        classes = [cls]
    else:
        classes = list(cls)
    connection = session.connection()
    tables = _tables_of(classes)
    if cls is None:
        # Every class clio knows is mapped, but only some have their table
        # in this database.
        inspector = sa.inspect(connection)
        tables = [t for t in tables if inspector.has_table(t.name, schema=t.schema)]
    return check_tables(connection, tables)


# --- the command ------------------------------------------------------------------


def _resolve(dotted: str):
    """``package.module``, ``package.module:Name`` or ``package.module.Name``."""
    if ":" in dotted:
        module_name, _, attr = dotted.partition(":")
        obj = importlib.import_module(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
        return obj
    try:
        return importlib.import_module(dotted)
    except ImportError:
        module_name, _, attr = dotted.rpartition(".")
        if not module_name:
            raise
        return getattr(importlib.import_module(module_name), attr)


def tables_from(obj) -> list[sa.Table]:
    """The clio tables of a MetaData, a mapped class or a module (every
    MetaData and mapped class it defines)."""
    if isinstance(obj, sa.MetaData):
        return [t for t in obj.sorted_tables if is_clio_table(t)]
    if isinstance(obj, sa.Table):
        return [obj]
    if isinstance(obj, type):
        mapper = sa.inspect(obj, raiseerr=False)
        if mapper is None:
            raise ValueError(f"{obj!r} is not a mapped class")
        return [t for t in _tables_of([obj]) if is_clio_table(t)]
    tables: list[sa.Table] = []
    for value in vars(obj).values():
        if isinstance(value, sa.MetaData) or (
            isinstance(value, type) and sa.inspect(value, raiseerr=False) is not None
        ):
            for table in tables_from(value):
                if table not in tables:
                    tables.append(table)
    return tables


def _reflect(connection, names: Sequence[str] | None, schema: str | None) -> list[sa.Table]:
    metadata = sa.MetaData()
    inspector = sa.inspect(connection)
    available = set(inspector.get_table_names(schema=schema))
    if names:
        missing = [n for n in names if n not in available]
        if missing:
            raise LookupError(f"no such table: {', '.join(missing)}")
    # Reflect everything so that foreign keys find their parent tables.
    metadata.reflect(connection, schema=schema)
    tables = [t for t in metadata.sorted_tables if is_clio_table(t)]
    if names:
        tables = [t for t in tables if t.name in names]
        not_clio = set(names) - {t.name for t in tables}
        if not_clio:
            raise LookupError(f"not a clio table: {', '.join(sorted(not_clio))}")
    return tables


def main(argv: Sequence[str] | None = None) -> int:
    """``clio-check``: report every broken invariant; exit 1 if any."""
    parser = argparse.ArgumentParser(
        prog="clio-check",
        description=(
            "Check the clio tables of a database: at most one published and one "
            "pending version per code, matching PUBLISHED_UNDER_* counterparts, "
            "increasing archive numbers, non-overlapping validity intervals, "
            "children under the right parent versions, known statuses. Reads "
            "only. Exit status 0: all well, 1: violations, 2: could not check."
        ),
    )
    parser.add_argument("url", help="a SQLAlchemy database URL")
    parser.add_argument(
        "--table",
        action="append",
        dest="tables",
        metavar="NAME",
        help="check this table, found by reflection (repeatable)",
    )
    parser.add_argument(
        "--models",
        action="append",
        dest="models",
        metavar="DOTTED",
        help="check the clio tables of a module, MetaData or mapped class, e.g. "
        "myapp.models or myapp.models:metadata (repeatable)",
    )
    parser.add_argument("--schema", help="the schema to reflect (PostgreSQL)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only the summary")
    args = parser.parse_args(argv)

    try:
        engine = sa.create_engine(args.url)
    except Exception as error:  # a malformed URL or a missing driver
        print(f"clio-check: {error}", file=sys.stderr)
        return 2
    try:
        with engine.connect() as connection:
            tables: list[sa.Table] = []
            for dotted in args.models or ():
                for table in tables_from(_resolve(dotted)):
                    if table not in tables:
                        tables.append(table)
            if args.tables or not args.models:
                tables += _reflect(connection, args.tables, args.schema)
            violations = check_tables(connection, tables)
    except (ImportError, AttributeError, ValueError, LookupError, sa.exc.SQLAlchemyError) as error:
        print(f"clio-check: {error}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    if not args.quiet:
        for violation in violations:
            print(violation)
    names = ", ".join(t.name for t in tables) or "no clio tables"
    print(f"clio-check: {len(violations)} violation(s) in {len(tables)} table(s) ({names})")
    return 1 if violations else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
