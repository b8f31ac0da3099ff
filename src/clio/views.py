"""Views: which version of each object a query sees.

``clio.view('published')`` (``'editable'``, ``'actual'``, ``'archived'``) and
``clio.view(as_of=moment)`` are ORM options.  They become
``with_loader_criteria`` on every versioned class when the statement runs,
so they also govern relationship loads: children come as they were at the
same moment.  ``'published'`` is ``as_of=now``, with "now" taken from the
class's ``_now()`` each time a statement runs, so scheduled versions appear
when their time comes.  A session-wide default goes in
``session.info['clio.view']``; an explicit option on a statement wins.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session, with_loader_criteria
from sqlalchemy.orm.interfaces import UserDefinedOption

from clio import status as st
from clio.exceptions import ViewError
from clio.timestamps import as_utc

VIEW_KEY = "clio.view"
VIEW_NAMES = ("published", "editable", "actual", "archived")


def live_at(cls, moment: datetime):
    """SQL criterion: the version was published at ``moment`` (half-open)."""
    return sa.and_(
        cls.published_start_timestamp <= moment,
        sa.or_(
            cls.published_end_timestamp.is_(None),
            cls.published_end_timestamp > moment,
        ),
    )


class ViewOption(UserDefinedOption):
    """The option returned by :func:`view`."""

    propagate_to_loaders = True

    def __init__(self, name: str | None = None, as_of: datetime | None = None):
        super().__init__(payload=(name, as_of))
        self.name = name
        self.as_of = as_of

    def criteria(self, now_of):
        from clio.model import VersionMethods

        if self.name == "published" or self.as_of is not None:
            moment = self.as_of if self.as_of is not None else now_of()
            return with_loader_criteria(
                VersionMethods,
                lambda cls: sa.and_(
                    cls.published_start_timestamp <= moment,
                    sa.or_(
                        cls.published_end_timestamp.is_(None),
                        cls.published_end_timestamp > moment,
                    ),
                ),
                include_aliases=True,
            )
        if self.name == "editable":
            return with_loader_criteria(
                VersionMethods,
                lambda cls: cls.status.in_(st.EDITABLE_STATUSES),
                include_aliases=True,
            )
        if self.name == "actual":
            return with_loader_criteria(
                VersionMethods,
                lambda cls: cls.status.in_(st.ACTUAL_STATUSES),
                include_aliases=True,
            )
        return with_loader_criteria(
            VersionMethods,
            lambda cls: cls.status >= st.ARCHIVED,
            include_aliases=True,
        )

    def __repr__(self):
        if self.as_of is not None:
            return f"clio.view(as_of={self.as_of.isoformat()!r})"
        return f"clio.view({self.name!r})"


def view(name: str | None = None, *, as_of: datetime | None = None) -> ViewOption:
    """An ORM option selecting the versions a statement sees."""
    if as_of is not None:
        if name not in (None, "published"):
            raise ViewError("as_of goes with the published view only")
        if not isinstance(as_of, datetime):
            raise ViewError(f"as_of must be a datetime, not {as_of!r}")
        if as_of.tzinfo is None or as_of.tzinfo.utcoffset(as_of) is None:
            raise ViewError("as_of must be timezone-aware")
        return ViewOption(None, as_utc(as_of))
    if name not in VIEW_NAMES:
        raise ViewError(f"unknown view {name!r}; use one of {', '.join(VIEW_NAMES)}")
    return ViewOption(name)


def _option_of(state):
    for option in state.user_defined_options:
        if isinstance(option, ViewOption):
            return option, True
    default = state.session.info.get(VIEW_KEY)
    if default is not None and not isinstance(default, ViewOption):
        raise ViewError(f"session.info[{VIEW_KEY!r}] must be a clio.view(...)")
    return default, False


@event.listens_for(Session, "do_orm_execute")
def _apply_view(state):
    if not state.is_select or state.is_column_load:
        return
    option, explicit = _option_of(state)
    if option is None:
        return
    if state.is_relationship_load and explicit:
        return  # the criteria came along from the statement that loaded the parent
    from clio.model import VersionMethods

    def now():
        entity = state.bind_arguments.get("mapper")
        cls = entity.class_ if entity is not None else VersionMethods
        return cls._now()

    extra = [option.criteria(now)]
    if not explicit:
        extra.append(option)  # mark relationship loads as already covered
    state.statement = state.statement.options(*extra)
