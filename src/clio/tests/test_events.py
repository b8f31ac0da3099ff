"""Events of transitions, through the global registry (no Pyramid)."""

import pytest
from zope.component import getGlobalSiteManager

from clio import events
from clio.tests.models import A


@pytest.fixture
def received():
    seen = []

    def handler(event):
        seen.append(event)

    registry = getGlobalSiteManager()
    registry.registerHandler(handler, (events.IClioEvent,))
    yield seen
    registry.unregisterHandler(handler, (events.IClioEvent,))


def kinds(seen):
    return [type(e).__name__ for e in seen]


def test_events_of_a_life(session, received):
    a = A(1, "A")
    session.add(a)
    session.flush()
    assert kinds(received) == ["ObjectCreated"]
    assert received[0].version is a and received[0].request is None
    received.clear()
    a.publish()
    assert kinds(received) == ["VersionPublished"]
    assert received[0].previous is None
    received.clear()
    e = a.edit()
    assert kinds(received) == ["VersionEdited"]
    assert (received[0].version, received[0].previous) == (e, a)
    received.clear()
    assert a.edit() is e
    assert received == []  # nothing changed, nothing said
    e.publish()
    assert kinds(received) == ["VersionPublished", "VersionArchived"]
    assert (received[0].version, received[0].previous, received[1].version) == (e, a, a)
    received.clear()
    x = e.delete()
    assert kinds(received) == ["DeletionRequested"]
    assert (received[0].version, received[0].previous) == (x, e)
    received.clear()
    x.revert()
    assert kinds(received) == ["VersionReverted"]
    received.clear()
    u = e.update()
    assert kinds(received) == ["VersionUpdated"]
    received.clear()
    assert u.discard() is e
    assert kinds(received) == ["VersionDiscarded"]
    assert (received[0].version, received[0].previous) == (e, u)
    received.clear()
    deletion = e.delete()
    received.clear()
    deletion.publish()
    assert kinds(received) == ["VersionArchived"]
    assert received[0].version is e
    assert all(ev.userid == "unknown" for ev in received)


def test_subscriber_error_propagates(session):
    def refuse(event):
        raise RuntimeError("no publishing today")

    registry = getGlobalSiteManager()
    registry.registerHandler(refuse, (events.IVersionPublished,))
    try:
        a = A(1, "A")
        session.add(a)
        with pytest.raises(RuntimeError):
            a.publish()
    finally:
        registry.unregisterHandler(refuse, (events.IVersionPublished,))
