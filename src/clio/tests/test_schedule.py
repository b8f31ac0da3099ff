"""Scheduled go-live and expiry without a scheduler process (SPEC §3.4)."""

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

import clio
from clio.tests.models import Page, Paragraph

HOUR = timedelta(hours=1)


def make_page(session, code=1, paragraphs=2, title="old"):
    page = Page(code=code, title=title)
    for n in range(paragraphs):
        page.paragraphs.append(Paragraph(code=code * 10 + n, text=f"old {n}"))
    session.add(page)
    session.flush()
    return page


def seen(session, moment=None, code=1):
    """(title, paragraph texts) of the page as readers see it."""
    option = clio.view(as_of=moment) if moment is not None else clio.view("published")
    session.flush()  # transitions do not flush
    # A reader of its own: objects already in ``session`` would keep the
    # loader options (no view) of their first load for their collections.
    with Session(bind=session.connection()) as reader:
        stmt = sa.select(Page).where(Page.code == code).options(option)
        page = reader.scalars(stmt).one_or_none()
        if page is None:
            return None
        return page.title, [p.text for p in page.paragraphs]


def travel_to(clock, moment):
    """Make the next clock reading exactly ``moment``."""
    clock.current = moment - clock.step


def snapshot(session):
    session.flush()
    rows = session.execute(
        sa.select(
            Page.id, Page.code, Page.status, Page.title, Page.published_start_timestamp,
            Page.published_end_timestamp, Page.published_userid,
        ).order_by(Page.id)
    ).all()
    kids = session.execute(
        sa.select(
            Paragraph.id, Paragraph.code, Paragraph.status, Paragraph.text, Paragraph.page_id,
            Paragraph.published_start_timestamp, Paragraph.published_end_timestamp,
            Paragraph.published_userid,
        ).order_by(Paragraph.id)
    ).all()
    return rows, kids


def test_scheduled_first_publication(session, clock):
    page = make_page(session)
    t = clock.peek() + HOUR
    assert page.publish(at=t) is page
    assert page.status == clio.PUBLISHED  # the decision is recorded at once
    assert page.published_start_timestamp == t
    assert all(p.published_start_timestamp == t for p in page.paragraphs)
    assert seen(session, t - timedelta(microseconds=1)) is None
    assert seen(session, t) == ("old", ["old 0", "old 1"])  # half-open: live at t
    assert seen(session) is None  # now is before t
    travel_to(clock, t)
    assert seen(session) == ("old", ["old 0", "old 1"])


def test_scheduled_edit_switches_at_t_for_object_and_children(session, clock):
    page = make_page(session)
    page.publish()
    draft = page.edit()
    draft.title = "new"
    draft.paragraphs[0].text = "new 0"
    t = clock.peek() + HOUR
    draft.publish(at=t)
    session.flush()
    assert page.published_end_timestamp == t == draft.published_start_timestamp
    before = seen(session, t - timedelta(seconds=1))
    assert before == ("old", ["old 0", "old 1"])
    assert seen(session) == ("old", ["old 0", "old 1"])
    assert seen(session, t) == ("new", ["new 0", "old 1"])
    # The test clock ticks a second per reading, and 'published' reads it
    # for the page and again for the lazy load of its paragraphs.
    travel_to(clock, t - timedelta(seconds=2))
    assert seen(session) == ("old", ["old 0", "old 1"])
    travel_to(clock, t)
    assert seen(session) == ("new", ["new 0", "old 1"])
    # history does not change retroactively: an as-of read is stable
    assert seen(session, t - timedelta(seconds=1)) == before


@pytest.mark.parametrize(
    "at",
    [
        datetime(2030, 1, 1),  # naive
        "2030-01-01T00:00:00Z",  # not a datetime
        "past",
    ],
)
def test_bad_schedule_moments(session, clock, at):
    page = make_page(session, paragraphs=0)
    if at == "past":
        at = clock.peek() - HOUR
    before = snapshot(session)
    with pytest.raises(clio.ScheduleError):
        page.publish(at=at)
    with pytest.raises(clio.ScheduleError):
        page.expire(at=at)
    assert snapshot(session) == before


def test_publish_with_at_none_is_immediate(session, clock):
    page = make_page(session, paragraphs=0)
    page.publish(at=None)
    assert page.published_start_timestamp == clock.peek()


@pytest.mark.parametrize("transition", ["edit", "update", "delete", "publish", "expire"])
def test_pending_schedule_blocks_other_transitions(session, clock, transition):
    page = make_page(session)
    page.publish()
    draft = page.edit()
    draft.title = "new"
    t = clock.peek() + HOUR
    draft.publish(at=t)
    before = snapshot(session)
    for version in (draft, page):
        with pytest.raises(clio.ScheduleError):
            getattr(version, transition)()
    with pytest.raises(clio.ScheduleError):  # a second schedule is refused
        draft.publish(at=t + HOUR) if transition == "publish" else draft.expire(at=t + HOUR)
    assert snapshot(session) == before


def test_schedule_error_takes_precedence(session, clock):
    """Even where the transition would otherwise be an error or a no-op."""
    page = make_page(session, paragraphs=0)
    page.publish(at=clock.peek() + HOUR)
    with pytest.raises(clio.ScheduleError):
        page.publish()  # would be a no-op on PUBLISHED
    with pytest.raises(clio.ScheduleError):
        page.expire()


@pytest.mark.parametrize("how", ["revert", "discard"])
@pytest.mark.parametrize("on", ["scheduled", "predecessor"])
def test_cancel_a_scheduled_edit_restores_the_exact_state(session, clock, how, on):
    page = make_page(session)
    page.publish()
    draft = page.edit()
    draft.title = "new"
    draft.paragraphs[0].text = "new 0"
    session.flush()
    before = snapshot(session)
    draft.publish(at=clock.peek() + HOUR)
    target = draft if on == "scheduled" else page
    assert getattr(target, how)() is page
    assert snapshot(session) == before
    assert (page.status, draft.status) == (clio.PUBLISHED_UNDER_EDIT, clio.EDITABLE)
    # the workflow goes on as if nothing had been scheduled
    draft.publish()
    assert seen(session) == ("new", ["new 0", "old 1"])


def test_cancel_a_scheduled_first_publication(session, clock):
    page = make_page(session)
    before = snapshot(session)
    page.publish(at=clock.peek() + HOUR)
    assert page.discard() is page
    assert snapshot(session) == before
    assert page.status == clio.NEW


def test_cancel_a_scheduled_update_moves_children_back(session, clock):
    page = make_page(session)
    page.publish()
    upd = page.update()
    upd.title = "updated"
    session.flush()
    before = snapshot(session)
    upd.publish(at=clock.peek() + HOUR)
    session.flush()
    assert [p.page_id for p in upd.paragraphs] == [upd.id, upd.id]
    assert upd.revert() is page
    assert snapshot(session) == before
    assert (page.status, upd.status) == (clio.PUBLISHED_UNDER_UPDATE, clio.UPDATABLE)


def test_cancel_a_scheduled_update_without_children_gives_an_edit(session, clock):
    """Documented limit: with no children to tell them apart, an update
    published by a schedule is given back as an edit (same content)."""
    page = make_page(session, paragraphs=0)
    page.publish()
    upd = page.update()
    upd.title = "updated"
    upd.publish(at=clock.peek() + HOUR)
    assert page.status == clio.ARCHIVED  # max + 1, as done now
    assert upd.revert() is page
    assert (page.status, upd.status) == (clio.PUBLISHED_UNDER_EDIT, clio.EDITABLE)
    assert upd.title == "updated" and upd.published_start_timestamp is None


def test_cancel_restores_children_deleted_in_the_edit(session, clock):
    page = make_page(session)
    page.publish()
    draft = page.edit()
    draft.paragraphs[1].delete()
    before = snapshot(session)
    t = clock.peek() + HOUR
    draft.publish(at=t)
    session.flush()
    assert seen(session, t) == ("old", ["old 0"])
    deleted = draft.paragraphs[1]
    assert deleted.status == clio.TOMBSTONE_EDITABLE
    assert deleted.published_start_timestamp == deleted.published_end_timestamp == t
    draft.revert()
    assert snapshot(session) == before  # the same rows, statuses and all
    assert deleted.status == clio.DELETED_EDITABLE
    draft.publish()
    session.flush()
    assert seen(session) == ("old", ["old 0"])


def test_scheduled_expiry(session, clock):
    page = make_page(session)
    page.publish()
    t = clock.peek() + HOUR
    assert page.expire(at=t) is page
    assert page.is_archived() and page.published_end_timestamp == t
    assert seen(session) == ("old", ["old 0", "old 1"])
    assert seen(session, t - timedelta(seconds=1)) == ("old", ["old 0", "old 1"])
    assert seen(session, t) is None
    travel_to(clock, t)
    assert seen(session) is None


def test_cancel_a_scheduled_expiry(session, clock):
    page = make_page(session)
    page.publish()
    before = snapshot(session)
    page.expire(at=clock.peek() + HOUR)
    assert page.revert() is page
    assert snapshot(session) == before


def test_expire_now(session, clock):
    page = make_page(session)
    page.publish()
    page.expire()
    assert page.is_archived()
    assert all(p.is_archived() for p in page.paragraphs)
    assert seen(session) is None


def test_expire_needs_a_published_object(session):
    page = make_page(session, paragraphs=0)
    with pytest.raises(clio.ExpireError):
        page.expire()
    page.publish()
    page.edit()
    with pytest.raises(clio.ExpireError):
        page.expire()


def test_after_t_the_object_is_free_again(session, clock):
    page = make_page(session, paragraphs=1)
    page.publish()
    draft = page.edit()
    draft.title = "new"
    t = clock.peek() + HOUR
    draft.publish(at=t)
    travel_to(clock, t + timedelta(seconds=1))
    again = draft.edit()
    again.title = "newer"
    again.publish()
    session.flush()
    assert seen(session) == ("newer", ["old 0"])
    versions = clio.versions(session, Page, 1)
    chain = sorted((v for v in versions if v.published_start_timestamp), key=lambda v: v.published_start_timestamp)
    for older, newer in zip(chain, chain[1:]):
        assert older.published_end_timestamp == newer.published_start_timestamp


def request_deletion(session, kind):
    """A published page (two paragraphs, the second with a pending edit of
    its own) and a pending deletion of the given kind; returns (page, deletion)."""
    page = make_page(session)
    page.publish()
    child = page.paragraphs[1].edit()
    child.text = "child draft"
    if kind == "deleted":
        deletion = page.delete()
    elif kind == "deleted_editable":
        draft = page.edit()
        draft.title = "draft"
        draft.paragraphs[0].text = "draft 0"
        deletion = draft.delete()
    else:
        draft = page.update()
        draft.title = "draft"
        deletion = draft.delete()
    session.flush()
    assert clio.status_name(deletion.status) == kind
    return page, deletion


@pytest.mark.parametrize("kind", ["deleted", "deleted_editable", "deleted_updatable"])
@pytest.mark.parametrize("how", ["revert", "discard"])
@pytest.mark.parametrize("on", ["page", "deletion"])
def test_cancelling_a_scheduled_deletion_restores_it_exactly(
    session, clock, userids, kind, how, on
):
    page, deletion = request_deletion(session, kind)
    before = snapshot(session)
    t = clock.peek() + HOUR
    assert deletion.publish(at=t) is page
    session.flush()
    assert page.is_archived() and page.published_end_timestamp == t
    # The deletion row is kept as a tombstone, never live: [t, t).
    assert deletion.is_tombstone()
    assert clio.status_name(deletion.status) == "tombstone" + kind[len("deleted"):]
    assert deletion.published_start_timestamp == deletion.published_end_timestamp == t
    assert seen(session) == ("old", ["old 0", "old 1"])
    assert seen(session, t - timedelta(microseconds=1)) == ("old", ["old 0", "old 1"])
    assert seen(session, t) is None
    assert page.published_userid == userids[-1]  # the deleter, as when done now
    assert clio.check(session, [Page, Paragraph]) == []
    result = getattr(page if on == "page" else deletion, how)()
    assert result is page
    assert snapshot(session) == before  # the very rows, statuses, publishers
    assert clio.check(session, [Page, Paragraph]) == []
    # The deletion is pending again and can still be published or withdrawn.
    assert clio.status_name(deletion.status) == kind
    assert deletion.publish() is page
    session.flush()
    assert seen(session) is None


def test_a_scheduled_deletion_reads_like_an_immediate_one_after_t(session, clock):
    page, deletion = request_deletion(session, "deleted")
    t = clock.peek() + HOUR
    deletion.publish(at=t)
    session.flush()
    travel_to(clock, t + HOUR)
    assert seen(session) is None
    assert clio.check(session, [Page, Paragraph]) == []
    # No reader and no editor sees the tombstones.
    for name in ("published", "editable", "actual", "archived"):
        found = session.scalars(sa.select(Paragraph).options(clio.view(name))).all()
        assert not any(v.is_tombstone() for v in found), name
    # History tells what an immediate deletion tells: archived, then deleted.
    kinds = [event.event_type for event in clio.history(page)]
    assert kinds[-1] == clio.HISTORY_DELETE
    assert "edit_delete" not in kinds
    # Nothing changes a tombstone; revert and discard have nothing to undo.
    for transition, error in [
        ("publish", clio.PublishError),
        ("edit", clio.EditError),
        ("update", clio.UpdateError),
        ("delete", clio.DeleteError),
        ("expire", clio.ExpireError),
    ]:
        with pytest.raises(error, match="tombstone"):
            getattr(deletion, transition)()
    assert deletion.revert() is deletion
    assert deletion.discard() is deletion
    with pytest.raises(clio.ImmutableVersionError):
        deletion.title = "changed"
    assert clio.check(session, [Page, Paragraph]) == []


def test_a_scheduled_deletion_refuses_what_it_could_not_give_back(session, clock):
    """A paragraph published under the page after its deletion was asked
    for would have to be deleted too, which a cancellation could not undo
    exactly: the schedule is refused, an immediate deletion is not."""
    page, deletion = request_deletion(session, "deleted")
    late = Paragraph(code=99, text="late")
    page.paragraphs.append(late)
    session.flush()
    late.publish()
    before = snapshot(session)
    with pytest.raises(clio.ScheduleError, match="joined the tree"):
        deletion.publish(at=clock.peek() + HOUR)
    assert snapshot(session) == before
    late.delete()
    deletion.publish(at=clock.peek() + HOUR)
    assert clio.check(session, [Page, Paragraph]) == []


def test_a_scheduled_expiry_refuses_pending_work_below(session, clock):
    page = make_page(session)
    page.publish()
    draft = page.paragraphs[0].edit()
    before = snapshot(session)
    with pytest.raises(clio.ScheduleError, match="discard"):
        page.expire(at=clock.peek() + HOUR)
    assert snapshot(session) == before
    draft.publish()
    page.expire(at=clock.peek() + HOUR)
    assert clio.check(session, [Page, Paragraph]) == []

def test_cancel_after_a_child_edit_was_discarded(session, clock):
    """The published child the edit lost follows it as it is (adopted, no
    copy) and goes back when the schedule is cancelled."""
    page = make_page(session, paragraphs=2)
    page.publish()
    draft = page.edit()
    draft.paragraphs[0].discard()  # the child's copy goes; the child is published again
    session.flush()
    child = next(p for p in page.paragraphs if p.code == 10)
    before = snapshot(session)
    t = clock.peek() + HOUR
    draft.publish(at=t)
    session.flush()
    assert child.status == clio.PUBLISHED and child.page is draft  # adopted, not copied
    assert seen(session, t - timedelta(seconds=1)) == ("old", ["old 0", "old 1"])
    assert seen(session, t) == ("old", ["old 0", "old 1"])
    draft.revert()
    assert snapshot(session) == before
    draft.publish()
    session.flush()
    assert seen(session) == ("old", ["old 0", "old 1"])
    assert clio.check(session, [Page, Paragraph]) == []


def test_scheduling_an_edit_refuses_pending_children_of_the_published_version(session, clock):
    """A child attached to the published page while its edit is pending
    would be adopted by the edit, beyond what a cancellation can tell."""
    page = make_page(session, paragraphs=1)
    page.publish()
    draft = page.edit()
    late = Paragraph(code=99, text="late")
    page.paragraphs.append(late)
    session.flush()
    before = snapshot(session)
    with pytest.raises(clio.ScheduleError, match="attach it to the edit"):
        draft.publish(at=clock.peek() + HOUR)
    assert snapshot(session) == before
    draft.publish()  # now is fine: the edit adopts it
    session.flush()
    assert late.page is draft and late.status == clio.PUBLISHED


@pytest.mark.parametrize("schedule", ["publish", "expire", "delete"])
def test_a_childs_part_of_a_schedule_is_cancelled_through_its_parent(session, clock, schedule):
    page = make_page(session)
    page.publish()
    if schedule == "publish":
        target = page.edit()
    elif schedule == "delete":
        target = page.delete()
    else:
        target = page
    session.flush()
    t = clock.peek() + HOUR
    getattr(target, "expire" if schedule == "expire" else "publish")(at=t)
    session.flush()
    before = snapshot(session)
    parts = [
        v
        for v in session.scalars(sa.select(Paragraph))
        if t in (v.published_start_timestamp, v.published_end_timestamp)
    ]
    assert parts
    for part in parts:
        for how in ("revert", "discard"):
            with pytest.raises(clio.ScheduleError, match="part of Page"):
                getattr(part, how)()
    assert snapshot(session) == before
    target.revert()
    assert clio.check(session, [Page, Paragraph]) == []


def test_scheduling_an_edit_that_lost_all_its_children_is_refused(session, clock):
    """Every child would move over unchanged, as in an update: a
    cancellation could not tell the two apart, so the schedule is refused."""
    page = make_page(session, paragraphs=2)
    page.publish()
    draft = page.edit()
    for paragraph in list(draft.paragraphs):
        paragraph.discard()
    session.flush()
    before = snapshot(session)
    with pytest.raises(clio.ScheduleError, match="tell it from an update"):
        draft.publish(at=clock.peek() + HOUR)
    assert snapshot(session) == before
    draft.publish()
    session.flush()
    assert seen(session) == ("old", ["old 0", "old 1"])
