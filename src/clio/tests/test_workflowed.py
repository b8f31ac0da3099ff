"""The declarative mixin ``clio.Workflowed`` with ordinary relationships."""

import pytest
import sqlalchemy as sa

import clio
from clio.tests.models import Page, Paragraph, Tag


def make_page(session, code=1, paragraphs=2):
    page = Page(code=code, title=f"page {code}")
    for n in range(paragraphs):
        page.paragraphs.append(Paragraph(code=code * 10 + n, text=f"para {n}"))
    session.add(page)
    session.flush()
    return page


def test_keyword_constructor_and_columns(session, userids):
    page = Page(code=5, title="Hello")
    assert (page.code, page.title, page.status) == (5, "Hello", clio.NEW)
    assert page.created_userid == "u0" and page.changed_timestamp == page.created_timestamp
    session.add(page)
    session.flush()
    assert page.id is not None
    columns = [c.name for c in Page.__table__.columns]
    assert columns[:10] == list(clio.schema.BOOKKEEPING_COLUMNS)
    uniques = [c for c in Page.__table__.constraints if isinstance(c, sa.UniqueConstraint)]
    assert [sorted(col.name for col in u.columns) for u in uniques] == [["code", "status"]]


def test_edit_and_publish_a_tree(session):
    page = make_page(session)
    page.publish()
    assert [p.status for p in page.paragraphs] == [clio.PUBLISHED] * 2
    draft = page.edit()
    assert [p.status for p in draft.paragraphs] == [clio.EDITABLE] * 2
    assert [p.status for p in page.paragraphs] == [clio.PUBLISHED_UNDER_EDIT] * 2
    draft.title = "new title"
    draft.paragraphs[0].text = "changed"
    draft.publish()
    session.flush()
    assert page.is_archived() and draft.is_published()
    assert [p.text for p in draft.paragraphs] == ["changed", "para 1"]
    assert [p.text for p in page.paragraphs] == ["para 0", "para 1"]
    assert all(p.is_archived() for p in page.paragraphs)


def test_update_path_moves_children(session):
    page = make_page(session)
    page.publish()
    upd = page.update()
    upd.title = "updated"
    upd.publish()
    session.flush()
    session.expire_all()
    assert [p.status for p in upd.paragraphs] == [clio.PUBLISHED] * 2
    assert page.paragraphs == []


def test_delete_tree(session):
    page = make_page(session)
    page.publish()
    deletion = page.delete()
    assert [p.status for p in deletion.paragraphs] == [clio.DELETED] * 2
    assert deletion.publish() is page
    session.flush()
    assert page.is_archived()
    assert all(p.is_archived() for p in session.scalars(sa.select(Paragraph)))


def test_many_to_many_links_follow_edits(session):
    tag = Tag(code=1, name="t")
    page = Page(code=1, title="p")
    page.tags.append(tag)
    session.add(page)
    session.flush()
    tag.publish()
    page.publish()
    draft = page.edit()
    assert [t.code for t in draft.tags] == [1]
    draft.publish()
    session.flush()
    assert [t.code for t in draft.tags] == [1]


def test_revert_new_paragraph_of_published_page(session):
    page = make_page(session, paragraphs=1)
    page.publish()
    extra = Paragraph(code=99, text="extra")
    page.paragraphs.append(extra)
    session.flush()
    assert extra.revert() is None
    session.flush()
    assert [p.code for p in page.paragraphs] == [10]


def test_published_page_is_immutable(session):
    page = make_page(session, paragraphs=0)
    page.publish()
    with pytest.raises(clio.ImmutableVersionError):
        page.title = "no"
    with pytest.raises(clio.ImmutableVersionError):
        page.mark_changed()


def test_discard_removes_edit_copies_of_list_children(session):
    page = make_page(session)
    page.publish()
    draft = page.edit()
    draft.paragraphs.append(Paragraph(code=77, text="draft only"))
    session.flush()
    assert draft.discard() is page
    session.flush()
    session.expire_all()
    assert page.status == clio.PUBLISHED
    assert [p.status for p in page.paragraphs] == [clio.PUBLISHED] * 2
    assert session.scalar(sa.select(sa.func.count()).select_from(Paragraph)) == 2


def test_transition_on_page_loaded_under_a_view_sees_hidden_children(session):
    """A collection loaded through the published view lacks NEW children;
    the workflow reads it again in full before walking it."""
    page = make_page(session, paragraphs=1)
    page.publish()
    page.paragraphs.append(Paragraph(code=55, text="new, unpublished"))
    session.flush()
    session.expunge_all()
    seen = session.scalars(
        sa.select(Page).where(Page.code == 1).options(clio.view("published"))
    ).one()
    assert [p.code for p in seen.paragraphs] == [10]  # the view hides code 55
    draft = seen.edit()
    session.flush()
    assert sorted((p.code, p.status) for p in draft.paragraphs) == [
        (10, clio.EDITABLE),
        (55, clio.NEW),
    ]


def test_copy_of_a_child_shows_in_loaded_parent_collection(session):
    page = make_page(session, paragraphs=1)
    page.publish()
    assert [p.code for p in page.paragraphs] == [10]  # loaded
    child_edit = page.paragraphs[0].edit()
    assert child_edit in page.paragraphs
    assert child_edit.page is page
