"""``clio.diff``: what changed between two versions of one object.

Only the application's own columns count: primary key, foreign keys and
clio's bookkeeping columns are left out (a new version always has another
id, status and timestamps, which is not a change anyone made).

Relations to other versioned classes are compared by ``code``, since every
version of a related object is another row.  What a version's relation
*contains* depends on what the version is:

* a pending version (new, editable, updatable, pending deletion) has the
  children an editor sees: those in ``ACTUAL_STATUSES``.  Children in a
  deleted status are on their way out and count as removed.  An UPDATABLE
  version reads its published version's relations too, because an update
  does not copy the children (they move to it when it is published);
* a live version has its children in a published status;
* an archived version has the children of its object that were live at the
  last instant of its own published life, whichever row of the object they
  hang from now (an update's publication moves them to the successor).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import object_session

from clio import status as st
from clio.exceptions import CompareError
from clio.relations import related, relations_of
from clio.schema import BOOKKEEPING_COLUMNS


def user_columns(cls) -> list[str]:
    """The attribute names of ``cls``'s own columns (no primary key, foreign
    keys or bookkeeping columns)."""
    mapper = sa.inspect(cls)
    skip = set(BOOKKEEPING_COLUMNS)
    for col in mapper.primary_key:
        skip.add(mapper.get_property_by_column(col).key)
    for prop in mapper.column_attrs:
        if any(col.foreign_keys for col in prop.columns):
            skip.add(prop.key)
    return [prop.key for prop in mapper.column_attrs if prop.key not in skip]


def _values(version) -> dict:
    return {key: getattr(version, key) for key in user_columns(type(version))}


def _sibling_published(version):
    from clio.workflow import sibling

    return sibling(version, (st.PUBLISHED_UNDER_UPDATE,))


def _children_query(version, prop, owners, *criteria) -> list | None:
    """The one-to-many children hanging from the rows ``owners`` select,
    read from the database (loaded collections may be stale: the workflow
    sets foreign keys of copies, not collections)."""
    session = object_session(version)
    if session is None or len(prop.local_remote_pairs) != 1:
        return None
    from clio.views import view

    parent_col, child_col = prop.local_remote_pairs[0]
    target = prop.mapper.class_
    ids = sa.select(parent_col).where(owners(parent_col.table))
    stmt = sa.select(target).where(child_col.in_(ids), *criteria).options(view("all"))
    return list(session.scalars(stmt))


def _archived_members(version, prop) -> list:
    """The related versions live at the last instant of ``version``'s
    published life; one-to-many children are looked for under every row of
    the object, since an update's publication moves them to the successor."""
    end = version.published_end_timestamp
    if end is None:
        return related(version, prop)
    target = prop.mapper.class_
    if prop.secondary is None:
        found = _children_query(
            version,
            prop,
            lambda table: table.c.code == version.code,
            target.published_start_timestamp < end,
            sa.or_(
                target.published_end_timestamp.is_(None),
                target.published_end_timestamp >= end,
            ),
        )
        if found is not None:
            return found
    return [
        item
        for item in related(version, prop)
        if item.published_start_timestamp is not None
        and item.published_start_timestamp < end
        and (item.published_end_timestamp is None or item.published_end_timestamp >= end)
    ]


def members(version, prop) -> list:
    """What ``version``'s relation ``prop`` contains (see the module
    documentation)."""
    status = version.status
    if st.is_archived_status(status):
        return _archived_members(version, prop)
    if status in st.PUBLISHED_STATUSES:
        wanted = st.PUBLISHED_STATUSES
        owners = [version]
    else:
        wanted = st.ACTUAL_STATUSES
        owners = [version]
        if status == st.UPDATABLE:
            published = _sibling_published(version)
            if published is not None:
                owners.append(published)
    items = None
    if prop.secondary is None and all(o.id is not None for o in owners):
        ids = [o.id for o in owners]
        items = _children_query(
            version, prop, lambda table: table.c.id.in_(ids)
        )
    if items is None:
        items = [item for owner in owners for item in related(owner, prop)]
    return [i for i in items if i.status in wanted]


def _by_code(items) -> dict:
    found: dict = {}
    for item in items:
        found.setdefault(item.code, item)
    return found


def _check(old, new) -> None:
    from clio.model import VersionMethods

    for version in (old, new):
        if not isinstance(version, VersionMethods):
            raise CompareError(f"{version!r} is not a version managed by clio")
    if type(old) is not type(new):
        raise CompareError(
            f"cannot compare a {type(old).__name__} with a {type(new).__name__}"
        )
    if old.code != new.code:
        raise CompareError(
            f"cannot compare versions of different objects "
            f"({type(old).__name__} codes {old.code} and {new.code})"
        )


def diff(old, new) -> dict:
    """The changes from version ``old`` to version ``new`` of one object.

    User columns that differ appear as ``field -> (old, new)``; a
    one-to-many or many-to-many relation that differs as ``name ->
    {"added": [codes], "removed": [codes], "changed": [codes]}`` (sorted;
    "changed" are related objects on both sides whose user columns differ);
    a many-to-one relation as ``name -> (old code, new code)``.  Versions
    of different classes or objects raise :class:`clio.CompareError`.
    """
    _check(old, new)
    changes: dict = {}
    before, after = _values(old), _values(new)
    for key in before:
        if before[key] != after[key]:
            changes[key] = (before[key], after[key])
    relations = relations_of(type(old))
    for prop in relations.one_to_many + relations.many_to_many:
        mine = _by_code(members(old, prop))
        theirs = _by_code(members(new, prop))
        added = sorted(set(theirs) - set(mine))
        removed = sorted(set(mine) - set(theirs))
        changed = sorted(
            code
            for code in set(mine) & set(theirs)
            if mine[code] is not theirs[code]
            and _values(mine[code]) != _values(theirs[code])
        )
        if added or removed or changed:
            changes[prop.key] = {"added": added, "removed": removed, "changed": changed}
    for prop in relations.many_to_one:
        a, b = getattr(old, prop.key), getattr(new, prop.key)
        code_a = a.code if a is not None else None
        code_b = b.code if b is not None else None
        if code_a != code_b:
            changes[prop.key] = (code_a, code_b)
    return changes
