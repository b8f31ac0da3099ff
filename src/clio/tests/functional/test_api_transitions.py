"""The JSON API: transitions, versions, history and diff (SPEC §3.4, §4.1)."""

from datetime import timedelta

import pytest

from clio.serialize import iso
from clio.tests.functional.support import EDITOR, PUBLISHER, VIEWER, create, published_page


def post(app, code, transition, user=PUBLISHER, **kw):
    return app.post(f"/clio/pages/{code}/{transition}", headers=user, **kw)


def test_a_whole_life_through_the_api(app):
    code = create(app, user=EDITOR).json["code"]
    published = post(app, code, "publish").json
    assert published["status_name"] == "published"
    assert published["published_userid"] == "publisher"
    assert post(app, code, "publish").json == published  # nothing to do
    editable = post(app, code, "edit", EDITOR).json
    assert editable["status_name"] == "editable" and editable["id"] != published["id"]
    assert post(app, code, "edit", EDITOR).json == editable
    app.patch_json(f"/clio/pages/{code}", {"title": "Edited"}, headers=EDITOR)
    reverted = post(app, code, "revert", EDITOR).json
    assert reverted["title"] == "Hello" and reverted["status_name"] == "editable"
    assert post(app, code, "discard", EDITOR).json["id"] == published["id"]
    updatable = post(app, code, "update", EDITOR).json
    assert updatable["status_name"] == "updatable"
    app.patch_json(f"/clio/pages/{code}", {"title": "Updated"}, headers=EDITOR)
    response = post(app, code, "publish")
    assert response.json["title"] == "Updated" and response.etag
    deleted = post(app, code, "delete", EDITOR).json
    assert deleted["status_name"] == "deleted"
    archived = post(app, code, "publish").json
    assert archived["status_name"] == "archived" and archived["id"] == response.json["id"]
    app.get(f"/clio/pages/{code}", status=404)
    assert post(app, code, "revert", EDITOR).json["status_name"] == "archived"


@pytest.mark.parametrize("transition", ["delete", "revert", "discard"])
def test_a_transition_that_removes_a_new_object_answers_204(app, transition):
    code = create(app).json["code"]
    response = post(app, code, transition, EDITOR, status=204)
    assert response.body == b""
    app.get(f"/clio/pages/{code}/versions", headers=VIEWER, status=404)


def test_expire_ends_the_published_life(app):
    code = published_page(app)
    data = post(app, code, "expire").json
    assert data["status_name"] == "archived" and data["published_end_timestamp"]
    assert app.get("/clio/pages").json["total"] == 0


def test_transitions_not_allowed_in_the_state_are_409(app):
    code = published_page(app)
    post(app, code, "update", EDITOR)
    response = post(app, code, "edit", EDITOR, status=409)
    assert response.json["error"] == "EditError" and response.json["message"]
    assert post(app, code, "expire", status=409).json["error"] == "ExpireError"
    post(app, code, "discard", EDITOR)
    post(app, code, "expire")
    assert post(app, code, "publish", status=409).json["error"] == "PublishError"
    assert post(app, code, "edit", EDITOR, status=409).json["error"] == "EditError"
    assert post(app, code, "delete", EDITOR, status=409).json["error"] == "DeleteError"


def test_transition_permissions(app):
    code = create(app).json["code"]
    for transition in ("publish", "expire"):
        response = post(app, code, transition, EDITOR, status=403)
        assert response.json["error"] == "Forbidden"
    for transition in ("edit", "update", "delete", "revert", "discard"):
        post(app, code, transition, VIEWER, status=403)
        post(app, code, transition, {}, status=403)
    assert post(app, code, "publish").json["status_name"] == "published"


def test_unknown_transitions_codes_and_models_are_404(app):
    code = create(app).json["code"]
    response = post(app, code, "approve", status=404)
    assert response.json["error"] == "NotFound" and "approve" in response.json["message"]
    post(app, 999, "publish", status=404)
    post(app, "x", "publish", status=404)
    assert app.post("/clio/nothing/1/publish", headers=PUBLISHER, status=404).json["error"] == "NotFound"


def test_transition_bodies(app):
    code = create(app).json["code"]
    for transition, body in [
        ("edit", {"at": "2030-01-01T00:00:00Z"}),
        ("publish", {"when": "now"}),
        ("delete", {"x": 1}),
    ]:
        response = app.post_json(f"/clio/pages/{code}/{transition}", body, headers=PUBLISHER, status=400)
        assert response.json["error"] == "InvalidField"
    assert post(app, code, "publish", params="[]", status=400).json["error"] == "InvalidJSON"
    assert post(app, code, "publish", params="{", status=400).json["error"] == "InvalidJSON"
    response = app.post_json(f"/clio/pages/{code}/publish", {"at": None}, headers=PUBLISHER)
    assert response.json["status_name"] == "published"


def test_scheduled_publish_and_expiry(app, clock):
    code = published_page(app, "old")
    post(app, code, "edit", EDITOR)
    app.patch_json(f"/clio/pages/{code}", {"title": "new"}, headers=EDITOR)
    at = clock.peek() + timedelta(days=1)
    data = app.post_json(f"/clio/pages/{code}/publish", {"at": iso(at)}, headers=PUBLISHER).json
    assert data["status_name"] == "published" and data["published_start_timestamp"] == iso(at)
    assert app.get(f"/clio/pages/{code}").json["title"] == "old"
    scheduled = app.get("/clio/pages?view=scheduled", headers=VIEWER).json
    assert [(v["title"], v["status_name"]) for v in scheduled["items"]] == [
        ("old", "archived"),
        ("new", "published"),
    ]
    assert app.get(f"/clio/pages/{code}?view=scheduled", headers=VIEWER).json["title"] == "new"
    app.get("/clio/pages?view=scheduled", status=403)
    # While the schedule is pending, other transitions are refused.
    for transition in ("edit", "update", "delete", "expire", "publish"):
        assert post(app, code, transition, status=409).json["error"] == "ScheduleError"
    # Future reads need clio.view; once the moment is reached, all see it.
    app.get(f"/clio/pages/{code}", {"as_of": iso(at)}, status=403)
    assert app.get(f"/clio/pages/{code}", {"as_of": iso(at)}, headers=VIEWER).json["title"] == "new"
    clock.current = at + timedelta(seconds=1)
    assert app.get(f"/clio/pages/{code}").json["title"] == "new"
    assert app.get("/clio/pages?view=scheduled", headers=VIEWER).json["total"] == 0
    # A scheduled expiry.
    end = clock.peek() + timedelta(days=1)
    data = app.post_json(f"/clio/pages/{code}/expire", {"at": iso(end)}, headers=PUBLISHER).json
    assert data["published_end_timestamp"] == iso(end)
    assert data["status_name"] == "archived"
    assert post(app, code, "edit", EDITOR, status=409).json["error"] == "ScheduleError"
    assert app.get(f"/clio/pages/{code}").json["title"] == "new"
    clock.current = end
    app.get(f"/clio/pages/{code}", status=404)


@pytest.mark.parametrize("transition", ["revert", "discard"])
def test_revert_or_discard_cancels_a_schedule(app, clock, transition):
    code = published_page(app, "old")
    published = app.get(f"/clio/pages/{code}").json
    end = clock.peek() + timedelta(days=1)
    app.post_json(f"/clio/pages/{code}/expire", {"at": iso(end)}, headers=PUBLISHER)
    restored = post(app, code, transition, EDITOR).json
    assert restored == published
    post(app, code, "edit", EDITOR)
    app.patch_json(f"/clio/pages/{code}", {"title": "new"}, headers=EDITOR)
    app.post_json(f"/clio/pages/{code}/publish", {"at": iso(end)}, headers=PUBLISHER)
    assert post(app, code, transition, EDITOR).json["title"] == "old"
    assert app.get("/clio/pages?view=scheduled", headers=VIEWER).json["total"] == 0


@pytest.mark.parametrize("transition", ["revert", "discard"])
def test_cancelling_a_scheduled_deletion_gives_the_deletion_back(app, clock, transition):
    code = published_page(app, "old")
    published = app.get(f"/clio/pages/{code}").json
    deleted = post(app, code, "delete", EDITOR).json
    at = clock.peek() + timedelta(days=1)
    ended = app.post_json(f"/clio/pages/{code}/publish", {"at": iso(at)}, headers=PUBLISHER).json
    assert ended["status_name"] == "archived" and ended["published_end_timestamp"] == iso(at)
    scheduled = app.get("/clio/pages?view=scheduled", headers=VIEWER).json["items"]
    assert [(v["id"], v["status_name"]) for v in scheduled] == [(published["id"], "archived")]
    versions = app.get(f"/clio/pages/{code}/versions", headers=VIEWER).json["items"]
    assert {v["id"]: v["status_name"] for v in versions}[deleted["id"]] == "tombstone"
    assert app.get(f"/clio/pages/{code}").json["title"] == "old"
    assert post(app, code, "edit", EDITOR, status=409).json["error"] == "ScheduleError"
    restored = post(app, code, transition, EDITOR).json
    assert restored["id"] == published["id"]
    assert restored["status_name"] == "published_under_delete"
    assert restored["published_userid"] == published["published_userid"]
    versions = app.get(f"/clio/pages/{code}/versions", headers=VIEWER).json["items"]
    assert {v["id"]: v["status_name"] for v in versions}[deleted["id"]] == "deleted"
    # and the deletion can be withdrawn or published as before
    assert post(app, code, "revert", EDITOR).json["status_name"] == "published"


def test_scheduling_at_a_bad_moment_is_400(app, clock):
    code = create(app).json["code"]
    past = clock.peek() - timedelta(days=1)
    for at in (iso(past), "2099-01-01T00:00:00", "soon", 12):
        response = app.post_json(f"/clio/pages/{code}/publish", {"at": at}, headers=PUBLISHER, status=400)
        assert response.json["error"] == "ScheduleError", at
    app.get(f"/clio/pages/{code}?view=editable", headers=VIEWER).json["status_name"] == "new"


# --- versions, history, diff ----------------------------------------------------------


def test_versions_history_and_diff(app):
    code = published_page(app, "one")
    post(app, code, "edit", EDITOR)
    app.patch_json(f"/clio/pages/{code}", {"title": "two"}, headers=EDITOR)
    versions = app.get(f"/clio/pages/{code}/versions", headers=VIEWER).json["items"]
    assert [(v["title"], v["status_name"]) for v in versions] == [
        ("one", "published_under_edit"),
        ("two", "editable"),
    ]
    diff = app.get(f"/clio/pages/{code}/diff", headers=VIEWER).json
    assert diff["changes"] == {"title": ["one", "two"]}
    assert (diff["from"], diff["to"]) == (versions[0]["id"], versions[1]["id"])
    post(app, code, "publish")
    history = app.get(f"/clio/pages/{code}/history", headers=VIEWER).json["items"]
    assert [(e["event"], e["userid"], e["version_id"]) for e in history] == [
        ("create", "publisher", versions[0]["id"]),
        ("publish", "publisher", versions[0]["id"]),
        ("edit", "editor", versions[1]["id"]),
        ("change", "editor", versions[1]["id"]),
        ("archive", None, versions[0]["id"]),
        ("publish", "publisher", versions[1]["id"]),
    ]
    timestamps = [e["timestamp"] for e in history]
    assert timestamps == sorted(timestamps)
    # Nothing pending now: give the ids.
    assert app.get(f"/clio/pages/{code}/diff", headers=VIEWER, status=404).json["error"] == "NotFound"
    old, new = versions[0]["id"], versions[1]["id"]
    reverse = app.get(f"/clio/pages/{code}/diff?from={new}&to={old}", headers=VIEWER).json
    assert reverse["changes"] == {"title": ["two", "one"]}
    same = app.get(f"/clio/pages/{code}/diff?from={old}&to={old}", headers=VIEWER).json
    assert same["changes"] == {}


def test_versions_history_and_diff_errors(app):
    code = published_page(app)
    other = published_page(app)
    other_id = app.get(f"/clio/pages/{other}").json["id"]
    for what in ("versions", "history", "diff"):
        assert app.get(f"/clio/pages/{code}/{what}", status=403).json["error"] == "Forbidden"
        app.get(f"/clio/pages/999/{what}", headers=VIEWER, status=404)
        app.get(f"/clio/pages/{code}/{what}?x=1", headers=VIEWER, status=400)
    app.get(f"/clio/pages/{code}/diff?to={other_id}", headers=VIEWER, status=404)
    app.get(f"/clio/pages/{code}/diff?from=abc", headers=VIEWER, status=400)
