"""Bulk transitions: ``edit_all`` and ``publish_all``.

Calling ``version.edit()`` on a thousand objects costs a thousand lock
queries (and, for publish, a thousand archive-number queries), each a round
trip.  The functions here do the same transitions in *one* run of
:mod:`clio.workflow`: before any transition they load and lock the live
versions of every object of the batch with one ``SELECT ... WHERE code IN
(...) FOR UPDATE`` per class, and (for publish) read the highest archive
number of every object with one grouped query.  The per-object transition
functions then find everything in the run's caches, so the batch costs a few
statements however many objects it holds; the ORM's flush writes the
resulting INSERTs and UPDATEs as executemany batches.  Children are walked
the same way, a level of all the batch's trees at a time: one query per
relation loads the collections, one per class locks the children (and one
reads their archive numbers before a publish).

The rules are the workflow's own, applied per object in input order, so
results, statuses, timestamps and history are those of calling the
transitions one by one, except that the whole batch shares one moment and
one user id (a single run).

A batch is atomic like a single transition: it runs inside a SAVEPOINT, so
if any object's transition raises, no object of the batch has changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from sqlalchemy.orm import Session, object_session

from clio import events
from clio import status as st
from clio.exceptions import ConflictError, DetachedVersionError
from clio.model import transition
from clio.run import Run, check_version
from clio.workflow import (
    Workflow,
    check_schedule,
    check_tree_schedules,
    children,
    edit,
    edit_copies,
    publish,
)

V = TypeVar("V")

def edit_all(session: Session, versions: Iterable[V]) -> list:
    """``[v.edit() for v in versions]`` in a few statements per batch.

    Returns the editable versions in input order.  Raises what the first
    failing ``edit()`` would raise, and then nothing has changed.
    """
    return _batch(session, list(versions), edit, _edited)


def publish_all(session: Session, versions: Iterable[V]) -> list:
    """``[v.publish() for v in versions]`` in a few statements per batch.

    Returns the published versions in input order (for a pending deletion,
    the archived version, as ``publish()`` does).  Scheduling (``at=``) is
    left to the one-by-one ``publish``.
    """
    return _batch(session, list(versions), publish, _published, archives=True)


# --- the batch run -------------------------------------------------------------


def _check(session, version) -> None:
    """The checks ``Run`` makes of its version, for every member."""
    if object_session(version) is not session:
        raise DetachedVersionError(
            f"{type(version).__name__} code={getattr(version, 'code', None)!r} "
            f"does not belong to the session given to the bulk transition"
        )
    check_version(version)


def _batch(session, versions, step, announce, archives=False) -> list:
    if not versions:
        return []
    for version in versions:
        _check(session, version)
    seen = [version.__dict__.get("status") for version in versions]
    # One SAVEPOINT makes the batch atomic; the transition marker keeps a
    # session's default view off the batch's own reads.
    with session.begin_nested(), transition(session):
        session.flush()
        run = Run(versions[0])
        run.prefetch(versions)
        for version, status in zip(versions, seen):
            if status is not None and version.status != status:
                raise ConflictError(
                    f"{type(version).__name__} code={version.code} was changed "
                    f"by another transaction (now "
                    f"{st.status_name(version.status)}); reload and retry"
                )
        # As in a single transition: read the clock once the locks are ours.
        run.now = type(versions[0])._now()
        for version in versions:
            check_schedule(run, version)
        # As a single transition does: refuse a tree with a pending
        # schedule below, and load and lock every tree level by level,
        # for the whole batch at once.
        check_tree_schedules(run, versions, step)
        if archives:
            run.prefetch(
                [v for v in versions if not st.is_archived_status(v.status)], archives=True
            )
        before = {
            key: [(v, v.status) for v in rows] for key, rows in run._versions.items()
        }
        if step is edit:
            copy_disjoint_trees(run, versions)
        try:
            results = [step(run, version) for version in versions]
            run.send()
        except BaseException:
            run.forget_writes()
            raise
    _announce(run, versions, results, before, announce)
    return results


def copy_disjoint_trees(run, versions) -> None:
    """Copy the trees of the batch's PUBLISHED versions together, a level
    of all trees at a time (:func:`clio.workflow.edit_copies`), before the
    one-by-one loop, which then finds each copy made.

    Only when no member of the batch lies in the tree of a PUBLISHED one:
    otherwise the order of the members decides what is copied (editing a
    child first, say, makes its copy hang from the published parent), and
    the batch goes one by one as the loop does.
    """
    roots, ids = [], set()
    for version in versions:
        if version.status == st.PUBLISHED and id(version) not in ids:
            ids.add(id(version))
            roots.append(version)
    if not roots:
        return
    members = {run._key(version) for version in versions}
    level = roots
    while level:
        below = []
        for parent in level:
            for _prop, child in children(parent):
                if run.is_gone(child):
                    continue
                if run._key(child) in members:
                    return
                if child.status == st.PUBLISHED:
                    below.append(child)
        level = below
    edit_copies(run, roots)


def _announce(run, versions, results, before, announce) -> None:
    """Send the events the one-by-one transitions would send: per object
    that changed, once (a second mention of an object is a no-op then)."""
    done = set()
    for version, result in zip(versions, results):
        key = run._key(version)
        if key in done:
            continue
        done.add(key)
        previous = before.get(key, [])
        ids = {id(v) for v, _ in previous}
        changed = (
            any(run._key(copy) == key for copy in run.copies)
            or bool(ids & run.removed)
            or any(v.status != status for v, status in previous)
        )
        if not changed:
            continue
        for event in announce(run, version, result):
            event.userid = run.userid
            events.notify(run.session, event)


def _edited(run, version, result):
    yield events.VersionEdited(result, run.counterpart(result, st.PUBLISHED_STATUSES))


def _published(run, version, result):
    # Workflow._published picks this object's own versions out of the run.
    yield from Workflow(version)._published(run, result)
