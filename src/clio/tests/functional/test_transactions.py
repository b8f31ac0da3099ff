"""Events, transactions and retries through the plugin (SPEC §4).

Requests really commit here, so what a request leaves behind is read back
through a separate session (the ``committed`` fixture).
"""

import pytest
import sqlalchemy as sa
from pyramid.httpexceptions import HTTPForbidden
from pyramid.tweens import EXCVIEW

import clio
from clio import events
from clio.tests.models import Page
from clio.tests.functional.support import EDITOR, PUBLISHER, VIEWER, create


def test_events_carry_versions_user_and_request(make_app):
    seen = []

    def record(event):
        previous = event.previous
        seen.append(
            (
                type(event).__name__,
                event.version.id,
                event.version.code,
                previous.id if previous is not None else None,
                event.userid,
                event.request.path if event.request is not None else None,
            )
        )

    app = make_app(setup=lambda config: config.add_subscriber(record, events.IClioEvent))
    created = create(app, user=EDITOR).json
    code, first = created["code"], created["id"]
    # Sent before the INSERT: the row has no id yet.
    assert seen == [("ObjectCreated", None, code, None, "editor", "/clio/pages")]
    seen.clear()
    app.post(f"/clio/pages/{code}/publish", headers=PUBLISHER)
    second = app.post(f"/clio/pages/{code}/edit", headers=EDITOR).json["id"]
    app.post(f"/clio/pages/{code}/publish", headers=PUBLISHER)
    path = f"/clio/pages/{code}/"
    assert seen == [
        ("VersionPublished", first, code, None, "publisher", path + "publish"),
        ("VersionEdited", second, code, first, "editor", path + "edit"),
        ("VersionPublished", second, code, first, "publisher", path + "publish"),
        ("VersionArchived", first, code, None, "publisher", path + "publish"),
    ]


def test_a_subscriber_that_raises_rolls_the_request_back(make_app, committed):
    def refuse(event):
        raise HTTPForbidden("publishing is closed today")

    app = make_app(setup=lambda config: config.add_subscriber(refuse, events.IVersionPublished))
    code = create(app).json["code"]
    response = app.post(f"/clio/pages/{code}/publish", headers=PUBLISHER, status=403)
    assert response.json == {"error": "Forbidden", "message": "permission denied: publishing is closed today"}
    assert committed() == [(code, "Hello", "new")]


def late_failure_factory(handler, registry):
    """A tween that fails after the view when the request says X-Fail."""

    def tween(request):
        response = handler(request)
        if request.headers.get("X-Fail"):
            raise RuntimeError("the response could not be sent")
        return response

    return tween


def test_a_failure_late_in_the_request_leaves_no_trace(make_app, committed):
    """A tween between pyramid_tm and the view fails after the view has
    published and flushed: the transaction is aborted, nothing stays."""
    app = make_app(
        setup=lambda config: config.add_tween(f"{__name__}.late_failure_factory", over=EXCVIEW)
    )
    code = create(app).json["code"]
    with pytest.raises(RuntimeError, match="could not be sent"):
        app.post(f"/clio/pages/{code}/publish", headers={**PUBLISHER, "X-Fail": "1"})
    with pytest.raises(RuntimeError):
        create(app, body={"title": "lost"}, user={**EDITOR, "X-Fail": "1"})
    assert committed() == [(code, "Hello", "new")]
    app.post(f"/clio/pages/{code}/publish", headers=PUBLISHER)
    assert committed() == [(code, "Hello", "published")]


def test_a_retryable_conflict_is_retried(make_app, committed):
    attempts = []

    def conflict_once(event):
        attempts.append(event.request.environ["retry.attempt"])
        if len(attempts) == 1:
            raise clio.ConflictError("another transaction got there first")

    app = make_app(setup=lambda config: config.add_subscriber(conflict_once, events.IVersionPublished))
    code = create(app).json["code"]
    response = app.post(f"/clio/pages/{code}/publish", headers=PUBLISHER, status=200)
    assert response.json["status_name"] == "published"
    assert attempts == [0, 1]
    assert committed() == [(code, "Hello", "published")]


def test_a_conflict_on_every_attempt_is_409_and_leaves_no_trace(make_app, committed):
    attempts = []

    def always(event):
        attempts.append(event.request.environ["retry.attempt"])
        raise clio.ConflictError("busy")

    app = make_app(setup=lambda config: config.add_subscriber(always, events.IVersionEdited))
    code = create(app).json["code"]
    app.post(f"/clio/pages/{code}/publish", headers=PUBLISHER)
    response = app.post(f"/clio/pages/{code}/edit", headers=EDITOR, status=409)
    assert response.json == {"error": "ConflictError", "message": "busy"}
    assert attempts == [0, 1, 2]  # retry.attempts defaults to 3
    assert committed() == [(code, "Hello", "published")]


def test_a_generated_code_taken_by_another_request_is_retried(make_app, committed):
    """Two creates racing for the next code: the loser's INSERT violates
    the (code, status) constraint, which is a ConflictError, so
    pyramid_retry runs it again with a fresh code."""
    calls = []

    def codes(session):
        # The first attempt picks a code that is already taken.
        highest = session.scalar(sa.select(sa.func.max(Page.code)))
        calls.append(highest)
        return highest if len(calls) == 1 else highest + 1

    app = make_app(setup=lambda config: config.add_clio_model(Page, "racing", codes=codes))
    assert create(app).json["code"] == 1
    assert create(app, "/clio/racing").json["code"] == 2
    assert calls == [1, 1]
    assert committed() == [(1, "Hello", "new"), (2, "Hello", "new")]


def test_the_acting_user_is_per_request(make_app):
    app = make_app()
    code = create(app, user=EDITOR).json["code"]
    data = app.post(f"/clio/pages/{code}/publish", headers={"X-User": "publisher"}).json
    assert (data["created_userid"], data["published_userid"]) == ("editor", "publisher")


def test_an_anonymous_user_is_unknown(make_app):
    from clio.tests.functional.support import GRANTS, HeaderSecurityPolicy

    class Open(HeaderSecurityPolicy):
        def permits(self, request, context, permission):
            return True

    app = make_app(policy=Open(GRANTS))
    data = create(app, user={}).json
    assert data["created_userid"] == "unknown"
    data = app.get(f"/clio/pages/{data['code']}/versions", headers=VIEWER).json
    assert data["items"][0]["changed_userid"] == "unknown"
