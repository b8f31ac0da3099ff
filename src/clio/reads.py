"""The indexed read of one object's version at a moment.

``clio.view(as_of=t)`` (and ``'published'``, which is ``as_of=now``) is a
loader criterion, ``start <= t AND (end IS NULL OR end > t)``: right for
listings, joins and relationship loads, but for *one* object the database
has to visit every version of it that started before ``t``, which grows
with the object's history.  A loader criterion cannot add ``ORDER BY`` or
``LIMIT``, so it cannot say "the latest one" either.

:func:`version_at` asks for exactly one row instead::

    SELECT ... FROM t WHERE t.code = :code
      AND t.published_start_timestamp = (
        SELECT max(published_start_timestamp) FROM t AS earlier
        WHERE earlier.code = :code AND earlier.published_start_timestamp <= :moment)
      AND (t.published_end_timestamp IS NULL OR t.published_end_timestamp > :moment)

The subquery is uncorrelated (the code is a bound parameter), so it runs
once, as one probe of the ``(code, published_start_timestamp)`` index from
the moment backwards; the outer query is an equality on both columns of
that index and finds a handful of rows at most.  The end filter then keeps
the live one, or none when the object was deleted or expired before the
moment.  Zero-length intervals ``[t, t)`` (never live) are dropped by the
same filter.  Validity intervals are half-open: at the instant ``end`` of
one version its successor is the live one.

Why not ``ORDER BY published_start_timestamp DESC LIMIT 1`` with both
conditions in the ``WHERE``: after a deletion no row qualifies, and the
database walks the whole history backwards to find that out.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from clio.classcache import class_cache
from clio.model import check_code
from clio.relations import is_versioned_class
from clio.views import check_moment, view

V = TypeVar("V")

__all__ = ["version_at"]


#: :func:`clio.classcache.class_cache` key of :func:`_statement`.
_CACHE_KEY = "clio.reads.version_at"


def _statement(cls: type) -> sa.Select:
    """The SELECT of :func:`version_at` for ``cls``, made once per class.

    The code and the moment are bound parameters without values
    (``clio_code``, ``clio_moment``), given when the statement runs.  The
    statement itself never changes, so it is built once and kept with the
    class (forgotten when SQLAlchemy configures mappers again): building
    it cost more than running it, and SQLAlchemy memoizes the cache key of
    a statement object, so a reused one finds its compiled form without
    walking the statement again.  A fresh statement per call cost about
    half of a read on SQLite.
    """
    return class_cache(cls, _CACHE_KEY, lambda: _build_statement(cls))


def _build_statement(cls: type) -> sa.Select:
    """Build :func:`_statement`.

    The conditions are on the base mapper's table: for a subclass (single-
    or joined-table inheritance) the history lives there.  The subquery
    reads that table under an alias of its own, a light copy holding only
    the two columns it needs, so that it is visibly uncorrelated.
    """
    columns = sa.inspect(cls).base_mapper.columns
    code_column = columns["code"]
    start = columns["published_start_timestamp"]
    end = columns["published_end_timestamp"]
    table = start.table
    earlier = sa.table(
        table.name,
        sa.column(code_column.name, code_column.type),
        sa.column(start.name, start.type),
        schema=table.schema,
    ).alias("clio_earlier")
    earlier_start = earlier.c[start.name]
    # One parameter each, used twice.
    code_param = sa.bindparam("clio_code", type_=code_column.type)
    moment_param = sa.bindparam("clio_moment", type_=start.type)
    latest = (
        sa.select(sa.func.max(earlier_start))
        .where(earlier.c[code_column.name] == code_param, earlier_start <= moment_param)
        .scalar_subquery()
    )
    return (
        sa.select(cls)
        .where(
            code_column == code_param,
            start == latest,
            sa.or_(end.is_(None), end > moment_param),
        )
        # One row in a consistent table; should it ever hold two live
        # versions, the lowest status wins, as in the JSON API's reads.
        .order_by(columns["status"])
        .limit(1)
        # The conditions say exactly which version: a session-wide default
        # view must not add its own.
        .options(view("all"))
    )


def version_at(
    session: Session, cls: type[V], code: int, moment: datetime | None = None
) -> V | None:
    """The version of object ``code`` of ``cls`` live at ``moment``, or None.

    ``moment`` is an aware datetime; None means now, read from
    ``cls._now()``, which gives the published version (schedules resolve
    as the views resolve them).  None is returned for a moment before the
    object's first publication, after its deletion or expiry, for an
    object never published and for an unknown code.

    The result is what ``select(cls).where(cls.code == code)
    .options(clio.view(as_of=moment))`` finds, in one statement that stays
    as fast at a million stored versions as at a thousand (see the module
    docstring); a session-wide default view is ignored.  Raises
    :class:`clio.ViewError` for a naive moment or one that is not a
    datetime, and :class:`clio.InvalidCodeError` for a code that is not an
    integer.
    """
    if not is_versioned_class(cls):
        raise TypeError(f"{cls!r} is not a versioned class")
    check_code(code)
    moment = check_moment(cls._now() if moment is None else moment, "moment")
    params = {"clio_code": code, "clio_moment": moment}
    return session.scalars(_statement(cls), params).first()
