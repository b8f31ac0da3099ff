"""Versions as JSON, and JSON as column values (SPEC §4.1).

A version is serialised as its columns (clio's and the model's, foreign
keys included) plus ``status_name``; timestamps are ISO-8601 in UTC with
microseconds.  Incoming values are checked against the column types here,
before they reach the database, so that bad input is a 400 on every
database alike (SQLite would store a string in an integer column, MariaDB
and PostgreSQL would refuse it).
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import uuid

import sqlalchemy as sa

from clio.schema import BOOKKEEPING_COLUMNS
from clio.status import status_name
from clio.timestamps import as_utc


class InputError(ValueError):
    """Bad input from a client: answered with 400 and ``kind`` as the
    ``error`` member of the JSON body."""

    def __init__(self, message: str, kind: str = "InvalidField"):
        super().__init__(message)
        self.kind = kind


# --- out: versions as JSON ---------------------------------------------------


def iso(moment: dt.datetime) -> str:
    """ISO-8601 UTC with microseconds and a ``Z``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    text = moment.astimezone(dt.timezone.utc).isoformat(timespec="microseconds")
    return text.replace("+00:00", "Z")


def to_json(value):
    """A column value as something ``json.dumps`` takes."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dt.datetime):
        return iso(value)
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    if isinstance(value, dict):
        return {str(key): to_json(item) for key, item in value.items()}
    if hasattr(value, "value"):  # an enum member
        return to_json(value.value)
    return str(value)


def column_keys(cls) -> list[str]:
    """Every mapped column attribute of ``cls``, in table order."""
    return [prop.key for prop in sa.inspect(cls).column_attrs]


def serialize(version) -> dict:
    """The JSON object of one version."""
    data = {key: to_json(getattr(version, key)) for key in column_keys(type(version))}
    data["status_name"] = status_name(version.status)
    return data


def etag_of(data: dict) -> str:
    """A strong entity tag of a serialised version: any change of any
    column changes it."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


# --- in: JSON as column values -----------------------------------------------------


def writable_columns(cls) -> dict:
    """key -> Column for the columns a client may set: every mapped column
    but the primary key and clio's bookkeeping (``code`` only on create)."""
    mapper = sa.inspect(cls)
    primary = set(mapper.primary_key)
    found = {}
    for prop in mapper.column_attrs:
        if prop.key in BOOKKEEPING_COLUMNS or len(prop.columns) != 1:
            continue
        column = prop.columns[0]
        if column in primary:
            continue
        found[prop.key] = column
    return found


def required_columns(cls) -> list[str]:
    """The writable columns a create must give: NOT NULL, no default."""
    return [
        key
        for key, column in writable_columns(cls).items()
        if not column.nullable
        and column.default is None
        and column.server_default is None
    ]


def _python_type(column):
    try:
        return column.type.python_type
    except NotImplementedError:
        return None


def check_integer(key: str, value, type_=None) -> int:
    """``value`` if it is an integer that fits the column type (Integer
    unless ``type_`` says BigInteger or SmallInteger)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{key} must be an integer, not {value!r}")
    type_ = getattr(type_, "impl", type_)
    bits = 63 if isinstance(type_, sa.BigInteger) else 15 if isinstance(type_, sa.SmallInteger) else 31
    if not -(2**bits) <= value < 2**bits:
        raise InputError(f"{key} is out of range: {value}")
    return value


def coerce(key: str, column, value):
    """``value`` (from JSON) as a value for ``column``, or InputError."""
    if value is None:
        if not column.nullable:
            raise InputError(f"{key} must not be null")
        return None
    kind = _python_type(column)
    if kind is bool:
        if not isinstance(value, bool):
            raise InputError(f"{key} must be true or false, not {value!r}")
        return value
    if kind is int:
        return check_integer(key, value, column.type)
    if kind is float or kind is decimal.Decimal:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise InputError(f"{key} must be a number, not {value!r}")
        try:
            number = decimal.Decimal(str(value))
        except decimal.InvalidOperation:
            raise InputError(f"{key} must be a number, not {value!r}") from None
        if not number.is_finite():
            raise InputError(f"{key} must be a finite number, not {value!r}")
        return number if kind is decimal.Decimal else float(number)
    if kind is str:
        if not isinstance(value, str):
            raise InputError(f"{key} must be a string, not {value!r}")
        length = getattr(column.type, "length", None)
        if length is not None and len(value) > length:
            raise InputError(f"{key} is longer than {length} characters")
        if "\x00" in value:
            raise InputError(f"{key} must not contain NUL characters")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InputError(f"{key} is not valid Unicode text") from None
        return value
    if kind is dt.datetime:
        return parse_datetime(value, key, aware=False, kind="InvalidField")
    if kind is dt.date:
        if not isinstance(value, str):
            raise InputError(f"{key} must be an ISO-8601 date, not {value!r}")
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise InputError(f"{key} must be an ISO-8601 date, not {value!r}") from None
    if kind is dt.time:
        if not isinstance(value, str):
            raise InputError(f"{key} must be an ISO-8601 time, not {value!r}")
        try:
            return dt.time.fromisoformat(value)
        except ValueError:
            raise InputError(f"{key} must be an ISO-8601 time, not {value!r}") from None
    return value  # other types: the database decides (DataError is a 400)


def parse_fields(cls, data, *, allow_code: bool = False) -> dict:
    """The column values of a JSON object sent by a client.

    Unknown and read-only fields are refused, as are values of the wrong
    type; ``code`` is accepted only where ``allow_code`` (create).
    """
    if not isinstance(data, dict):
        raise InputError("the body must be a JSON object", "InvalidJSON")
    columns = writable_columns(cls)
    values = {}
    refused = []
    for key, value in data.items():
        if key == "code" and allow_code:
            values[key] = check_integer(key, value)
        elif key in columns:
            values[key] = coerce(key, columns[key], value)
        else:
            refused.append(key)
    if refused:
        known = sorted(columns) + (["code"] if allow_code else [])
        raise InputError(
            f"unknown or read-only field(s) {', '.join(sorted(map(str, refused)))}; "
            f"writable: {', '.join(known)}"
        )
    return values


def parse_datetime(value, what: str, *, aware: bool = True, kind: str = "InvalidParameter"):
    """An ISO-8601 text as a datetime (UTC when it has an offset).

    With ``aware``, a naive text is refused: it would be ambiguous.
    """
    if not isinstance(value, str):
        raise InputError(f"{what} must be an ISO-8601 text, not {value!r}", kind)
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise InputError(f"{what} is not an ISO-8601 date and time: {value!r}", kind) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        if aware:
            raise InputError(
                f"{what} must carry a timezone (e.g. {value}Z or {value}+00:00)", kind
            )
        return moment
    return as_utc(moment)
