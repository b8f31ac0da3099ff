"""Fuzzing the JSON API: no 500, no HTML error, nothing changed by a refusal.

schemathesis generates requests from the plugin's own OpenAPI document
(``/clio/openapi.json``) and sends them to the application in-process
(WSGI), as a publisher, in a bounded, derandomized run.  Hand-written
malformed inputs cover what a schema-driven generator does not: huge
bodies, wrong JSON types, unicode, SQL-looking strings, negative and huge
codes, invalid dates.  Every refused request must leave the committed rows
as they were.
"""

from __future__ import annotations

import json

import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from pyramid.config import Configurator
from sqlalchemy.orm import sessionmaker
from webtest import TestApp

import clio
from clio.tests.functional.support import PUBLISHER, HeaderSecurityPolicy
from clio.tests.models import Page

FIGURES = {"schemathesis": 0, "malformed": 0}
EXAMPLES = 15  # per API operation


def make_wsgi(engine):
    config = Configurator(settings={})
    config.set_security_policy(HeaderSecurityPolicy())
    config.include("clio")
    config.set_clio_session_factory(sessionmaker(bind=engine))
    config.add_clio_model(Page, "pages")
    return config.make_wsgi_app()


def page_rows(engine):
    table = Page.__table__
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.select(table).order_by(table.c.id))]


@pytest.fixture
def api(engine):
    table = Page.__table__
    with engine.begin() as conn:
        conn.execute(table.delete())
    wsgi = make_wsgi(engine)
    app = TestApp(wsgi)
    code = app.post_json("/clio/pages", {"title": "seed", "code": 1}, headers=PUBLISHER).json["code"]
    app.post(f"/clio/pages/{code}/publish", headers=PUBLISHER)
    yield wsgi, app
    with engine.begin() as conn:
        conn.execute(table.delete())


def test_schemathesis_finds_no_server_error(api, engine):
    wsgi, _ = api
    schema = schemathesis.openapi.from_wsgi("/clio/openapi.json", wsgi)
    failures = []
    seen = 0
    for operation in schema.get_all_operations():
        operation = operation.ok()
        strategy = operation.as_strategy()

        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def run(case):
            nonlocal seen
            case.headers = {**(case.headers or {}), **PUBLISHER}
            response = case.call()
            seen += 1
            headers = {key.lower(): value for key, value in response.headers.items()}
            kind = headers.get("content-type", "")
            kind = kind[0] if isinstance(kind, list) else kind
            if response.status_code >= 500 or (
                response.status_code != 204 and response.status_code != 304 and "json" not in kind
            ):
                failures.append((case.method, case.formatted_path, response.status_code, kind))

        run()
    FIGURES["schemathesis"] += seen
    assert seen > 0
    assert failures == []
    with sa.orm.Session(engine) as session:
        assert clio.check(session, Page) == []


HUGE = "x" * 2_000_000
MALFORMED = [
    ("post", "/clio/pages", HUGE),
    ("post", "/clio/pages", json.dumps({"title": HUGE})),
    ("post", "/clio/pages", "[1, 2, 3]"),
    ("post", "/clio/pages", '"just a string"'),
    ("post", "/clio/pages", "{not json"),
    ("post", "/clio/pages", json.dumps({"title": 5})),
    ("post", "/clio/pages", json.dumps({"title": None})),
    ("post", "/clio/pages", json.dumps({"title": ["a"]})),
    ("post", "/clio/pages", json.dumps({"title": {"a": 1}})),
    ("post", "/clio/pages", json.dumps({"title": "x", "code": -1})),
    ("post", "/clio/pages", json.dumps({"title": "x", "code": 2**70})),
    ("post", "/clio/pages", json.dumps({"title": "x", "code": "1; DROP TABLE clio_page"})),
    ("post", "/clio/pages", json.dumps({"title": "x", "code": 1.5})),
    ("post", "/clio/pages", json.dumps({"title": "x", "code": True})),
    ("post", "/clio/pages", json.dumps({"title": "x", "status": 6})),
    ("post", "/clio/pages", json.dumps({"title": "x", "id": 1})),
    ("post", "/clio/pages", json.dumps({"title": "x", "published_start_timestamp": "yesterday"})),
    ("post", "/clio/pages", json.dumps({"title": "x", "nosuchfield": 1})),
    ("post", "/clio/pages", json.dumps({"title": "x", "code": 1})),  # in use
    ("patch", "/clio/pages/1", json.dumps({"title": "x"})),  # published: 409
    ("patch", "/clio/pages/1", json.dumps({"title": 7})),
    ("patch", "/clio/pages/1", "\ud800"),
    ("post", "/clio/pages/1/publish", json.dumps({"at": "not a date"})),
    ("post", "/clio/pages/1/publish", json.dumps({"at": "2020-01-01T00:00:00Z"})),
    ("post", "/clio/pages/1/publish", json.dumps({"at": "2999-13-45T25:61:00Z"})),
    ("post", "/clio/pages/1/publish", json.dumps({"at": "2999-01-01T00:00:00"})),  # naive
    ("post", "/clio/pages/1/publish", json.dumps({"at": 12345})),
    ("post", "/clio/pages/1/expire", json.dumps({"at": "-1"})),
    ("post", "/clio/pages/1/publish", json.dumps([1])),
    ("post", "/clio/pages/-1/publish", ""),
    ("post", f"/clio/pages/{2**70}/publish", ""),
    ("post", "/clio/pages/1%27%20OR%201=1/publish", ""),
    ("post", "/clio/pages/1/frobnicate", ""),
    ("get", "/clio/pages?limit=-1", None),
    ("get", "/clio/pages?limit=1001", None),
    ("get", "/clio/pages?limit=abc", None),
    ("get", "/clio/pages?offset=-5", None),
    ("get", f"/clio/pages?offset={2**70}", None),
    ("get", "/clio/pages?view=drafts%27--", None),
    ("get", "/clio/pages?as_of=not-a-date", None),
    ("get", "/clio/pages?as_of=9999-99-99", None),
    ("get", "/clio/pages/1?as_of=%00", None),
    ("get", "/clio/pages/%E2%98%83", None),
    ("get", f"/clio/pages/{2**70}", None),
    ("get", "/clio/pages/1/diff?from=abc&to=1", None),
    ("get", f"/clio/pages/1/diff?from={2**70}", None),
    ("get", "/clio/pages/1/diff?from=-1&to=-2", None),
]


@pytest.mark.parametrize("method, path, body", MALFORMED)
def test_malformed_input_is_refused_cleanly(api, engine, method, path, body):
    _, app = api
    before = page_rows(engine)
    headers = {**PUBLISHER, "Content-Type": "application/json"}
    if body is None:
        response = app.request(path, method=method.upper(), headers=headers, expect_errors=True)
    else:
        data = body.encode("utf-8", "surrogatepass")
        response = app.request(path, method=method.upper(), headers=headers, body=data,
                               expect_errors=True)
    FIGURES["malformed"] += 1
    assert response.status_int < 500, response.text[:500]
    if response.status_int >= 400:
        assert response.content_type == "application/json", response.text[:200]
        assert set(response.json) >= {"error", "message"}
        assert page_rows(engine) == before
