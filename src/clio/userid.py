"""Who is acting: the user id recorded on versions.

The id comes, in this order, from ``session.info['clio.userid']`` (a string
or a zero-argument callable; the Pyramid layer puts the request's user
there), from a global ``ICurrentUserId`` utility (Clio 0.7 programs), and
finally ``'unknown'``.  Keeping it on the session means no global state is
needed to know who acts in a request.
"""

from __future__ import annotations

from zope.component import queryUtility

from clio.interfaces import ICurrentUserId

UNKNOWN_USERID = "unknown"
SESSION_KEY = "clio.userid"


def session_userid(session) -> str | None:
    """The user id the session knows, or None."""
    if session is None:
        return None
    value = session.info.get(SESSION_KEY)
    if callable(value):
        value = value()
    return value


def current_userid(session=None) -> str:
    """The acting user id, following the documented order."""
    value = session_userid(session)
    if value is not None:
        return value
    provider = queryUtility(ICurrentUserId)
    if provider is not None:
        return provider()
    return UNKNOWN_USERID
