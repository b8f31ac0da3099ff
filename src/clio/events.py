"""Events sent by transitions.

Each event carries ``version`` (what the transition produced or acted on),
``previous`` (what it replaced or archived, or None), ``userid`` and
``request`` (None outside a request).  They are sent inside the
transaction, after the transition: through the registry named by
``session.info['clio.registry']`` (the Pyramid layer puts the request's
registry there) or else zope.component's global registry, so a subscriber
that raises rolls the transition back with the transaction.
"""

from __future__ import annotations

from zope.interface import Attribute, Interface, implementer


class IClioEvent(Interface):
    version = Attribute("The version the transition produced or acted on.")
    previous = Attribute("The version it replaced or archived, or None.")
    userid = Attribute("The acting user id.")
    request = Attribute("The Pyramid request, or None outside a request.")


class IObjectCreated(IClioEvent):
    """A new object (its NEW version) was flushed for the first time."""


class IVersionEdited(IClioEvent):
    """An EDITABLE version was made of a published one."""


class IVersionUpdated(IClioEvent):
    """An UPDATABLE version was made of a published one."""


class IDeletionRequested(IClioEvent):
    """An object's deletion is pending (publish it to carry it out)."""


class IVersionPublished(IClioEvent):
    """A version was published (or scheduled to be)."""


class IVersionArchived(IClioEvent):
    """A published version was archived (replaced, deleted or expired)."""


class IVersionReverted(IClioEvent):
    """Pending changes were reset, or a pending deletion withdrawn."""


class IVersionDiscarded(IClioEvent):
    """A pending version was thrown away."""


class ClioEvent:
    def __init__(self, version, previous=None, userid=None, request=None):
        self.version = version
        self.previous = previous
        self.userid = userid
        self.request = request

    def __repr__(self):
        return f"<{type(self).__name__} version={self.version!r} previous={self.previous!r}>"


@implementer(IObjectCreated)
class ObjectCreated(ClioEvent):
    pass


@implementer(IVersionEdited)
class VersionEdited(ClioEvent):
    pass


@implementer(IVersionUpdated)
class VersionUpdated(ClioEvent):
    pass


@implementer(IDeletionRequested)
class DeletionRequested(ClioEvent):
    pass


@implementer(IVersionPublished)
class VersionPublished(ClioEvent):
    pass


@implementer(IVersionArchived)
class VersionArchived(ClioEvent):
    pass


@implementer(IVersionReverted)
class VersionReverted(ClioEvent):
    pass


@implementer(IVersionDiscarded)
class VersionDiscarded(ClioEvent):
    pass


REQUEST_KEY = "clio.request"


def notify(session, event) -> None:
    """Send ``event`` to the subscribers of the session's registry."""
    from clio.model import adapter_registry

    if event.request is None and session is not None:
        event.request = session.info.get(REQUEST_KEY)
    registry = adapter_registry(session)
    notify_method = getattr(registry, "notify", None)
    if notify_method is not None:  # a Pyramid registry
        notify_method(event)
    else:
        for _ in registry.subscribers((event,), None):
            pass
