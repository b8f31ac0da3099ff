"""The Pyramid plugin: ``config.include('clio')``.

``includeme`` includes pyramid_tm and pyramid_retry, gives requests a
``request.dbsession`` (unless the application has one), registers the
default ``IWorkflowed``/``IVersioned`` adapters in the application's
registry, adds the JSON API of SPEC §4.1 under ``clio.api_prefix`` and two
directives:

``config.add_clio_model(cls, name, workflow=None, versioning=None, codes=None)``
    serve ``cls`` as ``{prefix}/{name}``; ``workflow``/``versioning`` are
    adapter factories for this class (a stricter workflow, say), ``codes``
    a callable ``codes(session) -> int`` giving the code of an object
    created without one (a :class:`clio.Sequence` will do).  Two models
    under one name are a configuration conflict.
``config.set_clio_session_factory(factory)``
    make ``request.dbsession`` from ``factory()`` (a ``sessionmaker``)
    instead of from an engine built out of the ``sqlalchemy.*`` settings.

Settings: ``clio.api_prefix`` (default ``/clio``) and ``clio.public_read``
(default true: reading the published state needs no permission).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

import sqlalchemy as sa
from pyramid.exceptions import ConfigurationError
from pyramid.interfaces import IRequestExtensions
from pyramid.settings import asbool

from clio.adapters import default_adapters
from clio.interfaces import IClioModel, IVersioned, IWorkflowed
from clio.session import FACTORY_KEY, get_engine, get_session_factory, request_dbsession

#: Settings and their defaults.
DEFAULTS = {
    "clio.api_prefix": "/clio",
    "clio.public_read": True,
}
#: Registry key of the models served by the API: name -> ClioModel.
MODELS_KEY = "clio.models"

_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class ClioModel:
    """A class served by the JSON API under ``name``."""

    name: str
    cls: type
    codes: Callable | None = None


def normalize_prefix(prefix) -> str:
    """``'clio/'`` -> ``'/clio'``; ``'/'`` and ``''`` -> ``''``."""
    prefix = str(prefix or "").strip().strip("/")
    return f"/{prefix}" if prefix else ""


def api_settings(settings) -> dict:
    """The ``clio.*`` settings with defaults applied and values coerced."""
    return {
        "clio.api_prefix": normalize_prefix(
            settings.get("clio.api_prefix", DEFAULTS["clio.api_prefix"])
        ),
        "clio.public_read": asbool(
            settings.get("clio.public_read", DEFAULTS["clio.public_read"])
        ),
    }


def includeme(config):
    from clio import api

    settings = config.get_settings()
    settings.update(api_settings(settings))

    config.include("pyramid_tm")
    config.include("pyramid_retry")

    config.add_directive("add_clio_model", add_clio_model, action_wrap=True)
    config.add_directive(
        "set_clio_session_factory", set_clio_session_factory, action_wrap=True
    )

    registry = config.registry
    registry.setdefault(MODELS_KEY, {})

    for provided, factory in default_adapters().items():
        _register_adapter(config, IClioModel, provided, factory)

    # request.dbsession, unless the application makes its own: decided once
    # every action of the first commit is known (the application may add
    # its own after including clio).
    def provide_dbsession():
        extensions = registry.queryUtility(IRequestExtensions)
        if extensions is not None and (
            "dbsession" in extensions.descriptors or "dbsession" in extensions.methods
        ):
            return
        config.add_request_method(request_dbsession, "dbsession", reify=True)

    config.action(None, lambda: config.action(None, provide_dbsession))

    # The default session factory, when the application declared none
    # (order 10: after set_clio_session_factory's actions).
    def default_session_factory():
        if FACTORY_KEY not in registry:
            registry[FACTORY_KEY] = get_session_factory(get_engine(registry.settings))

    config.action(None, default_session_factory, order=10)

    api.add_api(config, settings["clio.api_prefix"])


def _register_adapter(config, required, provided, factory) -> None:
    def register():
        config.registry.registerAdapter(factory, (required,), provided)

    intr = config.introspectable(
        "clio adapters",
        (required, provided),
        f"{config.object_description(factory)} for {config.object_description(required)}",
        "clio adapter",
    )
    intr["factory"] = factory
    intr["required"] = required
    intr["provided"] = provided
    config.action(("clio adapter", required, provided), register, introspectables=(intr,))


def _resolve(config, value, directive):
    """``value``, or the object its dotted name names."""
    try:
        return config.maybe_dotted(value)
    except (ImportError, ValueError, AttributeError) as error:
        raise ConfigurationError(f"{directive}: cannot import {value!r}: {error}") from None


def add_clio_model(config, cls, name, workflow=None, versioning=None, codes=None):
    """Serve the versioned class ``cls`` as ``{prefix}/{name}``.

    ``workflow`` and ``versioning`` are adapter factories registered for
    ``cls`` (``IWorkflowed`` and ``IVersioned``); ``codes(session)`` gives
    the code of an object created without one (default: one more than the
    highest code in use).
    """
    cls, workflow, versioning, codes = (
        _resolve(config, value, "add_clio_model") for value in (cls, workflow, versioning, codes)
    )
    if not isinstance(cls, type) or not IClioModel.implementedBy(cls):
        raise ConfigurationError(
            f"add_clio_model: {cls!r} is not a clio model (a clio.Workflowed or "
            f"clio.Model class)"
        )
    if sa.inspect(cls, raiseerr=False) is None:
        raise ConfigurationError(f"add_clio_model: {cls.__name__} is not mapped")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigurationError(
            f"add_clio_model: the name {name!r} must be letters, digits, '_' or '-'"
        )
    for option, value in (("workflow", workflow), ("versioning", versioning), ("codes", codes)):
        if value is not None and not callable(value):
            raise ConfigurationError(f"add_clio_model: {option} must be callable")

    model = ClioModel(name, cls, codes)

    def register():
        config.registry[MODELS_KEY][name] = model

    intr = config.introspectable(
        "clio models", name, f"{name}: {config.object_description(cls)}", "clio model"
    )
    intr["name"] = name
    intr["class"] = cls
    intr["workflow"] = workflow
    intr["versioning"] = versioning
    intr["codes"] = codes
    config.action(("clio model", name), register, introspectables=(intr,))
    if workflow is not None:
        _register_adapter(config, cls, IWorkflowed, workflow)
    if versioning is not None:
        _register_adapter(config, cls, IVersioned, versioning)


def set_clio_session_factory(config, factory):
    """Make ``request.dbsession`` from ``factory()`` (e.g. a
    ``sessionmaker``); clio joins each session to ``request.tm``."""
    factory = _resolve(config, factory, "set_clio_session_factory")
    if not callable(factory):
        raise ConfigurationError("set_clio_session_factory: the factory must be callable")

    def register():
        config.registry[FACTORY_KEY] = factory

    intr = config.introspectable(
        "clio session factory", None, config.object_description(factory), "clio session factory"
    )
    intr["factory"] = factory
    config.action("clio session factory", register, introspectables=(intr,))
