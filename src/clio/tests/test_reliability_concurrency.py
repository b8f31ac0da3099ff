"""Many writers on a few shared objects (MariaDB and PostgreSQL).

Eight threads, each with its own session, run random edits, changes,
publishes, deletions and reverts on four shared objects for a bounded time,
committing after each.  A lost race must surface as ``clio.ConflictError``
(or another ``ClioError`` when the object is no longer in a state that
allows the transition); anything else fails the test.  Afterwards
``clio.check`` finds nothing and every publish that committed left exactly
one version in the history, with the name its writer gave it.

The same runs once more through the Pyramid application, where
pyramid_retry retries the requests that lost a race.

These tests commit for real, so they use codes of their own and clean up.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter

import pytest
import sqlalchemy as sa
from pyramid.config import Configurator
from sqlalchemy.orm import Session, sessionmaker
from webtest import TestApp

import clio
from clio import status as st
from clio.tests.functional.support import PUBLISHER, HeaderSecurityPolicy
from clio.tests.models import Page, Plain

CODES = (9301, 9302, 9303, 9304)
THREADS = 8
SECONDS = 3.0
#: Figures for docs/reliability.rst.
FIGURES: dict[str, Counter] = {}


@pytest.fixture
def shared(engine):
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite serialises writers; nothing to race")
    table = Plain.__table__

    def clean():
        with engine.begin() as conn:
            conn.execute(table.delete().where(table.c.code.in_(CODES)))

    clean()
    with Session(engine) as session:
        for code in CODES:
            obj = Plain(code, f"start {code}")
            session.add(obj)
            obj.publish()
        session.commit()
    yield engine
    clean()


def live_version(session, code, statuses):
    return session.scalars(
        sa.select(Plain).where(Plain.code == code, Plain.status.in_(statuses))
    ).first()


def writer(engine, number, deadline, published, outcome, failures):
    rng = random.Random(number)
    counter = 0
    while time.monotonic() < deadline:
        code = rng.choice(CODES)
        operation = rng.choice(("edit", "change", "publish", "publish", "delete", "revert"))
        counter += 1
        name = f"w{number}-{counter}"
        with Session(engine) as session:
            try:
                pending = live_version(session, code, st.NEW_VERSION_STATUSES)
                current = live_version(session, code, st.PUBLISHED_STATUSES)
                if operation == "edit" and current is not None:
                    current.edit().name = name
                elif operation == "change" and pending is not None and not pending.is_deleted():
                    # Lock the row and look again: a plain change is no
                    # transition, and without the lock it can overwrite a
                    # version another writer has just published (engine
                    # bug, test_reliability_regressions.py).
                    session.refresh(pending, with_for_update=True)
                    if pending.status not in st.NEW_VERSION_STATUSES:
                        outcome["nothing to do"] += 1
                        continue
                    pending.name = name
                elif operation == "publish" and pending is not None:
                    if pending.is_deleted():
                        pending.revert()  # keep the objects alive
                        operation = "revert"
                    else:
                        pending.name = name  # every publication has its own name
                        done = pending.publish()
                        ident = done.id
                elif operation == "delete" and current is not None:
                    current.delete()
                elif operation == "revert" and pending is not None:
                    pending.revert()
                else:
                    outcome["nothing to do"] += 1
                    continue
                session.commit()
                outcome[operation] += 1
                if operation == "publish":
                    published.append((code, ident, name))
            except clio.ConflictError:
                session.rollback()
                outcome["conflicts"] += 1
            except clio.ClioError:
                session.rollback()
                outcome["refused"] += 1
            except Exception as error:  # noqa: BLE001 - reported below
                session.rollback()
                failures.append(repr(error))


def assert_history(engine, published):
    with Session(engine) as session:
        violations = clio.check(session, Plain)
        assert violations == [], "\n".join(map(str, violations))
        rows = session.scalars(sa.select(Plain).where(Plain.code.in_(CODES))).all()
        by_id = {row.id: row for row in rows}
        for code, ident, name in published:
            version = by_id.get(ident)
            assert version is not None, f"published version {ident} ({name}) was lost"
            assert version.code == code and version.name == name
            assert version.is_published() or version.is_archived()
            assert version.published_start_timestamp is not None
        history = [
            row.name for row in rows if row.is_published() or row.is_archived()
        ]
        duplicated = [name for name, n in Counter(history).items() if n > 1]
        assert duplicated == []
        assert {name for _, _, name in published} <= set(history)


def test_eight_writers_on_shared_objects(shared):
    engine = shared
    published: list = []
    outcome: Counter = Counter()
    failures: list = []
    deadline = time.monotonic() + SECONDS
    threads = [
        threading.Thread(target=writer, args=(engine, n, deadline, published, outcome, failures))
        for n in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    FIGURES[engine.dialect.name] = outcome
    print(f"\n{engine.dialect.name}: {dict(outcome)}")
    assert failures == []
    assert outcome["publish"] > 0
    assert_history(engine, published)


# --- the same through the Pyramid application ---------------------------------------


@pytest.fixture
def pages(engine):
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite serialises writers; nothing to race")
    table = Page.__table__

    def clean():
        with engine.begin() as conn:
            conn.execute(table.delete().where(table.c.code.in_(CODES)))

    clean()
    config = Configurator(settings={"retry.attempts": "5"})
    config.set_security_policy(HeaderSecurityPolicy())
    config.include("clio")
    config.set_clio_session_factory(sessionmaker(bind=engine))
    config.add_clio_model(Page, "pages")
    app = TestApp(config.make_wsgi_app())
    for code in CODES:
        app.post_json("/clio/pages", {"code": code, "title": "start"}, headers=PUBLISHER)
        app.post(f"/clio/pages/{code}/publish", headers=PUBLISHER)
    yield app
    clean()


def client(app, number, deadline, outcome, failures):
    rng = random.Random(100 + number)
    while time.monotonic() < deadline:
        code = rng.choice(CODES)
        transition = rng.choice(("edit", "publish", "publish", "delete", "revert", "patch"))
        if transition == "patch":
            response = app.patch_json(
                f"/clio/pages/{code}", {"title": f"t{number}"}, headers=PUBLISHER, expect_errors=True
            )
        else:
            if transition == "publish":
                pending = app.get(f"/clio/pages/{code}?view=editable", headers=PUBLISHER,
                                  expect_errors=True)
                if pending.status_int == 200 and pending.json["status_name"].startswith("deleted"):
                    transition = "revert"
            response = app.post(f"/clio/pages/{code}/{transition}", headers=PUBLISHER,
                                expect_errors=True)
        outcome[(transition, response.status_int)] += 1
        if response.status_int >= 500 or response.content_type != "application/json" and response.status_int != 204:
            failures.append((transition, response.status, response.text[:200]))


def test_eight_clients_through_pyramid_retry(pages, engine):
    outcome: Counter = Counter()
    failures: list = []
    deadline = time.monotonic() + SECONDS
    threads = [
        threading.Thread(target=client, args=(pages, n, deadline, outcome, failures))
        for n in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    FIGURES[f"{engine.dialect.name} (HTTP)"] = outcome
    print(f"\n{engine.dialect.name} HTTP: {dict(outcome)}")
    assert failures == []
    assert outcome[("publish", 200)] > 0
    with Session(engine) as session:
        violations = clio.check(session, Page)
        assert violations == [], "\n".join(map(str, violations))
