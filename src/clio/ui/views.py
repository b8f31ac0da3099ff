"""The editorial UI's views: server-rendered pages over the engine.

Every page reads through ``request.dbsession`` and acts through the
model's ``IWorkflowed`` adapter, exactly like the JSON API, so the same
permissions, events, user ids and errors apply.  Forms post back with
Pyramid's CSRF token; a successful post redirects (so a reload does not
post twice) and says what happened in a flash message kept in the
request's session.

A form also carries a *state token*: the ETag (as the JSON API computes
it) of the version the page showed.  When the version changed meanwhile,
say because somebody else published it, the post does nothing and says
so, giving the user's typed text back.
"""

from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from pyramid.httpexceptions import HTTPBadRequest, HTTPFound, HTTPNotFound, HTTPSeeOther
from pyramid.renderers import render_to_response

import clio
from clio import status as st
from clio.api import dbsession, handle_version
from clio.config import MODELS_KEY
from clio.diffing import diff, members, user_columns
from clio.exceptions import ClioError
from clio.interfaces import IWorkflowed
from clio.relations import relations_of
from clio.serialize import etag_of, serialize
from clio.ui.forms import fields_of, label_of, parse_form, values_of
from clio.ui.state import EXPLAIN, TRANSITIONS, ObjectState

#: The list's views: ?view= value -> (tab label, clio view or None).
LIST_VIEWS = {
    "editable": "Work list",
    "published": "Published",
    "actual": "After publishing",
    "scheduled": "Scheduled",
    "archived": "Archive",
}
DEFAULT_VIEW = "editable"
HISTORY_WORDS = {
    clio.HISTORY_CREATE: "created",
    clio.HISTORY_EDIT: "started an edit",
    clio.HISTORY_CHANGE: "changed",
    clio.HISTORY_PUBLISH: "published",
    clio.HISTORY_ARCHIVE: "archived",
    clio.HISTORY_DELETE: "deleted",
    clio.HISTORY_EDIT_DELETE: "asked for deletion",
}
#: The format of <input type="datetime-local"> (UTC in this UI).
LOCAL_FORMAT = "%Y-%m-%dT%H:%M"


# --- helpers -------------------------------------------------------------------


def template(name: str) -> str:
    return f"clio.ui:templates/{name}"


def models(request) -> dict:
    return request.registry[MODELS_KEY]


def model_of(request):
    name = request.matchdict["model"]
    model = models(request).get(name)
    if model is None:
        raise HTTPNotFound(f"unknown model {name!r}")
    return model


def code_of(request) -> int:
    text = request.matchdict["code"]
    if not text.isdigit() or len(text) > 18:
        raise HTTPNotFound(f"unknown code {text!r}")
    return int(text)


def token_of(version) -> str:
    """The state token of a version (its JSON API ETag), '' for none."""
    return etag_of(serialize(version)) if version is not None else ""


def when(moment) -> str:
    """A timestamp as this UI shows it: UTC to the second."""
    if moment is None:
        return ""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def parse_moment(text: str, what: str) -> datetime:
    """A ``datetime-local`` value (or ISO-8601) as aware UTC, else a
    readable ValueError."""
    text = (text or "").strip()
    if not text:
        raise ValueError(f"Give {what} as a date and time.")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a date and time; use the form YYYY-MM-DD HH:MM."
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def object_state(request, model, code) -> ObjectState:
    versions = clio.versions(dbsession(request), model.cls, code)
    if not versions:
        raise HTTPNotFound(f"{model.name} {code} does not exist")
    return ObjectState.of(versions, model.cls._now())


def relation_rows(request, version, loaded: bool = False) -> list[dict]:
    """The one-to-many and many-to-many members of ``version``, each
    with a link when its class is served by the UI too.

    ``loaded``: read the relationship itself, as the statement that loaded
    ``version`` sees it (a time-travel read passes its moment on to the
    lazy load), instead of what :func:`clio.diffing.members` says the
    version contains today."""
    names = {m.cls: m.name for m in models(request).values()}
    rows = []
    relations = relations_of(type(version))
    for prop in relations.one_to_many + relations.many_to_many:
        found = getattr(version, prop.key) if loaded else members(version, prop)
        items = sorted(found, key=lambda v: v.code)
        target = names.get(prop.mapper.class_)
        rows.append(
            {
                "name": prop.key,
                "items": [
                    {
                        "label": label_of(item),
                        "code": item.code,
                        "url": request.route_url("clio.ui.object", model=target, code=item.code)
                        if target
                        else None,
                    }
                    for item in items
                ],
            }
        )
    return rows


def can(request, permission: str) -> bool:
    return bool(request.has_permission(permission))


def render(request, name: str, status: int = 200, **values):
    values.setdefault("models", models(request))
    values.setdefault("flashes", request.session.pop_flash("info"))
    values.setdefault("flash_errors", request.session.pop_flash("error"))
    values["when"] = when
    values["csrf_token"] = request.session.get_csrf_token()
    values["userid"] = request.authenticated_userid
    values["logout_url"] = optional_route(request, "logout")
    values["public_url"] = request.registry.settings.get("clio.ui.public_url")
    response = render_to_response(template(name), values, request=request)
    response.status_int = status
    return response


def optional_route(request, name: str) -> str | None:
    from pyramid.interfaces import IRoutesMapper

    mapper = request.registry.queryUtility(IRoutesMapper)
    if mapper is not None and mapper.get_route(name) is not None:
        return request.route_url(name)
    return None


def see(request, url: str) -> HTTPSeeOther:
    return HTTPSeeOther(location=url)


# --- pages ---------------------------------------------------------------------


def home(request):
    first = next(iter(models(request)), None)
    if first is None:
        return render(request, "empty.jinja2")
    return HTTPFound(location=request.route_url("clio.ui.list", model=first))


def list_objects(request):
    model = model_of(request)
    cls = model.cls
    view = request.GET.get("view", DEFAULT_VIEW)
    if view not in LIST_VIEWS:
        raise HTTPBadRequest(f"unknown view {view!r}; use one of {', '.join(LIST_VIEWS)}")
    session = dbsession(request)
    now = cls._now()
    if view == "scheduled":
        stmt = sa.select(cls).where(
            sa.or_(cls.published_start_timestamp > now, cls.published_end_timestamp > now)
        )
    else:
        stmt = sa.select(cls).options(clio.view(view))
    shown = list(session.scalars(stmt.order_by(cls.code, cls.id)))
    codes = sorted({v.code for v in shown})
    by_code: dict = {}
    if codes:
        every = session.scalars(
            sa.select(cls).where(cls.code.in_(codes)).options(clio.view("all")).order_by(cls.id)
        )
        for version in every:
            by_code.setdefault(version.code, []).append(version)
    rows = []
    for version in shown:
        state = ObjectState.of(
            sorted(by_code[version.code], key=lambda v: (v.status >= st.ARCHIVED, v.status, v.id)),
            now,
        )
        rows.append({"version": version, "label": label_of(version), "state": state})
    return render(
        request,
        "list.jinja2",
        model=model,
        rows=rows,
        view=view,
        views=LIST_VIEWS,
    )


def show_object(request):
    model = model_of(request)
    code = code_of(request)
    state = object_state(request, model, code)
    fields = fields_of(model.cls)
    buttons = []
    for name, permission in TRANSITIONS.items():
        reason = state.why_not(name)
        if reason is None and not can(request, permission):
            reason = f"you may not {name} (needs {permission})"
        buttons.append({"name": name, "reason": reason, "explain": EXPLAIN[name]})
    return render(
        request,
        "object.jinja2",
        model=model,
        code=code,
        state=state,
        label=label_of(state.handle),
        fields=fields,
        live_values=values_of(state.live, fields) if state.live is not None else None,
        pending_values=values_of(state.pending, fields) if state.pending is not None else None,
        relations=relation_rows(request, state.handle),
        buttons=buttons,
        token=token_of(state.handle),
        can_edit=can(request, "clio.edit") and state.editable(),
        can_publish=can(request, "clio.publish"),
        status_name=st.status_name,
    )


def edit_form(request):
    """GET: the form, from the pending version (or the published one, of
    which saving makes an edit).  POST: validate, then write."""
    model = model_of(request)
    code = code_of(request)
    state = object_state(request, model, code)
    fields = fields_of(model.cls)
    if request.method == "GET":
        if not state.editable():
            request.session.flash(cannot_edit(state), "error")
            return see(request, request.route_url("clio.ui.object", model=model.name, code=code))
        return form_page(request, model, code, state, fields, values_of(state.handle, fields))

    typed, values, errors = parse_form(fields, request.POST)
    posted_token = request.POST.get("token", "")
    current = token_of(state.handle)
    problem = None
    if not state.editable():
        problem = cannot_edit(state) + " Your text is kept below."
    elif posted_token != current:
        problem = stale_message(state)
    if problem or errors:
        # Nothing was written; the user's text comes back as typed.  A
        # stale form gets the current token, so saving again is a
        # deliberate choice to overwrite.
        return form_page(
            request, model, code, state, fields, typed,
            errors=errors, problem=problem, token=current, status=409 if problem else 400,
        )
    try:
        version = state.handle
        if version.status == st.PUBLISHED:
            version = request.registry.getAdapter(version, IWorkflowed).edit()
        changed = False
        for key, value in values.items():
            if getattr(version, key) != value:
                setattr(version, key, value)
                changed = True
        if changed:
            request.registry.getAdapter(version, IWorkflowed).mark_changed()
        dbsession(request).flush()
    except ClioError as error:
        request.tm.doom()  # whatever the engine did before refusing is undone
        return form_page(
            request, model, code, state, fields, typed,
            problem=f"{error} Nothing was saved; your text is kept below.",
            token=current, status=409,
        )
    request.session.flash(
        f"Saved the draft of {label_of(version)}." if changed else "Nothing changed.", "info"
    )
    return see(request, request.route_url("clio.ui.object", model=model.name, code=code))


def cannot_edit(state: ObjectState) -> str:
    if state.scheduled:
        return "A schedule is pending on this object; cancel it (revert) before editing."
    if state.handle is not None and state.handle.status in st.DELETED_STATUSES:
        return "A deletion is pending; revert it before editing."
    return "This object no longer exists and cannot be edited."


def stale_message(state: ObjectState, form: bool = True) -> str:
    """Why a form or button was out of date: what the object is now."""
    version = state.handle
    now = st.status_name(version.status).replace("_", " ")
    if version.status in st.PUBLISHED_STATUSES:
        what = f"it is now {now}, by {version.published_userid} at {when(version.published_start_timestamp)}"
    else:
        what = f"it is now {now}, last changed by {version.changed_userid} at {when(version.changed_timestamp)}"
    if not form:
        return f"this object changed since you loaded the page: {what}. Check its state below and try again."
    return (
        f"This object changed since you opened the form: {what}. Nothing was saved. "
        f"Your text is kept below; compare it with the current version and save "
        f"again to replace that."
    )


def form_page(request, model, code, state, fields, values, errors=None, problem=None,
              token=None, status=200):
    return render(
        request,
        "edit.jinja2",
        status=status,
        model=model,
        code=code,
        state=state,
        label=label_of(state.handle),
        fields=fields,
        values=values,
        errors=errors or {},
        problem=problem,
        token=token if token is not None else token_of(state.handle),
        from_published=state.handle.status == st.PUBLISHED,
    )


def do_transition(request):
    model = model_of(request)
    code = code_of(request)
    name = request.matchdict["transition"]
    if name not in TRANSITIONS:
        raise HTTPNotFound(f"unknown transition {name!r}")
    here = request.route_url("clio.ui.object", model=model.name, code=code)
    state = object_state(request, model, code)
    permission = TRANSITIONS[name]
    if not can(request, permission):
        request.session.flash(
            f"You may not {name}: that needs the permission {permission!r}.", "error"
        )
        return see(request, here)
    if request.POST.get("token", "") != token_of(state.handle):
        request.session.flash(f"Not done: {stale_message(state, form=False)}", "error")
        return see(request, here)
    reason = state.why_not(name)
    if reason is not None:
        request.session.flash(f"Cannot {name} {label_of(state.handle)}: {reason}.", "error")
        return see(request, here)
    at = None
    if name == "publish" and request.POST.get("at", "").strip():
        try:
            at = parse_moment(request.POST["at"], "the publication time")
        except ValueError as error:
            request.session.flash(f"Not published: {error}", "error")
            return see(request, here)
    session = dbsession(request)
    try:
        version = handle_version(session, model.cls, code, model.name)
        adapter = request.registry.getAdapter(version, IWorkflowed)
        result = adapter.publish(at=at) if name == "publish" else getattr(adapter, name)()
        session.flush()
    except ClioError as error:
        request.tm.doom()
        request.session.flash(f"Could not {name}: {error}", "error")
        return see(request, here)
    except HTTPNotFound:
        raise
    done = {
        "publish": "Published" if at is None else f"Scheduled for {when(at)}:",
        "revert": "Reverted",
        "discard": "Discarded the pending version of",
        "delete": "Deletion requested for",
        "expire": "Expired",
    }[name]
    subject = label_of(result) if result is not None else label_of(state.handle)
    request.session.flash(f"{done} {subject}.", "info")
    if result is None:
        return see(request, request.route_url("clio.ui.list", model=model.name))
    return see(request, here)


def show_history(request):
    model = model_of(request)
    code = code_of(request)
    state = object_state(request, model, code)
    events = [
        {
            "when": event.timestamp,
            "who": event.userid or "clio",
            "what": HISTORY_WORDS.get(event.event_type, event.event_type),
            "event": event.event_type,
            "version": event.version,
            "future": event.timestamp is not None and event.timestamp > state.now,
        }
        for event in clio.history(state.versions)
    ]
    old, new = default_pair(state)
    return render(
        request,
        "history.jinja2",
        model=model,
        code=code,
        state=state,
        label=label_of(state.handle),
        events=list(reversed(events)),
        versions=state.versions,
        default_from=old.id if old is not None else None,
        default_to=new.id if new is not None else None,
        status_name=st.status_name,
        label_of=label_of,
    )


def default_pair(state: ObjectState):
    """The versions compared by default: the live (else latest archived)
    one against the pending (else newest) one."""
    ordered = sorted(state.versions, key=lambda v: v.id)
    new = state.pending or state.handle or ordered[-1]
    old = state.live if state.live is not None and state.live is not new else None
    if old is None:
        older = [v for v in ordered if v is not new and v.id < new.id]
        old = older[-1] if older else new
    return old, new


def show_diff(request):
    model = model_of(request)
    code = code_of(request)
    state = object_state(request, model, code)
    by_id = {v.id: v for v in state.versions}
    default_old, default_new = default_pair(state)

    def pick(key, default):
        text = request.GET.get(key)
        if text is None or text == "":
            return default
        if not text.isdigit() or int(text) not in by_id:
            raise HTTPNotFound(f"{model.name} {code} has no version {text!r}")
        return by_id[int(text)]

    old, new = pick("from", default_old), pick("to", default_new)
    changes = diff(old, new)
    rows = [
        {
            "key": key,
            "old": getattr(old, key),
            "new": getattr(new, key),
            "changed": key in changes,
        }
        for key in user_columns(model.cls)
    ]
    old_relations = {r["name"]: r for r in relation_rows(request, old)}
    relations = []
    for row in relation_rows(request, new):
        change = changes.get(row["name"], {"added": [], "removed": [], "changed": []})
        relations.append(
            {
                "name": row["name"],
                "old": old_relations[row["name"]]["items"],
                "new": row["items"],
                "added": set(change["added"]),
                "removed": set(change["removed"]),
                "changed_codes": set(change["changed"]),
                "changed": row["name"] in changes,
            }
        )
    return render(
        request,
        "diff.jinja2",
        model=model,
        code=code,
        state=state,
        label=label_of(state.handle),
        old=old,
        new=new,
        rows=rows,
        relations=relations,
        versions=sorted(state.versions, key=lambda v: v.id),
        status_name=st.status_name,
        nchanges=len(changes),
    )


def time_travel(request):
    """The whole site as it was (or will be) published at a moment."""
    now = datetime.now(timezone.utc)
    text = request.GET.get("at", "")
    error = None
    moment = now
    if text:
        try:
            moment = parse_moment(text, "the moment")
        except ValueError as problem:
            error = str(problem)
    served = {m.cls for m in models(request).values()}
    session = dbsession(request)
    sections = []
    for model in models(request).values():
        cls = model.cls
        # Children of another served model appear under their parents.
        if any(p.mapper.class_ in served for p in relations_of(cls).many_to_one):
            continue
        if moment > now and not can(request, "clio.view"):
            continue
        items = []
        stmt = sa.select(cls).options(clio.view(as_of=moment)).order_by(cls.code)
        for version in session.scalars(stmt):
            items.append(
                {
                    "version": version,
                    "label": label_of(version),
                    "fields": [
                        (f.label, getattr(version, f.key))
                        for f in fields_of(cls)
                        if getattr(version, f.key) not in (None, "") and f.key != "title"
                    ],
                    "relations": relation_rows(request, version, loaded=True),
                }
            )
        sections.append({"model": model, "items": items})
    return render(
        request,
        "asof.jinja2",
        status=400 if error else 200,
        moment=moment,
        moment_value=moment.strftime(LOCAL_FORMAT),
        typed=text,
        error=error,
        sections=sections,
        is_now=not text,
    )
