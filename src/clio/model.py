"""The versioned model classes: ``clio.Model`` and ``clio.Workflowed``.

Both give a mapped class the version predicates, the clock, and the
workflow methods.  The methods are thin: they look up the ``IWorkflowed`` or
``IVersioned`` adapter for the version (in the registry the session names,
else the global one) so that an application's own adapter for a class is
honoured whichever spelling is used.

``Model`` is the Clio 0.7 base for classical mapping (``Model(code)``);
``Workflowed`` is a declarative mixin with SQLAlchemy's keyword
constructor.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, declared_attr, mapped_column, object_session
from sqlalchemy.orm.attributes import PASSIVE_NO_INITIALIZE, instance_dict
from zope.interface import implementer

from clio import status as st
from clio.classcache import class_cache, forget_class_cache
from clio.exceptions import ImmutableVersionError, InvalidCodeError
from clio.interfaces import IClioModel, IVersioned, IWorkflowed
from clio.relations import relations_of
from clio.schema import BOOKKEEPING_COLUMNS, workflow_constraints
from clio.timestamps import UTCDateTime, utcnow
from clio.userid import current_userid, session_userid

#: session.info key counting the transitions running in that session.
TRANSITION_KEY = "clio.transition"
#: session.info key for the zope.interface registry used for adapters.
REGISTRY_KEY = "clio.registry"


def check_code(code) -> int:
    if isinstance(code, bool) or not isinstance(code, int):
        raise InvalidCodeError(f"code must be an integer, not {code!r}")
    return code


def adapter_registry(session):
    registry = session.info.get(REGISTRY_KEY) if session is not None else None
    if registry is None:
        from zope.component import getSiteManager

        registry = getSiteManager()
    return registry


@implementer(IClioModel)
class VersionMethods:
    """Behaviour shared by every versioned class."""

    #: Set to False on a class to allow in-place changes of published and
    #: archived versions (data migrations).
    __clio_immutable__ = True

    # -- construction -------------------------------------------------------

    def _init_version(self, code) -> None:
        check_code(code)
        now = self._now()
        userid = current_userid(None)
        self.code = code
        # The bookkeeping goes straight into the new object's state: its
        # INSERT sends every value found there.  Set one by one, each of
        # these eight went through the attribute events and the
        # immutability guard, which made up most of the cost of building a
        # version (68 µs of a paragraph's construction, 33 µs without).
        instance_dict(self).update(
            status=st.NEW,
            created_timestamp=now,
            created_userid=userid,
            changed_timestamp=now,
            changed_userid=userid,
            published_start_timestamp=None,
            published_end_timestamp=None,
            published_userid=None,
        )
        # The session this object joins may know a better user (a request's);
        # fill it in at its first flush.
        self._clio_provisional_userid = userid

    # -- clock ----------------------------------------------------------------

    @classmethod
    def _now(cls) -> datetime:
        """The current moment, aware UTC.  Override (as a classmethod) to
        control time in tests; transitions and views both use it."""
        return utcnow()

    # -- predicates -----------------------------------------------------------

    def is_new(self) -> bool:
        return self.status == st.NEW

    def is_editable(self) -> bool:
        return self.status in st.NEW_VERSION_STATUSES

    def is_published(self) -> bool:
        return self.status in st.PUBLISHED_STATUSES

    def is_deleted(self) -> bool:
        return self.status in st.DELETED_STATUSES

    def is_archived(self) -> bool:
        return st.is_archived_status(self.status)

    def is_tombstone(self) -> bool:
        """A pending deletion carried out by a schedule (never live)."""
        return st.is_tombstone_status(self.status)

    def is_actual(self) -> bool:
        return self.status in st.ACTUAL_STATUSES

    # -- workflow (IWorkflowed) ------------------------------------------------

    def _workflowed(self):
        registry = adapter_registry(object_session(self))
        adapter = registry.queryAdapter(self, IWorkflowed)
        if adapter is None:
            from clio.workflow import Workflow

            adapter = Workflow(self)
        return adapter

    def _versioned(self):
        registry = adapter_registry(object_session(self))
        adapter = registry.queryAdapter(self, IVersioned)
        if adapter is None:
            from clio.versioning import Versioned

            adapter = Versioned(self)
        return adapter

    def publish(self, at: datetime | None = None):
        return self._workflowed().publish(at=at)

    def edit(self):
        return self._workflowed().edit()

    def update(self):
        return self._workflowed().update()

    def delete(self):
        return self._workflowed().delete()

    def revert(self):
        return self._workflowed().revert()

    def discard(self):
        return self._workflowed().discard()

    def expire(self, at: datetime | None = None):
        return self._workflowed().expire(at=at)

    def mark_changed(self) -> None:
        self._workflowed().mark_changed()

    # -- reading (IVersioned) --------------------------------------------------

    def editable_version(self):
        return self._versioned().editable_version()

    def published_version(self):
        return self._versioned().published_version()

    def compare_relation(self, name: str):
        from clio.versioning import compare_relation

        return compare_relation(self, name)


class Model(VersionMethods):
    """Base class for classically mapped versioned classes (Clio 0.7).

    Subclasses that define ``__init__`` must call ``super().__init__(code)``.
    """

    def __init__(self, code: int):
        self._init_version(code)


class Workflowed(VersionMethods):
    """Declarative mixin: ``class Page(clio.Workflowed, Base)``.

    Adds clio's columns, the ``(code, status)`` constraint and the indexes.
    A class that needs its own ``__table_args__`` adds
    ``clio.workflow_constraints(__tablename__)`` to them.
    """

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True, sort_order=-100)
    code: Mapped[int] = mapped_column(sa.Integer, nullable=False, sort_order=-99)
    status: Mapped[int] = mapped_column(sa.Integer, nullable=False, sort_order=-98)
    created_timestamp: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, sort_order=-97)
    published_start_timestamp: Mapped[datetime | None] = mapped_column(UTCDateTime(), sort_order=-96)
    published_end_timestamp: Mapped[datetime | None] = mapped_column(UTCDateTime(), sort_order=-95)
    changed_timestamp: Mapped[datetime | None] = mapped_column(UTCDateTime(), sort_order=-94)
    created_userid: Mapped[str | None] = mapped_column(sa.Unicode(64), sort_order=-93)
    published_userid: Mapped[str | None] = mapped_column(sa.Unicode(64), sort_order=-92)
    changed_userid: Mapped[str | None] = mapped_column(sa.Unicode(64), sort_order=-91)

    @declared_attr.directive
    def __table_args__(cls):
        return workflow_constraints(cls.__tablename__)

    def __init__(self, **kw):
        if "code" not in kw:
            raise InvalidCodeError(f"{type(self).__name__} needs a code")
        code = kw.pop("code")
        self._init_version(code)
        super().__init__(**kw)


# --- immutability of published and archived versions ----------------------


def in_transition(obj) -> bool:
    """Whether a change to ``obj`` is clio's own doing: made by a running
    transition, or by a flush synchronising foreign keys for relationship
    changes that were checked when they were made."""
    session = object_session(obj)
    if session is None:
        return False
    return session.info.get(TRANSITION_KEY, 0) > 0 or getattr(session, "_flushing", False)


def _guard(target, value, oldvalue, initiator):
    current = target.__dict__.get("status")
    if current is None or not type(target).__clio_immutable__:
        return value
    if current in st.PUBLISHED_STATUSES or st.is_final_status(current):
        if value is oldvalue or in_transition(target):
            return value
        raise ImmutableVersionError(
            f"{type(target).__name__} code={target.__dict__.get('code')} is "
            f"{st.status_name(current)}; change it through edit() or update(), "
            f"not in place ({initiator.key})"
        )
    return value


def _versioned_classes():
    pending = [VersionMethods]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__dict__.get("__mapper__") is not None or "_sa_class_manager" in cls.__dict__:
            yield cls


@event.listens_for(sa.orm.Mapper, "after_configured")
def _configure_versioned():
    """Once mappers are configured (backrefs included): forget what was
    cached from the mappings and install the immutability guard on every
    column and many-to-one relation of each versioned class."""
    for cls in _versioned_classes():
        forget_class_cache(cls)
        guarded = cls.__dict__.get("_clio_guarded")
        if guarded is None:
            guarded = set()
            type.__setattr__(cls, "_clio_guarded", guarded)
        mapper = sa.inspect(cls)
        manager = mapper.class_manager
        keys = [prop.key for prop in mapper.column_attrs]
        keys += [prop.key for prop in relations_of(cls).many_to_one]
        for key in keys:
            if key in manager and key not in guarded:
                guarded.add(key)
                event.listen(manager[key], "set", _guard, retval=True)


# --- session hooks ----------------------------------------------------------


@event.listens_for(Session, "before_flush")
def _before_flush(session, flush_context, instances):
    """Give objects built outside the session the session's user, and
    refuse new versions without a proper code."""
    from clio.events import ObjectCreated, notify

    if not session.info.get(TRANSITION_KEY, 0):
        edited = [
            obj
            for obj in session.dirty
            if isinstance(obj, VersionMethods)
            and _user_columns_changed(obj)
            and sa.inspect(obj).persistent
        ]
        if edited:
            _check_not_stale(session, edited)

    userid = session_userid(session)
    for obj in list(session.new):
        if not isinstance(obj, VersionMethods):
            continue
        check_code(obj.code)
        provisional = obj.__dict__.pop("_clio_provisional_userid", None)
        if provisional is None:
            continue  # a copy made by a transition, not a new object
        if userid is not None:
            # Into the pending object's state, as _init_version put them.
            values = instance_dict(obj)
            for key in ("created_userid", "changed_userid"):
                if values.get(key) == provisional:
                    values[key] = userid
        notify(session, ObjectCreated(obj, None, obj.created_userid))


def _user_column_keys(cls) -> frozenset:
    """The mapped column attributes of ``cls`` that are not clio's."""
    return class_cache(
        cls,
        "user_columns",
        lambda: frozenset(
            prop.key
            for prop in sa.inspect(cls).column_attrs
            if prop.key not in BOOKKEEPING_COLUMNS
        ),
    )


def _user_columns_changed(obj) -> bool:
    # Only attributes set since the load have a committed value; looking
    # at those alone (and not through ``state.attrs``, which builds a
    # namespace of every attribute per access) keeps a flush of a large
    # tree cheap.
    state = sa.inspect(obj)
    keys = _user_column_keys(type(obj))
    return any(
        key in keys and state.get_history(key, PASSIVE_NO_INITIALIZE).has_changes()
        for key in list(state.committed_state)
    )


def _check_not_stale(session, versions) -> None:
    """Refuse to flush the application's changes to versions that another
    transaction has moved on since this session loaded them (a draft
    published or discarded meanwhile): one locking read of their statuses.

    Transitions need no such check (they lock and reload what they touch),
    so only changes made outside them are looked at.
    """
    by_table: dict = {}
    for obj in versions:
        state = sa.inspect(obj)
        loaded = state.committed_state.get("status", state.dict.get("status"))
        by_table.setdefault(sa.inspect(type(obj)).local_table, {})[obj.id] = (obj, loaded)
    connection = session.connection()
    locking = connection.dialect.name != "sqlite"
    for table, rows in by_table.items():
        stmt = _status_read(type(next(iter(rows.values()))[0]), table, locking)
        current = dict(connection.execute(stmt, {"ids": list(rows)}).all())
        for row_id, (obj, loaded) in rows.items():
            now = current.get(row_id)
            if loaded is None:
                # Changed while expired: the set-time guard could not see
                # the status, so the immutability rule is applied here.
                if type(obj).__clio_immutable__ and (
                    now in st.PUBLISHED_STATUSES or st.is_final_status(now)
                ):
                    raise ImmutableVersionError(
                        f"{type(obj).__name__} code={obj.code} is "
                        f"{st.status_name(now)}; change it through edit() or "
                        f"update(), not in place"
                    )
                continue
            if now != loaded:
                from clio.exceptions import ConflictError

                raise ConflictError(
                    f"{type(obj).__name__} code={obj.code} was changed by another "
                    f"transaction since this session loaded it "
                    f"(now {current.get(row_id)!r}); reload and retry"
                )


def _status_read(cls, table, locking: bool) -> sa.Select:
    """``SELECT id, status ... WHERE id IN :ids`` (locking where the
    database can), built once per class."""

    def build():
        stmt = sa.select(table.c.id, table.c.status).where(
            table.c.id.in_(sa.bindparam("ids", expanding=True))
        )
        return stmt.with_for_update() if locking else stmt

    return class_cache(cls, ("status_read", table, locking), build)


class transition:
    """Context manager marking a running transition in a session, so that
    the immutability guard lets the transition change published rows."""

    def __init__(self, session):
        self.session = session

    def __enter__(self):
        info = self.session.info
        info[TRANSITION_KEY] = info.get(TRANSITION_KEY, 0) + 1
        return self.session

    def __exit__(self, *exc):
        self.session.info[TRANSITION_KEY] -= 1
        return False
