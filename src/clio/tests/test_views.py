"""Views as ORM options (SPEC §3.2): published, editable, actual, archived,
as-of, the session-wide default, and how each loader style obeys them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    joinedload,
    mapped_column,
    relationship,
    selectinload,
)

import clio
from clio.tests.models import A, B, Page, Paragraph

# --- helpers -------------------------------------------------------------------


def make_page(session, code=1, paragraphs=2):
    page = Page(code=code, title=f"page {code}")
    for n in range(paragraphs):
        page.paragraphs.append(Paragraph(code=code * 10 + n, text=f"para {n}"))
    session.add(page)
    session.flush()
    return page


def fresh(session):
    """Forget loaded objects so the next read really runs the view."""
    session.flush()
    session.expunge_all()


def read_page(session, option, code=1):
    return session.scalars(
        sa.select(Page).where(Page.code == code).options(option)
    ).one_or_none()


def texts(page):
    return [p.text for p in page.paragraphs]


# --- the option itself -------------------------------------------------------------


@pytest.mark.parametrize("name", ["published", "editable", "actual", "archived", "all"])
def test_view_names(name):
    option = clio.view(name)
    assert option.name == name and option.as_of is None
    assert repr(option) == f"clio.view({name!r})"


def test_as_of_is_converted_to_utc():
    moment = datetime(2026, 1, 1, 12, tzinfo=timezone(timedelta(hours=2)))
    option = clio.view(as_of=moment)
    assert option.as_of == datetime(2026, 1, 1, 10, tzinfo=timezone.utc)
    assert option.as_of.tzinfo is timezone.utc
    assert clio.view("published", as_of=moment) == option


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: clio.view("drafts"), "unknown view 'drafts'"),
        (lambda: clio.view(), "needs a view name"),
        (lambda: clio.view(as_of=datetime(2026, 1, 1)), "timezone-aware"),
        (lambda: clio.view(as_of="2026-01-01T00:00:00Z"), "must be a datetime"),
        (lambda: clio.view(as_of=datetime(2026, 1, 1).date()), "must be a datetime"),
        (
            lambda: clio.view("editable", as_of=datetime(2026, 1, 1, tzinfo=timezone.utc)),
            "as_of goes with the published view",
        ),
    ],
)
def test_bad_views_raise_view_error(call, message):
    with pytest.raises(clio.ViewError, match=message) as info:
        call()
    assert isinstance(info.value, clio.ClioError)


def test_bad_session_default_raises_view_error(connection):
    with Session(bind=connection, info={"clio.view": "published"}) as session:
        with pytest.raises(clio.ViewError, match="must be a clio.view"):
            session.scalars(sa.select(Page)).all()


# --- status views ------------------------------------------------------------------


def test_status_views_of_an_object_under_edit(session):
    page = make_page(session, paragraphs=0)
    page.publish()
    draft = page.edit()
    make_page(session, code=2, paragraphs=0)  # a NEW page
    gone = make_page(session, code=3, paragraphs=0)
    gone.publish()
    gone.delete()
    fresh(session)

    def statuses(option):
        return sorted(
            (p.code, p.status)
            for p in session.scalars(sa.select(Page).options(option))
        )

    assert statuses(clio.view("published")) == [
        (1, clio.PUBLISHED_UNDER_EDIT),
        (3, clio.PUBLISHED_UNDER_DELETE),
    ]
    assert statuses(clio.view("editable")) == [
        (1, clio.EDITABLE),
        (2, clio.NEW),
        (3, clio.DELETED),
    ]
    assert statuses(clio.view("actual")) == [(1, clio.EDITABLE), (2, clio.NEW)]
    assert statuses(clio.view("archived")) == []
    assert len(statuses(clio.view("all"))) == 5
    draft = session.scalars(sa.select(Page).where(Page.code == 1, Page.status == clio.EDITABLE)).one()
    draft.publish()
    fresh(session)
    assert [p.code for p in session.scalars(sa.select(Page).options(clio.view("archived")))] == [1]


def test_views_apply_to_counts_and_joins(session):
    page = make_page(session)
    page.publish()
    page.edit()
    fresh(session)
    count = sa.select(sa.func.count()).select_from(Paragraph)
    assert session.scalar(count.options(clio.view("all"))) == 4
    assert session.scalar(count.options(clio.view("editable"))) == 2
    joined = sa.select(Paragraph.code, Page.status).join(Paragraph.page)
    rows = session.execute(joined.options(clio.view("published"))).all()
    assert sorted(rows) == [(10, clio.PUBLISHED_UNDER_EDIT), (11, clio.PUBLISHED_UNDER_EDIT)]


def test_classical_models_obey_views(session):
    a = A(1, "a")
    a.bs.append(B(1, "b"))
    session.add(a)
    session.flush()
    a.publish()
    a.edit().message = "edited"
    fresh(session)
    assert [x.message for x in session.scalars(sa.select(A).options(clio.view("actual")))] == ["edited"]
    assert [x.message for x in session.scalars(sa.select(A).options(clio.view("published")))] == ["a"]


# --- as of, edit path -----------------------------------------------------------


def test_as_of_follows_the_edit_path(session):
    page = make_page(session)
    page.publish()
    t1 = page.published_start_timestamp
    draft = page.edit()
    draft.title = "second"
    draft.paragraphs[0].text = "changed"
    draft.publish()
    t2 = draft.published_start_timestamp
    fresh(session)

    assert read_page(session, clio.view(as_of=t1 - timedelta(microseconds=1))) is None
    old = read_page(session, clio.view(as_of=t1))
    assert (old.title, old.is_archived(), texts(old)) == ("page 1", True, ["para 0", "para 1"])
    assert all(p.is_archived() for p in old.paragraphs)
    just_before = read_page(session, clio.view(as_of=t2 - timedelta(microseconds=1)))
    assert just_before is old
    new = read_page(session, clio.view(as_of=t2))  # half-open: the successor
    assert (new.title, texts(new)) == ("second", ["changed", "para 1"])
    assert read_page(session, clio.view("published")) is new


def test_as_of_in_another_timezone(session):
    page = make_page(session, paragraphs=0)
    page.publish()
    t1 = page.published_start_timestamp
    fresh(session)
    local = t1.astimezone(timezone(timedelta(hours=-5)))
    assert read_page(session, clio.view(as_of=local)).title == "page 1"


def test_many_to_one_as_of(session):
    page = make_page(session, paragraphs=1)
    page.publish()
    t1 = page.published_start_timestamp
    draft = page.edit()
    draft.title = "second"
    draft.publish()
    fresh(session)
    para = session.scalars(
        sa.select(Paragraph).options(clio.view(as_of=t1))
    ).one()
    assert para.page.title == "page 1"


# --- as of, update path ------------------------------------------------------------


def test_as_of_follows_the_update_path(session):
    """An update does not copy children; publishing it moves them to the new
    page row.  The archived page still finds its paragraphs as of then."""
    page = make_page(session)
    page.publish()
    t1 = page.published_start_timestamp
    # A child edited on its own while the page is published.
    child_draft = page.paragraphs[1].edit()
    child_draft.text = "para 1, second"
    child_draft.publish()
    t_child = child_draft.published_start_timestamp
    upd = page.update()
    upd.title = "updated"
    upd.publish()
    t2 = upd.published_start_timestamp
    fresh(session)

    raw = session.scalars(sa.select(Paragraph).where(Paragraph.page_id == page.id)).all()
    assert raw == []  # the reason for the rewrite: nothing hangs from the old row

    old = read_page(session, clio.view(as_of=t1))
    assert old.title == "page 1" and old.is_archived()
    assert texts(old) == ["para 0", "para 1"]
    mid = read_page(session, clio.view(as_of=t_child))
    assert mid is old and texts(mid) == ["para 0", "para 1"]  # already loaded
    session.expunge_all()
    mid = read_page(session, clio.view(as_of=t_child))
    assert texts(mid) == ["para 0", "para 1, second"]
    session.expunge_all()
    new = read_page(session, clio.view(as_of=t2))
    assert new.title == "updated" and texts(new) == ["para 0", "para 1, second"]
    session.expunge_all()
    assert texts(read_page(session, clio.view("published"))) == ["para 0", "para 1, second"]


def test_update_path_children_added_by_the_update(session):
    page = make_page(session, paragraphs=1)
    page.publish()
    t1 = page.published_start_timestamp
    upd = page.update()
    # A NEW paragraph attached to the published page while the update is
    # pending; it goes live with the update.
    page.paragraphs.append(Paragraph(code=55, text="added"))
    session.flush()
    upd.publish()
    t2 = upd.published_start_timestamp
    fresh(session)
    assert texts(read_page(session, clio.view(as_of=t1))) == ["para 0"]
    session.expunge_all()
    assert texts(read_page(session, clio.view(as_of=t2))) == ["para 0", "added"]


def test_scheduled_update_published_view_reads_the_clock(session, clock):
    """With a scheduled update the children move at decision time; the
    published view must still show them under the old page until ``at``,
    and "now" is read when each statement runs."""
    page = make_page(session)
    page.publish()
    upd = page.update()
    upd.title = "tomorrow"
    at = clock.peek() + timedelta(days=1)
    upd.publish(at=at)
    fresh(session)
    option = clio.view("published")
    today = read_page(session, option)
    assert today.title == "page 1" and texts(today) == ["para 0", "para 1"]
    clock.current = at  # the same option object, a later statement
    session.expunge_all()
    later = read_page(session, option)
    assert later.title == "tomorrow" and texts(later) == ["para 0", "para 1"]


def test_published_view_reads_the_clock_at_lazy_load(session, clock):
    page = make_page(session)
    page.publish()
    draft = page.edit()
    draft.paragraphs[0].text = "tomorrow"
    at = clock.peek() + timedelta(days=1)
    draft.publish(at=at)
    fresh(session)
    today = read_page(session, clio.view("published"))
    assert today.title == "page 1"
    clock.current = at + timedelta(seconds=1)
    # The page row was chosen before ``at``; its children are read now.
    # Both rows of the object are considered, so the children are today's.
    assert texts(today) == ["tomorrow", "para 1"]


# --- session default -----------------------------------------------------------------


@pytest.fixture
def viewing_session(connection):
    session = Session(
        bind=connection,
        join_transaction_mode="create_savepoint",
        info={"clio.view": clio.view("published")},
    )
    yield session
    session.close()


def test_session_default_view(session, viewing_session):
    page = make_page(session)
    page.publish()
    page.edit().title = "draft"
    session.flush()
    reader = viewing_session
    assert [p.title for p in reader.scalars(sa.select(Page))] == ["page 1"]
    assert [p.status for p in reader.scalars(sa.select(Paragraph))] == [clio.PUBLISHED_UNDER_EDIT] * 2
    # An explicit option wins.
    assert [p.title for p in reader.scalars(sa.select(Page).options(clio.view("editable")))] == ["draft"]
    assert len(reader.scalars(sa.select(Page).options(clio.view("all"))).all()) == 2
    reader.expunge_all()
    published = reader.scalars(sa.select(Page)).one()
    assert [p.status for p in published.paragraphs] == [clio.PUBLISHED_UNDER_EDIT] * 2
    reader.expunge_all()
    draft = reader.scalars(sa.select(Page).options(clio.view("editable"))).one()
    assert [p.status for p in draft.paragraphs] == [clio.EDITABLE] * 2


def test_no_view_without_option_or_default(session):
    page = make_page(session)
    page.publish()
    page.edit()
    fresh(session)
    assert len(session.scalars(sa.select(Page)).all()) == 2


def test_lazy_loads_inside_transitions_are_not_filtered(viewing_session):
    """Relationship loads made by a running transition see every version."""
    session = viewing_session
    session.info["clio.view"] = clio.view("all")
    page = make_page(session)
    page.publish()
    session.info["clio.view"] = clio.view("published")
    session.expire(page, ["paragraphs"])
    draft = page.edit()  # walks page.paragraphs inside the transition
    session.flush()
    session.info["clio.view"] = clio.view("all")
    assert [p.status for p in draft.paragraphs] == [clio.EDITABLE] * 2


def test_transitions_see_every_version_under_a_default_view(viewing_session):
    """The workflow's own reads are never filtered by the default view."""
    session = viewing_session
    session.info["clio.view"] = clio.view("all")
    page = make_page(session)
    page.publish()
    draft = page.edit()
    session.info["clio.view"] = clio.view("published")
    draft.title = "second"
    draft.publish()
    session.flush()
    assert draft.is_published() and page.is_archived()
    assert [p.status for p in draft.paragraphs] == [clio.PUBLISHED] * 2


# --- loader styles -----------------------------------------------------------------

STYLES = ("select", "selectin", "joined", "raise", "dynamic", "write_only")


class LoaderBase(DeclarativeBase):
    metadata = sa.MetaData()


def _pair(style):
    """A versioned parent/child pair whose one-to-many uses ``style``."""
    parent_name, child_name = f"LParent_{style}", f"LChild_{style}"
    parent_table, child_table = f"clio_lp_{style}", f"clio_lc_{style}"
    child = type(
        child_name,
        (clio.Workflowed, LoaderBase),
        {
            "__tablename__": child_table,
            "__clio_immutable__": False,  # the data below is written by hand
            "__annotations__": {"text": Mapped[str], "parent_id": Mapped[int | None]},
            "text": mapped_column(sa.Unicode(50), default=""),
            "parent_id": mapped_column(sa.ForeignKey(f"{parent_table}.id")),
        },
    )
    kind = "WriteOnlyMapped" if style == "write_only" else (
        "DynamicMapped" if style == "dynamic" else "Mapped"
    )
    annotation = getattr(sa.orm, kind)[list[child]]
    parent = type(
        parent_name,
        (clio.Workflowed, LoaderBase),
        {
            "__tablename__": parent_table,
            "__clio_immutable__": False,
            "__annotations__": {"title": Mapped[str], "children": annotation},
            "title": mapped_column(sa.Unicode(50), default=""),
            "children": relationship(child, lazy=style, order_by=child.code),
        },
    )
    return parent, child


PAIRS = {style: _pair(style) for style in STYLES}


@pytest.fixture
def loader_tables(engine):
    LoaderBase.metadata.create_all(engine)
    yield PAIRS
    LoaderBase.metadata.drop_all(engine)


def _children(session, parent, style, option=None):
    """The children as the given loader style delivers them."""
    if style == "write_only":
        stmt = parent.children.select()
        if option is not None:
            stmt = stmt.options(option)
        return list(session.scalars(stmt))
    if style == "dynamic":
        query = parent.children
        return list(query.options(option) if option is not None else query)
    return list(parent.children)


def _build(session, Parent, Child, style):
    parent = Parent(code=1, title="one")
    session.add(parent)
    session.flush()
    kids = [Child(code=n, text=f"kid {n}") for n in (1, 2)]
    if style == "write_only":
        parent.children.add_all(kids)
    elif style == "raise":
        for kid in kids:
            kid.parent_id = parent.id
            session.add(kid)
    else:
        for kid in kids:
            parent.children.append(kid)
    session.flush()
    for kid in kids:
        kid.parent_id = parent.id
    session.flush()
    return parent, kids


@pytest.mark.parametrize("style", STYLES)
def test_loader_styles_under_as_of(loader_tables, session, style):
    Parent, Child = loader_tables[style]
    parent, kids = _build(session, Parent, Child, style)
    for obj in (parent, *kids):
        obj.status = clio.PUBLISHED
        obj.published_start_timestamp = datetime(2026, 1, 1, tzinfo=timezone.utc)
    session.flush()
    # Then the second child is replaced by a newer version.
    kids[1].published_end_timestamp = datetime(2026, 2, 1, tzinfo=timezone.utc)
    kids[1].status = clio.ARCHIVED
    newer = Child(code=2, text="kid 2, second", parent_id=parent.id)
    newer.status = clio.PUBLISHED
    newer.published_start_timestamp = datetime(2026, 2, 1, tzinfo=timezone.utc)
    session.add(newer)
    fresh(session)

    january = clio.view(as_of=datetime(2026, 1, 15, tzinfo=timezone.utc))
    march = clio.view(as_of=datetime(2026, 3, 1, tzinfo=timezone.utc))
    stmt = sa.select(Parent)
    if style == "raise":
        stmt = stmt.options(selectinload(Parent.children))
    for option, expected in ((january, ["kid 1", "kid 2"]), (march, ["kid 1", "kid 2, second"])):
        session.expunge_all()
        loaded = session.scalars(stmt.options(option)).unique().one()
        # dynamic and write_only collections are queries of their own: the
        # statement's option does not reach them; pass it on explicitly.
        explicit = option if style in ("dynamic", "write_only") else None
        assert [c.text for c in _children(session, loaded, style, explicit)] == expected


@pytest.mark.parametrize("style", ["dynamic", "write_only"])
def test_query_collections_obey_the_session_default(loader_tables, connection, style):
    Parent, Child = loader_tables[style]
    with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
        parent, kids = _build(session, Parent, Child, style)
        kids[0].status = clio.PUBLISHED
        kids[0].published_start_timestamp = datetime(2026, 1, 1, tzinfo=timezone.utc)
        session.flush()
        assert len(_children(session, parent, style)) == 2
        session.info["clio.view"] = clio.view("published")
        assert [c.text for c in _children(session, parent, style)] == ["kid 1"]
        session.info["clio.view"] = clio.view("editable")
        assert [c.text for c in _children(session, parent, style)] == ["kid 1", "kid 2"]


def test_joined_loader_applies_to_the_eager_join(loader_tables, session, count_statements):
    Parent, Child = loader_tables["joined"]
    parent, kids = _build(session, Parent, Child, "joined")
    parent.status = kids[0].status = clio.PUBLISHED
    parent.published_start_timestamp = kids[0].published_start_timestamp = datetime(
        2026, 1, 1, tzinfo=timezone.utc
    )
    fresh(session)
    with count_statements() as counted:
        loaded = session.scalars(
            sa.select(Parent).options(clio.view("published"), joinedload(Parent.children))
        ).unique().one()
        assert [c.text for c in loaded.children] == ["kid 1"]
    assert len(counted) == 1


def test_update_path_with_workflow_for_each_eager_style(loader_tables, session):
    """Lazy select loads get the update-path correction; selectin loads do
    not (documented), they see only the rows that hang from the version."""
    for style, expected in (("select", ["kid 1", "kid 2"]), ("selectin", [])):
        Parent, Child = loader_tables[style]
        parent, kids = _build(session, Parent, Child, style)
        parent.publish()
        t1 = parent.published_start_timestamp
        parent.update().publish()
        fresh(session)
        old = session.scalars(sa.select(Parent).options(clio.view(as_of=t1))).one()
        assert [c.text for c in old.children] == expected, style
        session.expunge_all()


# --- what a view costs per statement ---------------------------------------------------


@pytest.mark.parametrize("name", ["editable", "actual", "archived"])
def test_status_view_criteria_are_made_once_per_class(name):
    """A status view's criteria hold nothing that changes between
    statements: the same option objects serve every statement."""
    first = clio.view(name).criteria(lambda: None)
    again = clio.view(name).criteria(lambda: None)
    assert first and all(a is b for a, b in zip(first, again, strict=True))


def test_timed_view_criteria_are_view_criteria_with_fresh_moments():
    """The timed views' criteria are lambda criteria (cheap to make for
    every statement), still recognised as the view's own."""
    from clio.views import _is_view_criteria

    t1 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    criteria = clio.view(as_of=t1).criteria(lambda: None)
    assert criteria and all(_is_view_criteria(c) for c in criteria)
    assert all(c.deferred_where_criteria for c in criteria)
    assert not _is_view_criteria(
        sa.orm.with_loader_criteria(Page, lambda cls: cls.code > 0, include_aliases=True)
    )
    assert not _is_view_criteria(sa.orm.with_loader_criteria(Page, Page.code > 0))


def test_timed_views_reuse_the_compiled_statement(connection, clock):
    """The moment is a bound parameter, not part of the statement's cache
    key: a new moment (or "now" read again) finds the compiled statement,
    and still selects by its own value."""
    cache = {}
    cached = connection.execution_options(compiled_cache=cache)
    with Session(bind=cached, join_transaction_mode="create_savepoint") as session:
        page = make_page(session, paragraphs=0)
        page.publish()
        session.flush()
        t1 = clock.peek()
        draft = page.edit()
        draft.title = "second"
        draft.publish()
        fresh(session)
        assert read_page(session, clio.view(as_of=t1)).title == "page 1"
        size = len(cache)
        session.expunge_all()
        assert read_page(session, clio.view("published")).title == "second"
        session.expunge_all()
        assert read_page(session, clio.view(as_of=t1 + timedelta(microseconds=1))).title == "page 1"
        session.expunge_all()
        assert read_page(session, clio.view(as_of=t1 - timedelta(days=1))) is None
        assert len(cache) == size
