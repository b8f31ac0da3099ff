"""Registering clio's default adapters with zope.component.

``IWorkflowed(version)`` and ``IVersioned(version)`` go through
zope.component's adapter hook, which asks the global site manager.  On
import clio registers :class:`clio.Workflow` and :class:`clio.Versioned` there
for :class:`clio.IClioModel`, the marker every versioned class provides.

An application customises one class by registering a more specific adapter
(``registerAdapter(StrictWorkflow, (Page,), IWorkflowed)``), globally or in a
component registry it names in ``session.info['clio.registry']``; the
model's methods look there first.  The defaults are only registered where
nothing is registered for ``IClioModel`` yet, so an application that
replaced them is never overridden, and importing clio twice is harmless.
"""

from __future__ import annotations

from zope.component import getGlobalSiteManager
from zope.interface.interfaces import IComponents

from clio.interfaces import IClioModel, IVersioned, IWorkflowed


def default_adapters() -> dict:
    """Interface -> factory of clio's default adapters."""
    from clio.versioning import Versioned
    from clio.workflow import Workflow

    return {IWorkflowed: Workflow, IVersioned: Versioned}


def register_default_adapters(registry: IComponents | None = None) -> None:
    """Register the defaults for ``IClioModel`` in ``registry`` (the global
    site manager by default), unless adapters are registered there already.

    Call it for a fresh registry without the global one among its bases, or
    after a test tear-down cleared the global registry.
    """
    registry = registry if registry is not None else getGlobalSiteManager()
    for provided, factory in default_adapters().items():
        if registry.adapters.registered((IClioModel,), provided) is None:
            registry.registerAdapter(factory, (IClioModel,), provided)
