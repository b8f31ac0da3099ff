"""The editorial web UI: ``config.include('clio.ui')``.

Server-rendered pages (pyramid_jinja2 templates) for every model given to
``config.add_clio_model``: a work list with status badges and the list's
views, the edit form (a draft; the public keeps seeing the published
version), the transitions with confirmation, the history timeline, a
side-by-side diff of any two versions and a time-travel view of the whole
site at a chosen moment.

It includes ``clio`` itself.  The application provides what is
application business: a security policy granting ``clio.view``,
``clio.edit`` and ``clio.publish``, a session factory (flash messages and
Pyramid's CSRF tokens live in the session), and a login page (a route
named ``logout`` gets a link in the header).

Settings:

``clio.ui_prefix``
    where the UI lives, default ``/ui``;
``clio.ui.public_url``
    optional URL of the application's public site; the time-travel view
    links to it with ``?as_of=``.

Every POST requires Pyramid's CSRF token, whatever the application's
default CSRF options are.
"""

from __future__ import annotations

from clio.config import normalize_prefix

DEFAULT_PREFIX = "/ui"

#: (route name, pattern under the prefix); as-of before {model}.
ROUTES = [
    ("clio.ui.home", "/"),
    ("clio.ui.asof", "/as-of"),
    ("clio.ui.list", "/{model}"),
    ("clio.ui.object", "/{model}/{code}"),
    ("clio.ui.edit", "/{model}/{code}/edit"),
    ("clio.ui.history", "/{model}/{code}/history"),
    ("clio.ui.diff", "/{model}/{code}/diff"),
    ("clio.ui.transition", "/{model}/{code}/do/{transition}"),
]


def includeme(config) -> None:
    from clio.ui import views

    config.include("clio")
    config.include("pyramid_jinja2")
    settings = config.get_settings()
    prefix = normalize_prefix(settings.get("clio.ui_prefix", DEFAULT_PREFIX))
    settings["clio.ui_prefix"] = prefix

    config.add_static_view(f"{prefix.lstrip('/') or ''}/static".lstrip("/"), "clio.ui:static")
    for name, pattern in ROUTES:
        config.add_route(name, (prefix + pattern) if pattern != "/" else (prefix + "/"))

    read = "clio.view"
    get = dict(request_method="GET", permission=read)
    post = dict(request_method="POST", permission="clio.edit", require_csrf=True)
    config.add_view(views.home, route_name="clio.ui.home", **get)
    config.add_view(views.time_travel, route_name="clio.ui.asof", request_method="GET",
                    permission=read)
    config.add_view(views.list_objects, route_name="clio.ui.list", **get)
    config.add_view(views.show_object, route_name="clio.ui.object", **get)
    config.add_view(views.edit_form, route_name="clio.ui.edit", request_method="GET",
                    permission="clio.edit")
    config.add_view(views.edit_form, route_name="clio.ui.edit", **post)
    config.add_view(views.show_history, route_name="clio.ui.history", **get)
    config.add_view(views.show_diff, route_name="clio.ui.diff", **get)
    config.add_view(views.do_transition, route_name="clio.ui.transition", **post)
