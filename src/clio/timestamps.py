"""Timezone-aware UTC timestamps with microseconds on every database.

Clio 0.7 stored naive local times with one-second precision.  We store UTC
with microseconds (``DATETIME(6)`` on MariaDB, ``timestamptz`` on
PostgreSQL) and always hand timezone-aware values back; naive values found in
an old database are read as UTC.

Every version row carries four of these columns, so converting a value is
on the path of every row clio reads: a listing of a thousand versions
converts four thousand.  Two things keep that cheap (per value, from a
sixth of what SQLAlchemy's generic ``process_result_value`` path cost on
MariaDB's naive values to a half on PostgreSQL's aware ones, measured on
CPython 3.11):

* ``datetime.replace(tzinfo=...)`` is slow on CPython 3.11 (about 0.8 µs,
  it goes through keyword parsing and the type's constructor);
  ``datetime.combine(value.date(), value.time(), tz)`` builds the same
  value, ``fold`` included, in about a third of that;
* :class:`UTCDateTime` hands SQLAlchemy one function per value
  (:meth:`UTCDateTime.result_processor`, :meth:`UTCDateTime.bind_processor`)
  instead of the three nested calls a ``TypeDecorator`` makes by default,
  still after (or before) the dialect's own conversion.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import DateTime
from sqlalchemy.dialects import mysql, postgresql
from sqlalchemy.types import TypeDecorator

UTC = timezone.utc
_combine = datetime.combine


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Return ``value`` in UTC; naive values are taken to be UTC already.

    The result's ``tzinfo`` is ``datetime.timezone.utc``.  A value already
    in it is returned as it is (``astimezone`` does the same).  A subclass
    of ``datetime`` (pendulum, freezegun) keeps its type.
    """
    tz = value.tzinfo
    if tz is None:
        if type(value) is datetime:
            return _combine(value.date(), value.time(), UTC)
        return value.replace(tzinfo=UTC)
    if tz is UTC:
        return value
    return value.astimezone(UTC)


def _naive_utc(value: datetime) -> datetime:
    """``value`` as a naive datetime in UTC (naive values are UTC already)."""
    if value.tzinfo is None:
        return value
    value = value.astimezone(UTC)
    if type(value) is datetime:
        return _combine(value.date(), value.time())
    return value.replace(tzinfo=None)


class UTCDateTime(TypeDecorator):
    """A ``DateTime`` that stores UTC and returns aware datetimes.

    PostgreSQL gets aware values (``timestamptz``); SQLite and MariaDB,
    whose columns have no zone, get naive UTC.  Read back, naive values are
    taken as UTC and aware ones (psycopg gives the session's zone) are
    converted; the result is always in ``datetime.timezone.utc``.
    """

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.TIMESTAMP(timezone=True))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if dialect.name == "postgresql":
            return as_utc(value)
        return _naive_utc(value)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return as_utc(value)

    def bind_processor(self, dialect):
        """:meth:`process_bind_param`, then the dialect's own conversion,
        in one function per value (see the module docstring)."""
        impl_processor = self.impl_instance.bind_processor(dialect)
        convert = as_utc if dialect.name == "postgresql" else _naive_utc
        if impl_processor is None:

            def process(value):
                return None if value is None else convert(value)

        else:

            def process(value):
                return impl_processor(None if value is None else convert(value))

        return process

    def result_processor(self, dialect, coltype):
        """The dialect's own conversion, then :meth:`process_result_value`,
        in one function per value, :func:`as_utc` inlined (see the module
        docstring)."""
        impl_processor = self.impl_instance.result_processor(dialect, coltype)

        def process(value):
            if impl_processor is not None:
                value = impl_processor(value)
            if value is None:
                return None
            tz = value.tzinfo
            if tz is None:
                if type(value) is datetime:
                    return _combine(value.date(), value.time(), UTC)
                return value.replace(tzinfo=UTC)
            if tz is UTC:
                return value
            return value.astimezone(UTC)

        return process
