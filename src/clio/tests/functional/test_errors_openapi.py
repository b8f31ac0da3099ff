"""The error contract of the API, CSRF, and the OpenAPI document."""

import pytest
from pyramid.csrf import CookieCSRFStoragePolicy, get_csrf_token
from pyramid.testing import DummyRequest
from sqlalchemy import exc as sa_exc

import clio
from clio.api import clio_error_view, database_error_view
from clio.tests.functional.support import EDITOR, PUBLISHER, VIEWER, create

# --- errors ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, path, allowed",
    [
        ("put", "/clio/pages", "GET, POST"),
        ("delete", "/clio/pages/1", "GET, PATCH"),
        ("post", "/clio/pages/1/versions", "GET"),
        ("post", "/clio/pages/1/history", "GET"),
        ("patch", "/clio/pages/1/diff", "GET"),
        ("get", "/clio/pages/1/publish", "POST"),
        ("post", "/clio/openapi.json", "GET"),
    ],
)
def test_a_wrong_method_is_405_with_allow(app, method, path, allowed):
    response = getattr(app, method)(path, headers=PUBLISHER, status=405)
    assert response.json["error"] == "MethodNotAllowed"
    assert response.headers["Allow"] == allowed


@pytest.mark.parametrize(
    "path",
    ["/clio", "/clio/", "/clio/pages/1/history/extra", "/clio/pages/1/a/b", "/clio/%ff", "/clio/pages/%C3%28"],
)
def test_paths_under_the_prefix_that_match_nothing_are_json_404(app, path):
    response = app.get(path, status=404)
    assert response.content_type == "application/json"
    assert response.json["error"] == "NotFound"


def test_csrf_checks_stay_on(make_app):
    def setup(config):
        config.set_csrf_storage_policy(CookieCSRFStoragePolicy())
        config.set_default_csrf_options(require_csrf=True)
        config.add_route("token", "/token")
        config.add_view(lambda request: {"token": get_csrf_token(request)}, route_name="token",
                        renderer="json")

    app = make_app(setup=setup)
    response = app.post_json("/clio/pages", {"title": "x"}, headers=EDITOR, status=400)
    assert response.json["error"] == "BadCSRFToken"
    token = app.get("/token").json["token"]
    csrf = {**PUBLISHER, "X-CSRF-Token": token}
    code = app.post_json("/clio/pages", {"title": "x"}, headers=csrf, status=201).json["code"]
    app.patch_json(f"/clio/pages/{code}", {"title": "y"}, headers=PUBLISHER, status=400)
    app.patch_json(f"/clio/pages/{code}", {"title": "y"}, headers=csrf, status=200)
    app.post(f"/clio/pages/{code}/publish", headers=PUBLISHER, status=400)
    app.post(f"/clio/pages/{code}/publish", headers=csrf, status=200)
    app.get(f"/clio/pages/{code}", status=200)


def test_database_errors_become_400_or_409():
    request = DummyRequest()
    orig = Exception("refused\nsecond line")
    response = database_error_view(sa_exc.IntegrityError("INSERT", {}, orig), request)
    assert (response.status_code, response.json) == (
        409,
        {"error": "IntegrityError", "message": "refused"},
    )
    response = database_error_view(sa_exc.DataError("INSERT", {}, orig), request)
    assert (response.status_code, response.json["error"]) == (400, "DataError")
    unbindable = sa_exc.StatementError("bad value", "INSERT", {}, TypeError("no"))
    assert database_error_view(unbindable, request).status_code == 400
    broken = sa_exc.OperationalError("SELECT", {}, Exception("server gone"))
    with pytest.raises(sa_exc.OperationalError):
        database_error_view(broken, request)


@pytest.mark.parametrize(
    "error, status",
    [
        (clio.PublishError("x"), 409),
        (clio.ImmutableVersionError("x"), 409),
        (clio.ConflictError("x"), 409),
        (clio.ScheduleError("x"), 409),
        (clio.ViewError("x"), 400),
        (clio.InvalidCodeError("x"), 400),
        (clio.ClioError("x"), 409),
    ],
)
def test_clio_errors_map_to_statuses(error, status):
    response = clio_error_view(error, DummyRequest())
    assert response.status_code == status
    assert response.json == {"error": type(error).__name__, "message": "x"}


# --- OpenAPI -------------------------------------------------------------------------------


def resolve(document, ref):
    node = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def test_the_openapi_document_describes_every_route(app):
    document = app.get("/clio/openapi.json").json
    assert document["openapi"].startswith("3.")
    assert document["servers"] == [{"url": "http://localhost"}]
    paths = document["paths"]
    for name in ("pages", "notes", "labels"):
        base = f"/clio/{name}"
        assert set(paths[base]) == {"get", "post"}
        assert set(paths[base + "/{code}"]) == {"get", "patch"}
        for tail in ("versions", "history", "diff"):
            assert set(paths[f"{base}/{{code}}/{tail}"]) == {"get"}
        for transition in ("publish", "edit", "update", "delete", "revert", "discard", "expire"):
            assert set(paths[f"{base}/{{code}}/{transition}"]) == {"post"}
    for ref in set(refs(document)):
        assert resolve(document, ref) is not None
    operations = [op["operationId"] for item in paths.values() for op in item.values()]
    assert len(operations) == len(set(operations))
    schemas = document["components"]["schemas"]
    note = schemas["NoteVersion"]["properties"]
    assert note["title"] == {"type": "string", "maxLength": 20}
    assert note["due"] == {"type": "string", "format": "date", "nullable": True}
    assert note["status_name"]["enum"][-1] == "archived"
    assert schemas["NoteCreate"]["required"] == ["title"]
    assert "status" not in schemas["NoteChange"]["properties"]
    assert "required" not in schemas["PageCreate"]


def test_the_openapi_document_answers_what_the_api_does(app):
    """Every documented success status of a few operations is what the
    API answers."""
    document = app.get("/clio/openapi.json").json
    paths = document["paths"]
    created = create(app)
    assert "201" in paths["/clio/pages"]["post"]["responses"]
    assert set(created.json) == set(
        document["components"]["schemas"]["PageVersion"]["properties"]
    )
    code = created.json["code"]
    app.post(f"/clio/pages/{code}/delete", headers=EDITOR, status=204)
    assert "204" in paths["/clio/pages/{code}/delete"]["post"]["responses"]
    app.get("/clio/pages/1/history", headers=VIEWER, status=404)
    assert "404" in paths["/clio/pages/{code}/history"]["get"]["responses"]
