"""The demo's own pages: the public site, login and logout.

The public pages read with ``clio.view(as_of=...)``: now by default (the
published version, whatever is being edited), or the moment given as
``?as_of=`` (time travel; a future moment needs ``clio.view``, since it
shows schedules before they happen).
"""

from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from pyramid.csrf import new_csrf_token
from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound, HTTPSeeOther
from pyramid.renderers import render_to_response
from pyramid.security import NO_PERMISSION_REQUIRED, forget, remember

import clio
from clio.api import dbsession
from clio.demo.models import Page
from clio.demo.security import USERS, check_password


def moment_of(request) -> tuple[datetime, bool]:
    """(moment, is_now) from ``?as_of=``; bad values are a 400 page."""
    text = request.GET.get("as_of", "").strip()
    now = Page._now()
    if not text:
        return now, True
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise DemoBadRequest(f"as_of={text!r} is not an ISO-8601 date and time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    if moment > now and not request.has_permission("clio.view"):
        raise HTTPForbidden("Only editors may look at the future.")
    return moment, False


class DemoBadRequest(ValueError):
    pass


def page(request, name, status=200, **values):
    values.setdefault("userid", request.authenticated_userid)
    values.setdefault("csrf_token", request.session.get_csrf_token())
    response = render_to_response(f"clio.demo:templates/{name}", values, request=request)
    response.status_int = status
    return response


def public_pages(request, moment):
    stmt = sa.select(Page).options(clio.view(as_of=moment)).order_by(Page.code)
    return list(dbsession(request).scalars(stmt))


def site_home(request):
    moment, is_now = moment_of(request)
    return page(
        request, "home.jinja2", pages=public_pages(request, moment), moment=moment,
        is_now=is_now, as_of=request.GET.get("as_of", ""),
    )


def site_page(request):
    moment, is_now = moment_of(request)
    text = request.matchdict["code"]
    code = int(text) if text.isdigit() and len(text) < 18 else None
    pages = public_pages(request, moment)
    found = next((p for p in pages if p.code == code), None)
    if found is None:
        raise HTTPNotFound("This page is not published" + ("" if is_now else " at that moment") + ".")
    return page(
        request, "page.jinja2", page=found, sections=list(found.sections), pages=pages,
        moment=moment, is_now=is_now, as_of=request.GET.get("as_of", ""),
    )


def login(request):
    came_from = request.params.get("came_from") or request.route_url("clio.ui.home")
    if not came_from.startswith(request.application_url):
        came_from = request.route_url("clio.ui.home")
    error = None
    userid = ""
    if request.method == "POST":
        userid = request.POST.get("userid", "").strip()
        if check_password(userid, request.POST.get("password", "")):
            headers = remember(request, userid)
            new_csrf_token(request)  # a new session gets a new token
            return HTTPSeeOther(location=came_from, headers=headers)
        error = "Unknown user or wrong password."
    return page(
        request, "login.jinja2", status=400 if error else 200, error=error,
        came_from=came_from, typed_userid=userid, users=USERS,
    )


def logout(request):
    headers = forget(request)
    new_csrf_token(request)
    return HTTPSeeOther(location=request.route_url("demo.home"), headers=headers)


def forbidden(request):
    """Anonymous visitors go to the login form; a logged-in user who may
    not do something is told so."""
    if request.authenticated_userid is None:
        return HTTPSeeOther(
            location=request.route_url("demo.login", _query={"came_from": request.url})
        )
    return page(request, "message.jinja2", status=403, title="Not allowed",
                message=f"{request.authenticated_userid} may not do this.")


def bad_request(exc, request):
    return page(request, "message.jinja2", status=400, title="Bad request", message=str(exc))


def not_found(exc, request):
    return page(request, "message.jinja2", status=404, title="Not found",
                message=exc.detail or "There is nothing here.")


def includeme(config):
    public = NO_PERMISSION_REQUIRED
    config.add_route("demo.home", "/")
    config.add_route("demo.page", "/pages/{code}")
    config.add_route("demo.login", "/login")
    config.add_route("logout", "/logout")
    config.add_static_view("demo-static", "clio.demo:static")
    config.add_view(site_home, route_name="demo.home", permission=public)
    config.add_view(site_page, route_name="demo.page", permission=public)
    config.add_view(login, route_name="demo.login", permission=public)
    config.add_view(logout, route_name="logout", request_method="POST", permission=public)
    config.add_forbidden_view(forbidden)
    config.add_exception_view(bad_request, context=DemoBadRequest)
    config.add_notfound_view(not_found)
