"""The demo site's first content, written on first start.

The history is written as if it had happened over the past five weeks
(the models' clock, :data:`clio.demo.models.demo_clock`, is set step by
step), so that the history timeline, the diffs and the time-travel view
have something to show from the first click:

* *Welcome* published five weeks ago and rewritten two weeks ago;
* *Opening hours* published, with a pending edit nobody published yet;
* *Exhibitions*, with two sections, one added in a later edit;
* *Winter closure notice*, published, with a pending deletion;
* *Summer festival*, scheduled to go live in a week;
* *Visit us*, a new page that was never published.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from clio.demo.models import Page, Section, demo_clock
from clio.timestamps import utcnow


@contextmanager
def acting(session: Session, userid: str, moment: datetime):
    """Run what follows as ``userid`` at ``moment`` (flushed at the end,
    so the rows carry that user and time)."""
    token = demo_clock.set(moment)
    session.info["clio.userid"] = userid
    try:
        yield
        session.flush()
    finally:
        demo_clock.reset(token)
        session.info.pop("clio.userid", None)


def is_empty(session: Session) -> bool:
    return session.scalar(sa.select(sa.func.count(Page.id))) == 0


def seed(session: Session, now: datetime | None = None) -> None:
    """Write the demo content into ``session`` (the caller commits)."""
    now = now or utcnow()

    def ago(days: float) -> datetime:
        return now - timedelta(days=days)

    with acting(session, "ed", ago(35)):
        welcome = Page(
            code=1,
            title="Welcome to the Harbour Museum",
            body="Three centuries of ships, maps and the people who sailed them.",
        )
        hours = Page(code=2, title="Opening hours", body="Tuesday to Sunday, 10:00 to 17:00.")
        session.add_all([welcome, hours])
    with acting(session, "pat", ago(34)):
        welcome.publish()
        hours.publish()

    with acting(session, "ed", ago(28)):
        exhibitions = Page(
            code=3,
            title="Exhibitions",
            body="What is on show in our galleries this season.",
        )
        exhibitions.sections = [
            Section(
                code=1,
                title="Maritime maps",
                body="Charts of the North Sea from 1650 to 1900, some drawn by hand on board.",
            ),
        ]
        closure = Page(
            code=4,
            title="Winter closure notice",
            body="The museum is closed from 20 December to 6 January.",
        )
        session.add_all([exhibitions, closure])
    with acting(session, "pat", ago(27)):
        exhibitions.publish()
        closure.publish()

    with acting(session, "ed", ago(15)):
        draft = welcome.edit()
        draft.title = "Welcome to the Harbour Museum of Port Ellis"
        draft.body = (
            "Three centuries of ships, maps and the people who sailed them. "
            "Free entry for children under twelve."
        )
        draft.mark_changed()
    with acting(session, "pat", ago(14)):
        draft.publish()

    with acting(session, "ed", ago(7)):
        draft = exhibitions.edit()
        draft.sections.append(
            Section(
                code=2,
                title="Lighthouse lenses",
                body="Fresnel lenses from six lighthouses of the coast, lit as they were.",
            )
        )
    with acting(session, "pat", ago(6)):
        draft.publish()

    with acting(session, "ed", ago(2)):
        draft = hours.edit()
        draft.body = "Tuesday to Sunday, 10:00 to 18:00; Thursdays until 21:00."
        draft.mark_changed()
        closure.delete()

    with acting(session, "ed", ago(1)):
        festival = Page(
            code=5,
            title="Summer festival",
            body="Tall ships in the harbour, concerts on the quay, a week of open decks.",
        )
        visit = Page(code=6, title="Visit us", body="How to find us, by train, bus or boat.")
        session.add_all([festival, visit])
    with acting(session, "pat", ago(1)):
        festival.publish(at=now + timedelta(days=7))
