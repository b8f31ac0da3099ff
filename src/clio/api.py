"""The JSON API of SPEC §4.1, as Pyramid views.

Routes (``{prefix}`` is ``clio.api_prefix``, ``{model}`` a name given to
``config.add_clio_model``)::

    GET   {prefix}/openapi.json
    GET   {prefix}/{model}                          list
    POST  {prefix}/{model}                          create
    GET   {prefix}/{model}/{code}                   one version
    PATCH {prefix}/{model}/{code}                   change the pending version
    GET   {prefix}/{model}/{code}/versions
    GET   {prefix}/{model}/{code}/history
    GET   {prefix}/{model}/{code}/diff
    POST  {prefix}/{model}/{code}/{transition}

The context of every route is a :class:`ClioContext` (its ``__parent__``
is the application's root, so ACLs there apply), and permissions go
through the application's security policy: ``clio.view``, ``clio.edit`` and
``clio.publish``.  Reading the published state (now, or as of a past
moment) needs no permission unless ``clio.public_read`` is false.

Errors are JSON ``{"error": kind, "message": text}`` for everything under
the prefix: clio's own errors, HTTP errors (403, 404, 405, a failed CSRF
check), bad JSON, bad values and the database's refusals.
"""

from __future__ import annotations

import json
import re

import sqlalchemy as sa
from pyramid.httpexceptions import (
    HTTPConflict,
    HTTPError,
    HTTPForbidden,
    HTTPMethodNotAllowed,
    HTTPNotFound,
    HTTPPreconditionFailed,
)
from pyramid.interfaces import IRootFactory
from pyramid.response import Response
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.traversal import DefaultRootFactory
from sqlalchemy import exc as sa_exc

import clio
from clio import status as st
from clio.config import MODELS_KEY
from clio.events import REQUEST_KEY
from clio.exceptions import (
    ClioError,
    CompareError,
    ConflictError,
    EditError,
    ImmutableVersionError,
    InvalidCodeError,
    RelationError,
    ScheduleError,
    ViewError,
)
from clio.interfaces import IWorkflowed
from clio.serialize import (
    InputError,
    etag_of,
    iso,
    parse_datetime,
    parse_fields,
    required_columns,
    serialize,
    to_json,
)
from clio.session import prepare_session
from clio.workflow import check_at

VIEW, EDIT, PUBLISH = "clio.view", "clio.edit", "clio.publish"

#: transition -> permission it needs.
TRANSITIONS = {
    "publish": PUBLISH,
    "expire": PUBLISH,
    "edit": EDIT,
    "update": EDIT,
    "delete": EDIT,
    "revert": EDIT,
    "discard": EDIT,
}
#: Transitions that take ``{"at": ...}``.
SCHEDULED_TRANSITIONS = ("publish", "expire")
#: The values of ``?view=``.
VIEWS = ("published", "editable", "actual", "archived", "scheduled")
DEFAULT_LIMIT = 50
MAX_LIMIT = 1000

#: HTTP status of clio's errors; every other ClioError is a 409.
CLIO_ERROR_STATUS = {
    InvalidCodeError: 400,
    ViewError: 400,
    RelationError: 400,
    CompareError: 400,
}

_INTEGER = re.compile(r"^-?[0-9]{1,18}$")


# --- context and helpers -----------------------------------------------------


class ClioContext:
    """The context of clio's routes.

    ``name`` and ``cls`` are the model's (None on ``openapi.json``);
    ``__parent__`` is the application's root, so that a security policy
    using ACLs finds them there.  An unknown model name is a 404 before any
    permission check.
    """

    def __init__(self, request):
        self.request = request
        self.name = (request.matchdict or {}).get("model")
        self.model = None
        if self.name is not None:
            self.model = request.registry[MODELS_KEY].get(self.name)
            if self.model is None:
                raise not_found(f"unknown model {self.name!r}")
        self.__name__ = self.name
        root_factory = request.registry.queryUtility(IRootFactory, default=DefaultRootFactory)
        self.__parent__ = root_factory(request)

    @property
    def cls(self):
        return self.model.cls if self.model is not None else None


def http_error(exc_class, message: str, kind: str | None = None, **kw):
    error = exc_class(message, **kw)
    if kind is not None:
        error.clio_error = kind
    return error


def not_found(message: str):
    return http_error(HTTPNotFound, message, "NotFound")


def forbidden(message: str):
    return http_error(HTTPForbidden, message, "Forbidden")


def json_response(data, status: int = 200, **headers) -> Response:
    response = Response(status=status, content_type="application/json", charset="utf-8")
    response.text = json.dumps(data, ensure_ascii=False)
    response.headers.update(headers)
    return response


def version_response(version, status: int = 200) -> Response:
    data = serialize(version)
    response = json_response(data, status)
    response.etag = etag_of(data)
    return response


def dbsession(request):
    """``request.dbsession``, told about the request even if the
    application made it (idempotent)."""
    session = request.dbsession
    if session.info.get(REQUEST_KEY) is not request:
        prepare_session(session, request)
    return session


def workflowed(request, version):
    return request.registry.getAdapter(version, IWorkflowed)


def parse_code(request) -> int:
    text = request.matchdict["code"]
    if not _INTEGER.match(text):
        raise not_found(f"unknown code {text!r}: codes are integers")
    return int(text)


def query(request, allowed) -> dict:
    """The query parameters, each at most once, all of them known."""
    try:
        items = list(request.GET.items())
    except UnicodeDecodeError:
        raise InputError("the query string is not UTF-8", "InvalidParameter") from None
    params = {}
    for key, value in items:
        if key not in allowed:
            raise InputError(
                f"unknown parameter {key!r}; use {', '.join(sorted(allowed)) or 'none'}",
                "InvalidParameter",
            )
        if key in params:
            raise InputError(f"parameter {key!r} given twice", "InvalidParameter")
        params[key] = value
    return params


def int_param(params, key, default, minimum, maximum=None) -> int:
    text = params.get(key)
    if text is None:
        return default
    if not _INTEGER.match(text.strip()):
        raise InputError(f"{key} must be an integer, not {text!r}", "InvalidParameter")
    value = int(text)
    if value < minimum or (maximum is not None and value > maximum):
        bounds = f"from {minimum} to {maximum}" if maximum is not None else f"at least {minimum}"
        raise InputError(f"{key} must be {bounds}, not {value}", "InvalidParameter")
    return value


def read_json(request, *, optional=False):
    """The request body as a JSON object (None for no body if optional)."""
    body = request.body
    if not body.strip():
        if optional:
            return None
        raise InputError("the body must be a JSON object", "InvalidJSON")
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise InputError(f"the body is not valid JSON: {error}", "InvalidJSON") from None
    if not isinstance(data, dict):
        raise InputError("the body must be a JSON object", "InvalidJSON")
    return data


def view_of(params):
    """(view name, as_of) from ``?view=`` and ``?as_of=``."""
    name = params.get("view", "published")
    if name not in VIEWS:
        raise InputError(
            f"unknown view {name!r}; use one of {', '.join(VIEWS)}", "InvalidParameter"
        )
    as_of = None
    if "as_of" in params:
        if name != "published":
            raise InputError("as_of goes with view=published only", "InvalidParameter")
        as_of = parse_datetime(params["as_of"], "as_of")
    return name, as_of


def require(request, permission: str, what: str) -> None:
    if not request.has_permission(permission):
        raise forbidden(f"{what} needs the permission {permission!r}")


def require_read(request, name, as_of, cls) -> None:
    """Published reads (now or in the past) are public when
    ``clio.public_read`` is on; everything else needs ``clio.view``."""
    published = name == "published" and (as_of is None or as_of <= cls._now())
    if published and request.registry.settings["clio.public_read"]:
        return
    what = f"the {name} view" if as_of is None else "a view of the future"
    require(request, VIEW, f"reading {what}")


def view_statement(cls, name, as_of):
    """SELECT of the versions seen through a view."""
    stmt = sa.select(cls)
    if name == "scheduled":
        # A scheduled deletion shows as the end of the published version;
        # its tombstone is bookkeeping for a cancellation, never live.
        now = cls._now()
        return stmt.where(
            sa.or_(cls.published_start_timestamp > now, cls.published_end_timestamp > now),
            cls.status.not_in(st.TOMBSTONE_STATUSES),
        )
    option = clio.view(as_of=as_of) if as_of is not None else clio.view(name)
    return stmt.options(option)


# --- collection ----------------------------------------------------------------


def list_versions(context, request):
    cls = context.cls
    params = query(request, {"view", "as_of", "limit", "offset"})
    name, as_of = view_of(params)
    limit = int_param(params, "limit", DEFAULT_LIMIT, 0, MAX_LIMIT)
    offset = int_param(params, "offset", 0, 0)
    require_read(request, name, as_of, cls)
    session = dbsession(request)
    stmt = view_statement(cls, name, as_of)
    total = session.scalar(
        stmt.with_only_columns(sa.func.count(), maintain_column_froms=True)
    )
    items = session.scalars(stmt.order_by(cls.code, cls.id).limit(limit).offset(offset))
    return json_response({"items": [serialize(v) for v in items], "total": total})


def next_code(session, model) -> int:
    if model.codes is not None:
        return model.codes(session)
    cls = model.cls
    highest = session.scalar(sa.select(sa.func.max(cls.code)))
    return 1 if highest is None else highest + 1


def is_code_collision(error, cls) -> bool:
    """Whether the unique ``(code, status)`` constraint refused a row,
    as SQLite, MariaDB and PostgreSQL each say it."""
    table = sa.inspect(cls).local_table.name
    text = str(error.orig)
    return f"{table}_workflow" in text or (
        f"{table}.code" in text and f"{table}.status" in text
    )


def new_version(cls, code, values):
    if issubclass(cls, clio.Workflowed):
        return cls(code=code, **values)
    version = sa.inspect(cls).class_manager.new_instance()
    version._init_version(code)
    for key, value in values.items():
        setattr(version, key, value)
    return version


def create(context, request):
    cls = context.cls
    query(request, set())
    values = parse_fields(cls, read_json(request), allow_code=True)
    missing = [key for key in required_columns(cls) if key not in values]
    if missing:
        raise InputError(f"missing required field(s) {', '.join(missing)}", "MissingField")
    session = dbsession(request)
    code = values.pop("code", None)
    generated = code is None
    if generated:
        code = next_code(session, context.model)
    elif session.scalar(sa.select(cls.id).where(cls.code == code).limit(1)) is not None:
        raise http_error(HTTPConflict, f"code {code} is in use", "CodeInUse")
    version = new_version(cls, code, values)
    session.add(version)
    try:
        session.flush()
    except sa_exc.IntegrityError as error:
        if generated and is_code_collision(error, cls):
            # Another request took the code first: retry the request.
            raise ConflictError(
                f"another request created {context.name} {code} first: {error.orig}"
            ) from error
        raise
    response = version_response(version, 201)
    response.location = request.route_url("clio.item", model=context.name, code=code)
    return response


# --- one object ---------------------------------------------------------------------


def get_version(context, request):
    cls = context.cls
    code = parse_code(request)
    params = query(request, {"view", "as_of"})
    name, as_of = view_of(params)
    require_read(request, name, as_of, cls)
    session = dbsession(request)
    if name == "published":
        # Now or as of a moment: the indexed read of one object, as fast
        # however long the object's history is (clio.reads).
        version = clio.version_at(session, cls, code, as_of)
    else:
        # One version per object, except: the latest of several archives,
        # and of a scheduled publication the version going live (published)
        # before the one ending (archived).
        order = cls.status.desc() if name == "archived" else cls.status
        stmt = view_statement(cls, name, as_of).where(cls.code == code)
        version = session.scalars(stmt.order_by(order).limit(1)).first()
    if version is None:
        moment = f" as of {iso(as_of)}" if as_of is not None else ""
        raise not_found(f"{context.name} {code} has no {name} version{moment}")
    response = version_response(version)
    response.conditional_response = True
    return response


def pending_version(session, cls, code, name):
    """The version a PATCH changes (NEW, EDITABLE or UPDATABLE)."""
    versions = list(
        session.scalars(
            sa.select(cls).where(cls.code == code, cls.status.in_(st.EDITABLE_STATUSES))
        )
    )
    for version in versions:
        if version.status in (st.NEW, st.EDITABLE, st.UPDATABLE):
            return version
    for version in versions:
        if version.status in st.DELETED_STATUSES:
            raise EditError(
                f"{name} {code} has a pending deletion; revert or discard it "
                f"before changing the object"
            )
    if versions:
        raise ImmutableVersionError(
            f"{name} {code} is published; POST .../edit or .../update to get "
            f"a version to change"
        )
    if session.scalar(sa.select(cls.id).where(cls.code == code).limit(1)) is not None:
        raise ImmutableVersionError(f"{name} {code} is archived and cannot change")
    raise not_found(f"unknown {name} {code}")


def patch(context, request):
    cls = context.cls
    code = parse_code(request)
    query(request, set())
    values = parse_fields(cls, read_json(request))
    session = dbsession(request)
    version = pending_version(session, cls, code, context.name)
    current = etag_of(serialize(version))
    if current not in request.if_match:
        raise http_error(
            HTTPPreconditionFailed,
            f"{context.name} {code} changed: its ETag is no longer {request.if_match}",
            "PreconditionFailed",
        )
    changed = False
    for key, value in values.items():
        if getattr(version, key) != value:
            setattr(version, key, value)
            changed = True
    if changed:
        workflowed(request, version).mark_changed()
    session.flush()
    return version_response(version)


def handle_version(session, cls, code, name):
    """The version transitions start from: the object's editable version
    (pending, or published when nothing is pending), else a version whose
    published life ends in the future (a pending expiry), else its latest
    archive."""
    now = cls._now()
    for criterion, order in (
        (cls.status.in_(st.EDITABLE_STATUSES), cls.status),
        (cls.published_end_timestamp > now, cls.status.desc()),
        (cls.status >= st.ARCHIVED, cls.status.desc()),
    ):
        version = session.scalars(
            sa.select(cls).where(cls.code == code, criterion).order_by(order).limit(1)
        ).first()
        if version is not None:
            return version
    raise not_found(f"unknown {name} {code}")


def transition(context, request):
    cls = context.cls
    code = parse_code(request)
    name = request.matchdict["transition"]
    query(request, set())
    body = read_json(request, optional=True) or {}
    allowed = {"at"} if name in SCHEDULED_TRANSITIONS else set()
    unknown = sorted(set(body) - allowed)
    if unknown:
        takes = 'only "at"' if allowed else "no fields"
        raise InputError(f"{name} takes {takes}, not {', '.join(unknown)}")
    session = dbsession(request)
    version = handle_version(session, cls, code, context.name)
    adapter = workflowed(request, version)
    if name in SCHEDULED_TRANSITIONS:
        at = body.get("at")
        if at is not None:
            try:
                at = check_at(version, parse_datetime(at, "at", kind="ScheduleError"))
            except ScheduleError as error:
                raise InputError(str(error), "ScheduleError") from None
        result = getattr(adapter, name)(at=at)
    else:
        result = getattr(adapter, name)()
    session.flush()
    if result is None:
        return Response(status=204)
    return version_response(result)


def unknown_transition(context, request):
    name = request.matchdict["transition"]
    if name not in TRANSITIONS:
        raise not_found(
            f"unknown transition {name!r}; use one of {', '.join(TRANSITIONS)}"
        )
    return method_not_allowed(context, request)


# --- versions, history, diff --------------------------------------------------------


def all_versions(context, request):
    code = parse_code(request)
    versions = clio.versions(dbsession(request), context.cls, code)
    if not versions:
        raise not_found(f"unknown {context.name} {code}")
    return versions


def list_all_versions(context, request):
    query(request, set())
    return json_response({"items": [serialize(v) for v in all_versions(context, request)]})


def history(context, request):
    query(request, set())
    events = clio.history(all_versions(context, request))
    return json_response(
        {
            "items": [
                {
                    "event": event.event_type,
                    "timestamp": to_json(event.timestamp),
                    "userid": event.userid,
                    "version_id": event.version.id,
                }
                for event in events
            ]
        }
    )


def diff(context, request):
    params = query(request, {"from", "to"})
    versions = all_versions(context, request)
    code = versions[0].code

    def pick(key, statuses, what):
        text = params.get(key)
        if text is not None:
            if not _INTEGER.match(text.strip()):
                raise InputError(f"{key} must be a version id, not {text!r}", "InvalidParameter")
            wanted = int(text)
            for version in versions:
                if version.id == wanted:
                    return version
            raise not_found(f"{context.name} {code} has no version {wanted}")
        for version in versions:
            if version.status in statuses:
                return version
        raise not_found(f"{context.name} {code} has no {what} version; give {key}=ID")

    old = pick("from", st.PUBLISHED_STATUSES, "published")
    new = pick("to", st.NEW_VERSION_STATUSES, "pending")
    changes = {}
    for key, change in clio.diff(old, new).items():
        changes[key] = to_json(change)
    return json_response({"from": old.id, "to": new.id, "changes": changes})


# --- OpenAPI ----------------------------------------------------------------------------


def openapi(context, request):
    from clio.openapi import document

    query(request, set())
    if not request.registry.settings["clio.public_read"]:
        require(request, VIEW, "reading the API description")
    return json_response(document(request))


# --- fallbacks and errors ---------------------------------------------------------------

#: route -> the methods it answers.
ROUTE_METHODS = {
    "clio.openapi": ("GET",),
    "clio.collection": ("GET", "POST"),
    "clio.item": ("GET", "PATCH"),
    "clio.versions": ("GET",),
    "clio.history": ("GET",),
    "clio.diff": ("GET",),
    "clio.transition": ("POST",),
}


def method_not_allowed(context, request):
    allowed = ROUTE_METHODS[request.matched_route.name]
    raise http_error(
        HTTPMethodNotAllowed,
        f"{request.method} is not allowed here; use {', '.join(allowed)}",
        "MethodNotAllowed",
        headers={"Allow": ", ".join(allowed)},
    )


def error_response(status: int, kind: str, message: str) -> Response:
    return json_response({"error": kind, "message": message}, status)


def http_error_view(exc, request):
    kind = getattr(exc, "clio_error", None) or type(exc).__name__.removeprefix("HTTP")
    message = exc.detail if isinstance(exc.detail, str) and exc.detail else exc.explanation
    if isinstance(exc, HTTPForbidden) and not hasattr(exc, "clio_error"):
        message = "permission denied" + (f": {exc.detail}" if exc.detail else "")
    if isinstance(exc, HTTPNotFound) and not hasattr(exc, "clio_error"):
        message = f"nothing here: {request.path_info}"
    response = error_response(exc.code, kind, message or exc.title)
    for header in ("Allow", "WWW-Authenticate"):
        if header in exc.headers:
            response.headers[header] = exc.headers[header]
    return response


def clio_error_view(exc, request):
    status = 409
    for cls in type(exc).__mro__:
        if cls in CLIO_ERROR_STATUS:
            status = CLIO_ERROR_STATUS[cls]
            break
    return error_response(status, type(exc).__name__, str(exc))


def input_error_view(exc, request):
    return error_response(400, exc.kind, str(exc))


def database_error_view(exc, request):
    """The database refused a value (400) or a row (409)."""
    if isinstance(exc, sa_exc.IntegrityError):
        status = 409
    elif isinstance(exc, sa_exc.DataError) or not isinstance(exc, sa_exc.DBAPIError):
        status = 400
    else:
        raise exc  # the database failed: not the client's fault
    message = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    return error_response(status, type(exc).__name__, message)


class ClioApiPredicate:
    """View predicate ``clio_api=PREFIX``: the raw request path is under
    the API prefix.  Raw, so that it also holds for paths that are not
    valid UTF-8 (answered with a JSON 404, not a server error)."""

    def __init__(self, value, config):
        self.prefix = value

    def text(self):
        return f"clio_api = {self.prefix!r}"

    phash = text

    def __call__(self, context, request):
        path = request.environ.get("PATH_INFO", "")
        return path == self.prefix or path.startswith(self.prefix + "/") or not self.prefix


def url_decode_error_view(exc, request):
    return error_response(404, "NotFound", "the path is not valid UTF-8")


# --- registration --------------------------------------------------------------------------


def add_api(config, prefix: str) -> None:
    """Routes, views and error views of the API under ``prefix``."""
    route_prefix = (config.route_prefix or "").strip("/")
    full_prefix = f"/{route_prefix}{prefix}" if route_prefix else prefix

    routes = [
        ("clio.openapi", "/openapi.json"),
        ("clio.collection", "/{model}"),
        ("clio.item", "/{model}/{code}"),
        ("clio.versions", "/{model}/{code}/versions"),
        ("clio.history", "/{model}/{code}/history"),
        ("clio.diff", "/{model}/{code}/diff"),
        ("clio.transition", "/{model}/{code}/{transition}"),
    ]
    for name, pattern in routes:
        config.add_route(name, prefix + pattern, factory=ClioContext)

    public = NO_PERMISSION_REQUIRED  # checked in the view: depends on ?view=
    views = [
        ("clio.openapi", "GET", openapi, public),
        ("clio.collection", "GET", list_versions, public),
        ("clio.collection", "POST", create, EDIT),
        ("clio.item", "GET", get_version, public),
        ("clio.item", "PATCH", patch, EDIT),
        ("clio.versions", "GET", list_all_versions, VIEW),
        ("clio.history", "GET", history, VIEW),
        ("clio.diff", "GET", diff, VIEW),
    ]
    for route, method, view, permission in views:
        config.add_view(view, route_name=route, request_method=method, permission=permission)
    for name, permission in TRANSITIONS.items():
        config.add_view(
            transition,
            route_name="clio.transition",
            request_method="POST",
            match_param=f"transition={name}",
            permission=permission,
        )
    for route in ROUTE_METHODS:
        fallback = unknown_transition if route == "clio.transition" else method_not_allowed
        config.add_view(fallback, route_name=route, permission=NO_PERMISSION_REQUIRED)

    config.add_view_predicate("clio_api", ClioApiPredicate)
    errors = [
        (HTTPError, http_error_view),
        (HTTPNotFound, http_error_view),
        (HTTPForbidden, http_error_view),
        (ClioError, clio_error_view),
        (InputError, input_error_view),
        (sa_exc.StatementError, database_error_view),
    ]
    from pyramid.exceptions import URLDecodeError

    errors.append((URLDecodeError, url_decode_error_view))
    for context, view in errors:
        config.add_exception_view(view, context=context, clio_api=full_prefix)
