"""Views: which version of each object a query sees.

``clio.view('published')`` (``'editable'``, ``'actual'``, ``'archived'``,
``'all'``) and ``clio.view(as_of=moment)`` are ORM options::

    session.scalars(select(Page).options(clio.view(as_of=t)))

They are applied by a ``do_orm_execute`` hook on every :class:`Session`:
each time a statement runs, the hook turns the view into
``with_loader_criteria`` on every versioned class, so the criterion reaches
joins, joined eager loads, subqueries on mapped classes and, because the
option propagates to loaders, the lazy and ``selectin`` loads of objects
the statement returned.  ``'published'`` is ``as_of=now`` with "now" taken
from the entity's ``_now()`` *every time a statement runs* (a lazy load
later on re-reads the clock), so scheduled versions appear when their time
comes.

A session-wide default lives in ``session.info['clio.view']``; an explicit
option on a statement wins, and ``clio.view('all')`` switches views off for
one statement.  Statements run by clio's own transitions are never
filtered: the workflow must see every version.

Why relationship loads need more than a criterion: an *update* (as opposed
to an edit) does not copy the children; publishing it moves them from the
old parent row to the new one.  The archived parent row then has no
children at all, so "its paragraphs as of last week" would come back empty.
For the lazy ``select`` loader of a one-to-many relation between versioned
classes, the hook therefore rewrites ``child.fk = :parent_id`` into
``child.fk IN (SELECT id FROM parent WHERE code = :parent_code)``: the
children *of the object*, whichever of its rows they hang from, narrowed by
the view's own criterion to those live at the moment (or in the view's
statuses).  At any instant an object has exactly one live version, so this
gives each child once.  The ``'archived'`` view keeps the plain foreign-key
condition (a listing of archives is per row).  Other loader styles are
described in ``docs/modern.rst``.
"""

from __future__ import annotations

from datetime import datetime
from types import CodeType
from typing import Callable

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import LoaderCriteriaOption
from sqlalchemy.orm.interfaces import ONETOMANY, UserDefinedOption
from sqlalchemy.sql import operators, visitors
from sqlalchemy.sql.elements import BinaryExpression, BindParameter

from clio import status as st
from clio.classcache import class_cache
from clio.exceptions import ViewError
from clio.timestamps import as_utc

#: ``session.info`` key of the session-wide default view.
VIEW_KEY = "clio.view"
#: The named views.  ``'all'`` means "no filter" and exists so that one
#: statement can escape a session-wide default.
VIEW_NAMES = ("published", "editable", "actual", "archived", "all")


def live_at(cls, moment: datetime):
    """SQL criterion: the version was published at ``moment``.

    The validity interval is half-open, ``[start, end)``: at the instant a
    successor is published, the successor is the live one.
    """
    return sa.and_(
        cls.published_start_timestamp <= moment,
        sa.or_(
            cls.published_end_timestamp.is_(None),
            cls.published_end_timestamp > moment,
        ),
    )


def check_moment(moment: object, what: str = "as_of") -> datetime:
    """``moment`` as aware UTC, or :class:`ViewError` for anything else."""
    if not isinstance(moment, datetime):
        raise ViewError(f"{what} must be a datetime, not {moment!r}")
    if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:
        raise ViewError(
            f"{what} must be timezone-aware (a naive {moment.isoformat()} is "
            f"ambiguous); use e.g. datetime(..., tzinfo=timezone.utc)"
        )
    return as_utc(moment)


#: Annotation that marks the criteria a view made.
_MARK = "clio_view"


def _view_criteria(cls, criterion) -> LoaderCriteriaOption:
    """``with_loader_criteria`` made by a view, told apart from the
    application's own criteria by an annotation on its expression.

    It must propagate to loaders, or joined eager loads would ignore it;
    but a later lazy or selectin load wants *fresh* criteria ("now" is read
    again, and a running transition wants none), so the hook strips the
    propagated copies from relationship loads before adding its own.
    """
    return LoaderCriteriaOption(
        cls, criterion._annotate({_MARK: True}), include_aliases=True
    )


def _live_at_criteria(cls, moment: datetime) -> LoaderCriteriaOption:
    """The criterion of a timed view (``'published'``, ``as_of``) on
    ``cls``, as a *lambda* criterion.

    A statement runs with a new moment every time, so its criteria are made
    for every statement, for every versioned class mapped in the process.
    Built as expressions that cost about 50 µs per class (the ORM
    attributes' comparison machinery), most of a read through a view.  A
    lambda criterion is SQLAlchemy's own way for this: the lambda is
    analysed once (per code object, and called per entity when a statement
    is compiled), ``moment``, a closure variable, becomes a bound parameter
    whose value is taken from the closure each time, so making one costs a
    fifth and the compiled statement is still cached.  The lambda has the
    mapped class (or an alias of it) as its argument, never the unmapped
    base, so ``live_at`` finds the columns.

    A lambda criterion has no expression to annotate; the code object of
    this lambda (``_LIVE_AT_CODE``) marks it instead (``_is_view_criteria``).
    """
    return LoaderCriteriaOption(
        cls, lambda entity: live_at(entity, moment), include_aliases=True
    )


#: The code of :func:`_live_at_criteria`'s lambda, which marks its criteria.
_LIVE_AT_CODE = next(
    const for const in _live_at_criteria.__code__.co_consts if isinstance(const, CodeType)
)

#: The criterion of each status view.
_STATUS_CRITERIA = {
    "editable": lambda cls: cls.status.in_(st.EDITABLE_STATUSES),
    "actual": lambda cls: cls.status.in_(st.ACTUAL_STATUSES),
    "archived": lambda cls: cls.status >= st.ARCHIVED,
}


def _status_criteria(cls, name: str) -> LoaderCriteriaOption:
    """The criterion of the status view ``name`` on ``cls``.

    It holds no value that changes between statements, so it is made once
    and kept with the class (forgotten when the mappers are configured
    again) rather than made for every statement.
    """
    return class_cache(
        cls, f"clio.view:{name}", lambda: _view_criteria(cls, _STATUS_CRITERIA[name](cls))
    )


def _is_view_criteria(option) -> bool:
    if not isinstance(option, LoaderCriteriaOption):
        return False
    criterion = getattr(option, "where_criteria", None)
    if getattr(option, "deferred_where_criteria", False):
        fn = getattr(criterion, "fn", None)
        return getattr(fn, "__code__", None) is _LIVE_AT_CODE
    return bool(getattr(criterion, "_annotations", {}).get(_MARK))


def _without_view_criteria(statement):
    options = statement._with_options
    kept = tuple(o for o in options if not _is_view_criteria(o))
    if len(kept) == len(options):
        return statement
    statement = statement._generate()
    statement._with_options = kept
    return statement


class ViewOption(UserDefinedOption):
    """The ORM option returned by :func:`view`.

    It carries only the view's definition; the SQL is made when a statement
    runs (see :func:`_apply_view`), so that ``'published'`` can read the
    clock each time.
    """

    propagate_to_loaders = True

    def __init__(self, name: str | None = None, as_of: datetime | None = None):
        super().__init__(payload=(name, as_of))
        self.name = name
        self.as_of = as_of

    @property
    def is_timed(self) -> bool:
        """Whether the view selects by validity interval (published/as-of)."""
        return self.as_of is not None or self.name == "published"

    def criteria(self, now_of: Callable[[], datetime]) -> list:
        """``with_loader_criteria`` options for one statement, one per
        versioned class (empty for ``'all'``).  ``now_of`` gives "now" for
        ``'published'``.

        One option per mapped class rather than one lambda on the common
        base: a lambda criterion is analysed against the unmapped base
        class, which has no columns.  See :func:`_live_at_criteria` and
        :func:`_status_criteria` for what keeps them cheap.
        """
        if self.name == "all":
            return []
        classes = _mapped_versioned_classes()
        if self.is_timed:
            moment = self.as_of if self.as_of is not None else now_of()
            return [_live_at_criteria(cls, moment) for cls in classes]
        return [_status_criteria(cls, self.name) for cls in classes]

    def __eq__(self, other):
        return isinstance(other, ViewOption) and (self.name, self.as_of) == (
            other.name,
            other.as_of,
        )

    def __hash__(self):
        return hash((self.name, self.as_of))

    def __repr__(self):
        if self.as_of is not None:
            return f"clio.view(as_of={self.as_of.isoformat()!r})"
        return f"clio.view({self.name!r})"


def view(name: str | None = None, *, as_of: datetime | None = None) -> ViewOption:
    """An ORM option selecting the versions a statement sees.

    ``name`` is ``'published'`` (live now), ``'editable'`` (what an editor
    works on), ``'actual'`` (the site once everything pending is published,
    without pending deletions), ``'archived'`` or ``'all'`` (no filter).
    ``as_of`` (an aware datetime) gives the versions live at that instant.
    """
    if as_of is not None or name is None:
        if name not in (None, "published"):
            raise ViewError(f"as_of goes with the published view, not {name!r}")
        if as_of is None:
            raise ViewError("clio.view() needs a view name or as_of=")
        return ViewOption(None, check_moment(as_of))
    if name not in VIEW_NAMES:
        raise ViewError(f"unknown view {name!r}; use one of {', '.join(VIEW_NAMES)}")
    return ViewOption(name)


def _option_of(state) -> ViewOption | None:
    """The statement's own view option, else the session's default."""
    for option in state.user_defined_options:
        if isinstance(option, ViewOption):
            return option
    default = state.session.info.get(VIEW_KEY)
    if default is not None and not isinstance(default, ViewOption):
        raise ViewError(
            f"session.info[{VIEW_KEY!r}] must be a clio.view(...), not {default!r}"
        )
    return default


def _mapped_versioned_classes() -> list[type]:
    """The base class of every mapped versioned hierarchy."""
    from clio.model import _versioned_classes

    bases = {}
    for cls in _versioned_classes():
        base = sa.inspect(cls).base_mapper.class_
        bases[id(base)] = base
    return list(bases.values())


def _in_transition(session) -> bool:
    from clio.model import TRANSITION_KEY

    return session.info.get(TRANSITION_KEY, 0) > 0


def _loading_relationship(state):
    """The relationship a lazy load runs for, or None."""
    path = state.loader_strategy_path
    if path is None:
        return None
    prop = getattr(path, "prop", None)
    if prop is None:
        for element in reversed(getattr(path, "path", ())):
            if isinstance(element, sa.orm.RelationshipProperty):
                return element
        return None
    return prop if isinstance(prop, sa.orm.RelationshipProperty) else None


def _children_of_object(state, statement):
    """Rewrite a lazy one-to-many load so that it finds the children of the
    parent's *object* (every version of its code), not of one row.

    Returns the statement unchanged when the load is not a lazy one-to-many
    load between versioned classes with a single-column foreign key.
    """
    from clio.relations import is_versioned_class

    parent_state = state.lazy_loaded_from
    prop = _loading_relationship(state)
    if parent_state is None or prop is None or prop.direction is not ONETOMANY:
        return statement
    if prop.secondary is not None or len(prop.local_remote_pairs) != 1:
        return statement
    if not (is_versioned_class(prop.parent.class_) and is_versioned_class(prop.mapper.class_)):
        return statement
    code = parent_state.dict.get("code")
    if code is None:
        return statement
    parent_col, child_col = prop.local_remote_pairs[0]
    parent_table = parent_col.table
    ids = sa.select(parent_col).where(parent_table.c.code == code)
    replaced = []

    def swap(element):
        if (
            isinstance(element, BinaryExpression)
            and element.operator is operators.eq
        ):
            sides = (element.left, element.right)
            for column, other in (sides, sides[::-1]):
                if (
                    isinstance(other, BindParameter)
                    and isinstance(column, sa.Column)
                    and column.shares_lineage(child_col)
                ):
                    replaced.append(element)
                    return column.in_(ids)
        return None

    # Only the WHERE clause is rewritten (the lazy loader itself builds it
    # the same way); traversing the whole statement would clone its loader
    # options, which do not support that.
    criteria = tuple(
        visitors.replacement_traverse(criterion, {}, swap)
        for criterion in statement._where_criteria
    )
    if not replaced:
        return statement
    rewritten = statement._generate()
    rewritten._where_criteria = criteria
    return rewritten


@event.listens_for(Session, "do_orm_execute")
def _apply_view(state) -> None:
    """Apply the statement's view (or the session's default) to an ORM
    SELECT.  Column refreshes of loaded objects are left alone, and so are
    the loads made by clio's own transitions, which must see every
    version."""
    if not state.is_select or state.is_column_load:
        return
    statement = state.statement
    if state.is_relationship_load:
        statement = _without_view_criteria(statement)
    option = None if _in_transition(state.session) else _option_of(state)
    if option is None or option.name == "all":
        if statement is not state.statement:
            state.statement = statement
        return
    from clio.model import VersionMethods
    from clio.relations import is_versioned_class

    def now():
        mapper = state.bind_arguments.get("mapper")
        cls = mapper.class_ if mapper is not None else None
        return (cls if is_versioned_class(cls) else VersionMethods)._now()

    if state.is_relationship_load and option.name != "archived":
        statement = _children_of_object(state, statement)
    extra = option.criteria(now)
    if not any(o is option for o in state.user_defined_options):
        extra.append(option)  # so selectin/lazy loads see the same view
    state.statement = statement.options(*extra)
