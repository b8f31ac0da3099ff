"""IWorkflowed and IVersioned: default adapters, verification, and an
application's own adapter for one class."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa
from zope.component import getGlobalSiteManager
from zope.interface.registry import Components
from zope.interface.verify import verifyObject

import clio
from clio.adapters import register_default_adapters
from clio.tests.models import A, Page, Paragraph, Tag


def test_interfaces_are_reexported():
    from clio import interfaces

    assert clio.IWorkflowed is interfaces.IWorkflowed
    assert clio.IVersioned is interfaces.IVersioned
    for name in ("IWorkflowed", "IVersioned", "register_default_adapters"):
        assert name in clio.__all__


@pytest.mark.parametrize("make", [lambda: Page(code=1, title="p"), lambda: A(1, "a")])
def test_every_version_adapts_to_both(make, session):
    version = make()
    session.add(version)
    workflowed = clio.IWorkflowed(version)
    versioned = clio.IVersioned(version)
    assert isinstance(workflowed, clio.Workflow) and workflowed.context is version
    assert isinstance(versioned, clio.Versioned) and versioned.context is version
    assert verifyObject(clio.IWorkflowed, workflowed)
    assert verifyObject(clio.IVersioned, versioned)
    assert clio.IClioModel.providedBy(version)


def test_adapters_run_the_workflow(session):
    page = Page(code=1, title="p")
    session.add(page)
    session.flush()
    assert clio.IWorkflowed(page).publish() is page
    draft = clio.IWorkflowed(page).edit()
    versioned = clio.IVersioned(draft)
    assert versioned.editable_version() is draft
    assert versioned.published_version() is page
    assert versioned.versions() == [page, draft]
    assert [e.event_type for e in versioned.history()] == [
        clio.HISTORY_CREATE,
        clio.HISTORY_PUBLISH,
        clio.HISTORY_EDIT,
    ]
    draft.title = "q"
    assert versioned.diff(page) == {"title": ("q", "p")}
    assert versioned.as_of(page.published_start_timestamp) is page


def test_as_of_rejects_naive_moments(session):
    page = Page(code=1)
    session.add(page)
    session.flush()
    with pytest.raises(clio.ViewError, match="timezone-aware"):
        clio.IVersioned(page).as_of(datetime(2026, 1, 1))
    with pytest.raises(clio.ViewError, match="must be a datetime"):
        clio.IVersioned(page).as_of("yesterday")


def test_registration_keeps_an_application_adapter():
    registry = Components()

    class Mine:
        def __init__(self, context):
            self.context = context

    registry.registerAdapter(Mine, (clio.IClioModel,), clio.IWorkflowed)
    register_default_adapters(registry)
    register_default_adapters(registry)  # twice is harmless
    assert registry.adapters.registered((clio.IClioModel,), clio.IWorkflowed) is Mine
    assert registry.adapters.registered((clio.IClioModel,), clio.IVersioned) is clio.Versioned


def test_global_defaults_are_registered():
    gsm = getGlobalSiteManager()
    assert gsm.adapters.registered((clio.IClioModel,), clio.IWorkflowed) is clio.Workflow
    assert gsm.adapters.registered((clio.IClioModel,), clio.IVersioned) is clio.Versioned


class NoDelete(clio.Workflow):
    """A stricter workflow: objects are never deleted."""

    def delete(self):
        raise clio.DeleteError(f"{type(self.context).__name__} objects are never deleted")


class LoggingVersioned(clio.Versioned):
    """Records, on the version it reads, that it was asked."""

    def versions(self):
        self.context._logged = getattr(self.context, "_logged", 0) + 1
        return super().versions()


def test_application_adapter_in_a_session_registry(session):
    registry = Components(bases=(getGlobalSiteManager(),))
    registry.registerAdapter(NoDelete, (Page,), clio.IWorkflowed)
    session.info["clio.registry"] = registry
    page = Page(code=1)
    para = Paragraph(code=2)
    session.add_all([page, para])
    session.flush()
    page.publish()
    para.publish()
    with pytest.raises(clio.DeleteError, match="never deleted"):
        page.delete()
    assert page.status == clio.PUBLISHED
    assert para.delete().status == clio.DELETED  # other classes keep the default


def test_application_adapter_registered_globally(session):
    gsm = getGlobalSiteManager()
    gsm.registerAdapter(NoDelete, (Tag,), clio.IWorkflowed)
    gsm.registerAdapter(LoggingVersioned, (Tag,), clio.IVersioned)
    try:
        tag = Tag(code=7)
        session.add(tag)
        session.flush()
        tag.publish()
        assert isinstance(clio.IWorkflowed(tag), NoDelete)
        with pytest.raises(clio.DeleteError):
            tag.delete()
        with pytest.raises(clio.DeleteError):
            clio.IWorkflowed(tag).delete()
        assert clio.IVersioned(tag).versions() == [tag]
        assert tag.editable_version() is tag
        assert tag._logged == 1
        assert isinstance(clio.IWorkflowed(Page(code=1)), clio.Workflow)
    finally:
        gsm.unregisterAdapter(NoDelete, (Tag,), clio.IWorkflowed)
        gsm.unregisterAdapter(LoggingVersioned, (Tag,), clio.IVersioned)
    assert type(clio.IWorkflowed(tag)) is clio.Workflow


def test_versioned_reads_ignore_a_session_default_view(session):
    page = Page(code=1)
    session.add(page)
    session.flush()
    page.publish()
    session.info["clio.view"] = clio.view("archived")
    assert clio.versions(session, Page, 1) == [page]
    assert clio.IVersioned(page).published_version() is page
    assert session.scalars(sa.select(Page)).all() == []
