"""``UTCDateTime`` and ``as_utc``: aware UTC out, UTC in, naive values
taken as UTC, on every dialect.

The conversions are on the path of every row clio reads (four timestamps
per version), so ``clio.timestamps`` does them with its own one-step
processors and without ``datetime.replace``; these tests pin down that the
fast paths give exactly what the plain ``process_bind_param`` /
``process_result_value`` path gives.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite

from clio.timestamps import UTCDateTime, as_utc

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
ETC_UTC = ZoneInfo("Etc/UTC")  # what psycopg hands back for a UTC session
NAIVE = datetime(2026, 3, 29, 1, 30, 5, 123456)
UTC_VALUE = NAIVE.replace(tzinfo=timezone.utc)
DIALECTS = {
    "sqlite": sqlite.dialect(),
    "mariadb": mysql.dialect(),
    "postgresql": postgresql.dialect(),
}


class Moment(datetime):
    """A datetime subclass, as pendulum or freezegun make."""


def processors(name):
    dialect = DIALECTS[name]
    impl = UTCDateTime().dialect_impl(dialect)
    return dialect, impl, impl.bind_processor(dialect), impl.result_processor(dialect, None)


def driver_value(name, value):
    """What the driver hands back for ``value`` (aware UTC)."""
    if name == "sqlite":
        return value.replace(tzinfo=None).isoformat(sep=" ")
    if name == "postgresql":
        return value.astimezone(ETC_UTC)
    return value.replace(tzinfo=None)


def assert_utc(value, expected):
    assert value == expected
    assert value.tzinfo is timezone.utc
    assert type(value) is datetime


# --- as_utc ----------------------------------------------------------------------


def test_as_utc_takes_naive_values_as_utc():
    assert_utc(as_utc(NAIVE), UTC_VALUE)


def test_as_utc_converts_other_zones():
    local = datetime(2026, 7, 1, 14, 0, tzinfo=AMSTERDAM)
    assert_utc(as_utc(local), datetime(2026, 7, 1, 12, 0, tzinfo=timezone.utc))
    assert_utc(as_utc(UTC_VALUE.astimezone(ETC_UTC)), UTC_VALUE)
    assert_utc(as_utc(UTC_VALUE.astimezone(timezone(timedelta(hours=-5)))), UTC_VALUE)


def test_as_utc_returns_a_utc_value_as_it_is():
    assert as_utc(UTC_VALUE) is UTC_VALUE


def test_as_utc_keeps_fold_and_subclasses():
    folded = NAIVE.replace(fold=1)
    assert as_utc(folded).fold == 1
    moment = Moment(2026, 1, 2, 3, 4, 5, 6)
    converted = as_utc(moment)
    assert type(converted) is Moment
    assert converted == Moment(2026, 1, 2, 3, 4, 5, 6, tzinfo=timezone.utc)


# --- the column type's processors --------------------------------------------------


@pytest.mark.parametrize("name", DIALECTS)
def test_results_are_aware_utc(name):
    dialect, impl, _, process = processors(name)
    assert process(None) is None
    assert_utc(process(driver_value(name, UTC_VALUE)), UTC_VALUE)
    # The generic TypeDecorator path gives the same.
    raw = driver_value(name, UTC_VALUE)
    impl_process = impl.impl_instance.result_processor(dialect, None)
    assert process(raw) == impl.process_result_value(
        impl_process(raw) if impl_process else raw, dialect
    )


@pytest.mark.parametrize("name", DIALECTS)
def test_naive_results_are_read_as_utc(name):
    """An old database (clio 0.7, or ``timestamp without time zone``)."""
    _, _, _, process = processors(name)
    raw = NAIVE.isoformat(sep=" ") if name == "sqlite" else NAIVE
    assert_utc(process(raw), UTC_VALUE)


@pytest.mark.parametrize("name", ["mariadb", "postgresql"])
def test_results_in_another_zone_are_converted(name):
    """(SQLite's driver hands back strings.)"""
    _, _, _, process = processors(name)
    local = datetime(2026, 7, 1, 14, 0, 0, 5, tzinfo=AMSTERDAM)
    assert_utc(process(local), datetime(2026, 7, 1, 12, 0, 0, 5, tzinfo=timezone.utc))


@pytest.mark.parametrize("name", DIALECTS)
@pytest.mark.parametrize(
    "value",
    [
        UTC_VALUE,
        NAIVE,
        datetime(2026, 7, 1, 14, 0, 0, 5, tzinfo=AMSTERDAM),
        UTC_VALUE.astimezone(ETC_UTC),
        Moment(2026, 1, 2, 3, 4, 5, 6, tzinfo=AMSTERDAM),
    ],
    ids=["utc", "naive", "amsterdam", "etc-utc", "subclass"],
)
def test_binds_are_utc(name, value):
    """PostgreSQL gets aware UTC, the others naive UTC (naive values are
    UTC already), after the dialect's own conversion: the same as the
    generic ``process_bind_param`` path."""
    dialect, impl, process, _ = processors(name)
    assert process(None) is None
    bound = process(value)
    impl_process = impl.impl_instance.bind_processor(dialect)
    generic = impl.process_bind_param(value, dialect)
    assert bound == (impl_process(generic) if impl_process else generic)
    expected = as_utc(value)
    if name == "postgresql":
        assert bound == expected and bound.tzinfo is timezone.utc
        assert type(bound) is type(value)
    elif name == "sqlite":
        assert bound == expected.replace(tzinfo=None).isoformat(sep=" ")
    else:
        assert bound == expected.replace(tzinfo=None)
        assert bound.tzinfo is None


# --- through the database -------------------------------------------------------------

stamps = sa.Table(
    "clio_test_stamps",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", UTCDateTime()),
)


def test_round_trip(connection):
    stamps.create(connection)
    local = datetime(2026, 7, 1, 14, 0, 0, 123456, tzinfo=AMSTERDAM)
    connection.execute(
        stamps.insert(),
        [dict(id=1, at=local), dict(id=2, at=NAIVE), dict(id=3, at=None)],
    )
    rows = dict(connection.execute(sa.select(stamps.c.id, stamps.c.at)).all())
    assert_utc(rows[1], local)
    assert_utc(rows[2], UTC_VALUE)
    assert rows[3] is None
    # Compared in SQL with a bound aware value.
    found = connection.execute(sa.select(stamps.c.id).where(stamps.c.at == local)).all()
    assert found == [(1,)]
