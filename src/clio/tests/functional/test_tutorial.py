"""The tutorial's application (docs/tutorial.rst), on every database, and
the tutorial page itself as a doctest."""

import doctest
import pathlib

import pytest
from webtest import TestApp

from clio.tests import tutorial_app

TUTORIAL = pathlib.Path(__file__).resolve().parents[4] / "docs" / "tutorial.rst"


@pytest.mark.skipif(not TUTORIAL.is_file(), reason="needs the source checkout with docs/")
def test_the_tutorial_runs_as_written():
    result = doctest.testfile(
        str(TUTORIAL),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
    )
    assert result.attempted > 30
    assert result.failed == 0


@pytest.fixture
def newsroom(engine):
    url = engine.url.render_as_string(hide_password=False)
    app = TestApp(tutorial_app.main({}, **{"sqlalchemy.url": url}))
    yield app
    with engine.begin() as conn:
        conn.execute(tutorial_app.Article.__table__.delete())


def test_the_tutorial_application_on_each_database(newsroom):
    app = newsroom
    app.authorization = ("Basic", ("ed", "secret"))
    code = app.post_json("/clio/articles", {"title": "Hello"}).json["code"]
    app.post(f"/clio/articles/{code}/publish", status=403)
    app.authorization = ("Basic", ("ed", "wrong"))
    app.get("/clio/articles?view=editable", status=403)
    app.authorization = ("Basic", ("pat", "secret"))
    assert app.post(f"/clio/articles/{code}/publish").json["published_userid"] == "pat"
    app.authorization = None
    assert [a["title"] for a in app.get("/clio/articles").json["items"]] == ["Hello"]
