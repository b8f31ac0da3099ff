"""Scheduled go-live and expiry without a scheduler process (SPEC §3.4)."""

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

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
    session.flush()  # transitions do not flush; expire_all would drop their work
    session.expire_all()
    page = session.scalars(sa.select(Page).where(Page.code == code).options(option)).one_or_none()
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
            Page.code, Page.status, Page.title, Page.published_start_timestamp,
            Page.published_end_timestamp,
        ).order_by(Page.id)
    ).all()
    kids = session.execute(
        sa.select(
            Paragraph.code, Paragraph.status, Paragraph.text, Paragraph.page_id,
            Paragraph.published_start_timestamp, Paragraph.published_end_timestamp,
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
    travel_to(clock, t - timedelta(seconds=1))
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


def test_cancel_restores_children_deleted_in_the_edit(session, clock):
    page = make_page(session)
    page.publish()
    draft = page.edit()
    draft.paragraphs[1].delete()
    session.flush()
    draft.publish(at=clock.peek() + HOUR)
    session.flush()
    draft.revert()
    session.flush()
    statuses = sorted(p.status for p in session.scalars(sa.select(Paragraph)))
    assert statuses == sorted(
        [clio.PUBLISHED_UNDER_EDIT, clio.EDITABLE, clio.PUBLISHED_UNDER_DELETE, clio.DELETED]
    )
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


def test_scheduled_deletion_and_its_cancellation(session, clock):
    """Cancelling a scheduled deletion restores the published object and
    withdraws the deletion request too (documented)."""
    page = make_page(session)
    page.publish()
    deletion = page.delete()
    t = clock.peek() + HOUR
    assert deletion.publish(at=t) is page
    assert seen(session) == ("old", ["old 0", "old 1"])
    assert seen(session, t) is None
    assert page.revert() is page
    session.flush()
    assert page.status == clio.PUBLISHED
    assert all(p.status == clio.PUBLISHED for p in page.paragraphs)
