"""Form fields for a clio model, read from its mapping.

The editorial UI edits any model given to ``config.add_clio_model``
without a form declared by hand: every column the JSON API lets a client
write (:func:`clio.serialize.writable_columns`, foreign keys excepted) is
a field.  Text columns become inputs (a ``Unicode(n)``) or text areas
(unbounded text), integers number inputs and booleans checkboxes; other
types are shown but not edited here.

Validation happens before anything touches the version, and always gives
every field back as typed, so that a form with a mistake is shown again
with the mistake explained and nothing lost.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from clio.serialize import required_columns, writable_columns


@dataclass(frozen=True)
class Field:
    """One editable column: ``widget`` is ``'input'``, ``'textarea'``,
    ``'number'``, ``'checkbox'`` or ``'readonly'``."""

    key: str
    label: str
    widget: str
    required: bool
    max_length: int | None


def _widget(column) -> str:
    try:
        kind = column.type.python_type
    except NotImplementedError:
        return "readonly"
    if kind is bool:
        return "checkbox"
    if kind is int:
        return "number"
    if kind is str:
        return "input" if getattr(column.type, "length", None) else "textarea"
    return "readonly"


def fields_of(cls) -> list[Field]:
    """The fields of ``cls``'s form, in table order."""
    required = set(required_columns(cls))
    found = []
    for key, column in writable_columns(cls).items():
        if key == "code" or column.foreign_keys:
            continue
        found.append(
            Field(
                key=key,
                label=key.replace("_", " ").capitalize(),
                widget=_widget(column),
                required=key in required,
                max_length=getattr(column.type, "length", None),
            )
        )
    return found


def values_of(version, fields: list[Field]) -> dict:
    """The form's values from a version."""
    return {f.key: getattr(version, f.key) for f in fields}


def parse_form(fields: list[Field], post) -> tuple[dict, dict, dict]:
    """(typed, values, errors) from a submitted form.

    ``typed`` is what the user sent, field by field, to show again;
    ``values`` the column values to write (only when ``errors`` is empty);
    ``errors`` maps a field to a readable message.
    """
    typed, values, errors = {}, {}, {}
    for field in fields:
        if field.widget == "readonly":
            continue
        if field.widget == "checkbox":
            typed[field.key] = values[field.key] = field.key in post
            continue
        text = post.get(field.key, "")
        # Browsers send CRLF line breaks; store what the user sees.
        text = text.replace("\r\n", "\n")
        typed[field.key] = text
        if field.required and not text.strip():
            errors[field.key] = f"{field.label} is required."
            continue
        if field.widget == "number":
            if not text.strip():
                values[field.key] = None
                continue
            try:
                values[field.key] = int(text.strip())
            except ValueError:
                errors[field.key] = f"{field.label} must be a whole number."
            continue
        if field.max_length is not None and len(text) > field.max_length:
            errors[field.key] = (
                f"{field.label} is {len(text)} characters long; "
                f"at most {field.max_length} fit."
            )
            continue
        if "\x00" in text:
            errors[field.key] = f"{field.label} contains a NUL character."
            continue
        values[field.key] = text
    return typed, values, errors


def label_of(version) -> str:
    """A human name for a version: its title or name, else its code."""
    for key in ("title", "name", "label"):
        value = getattr(version, key, None)
        if isinstance(value, str) and value.strip():
            return value
    mapper = sa.inspect(type(version))
    for prop in mapper.column_attrs:
        column = prop.columns[0]
        if isinstance(column.type, sa.String) and prop.key not in ("created_userid",):
            value = getattr(version, prop.key, None)
            if isinstance(value, str) and value.strip() and not prop.key.endswith("userid"):
                return value
    return f"#{version.code}"
