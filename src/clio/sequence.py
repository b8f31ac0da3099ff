"""``Sequence``: a portable generator for object codes.

Clio 0.7 used MySQL's ``LAST_INSERT_ID`` trick.  This one works the same on
SQLite, MariaDB and PostgreSQL: a one-row counter table (named as the
sequence, in the given metadata, as in 0.7) is incremented with ``UPDATE``
and read back in the caller's transaction.  The ``UPDATE`` row-locks the
counter, so concurrent callers get distinct values, and a rolled-back
transaction gives its number back.

The counter row is created on first use, under a database lock (an advisory
lock on PostgreSQL, a named lock on MariaDB), so two first callers cannot
both seed it.  The table itself is created on first use too, but creating
it together with the rest of the schema (``metadata.create_all``) is
better: on MariaDB, DDL commits, so it runs on a connection of its own.
"""

from __future__ import annotations

import zlib

import sqlalchemy as sa

from clio.session import mark_written


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
        # Engines on which the table is known to exist.  Only an
        # optimisation: forgetting it costs one catalogue look-up.
        self._table_seen: set = set()

    def __call__(self, session) -> int:
        """The next value; the first ever is 1."""
        increment = self.table.update().values(id=self.table.c.id + 1)
        return self._write(session, increment, read=True)

    def update(self, session, value: int) -> None:
        """Make the next call return ``value + 1`` (for migrated data)."""
        self._write(session, self.table.update().values(id=value), read=False)

    def reinitialize(self) -> None:
        """Check the table again on the next call (Clio 0.7 API; the counter
        row is re-created by itself whenever the table is empty)."""
        self._table_seen.clear()

    # -- internals ----------------------------------------------------------------

    def _prepare(self, session) -> sa.Connection:
        connection = session.connection()
        url = connection.engine.url
        if url not in self._table_seen:
            if not sa.inspect(connection).has_table(self.name):
                if _is_mariadb(connection):
                    # DDL commits on MariaDB: keep it off the caller's transaction.
                    with connection.engine.begin() as ddl:
                        self.table.create(ddl, checkfirst=True)
                else:
                    self.table.create(connection, checkfirst=True)
            self._table_seen.add(url)
        return connection

    def _write(self, session, statement, read: bool):
        connection = self._prepare(session)
        try:
            value = self._apply(connection, statement, read)
        except sa.exc.OperationalError as error:
            if not _is_mariadb(connection) or error.orig.args[0] != 1412:
                raise
            # The caller's transaction began before the table existed, and
            # InnoDB will not show it a table created later: take the value
            # in a transaction of its own (unique all the same, but a later
            # rollback of the caller does not give it back).
            with connection.engine.begin() as own:
                return self._apply(own, statement, read)
        mark_written(session)
        return value

    def _apply(self, connection, statement, read: bool):
        if _is_mariadb(connection):
            # Never UPDATE an empty InnoDB table: that takes a gap lock, and
            # a concurrent first caller's seed would wait on it while we
            # wait for its named lock.  A plain read decides instead.
            probe = sa.select(sa.func.count()).select_from(self.table)
            if not connection.execute(probe).scalar():
                self._seed(connection)
            connection.execute(statement)
        elif connection.execute(statement).rowcount == 0:
            self._seed(connection)
            connection.execute(statement)
        if not read:
            return None
        current = sa.select(sa.func.max(self.table.c.id))
        if _is_mariadb(connection):
            current = current.with_for_update()  # a current read, not the snapshot
        return connection.execute(current).scalar()

    def _seed(self, connection) -> None:
        """Insert the counter row (value 0) in the caller's transaction,
        under a lock so that of two first callers only one inserts."""
        key = zlib.crc32(f"clio.sequence.{self.name}".encode())
        mariadb = _is_mariadb(connection)
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
        elif mariadb:
            connection.execute(sa.text("SELECT GET_LOCK(:key, 60)"), {"key": f"clio_{key}"})
        try:
            probe = sa.select(self.table.c.id)
            if connection.dialect.name != "sqlite":
                probe = probe.with_for_update()
            if connection.execute(probe).first() is None:
                connection.execute(self.table.insert().values(id=0))
        finally:
            if mariadb:
                connection.execute(sa.text("SELECT RELEASE_LOCK(:key)"), {"key": f"clio_{key}"})


def _is_mariadb(connection) -> bool:
    return connection.dialect.name in ("mysql", "mariadb")
