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
resulting INSERTs and UPDATEs as executemany batches.

The rules are the workflow's own, applied per object in input order, so
results, statuses, timestamps and history are those of calling the
transitions one by one, except that the whole batch shares one moment and
one user id (a single run).  Children of a versioned object (one-to-many
relations) are found and locked per child as in a single transition; only
the objects passed in are prefetched.

A batch is atomic like a single transition: it runs inside a SAVEPOINT, so
if any object's transition raises, no object of the batch has changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session, object_session

from clio import events
from clio import status as st
from clio.exceptions import ConflictError, DetachedVersionError, UnknownStatusError
from clio.model import check_code, transition
from clio.workflow import Run, Workflow, check_schedule, edit, publish

V = TypeVar("V")

#: Codes per ``IN (...)`` list; keeps every database's parameter limit far.
CHUNK = 500


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
    check_code(version.code)
    if not st.is_known_status(version.status):
        raise UnknownStatusError(
            f"{type(version).__name__} code={version.code} has unknown "
            f"status {version.status!r}"
        )


def _chunks(items: list, size: int = CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _lock_all(run: Run, versions: list) -> None:
    """Fill ``run._versions`` for every object of the batch: what
    ``Run.versions`` would load one object at a time, here one query per
    class (and per chunk of codes)."""
    by_base: dict = {}
    for version in versions:
        base, code = run._key(version)
        by_base.setdefault(base, set()).add(code)
    locking = run.session.get_bind().dialect.name != "sqlite"
    for base, codes in by_base.items():
        cls = base.class_
        found: dict = {code: [] for code in codes}
        for chunk in _chunks(sorted(codes)):
            stmt = (
                sa.select(cls)
                .where(
                    cls.code.in_(chunk),
                    sa.or_(
                        cls.status < st.ARCHIVED,
                        cls.published_end_timestamp > run.now,
                    ),
                )
                .order_by(cls.code, cls.id)
                .execution_options(populate_existing=True)
            )
            if locking:
                stmt = stmt.with_for_update()
            for row in run.session.scalars(stmt):
                found[row.code].append(row)
        for code, rows in found.items():
            run._versions[(base, code)] = rows
    for version in versions:
        rows = run._versions[run._key(version)]
        if version in rows or run.is_gone(version):
            continue
        state = sa.inspect(version)
        if state.persistent and not st.is_archived_status(version.status):
            # Same reasoning as Run.versions: the row no longer matches
            # because a concurrent transaction archived or removed it.
            raise ConflictError(
                f"{type(version).__name__} code={version.code} was changed by "
                f"another transaction; reload it and try again"
            )
        rows.append(version)


def _archive_numbers(run: Run, versions: list) -> None:
    """Fill ``run._archive_max`` for the objects whose publication archives
    a version, with one grouped query per class."""
    by_base: dict = {}
    for version in versions:
        if version.status == st.NEW or st.is_archived_status(version.status):
            continue  # publishing NEW archives nothing; archived raises
        base, code = run._key(version)
        by_base.setdefault(base, set()).add(code)
    mariadb = run.session.get_bind().dialect.name in ("mysql", "mariadb")
    for base, codes in by_base.items():
        cls = base.class_
        for chunk in _chunks(sorted(codes)):
            stmt = (
                sa.select(cls.code, sa.func.max(cls.status))
                .where(cls.code.in_(chunk))
                .group_by(cls.code)
            )
            if mariadb:
                # A locking read, as Run.next_archive_status does: InnoDB's
                # plain reads see the snapshot, not a winner's commit.
                stmt = stmt.with_for_update()
            found = dict(run.session.execute(stmt).all())
            for code in chunk:
                current = max(found.get(code) or 0, st.ARCHIVED - 1)
                run._archive_max[(base, code)] = current


def _batch(session, versions, step, announce, archives=False) -> list:
    if not versions:
        return []
    for version in versions:
        _check(session, version)
    seen = [version.__dict__.get("status") for version in versions]
    with session.begin_nested():
        session.flush()
        run = Run(versions[0])
        _lock_all(run, versions)
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
        if archives:
            _archive_numbers(run, versions)
        before = {
            key: [(v, v.status) for v in rows] for key, rows in run._versions.items()
        }
        with transition(session):
            results = [step(run, version) for version in versions]
    _announce(run, versions, results, before, announce)
    return results


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
