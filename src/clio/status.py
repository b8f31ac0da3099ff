"""Workflow status codes and their groups.

The integer values are the ones Clio 0.7 stored, so a database written by
the original package keeps its meaning.  Archived versions have no single
status: every archive gets its own number from ``ARCHIVED`` upwards (per
object), so that the order of the archives of one object is its history.

The three *tombstone* statuses are clio's own (0.7 had no schedules).  A
deletion published for a future moment ``t`` does not remove the pending
deletion row, as an immediate deletion does: the row becomes a tombstone
with the empty validity interval ``[t, t)``, so that no reader ever sees it
and cancelling the schedule before ``t`` can give back the very row, with
its status, content and children.  A tombstone's ``published_userid`` keeps
the publisher of the version it deleted, whose own ``published_userid``
names the deleter from then on, as after an immediate deletion.
"""

from __future__ import annotations

NEW = 0
EDITABLE = 1
UPDATABLE = 2
DELETED = 3
DELETED_EDITABLE = 4
DELETED_UPDATABLE = 5
PUBLISHED = 6
PUBLISHED_UNDER_EDIT = 7
PUBLISHED_UNDER_UPDATE = 8
PUBLISHED_UNDER_DELETE = 9
TOMBSTONE = 10
TOMBSTONE_EDITABLE = 11
TOMBSTONE_UPDATABLE = 12
ARCHIVED = 1000

#: What the public sees: the live version of an object.
PUBLISHED_STATUSES = (
    PUBLISHED,
    PUBLISHED_UNDER_EDIT,
    PUBLISHED_UNDER_UPDATE,
    PUBLISHED_UNDER_DELETE,
)
#: Versions that stand for a pending deletion.
DELETED_STATUSES = (DELETED, DELETED_EDITABLE, DELETED_UPDATABLE)
#: Versions that have not been published yet and may still change.
NEW_VERSION_STATUSES = (
    NEW,
    EDITABLE,
    UPDATABLE,
    DELETED,
    DELETED_EDITABLE,
    DELETED_UPDATABLE,
)
#: Pending deletions carried out by a schedule, kept for its cancellation.
TOMBSTONE_STATUSES = (TOMBSTONE, TOMBSTONE_EDITABLE, TOMBSTONE_UPDATABLE)
#: The tombstone status that keeps each pending deletion status, and back.
TOMBSTONE_FOR = dict(zip(DELETED_STATUSES, TOMBSTONE_STATUSES))
DELETED_FOR = dict(zip(TOMBSTONE_STATUSES, DELETED_STATUSES))
#: What an editing interface shows: one version per live object.
EDITABLE_STATUSES = NEW_VERSION_STATUSES + (PUBLISHED,)
#: What the site will look like once everything pending is published.
ACTUAL_STATUSES = (NEW, EDITABLE, UPDATABLE, PUBLISHED)

#: The pending version that goes with each PUBLISHED_UNDER_* status.
PENDING_FOR = {
    PUBLISHED_UNDER_EDIT: (EDITABLE,),
    PUBLISHED_UNDER_UPDATE: (UPDATABLE,),
    PUBLISHED_UNDER_DELETE: DELETED_STATUSES,
}
#: The PUBLISHED_UNDER_* status that goes with each pending status.
PUBLISHED_FOR = {
    EDITABLE: PUBLISHED_UNDER_EDIT,
    UPDATABLE: PUBLISHED_UNDER_UPDATE,
    DELETED: PUBLISHED_UNDER_DELETE,
    DELETED_EDITABLE: PUBLISHED_UNDER_DELETE,
    DELETED_UPDATABLE: PUBLISHED_UNDER_DELETE,
}

_NAMES = {
    NEW: "new",
    EDITABLE: "editable",
    UPDATABLE: "updatable",
    DELETED: "deleted",
    DELETED_EDITABLE: "deleted_editable",
    DELETED_UPDATABLE: "deleted_updatable",
    PUBLISHED: "published",
    PUBLISHED_UNDER_EDIT: "published_under_edit",
    PUBLISHED_UNDER_UPDATE: "published_under_update",
    PUBLISHED_UNDER_DELETE: "published_under_delete",
    TOMBSTONE: "tombstone",
    TOMBSTONE_EDITABLE: "tombstone_editable",
    TOMBSTONE_UPDATABLE: "tombstone_updatable",
}
#: Every status name, in the order of the statuses (archives last).
STATUS_NAMES = tuple(_NAMES.values()) + ("archived",)


def is_archived_status(status: int) -> bool:
    return status is not None and status >= ARCHIVED


def is_tombstone_status(status: int) -> bool:
    return status in TOMBSTONE_STATUSES


def is_final_status(status: int) -> bool:
    """True for versions no transition changes any more: archives and
    tombstones (only cancelling their pending schedule does)."""
    return is_archived_status(status) or is_tombstone_status(status)


def is_known_status(status: object) -> bool:
    """True for the thirteen workflow statuses and any archive number."""
    return isinstance(status, int) and (status in _NAMES or status >= ARCHIVED)


def status_name(status: int) -> str:
    """The lower-case name used by the JSON API (``"archived"`` for archives)."""
    if is_archived_status(status):
        return "archived"
    try:
        return _NAMES[status]
    except KeyError:
        from clio.exceptions import UnknownStatusError

        raise UnknownStatusError(f"unknown workflow status {status!r}") from None
