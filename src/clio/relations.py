"""Relations between versioned classes, as the workflow sees them.

The workflow walks one-to-many relations (children are copied, moved,
published and archived with their parent), links many-to-many relations to
the right versions, and checks many-to-one relations (a child cannot be
published under an unpublished parent).  This module finds those relations on
a mapper and gives uniform access to them, whether the relationship is
``lazy='dynamic'`` (the Clio 0.7 style) or an ordinary collection.

:func:`workflow_properties` installs the Clio 0.7 companions
``rel_original``, ``rel_published``, ``rel_editable``, ``rel_actual`` and
``rel_archived`` and the read-through wrapper on ``rel``.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import attributes, interfaces as orm_interfaces

from clio.classcache import class_cache
from clio.exceptions import RelationError
from clio.status import (
    ACTUAL_STATUSES,
    ARCHIVED,
    EDITABLE_STATUSES,
    PUBLISHED_STATUSES,
    PUBLISHED_UNDER_UPDATE,
    UPDATABLE,
)


@dataclass(frozen=True)
class Relations:
    one_to_many: tuple
    many_to_many: tuple
    many_to_one: tuple

    @property
    def managed(self) -> tuple:
        return self.one_to_many + self.many_to_many


def is_versioned_class(cls) -> bool:
    from clio.model import VersionMethods

    return isinstance(cls, type) and issubclass(cls, VersionMethods)


def relations_of(cls) -> Relations:
    """The relations of ``cls`` to other versioned classes (cached)."""
    return class_cache(cls, "relations", lambda: _find_relations(cls))


def _find_relations(cls) -> Relations:
    one_to_many, many_to_many, many_to_one = [], [], []
    for prop in sa.inspect(cls).relationships:
        if not is_versioned_class(prop.mapper.class_):
            continue
        if prop.direction is orm_interfaces.ONETOMANY:
            one_to_many.append(prop)
        elif prop.direction is orm_interfaces.MANYTOMANY:
            many_to_many.append(prop)
        else:
            many_to_one.append(prop)
    return Relations(tuple(one_to_many), tuple(many_to_many), tuple(many_to_one))


def managed_relation(cls, name: str):
    """The one-to-many or many-to-many relation called ``name``."""
    for prop in relations_of(cls).managed:
        if prop.key == name:
            return prop
    raise RelationError(
        f"{cls.__name__} has no one-to-many or many-to-many relation {name!r} "
        f"to a versioned class"
    )


def key_pairs(prop) -> list[tuple[str, str | None]]:
    """(parent attribute, child attribute) of each column pair joining a
    one-to-many or many-to-many relation, by attribute key; the child
    attribute is None for many-to-many (its column is in the association
    table).  Cached on the parent class."""

    def find():
        return [
            (
                prop.parent.get_property_by_column(local).key,
                prop.mapper.get_property_by_column(remote).key
                if prop.secondary is None
                else None,
            )
            for local, remote in prop.synchronize_pairs
        ]

    return class_cache(prop.parent.class_, ("key_pairs", prop.key), find)


def is_dynamic(prop) -> bool:
    return prop.lazy in ("dynamic", "write_only")


def original(obj, prop):
    """The value of the relationship itself, bypassing any wrapper."""
    cls = type(obj)
    return attributes.manager_of_class(cls)[prop.key].__get__(obj, cls)


def _loaded_under_view(state) -> bool:
    from clio.views import ViewOption

    return any(isinstance(option, ViewOption) for option in state.load_options)


def related(obj, prop) -> list:
    """The related versions, whatever their status, as a list.

    A collection loaded through a view holds only what the view showed;
    the workflow needs every version, so such a collection is loaded again
    (unless it carries changes not yet flushed, which only the workflow
    itself can have made, after reading it in full).
    """
    state = sa.inspect(obj)
    if prop.key in state.dict and state.session is not None and needs_load(state, prop):
        state.session.expire(obj, [prop.key])
    value = original(obj, prop)
    if value is None:
        return []
    if prop.lazy == "write_only":
        session = sa.orm.object_session(obj)
        return list(session.scalars(value.select())) if session else []
    return list(value)


def needs_load(state, prop) -> bool:
    """Whether :func:`related` would load ``prop`` of ``state``'s object."""
    if prop.key not in state.dict:
        return True
    return _loaded_under_view(state) and not state.get_history(
        prop.key, attributes.PASSIVE_NO_INITIALIZE
    ).has_changes()


def batch_loadable(prop) -> bool:
    """A collection loaded by plain key equality: ``child.fk = parent.key``
    for one-to-many, through one association table for many-to-many."""
    if is_dynamic(prop) or prop.lazy in ("raise", "raise_on_sql", "noload"):
        return False
    if len(prop.synchronize_pairs) != 1:
        return False
    if prop.secondary is None:
        return getattr(prop.primaryjoin, "operator", None) is sa.sql.operators.eq
    return len(prop.secondary_synchronize_pairs) == 1


def load_children(parents) -> None:
    """Load the managed collections (one-to-many and many-to-many) of many
    versions at once: one query per relation instead of a lazy load per
    parent, so that walking a tree level, or the trees of a batch, costs a
    statement per relation and level, and no lazy load (with its autoflush,
    which would split the flush of a batch) happens during the walk.

    Collections :func:`related` would load anyway are loaded (not yet
    loaded, or loaded through a view and unchanged); the others, and
    relations with a join condition of their own, are left to the lazy
    loader.  Meant for clio's transitions, whose statements no view
    filters.
    """
    wanted: dict = {}
    for parent in parents:
        managed = relations_of(type(parent)).managed
        if not managed:
            continue  # most classes: nothing to look at
        state = sa.inspect(parent)
        if state.session is None or not state.persistent:
            continue
        for prop in managed:
            if batch_loadable(prop) and needs_load(state, prop):
                wanted.setdefault(prop, []).append(parent)
    for prop, owners in wanted.items():
        if len(owners) < 2:
            continue  # the lazy load is the same single statement
        ((owner_key, child_key),) = key_pairs(prop)
        found: dict = {getattr(owner, owner_key): [] for owner in owners}
        stmt = _children_statement(prop)
        params = {"keys": list(found)}
        session = sa.inspect(owners[0]).session
        if prop.secondary is None:
            rows = (
                (child, getattr(child, child_key)) for child in session.scalars(stmt, params)
            )
        else:
            rows = session.execute(stmt, params)
        for child, key in rows:
            if key in found:  # else moved elsewhere in memory: not this parent's
                found[key].append(child)
        for owner in owners:
            attributes.set_committed_value(owner, prop.key, found[getattr(owner, owner_key)])


def _children_statement(prop) -> sa.Select:
    """The query :func:`load_children` runs for ``prop``, with the parents'
    keys bound as ``:keys`` (built once per relation)."""

    def build():
        ((_local, remote),) = prop.synchronize_pairs
        keys = sa.bindparam("keys", expanding=True)
        if prop.secondary is None:
            stmt = sa.select(prop.mapper).where(remote.in_(keys))
        else:
            stmt = (
                sa.select(prop.mapper, remote)
                .join(prop.secondary, prop.secondaryjoin)
                .where(remote.in_(keys))
            )
        return stmt.order_by(*prop.order_by) if prop.order_by else stmt

    return class_cache(prop.parent.class_, ("children_statement", prop.key), build)


def attach(obj, prop, other) -> None:
    collection = original(obj, prop)
    if prop.lazy == "write_only":
        collection.add(other)
    else:
        collection.append(other)


def detach(obj, prop, other) -> None:
    original(obj, prop).remove(other)


def move(child, prop, old_parent, new_parent) -> None:
    """Move ``child`` from ``old_parent``'s collection to ``new_parent``'s."""
    detach(old_parent, prop, child)
    attach(new_parent, prop, child)


def forget(parent, prop, child) -> None:
    """Drop ``child`` from a loaded collection without recording a change.

    Used when the child row is being deleted: the database needs nothing
    from the collection, only the in-memory list must not keep it.
    """
    if is_dynamic(prop):
        return
    state = sa.inspect(parent)
    if prop.key not in state.dict:
        return
    current = state.dict[prop.key]
    if prop.uselist:
        keep = [item for item in current if item is not child]
        if len(keep) != len(current):
            attributes.set_committed_value(parent, prop.key, keep)


def unlink(parent, prop, child) -> None:
    """Take ``child``, which is about to be removed, out of ``parent``'s
    collection.  A child never flushed is taken out of the collection's
    pending changes (else the next flush would try to insert it); a
    flushed one only out of the loaded list (see :func:`forget`)."""
    state = sa.inspect(child)
    if not (state.pending or state.transient):
        forget(parent, prop, child)
        return
    history = attributes.get_history(
        parent, prop.key, passive=attributes.PASSIVE_NO_INITIALIZE
    )
    if any(item is child for item in history.added or ()):
        original(parent, prop).remove(child)


# --- Clio 0.7 companions ---------------------------------------------------

_FILTERS = {
    "published": lambda target: target.status.in_(PUBLISHED_STATUSES),
    "editable": lambda target: target.status.in_(EDITABLE_STATUSES),
    "actual": lambda target: target.status.in_(ACTUAL_STATUSES),
    "archived": lambda target: target.status >= ARCHIVED,
}


def _readable_version(obj):
    """The version whose relations ``obj`` reads: the published one for an
    UPDATABLE (an update does not copy children), else ``obj`` itself."""
    if getattr(obj, "status", None) == UPDATABLE:
        from clio.workflow import sibling

        published = sibling(obj, (PUBLISHED_UNDER_UPDATE,))
        if published is not None:
            return published
    return obj


class ReadThroughRelation:
    """Replaces ``rel``: an UPDATABLE reads its published version's
    relation; assignment is ignored, as in Clio 0.7; at class level it is
    the relationship itself, so ``select(A).join(A.bs)`` works."""

    def __init__(self, prop):
        self.prop = prop

    def __get__(self, obj, owner=None):
        if obj is None:
            return attributes.manager_of_class(owner)[self.prop.key]
        return original(_readable_version(obj), self.prop)

    def __set__(self, obj, value):
        """Ignored: the workflow owns this relation (Clio 0.7 behaviour)."""

    def __delete__(self, obj):
        """Ignored, like assignment."""


class OriginalRelation:
    """``rel_original``: the relationship without the read-through."""

    def __init__(self, prop):
        self.prop = prop

    def __get__(self, obj, owner=None):
        if obj is None:
            return attributes.manager_of_class(owner)[self.prop.key]
        return original(obj, self.prop)


class FilteredRelation:
    """``rel_published`` and friends: ``rel`` narrowed by status."""

    def __init__(self, prop, view: str):
        self.prop = prop
        self.view = view

    def __get__(self, obj, owner=None):
        target = self.prop.mapper.class_
        criterion = _FILTERS[self.view](target)
        if obj is None:
            return attributes.manager_of_class(owner)[self.prop.key].and_(criterion)
        value = original(_readable_version(obj), self.prop)
        if is_dynamic(self.prop):
            return value.filter(criterion)
        statuses = {
            "published": lambda s: s in PUBLISHED_STATUSES,
            "editable": lambda s: s in EDITABLE_STATUSES,
            "actual": lambda s: s in ACTUAL_STATUSES,
            "archived": lambda s: s >= ARCHIVED,
        }[self.view]
        return [item for item in value if statuses(item.status)]


def workflow_properties(cls) -> None:
    """Install the Clio 0.7 relation companions on a mapped class.

    For every one-to-many or many-to-many relation ``rel`` to a versioned
    class: ``rel_original``, ``rel_published``, ``rel_editable``,
    ``rel_actual``, ``rel_archived``, and ``rel`` becomes read-through for
    UPDATABLE versions.  Many-to-one relations get nothing.  Calling it
    twice is harmless.
    """
    for prop in relations_of(cls).managed:
        if prop.parent.class_ is not cls:
            continue
        key = prop.key
        setattr(cls, key, ReadThroughRelation(prop))
        setattr(cls, f"{key}_original", OriginalRelation(prop))
        for view in _FILTERS:
            setattr(cls, f"{key}_{view}", FilteredRelation(prop, view))
