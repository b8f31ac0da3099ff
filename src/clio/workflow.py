"""The transitions: publish, edit, update, delete, revert, discard, expire.

:class:`Workflow` is the default ``IWorkflowed`` adapter.  Each public call
is one *run*: it takes one timestamp, asks for the user id at most once,
locks the object's live versions (``SELECT ... FOR UPDATE`` on MariaDB and
PostgreSQL, so concurrent transitions on one object serialise), and then
dispatches on the version's status as Clio 0.7 did, with the corrections of
SPEC §3.3.  All checks that can fail run before the first change, so a
transition that raises has changed nothing.

The functions below take the run first (:class:`clio.run.Run`); recursion
into children and delegation between the versions of one object stay
inside the run, so the lock, the clock and the user are shared.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import object_session
from zope.interface import implementer

from clio import status as st
from clio.copies import content_keys, make_copies
from clio.exceptions import (
    ConflictError,
    DeleteError,
    EditError,
    ExpireError,
    PublishError,
    ScheduleError,
    UpdateError,
)
from clio import events
from clio.events import notify
from clio.interfaces import IWorkflowed
from clio.model import transition
from clio.relations import attach, load_children, move, related, relations_of, unlink
from clio.run import Run
from clio.timestamps import as_utc
from clio.userid import current_userid

def start(run, version, cancelling=False) -> None:
    """Flush, lock the object's live versions and check for a race or a
    pending schedule, before the transition proper."""
    run.session.flush()
    seen = version.__dict__.get("status")
    run.versions(version)
    if seen is not None and version.status != seen:
        raise ConflictError(
            f"{type(version).__name__} code={version.code} was changed by another "
            f"transaction (now {st.status_name(version.status)}); reload and retry"
        )
    # Read the clock again once the lock is ours: a transaction we waited
    # for may have published at a moment later than our first reading.
    run.now = type(version)._now()
    check_schedule(run, version, cancelling)


def check_at(version, at) -> datetime | None:
    """Validate a scheduling moment: None, or aware and in the future."""
    if at is None:
        return None
    if not isinstance(at, datetime):
        raise ScheduleError(f"at must be a datetime, not {at!r}")
    if at.tzinfo is None or at.tzinfo.utcoffset(at) is None:
        raise ScheduleError("at must be timezone-aware")
    at = as_utc(at)
    if at <= type(version)._now():
        raise ScheduleError(f"at={at.isoformat()} is not in the future")
    return at


def pending_schedule(run, version) -> list:
    """The versions of the object whose start or end lies in the future."""
    found = []
    for other in run.versions(version):
        start, end = other.published_start_timestamp, other.published_end_timestamp
        if (start is not None and start > run.now) or (
            end is not None and end > run.now
        ):
            found.append(other)
    return found


def check_schedule(run, version, cancelling=False) -> None:
    scheduled = pending_schedule(run, version)
    if not scheduled:
        return
    if cancelling and any(version is other for other in scheduled):
        owner = scheduling_parent(run, version)
        if owner is not None:
            raise ScheduleError(
                f"{type(version).__name__} code={version.code} is scheduled as "
                f"part of {type(owner).__name__} code={owner.code}; revert() or "
                f"discard() that to cancel the schedule"
            )
        run.cancelling = True
        return
    raise ScheduleError(
        f"{type(version).__name__} code={version.code} has a pending "
        f"schedule; revert() or discard() the scheduled version first"
    )


def scheduling_parent(run, version):
    """The parent version whose schedule ``version``'s is part of, or None.

    Publishing, expiring or deleting an object by schedule does the same to
    its children at the same moment; a child cannot have one of its own
    then (its transitions are refused), so a parent with a pending change
    at the child's moment made the child's.  Cancelling goes through that
    parent, or the tree would be left half scheduled."""
    start, end = version.published_start_timestamp, version.published_end_timestamp
    moment = start if start is not None and start > run.now else end
    for prop in relations_of(type(version)).many_to_one:
        parent = getattr(version, prop.key)
        if parent is not None and moment in (
            parent.published_start_timestamp,
            parent.published_end_timestamp,
        ):
            return parent
    return None


def check_tree_schedules(run, roots, step=None) -> None:
    """Refuse, before any change, a transition whose walk down the tree
    would meet a child with a pending schedule of its own (its interval
    would end before it starts), or a schedule that could not be cancelled
    exactly (see :func:`check_cancellable`).

    ``roots`` are the versions transitioned (one, or a bulk batch).  The
    walk goes level by level over all their trees, and it prepares what
    the transition will need: one query per relation loads the level's
    collections, one per class locks the children, and before a publish
    one more reads their archive numbers."""
    level, seen = [], set()
    for root in roots:
        for version in run.versions(root):
            if id(version) not in seen:
                seen.add(id(version))
                level.append(version)
    while level:
        run.lock_children(level)
        load_children(level)  # what lock_children leaves (many-to-many)
        pairs = [
            (parent, child)
            for parent in level
            for _prop, child in children(parent)
            if id(child) not in seen and not run.is_gone(child)
        ]
        if not pairs:
            return
        run.prefetch([child for _parent, child in pairs], archives=step is publish)
        if run.at is not None and step is publish:
            check_edit_tells(pairs)
        kids = []
        for parent, child in pairs:
            if id(child) in seen:
                continue
            seen.add(id(child))
            kids.append(child)
            if pending_schedule(run, child):
                raise ScheduleError(
                    f"{type(child).__name__} code={child.code}, below "
                    f"{type(parent).__name__} code={parent.code}, has a pending "
                    f"schedule; revert() or discard() it first"
                )
            if run.at is not None:
                check_cancellable(step, parent, child)
        level = kids


def check_edit_tells(pairs) -> None:
    """Refuse to schedule an edit whose publication would move *every*
    child of the published version over unchanged (the edit's copies of
    them all discarded): the published version would be left without
    children, exactly as after an update, and a cancellation could not
    tell which of the two to give back."""
    below: dict = {}
    for parent, child in pairs:
        if parent.status == st.PUBLISHED_UNDER_EDIT:
            below.setdefault(id(parent), (parent, []))[1].append(child)
    for parent, kids in below.values():
        if all(child.status == st.PUBLISHED for child in kids):
            raise ScheduleError(
                f"the edit of {type(parent).__name__} code={parent.code} has no "
                f"version of any of its children (their edits were discarded); "
                f"a cancelled schedule could not tell it from an update. Discard "
                f"the edit and edit again, or publish now"
            )


#: What may hang below a pending deletion (or the version it deletes) when
#: the deletion is scheduled: every other status would have to be deleted
#: first, and that could not be undone exactly by cancelling.
_UNDER_DELETION = frozenset(st.DELETED_STATUSES + (st.PUBLISHED_UNDER_DELETE,))


def check_cancellable(step, parent, child) -> None:
    """A schedule must be cancellable to the exact state before it (SPEC
    §3.4), so a scheduled transition refuses trees where carrying it out
    would destroy pending work or move it beyond recall: an expiry discards
    the pending versions below the object, a deletion deletes whatever
    joined its tree after it was requested, and an edit adopts pending
    versions attached to the published version meanwhile (nothing tells
    them from the edit's own afterwards).  Done now, all are fine; they only
    cannot be scheduled, and the error says what to do first."""
    what = f"{type(child).__name__} code={child.code}"
    if step is expire and child.status in st.NEW_VERSION_STATUSES:
        raise ScheduleError(
            f"{what} below is {st.status_name(child.status)}; an expiry would "
            f"discard it, which a cancelled schedule could not undo. Publish or "
            f"discard it first, or expire now"
        )
    if (
        step is publish
        and parent.status == st.PUBLISHED_UNDER_EDIT
        and child.status in st.NEW_VERSION_STATUSES
    ):
        raise ScheduleError(
            f"{what} ({st.status_name(child.status)}) was attached to the "
            f"published {type(parent).__name__} code={parent.code} while its "
            f"edit was pending; attach it to the edit, or publish now"
        )
    if (
        step is publish
        and parent.status in _UNDER_DELETION
        and child.status not in _UNDER_DELETION
        and not st.is_final_status(child.status)
    ):
        raise ScheduleError(
            f"{what} ({st.status_name(child.status)}) joined the tree of the "
            f"deletion of {type(parent).__name__} code={parent.code} after it "
            f"was requested; delete or revert it before scheduling the deletion"
        )


# --- building blocks --------------------------------------------------------


def reset_content(run, version, source) -> None:
    """Give ``version`` the content of ``source`` again (revert)."""
    for key in content_keys(type(version)):
        setattr(version, key, getattr(source, key))
    run.write(
        version,
        published_start_timestamp=None,
        published_end_timestamp=None,
        published_userid=None,
        created_timestamp=run.now,
        created_userid=run.userid,
    )


def archive(run, version, moment) -> None:
    run.write(version, status=run.next_archive_status(version), published_end_timestamp=moment)
    run.archived.append(version)


def make_published(run, version) -> None:
    run.write(
        version,
        status=st.PUBLISHED,
        published_start_timestamp=run.moment,
        published_end_timestamp=None,
        published_userid=run.userid,
    )
    run.published.append(version)


def children(version):
    """(relation, child) for every one-to-many child, whatever its status."""
    for prop in relations_of(type(version)).one_to_many:
        for child in related(version, prop):
            yield prop, child


def remove(run, version) -> None:
    """Delete a version that was never published, and its children."""
    for prop, child in list(children(version)):
        if not run.is_gone(child):
            unlink(version, prop, child)
            remove(run, child)
    run.removed.add(id(version))
    state = sa.inspect(version)
    for prop in relations_of(type(version)).many_to_one:
        parent = getattr(version, prop.key)
        if parent is None:
            continue
        for reverse in relations_of(type(parent)).one_to_many:
            if isinstance(version, reverse.mapper.class_):
                unlink(parent, reverse, version)
    if state.pending:
        run.session.expunge(version)
    elif state.persistent:
        run.session.delete(version)


def check_parents(version) -> None:
    """A version can only be published on its own under a published parent."""
    for prop in relations_of(type(version)).many_to_one:
        parent = getattr(version, prop.key)
        if parent is not None and parent.status not in st.PUBLISHED_STATUSES:
            raise PublishError(
                f"cannot publish {type(version).__name__} code={version.code}: "
                f"its parent {type(parent).__name__} code={parent.code} is "
                f"{st.status_name(parent.status)}, not published"
            )


# --- publish ------------------------------------------------------------------


def publish(run, version, as_part=False):
    status = version.status
    if status == st.PUBLISHED:
        return version
    if status in st.PENDING_FOR:
        pending = run.required_counterpart(version, st.PENDING_FOR[status])
        return publish(run, pending, as_part)
    if st.is_final_status(status):
        raise PublishError(
            f"{type(version).__name__} code={version.code} is "
            f"{st.status_name(status)} and cannot be published again"
        )
    if not as_part:
        check_parents(version)
    if status == st.NEW:
        make_published(run, version)
        publish_children(run, version)
        return version
    if status == st.EDITABLE:
        previous = run.required_counterpart(version, (st.PUBLISHED_UNDER_EDIT,))
        adopt_children(run, previous, version)
        archive(run, previous, run.moment)
        make_published(run, version)
        publish_children(run, version)
        return version
    if status == st.UPDATABLE:
        previous = run.required_counterpart(version, (st.PUBLISHED_UNDER_UPDATE,))
        for prop, child in list(children(previous)):
            move(child, prop, previous, version)
        for prop in relations_of(type(version)).many_to_many:
            mine = related(version, prop)
            for other in related(previous, prop):
                if other not in mine:
                    attach(version, prop, other)
        archive(run, previous, run.moment)
        make_published(run, version)
        publish_children(run, version)
        return version
    # a pending deletion
    previous = run.required_counterpart(version, (st.PUBLISHED_UNDER_DELETE,))
    if run.at is not None:
        # Kept for a cancellation; see clio.status on tombstones.
        run.write(version, published_userid=previous.published_userid)
    run.write(previous, published_userid=run.userid)
    archive(run, previous, run.moment)
    retire_children(run, (version, previous))
    if run.at is None:
        remove(run, version)
    else:
        bury(run, version)
    return previous


def bury(run, version) -> None:
    """Make a pending deletion published at ``run.at`` its tombstone: a
    version live during the empty interval ``[at, at)``, i.e. never."""
    run.write(
        version,
        status=st.TOMBSTONE_FOR[version.status],
        published_start_timestamp=run.moment,
        published_end_timestamp=run.moment,
    )


def publish_children(run, version) -> None:
    pending = [
        child
        for _prop, child in children(version)
        if not run.is_gone(child) and child.status in st.NEW_VERSION_STATUSES
    ]
    run.prefetch(pending, archives=True)
    for child in pending:
        if not run.is_gone(child) and child.status in st.NEW_VERSION_STATUSES:
            publish(run, child, as_part=True)


def adopt_children(run, previous, version) -> None:
    """Children attached to the published version while its edit was
    pending follow the edit instead of being archived away (SPEC §3.3.5).

    A published child without a version under the edit (its own edit was
    discarded meanwhile, say) moves over as it is: it stays live, with no
    new version, since nothing about it changed."""
    for prop, child in list(children(previous)):
        if run.is_gone(child):
            continue
        if child.status in st.NEW_VERSION_STATUSES or child.status == st.PUBLISHED:
            move(child, prop, previous, version)


def retire_children(run, parents) -> None:
    """Publishing a deletion archives the whole tree below it."""
    for parent in parents:
        kids = list(children(parent))
        run.prefetch([child for _prop, child in kids if not run.is_gone(child)], archives=True)
        for _prop, child in kids:
            if run.is_gone(child):
                continue
            status = child.status
            if st.is_final_status(status) or status == st.PUBLISHED_UNDER_DELETE:
                continue
            if status in st.DELETED_STATUSES:
                publish(run, child, as_part=True)
                continue
            deletion = delete(run, child)
            if deletion is not None and not run.is_gone(deletion):
                publish(run, deletion, as_part=True)


# --- edit and update ------------------------------------------------------------


def edit_copy(run, version):
    """Make the EDITABLE version of a PUBLISHED one, children included:
    published children are copied too, pending ones move to the copy."""
    (copy,) = edit_copies(run, [version])
    return copy


def edit_copies(run, versions) -> list:
    """:func:`edit_copy` of many PUBLISHED versions whose trees do not
    overlap, copied together a level at a time (``clio.edit_all``)."""
    return copy_trees(
        run, versions, st.EDITABLE, st.PUBLISHED_UNDER_EDIT, _move_pending_child
    )


def _move_pending_child(run, child, prop, original, copy) -> None:
    if child.status in st.NEW_VERSION_STATUSES:
        move(child, prop, original, copy)


def copy_trees(run, versions, status, published_status, other_child, places=None) -> list:
    """Copy the PUBLISHED ``versions`` and the PUBLISHED versions of their
    trees with ``status``, and give the originals ``published_status``;
    the top copies, in order.

    The trees are copied a level at a time, every copy of a level and
    class in one statement (:func:`clio.copies.make_copies`); each copied
    child hangs from its parent's copy.  ``other_child(run, child, prop,
    original, copy)`` handles the children that are not PUBLISHED.
    ``places``: per version, None or the ``(relation, parent)`` its copy
    hangs from instead of the original's parent."""
    tops = make_copies(run, versions, status, places)
    level = list(zip(versions, tops))
    while level:
        originals, below = [], []
        for original, copy in level:
            run.write(original, status=published_status)
            for prop in relations_of(type(original)).one_to_many:
                for child in related(original, prop):
                    if run.is_gone(child):
                        continue
                    if child.status == st.PUBLISHED:
                        originals.append(child)
                        below.append((prop, copy))
                    else:
                        other_child(run, child, prop, original, copy)
            link_published(original, copy)
        level = list(zip(originals, make_copies(run, originals, status, below)))
    return tops


def link_published(version, copy) -> None:
    """Link a copy to the many-to-many partners that are PUBLISHED."""
    for prop in relations_of(type(version)).many_to_many:
        for other in related(version, prop):
            if other.status == st.PUBLISHED:
                attach(copy, prop, other)


def edit(run, version):
    status = version.status
    if status in (st.NEW, st.EDITABLE):
        return version
    if status == st.PUBLISHED:
        return edit_copy(run, version)
    if status == st.PUBLISHED_UNDER_EDIT:
        return run.required_counterpart(version, (st.EDITABLE,))
    if status in (st.UPDATABLE, st.PUBLISHED_UNDER_UPDATE):
        raise EditError(
            f"{type(version).__name__} code={version.code} has a pending update; "
            f"publish or discard it before editing"
        )
    if status == st.PUBLISHED_UNDER_DELETE:
        return edit(run, run.required_counterpart(version, st.DELETED_STATUSES))
    if status == st.DELETED_UPDATABLE:
        raise EditError(
            f"{type(version).__name__} code={version.code} is a deleted update; "
            f"revert it and publish or discard the update before editing"
        )
    if status in (st.DELETED, st.DELETED_EDITABLE):
        return edit(run, revert(run, version))
    raise EditError(
        f"{type(version).__name__} code={version.code} is "
        f"{st.status_name(status)} and cannot be edited"
    )


def update(run, version):
    status = version.status
    if status in (st.NEW, st.UPDATABLE):
        return version
    if status == st.PUBLISHED:
        (copy,) = make_copies(run, [version], st.UPDATABLE)
        run.write(version, status=st.PUBLISHED_UNDER_UPDATE)
        return copy
    if status == st.PUBLISHED_UNDER_UPDATE:
        return run.required_counterpart(version, (st.UPDATABLE,))
    if status in (st.EDITABLE, st.PUBLISHED_UNDER_EDIT):
        raise UpdateError(
            f"{type(version).__name__} code={version.code} has a pending edit; "
            f"publish or discard it before updating"
        )
    if status == st.PUBLISHED_UNDER_DELETE:
        return update(run, run.required_counterpart(version, st.DELETED_STATUSES))
    if status == st.DELETED_EDITABLE:
        raise UpdateError(
            f"{type(version).__name__} code={version.code} is a deleted edit; "
            f"revert it and publish or discard the edit before updating"
        )
    if status in (st.DELETED, st.DELETED_UPDATABLE):
        return update(run, revert(run, version))
    raise UpdateError(
        f"{type(version).__name__} code={version.code} is "
        f"{st.status_name(status)} and cannot be updated"
    )


# --- delete -----------------------------------------------------------------------


def delete_copy(run, version, place=None):
    """Make the DELETED version of a PUBLISHED one; its tree follows: its
    published children are copied as deletions too, pending ones are
    deleted.  ``place``: see :func:`copy_trees`."""
    (copy,) = copy_trees(
        run, [version], st.DELETED, st.PUBLISHED_UNDER_DELETE, _delete_pending_child, [place]
    )
    return copy


def _delete_pending_child(run, child, prop, original, copy) -> None:
    if child.status in (
        st.NEW,
        st.EDITABLE,
        st.UPDATABLE,
        st.PUBLISHED_UNDER_EDIT,
        st.PUBLISHED_UNDER_UPDATE,
    ):
        delete(run, child)


def delete_pending_children(run, version) -> None:
    for _prop, child in list(children(version)):
        if not run.is_gone(child) and child.status in st.NEW_VERSION_STATUSES:
            delete(run, child)


def delete(run, version):
    status = version.status
    if status == st.NEW:
        remove(run, version)
        return None
    if status == st.PUBLISHED:
        return delete_copy(run, version)
    if status in st.DELETED_STATUSES:
        return version
    if status == st.PUBLISHED_UNDER_DELETE:
        return run.required_counterpart(version, st.DELETED_STATUSES)
    if status in (st.PUBLISHED_UNDER_EDIT, st.PUBLISHED_UNDER_UPDATE):
        return delete(run, run.required_counterpart(version, st.PENDING_FOR[status]))
    if status == st.EDITABLE:
        previous = run.required_counterpart(version, (st.PUBLISHED_UNDER_EDIT,))
        delete_pending_children(run, version)
        run.write(version, status=st.DELETED_EDITABLE)
        run.write(previous, status=st.PUBLISHED_UNDER_DELETE)
        return version
    if status == st.UPDATABLE:
        previous = run.required_counterpart(version, (st.PUBLISHED_UNDER_UPDATE,))
        delete_pending_children(run, version)
        # The children live on the published version (an update does not
        # copy them); they are retired with it (SPEC §3.3.3).
        for prop, child in list(children(previous)):
            if run.is_gone(child):
                continue
            if child.status == st.PUBLISHED:
                delete_copy(run, child, (prop, version))
            elif child.status in st.NEW_VERSION_STATUSES or child.status in (
                st.PUBLISHED_UNDER_EDIT,
                st.PUBLISHED_UNDER_UPDATE,
            ):
                delete(run, child)
        run.write(version, status=st.DELETED_UPDATABLE)
        run.write(previous, status=st.PUBLISHED_UNDER_DELETE)
        return version
    raise DeleteError(
        f"{type(version).__name__} code={version.code} is "
        f"{st.status_name(status)} and cannot be deleted"
    )


# --- revert and discard -----------------------------------------------------------


def revert_children(run, version, only=None) -> None:
    kids = [
        child
        for _prop, child in children(version)
        if not run.is_gone(child) and (only is None or child.status in only)
    ]
    run.prefetch(kids)
    for child in kids:
        if not run.is_gone(child):
            revert(run, child)


def revert(run, version):
    status = version.status
    if status == st.NEW:
        remove(run, version)
        return None
    if status in (st.EDITABLE, st.UPDATABLE):
        previous = run.required_counterpart(version, (st.PUBLISHED_FOR[status],))
        reset_content(run, version, previous)
        revert_children(run, version)
        return version
    if status == st.DELETED:
        previous = run.required_counterpart(version, (st.PUBLISHED_UNDER_DELETE,))
        run.write(previous, status=st.PUBLISHED)
        revert_children(run, version)
        revert_children(run, previous, only=st.DELETED_STATUSES)
        remove(run, version)
        return previous
    if status in (st.DELETED_EDITABLE, st.DELETED_UPDATABLE):
        previous = run.required_counterpart(version, (st.PUBLISHED_UNDER_DELETE,))
        if status == st.DELETED_EDITABLE:
            run.write(version, status=st.EDITABLE)
            run.write(previous, status=st.PUBLISHED_UNDER_EDIT)
        else:
            run.write(version, status=st.UPDATABLE)
            run.write(previous, status=st.PUBLISHED_UNDER_UPDATE)
        revert_children(run, version)
        revert_children(run, previous, only=st.DELETED_STATUSES)
        return version
    if status == st.PUBLISHED:
        revert_children(run, version)
        return version
    if status in st.PENDING_FOR:
        return revert(run, run.required_counterpart(version, st.PENDING_FOR[status]))
    return version  # archived or a tombstone: nothing to revert


def discard(run, version):
    status = version.status
    if status == st.NEW:
        remove(run, version)
        return None
    if status == st.PUBLISHED or st.is_final_status(status):
        return version
    if status in st.PENDING_FOR:
        return discard(run, run.required_counterpart(version, st.PENDING_FOR[status]))
    if status in st.DELETED_STATUSES:
        restored = revert(run, version)
        return restored if status == st.DELETED else discard(run, restored)
    previous = run.required_counterpart(version, (st.PUBLISHED_FOR[status],))
    since = version.created_timestamp
    for owner in (version, previous):
        for prop, child in list(children(owner)):
            if run.is_gone(child) or child.status not in st.NEW_VERSION_STATUSES:
                continue
            if child.created_timestamp is not None and child.created_timestamp >= since:
                discard(run, child)  # made by this edit or added to the draft
            elif owner is version:
                move(child, prop, version, previous)  # its own pending version
    remove(run, version)
    run.write(previous, status=st.PUBLISHED)
    return previous


# --- expire ---------------------------------------------------------------------------


def expire(run, version):
    status = version.status
    if status != st.PUBLISHED:
        if status in st.PENDING_FOR:
            raise ExpireError(
                f"{type(version).__name__} code={version.code} has a pending "
                f"version; publish or discard it before expiring"
            )
        raise ExpireError(
            f"{type(version).__name__} code={version.code} is "
            f"{st.status_name(version.status)}; only a published object expires"
        )
    expire_tree(run, version)
    return version


def expire_tree(run, version) -> None:
    archive(run, version, run.moment)
    pairs = list(children(version))
    for _prop, child in pairs:
        if not run.is_gone(child) and child.status in st.NEW_VERSION_STATUSES:
            discard(run, child)
    for _prop, child in pairs:
        if not run.is_gone(child) and child.status in st.PUBLISHED_STATUSES:
            if child.status != st.PUBLISHED:
                discard(run, child)
            expire_tree(run, child)


# --- cancelling a schedule -------------------------------------------------------------


def cancel_schedule(run, version):
    """Undo a pending ``publish(at=t)`` or ``expire(at=t)``.

    A scheduled publication is recognised by its moment ``t``: the new
    version starts at ``t``, its predecessor (if any) ends at ``t``, and so
    do the children published or retired with it.  Returns the version that
    is published again (the predecessor, or the one whose expiry is
    cancelled, or the one a scheduled deletion was to end); for a NEW
    object whose first publication was scheduled, the object back in NEW.
    """
    involved = pending_schedule(run, version)
    starting = [v for v in involved if v.status in st.PUBLISHED_STATUSES]
    buried = [v for v in involved if v.is_tombstone()]
    if buried:
        tombstone = buried[0]
        moment = tombstone.published_start_timestamp
        previous = _ended_sibling(run, tombstone, moment)
        restore_deletion(run, tombstone, previous, moment)
        return previous
    if starting:
        scheduled = starting[0]
        moment = scheduled.published_start_timestamp
        return unpublish(run, scheduled, _ended_sibling(run, scheduled, moment), moment)
    ended = involved[0]
    restore_published(run, ended, ended.published_end_timestamp)
    return ended


def unpublish(run, version, previous, moment):
    """Return ``version`` (published at ``moment``) to the pending state it
    had, and ``previous`` (archived at ``moment``) to published-under-it."""
    run.write(version, published_start_timestamp=None, published_userid=None)
    if previous is None:
        run.write(version, status=st.NEW)
        for _prop, child in list(children(version)):
            if child.published_start_timestamp == moment:
                unpublish(run, child, None, moment)
        return version
    # An update moved every child over, those ever published among them;
    # an edit leaves the archived ones on the published version (and a
    # schedule of an edit that would leave none is refused, see
    # check_edit_tells).  Without a child ever published the rows cannot
    # tell, and an edit it is (documented in docs/scheduling.rst).
    was_update = not list(children(previous)) and any(
        child.published_start_timestamp is None
        or child.published_start_timestamp < moment
        or child.is_archived()
        for _prop, child in children(version)
    )
    run.write(previous, published_end_timestamp=None)
    if was_update:
        run.write(version, status=st.UPDATABLE)
        run.write(previous, status=st.PUBLISHED_UNDER_UPDATE)
        for prop, child in list(children(version)):
            move(child, prop, version, previous)
            if child.published_start_timestamp == moment:
                cancel_child(run, child, _ended_sibling(run, child, moment), moment)
        return previous
    run.write(version, status=st.EDITABLE)
    run.write(previous, status=st.PUBLISHED_UNDER_EDIT)
    ended = {
        (type(child), child.code): (prop, child)
        for prop, child in children(previous)
        if child.is_archived() and child.published_end_timestamp == moment
    }
    for prop, child in list(children(version)):
        if child.published_start_timestamp == moment:
            _, before = ended.pop((type(child), child.code), (None, None))
            cancel_child(run, child, before, moment)
        elif child.status == st.PUBLISHED:
            move(child, prop, version, previous)  # adopted as it was
    for prop, child in ended.values():
        # An archive ended at the moment with nothing under the edit to
        # restore it from: a child deletion scheduled before tombstones
        # existed (development databases).  Ask for the deletion again.
        restore_published(run, child, moment)
        delete_copy(run, child, (prop, version))
    return previous


def cancel_child(run, child, previous, moment) -> None:
    if child.is_tombstone():
        restore_deletion(run, child, previous, moment)
    else:
        unpublish(run, child, previous, moment)


def restore_deletion(run, tombstone, previous, moment) -> None:
    """Undo a deletion carried out at ``moment`` by a schedule: the
    tombstone is the pending deletion it was, and ``previous`` (archived at
    ``moment``) is published under it again, with its publisher back."""
    run.write(
        tombstone,
        status=st.DELETED_FOR[tombstone.status],
        published_start_timestamp=None,
        published_end_timestamp=None,
    )
    if previous is not None:
        run.write(
            previous,
            status=st.PUBLISHED_UNDER_DELETE,
            published_end_timestamp=None,
            published_userid=tombstone.published_userid,
        )
    run.write(tombstone, published_userid=None)
    # The deletions of the children lie below either version (those asked
    # for before the parent's below the published one).
    owners = [tombstone] if previous is None else [tombstone, previous]
    for owner in owners:
        for _prop, child in list(children(owner)):
            if child.is_tombstone() and child.published_start_timestamp == moment:
                restore_deletion(run, child, _ended_sibling(run, child, moment), moment)


def _ended_sibling(run, version, moment):
    for other in run.versions(version):
        if other.is_archived() and other.published_end_timestamp == moment:
            return other
    return None


def restore_published(run, version, moment) -> None:
    """Undo the archiving of ``version`` and of its children at ``moment``."""
    run.write(version, status=st.PUBLISHED, published_end_timestamp=None)
    for _prop, child in list(children(version)):
        if child.is_archived() and child.published_end_timestamp == moment:
            restore_published(run, child, moment)


def revert_or_cancel(run, version):
    return cancel_schedule(run, version) if run.cancelling else revert(run, version)


def discard_or_cancel(run, version):
    return cancel_schedule(run, version) if run.cancelling else discard(run, version)


# --- the adapter ----------------------------------------------------------------------


@implementer(IWorkflowed)
class Workflow:
    """The default ``IWorkflowed`` adapter: Clio's workflow for a version.

    After each transition that changed something it sends the events of
    :mod:`clio.events`.
    """

    def __init__(self, context):
        self.context = context

    def _run(self, step, at=None, announce=None, cancelling=False):
        at = check_at(self.context, at)
        run = Run(self.context, at)
        # Everything the run reads sees every version, whatever view the
        # session or a statement asks for (clio.views skips transitions).
        with transition(run.session):
            start(run, self.context, cancelling)
            if not run.cancelling:
                check_tree_schedules(run, [self.context], step)
            before = {id(v): (v, v.status) for v in run.versions(self.context)}
            try:
                result = step(run, self.context)
                run.send()
            except BaseException:
                run.forget_writes()
                raise
        changed = (
            run.copies
            or run.removed
            or any(v.status != status for v, status in before.values())
        )
        if changed and announce is not None:
            for event in announce(run, result):
                event.userid = run.userid
                notify(run.session, event)
        return result

    def _mine(self, versions):
        """The versions of the context's own object among ``versions``."""
        code = self.context.code
        base = sa.inspect(type(self.context)).base_mapper
        return [
            v
            for v in versions
            if v.code == code and sa.inspect(type(v)).base_mapper is base
        ]

    def _published(self, run, result):
        archived = self._mine(run.archived)
        for version in self._mine(run.published):
            yield events.VersionPublished(version, archived[0] if archived else None)
        for version in archived:
            yield events.VersionArchived(version)

    def _pending(self, kind):
        def announce(run, result):
            if result is None:  # a NEW object was removed
                yield kind(self.context, None)
            else:
                yield kind(result, run.counterpart(result, st.PUBLISHED_STATUSES))

        return announce

    def publish(self, at: datetime | None = None):
        return self._run(publish, at, self._published)

    def edit(self):
        return self._run(edit, announce=self._pending(events.VersionEdited))

    def update(self):
        return self._run(update, announce=self._pending(events.VersionUpdated))

    def delete(self):
        return self._run(delete, announce=self._pending(events.DeletionRequested))

    def revert(self):
        return self._run(
            revert_or_cancel,
            announce=lambda run, result: [events.VersionReverted(result or self.context)],
            cancelling=True,
        )

    def discard(self):
        return self._run(
            discard_or_cancel,
            announce=lambda run, result: [events.VersionDiscarded(result, self.context)],
            cancelling=True,
        )

    def expire(self, at: datetime | None = None):
        return self._run(expire, at, self._published)

    def mark_changed(self) -> None:
        version = self.context
        version.changed_timestamp = version._now()
        version.changed_userid = current_userid(object_session(version))


def sibling(version, statuses):
    """The version of the same object in one of ``statuses`` (no lock)."""
    session = object_session(version)
    if session is None:
        return None
    cls = sa.inspect(type(version)).base_mapper.class_
    with transition(session):  # unfiltered by any view
        return session.scalars(
            sa.select(cls).where(cls.code == version.code, cls.status.in_(statuses)).limit(1)
        ).first()
