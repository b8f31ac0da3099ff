"""An OpenAPI 3 description of the JSON API, made from the registered
models and served at ``{prefix}/openapi.json``."""

from __future__ import annotations

import datetime as dt
import decimal

import sqlalchemy as sa

from clio.api import DEFAULT_LIMIT, MAX_LIMIT, SCHEDULED_TRANSITIONS, TRANSITIONS, VIEWS
from clio.config import MODELS_KEY
from clio.serialize import column_keys, required_columns, writable_columns
from clio import status as st

OPENAPI_VERSION = "3.0.3"


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def column_schema(column) -> dict:
    try:
        kind = column.type.python_type
    except NotImplementedError:
        kind = None
    if kind is bool:
        schema = {"type": "boolean"}
    elif kind is int:
        schema = {"type": "integer"}
    elif kind is float:
        schema = {"type": "number"}
    elif kind is decimal.Decimal:
        schema = {"type": "string", "format": "decimal"}
    elif kind is str:
        schema = {"type": "string"}
        length = getattr(column.type, "length", None)
        if length is not None:
            schema["maxLength"] = length
    elif kind is dt.datetime:
        schema = {"type": "string", "format": "date-time"}
    elif kind is dt.date:
        schema = {"type": "string", "format": "date"}
    elif kind is dt.time:
        schema = {"type": "string", "format": "time"}
    else:
        schema = {}
    if column.nullable:
        schema["nullable"] = True
    if column.doc:
        schema["description"] = column.doc
    return schema


def model_schemas(name: str, cls) -> dict:
    mapper = sa.inspect(cls)
    version = {}
    for key in column_keys(cls):
        version[key] = column_schema(mapper.get_property(key).columns[0])
    version["status_name"] = {
        "type": "string",
        "enum": list(st.STATUS_NAMES),
    }
    writable = {key: column_schema(col) for key, col in writable_columns(cls).items()}
    create = dict(writable)
    create["code"] = {"type": "integer", "description": "optional: generated when missing"}
    required = required_columns(cls)
    title = cls.__name__
    schemas = {
        f"{title}Version": {
            "type": "object",
            "description": f"A version of a {name} object.",
            "properties": version,
            "required": list(version),
        },
        f"{title}Create": {
            "type": "object",
            "properties": create,
            "additionalProperties": False,
        },
        f"{title}Change": {
            "type": "object",
            "properties": writable,
            "additionalProperties": False,
        },
        f"{title}List": {
            "type": "object",
            "properties": {
                "items": {"type": "array", "items": ref(f"{title}Version")},
                "total": {"type": "integer"},
            },
            "required": ["items", "total"],
        },
        f"{title}Versions": {
            "type": "object",
            "properties": {"items": {"type": "array", "items": ref(f"{title}Version")}},
            "required": ["items"],
        },
    }
    if required:
        schemas[f"{title}Create"]["required"] = required
    return schemas


COMMON_SCHEMAS = {
    "Error": {
        "type": "object",
        "properties": {
            "error": {"type": "string", "description": "clio error class or kind"},
            "message": {"type": "string"},
        },
        "required": ["error", "message"],
    },
    "History": {
        "type": "object",
        "properties": {
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "event": {
                            "type": "string",
                            "enum": [
                                "create",
                                "edit",
                                "change",
                                "publish",
                                "archive",
                                "delete",
                                "edit_delete",
                            ],
                        },
                        "timestamp": {"type": "string", "format": "date-time"},
                        "userid": {"type": "string", "nullable": True},
                        "version_id": {"type": "integer"},
                    },
                },
            }
        },
        "required": ["items"],
    },
    "Diff": {
        "type": "object",
        "properties": {
            "from": {"type": "integer"},
            "to": {"type": "integer"},
            "changes": {
                "type": "object",
                "description": "field -> [old, new]; a to-many relation -> "
                "{added, removed, changed} codes",
                "additionalProperties": {},
            },
        },
        "required": ["changes"],
    },
    "Schedule": {
        "type": "object",
        "properties": {"at": {"type": "string", "format": "date-time"}},
        "additionalProperties": False,
    },
}

PARAMETERS = {
    "code": {"name": "code", "in": "path", "required": True, "schema": {"type": "integer"}},
    "view": {
        "name": "view",
        "in": "query",
        "schema": {"type": "string", "enum": list(VIEWS), "default": "published"},
    },
    "as_of": {
        "name": "as_of",
        "in": "query",
        "description": "ISO-8601 with a timezone; goes with view=published",
        "schema": {"type": "string", "format": "date-time"},
    },
    "limit": {
        "name": "limit",
        "in": "query",
        "schema": {"type": "integer", "minimum": 0, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
    },
    "offset": {
        "name": "offset",
        "in": "query",
        "schema": {"type": "integer", "minimum": 0, "default": 0},
    },
    "from": {"name": "from", "in": "query", "schema": {"type": "integer"},
             "description": "version id; default: the published version"},
    "to": {"name": "to", "in": "query", "schema": {"type": "integer"},
           "description": "version id; default: the pending version"},
    "If-Match": {"name": "If-Match", "in": "header", "schema": {"type": "string"},
                 "description": "the ETag of the version being changed"},
}


def param(name: str) -> dict:
    return {"$ref": f"#/components/parameters/{name}"}


def errors(*codes) -> dict:
    text = {
        400: "bad input",
        403: "permission denied",
        404: "unknown model, code or version",
        409: "not allowed in this state",
        412: "the ETag does not match",
    }
    return {
        str(code): {
            "description": text[code],
            "content": {"application/json": {"schema": ref("Error")}},
        }
        for code in codes
    }


def ok(schema_name: str, description: str = "OK", etag: bool = False) -> dict:
    answer = {
        "description": description,
        "content": {"application/json": {"schema": ref(schema_name)}},
    }
    if etag:
        answer["headers"] = {"ETag": {"schema": {"type": "string"}}}
    return answer


def model_paths(base: str, name: str, cls) -> dict:
    title = cls.__name__
    version = f"{title}Version"
    tag = [name]
    paths = {
        base: {
            "get": {
                "tags": tag,
                "summary": f"List {name} through a view",
                "operationId": f"list_{name}",
                "parameters": [param("view"), param("as_of"), param("limit"), param("offset")],
                "responses": {"200": ok(f"{title}List"), **errors(400, 403, 404)},
            },
            "post": {
                "tags": tag,
                "summary": f"Create a new {name} object",
                "operationId": f"create_{name}",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": ref(f"{title}Create")}},
                },
                "responses": {
                    "201": {**ok(version, "created", etag=True),
                            "headers": {"Location": {"schema": {"type": "string"}},
                                        "ETag": {"schema": {"type": "string"}}}},
                    **errors(400, 403, 404, 409),
                },
            },
        },
        f"{base}/{{code}}": {
            "get": {
                "tags": tag,
                "summary": "One version of an object",
                "operationId": f"get_{name}",
                "parameters": [param("code"), param("view"), param("as_of")],
                "responses": {"200": ok(version, etag=True), **errors(400, 403, 404)},
            },
            "patch": {
                "tags": tag,
                "summary": "Change the pending version (new, editable or updatable)",
                "operationId": f"change_{name}",
                "parameters": [param("code"), param("If-Match")],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": ref(f"{title}Change")}},
                },
                "responses": {"200": ok(version, etag=True), **errors(400, 403, 404, 409, 412)},
            },
        },
        f"{base}/{{code}}/versions": {
            "get": {
                "tags": tag,
                "summary": "Every version, oldest first",
                "operationId": f"versions_{name}",
                "parameters": [param("code")],
                "responses": {"200": ok(f"{title}Versions"), **errors(403, 404)},
            }
        },
        f"{base}/{{code}}/history": {
            "get": {
                "tags": tag,
                "summary": "The history of an object",
                "operationId": f"history_{name}",
                "parameters": [param("code")],
                "responses": {"200": ok("History"), **errors(403, 404)},
            }
        },
        f"{base}/{{code}}/diff": {
            "get": {
                "tags": tag,
                "summary": "Changes between two versions (default published -> pending)",
                "operationId": f"diff_{name}",
                "parameters": [param("code"), param("from"), param("to")],
                "responses": {"200": ok("Diff"), **errors(400, 403, 404)},
            }
        },
    }
    for transition, permission in TRANSITIONS.items():
        operation = {
            "tags": tag,
            "summary": f"{transition} (needs {permission})",
            "operationId": f"{transition}_{name}",
            "parameters": [param("code")],
            "responses": {
                "200": ok(version, "the resulting version", etag=True),
                "204": {"description": "no version remains"},
                **errors(400, 403, 404, 409),
            },
        }
        if transition in SCHEDULED_TRANSITIONS:
            operation["requestBody"] = {
                "required": False,
                "content": {"application/json": {"schema": ref("Schedule")}},
            }
        paths[f"{base}/{{code}}/{transition}"] = {"post": operation}
    return paths


def document(request) -> dict:
    """The OpenAPI document of the models registered in the request's
    application."""
    from clio import __name__ as package

    try:
        from importlib.metadata import version

        release = version(package)
    except Exception:  # pragma: no cover - not installed
        release = "unknown"
    models = request.registry[MODELS_KEY]
    schemas = dict(COMMON_SCHEMAS)
    paths = {}
    for name in sorted(models):
        model = models[name]
        base = request.route_path("clio.collection", model=name)
        base = base[len(request.script_name):] if request.script_name else base
        schemas.update(model_schemas(name, model.cls))
        paths.update(model_paths(base, name, model.cls))
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "clio JSON API",
            "version": release,
            "description": "Publication workflow and version history (SPEC §4.1).",
        },
        "servers": [{"url": request.application_url}],
        "paths": paths,
        "components": {"schemas": schemas, "parameters": PARAMETERS},
    }
