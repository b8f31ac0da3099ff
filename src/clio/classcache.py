"""What clio works out once per mapped class, kept on the class itself.

Relation lists, the base mapper, the user columns and the run's prepared
statements depend only on the mapping, and transitions ask for them for
every version they touch.  They live in one dictionary stored on each
class (never inherited: a subclass has mappings of its own), so there is
no module-level state, and they are forgotten together when SQLAlchemy
configures mappers again (a mapping may have gained relationships).
"""

from __future__ import annotations

from typing import Any, Callable, Hashable

_KEY = "_clio_cache"


def class_cache(cls: type, name: Hashable, make: Callable[[], Any]) -> Any:
    """``cls``'s cached ``name``, made by ``make()`` the first time.

    ``name`` is any hashable key: a string, or a tuple for what is made per
    relation, dialect or variant (``("statements", "sqlite")``)."""
    cache = cls.__dict__.get(_KEY)
    if cache is None:
        cache = {}
        type.__setattr__(cls, _KEY, cache)
    try:
        return cache[name]
    except KeyError:
        found = cache[name] = make()
        return found


def forget_class_cache(cls: type) -> None:
    """Drop everything cached for ``cls``; it is made again on demand."""
    if _KEY in cls.__dict__:
        type.__delattr__(cls, _KEY)
