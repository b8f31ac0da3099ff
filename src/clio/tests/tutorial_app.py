"""The application built in the tutorial (docs/tutorial.rst).

A newsroom: articles that editors draft and publishers publish, served as
JSON by clio.  Run it with ``bin/pserve`` and a paste ``[app:main]``
section ``use = call:clio.tests.tutorial_app:main``, or build it in Python
with ``main({}, **settings)``.
"""

# -- the model ---------------------------------------------------------------------

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

import clio


class Base(DeclarativeBase):
    pass


class Article(clio.Workflowed, Base):
    __tablename__ = "tutorial_article"
    title: Mapped[str] = mapped_column(sa.Unicode(200))
    body: Mapped[str] = mapped_column(sa.UnicodeText, default="")


# -- who may do what ------------------------------------------------------------------

from pyramid.authentication import extract_http_basic_credentials
from pyramid.security import Allowed, Denied

#: user -> (password, permissions).  A real application asks its user store.
USERS = {
    "ed": ("secret", {"clio.view", "clio.edit"}),
    "pat": ("secret", {"clio.view", "clio.edit", "clio.publish"}),
}


class SecurityPolicy:
    """HTTP Basic authentication against USERS."""

    def identity(self, request):
        credentials = extract_http_basic_credentials(request)
        if credentials is not None:
            user = USERS.get(credentials.username)
            if user is not None and user[0] == credentials.password:
                return credentials.username
        return None

    def authenticated_userid(self, request):
        return self.identity(request)

    def permits(self, request, context, permission):
        userid = self.identity(request)
        if userid is not None and permission in USERS[userid][1]:
            return Allowed(f"{userid} has {permission}")
        return Denied(f"{userid or 'anonymous'} lacks {permission}")

    def remember(self, request, userid, **kw):
        return []

    def forget(self, request, **kw):
        return []


# -- the application ------------------------------------------------------------------

from pyramid.config import Configurator


def main(global_config, **settings):
    settings.setdefault("sqlalchemy.url", "sqlite:///newsroom.sqlite")
    engine = sa.engine_from_config(settings, "sqlalchemy.")
    Base.metadata.create_all(engine)  # a real application uses migrations
    with Configurator(settings=settings) as config:
        config.set_security_policy(SecurityPolicy())
        config.include("clio")
        config.set_clio_session_factory(sa.orm.sessionmaker(bind=engine))
        config.add_clio_model(Article, "articles")
    return config.make_wsgi_app()
