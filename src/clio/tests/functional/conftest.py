"""A real Pyramid application over the test database, through WebTest.

Requests run exactly as in production: pyramid_tm commits or aborts each
one, pyramid_retry retries, the session comes from
``config.set_clio_session_factory`` bound to the ``engine`` of the root
conftest (SQLite, MariaDB and PostgreSQL).  Since requests really commit,
every test empties the tables it may have written afterwards.

Users come from the ``X-User`` header; :data:`GRANTS` says what each may
do.  Anonymous requests have no permission.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from pyramid.config import Configurator
from sqlalchemy.orm import sessionmaker
from webtest import TestApp

from clio.status import status_name
from clio.tests import models
from clio.tests.functional import models as api_models
from clio.tests.functional.support import HeaderSecurityPolicy, empty_tables


@pytest.fixture(scope="session")
def api_engine(engine):
    api_models.metadata.create_all(engine)
    return engine


@pytest.fixture
def make_app(api_engine):
    """``make_app(settings=None, setup=None)``: a TestApp of a fresh
    application; ``setup(config)`` runs after clio is included."""

    def make(settings=None, setup=None, session_factory=True, policy=None):
        config = Configurator(settings=dict(settings or {}))
        config.set_security_policy(policy or HeaderSecurityPolicy())
        config.include("clio")
        if session_factory:
            config.set_clio_session_factory(sessionmaker(bind=api_engine))
        config.add_clio_model(models.Page, "pages")
        config.add_clio_model(api_models.Note, "notes")
        config.add_clio_model(api_models.Label, "labels")
        if setup is not None:
            setup(config)
        return TestApp(config.make_wsgi_app())

    yield make
    empty_tables(api_engine)


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def committed(api_engine):
    """``committed()``: (code, title, status name) of every page row the
    requests committed, read in a session of its own."""

    def read():
        with sa.orm.Session(api_engine) as session:
            return [
                (v.code, v.title, status_name(v.status))
                for v in session.scalars(sa.select(models.Page).order_by(models.Page.id))
            ]

    return read
