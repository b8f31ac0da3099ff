"""Helpers of the API tests: the test security policy, users, and short
ways to make objects through the API."""

from __future__ import annotations

from pyramid.security import Allowed, Denied

from clio.tests import models
from clio.tests.functional import models as api_models

#: user -> permissions
GRANTS = {
    "viewer": {"clio.view"},
    "editor": {"clio.view", "clio.edit"},
    "publisher": {"clio.view", "clio.edit", "clio.publish"},
}
VIEWER = {"X-User": "viewer"}
EDITOR = {"X-User": "editor"}
PUBLISHER = {"X-User": "publisher"}

#: Tables the API tests write, children first.
TABLES = (
    "clio_page_tag",
    "clio_paragraph",
    "clio_page",
    "clio_tag",
    "clio_api_note",
    "clio_api_label",
)


class HeaderSecurityPolicy:
    """The user is the ``X-User`` header; permissions come from GRANTS."""

    def __init__(self, grants=GRANTS):
        self.grants = grants

    def identity(self, request):
        return request.headers.get("X-User")

    def authenticated_userid(self, request):
        return self.identity(request)

    def permits(self, request, context, permission):
        user = self.identity(request)
        if permission in self.grants.get(user, ()):
            return Allowed(f"{user} may {permission}")
        return Denied(f"{user or 'anonymous'} may not {permission}")

    def remember(self, request, userid, **kw):
        return []

    def forget(self, request, **kw):
        return []


def empty_tables(engine) -> None:
    with engine.begin() as conn:
        for name in TABLES:
            tables = models.metadata.tables
            table = tables[name] if name in tables else api_models.metadata.tables[name]
            conn.execute(table.delete())


def create(app, path="/clio/pages", body=None, user=PUBLISHER, **kw):
    return app.post_json(path, body if body is not None else {"title": "Hello"}, headers=user, **kw)


def published_page(app, title="Hello", code=None):
    """Create and publish a page; return its code."""
    body = {"title": title}
    if code is not None:
        body["code"] = code
    code = create(app, body=body).json["code"]
    app.post(f"/clio/pages/{code}/publish", headers=PUBLISHER)
    return code
