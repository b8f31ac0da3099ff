"""``Sequence``: a portable generator for object codes.

Clio 0.7 used MySQL's ``LAST_INSERT_ID`` trick.  This one works the same on
SQLite, MariaDB and PostgreSQL: a one-row counter table (named as the
sequence, in the given metadata) is incremented with ``UPDATE`` and read
back in the caller's transaction.  The ``UPDATE`` row-locks the counter, so
concurrent callers get distinct values, and a rolled-back transaction gives
its number back.  Should two first callers both seed the empty table, the
rows move in step and ``max(id)`` is still right.
"""

from __future__ import annotations

import sqlalchemy as sa


class Sequence:
    """``Sequence(name, metadata)``; call it with a session for a new code."""

    def __init__(self, name: str, metadata: sa.MetaData):
        self.name = name
        self.table = sa.Table(
            name,
            metadata,
            sa.Column("id", sa.Integer, nullable=False),
            mysql_engine="InnoDB",
        )
        self._checked: set = set()

    def _connection(self, session):
        return session.connection()

    def _initialize(self, session) -> None:
        connection = self._connection(session)
        engine = connection.engine
        if engine.url in self._checked:
            return
        if not sa.inspect(connection).has_table(self.name):
            # DDL commits on MariaDB, so it gets a connection of its own.
            with engine.begin() as ddl:
                self.table.create(ddl, checkfirst=True)
        empty = connection.execute(sa.select(sa.func.count()).select_from(self.table)).scalar()
        if not empty:
            connection.execute(self.table.insert().values(id=0))
        self._checked.add(engine.url)

    def __call__(self, session) -> int:
        """The next value; the first ever is 1."""
        self._initialize(session)
        connection = self._connection(session)
        connection.execute(self.table.update().values(id=self.table.c.id + 1))
        _mark_changed(session)
        return connection.execute(sa.select(sa.func.max(self.table.c.id))).scalar()

    def update(self, session, value: int) -> None:
        """Make the next call return ``value + 1`` (for migrated data)."""
        self._initialize(session)
        self._connection(session).execute(self.table.update().values(id=value))
        _mark_changed(session)

    def reinitialize(self) -> None:
        """Forget that the table was checked, so an emptied table is seeded
        again on the next call."""
        self._checked.clear()


def _mark_changed(session) -> None:
    """Tell zope.sqlalchemy (when it manages the session) that Core SQL
    wrote something, so the transaction commits instead of rolling back."""
    try:
        from zope.sqlalchemy.datamanager import _SESSION_STATE, mark_changed
    except ImportError:  # pragma: no cover
        return
    if session in _SESSION_STATE:
        mark_changed(session)
