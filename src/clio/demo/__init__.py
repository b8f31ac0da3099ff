"""The demo application: a small museum website with clio's editorial UI.

``python3 bootstrap.py serve`` runs it (``bin/pserve demo.ini``); it is
also an ordinary paste application (``use = egg:clio`` or
``use = call:clio.demo:main``).  On first start it creates its tables in
the SQLite file named by ``sqlalchemy.url`` and writes the content of
:mod:`clio.demo.seed`.

What it adds to ``config.include('clio.ui')``:

* the public site, ``/`` and ``/pages/{code}``, showing only what is
  published (``?as_of=`` shows what was published at a past moment);
* a login form with two users, ``ed`` (an editor: ``clio.view`` and
  ``clio.edit``) and ``pat`` (a publisher: ``clio.publish`` as well),
  both with the password ``demo``;
* the security policy (session-based authentication, the session a
  signed cookie) and Pyramid's CSRF checks on every POST.
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from pyramid.config import Configurator
from pyramid.settings import asbool
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from clio.demo.models import Base, Page, Section
from clio.demo.security import SecurityPolicy
from clio.demo.seed import is_empty, seed


def make_engine(settings: dict) -> sa.Engine:
    """The demo's engine: SQLite with foreign keys enforced, waiting for a
    lock instead of failing when two requests write at once."""
    options = dict(settings)
    options.setdefault("sqlalchemy.url", "sqlite:///demo.sqlite")
    options.setdefault("sqlalchemy.connect_args", {"timeout": 30})
    engine = sa.engine_from_config(options, "sqlalchemy.")
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _foreign_keys(dbapi_connection, record):
            dbapi_connection.execute("PRAGMA foreign_keys=ON")

    return engine


def setup_database(engine: sa.Engine, seed_content: bool = True) -> None:
    """Create the tables (the demo has no migrations) and, if there are
    no pages yet, write the demo content."""
    Base.metadata.create_all(engine)
    if not seed_content:
        return
    with Session(engine) as session:
        if is_empty(session):
            seed(session)
            session.commit()


def main(global_config, **settings):
    """The paste application factory (``[app:main]`` in ``demo.ini``).

    Settings: ``sqlalchemy.url``, ``demo.secret`` (signs the session
    cookie; a random one per start when missing, which logs everybody out
    at each restart), ``demo.seed`` (default true).
    """
    secret = settings.get("demo.secret") or secrets.token_hex(32)
    settings.setdefault("clio.ui.public_url", "/")
    engine = make_engine(settings)
    setup_database(engine, asbool(settings.get("demo.seed", True)))

    with Configurator(settings=settings) as config:
        from pyramid.session import SignedCookieSessionFactory

        config.set_session_factory(
            SignedCookieSessionFactory(
                secret, salt="clio.demo.session", httponly=True, samesite="Lax"
            )
        )
        config.set_security_policy(SecurityPolicy())
        config.set_default_csrf_options(require_csrf=True)
        config.include("clio.ui")
        config.set_clio_session_factory(sessionmaker(bind=engine))
        config.add_clio_model(Page, "pages")
        config.add_clio_model(Section, "sections")
        config.include("clio.demo.views")
    return config.make_wsgi_app()
