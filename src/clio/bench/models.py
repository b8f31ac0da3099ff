"""The benchmark's models: a document with a title and a body and no
relations (``Doc``), and a page (``Page``) with children (``Kid``) for the
parent-with-children workloads, once per
contender, each in its own MetaData so the contenders share nothing.

* ``plain``: ordinary SQLAlchemy, no history (the floor);
* ``baseline``: clio's table layout (``clio.Table``: same columns,
  constraint and indexes) written by hand with Core statements;
* ``clio``: ``clio.Workflowed`` classes;
* ``continuum``: SQLAlchemy-Continuum's ``__versioned__`` classes, built
  on demand (:func:`continuum_models`) because Continuum must be switched
  on before its classes are declared.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

import clio

# --- plain SQLAlchemy -------------------------------------------------------------


class PlainBase(DeclarativeBase):
    metadata = sa.MetaData()


class PlainDoc(PlainBase):
    __tablename__ = "bench_plain_doc"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[int] = mapped_column(unique=True)
    title: Mapped[str] = mapped_column(sa.Unicode(200))
    body: Mapped[str] = mapped_column(sa.UnicodeText)


class PlainPage(PlainBase):
    __tablename__ = "bench_plain_page"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[int] = mapped_column(unique=True)
    title: Mapped[str] = mapped_column(sa.Unicode(200))
    body: Mapped[str] = mapped_column(sa.UnicodeText)
    kids: Mapped[list["PlainKid"]] = relationship(back_populates="doc")


class PlainKid(PlainBase):
    __tablename__ = "bench_plain_kid"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[int] = mapped_column(unique=True)
    text: Mapped[str] = mapped_column(sa.UnicodeText)
    doc_id: Mapped[int] = mapped_column(sa.ForeignKey("bench_plain_page.id"), index=True)
    doc: Mapped[PlainPage] = relationship(back_populates="kids")


# --- the hand-written baseline: clio's layout, no ORM -------------------------------

baseline_metadata = sa.MetaData()
baseline_doc = clio.Table(
    "bench_base_doc",
    baseline_metadata,
    sa.Column("title", sa.Unicode(200)),
    sa.Column("body", sa.UnicodeText),
)
baseline_page = clio.Table(
    "bench_base_page",
    baseline_metadata,
    sa.Column("title", sa.Unicode(200)),
    sa.Column("body", sa.UnicodeText),
)
baseline_kid = clio.Table(
    "bench_base_kid",
    baseline_metadata,
    sa.Column("text", sa.UnicodeText),
    sa.Column("doc_id", sa.Integer, sa.ForeignKey("bench_base_page.id"), index=True),
)

# --- clio ---------------------------------------------------------------------------


class ClioModels(NamedTuple):
    base: type
    doc: type
    page: type
    kid: type


def clio_models(prefix: str) -> ClioModels:
    """clio's classes on tables of their own (``<prefix>_doc``, ...): one
    set for each clio contender, so that neither lists the other's rows."""

    class Base(DeclarativeBase):
        metadata = sa.MetaData()

    class Doc(clio.Workflowed, Base):
        """A versioned class without relations (SPEC §6: at most four
        statements per edit or publish)."""

        __tablename__ = f"{prefix}_doc"
        title = mapped_column(sa.Unicode(200), default="")
        body = mapped_column(sa.UnicodeText, default="")

    class Page(clio.Workflowed, Base):
        __tablename__ = f"{prefix}_page"
        title = mapped_column(sa.Unicode(200), default="")
        body = mapped_column(sa.UnicodeText, default="")
        kids = relationship("Kid", back_populates="doc")

    class Kid(clio.Workflowed, Base):
        __tablename__ = f"{prefix}_kid"
        text = mapped_column(sa.UnicodeText, default="")
        doc_id = mapped_column(sa.ForeignKey(f"{prefix}_page.id"), index=True, nullable=True)
        doc = relationship("Page", back_populates="kids")

    return ClioModels(Base, Doc, Page, Kid)


CLIO = clio_models("bench_clio")
CLIO_BULK = clio_models("bench_clio_bulk")
ClioBase, ClioDoc, ClioPage, ClioKid = CLIO


# --- SQLAlchemy-Continuum -------------------------------------------------------------


class ContinuumSession(Session):
    """Continuum is switched on for this session class only, so the other
    contenders' sessions carry none of its flush listeners."""


@functools.cache
def continuum_models():
    """(Base, Doc, Page, Kid, Transaction) of the Continuum contender.

    Continuum's mapper and engine listeners are global (``sa.orm.Mapper``,
    ``sa.engine.Engine``); they return at once for classes without
    ``__versioned__``, and every contender pays that small cost alike once
    this has run.
    """
    import sqlalchemy_continuum as continuum

    continuum.make_versioned(user_cls=None, session=ContinuumSession)

    class ContinuumBase(DeclarativeBase):
        metadata = sa.MetaData()

    class ContinuumDoc(ContinuumBase):
        __tablename__ = "bench_cont_doc"
        __versioned__: dict = {}
        id: Mapped[int] = mapped_column(primary_key=True)
        code: Mapped[int] = mapped_column(unique=True)
        title: Mapped[str] = mapped_column(sa.Unicode(200))
        body: Mapped[str] = mapped_column(sa.UnicodeText)

    class ContinuumPage(ContinuumBase):
        __tablename__ = "bench_cont_page"
        __versioned__: dict = {}
        id: Mapped[int] = mapped_column(primary_key=True)
        code: Mapped[int] = mapped_column(unique=True)
        title: Mapped[str] = mapped_column(sa.Unicode(200))
        body: Mapped[str] = mapped_column(sa.UnicodeText)
        kids: Mapped[list["ContinuumKid"]] = relationship(back_populates="doc")

    class ContinuumKid(ContinuumBase):
        __tablename__ = "bench_cont_kid"
        __versioned__: dict = {}
        id: Mapped[int] = mapped_column(primary_key=True)
        code: Mapped[int] = mapped_column(unique=True)
        text: Mapped[str] = mapped_column(sa.UnicodeText)
        doc_id: Mapped[int] = mapped_column(sa.ForeignKey("bench_cont_page.id"), index=True)
        doc: Mapped[ContinuumPage] = relationship(back_populates="kids")

    sa.orm.configure_mappers()
    return (
        ContinuumBase,
        ContinuumDoc,
        ContinuumPage,
        ContinuumKid,
        continuum.transaction_class(ContinuumDoc),
    )
