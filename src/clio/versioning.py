"""Reading the versions of an object: history, comparisons, diffs.

:class:`Versioned` is the default ``IVersioned`` adapter.  The functions
here only read; none of them changes a version.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import object_session
from zope.interface import implementer

from clio import status as st
from clio.exceptions import CompareError, DetachedVersionError
from clio.interfaces import IVersioned
from clio.relations import managed_relation, related

HISTORY_CREATE = "create"
HISTORY_PUBLISH = "publish"
HISTORY_EDIT = "edit"
HISTORY_CHANGE = "change"
HISTORY_DELETE = "delete"
HISTORY_EDIT_DELETE = "edit_delete"
HISTORY_ARCHIVE = "archive"

# At equal instants: archive before publish, edit before change.
_TIE_ORDER = {
    HISTORY_CREATE: 0,
    HISTORY_EDIT: 0,
    HISTORY_EDIT_DELETE: 0,
    HISTORY_CHANGE: 1,
    HISTORY_ARCHIVE: 2,
    HISTORY_DELETE: 2,
    HISTORY_PUBLISH: 3,
}


class HistoryEvent(NamedTuple):
    event_type: str
    timestamp: datetime
    version: object
    userid: str | None


def history(versions) -> list[HistoryEvent]:
    """The events told by ``versions``, sorted by full-precision timestamp.

    ``versions`` is one Clio-managed instance (the history of its whole
    object is told) or any iterable of versions of one or more objects: a
    list, ``clio.versions(...)``, ``session.scalars(select(Page))``.  At
    equal instants an archive comes before the publish that caused it and an
    edit before a change; remaining ties keep the versions' row order.
    """
    from clio.model import VersionMethods

    if isinstance(versions, VersionMethods):
        versions = Versioned(versions).versions()
    # A tombstone (a deletion carried out by a schedule) tells nothing the
    # archive it ended does not: the history reads as for a deletion made
    # at that moment.
    versions = [v for v in versions if not st.is_tombstone_status(v.status)]
    archives: dict = {}
    live_codes = set()
    for version in versions:
        key = (type(version), version.code)
        if st.is_archived_status(version.status):
            archives.setdefault(key, []).append(version.status)
        else:
            live_codes.add(key)
    events: list[HistoryEvent] = []
    for version in versions:
        key = (type(version), version.code)
        status = version.status
        older = archives.get(key, [])
        if status == st.NEW:
            events.append(
                HistoryEvent(HISTORY_CREATE, version.created_timestamp, version, version.created_userid)
            )
        elif status in (st.EDITABLE, st.UPDATABLE):
            events.append(
                HistoryEvent(HISTORY_EDIT, version.created_timestamp, version, version.created_userid)
            )
        elif status in st.DELETED_STATUSES:
            events.append(
                HistoryEvent(HISTORY_EDIT_DELETE, version.created_timestamp, version, version.created_userid)
            )
        elif status in st.PUBLISHED_STATUSES:
            kind = HISTORY_EDIT if older else HISTORY_CREATE
            events.append(HistoryEvent(kind, version.created_timestamp, version, version.created_userid))
            events.append(
                HistoryEvent(HISTORY_PUBLISH, version.published_start_timestamp, version, version.published_userid)
            )
        elif st.is_archived_status(status):
            kind = HISTORY_EDIT if any(s < status for s in older) else HISTORY_CREATE
            events.append(HistoryEvent(kind, version.created_timestamp, version, version.created_userid))
            if version.published_start_timestamp is not None:
                events.append(
                    HistoryEvent(HISTORY_PUBLISH, version.published_start_timestamp, version, version.published_userid)
                )
            last = key not in live_codes and not any(s > status for s in older)
            if version.published_end_timestamp is not None:
                if last:
                    events.append(
                        HistoryEvent(HISTORY_DELETE, version.published_end_timestamp, version, version.published_userid)
                    )
                else:
                    events.append(
                        HistoryEvent(HISTORY_ARCHIVE, version.published_end_timestamp, version, None)
                    )
        changed = version.changed_timestamp
        if changed is not None and changed > version.created_timestamp:
            events.append(HistoryEvent(HISTORY_CHANGE, changed, version, version.changed_userid))
    events.sort(
        key=lambda e: (e.timestamp, _TIE_ORDER[e.event_type], e.version.id or 0)
    )
    return events


def versions(session, cls, code: int) -> list:
    """Every version of object ``code`` of ``cls``, oldest first (by
    creation time, then row id).  A session-wide default view does not
    hide any: the statement carries ``clio.view('all')``."""
    from clio.model import check_code
    from clio.views import view

    check_code(code)
    return list(
        session.scalars(
            sa.select(cls)
            .where(cls.code == code)
            .order_by(cls.created_timestamp, cls.id)
            .options(view("all"))
        )
    )


class Comparison(NamedTuple):
    edited: list
    unchanged: list
    deleted: list


def compare_relation(version, name: str) -> Comparison:
    """Sort a relation's rows into edited, unchanged and deleted (Clio 0.7).

    Only EDITABLE, PUBLISHED_UNDER_EDIT and PUBLISHED versions compare; the
    editable side's relation is read when there is one.
    """
    prop = managed_relation(type(version), name)
    if version.status not in (st.EDITABLE, st.PUBLISHED_UNDER_EDIT, st.PUBLISHED):
        raise CompareError(
            f"compare_relation needs an editable or published version, not a "
            f"{st.status_name(version.status)} one"
        )
    side = version
    if version.status == st.PUBLISHED_UNDER_EDIT:
        from clio.workflow import sibling

        side = sibling(version, (st.EDITABLE,)) or version
    edited, unchanged, deleted = [], [], []
    for item in related(side, prop):
        if item.status == st.EDITABLE:
            edited.append(item)
        elif item.status == st.PUBLISHED:
            unchanged.append(item)
        elif item.status in st.DELETED_STATUSES:
            deleted.append(item)
    return Comparison(edited, unchanged, deleted)


@implementer(IVersioned)
class Versioned:
    """The default ``IVersioned`` adapter: read access to the versions of
    the context's object.  Its reads ignore any session-wide default view,
    since they say exactly which versions they want."""

    def __init__(self, context):
        self.context = context

    def _session(self):
        session = object_session(self.context)
        if session is None:
            raise DetachedVersionError("the version belongs to no session")
        return session

    def _cls(self):
        return sa.inspect(type(self.context)).base_mapper.class_

    def versions(self) -> list:
        return versions(self._session(), self._cls(), self.context.code)

    def history(self) -> list[HistoryEvent]:
        return history(self.versions())

    def _one(self, *criteria):
        from clio.views import view

        cls = self._cls()
        stmt = (
            sa.select(cls)
            .where(cls.code == self.context.code, *criteria)
            .options(view("all"))  # the criteria say it all
            .limit(1)
        )
        return self._session().scalars(stmt).first()

    def editable_version(self):
        return self._one(self._cls().status.in_(st.EDITABLE_STATUSES))

    def published_version(self):
        return self.as_of(self.context._now())

    def as_of(self, moment: datetime):
        """The version live at ``moment`` (aware), or None: one indexed
        read, as fast however long the object's history is (see
        :func:`clio.version_at`)."""
        from clio.reads import version_at

        return version_at(self._session(), self._cls(), self.context.code, moment)

    def diff(self, other) -> dict:
        from clio.diffing import diff

        return diff(self.context, other)
