"""``clio.diff``: what changed between two versions of one object.

Only the application's own columns count: primary key, foreign keys and
clio's bookkeeping columns are left out.  Relations to other versioned
classes are compared by ``code``, since every version of a related object
has another row id.
"""

from __future__ import annotations

import sqlalchemy as sa

from clio.exceptions import CompareError
from clio.relations import related, relations_of
from clio.schema import BOOKKEEPING_COLUMNS


def user_columns(cls) -> list[str]:
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


def diff(old, new) -> dict:
    """Field -> (old, new) for each user column that differs; relations as
    described in the documentation (added / removed / changed codes)."""
    if type(old) is not type(new):
        raise CompareError(
            f"cannot compare a {type(old).__name__} with a {type(new).__name__}"
        )
    if old.code != new.code:
        raise CompareError(
            f"cannot compare versions of different objects ({old.code} and {new.code})"
        )
    changes: dict = {}
    before, after = _values(old), _values(new)
    for key in before:
        if before[key] != after[key]:
            changes[key] = (before[key], after[key])
    relations = relations_of(type(old))
    for prop in relations.one_to_many + relations.many_to_many:
        mine = {item.code: item for item in related(old, prop) if not item.is_archived()}
        theirs = {item.code: item for item in related(new, prop) if not item.is_archived()}
        added = sorted(set(theirs) - set(mine))
        removed = sorted(set(mine) - set(theirs))
        changed = sorted(
            code
            for code in set(mine) & set(theirs)
            if _values(mine[code]) != _values(theirs[code])
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
