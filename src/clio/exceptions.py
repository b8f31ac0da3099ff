"""Errors raised by clio.

Every error is a :class:`ClioError`, so an application can catch them all in
one place (the Pyramid layer turns them into JSON answers).  A transition that
raises has changed nothing: the checks run before the first change.
"""

from __future__ import annotations

try:  # let pyramid_tm/pyramid_retry retry a request that lost a race
    from transaction.interfaces import TransientError as _Transient
except ImportError:  # pragma: no cover - transaction is a dependency
    _Transient = Exception


class ClioError(Exception):
    """Base class of every clio error."""


class PublishError(ClioError):
    """The version cannot be published in its current state."""


class EditError(ClioError):
    """The version cannot be edited in its current state."""


class UpdateError(ClioError):
    """The version cannot be updated in its current state."""


class DeleteError(ClioError):
    """The version cannot be deleted in its current state."""


class RevertError(ClioError):
    """The version cannot be reverted in its current state."""


class DiscardError(ClioError):
    """The version cannot be discarded in its current state."""


class ExpireError(ClioError):
    """The object cannot be expired in its current state."""


class ImmutableVersionError(ClioError):
    """A published or archived version was changed outside a transition."""


class ConflictError(ClioError, _Transient):
    """A concurrent transaction changed the same object first.

    It is a ``transaction`` TransientError, so pyramid_tm with pyramid_retry
    retries the request.
    """


class ScheduleError(ClioError):
    """A schedule is pending, or the requested schedule time is invalid."""


class UnknownStatusError(ClioError):
    """A version carries a status value that clio does not know."""


class DetachedVersionError(ClioError):
    """A transition was asked of a version that belongs to no session."""


class InvalidCodeError(ClioError):
    """A version's ``code`` is missing or not an integer."""


class RelationError(ClioError):
    """A name does not refer to a relation that clio manages."""


class ViewError(ClioError):
    """An unknown view name or an invalid ``as_of`` moment."""


class CompareError(ClioError):
    """Two versions cannot be compared (different classes or objects)."""
