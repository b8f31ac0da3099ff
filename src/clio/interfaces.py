"""The contracts of clio, as zope.interface interfaces.

``IWorkflowed`` and ``IVersioned`` are what applications adapt versions to;
an application can register its own adapter for a class (a stricter
workflow, say) in a component registry and clio will use it.
``ICurrentUserId`` is kept from Clio 0.7 so that old programs that register a
global user-id utility keep working.
"""

from __future__ import annotations

from zope.interface import Attribute, Interface


class IClioModel(Interface):
    """Marker for every class whose instances are versions managed by clio."""


class ICurrentUserId(Interface):
    """A zero-argument callable returning the id of the acting user."""

    def __call__():
        """Return the current user id as a string."""


class IWorkflowed(Interface):
    """The publication workflow of one version."""

    def publish(at=None):
        """Publish this version (now, or at the future moment ``at``)."""

    def edit():
        """Return the editable version, making one (children copied)."""

    def update():
        """Return the updatable version, making one (children not copied)."""

    def delete():
        """Ask for the object's deletion; it happens when published."""

    def revert():
        """Reset pending changes to the published content."""

    def discard():
        """Throw a pending edit, update or deletion away."""

    def expire(at=None):
        """End the published life of the object, now or at ``at``."""

    def mark_changed():
        """Record that the user changed the data of this version."""


class IVersioned(Interface):
    """Read access to the versions and history of one object."""

    def versions():
        """Every version of the object, oldest first."""

    def history():
        """The object's history as a list of HistoryEvent, oldest first."""

    def editable_version():
        """The version an editing interface shows, or None."""

    def published_version():
        """The version the public sees now, or None."""

    def as_of(moment):
        """The version that was published at ``moment``, or None."""

    def diff(other):
        """The changes from this version to ``other``."""


class IHistoryEvent(Interface):
    event_type = Attribute("One of the HISTORY_* strings.")
    timestamp = Attribute("When it happened (aware UTC datetime).")
    version = Attribute("The version the event belongs to.")
    userid = Attribute("Who did it (may be None for archiving).")
