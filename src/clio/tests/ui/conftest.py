"""The demo application with the editorial UI, on a temporary SQLite file.

These tests run on SQLite only: they test the UI and the demo (which is
SQLite by design), not database behaviour, which the engine's and the
API's tests cover on all three databases.
"""

from __future__ import annotations

import pytest
from webtest import TestApp

from clio.demo import main

SECRET = "test-secret"


def demo_settings(path) -> dict:
    return {"sqlalchemy.url": f"sqlite:///{path}", "demo.secret": SECRET}


@pytest.fixture
def demo_app(tmp_path):
    """A fresh, seeded demo application (anonymous)."""
    return TestApp(main({}, **demo_settings(tmp_path / "demo.sqlite")))


def login(app: TestApp, userid: str) -> TestApp:
    form = app.get("/login").forms[0]
    form["userid"] = userid
    form["password"] = "demo"
    assert form.submit().status_int == 303
    return app


@pytest.fixture
def editor(demo_app):
    return login(demo_app, "ed")


@pytest.fixture
def publisher(demo_app):
    return login(demo_app, "pat")


def flash_errors(response) -> list[str]:
    """The error messages shown at the top of a page."""
    return [p.text for p in response.html.select("p.flash.error")]
