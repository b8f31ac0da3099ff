"""The JSON API: create, list, read and change (SPEC §4.1)."""

from datetime import timedelta

import pytest

from clio.tests.functional.support import (
    EDITOR,
    PUBLISHER,
    VIEWER,
    create,
    published_page,
)

# --- create ---------------------------------------------------------------------


def test_create_answers_201_with_location_etag_and_the_new_version(app):
    response = app.post_json("/clio/pages", {"title": "Hello"}, headers=EDITOR, status=201)
    data = response.json
    assert response.location == f"http://localhost/clio/pages/{data['code']}"
    assert response.etag
    assert data["title"] == "Hello"
    assert data["status"] == 0 and data["status_name"] == "new"
    assert data["created_userid"] == data["changed_userid"] == "editor"
    assert data["published_start_timestamp"] is None
    assert data["created_timestamp"].endswith("Z")
    assert set(data) >= {
        "id",
        "code",
        "status",
        "created_timestamp",
        "published_start_timestamp",
        "published_end_timestamp",
        "changed_timestamp",
        "created_userid",
        "published_userid",
        "changed_userid",
    }


def test_create_generates_codes_or_takes_the_given_one(app):
    assert create(app).json["code"] == 1
    assert create(app).json["code"] == 2
    assert create(app, body={"title": "x", "code": 40}).json["code"] == 40
    assert create(app).json["code"] == 41


def test_create_with_a_code_in_use_is_409(app):
    code = published_page(app)
    response = create(app, body={"title": "again", "code": code}, status=409)
    assert response.json["error"] == "CodeInUse"


def test_create_refuses_bad_input_with_400(app):
    def refused(body, error="InvalidField", path="/clio/notes"):
        response = app.post_json(path, body, headers=EDITOR, status=400)
        assert response.content_type == "application/json"
        assert response.json["error"] == error, response.json
        return response.json["message"]

    assert "title" in refused({"priority": 1}, "MissingField")
    assert "status" in refused({"title": "x", "status": 6})
    assert "nonsense" in refused({"title": "x", "nonsense": 1})
    refused({"title": None})
    refused({"title": 5})
    refused({"title": "x" * 21})
    refused({"title": "nul\x00"})
    refused({"title": "\ud800"})
    refused({"title": "x", "priority": "high"})
    refused({"title": "x", "priority": True})
    refused({"title": "x", "priority": 2**31})
    refused({"title": "x", "big": 2**63})
    refused({"title": "x", "ratio": "NaN"})
    refused({"title": "x", "ratio": [1]})
    refused({"title": "x", "done": "yes"})
    refused({"title": "x", "due": "tomorrow"})
    refused({"title": "x", "code": "7"})
    refused({"title": "x", "code": 2**40})
    refused([1, 2], "InvalidJSON")
    refused("a string", "InvalidJSON")
    response = app.post("/clio/notes", "{bad json", headers=EDITOR, status=400)
    assert response.json["error"] == "InvalidJSON"
    response = app.post("/clio/notes", b"\xff\xfe", headers=EDITOR, status=400)
    assert response.json["error"] == "InvalidJSON"
    response = app.post("/clio/notes", "[" * 100000, headers=EDITOR, status=400)
    assert response.json["error"] == "InvalidJSON"
    response = app.post("/clio/notes", "", headers=EDITOR, status=400)
    assert response.json["error"] == "InvalidJSON"


def test_create_takes_every_column_type(app):
    body = {
        "title": "typed",
        "priority": -3,
        "big": 2**40,
        "ratio": 0.5,
        "done": True,
        "due": "2026-02-03",
    }
    data = app.post_json("/clio/notes", body, headers=EDITOR, status=201).json
    assert {key: data[key] for key in body} == body
    defaults = app.post_json("/clio/notes", {"title": "plain"}, headers=EDITOR).json
    assert (defaults["priority"], defaults["done"], defaults["due"]) == (0, False, None)


def test_create_needs_clio_edit(app):
    assert create(app, user={}, status=403).json["error"] == "Forbidden"
    assert create(app, user=VIEWER, status=403).json["error"] == "Forbidden"


def test_a_unique_column_refused_by_the_database_is_409(app):
    app.post_json("/clio/labels", {"name": "red"}, headers=EDITOR, status=201)
    response = app.post_json("/clio/labels", {"name": "red"}, headers=EDITOR, status=409)
    assert response.json["error"] == "IntegrityError"


def test_the_codes_option_generates_codes(make_app):
    from itertools import count

    from clio.tests import models

    numbers = count(100)
    app = make_app(
        setup=lambda config: config.add_clio_model(
            models.Page, "numbered", codes=lambda session: next(numbers)
        )
    )
    assert create(app, "/clio/numbered").json["code"] == 100
    assert create(app, "/clio/numbered").json["code"] == 101
    assert app.get("/clio/numbered/100?view=editable", headers=VIEWER).json["code"] == 100


# --- list -------------------------------------------------------------------------


def test_list_shows_published_versions_to_everyone(app):
    create(app)
    assert app.get("/clio/pages").json == {"items": [], "total": 0}
    code = published_page(app, "Public")
    data = app.get("/clio/pages").json
    assert data["total"] == 1
    assert [(v["code"], v["title"], v["status_name"]) for v in data["items"]] == [
        (code, "Public", "published")
    ]
    assert app.get("/clio/pages?view=published").json == data


def test_list_pagination(app):
    codes = [published_page(app, f"p{i}") for i in range(5)]
    data = app.get("/clio/pages?limit=2&offset=1").json
    assert data["total"] == 5
    assert [v["code"] for v in data["items"]] == codes[1:3]
    assert app.get("/clio/pages?limit=0").json == {"items": [], "total": 5}
    assert len(app.get("/clio/pages?limit=1000").json["items"]) == 5
    assert app.get("/clio/pages?offset=10").json == {"items": [], "total": 5}


@pytest.mark.parametrize(
    "query",
    [
        "limit=1001",
        "limit=-1",
        "limit=ten",
        "limit=",
        "offset=-1",
        "offset=1.5",
        "limit=99999999999999999999999",
        "view=drafts",
        "as_of=yesterday",
        "as_of=2026-01-01T00:00:00",
        "view=editable&as_of=2026-01-01T00:00:00Z",
        "colour=red",
        "limit=1&limit=2",
    ],
)
def test_list_refuses_bad_parameters_with_400(app, query):
    response = app.get(f"/clio/pages?{query}", headers=VIEWER, status=400)
    assert response.json["error"] == "InvalidParameter"


def test_list_views(app, clock):
    new = create(app).json["code"]
    kept = published_page(app, "kept")
    edited = published_page(app, "old")
    app.post(f"/clio/pages/{edited}/edit", headers=EDITOR)
    app.patch_json(f"/clio/pages/{edited}", {"title": "new"}, headers=EDITOR)
    gone = published_page(app, "gone")
    app.post(f"/clio/pages/{gone}/delete", headers=EDITOR)

    def listed(view):
        data = app.get(f"/clio/pages?view={view}", headers=VIEWER).json
        assert data["total"] == len(data["items"])
        return [(v["code"], v["status_name"]) for v in data["items"]]

    assert listed("editable") == [
        (new, "new"),
        (kept, "published"),
        (edited, "editable"),
        (gone, "deleted"),
    ]
    assert listed("actual") == [(new, "new"), (kept, "published"), (edited, "editable")]
    assert listed("published") == [
        (kept, "published"),
        (edited, "published_under_edit"),
        (gone, "published_under_delete"),
    ]
    assert listed("archived") == []
    app.post(f"/clio/pages/{edited}/publish", headers=PUBLISHER)
    assert listed("archived") == [(edited, "archived")]
    assert listed("scheduled") == []


def test_list_as_of_a_past_moment_is_public(app, clock):
    code = published_page(app, "first")
    between = clock.peek() + timedelta(microseconds=1)
    app.post(f"/clio/pages/{code}/edit", headers=EDITOR)
    app.patch_json(f"/clio/pages/{code}", {"title": "second"}, headers=EDITOR)
    app.post(f"/clio/pages/{code}/publish", headers=PUBLISHER)
    moment = between.isoformat().replace("+00:00", "Z")
    data = app.get("/clio/pages", {"as_of": moment}).json
    assert [v["title"] for v in data["items"]] == ["first"]
    assert [v["title"] for v in app.get("/clio/pages").json["items"]] == ["second"]
    before = (clock.peek() - timedelta(days=1)).isoformat()
    assert app.get("/clio/pages", {"as_of": before}).json["total"] == 0


def test_reading_the_future_or_drafts_needs_clio_view(app, clock):
    published_page(app)
    future = (clock.peek() + timedelta(days=1)).isoformat()
    for query in ("view=editable", "view=actual", "view=archived", "view=scheduled"):
        assert app.get(f"/clio/pages?{query}", status=403).json["error"] == "Forbidden"
        app.get(f"/clio/pages?{query}", headers=VIEWER, status=200)
    app.get("/clio/pages", {"as_of": future}, status=403)
    assert app.get("/clio/pages", {"as_of": future}, headers=VIEWER).json["total"] == 1


def test_public_read_off_needs_clio_view_for_published_reads(make_app):
    app = make_app({"clio.public_read": "false"})
    code = published_page(app)
    for path in ("/clio/pages", f"/clio/pages/{code}", "/clio/openapi.json"):
        assert app.get(path, status=403).json["error"] == "Forbidden"
        app.get(path, headers=VIEWER, status=200)


# --- one version ---------------------------------------------------------------------


def test_get_one_version_through_each_view(app, clock):
    code = published_page(app, "v1")
    response = app.get(f"/clio/pages/{code}")
    assert response.json["title"] == "v1" and response.etag
    app.post(f"/clio/pages/{code}/edit", headers=EDITOR)
    app.patch_json(f"/clio/pages/{code}", {"title": "v2"}, headers=EDITOR)
    assert app.get(f"/clio/pages/{code}").json["status_name"] == "published_under_edit"
    assert app.get(f"/clio/pages/{code}?view=editable", headers=VIEWER).json["title"] == "v2"
    assert app.get(f"/clio/pages/{code}?view=actual", headers=VIEWER).json["title"] == "v2"
    app.get(f"/clio/pages/{code}?view=archived", headers=VIEWER, status=404)
    app.post(f"/clio/pages/{code}/publish", headers=PUBLISHER)
    app.post(f"/clio/pages/{code}/edit", headers=EDITOR)
    app.patch_json(f"/clio/pages/{code}", {"title": "v3"}, headers=EDITOR)
    app.post(f"/clio/pages/{code}/publish", headers=PUBLISHER)
    latest_archive = app.get(f"/clio/pages/{code}?view=archived", headers=VIEWER).json
    assert latest_archive["title"] == "v2" and latest_archive["status_name"] == "archived"
    long_ago = (clock.peek() - timedelta(days=9)).isoformat()
    response = app.get(f"/clio/pages/{code}", {"as_of": long_ago}, status=404)
    assert response.json["error"] == "NotFound"


def test_get_answers_304_to_a_matching_if_none_match(app):
    code = published_page(app)
    etag = app.get(f"/clio/pages/{code}").etag
    response = app.get(f"/clio/pages/{code}", headers={"If-None-Match": f'"{etag}"'}, status=304)
    assert response.body == b""


def test_get_unknown_or_malformed_codes_are_404(app):
    create(app)
    for path in ("/clio/pages/999", "/clio/pages/abc", "/clio/pages/1.5", "/clio/pages/1"):
        assert app.get(path, status=404).json["error"] == "NotFound"
    assert app.get("/clio/nothing/1", status=404).json["message"] == "unknown model 'nothing'"


# --- PATCH ------------------------------------------------------------------------------


def test_patch_changes_the_pending_version_and_stamps_it(app):
    created = create(app, user=EDITOR)
    code = created.json["code"]
    response = app.patch_json(
        f"/clio/pages/{code}", {"title": "Changed"}, headers={"X-User": "someone"}, status=403
    )
    response = app.patch_json(f"/clio/pages/{code}", {"title": "Changed"}, headers=PUBLISHER)
    data = response.json
    assert data["title"] == "Changed" and data["id"] == created.json["id"]
    assert data["changed_userid"] == "publisher" and data["created_userid"] == "editor"
    assert data["changed_timestamp"] > created.json["changed_timestamp"]
    assert response.etag != created.etag
    assert app.get(f"/clio/pages/{code}?view=editable", headers=VIEWER).etag == response.etag


def test_patch_that_changes_nothing_stamps_nothing(app):
    created = create(app, user=EDITOR)
    code = created.json["code"]
    response = app.patch_json(f"/clio/pages/{code}", {"title": "Hello"}, headers=PUBLISHER)
    assert response.json == created.json and response.etag == created.etag
    assert app.patch_json(f"/clio/pages/{code}", {}, headers=PUBLISHER).json == created.json


def test_patch_honours_if_match(app):
    created = create(app)
    code = created.json["code"]
    path = f"/clio/pages/{code}"
    response = app.patch_json(
        path, {"title": "a"}, headers={**EDITOR, "If-Match": '"stale"'}, status=412
    )
    assert response.json["error"] == "PreconditionFailed"
    response = app.patch_json(
        path, {"title": "a"}, headers={**EDITOR, "If-Match": f'"{created.etag}"'}
    )
    assert response.json["title"] == "a"
    app.patch_json(path, {"title": "b"}, headers={**EDITOR, "If-Match": f'"{created.etag}"'},
                   status=412)
    app.patch_json(path, {"title": "b"}, headers={**EDITOR, "If-Match": "*"})
    assert app.get(f"{path}?view=editable", headers=VIEWER).json["title"] == "b"


def test_patch_editable_and_updatable_versions(app):
    code = published_page(app, "one")
    app.post(f"/clio/pages/{code}/update", headers=EDITOR)
    data = app.patch_json(f"/clio/pages/{code}", {"title": "two"}, headers=EDITOR).json
    assert data["status_name"] == "updatable" and data["title"] == "two"
    assert app.get(f"/clio/pages/{code}").json["title"] == "one"


def test_patch_of_published_archived_or_deleted_objects_is_409(app):
    code = published_page(app)
    response = app.patch_json(f"/clio/pages/{code}", {"title": "x"}, headers=EDITOR, status=409)
    assert response.json["error"] == "ImmutableVersionError"
    app.post(f"/clio/pages/{code}/delete", headers=EDITOR)
    response = app.patch_json(f"/clio/pages/{code}", {"title": "x"}, headers=EDITOR, status=409)
    assert response.json["error"] == "EditError"
    app.post(f"/clio/pages/{code}/publish", headers=PUBLISHER)
    response = app.patch_json(f"/clio/pages/{code}", {"title": "x"}, headers=EDITOR, status=409)
    assert response.json["error"] == "ImmutableVersionError"
    assert app.get(f"/clio/pages/{code}", status=404)


def test_patch_bad_input(app):
    code = create(app).json["code"]
    path = f"/clio/pages/{code}"
    assert app.patch_json(path, {"status": 6}, headers=EDITOR, status=400).json["error"] == "InvalidField"
    assert app.patch_json(path, {"code": 6}, headers=EDITOR, status=400).json["error"] == "InvalidField"
    assert app.patch_json(path, {"title": 1}, headers=EDITOR, status=400).json["error"] == "InvalidField"
    assert app.patch(path, "nope", headers=EDITOR, status=400).json["error"] == "InvalidJSON"
    assert app.patch(path, "", headers=EDITOR, status=400).json["error"] == "InvalidJSON"
    assert app.patch_json("/clio/pages/77", {"title": "x"}, headers=EDITOR, status=404)
