"""``clio.version_at``: the indexed read of one object's version at a
moment agrees with ``clio.view(as_of=...)`` on histories made by the
workflow, in one statement.  (Its speed is the benchmark's business:
``clio-bench --scaling``.)"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from itertools import pairwise
from typing import ClassVar

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

import clio
from clio.model import transition
from clio.tests.models import A, Page, Paragraph

HOUR = timedelta(hours=1)
TICK = timedelta(microseconds=1)


# --- helpers -------------------------------------------------------------------


def make_page(session, code=1, title="v0", paragraphs=0):
    page = Page(code=code, title=title)
    for n in range(paragraphs):
        page.paragraphs.append(Paragraph(code=code * 10 + n, text=f"p{n}"))
    session.add(page)
    session.flush()
    return page


def edit_and_publish(session, version, title):
    draft = version.edit()
    draft.title = title
    draft.publish()
    session.flush()
    return draft


def via_view(session, cls, code, moment):
    return session.scalars(
        sa.select(cls).where(cls.code == code).options(clio.view(as_of=moment))
    ).one_or_none()


def interesting_moments(session, cls, code, clock):
    """Every start and end of the object's history, a microsecond either
    side of each, the middles of the intervals, a moment long before and
    one long after, and now."""
    session.flush()
    edges = set()
    for version in clio.versions(session, cls, code):
        for edge in (version.published_start_timestamp, version.published_end_timestamp):
            if edge is not None:
                edges.update((edge - TICK, edge, edge + TICK))
    ordered = sorted(edges)
    middles = [a + (b - a) / 2 for a, b in pairwise(ordered)]
    now = clock.peek()
    return sorted(
        set(ordered + middles) | {now - 1000 * HOUR, now, now + 1000 * HOUR}
    )


def assert_agrees_with_view(session, cls, code, clock):
    """version_at and the as-of view find the same version (or none) at
    every interesting moment; returns how many moments found one."""
    found = 0
    for moment in interesting_moments(session, cls, code, clock):
        expected = via_view(session, cls, code, moment)
        assert clio.version_at(session, cls, code, moment) is expected, moment
        found += expected is not None
    return found


def travel_to(clock, moment):
    """Make the next clock reading exactly ``moment``."""
    clock.current = moment - clock.step


# --- agreement with the views on workflow histories ------------------------------


def test_published_and_edited_several_times(session, clock):
    page = make_page(session)
    page.publish()
    session.flush()
    versions = [page]
    for n in range(1, 5):
        versions.append(edit_and_publish(session, versions[-1], f"v{n}"))
    assert clio.version_at(session, Page, 1) is versions[-1]  # now: published
    assert clio.version_at(session, Page, 1).status == clio.PUBLISHED
    for version in versions:
        start = version.published_start_timestamp
        assert clio.version_at(session, Page, 1, start) is version
        assert clio.version_at(session, Page, 1, start + TICK) is version
    assert assert_agrees_with_view(session, Page, 1, clock) > 0


def test_at_an_interval_boundary_the_successor_is_live(session):
    page = make_page(session)
    page.publish()
    session.flush()
    newer = edit_and_publish(session, page, "v1")
    boundary = page.published_end_timestamp
    assert boundary == newer.published_start_timestamp
    assert clio.version_at(session, Page, 1, boundary) is newer
    assert clio.version_at(session, Page, 1, boundary - TICK) is page


def test_before_the_first_publication(session, clock):
    page = make_page(session)
    before = clock.peek()
    page.publish()
    session.flush()
    assert clio.version_at(session, Page, 1, before) is None
    assert clio.version_at(session, Page, 1, page.published_start_timestamp - TICK) is None
    assert clio.version_at(session, Page, 1, page.published_start_timestamp) is page


def test_never_published_and_unknown_codes(session, clock):
    make_page(session, code=1)  # NEW only
    assert clio.version_at(session, Page, 1) is None
    assert clio.version_at(session, Page, 1, clock.peek() + HOUR) is None
    assert clio.version_at(session, Page, 404) is None
    assert clio.version_at(session, Page, 404, clock.peek()) is None
    assert assert_agrees_with_view(session, Page, 1, clock) == 0


def test_an_object_under_edit_reads_its_published_version(session):
    page = make_page(session)
    page.publish()
    session.flush()
    draft = page.edit()
    draft.title = "draft"
    session.flush()
    assert clio.version_at(session, Page, 1) is page


def test_deletion(session, clock):
    page = make_page(session, paragraphs=1)
    page.publish()
    session.flush()
    newer = edit_and_publish(session, page, "v1")
    newer.delete().publish()
    session.flush()
    assert clio.version_at(session, Page, 1) is None
    end = newer.published_end_timestamp
    assert clio.version_at(session, Page, 1, end) is None
    assert clio.version_at(session, Page, 1, end - TICK) is newer
    assert assert_agrees_with_view(session, Page, 1, clock) > 0


def test_expire(session, clock):
    page = make_page(session)
    page.publish()
    session.flush()
    newer = edit_and_publish(session, page, "v1")
    newer.expire()
    session.flush()
    assert clio.version_at(session, Page, 1) is None
    assert clio.version_at(session, Page, 1, newer.published_end_timestamp - TICK) is newer
    assert assert_agrees_with_view(session, Page, 1, clock) > 0


def test_scheduled_expiry(session, clock):
    page = make_page(session)
    page.publish()
    t = clock.peek() + HOUR
    page.expire(at=t)
    session.flush()
    assert clio.version_at(session, Page, 1) is page
    assert clio.version_at(session, Page, 1, t - TICK) is page
    assert clio.version_at(session, Page, 1, t) is None
    travel_to(clock, t)
    assert clio.version_at(session, Page, 1) is None
    assert assert_agrees_with_view(session, Page, 1, clock) > 0


def test_scheduled_publication_before_at_and_after_t(session, clock):
    page = make_page(session)
    page.publish()
    session.flush()
    draft = page.edit()
    draft.title = "scheduled"
    t = clock.peek() + HOUR
    draft.publish(at=t)
    session.flush()
    # "now" comes from the clock: the schedule resolves as time passes.
    assert clio.version_at(session, Page, 1) is page
    travel_to(clock, t - TICK)
    assert clio.version_at(session, Page, 1) is page
    travel_to(clock, t)
    assert clio.version_at(session, Page, 1) is draft
    travel_to(clock, t + HOUR)
    assert clio.version_at(session, Page, 1) is draft
    # As-of reads do not depend on the clock.
    assert clio.version_at(session, Page, 1, t - TICK) is page
    assert clio.version_at(session, Page, 1, t) is draft
    assert assert_agrees_with_view(session, Page, 1, clock) > 0


def test_scheduled_first_publication(session, clock):
    page = make_page(session)
    t = clock.peek() + HOUR
    page.publish(at=t)
    session.flush()
    assert clio.version_at(session, Page, 1) is None
    assert clio.version_at(session, Page, 1, t - TICK) is None
    assert clio.version_at(session, Page, 1, t) is page
    travel_to(clock, t)
    assert clio.version_at(session, Page, 1) is page


def test_scheduled_deletion(session, clock):
    page = make_page(session, paragraphs=1)
    page.publish()
    session.flush()
    t = clock.peek() + HOUR
    page.delete().publish(at=t)
    session.flush()
    assert clio.version_at(session, Page, 1) is page
    assert clio.version_at(session, Page, 1, t) is None
    travel_to(clock, t)
    assert clio.version_at(session, Page, 1) is None
    assert assert_agrees_with_view(session, Page, 1, clock) > 0


def add_tombstone(session, code, t):
    """A zero-length ``[t, t)`` archive row of ``code``, written by hand
    (the tombstones clio keeps for scheduled deletions are such rows too:
    see test_scheduled_deletion)."""
    top = max(v.status for v in clio.versions(session, Page, code))
    with transition(session):
        tombstone = Page(code=code, title="tombstone")
        session.add(tombstone)
        tombstone.status = max(top, clio.ARCHIVED) + 1
        tombstone.published_start_timestamp = t
        tombstone.published_end_timestamp = t
        session.flush()
    return tombstone


def test_a_tombstone_ending_the_object_is_never_live(session, clock):
    page = make_page(session)
    page.publish()
    session.flush()
    page.delete().publish()
    session.flush()
    t = page.published_end_timestamp
    add_tombstone(session, 1, t)
    assert clio.version_at(session, Page, 1, t) is None
    assert clio.version_at(session, Page, 1, t + HOUR) is None
    assert clio.version_at(session, Page, 1, t - TICK) is page
    assert assert_agrees_with_view(session, Page, 1, clock) > 0


def test_a_tombstone_sharing_its_start_with_the_successor(session, clock):
    page = make_page(session)
    page.publish()
    session.flush()
    newer = edit_and_publish(session, page, "v1")
    t = newer.published_start_timestamp
    add_tombstone(session, 1, t)
    assert clio.version_at(session, Page, 1, t) is newer
    assert clio.version_at(session, Page, 1) is newer
    assert clio.version_at(session, Page, 1, t - TICK) is page
    assert assert_agrees_with_view(session, Page, 1, clock) > 0


def test_another_timezone(session):
    page = make_page(session)
    page.publish()
    session.flush()
    start = page.published_start_timestamp
    elsewhere = start.astimezone(timezone(timedelta(hours=-5)))
    assert clio.version_at(session, Page, 1, elsewhere) is page
    assert clio.version_at(session, Page, 1, elsewhere - TICK) is None


def test_classical_mapping(session, clock):
    a = A(7, "first")
    session.add(a)
    session.flush()
    a.publish()
    session.flush()
    draft = a.edit()
    draft.message = "second"
    draft.publish()
    session.flush()
    assert clio.version_at(session, A, 7) is draft
    assert clio.version_at(session, A, 7, a.published_start_timestamp) is a
    assert assert_agrees_with_view(session, A, 7, clock) > 0


# --- what it refuses and what it ignores ---------------------------------------------


@pytest.mark.parametrize(
    "moment",
    [datetime(2026, 1, 1), "2026-01-01T00:00:00Z", 1767225600],
    ids=["naive", "text", "number"],
)
def test_a_moment_that_is_not_an_aware_datetime(session, moment):
    with pytest.raises(clio.ViewError, match="moment must be"):
        clio.version_at(session, Page, 1, moment)


@pytest.mark.parametrize("code", ["1", 1.0, None, True])
def test_a_code_that_is_not_an_integer(session, code):
    with pytest.raises(clio.InvalidCodeError):
        clio.version_at(session, Page, code)


def test_a_class_that_is_not_versioned(session):
    class NotVersioned:
        pass

    with pytest.raises(TypeError, match="not a versioned class"):
        clio.version_at(session, NotVersioned, 1)


def test_a_session_wide_default_view_is_ignored(connection):
    with Session(bind=connection, info={"clio.view": clio.view("editable")}) as session:
        page = make_page(session)
        page.publish()
        session.flush()
        draft = page.edit()
        draft.title = "draft"
        session.flush()
        assert clio.version_at(session, Page, 1) is page
        assert session.scalars(sa.select(Page)).one() is draft  # the default applies


def test_one_statement(session, count_statements):
    page = make_page(session, paragraphs=2)
    page.publish()
    session.flush()
    for n in range(3):
        page = edit_and_publish(session, page, f"v{n}")
    session.expunge_all()
    with count_statements() as counted:
        found = clio.version_at(session, Page, 1)
    assert found.title == "v2"
    assert len(counted) == 1
    (statement,) = counted.statements
    assert "max(" in statement.lower()


def test_the_statement_is_built_once_per_class(session, clock):
    """The SELECT is made once per class and kept with it, the code and the
    moment bound when it runs (building it cost more than running it); it
    is made again after SQLAlchemy configures the mappers anew."""
    from clio import reads
    from clio.model import _configure_versioned

    first = make_page(session, code=1, title="one")
    second = make_page(session, code=2, title="two")
    first.publish()
    second.publish()
    session.flush()
    statement = reads._statement(Page)
    assert reads._statement(Page) is statement
    assert reads._statement(A) is not statement
    params = statement.compile().params
    assert (params["clio_code"], params["clio_moment"]) == (None, None)
    assert clio.version_at(session, Page, 1) is first
    assert clio.version_at(session, Page, 2) is second
    assert reads._statement(Page) is statement
    _configure_versioned()  # what SQLAlchemy's after_configured event runs
    assert reads._statement(Page) is not statement
    assert clio.version_at(session, Page, 2) is second


# --- inheritance ----------------------------------------------------------------------


class InheritanceBase(DeclarativeBase):
    metadata = sa.MetaData()


class Shape(clio.Workflowed, InheritanceBase):
    """Single-table inheritance: every shape in one table."""

    __tablename__ = "clio_reads_shape"
    kind: Mapped[str] = mapped_column(sa.Unicode(20))
    __mapper_args__: ClassVar[dict] = {"polymorphic_on": "kind", "polymorphic_identity": "shape"}


class Circle(Shape):
    radius: Mapped[int | None] = mapped_column(sa.Integer)
    __mapper_args__: ClassVar[dict] = {"polymorphic_identity": "circle"}


class Square(Shape):
    side: Mapped[int | None] = mapped_column(sa.Integer)
    __mapper_args__: ClassVar[dict] = {"polymorphic_identity": "square"}


class Vehicle(clio.Workflowed, InheritanceBase):
    """Joined-table inheritance: the history lives in the base table."""

    __tablename__ = "clio_reads_vehicle"
    kind: Mapped[str] = mapped_column(sa.Unicode(20))
    __mapper_args__: ClassVar[dict] = {"polymorphic_on": "kind", "polymorphic_identity": "vehicle"}


class Car(Vehicle):
    __tablename__ = "clio_reads_car"
    __table_args__ = ()  # clio's constraints are on the base table
    id: Mapped[int] = mapped_column(sa.ForeignKey("clio_reads_vehicle.id"), primary_key=True)
    wheels: Mapped[int] = mapped_column(sa.Integer, default=4)
    __mapper_args__: ClassVar[dict] = {"polymorphic_identity": "car"}


@pytest.fixture(scope="module")
def inheritance_tables(engine):
    InheritanceBase.metadata.create_all(engine)
    yield
    InheritanceBase.metadata.drop_all(engine)


def test_single_table_inheritance(inheritance_tables, session, clock):
    circle = Circle(code=1, radius=1)
    square = Square(code=2, side=2)
    session.add_all([circle, square])
    session.flush()
    circle.publish()
    square.publish()
    session.flush()
    bigger = circle.edit()
    bigger.radius = 10
    bigger.publish()
    session.flush()
    assert clio.version_at(session, Circle, 1) is bigger
    assert clio.version_at(session, Shape, 1) is bigger
    assert clio.version_at(session, Circle, 1, circle.published_start_timestamp) is circle
    assert clio.version_at(session, Square, 1) is None  # code 1 is a circle
    assert clio.version_at(session, Square, 2) is square
    # Each class has a statement of its own, not its base class's.
    from clio import reads

    assert len({id(reads._statement(cls)) for cls in (Shape, Circle, Square)}) == 3
    for cls in (Shape, Circle, Square):
        assert_agrees_with_view(session, cls, 1, clock)


def test_joined_table_inheritance(inheritance_tables, session, clock):
    car = Car(code=1)
    session.add(car)
    session.flush()
    car.publish()
    session.flush()
    tricycle = car.edit()
    tricycle.wheels = 3
    tricycle.publish()
    session.flush()
    assert clio.version_at(session, Car, 1) is tricycle
    assert clio.version_at(session, Vehicle, 1) is tricycle
    assert clio.version_at(session, Car, 1, car.published_start_timestamp).wheels == 4
    for cls in (Vehicle, Car):
        assert assert_agrees_with_view(session, cls, 1, clock) > 0
