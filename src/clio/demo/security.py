"""Who may do what in the demo: two users, a session cookie.

The user id is remembered in the Pyramid session (a signed cookie) by
:class:`pyramid.authentication.SessionAuthenticationHelper`; permissions
come from :data:`USERS`.  A real application asks its user store and
hashes its passwords.
"""

from __future__ import annotations

import hmac

from pyramid.authentication import SessionAuthenticationHelper
from pyramid.security import Allowed, Denied

EDIT = {"clio.view", "clio.edit"}
#: user -> (password, title, permissions)
USERS = {
    "ed": ("demo", "Ed, editor", EDIT),
    "pat": ("demo", "Pat, publisher", EDIT | {"clio.publish"}),
}


def check_password(userid: str, password: str) -> bool:
    user = USERS.get(userid)
    return user is not None and hmac.compare_digest(user[0], password)


class SecurityPolicy:
    """Session-based authentication against :data:`USERS`."""

    def __init__(self):
        self.helper = SessionAuthenticationHelper()

    def identity(self, request):
        userid = self.helper.authenticated_userid(request)
        return userid if userid in USERS else None

    def authenticated_userid(self, request):
        return self.identity(request)

    def permits(self, request, context, permission):
        userid = self.identity(request)
        if userid is not None and permission in USERS[userid][2]:
            return Allowed(f"{userid} has {permission}")
        return Denied(f"{userid or 'anonymous'} lacks {permission}")

    def remember(self, request, userid, **kw):
        return self.helper.remember(request, userid, **kw)

    def forget(self, request, **kw):
        return self.helper.forget(request, **kw)
