"""The editorial UI and the demo through WebTest: fast, and every error path.

SQLite only (see conftest): the UI's behaviour does not depend on the
database.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from sqlalchemy.orm import Session
from webtest import TestApp

from clio.demo.models import Page, Section
from clio.tests.ui.conftest import flash_errors, login


def engine_of(app: TestApp) -> sa.Engine:
    from clio.session import FACTORY_KEY

    return app.app.registry[FACTORY_KEY].kw["bind"]


def versions(app, code):
    with Session(engine_of(app)) as session:
        return [
            (v.status, v.title, v.body)
            for v in session.scalars(sa.select(Page).where(Page.code == code).order_by(Page.id))
        ]


def public_body(app, code) -> str:
    anonymous = TestApp(app.app)
    return anonymous.get(f"/pages/{code}").html.find(id="body").text


def second_user(app, userid) -> TestApp:
    """Another browser on the same application."""
    return login(TestApp(app.app), userid)


# --- login and security -------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_the_login_form(demo_app):
    response = demo_app.get("/ui/pages", status=303)
    assert "/login?came_from=" in response.location


def test_a_wrong_password_is_refused_and_the_user_kept(demo_app):
    form = demo_app.get("/login").forms[0]
    form["userid"] = "ed"
    form["password"] = "wrong"
    response = form.submit(status=400)
    assert "Unknown user or wrong password." in response.text
    assert response.forms[0]["userid"].value == "ed"
    demo_app.get("/ui/pages", status=303)


def test_the_login_form_checks_csrf(demo_app):
    demo_app.post("/login", {"userid": "pat", "password": "demo"}, status=400)
    demo_app.get("/ui/pages", status=303)


def test_logout(editor):
    page = editor.get("/ui/pages")
    token = page.html.find("input", {"name": "csrf_token"})["value"]
    editor.post("/logout", {"csrf_token": token}, status=303)
    editor.get("/ui/pages", status=303)


def test_posts_without_the_csrf_token_are_refused(publisher):
    page = publisher.get("/ui/pages/2")
    token = page.forms[1]["token"].value  # the publish form
    publisher.post("/ui/pages/2/do/publish", {"token": token}, status=400)
    assert versions(publisher, 2)[-1][0] == 1  # still a pending edit


def test_a_future_as_of_is_for_editors_only(demo_app):
    future = (datetime.now(timezone.utc) + timedelta(days=30)).isoformat()
    demo_app.get("/", {"as_of": future}, status=303)
    login(demo_app, "ed")
    assert "Summer festival" in demo_app.get("/", {"as_of": future}).text


# --- the list -----------------------------------------------------------------------


def row_text(response, code) -> str:
    return response.html.find("tr", {"data-code": str(code)}).text


def test_the_work_list_shows_one_row_per_object_with_badges(editor):
    response = editor.get("/ui/pages")
    assert "published" in row_text(response, 1)
    assert "pending edit" in row_text(response, 2)
    assert "pending deletion" in row_text(response, 4)
    assert re.search(r"goes live \d{4}-\d\d-\d\d", row_text(response, 5))
    assert "new" in row_text(response, 6)
    assert len(response.html.select("tr[data-code]")) == 6


def test_the_list_filters_by_view(editor):
    codes = lambda view: [  # noqa: E731
        int(tr["data-code"]) for tr in editor.get("/ui/pages", {"view": view}).html.select("tr[data-code]")
    ]
    assert codes("published") == [1, 2, 3, 4]
    assert codes("scheduled") == [5]
    assert codes("archived") == [1, 3]
    assert 6 in codes("actual") and 4 not in codes("actual")
    editor.get("/ui/pages", {"view": "nonsense"}, status=400)
    editor.get("/ui/nothing", status=404)


# --- editing ------------------------------------------------------------------------


def edit_form(app, code):
    return app.get(f"/ui/pages/{code}/edit").forms["edit-form"]


def test_saving_a_published_page_makes_a_draft_and_the_public_page_stays(editor):
    form = edit_form(editor, 1)
    assert "Saving makes a draft" in editor.get("/ui/pages/1/edit").text
    form["body"] = "A new welcome."
    response = form.submit(status=303).follow()
    assert "Saved the draft" in response.text
    assert versions(editor, 1)[-1] == (1, "Welcome to the Harbour Museum of Port Ellis", "A new welcome.")
    assert "Free entry" in public_body(editor, 1)


def test_an_empty_required_field_is_explained_and_nothing_lost(editor):
    before = versions(editor, 2)
    form = edit_form(editor, 2)
    form["title"] = "   "
    form["body"] = "Typed text that must survive."
    response = form.submit(status=400)
    assert response.html.find(id="error-title").text == "Title is required."
    assert response.forms["edit-form"]["body"].value == "Typed text that must survive."
    assert versions(editor, 2) == before


def test_overlong_text_is_explained_and_nothing_lost(editor):
    before = versions(editor, 2)
    form = edit_form(editor, 2)
    form["title"] = "x" * 121
    form["body"] = "Also kept."
    response = form.submit(status=400)
    assert "is 121 characters long; at most 120 fit." in response.html.find(id="error-title").text
    assert response.forms["edit-form"]["title"].value == "x" * 121
    assert response.forms["edit-form"]["body"].value == "Also kept."
    assert versions(editor, 2) == before


def test_a_stale_form_after_somebody_published_keeps_the_text(editor):
    form = edit_form(editor, 2)
    form["body"] = "Ed's late change."
    # Meanwhile Pat publishes the pending edit.
    pat = second_user(editor, "pat")
    page = pat.get("/ui/pages/2")
    page.forms[1].submit(status=303)  # publish
    assert "10:00 to 18:00" in public_body(editor, 2)

    response = form.submit(status=409)
    problem = response.html.find(id="problem").text
    assert "it is now published, by pat at" in problem and "Nothing was saved" in problem
    assert response.forms["edit-form"]["body"].value == "Ed's late change."
    assert versions(editor, 2)[-1][0] == 6  # published, no new draft

    # Saving again is a deliberate choice: it makes a new draft.
    response.forms["edit-form"].submit(status=303)
    assert versions(editor, 2)[-1] == (1, "Opening hours", "Ed's late change.")


def test_a_pending_deletion_cannot_be_edited(editor):
    response = editor.get("/ui/pages/4/edit", status=303).follow()
    assert flash_errors(response) == ["A deletion is pending; revert it before editing."]
    assert editor.get("/ui/pages/4").html.find("a", string=re.compile("Edit")) is None


# --- transitions --------------------------------------------------------------------


def button(response, name):
    return response.html.find("button", {"value": name})


def transition_form(response, name):
    for form in response.forms.values():
        if form.action.endswith(f"/do/{name}"):
            return form
    raise AssertionError(f"no form for {name}")


def test_buttons_are_disabled_with_the_reason(editor):
    response = editor.get("/ui/pages/2")  # pending edit, as an editor
    assert button(response, "publish").has_attr("disabled")
    assert "clio.publish" in button(response, "publish")["title"]
    assert not button(response, "revert").has_attr("disabled")
    response = editor.get("/ui/pages/3")  # published, nothing pending
    assert button(response, "revert")["title"] == "nothing is pending"
    assert not button(response, "delete").has_attr("disabled")


def test_an_editor_posting_publish_anyway_gets_the_reason(editor):
    response = editor.get("/ui/pages/2")
    token = response.forms[1]["token"].value
    csrf = response.forms[1]["csrf_token"].value
    response = editor.post(
        "/ui/pages/2/do/publish", {"token": token, "csrf_token": csrf}, status=303
    ).follow()
    assert flash_errors(response) == [
        "You may not publish: that needs the permission 'clio.publish'."
    ]
    assert versions(editor, 2)[-1][0] == 1


def test_publish_discard_and_delete(publisher):
    response = transition_form(publisher.get("/ui/pages/2"), "publish").submit().follow()
    assert "Published Opening hours." in response.text
    assert "18:00" in public_body(publisher, 2)
    response = transition_form(publisher.get("/ui/pages/4"), "discard").submit().follow()
    assert "Discarded the pending version of Winter closure notice." in response.text
    # Deleting a new page removes it: back to the list.
    response = transition_form(publisher.get("/ui/pages/6"), "delete").submit(status=303)
    assert response.location.endswith("/ui/pages")
    assert versions(publisher, 6) == []
    publisher.get("/ui/pages/6", status=404)


def test_a_transition_that_does_not_apply_is_refused(publisher):
    response = publisher.get("/ui/pages/3")
    form = response.forms[1]
    response = publisher.post(
        "/ui/pages/3/do/revert",
        {"token": form["token"].value, "csrf_token": form["csrf_token"].value},
        status=303,
    ).follow()
    assert flash_errors(response) == ["Cannot revert Exhibitions: nothing is pending."]
    publisher.post("/ui/pages/3/do/explode", {"csrf_token": form["csrf_token"].value}, status=404)


def test_a_stale_transition_does_nothing(publisher):
    stale = publisher.get("/ui/pages/2")
    pat2 = second_user(publisher, "pat")
    transition_form(pat2.get("/ui/pages/2"), "discard").submit(status=303)
    response = transition_form(stale, "publish").submit(status=303).follow()
    [error] = flash_errors(response)
    assert error.startswith("Not done: this object changed since you loaded the page")
    assert "10:00 to 17:00" in public_body(publisher, 2)


def test_the_engine_s_refusal_is_shown_and_undone(publisher):
    """A section under a page that was never published cannot be published
    (the engine's PublishError), which the UI only learns by trying."""
    with Session(engine_of(publisher)) as session:
        parent = session.scalars(sa.select(Page).where(Page.code == 6)).one()
        parent.sections.append(Section(code=9, title="Bus lines", body="Line 4."))
        session.commit()
    response = publisher.get("/ui/sections/9")
    response = transition_form(response, "publish").submit(status=303).follow()
    [error] = flash_errors(response)
    assert error.startswith("Could not publish:")
    with Session(engine_of(publisher)) as session:
        assert [s.status for s in session.scalars(sa.select(Section).where(Section.code == 9))] == [0]


def test_scheduling_a_publication(publisher):
    at = (datetime.now(timezone.utc) + timedelta(days=3)).replace(second=0, microsecond=0)
    form = transition_form(publisher.get("/ui/pages/2"), "publish")
    form["at"] = at.strftime("%Y-%m-%dT%H:%M")
    response = form.submit().follow()
    assert f"Scheduled for {at:%Y-%m-%d %H:%M}:00 UTC: Opening hours." in response.text
    assert f"goes live {at:%Y-%m-%d %H:%M} UTC" in response.text
    assert "Schedule" in response.text and "Revert or discard cancels" in response.text
    assert "10:00 to 17:00" in public_body(publisher, 2)
    assert button(response, "delete").has_attr("disabled")
    # Reverting cancels it.
    response = transition_form(response, "revert").submit().follow()
    assert "goes live" not in response.html.find("h1").text


def test_bad_schedule_moments_are_explained(publisher):
    form = transition_form(publisher.get("/ui/pages/2"), "publish")
    form["at"] = "next tuesday"
    response = form.submit().follow()
    assert flash_errors(response) == [
        "Not published: 'next tuesday' is not a date and time; use the form YYYY-MM-DD HH:MM."
    ]
    form = transition_form(response, "publish")
    form["at"] = "2001-01-01T00:00"
    response = form.submit().follow()
    [error] = flash_errors(response)
    assert error.startswith("Could not publish:") and "not in the future" in error
    assert versions(publisher, 2)[-1][0] == 1


# --- history, diff, time travel ---------------------------------------------------------------


def test_the_history_tells_who_did_what(editor):
    timeline = editor.get("/ui/pages/1/history").html.find("ol", class_="timeline").text
    assert re.search(r"pat\s+published version", timeline)
    assert re.search(r"ed\s+created version", timeline)
    assert re.search(r"ed\s+started an edit version", timeline)


def test_the_diff_marks_changed_fields_and_sections(editor):
    response = editor.get("/ui/pages/3/history")
    first = min(int(r["value"]) for r in response.html.select("input[name=from]"))
    last = max(int(r["value"]) for r in response.html.select("input[name=to]"))
    response = editor.get("/ui/pages/3/diff", {"from": first, "to": last})
    changed = [tr["data-field"] for tr in response.html.select("tr.changed")]
    assert changed == ["sections"]
    added = response.html.select("tr.changed td.new li.added")
    assert [li.text for li in added] == ["Lighthouse lenses"]
    editor.get("/ui/pages/3/diff", {"from": 99999}, status=404)


def test_the_default_diff_is_published_against_pending(editor):
    response = editor.get("/ui/pages/2/diff")
    row = response.html.find("tr", class_="changed")
    assert row["data-field"] == "body"
    assert "17:00" in row.find("td", class_="old").text
    assert "18:00" in row.find("td", class_="new").text


def test_time_travel_shows_the_site_as_it_was(editor):
    past = (datetime.now(timezone.utc) - timedelta(days=20)).strftime("%Y-%m-%dT%H:%M")
    response = editor.get("/ui/as-of", {"at": past})
    site = response.html.find("div", class_="site").text
    assert "Welcome to the Harbour Museum" in site and "Port Ellis" not in site
    assert "Maritime maps" in site and "Lighthouse lenses" not in site
    assert "Summer festival" not in site
    public = TestApp(editor.app).get("/", {"as_of": past + ":00"})
    assert "Port Ellis" not in public.text and "Welcome to the Harbour Museum" in public.text


def test_time_travel_explains_a_bad_moment(editor):
    response = editor.get("/ui/as-of", {"at": "yesterday-ish"}, status=400)
    assert flash_errors(response) == [
        "'yesterday-ish' is not a date and time; use the form YYYY-MM-DD HH:MM."
    ]
    TestApp(editor.app).get("/", {"as_of": "soon"}, status=400)


def test_the_public_page_shows_sections_and_hides_drafts(demo_app):
    response = demo_app.get("/pages/3")
    assert [h.text for h in response.html.select("article h2")] == ["Maritime maps", "Lighthouse lenses"]
    demo_app.get("/pages/6", status=404)  # new, never published
    demo_app.get("/pages/5", status=404)  # scheduled for next week
