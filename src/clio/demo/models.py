"""The demo's content: pages made of sections, both versioned by clio.

A :class:`Section` belongs to a :class:`Page` (one-to-many), so editing a
page copies its sections and publishing it publishes them: the demo shows
clio's handling of children as well as of single rows.

The clock: clio reads "now" from each model's ``_now()``.  The demo's
models read it from :data:`demo_clock`, a context variable that is unset
(the wall clock) except while :mod:`clio.demo.seed` writes a history that
happened over the past weeks.  A context variable, not a module global, so
that a request served meanwhile in another thread still sees real time.
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

import clio
from clio.timestamps import utcnow

#: The moment the demo's models take for "now" in this context (None: the
#: wall clock).
demo_clock: ContextVar[datetime | None] = ContextVar("clio_demo_clock", default=None)


class Base(DeclarativeBase):
    pass


class DemoClock:
    """Mixin: ``_now()`` from :data:`demo_clock` when it is set."""

    @classmethod
    def _now(cls) -> datetime:
        return demo_clock.get() or utcnow()


class Page(DemoClock, clio.Workflowed, Base):
    """A page of the demo site: a title, an introduction and sections."""

    __tablename__ = "demo_page"
    title: Mapped[str] = mapped_column(sa.Unicode(120))
    body: Mapped[str] = mapped_column(sa.UnicodeText, default="")
    sections: Mapped[list["Section"]] = relationship(
        back_populates="page", order_by="Section.code"
    )


class Section(DemoClock, clio.Workflowed, Base):
    """One section of a page."""

    __tablename__ = "demo_section"
    title: Mapped[str] = mapped_column(sa.Unicode(120))
    body: Mapped[str] = mapped_column(sa.UnicodeText, default="")
    page_id: Mapped[int | None] = mapped_column(sa.ForeignKey("demo_page.id"))
    page: Mapped[Page | None] = relationship(back_populates="sections")
