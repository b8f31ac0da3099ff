"""Helpers shared by the scenario tests of reference §7."""

import sqlalchemy as sa


def column_values(obj) -> dict:
    return {prop.key: getattr(obj, prop.key) for prop in sa.inspect(type(obj)).column_attrs}


def db_statuses(session, cls, code) -> list[int]:
    """The statuses of every stored version of one object, from the database."""
    session.flush()
    return sorted(session.scalars(sa.select(cls.status).where(cls.code == code)))


def by_id(rows) -> list:
    return sorted(rows, key=lambda row: row.id)
