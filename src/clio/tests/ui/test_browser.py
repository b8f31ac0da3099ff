"""The demo in a real browser: headless Chromium driven by Playwright.

The real application is served by waitress on a free local port, with a
temporary SQLite file; one server and one browser serve the whole module.
The browser is Debian's ``/usr/bin/chromium`` (``.ci/run`` installs it);
Playwright's own browser downloads are never used.  Without chromium or
Playwright the module is skipped, unless ``CI`` is set: then it fails.

SQLite only: this tests the UI, not the databases.

Screenshots of the main screens are taken on the way.  They go to a
temporary folder; with ``CLIO_UI_SCREENSHOTS=docs/_static`` they are
written there as ``ui-*.png`` for the documentation (docs/demo.rst).
"""

from __future__ import annotations

import os
import pathlib
import re
import shutil
import threading
from datetime import datetime, timezone

import pytest

from clio.tests.ui.conftest import demo_settings

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _missing(reason):
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so this is a failure)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The demo, served by waitress in a thread: its base URL."""
    waitress = pytest.importorskip("waitress")
    from clio.demo import main

    folder = tmp_path_factory.mktemp("demo")
    app = main({}, **demo_settings(folder / "demo.sqlite"))
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()
    thread.join(5)


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        _missing(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    """shot(page, name): a screenshot, copied to $CLIO_UI_SCREENSHOTS."""
    folder = tmp_path_factory.mktemp("screenshots")
    target = os.environ.get("CLIO_UI_SCREENSHOTS")

    def shot(page, name):
        path = folder / f"ui-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 1000
        if target:
            shutil.copy(path, pathlib.Path(target) / path.name)

    return shot


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.on("dialog", lambda dialog: dialog.accept())
    yield page
    context.close()


def log_in(page, server, userid):
    page.goto(f"{server}/ui/")
    assert "/login" in page.url
    page.fill("input[name=userid]", userid)
    page.fill("input[name=password]", "demo")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/ui/pages$"))


def public_text(page, server, code):
    page.goto(f"{server}/pages/{code}")
    return page.inner_text("article")


def test_edit_publish_history_diff_and_time_travel(page, server, shots):
    new_text = "Open every day in August, with guided tours at noon."
    log_in(page, server, "pat")
    badges = page.inner_text("table.objects")
    for badge in ("published", "pending edit", "pending deletion", "new", "goes live"):
        assert badge in badges
    shots(page, "list")

    # Edit the welcome page: a draft, the public page unchanged.
    page.click("text=Welcome to the Harbour Museum of Port Ellis")
    page.click("section.actions a.button")
    page.fill("#f-body", new_text)
    shots(page, "edit")
    page.click("button:has-text('Save draft')")
    assert "Saved the draft" in page.inner_text(".flash.info")
    assert "pending edit" in page.inner_text("h1")
    shots(page, "object")
    object_url = page.url
    assert new_text not in public_text(page, server, 1)
    assert "Free entry for children" in public_text(page, server, 1)

    # Publish (the confirmation dialog is accepted): the public page changes.
    before_publish = datetime.now(timezone.utc).replace(microsecond=0)
    page.goto(object_url)
    page.click("button[value=publish]")
    assert "Published" in page.inner_text(".flash.info")
    assert new_text in public_text(page, server, 1)
    shots(page, "public")

    # History: who did what; then the diff of the last two versions.
    page.goto(object_url + "/history")
    timeline = page.inner_text("ol.timeline")
    assert re.search(r"pat published version \d+", timeline)
    assert "ed created version" in timeline
    shots(page, "history")
    page.click("button:has-text('Compare selected versions')")
    changed = page.locator("table.diff tr.changed")
    assert changed.count() == 1
    assert changed.get_attribute("data-field") == "body"
    assert new_text in changed.inner_text()
    shots(page, "diff")

    # Time travel to just before the publication: the old text.
    page.goto(f"{server}/ui/as-of")
    page.fill("input[name=at]", before_publish.strftime("%Y-%m-%dT%H:%M:%S"))
    page.click("button:has-text('Go')")
    site = page.inner_text(".site")
    assert "Free entry for children under twelve" in site
    assert new_text not in site
    assert "Lighthouse lenses" in site  # children, as of that moment
    shots(page, "time-travel")
    page.click("text=Open the public site at this moment")
    assert "Free entry for children under twelve" in page.inner_text("main")
    assert "as it was published at" in page.inner_text(".timetravel")


def test_an_editor_cannot_publish_and_sees_why(page, server, shots):
    log_in(page, server, "ed")
    page.goto(f"{server}/ui/pages/2")
    publish = page.locator("button[value=publish]")
    assert publish.is_disabled()
    assert "clio.publish" in publish.get_attribute("title")
    assert page.locator("button[value=discard]").is_enabled()
    # A form with a mistake comes back with the text as typed.
    page.click("section.actions a.button")
    page.fill("#f-title", "")
    page.fill("#f-body", "Kept while the title is missing.")
    page.click("button:has-text('Save draft')")
    assert page.inner_text("#error-title") == "Title is required."
    assert page.input_value("#f-body") == "Kept while the title is missing."
    shots(page, "form-error")
