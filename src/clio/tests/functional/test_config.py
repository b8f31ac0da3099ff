"""``config.include('clio')``: settings, directives, sessions, adapters."""

import pytest
import sqlalchemy as sa
from pyramid import testing
from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationConflictError, ConfigurationError
from sqlalchemy.orm import sessionmaker
from webtest import TestApp

import clio
from clio.interfaces import IVersioned, IWorkflowed
from clio.session import get_engine, get_tm_session
from clio.tests.functional.support import EDITOR, PUBLISHER, HeaderSecurityPolicy, create
from clio.tests.models import A, Page


def configurator(settings=None):
    config = Configurator(settings=settings or {})
    config.set_security_policy(HeaderSecurityPolicy())
    config.include("clio")
    return config


def test_two_models_under_one_name_conflict():
    config = configurator()
    config.add_clio_model(Page, "pages")
    config.add_clio_model(A, "pages")
    with pytest.raises(ConfigurationConflictError):
        config.commit()


def test_the_application_overrides_a_name_an_include_registered():
    def addon(config):
        config.add_clio_model(A, "pages")

    config = configurator()
    config.include(addon)
    config.add_clio_model(Page, "pages")
    config.commit()
    assert config.registry["clio.models"]["pages"].cls is Page


@pytest.mark.parametrize(
    "args",
    [
        (Page, "a/b"),
        (Page, "openapi.json"),
        (Page, ""),
        (object, "things"),
        ("clio.tests.models.metadata", "things"),
        (Page, "pages", "not callable"),
    ],
)
def test_add_clio_model_checks_its_arguments(args):
    config = configurator()
    with pytest.raises(ConfigurationError):
        config.add_clio_model(*args)


def test_including_twice_is_harmless():
    config = configurator()
    config.include("clio")
    config.add_clio_model("clio.tests.models.Page", "pages")
    config.commit()


def test_default_adapters_are_in_the_application_registry():
    config = configurator()
    config.commit()
    page = Page(code=1)
    assert isinstance(config.registry.queryAdapter(page, IWorkflowed), clio.Workflow)
    assert isinstance(config.registry.queryAdapter(page, IVersioned), clio.Versioned)


class StrictWorkflow(clio.Workflow):
    """No deletions."""

    def delete(self):
        raise clio.DeleteError("pages are never deleted here")


def test_a_per_class_workflow_is_used_by_the_api_and_the_model(make_app):
    seen = []

    def setup(config):
        config.add_clio_model(Page, "strict", workflow=StrictWorkflow)

        def view(request):
            page = request.dbsession.scalars(sa.select(Page)).one()
            try:
                page.delete()
            except clio.DeleteError as error:
                seen.append(str(error))
            return {}

        config.add_route("own", "/own")
        config.add_view(view, route_name="own", renderer="json")

    app = make_app(setup=setup)
    code = create(app, "/clio/strict").json["code"]
    response = app.post(f"/clio/strict/{code}/delete", headers=EDITOR, status=409)
    assert response.json == {"error": "DeleteError", "message": "pages are never deleted here"}
    app.get("/own")
    assert seen == ["pages are never deleted here"]


def test_the_session_comes_from_the_settings_by_default(make_app, api_engine):
    url = api_engine.url.render_as_string(hide_password=False)
    app = make_app({"sqlalchemy.url": url}, session_factory=False)
    code = create(app).json["code"]
    assert app.post(f"/clio/pages/{code}/publish", headers=PUBLISHER).json["status_name"] == "published"
    assert app.get(f"/clio/pages/{code}").json["code"] == code


def test_the_default_database():
    engine = get_engine({})
    assert str(engine.url) == "sqlite:///clio.sqlite"
    engine.dispose()


def own_dbsession_includeme(config):
    """An application's models package making its own request.dbsession,
    as the Pyramid cookiecutter does."""
    factory = sessionmaker(bind=config.registry.settings["test.engine"])

    def dbsession(request):
        request.environ["test.own_session"] = True
        return get_tm_session(factory, request.tm)  # no request: clio adds it

    config.add_request_method(dbsession, "dbsession", reify=True)


@pytest.mark.parametrize("include_clio_first", [True, False])
def test_an_application_that_has_its_own_dbsession_keeps_it(api_engine, make_app, include_clio_first):
    config = Configurator(settings={"test.engine": api_engine})
    config.set_security_policy(HeaderSecurityPolicy())
    if include_clio_first:
        config.include("clio")
    config.include(own_dbsession_includeme)
    if not include_clio_first:
        config.include("clio")
    config.add_clio_model(Page, "pages")
    app = TestApp(config.make_wsgi_app())
    response = create(app, user=EDITOR)
    assert response.json["created_userid"] == "editor"
    assert response.request.environ["test.own_session"]


def test_api_prefix_and_route_prefix(make_app):
    app = make_app({"clio.api_prefix": "api/v1/"})
    code = create(app, "/api/v1/pages").json["code"]
    assert create(app, "/api/v1/pages").location.endswith("/api/v1/pages/2")
    app.get("/clio/pages", status=404)
    assert app.get("/api/v1/nothing", status=404).json["error"] == "NotFound"
    assert "/api/v1/pages/{code}" in app.get("/api/v1/openapi.json").json["paths"]
    app.post(f"/api/v1/pages/{code}/publish", headers=PUBLISHER)

    config = Configurator()
    config.set_security_policy(HeaderSecurityPolicy())
    config.include("clio", route_prefix="/site")
    config.set_clio_session_factory(sessionmaker())
    config.add_clio_model(Page, "pages")
    site = TestApp(config.make_wsgi_app())
    assert site.get("/site/clio/nothing", status=404).json["error"] == "NotFound"


def test_settings_are_coerced():
    config = configurator({"clio.public_read": "off", "clio.api_prefix": "/x/"})
    assert config.get_settings()["clio.public_read"] is False
    assert config.get_settings()["clio.api_prefix"] == "/x"
    config = configurator()
    assert config.get_settings()["clio.public_read"] is True
    assert config.get_settings()["clio.api_prefix"] == "/clio"


def test_clio_errors_outside_the_api_are_the_application_s(make_app):
    def setup(config):
        def view(request):
            raise clio.EditError("not here")

        config.add_route("other", "/other")
        config.add_view(view, route_name="other")

    app = make_app(setup=setup)
    with pytest.raises(clio.EditError):
        app.get("/other")
    assert "json" not in app.get("/nowhere", status=404).content_type


def test_works_with_pyramid_testing_configurations(api_engine):
    with testing.testConfig(settings={"sqlalchemy.url": "sqlite://"}) as config:
        config.include("clio")
        config.add_clio_model(Page, "pages")
        assert config.registry["clio.models"]["pages"].cls is Page
        assert config.registry["clio.session_factory"] is not None
