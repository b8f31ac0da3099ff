"""A model for the API tests with the column types and constraints the
fixture models lack: a required field, a unique column, numbers, dates."""

import datetime

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

import clio


class Base(DeclarativeBase):
    metadata = sa.MetaData()


metadata = Base.metadata


class Note(clio.Workflowed, Base):
    __tablename__ = "clio_api_note"
    title: Mapped[str] = mapped_column(sa.Unicode(20))  # required
    priority: Mapped[int] = mapped_column(sa.Integer, default=0)
    big: Mapped[int | None] = mapped_column(sa.BigInteger)
    ratio: Mapped[float | None] = mapped_column(sa.Float)
    done: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    due: Mapped[datetime.date | None] = mapped_column(sa.Date)


class Label(clio.Workflowed, Base):
    """A unique user column: the database refuses a second label of the
    same name (never edit one: the editable copy would repeat the name)."""

    __tablename__ = "clio_api_label"
    name: Mapped[str] = mapped_column(sa.Unicode(20), unique=True)
