"""clio.edit_all and clio.publish_all: the transitions of one by one, in a
few statements per batch (SPEC §6)."""

from datetime import timedelta

import pytest
from zope.component import getGlobalSiteManager

import clio
from clio import events
from clio.tests.models import A, B, Page, Paragraph, Plain


def make_plain(session, codes, publish=True):
    objects = [Plain(code, f"p{code}") for code in codes]
    session.add_all(objects)
    if publish:
        for obj in objects:
            obj.publish()
    session.flush()
    return objects


def shape(session, cls, code):
    """What one object's versions look like, without ids and moments."""
    session.flush()
    return [
        (
            v.status,
            getattr(v, "name", None) or getattr(v, "message", None),
            v.published_start_timestamp is not None,
            v.published_end_timestamp is not None,
        )
        for v in clio.versions(session, cls, code)
    ]


def inserts_of(counted) -> list:
    """The INSERT statements among those counted."""
    return [s for s in counted.statements if s.lstrip().upper().startswith("INSERT")]


def history_kinds(session, cls, code):
    return [e.event_type for e in clio.history(clio.versions(session, cls, code))]


@pytest.fixture
def received():
    seen = []

    def handler(event):
        seen.append(event)

    registry = getGlobalSiteManager()
    registry.registerHandler(handler, (events.IClioEvent,))
    yield seen
    registry.unregisterHandler(handler, (events.IClioEvent,))


def test_empty_batches(session):
    assert clio.edit_all(session, []) == []
    assert clio.publish_all(session, iter([])) == []


def test_edit_all_matches_one_by_one(session):
    singles = make_plain(session, range(1, 4))
    batch = make_plain(session, range(11, 14))
    one_by_one = [p.edit() for p in singles]
    edited = clio.edit_all(session, batch)
    assert [e.code for e in edited] == [11, 12, 13]
    assert all(e.status == clio.EDITABLE for e in edited)
    assert all(p.status == clio.PUBLISHED_UNDER_EDIT for p in batch)
    for single, bulk in zip(singles, batch):
        assert [(s, a, b) for s, _, a, b in shape(session, Plain, bulk.code)] == [
            (s, a, b) for s, _, a, b in shape(session, Plain, single.code)
        ]
        assert history_kinds(session, Plain, bulk.code) == history_kinds(
            session, Plain, single.code
        )
    assert [e.name for e in edited] == ["p11", "p12", "p13"]
    assert [e.status for e in one_by_one] == [e.status for e in edited]


def test_publish_all_matches_one_by_one_through_rounds(session):
    singles = make_plain(session, range(1, 4), publish=False)
    batch = make_plain(session, range(11, 14), publish=False)
    for obj in singles:
        obj.publish()
    assert clio.publish_all(session, batch) == batch
    current = list(batch)
    for round_ in range(2):
        for n, obj in enumerate(singles):
            e = obj.edit()
            e.name = f"r{round_}"
            singles[n] = e.publish()
        edits = clio.edit_all(session, current)
        for e in edits:
            e.name = f"r{round_}"
        current = published = clio.publish_all(session, edits)
        assert published == edits
        assert all(p.status == clio.PUBLISHED for p in published)
    for single in singles:
        bulk_code = single.code + 10
        assert [(s, a, b) for s, _, a, b in shape(session, Plain, bulk_code)] == [
            (s, a, b) for s, _, a, b in shape(session, Plain, single.code)
        ]
        assert history_kinds(session, Plain, bulk_code) == history_kinds(
            session, Plain, single.code
        )
    # Archive numbers are per object, from 1000 up, as one by one.
    assert [v.status for v in clio.versions(session, Plain, 11)] == [1000, 1001, clio.PUBLISHED]
    # Validity intervals are contiguous.
    versions = clio.versions(session, Plain, 12)
    for older, newer in zip(versions, versions[1:]):
        assert older.published_end_timestamp == newer.published_start_timestamp


def test_results_follow_input_order_and_mixed_states(session):
    """Mixed statuses and delegation: a PUBLISHED_UNDER_EDIT publishes its
    editable, a NEW is published, a PUBLISHED is left alone."""
    fresh = Plain(3, "new")
    session.add(fresh)
    done, pending = make_plain(session, [1, 2])
    editable = pending.edit()
    session.flush()
    results = clio.publish_all(session, [pending, fresh, done])
    assert results == [editable, fresh, done]
    assert [r.status for r in results] == [clio.PUBLISHED] * 3
    assert pending.status == 1000


def test_the_same_object_twice_is_like_twice_one_by_one(session):
    (p,) = make_plain(session, [1])
    first, second = clio.edit_all(session, [p, p])
    assert first is second and first.status == clio.EDITABLE
    session.flush()
    assert sorted(v.status for v in clio.versions(session, Plain, 1)) == [
        clio.EDITABLE,
        clio.PUBLISHED_UNDER_EDIT,
    ]


def test_parents_with_children(session):
    a = A(1, "A")
    session.add(a)
    a.bs.append(B(10, "B"))
    a.bs.append(B(11, "B"))
    session.flush()
    (published,) = clio.publish_all(session, [a])
    assert published is a and a.status == clio.PUBLISHED
    assert sorted(b.status for b in a.bs) == [clio.PUBLISHED] * 2
    (e,) = clio.edit_all(session, [a])
    session.flush()
    assert sorted(b.status for b in e.bs) == [clio.EDITABLE] * 2
    (p,) = clio.publish_all(session, [e])
    session.flush()
    assert p is e and a.status == 1000
    assert sorted(b.status for b in e.bs) == [clio.PUBLISHED] * 2
    assert sorted(b.status for b in a.bs) == [1000, 1000]


def test_a_failing_member_changes_nothing(session):
    ok, archived_one = make_plain(session, [1, 2])
    e = archived_one.edit()
    e.publish()
    session.flush()
    assert archived_one.status == 1000
    with pytest.raises(clio.EditError):
        clio.edit_all(session, [ok, archived_one])
    session.flush()
    assert ok.status == clio.PUBLISHED
    assert [v.status for v in clio.versions(session, Plain, 1)] == [clio.PUBLISHED]


def test_unpublished_parent_refuses_like_publish(session):
    a = A(1, "A")
    session.add(a)
    b = B(10, "B")
    a.bs.append(b)
    other = make_plain(session, [5], publish=False)[0]
    with pytest.raises(clio.PublishError):
        clio.publish_all(session, [other, b])
    session.flush()
    assert (other.status, b.status) == (clio.NEW, clio.NEW)


def test_a_version_of_another_session_is_refused(session):
    stray = Plain(1, "x")
    with pytest.raises(clio.DetachedVersionError):
        clio.publish_all(session, [stray])


def test_events_are_those_of_one_by_one(session, received):
    objects = make_plain(session, [1, 2])
    received.clear()
    edits = clio.edit_all(session, objects)
    assert [type(e).__name__ for e in received] == ["VersionEdited"] * 2
    assert [(e.version, e.previous) for e in received] == list(zip(edits, objects))
    received.clear()
    clio.publish_all(session, edits)
    assert [type(e).__name__ for e in received] == [
        "VersionPublished",
        "VersionArchived",
    ] * 2
    assert received[0].version is edits[0] and received[0].previous is objects[0]
    received.clear()
    clio.publish_all(session, edits)  # already published: nothing happens
    assert received == []


@pytest.mark.parametrize("size", [3, 30])
def test_statements_per_batch_do_not_grow_with_its_size(session, count_statements, size):
    objects = make_plain(session, range(1, size + 1))
    session.commit()
    for obj in objects:
        obj.status  # load after commit, outside the count
    with count_statements() as counted:
        edits = clio.edit_all(session, objects)
        session.flush()
    inserts = inserts_of(counted)
    others = [s for s in counted.statements if s not in inserts]
    # the lock query and the UPDATE of the originals ...
    assert len(others) <= 2, others
    # ... and the INSERT ... RETURNING of the copies, one statement on every
    # database (the copies are matched back by code, so SQLite may batch).
    assert len(inserts) == 1, inserts
    for e in edits:
        e.name = "changed"
    session.flush()
    with count_statements() as counted:
        clio.publish_all(session, edits)
        session.flush()
    # lock, archive numbers, UPDATE archived, UPDATE published (executemany)
    assert len(counted) <= 5, counted.statements
    assert all(o.status == 1000 for o in objects)
    assert {v.name for v in clio.versions(session, Plain, size)} == {f"p{size}", "changed"}


def test_exported_from_clio():
    from clio import bulk

    assert clio.edit_all is bulk.edit_all and clio.publish_all is bulk.publish_all
    assert {"edit_all", "publish_all"} <= set(clio.__all__)


def make_trees(session, count, children=3):
    """Pages with paragraphs: an ordinary (not dynamic) collection, which
    a batch loads for all its parents at once."""
    parents = []
    for n in range(count):
        page = Page(code=100 + n, title=f"p{n}")
        for k in range(children):
            page.paragraphs.append(Paragraph(code=1000 + 10 * n + k, text=f"{n}.{k}"))
        parents.append(page)
    session.add_all(parents)
    session.flush()
    return parents


@pytest.mark.parametrize("count", [2, 8])
def test_statements_per_batch_of_trees_do_not_grow_with_its_size(
    session, count_statements, count
):
    """The children of the whole batch are loaded, locked and numbered a
    level at a time: one statement each per level, not per tree."""
    parents = make_trees(session, count)
    session.commit()
    for page in parents:
        page.status  # load after commit, outside the count
    with count_statements() as counted:
        clio.publish_all(session, parents)
        session.flush()
    # lock parents, load and lock their children (one query), load their
    # tags, UPDATE parents and children (NEW versions need no archive
    # numbers)
    assert len(counted) == 5, counted.statements
    session.commit()
    for page in parents:
        page.status  # load after commit, outside the count
    with count_statements() as counted:
        edits = clio.edit_all(session, parents)
        session.flush()
    # lock parents, load and lock their children, load their tags, INSERT
    # the copies a level of all trees at a time (one per table), UPDATE
    # the originals (two tables)
    inserts = len(inserts_of(counted))
    assert len(counted) - inserts == 5, counted.statements
    assert inserts == 2, counted.statements
    session.commit()
    for page in edits:
        page.status  # load after commit, outside the count
    with count_statements() as counted:
        clio.publish_all(session, edits)
        session.flush()
    # lock, load and lock children (of both versions), load tags, archive
    # numbers of both classes, UPDATE archived and published of both
    assert len(counted) == 9, counted.statements
    assert all(p.status == clio.PUBLISHED for e in edits for p in e.paragraphs)
    assert clio.check(session, [Page, Paragraph]) == []


def test_a_batch_refuses_a_tree_with_a_pending_schedule_below(session, clock):
    (page,) = make_trees(session, 1, children=1)
    page.publish()
    (paragraph,) = page.paragraphs
    draft = paragraph.edit()
    draft.publish(at=clock.peek() + timedelta(hours=1))
    session.flush()
    for bulk in (clio.edit_all, clio.publish_all):
        with pytest.raises(clio.ScheduleError, match="pending schedule"):
            bulk(session, [page])
    assert page.status == clio.PUBLISHED
