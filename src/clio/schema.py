"""The columns clio adds to a versioned table.

Two ways to declare them: :func:`Table` for classical mapping (the Clio 0.7
spelling) and the declarative mixin ``clio.Workflowed``.  Both produce the
same columns, the ``(code, status)`` unique constraint that forbids two
published or two pending versions of one object, and the indexes that keep
published and as-of reads of one object fast however long its history is.
Constraint and index names carry the table name, since PostgreSQL wants them
unique per schema.
"""

from __future__ import annotations

import sqlalchemy as sa

from clio.timestamps import UTCDateTime

#: Columns managed by clio; everything else on a versioned table is the
#: application's ("user columns").
BOOKKEEPING_COLUMNS = (
    "id",
    "code",
    "status",
    "created_timestamp",
    "published_start_timestamp",
    "published_end_timestamp",
    "changed_timestamp",
    "created_userid",
    "published_userid",
    "changed_userid",
)


def workflow_columns() -> list[sa.Column]:
    """Fresh Column objects for clio's own columns, in table order."""
    return [
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("code", sa.Integer, nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("created_timestamp", UTCDateTime(), nullable=False),
        sa.Column("published_start_timestamp", UTCDateTime(), nullable=True),
        sa.Column("published_end_timestamp", UTCDateTime(), nullable=True),
        sa.Column("changed_timestamp", UTCDateTime(), nullable=True),
        sa.Column("created_userid", sa.Unicode(64), nullable=True),
        sa.Column("published_userid", sa.Unicode(64), nullable=True),
        sa.Column("changed_userid", sa.Unicode(64), nullable=True),
    ]


def workflow_constraints(tablename: str) -> tuple:
    """The unique constraint and indexes of a versioned table.

    ``(code, status)`` serves the published read of one object and makes a
    second published or pending version impossible; ``(code,
    published_start_timestamp)`` serves the as-of read (the two serve a
    transition's lock read of one object too); ``status`` and
    ``published_end_timestamp`` serve listings and the search for pending
    schedules.
    """
    return (
        sa.UniqueConstraint("code", "status", name=f"{tablename}_workflow"),
        sa.Index(f"ix_{tablename}_code_start", "code", "published_start_timestamp"),
        sa.Index(f"ix_{tablename}_status", "status"),
        sa.Index(f"ix_{tablename}_published_end", "published_end_timestamp"),
        sa.Index(f"ix_{tablename}_changed_userid", "changed_userid"),
    )


def Table(name: str, metadata: sa.MetaData, *columns, **kw) -> sa.Table:
    """A ``sqlalchemy.Table`` with clio's columns first, then the caller's.

    Keyword arguments (``mysql_engine='InnoDB'``, ...) pass through.
    """
    return sa.Table(
        name, metadata, *workflow_columns(), *columns, *workflow_constraints(name), **kw
    )
