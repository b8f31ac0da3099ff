"""Fixture models of the Clio 0.7 scenarios (reference §7), mapped the
0.7 way: ``clio.Table``, classical mapping, dynamic relations and
``workflow_properties``.

A -(bs, one-to-many, cascade 'all, delete', backref a)-> B
C <-(ds dynamic / cs, many-to-many through a plain pivot)-> D
"""

import sqlalchemy as sa
from sqlalchemy.orm import backref, registry, relationship

import clio

metadata = sa.MetaData()
mapper_registry = registry(metadata=metadata)

a_table = clio.Table("clio_a", metadata, sa.Column("message", sa.Unicode(100)))
b_table = clio.Table(
    "clio_b",
    metadata,
    sa.Column("message", sa.Unicode(100)),
    sa.Column("a_id", sa.Integer, sa.ForeignKey("clio_a.id"), nullable=False),
)
c_table = clio.Table("clio_c", metadata, sa.Column("message", sa.Unicode(100)))
d_table = clio.Table("clio_d", metadata, sa.Column("message", sa.Unicode(100)))
cd_table = sa.Table(
    "clio_cd",
    metadata,
    sa.Column("c_id", sa.Integer, sa.ForeignKey("clio_c.id"), primary_key=True),
    sa.Column("d_id", sa.Integer, sa.ForeignKey("clio_d.id"), primary_key=True),
)
plain_table = clio.Table("clio_plain", metadata, sa.Column("name", sa.Unicode(100)))

a_code = clio.Sequence("clio_a_code", metadata)
b_code = clio.Sequence("clio_b_code", metadata)
c_code = clio.Sequence("clio_c_code", metadata)
d_code = clio.Sequence("clio_d_code", metadata)


class A(clio.Model):
    def __init__(self, code, message=None):
        super().__init__(code)
        self.message = message


class B(clio.Model):
    def __init__(self, code, message=None):
        super().__init__(code)
        self.message = message


class C(clio.Model):
    def __init__(self, code, message=None):
        super().__init__(code)
        self.message = message


class D(clio.Model):
    def __init__(self, code, message=None):
        super().__init__(code)
        self.message = message


class Plain(clio.Model):
    """A versioned class without relations (statement counts)."""

    def __init__(self, code, name=None):
        super().__init__(code)
        self.name = name


mapper_registry.map_imperatively(
    A,
    a_table,
    properties={
        "bs": relationship(B, lazy="dynamic", cascade="all, delete", backref="a"),
    },
)
mapper_registry.map_imperatively(B, b_table)
mapper_registry.map_imperatively(C, c_table)
mapper_registry.map_imperatively(
    D,
    d_table,
    properties={
        "cs": relationship(C, secondary=cd_table, backref=backref("ds", lazy="dynamic")),
    },
)
mapper_registry.map_imperatively(Plain, plain_table)

for _cls in (A, B, C, D, Plain):
    clio.workflow_properties(_cls)


# --- the same, declared the SQLAlchemy 2 way ---------------------------------

from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column  # noqa: E402


class Base(DeclarativeBase):
    metadata = metadata


page_tags = sa.Table(
    "clio_page_tag",
    metadata,
    sa.Column("page_id", sa.Integer, sa.ForeignKey("clio_page.id"), primary_key=True),
    sa.Column("tag_id", sa.Integer, sa.ForeignKey("clio_tag.id"), primary_key=True),
)


class Page(clio.Workflowed, Base):
    __tablename__ = "clio_page"
    title: Mapped[str] = mapped_column(sa.Unicode(200), default="")
    paragraphs: Mapped[list["Paragraph"]] = relationship(
        back_populates="page", order_by="Paragraph.code"
    )
    tags: Mapped[list["Tag"]] = relationship(secondary=page_tags, order_by="Tag.code")


class Paragraph(clio.Workflowed, Base):
    __tablename__ = "clio_paragraph"
    text: Mapped[str] = mapped_column(sa.UnicodeText, default="")
    # Indexed, as a parent's key should be: walking a tree finds children by it.
    page_id: Mapped[int | None] = mapped_column(sa.ForeignKey("clio_page.id"), index=True)
    page: Mapped[Page | None] = relationship(back_populates="paragraphs")


class Tag(clio.Workflowed, Base):
    __tablename__ = "clio_tag"
    name: Mapped[str] = mapped_column(sa.Unicode(50), default="")


Section = Paragraph  # a child whose parent may be NULL


class Sheet(clio.Workflowed, Base):
    """A parent whose children hold columns of many types, which the
    copies of an edit must keep (:mod:`clio.copies` inserts them in one
    statement of arrays on PostgreSQL where the types allow)."""

    __tablename__ = "clio_sheet"
    title: Mapped[str] = mapped_column(sa.Unicode(50), default="")
    cells: Mapped[list["Cell"]] = relationship(back_populates="sheet", order_by="Cell.code")
    notes: Mapped[list["Note"]] = relationship(back_populates="sheet", order_by="Note.code")


class Cell(clio.Workflowed, Base):
    """Types that travel in arrays."""

    __tablename__ = "clio_cell"
    amount = mapped_column(sa.Numeric(10, 2), nullable=True)
    ratio = mapped_column(sa.Float, nullable=True)
    flag = mapped_column(sa.Boolean, nullable=True)
    day = mapped_column(sa.Date, nullable=True)
    hour = mapped_column(sa.Time, nullable=True)
    stamp = mapped_column(sa.DateTime, nullable=True)
    blob = mapped_column(sa.LargeBinary, nullable=True)
    uid = mapped_column(sa.Uuid, nullable=True)
    big = mapped_column(sa.BigInteger, nullable=True)
    label = mapped_column(sa.Unicode(20), nullable=True)
    sheet_id = mapped_column(sa.ForeignKey("clio_sheet.id"), index=True, nullable=True)
    sheet: Mapped[Sheet | None] = relationship(back_populates="cells")


class Note(clio.Workflowed, Base):
    """Types that do not: their copies are inserted row by row."""

    __tablename__ = "clio_note"
    data = mapped_column(sa.JSON, nullable=True)
    kind = mapped_column(sa.Enum("memo", "todo", name="clio_note_kind", native_enum=False))
    span = mapped_column(sa.Interval, nullable=True)
    sheet_id = mapped_column(sa.ForeignKey("clio_sheet.id"), index=True, nullable=True)
    sheet: Mapped[Sheet | None] = relationship(back_populates="notes")
