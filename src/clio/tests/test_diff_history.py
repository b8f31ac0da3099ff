"""clio.versions, clio.diff and clio.history (SPEC §3.2)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

import clio
from clio.tests.models import A, B, Page, Paragraph, Tag


def make_page(session, code=1, paragraphs=2):
    page = Page(code=code, title=f"page {code}")
    for n in range(paragraphs):
        page.paragraphs.append(Paragraph(code=code * 10 + n, text=f"para {n}"))
    session.add(page)
    session.flush()
    return page


# --- versions ------------------------------------------------------------------


def test_versions_oldest_first(session):
    page = make_page(session, paragraphs=0)
    page.publish()
    second = page.edit()
    second.publish()
    third = second.edit()
    session.flush()
    assert clio.versions(session, Page, 1) == [page, second, third]
    assert clio.versions(session, Page, 2) == []
    with pytest.raises(clio.InvalidCodeError):
        clio.versions(session, Page, "1")


# --- diff: columns -------------------------------------------------------------------


def test_diff_user_columns_only(session):
    page = make_page(session, paragraphs=0)
    page.publish()
    draft = page.edit()
    assert clio.diff(page, draft) == {}  # ids, statuses, timestamps differ
    draft.title = "new"
    assert clio.diff(page, draft) == {"title": ("page 1", "new")}
    assert clio.diff(draft, page) == {"title": ("new", "page 1")}


def test_diff_leaves_foreign_keys_out_and_reports_many_to_one_by_code(session):
    one, two = make_page(session, 1, 0), make_page(session, 2, 0)
    para = Paragraph(code=5, text="t", page=one)
    session.add(para)
    session.flush()
    for v in (one, two, para):
        v.publish()
    draft = para.edit()
    draft.page = two
    session.flush()
    assert "page_id" not in clio.diff(para, draft)
    assert clio.diff(para, draft) == {"page": (1, 2)}
    draft.page = None
    assert clio.diff(para, draft) == {"page": (1, None)}


# --- diff: relations -----------------------------------------------------------------


def test_diff_one_to_many_edit_path(session):
    page = make_page(session, paragraphs=3)
    page.publish()
    draft = page.edit()
    draft.paragraphs[0].text = "changed"
    draft.paragraphs[1].delete()  # an edit copy: removed on the pending side
    draft.paragraphs.append(Paragraph(code=99, text="new"))
    session.flush()
    assert clio.diff(page, draft) == {
        "paragraphs": {"added": [99], "removed": [11], "changed": [10]}
    }
    draft.publish()
    session.flush()
    # The archived version keeps its children as they were.
    assert clio.diff(page, draft) == {
        "paragraphs": {"added": [99], "removed": [11], "changed": [10]}
    }


def test_diff_one_to_many_update_path(session):
    page = make_page(session, paragraphs=2)
    page.publish()
    upd = page.update()
    upd.title = "updated"
    session.flush()
    # An update does not copy children: they are still the same objects.
    assert clio.diff(page, upd) == {"title": ("page 1", "updated")}
    child = page.paragraphs[0].edit()
    child.text = "edited child"
    session.flush()
    assert clio.diff(page, upd)["paragraphs"] == {"added": [], "removed": [], "changed": [10]}
    upd.publish()  # publishes the pending child edit too (SPEC 3.3.4)
    session.flush()
    assert child.is_published()
    # The children moved to the new version; the archived one still finds
    # them, as they were when it was archived.
    assert clio.diff(page, upd) == {
        "title": ("page 1", "updated"),
        "paragraphs": {"added": [], "removed": [], "changed": [10]},
    }


def test_diff_pending_deletion_removes_every_child(session):
    page = make_page(session, paragraphs=2)
    page.publish()
    deletion = page.delete()
    session.flush()
    assert clio.diff(page, deletion) == {
        "paragraphs": {"added": [], "removed": [10, 11], "changed": []}
    }


def test_diff_many_to_many(session):
    tags = [Tag(code=n, name=f"t{n}") for n in (1, 2, 3)]
    page = Page(code=1, title="p")
    page.tags.extend(tags[:2])
    session.add_all([page, *tags])
    session.flush()
    for tag in tags:
        tag.publish()
    page.publish()
    draft = page.edit()
    draft.tags.remove(tags[0])
    draft.tags.append(tags[2])
    session.flush()
    assert clio.diff(page, draft) == {"tags": {"added": [3], "removed": [1], "changed": []}}


def test_diff_classical_dynamic_relation(session):
    a = A(1, "a")
    a.bs.append(B(1, "b1"))
    a.bs.append(B(2, "b2"))
    session.add(a)
    session.flush()
    a.publish()
    draft = a.edit()
    draft.message = "a2"
    for b in draft.bs:
        if b.code == 2:
            b.message = "b2 changed"
    session.flush()
    assert clio.diff(a, draft) == {
        "message": ("a", "a2"),
        "bs": {"added": [], "removed": [], "changed": [2]},
    }


@pytest.mark.parametrize(
    "pair, message",
    [
        (lambda s: (Page(code=1), Page(code=2)), "different objects"),
        (lambda s: (Page(code=1), Tag(code=1)), "cannot compare a Page with a Tag"),
        (lambda s: (Page(code=1), object()), "not a version managed by clio"),
    ],
)
def test_diff_refuses_unrelated_versions(session, pair, message):
    old, new = pair(session)
    with pytest.raises(clio.CompareError, match=message) as info:
        clio.diff(old, new)
    assert isinstance(info.value, clio.ClioError)


# --- history -------------------------------------------------------------------------


def kinds(events):
    return [(e.event_type, e.version.status) for e in events]


def test_history_of_one_object_and_of_a_query(session):
    page = make_page(session, paragraphs=0)
    page.publish()
    draft = page.edit()
    draft.title = "x"
    draft.mark_changed()
    draft.publish()
    session.flush()
    events = clio.history(draft)  # one version: its whole object
    assert [e.event_type for e in events] == [
        clio.HISTORY_CREATE,
        clio.HISTORY_PUBLISH,
        clio.HISTORY_EDIT,
        clio.HISTORY_CHANGE,
        clio.HISTORY_ARCHIVE,
        clio.HISTORY_PUBLISH,
    ]
    assert clio.history(page) == events
    assert clio.history(clio.versions(session, Page, 1)) == events
    other = make_page(session, code=2, paragraphs=0)
    query = session.scalars(sa.select(Page).order_by(Page.id.desc()))
    both = clio.history(query)
    assert len(both) == len(events) + 1
    assert [e.timestamp for e in both] == sorted(e.timestamp for e in both)
    assert both[-1].version is other


def _version(code, status, id, created, start=None, end=None, changed=None):
    """A transient Page with hand-set bookkeeping (history only reads)."""
    page = Page(code=code)
    page.id = id
    page.created_timestamp = created
    page.changed_timestamp = changed or created
    page.published_start_timestamp = start
    page.published_end_timestamp = end
    page.status = status
    return page


def test_history_ties_archive_before_publish_and_edit_before_change():
    t0 = datetime(2030, 1, 1, tzinfo=timezone.utc)
    same = datetime(2030, 1, 2, 0, 0, 0, 123456, tzinfo=timezone.utc)
    # Row ids run against the expected order, so only the rule can sort.
    new = _version(1, clio.PUBLISHED, 1, created=t0, start=same)
    old = _version(1, clio.ARCHIVED, 2, created=t0, start=t0, end=same)
    changed = _version(2, clio.NEW, 3, created=t0, changed=same)
    edited = _version(3, clio.EDITABLE, 4, created=same)
    events = clio.history([new, old, changed, edited])
    at_same = [(e.event_type, e.version.code) for e in events if e.timestamp == same]
    assert at_same == [
        (clio.HISTORY_EDIT, 3),
        (clio.HISTORY_CHANGE, 2),
        (clio.HISTORY_ARCHIVE, 1),
        (clio.HISTORY_PUBLISH, 1),
    ]
    # Full precision: a microsecond earlier sorts first.
    early = _version(4, clio.NEW, 5, created=same.replace(microsecond=123455))
    events = clio.history([new, old, changed, edited, early])
    first_same = next(i for i, e in enumerate(events) if e.timestamp == same)
    assert events[first_same - 1].version is early


def test_history_keeps_microseconds(session, clock):
    from datetime import timedelta

    clock.step = timedelta(microseconds=1)
    page = make_page(session, paragraphs=0)
    page.publish()
    draft = page.edit()
    draft.publish()
    session.commit()
    session.expire_all()
    events = clio.history(clio.versions(session, Page, 1))
    stamps = [e.timestamp for e in events]
    assert stamps == sorted(stamps)
    assert len({s.microsecond for s in stamps}) > 1
