"""How a transition writes: clio's columns set-wise (``Run.write`` and
``Run.send``) and new versions inserted a class and tree level at a time
(``clio.copies.make_copies``)."""

import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

import clio
from clio import copies, workflow
from clio.tests.models import Cell, Note, Page, Paragraph, Plain, Sheet, Tag
from clio.run import Run


def statuses_in_database(session, cls, code):
    table = sa.inspect(cls).local_table
    rows = session.connection().execute(
        sa.select(table.c.status).where(table.c.code == code).order_by(table.c.status)
    )
    return [status for (status,) in rows]


def make_page(session, code=1, paragraphs=3, tags=0):
    page = Page(code=code, title="page")
    for n in range(paragraphs):
        page.paragraphs.append(Paragraph(code=code * 100 + n, text=f"p{n}"))
    for n in range(tags):
        page.tags.append(Tag(code=code * 100 + 50 + n, name=f"t{n}"))
    session.add(page)
    session.flush()
    for tag in page.tags:
        tag.publish()  # only published partners are linked to copies
    return page



def published_page(session, paragraphs):
    """A committed, published page, loaded again before any count starts."""
    page = make_page(session, paragraphs=paragraphs)
    page.publish()
    session.commit()
    page.status  # loaded outside the count
    return page

def test_a_transition_is_in_the_database_when_it_returns(session):
    """No flush needed, and the versions are not left dirty: the run sent
    its own UPDATE."""
    obj = Plain(1, "one")
    session.add(obj)
    obj.publish()
    draft = obj.edit()
    assert statuses_in_database(session, Plain, 1) == [clio.EDITABLE, clio.PUBLISHED_UNDER_EDIT]
    assert obj not in session.dirty and not session.is_modified(obj)
    assert sa.inspect(draft).persistent  # inserted by the run as well
    draft.publish()
    assert statuses_in_database(session, Plain, 1) == [clio.PUBLISHED, 1000]
    assert obj.status == 1000 and obj.published_end_timestamp is not None


def test_a_tree_costs_one_insert_and_one_update_per_class(session, count_statements):
    page = published_page(session, paragraphs=5)
    with count_statements() as counted:
        draft = page.edit()
        session.flush()
    verbs = [s.lstrip().split(None, 1)[0].upper() for s in counted.statements]
    # INSERT the page's copy, then its five paragraphs' in one statement;
    # UPDATE the published page and, in one statement, its paragraphs
    assert verbs.count("INSERT") == 2, counted.statements
    assert verbs.count("UPDATE") == 2, counted.statements
    assert sorted(p.status for p in draft.paragraphs) == [clio.EDITABLE] * 5
    assert sorted(p.status for p in page.paragraphs) == [clio.PUBLISHED_UNDER_EDIT] * 5


def test_copies_hang_from_the_copies_of_their_parents(session):
    page = make_page(session, paragraphs=3, tags=2)
    page.publish()
    session.commit()
    draft = page.edit()
    session.expire_all()
    assert sorted(p.text for p in draft.paragraphs) == ["p0", "p1", "p2"]
    assert all(p.page is draft for p in draft.paragraphs)
    assert [t.name for t in draft.tags] == ["t0", "t1"]  # published partners
    assert sorted(p.text for p in page.paragraphs) == ["p0", "p1", "p2"]
    assert {p.id for p in draft.paragraphs}.isdisjoint({p.id for p in page.paragraphs})


def test_a_copy_shows_in_the_loaded_collection_of_its_parent(session):
    """Editing one paragraph: its copy hangs from the published page, and
    the page's loaded list shows it at once, with nothing left to flush."""
    page = make_page(session, paragraphs=2)
    page.publish()
    session.commit()
    loaded = list(page.paragraphs)
    draft = loaded[0].edit()
    assert draft in page.paragraphs and draft.page is page
    assert not session.is_modified(page)
    session.flush()
    session.expire_all()
    assert draft in page.paragraphs


def test_copies_without_insert_returning(session, monkeypatch):
    """Where INSERT ... RETURNING is missing (MySQL), the copies go through
    the unit of work, to the same result."""
    monkeypatch.setattr(copies, "returns_rows", lambda dialect: False)
    page = make_page(session, paragraphs=2, tags=1)
    page.publish()
    draft = page.edit()
    assert sa.inspect(draft).persistent
    assert sorted(p.status for p in draft.paragraphs) == [clio.EDITABLE] * 2
    draft.title = "changed"
    draft.publish()
    session.expire_all()
    assert page.status == 1000 and draft.status == clio.PUBLISHED
    assert [t.name for t in draft.tags] == ["t0"]


CELL_COLUMNS = ("amount", "ratio", "flag", "day", "hour", "stamp", "blob", "uid", "big", "label")


def test_copies_keep_the_values_of_every_column_type(session, count_statements):
    """A tree's copies carry every column's value over, whatever its type.
    On PostgreSQL the copies of a class whose types all travel in arrays
    are inserted with one array per column (``unnest``), the others with
    one parameter per value; both give the same copies."""
    sheet = Sheet(code=1, title="sheet")
    for n in range(3):
        sheet.cells.append(
            Cell(
                code=10 + n,
                amount=Decimal(f"{n}12.50"),
                ratio=0.25 * n,
                flag=bool(n % 2),
                day=date(2026, 12, n + 1),
                hour=time(n, 4, 5),
                stamp=datetime(2026, 12, 5, n, 4, 5),
                blob=bytes([0, 255, n]),
                uid=uuid.UUID(int=n + 1),
                big=2**40 + n,
                label=f"é{n}",
            )
        )
    sheet.cells.append(Cell(code=13))  # every column NULL
    sheet.notes = [
        Note(code=20 + n, data={"n": [n, "x"]}, kind="todo", span=timedelta(days=n, seconds=7))
        for n in range(2)
    ]
    session.add(sheet)
    sheet.publish()
    session.commit()
    with count_statements() as counted:
        draft = sheet.edit()
    session.expire_all()

    def contents(version, kids, columns):
        return {kid.code: tuple(getattr(kid, c) for c in columns) for kid in getattr(version, kids)}

    assert contents(draft, "cells", CELL_COLUMNS) == contents(sheet, "cells", CELL_COLUMNS)
    assert contents(draft, "cells", CELL_COLUMNS)[11][0] == Decimal("112.50")
    assert contents(draft, "cells", CELL_COLUMNS)[13] == (None,) * len(CELL_COLUMNS)
    note_columns = ("data", "kind", "span")
    assert contents(draft, "notes", note_columns) == contents(sheet, "notes", note_columns)
    assert contents(draft, "notes", note_columns)[21] == ({"n": [1, "x"]}, "todo", timedelta(1, 7))
    assert {kid.status for kid in draft.cells + draft.notes} == {clio.EDITABLE}
    inserts = {
        table: [s for s in counted.statements if s.startswith(f"INSERT INTO {table} ")]
        for table in ("clio_cell", "clio_note")
    }
    assert len(inserts["clio_cell"]) == len(inserts["clio_note"]) == 1, counted.statements
    arrays = session.get_bind().dialect.name == "postgresql"
    assert ("unnest(" in inserts["clio_cell"][0]) is arrays
    assert "unnest(" not in inserts["clio_note"][0]


def test_a_failed_step_leaves_memory_as_the_database_holds_it(session, monkeypatch):
    """A transition that raises after writing some values (here a fault in
    the middle of publishing a tree) sends none of them, and the versions
    in memory show what the database holds."""
    page = make_page(session, paragraphs=2)

    def broken(run, version):
        raise RuntimeError("fault")

    monkeypatch.setattr(workflow, "publish_children", broken)
    with pytest.raises(RuntimeError):
        page.publish()
    assert page.status == clio.NEW and page.published_start_timestamp is None
    assert statuses_in_database(session, Page, page.code) == [clio.NEW]
    monkeypatch.undo()
    page.publish()
    assert statuses_in_database(session, Page, page.code) == [clio.PUBLISHED]


def test_a_row_removed_before_sending_is_a_conflict(session):
    obj = Plain(1, "one")
    session.add(obj)
    session.flush()
    run = Run(obj)
    run.write(obj, status=clio.PUBLISHED)
    table = sa.inspect(Plain).local_table
    session.connection().execute(sa.delete(table).where(table.c.id == obj.id))
    with pytest.raises(clio.ConflictError, match="removed by another transaction"):
        run.send()


def test_values_are_grouped_by_what_is_written(session, count_statements):
    """Versions written alike share one UPDATE; a version written twice
    sends its last values once."""
    objects = [Plain(code, f"p{code}") for code in (1, 2, 3)]
    session.add_all(objects)
    session.flush()
    run = Run(objects[0])
    with count_statements() as counted:
        for obj in objects:
            run.write(obj, status=clio.PUBLISHED)
        run.write(objects[2], status=clio.NEW)
        run.write(objects[2], status=clio.DELETED)
        run.send()
    assert len(counted) == 2, counted.statements
    assert statuses_in_database(session, Plain, 1) == [clio.PUBLISHED]
    assert statuses_in_database(session, Plain, 3) == [clio.DELETED]
    with count_statements() as counted:
        run.send()  # nothing left
    assert len(counted) == 0


def tree_shape(session, page_code):
    """(code, status, code of the parent) of every version of a page and
    its paragraphs, without ids."""
    session.flush()
    session.expire_all()
    rows = []
    for page in clio.versions(session, Page, page_code):
        rows.append((-1, page.status, None))
        for paragraph in page.paragraphs:
            rows.append((paragraph.code % 100, paragraph.status, page.status))
    return sorted(rows, key=repr)


@pytest.mark.parametrize("deleted", [False, True])
def test_edit_all_over_overlapping_trees_is_one_by_one(session, deleted):
    """A batch holding a page and, before it, one of its paragraphs (or
    that paragraph's pending deletion): the order decides what is copied,
    so the batch gives exactly what editing them one by one gives."""
    outcomes = []
    for code, batch in ((1, True), (2, False)):
        page = make_page(session, code=code, paragraphs=2)
        page.publish()
        first = sorted(page.paragraphs, key=lambda p: p.code)[0]
        member = first.delete() if deleted else first
        if batch:
            clio.edit_all(session, [member, page])
        else:
            member.edit()
            page.edit()
        outcomes.append(tree_shape(session, code))
    assert outcomes[0] == outcomes[1]


def test_statements_of_a_tree_edit_and_publish(session, count_statements):
    """The statements of a page with five paragraphs, one tree level:
    what the hand-written baseline does, plus the page's tags (a second
    relation, loaded to link the copy)."""
    page = published_page(session, paragraphs=5)
    with count_statements() as counted:
        draft = page.edit()
    # lock the page; load and lock its paragraphs (one query); load its
    # tags; INSERT the page's copy, then the paragraphs'; UPDATE the page,
    # then the paragraphs
    assert len(counted) == 7, counted.statements
    session.commit()
    draft.status
    with count_statements() as counted:
        draft.publish()
    # lock the page; load and lock the paragraphs of both versions; load
    # the tags; archive numbers of the paragraphs, then of the page;
    # UPDATE archived and published, page and paragraphs
    assert len(counted) == 9, counted.statements
    assert page.status == 1000 and draft.status == clio.PUBLISHED


def test_a_zope_transaction_commits_what_a_transition_wrote(engine):
    """Under zope.sqlalchemy (as in a Pyramid request) a transaction whose
    only writes are a transition's Core statements is committed, not
    rolled back as read-only: the run marks the session changed.  A
    session zope.sqlalchemy does not manage is left alone."""
    import transaction
    from sqlalchemy.orm import Session as OrmSession
    from zope.sqlalchemy import register
    from zope.sqlalchemy.datamanager import _SESSION_STATE

    code = 987_654
    table = sa.inspect(Plain).local_table
    try:
        with OrmSession(engine) as plain:
            plain.add(Plain(code, "zope"))
            plain.commit()
            obj = plain.scalars(sa.select(Plain).where(Plain.code == code)).one()
            obj.publish()  # not managed: nothing joins a zope transaction
            assert plain not in _SESSION_STATE
            plain.rollback()
        manager = transaction.TransactionManager()
        managed = OrmSession(engine)
        register(managed, transaction_manager=manager)
        with manager:
            obj = managed.scalars(sa.select(Plain).where(Plain.code == code)).one()
            obj.publish()  # only the run's own UPDATE: nothing for the flush
        with engine.connect() as conn:
            status = conn.execute(sa.select(table.c.status).where(table.c.code == code)).scalar()
        assert status == clio.PUBLISHED
    finally:
        with engine.begin() as conn:
            conn.execute(sa.delete(table).where(table.c.code == code))


@pytest.mark.parametrize("make", [lambda: Plain(7, "seven"), lambda: Paragraph(code=7, text="seven")])
def test_a_new_version_gets_its_bookkeeping_without_attribute_events(session, make):
    """A new version's bookkeeping goes into its state directly (classical
    and declarative mappings alike): only the code and the application's
    own values are set through the attributes, yet the INSERT stores
    every value, with the session's user filled in at the first flush."""
    cls = type(make())
    seen = []

    def listener(target, value, oldvalue, initiator):
        seen.append(initiator.key)

    keys = [prop.key for prop in sa.inspect(cls).column_attrs]
    for key in keys:
        sa.event.listen(getattr(cls, key), "set", listener)
    try:
        version = make()
    finally:
        for key in keys:
            sa.event.remove(getattr(cls, key), "set", listener)
    assert sorted(seen) == sorted(["code", "name" if cls is Plain else "text"])
    assert version.status == clio.NEW and version.published_start_timestamp is None
    assert version.created_timestamp == version.changed_timestamp is not None
    session.info["clio.userid"] = "alice"
    session.add(version)
    session.flush()
    table = sa.inspect(cls).local_table
    row = session.connection().execute(sa.select(table).where(table.c.code == 7)).one()
    assert (row.status, row.created_userid, row.changed_userid) == (clio.NEW, "alice", "alice")
    assert row.created_timestamp is not None and row.published_userid is None
    assert version.created_userid == "alice"


@pytest.mark.parametrize("savepoint", [False, True], ids=["transaction", "savepoint"])
def test_a_rolled_back_transition_takes_its_new_versions_out_of_the_session(session, savepoint):
    """New versions are inserted by clio's own INSERT and bookkeeping
    written by its own UPDATE, not by the unit of work; a rollback must
    still forget the copies as it forgets flushed objects (they become
    transient), or a stale copy would stay in the identity map (on SQLite,
    which reuses the id, the next copy could not join the session), and a
    savepoint's rollback must expire the versions clio updated, or their
    rolled-back statuses would stay in memory."""
    page = published_page(session, paragraphs=3)
    transaction = session.begin_nested() if savepoint else None
    draft = page.edit()
    copies = [draft, *draft.paragraphs]
    assert all(sa.inspect(copy).persistent for copy in copies)
    if savepoint:
        transaction.rollback()
    else:
        session.rollback()
    for copy in copies:
        assert sa.inspect(copy).transient, copy
        assert copy not in session
    assert statuses_in_database(session, Page, 1) == [clio.PUBLISHED]
    assert page.status == clio.PUBLISHED  # expired, read again
    again = page.edit()  # the same ids on SQLite
    assert again.status == clio.EDITABLE and len(again.paragraphs) == 3
    assert draft.status == clio.EDITABLE  # the forgotten copy still reads


def test_a_committed_savepoint_keeps_its_new_versions_until_the_transaction_rolls_back(session):
    page = published_page(session, paragraphs=2)
    with session.begin_nested():
        draft = page.edit()
    assert sa.inspect(draft).persistent
    session.rollback()
    assert sa.inspect(draft).transient


@pytest.mark.parametrize("savepoint", [False, True], ids=["transaction", "savepoint"])
def test_after_a_rollback_new_copies_replace_stale_objects_of_their_ids(session, savepoint):
    """Publishing a draft reloads its children (the lock refreshes the
    draft, which drops its loaded collection), so the copies the edit made
    may be gone and loaded again as other objects, which a rollback does
    not forget: held by the forgotten draft, they stay in the session for
    rows that no longer exist.  On SQLite the next edit's copies get the
    same ids; they take the stale objects' place instead of failing to
    join the session."""
    page = published_page(session, paragraphs=3)
    kept = []  # the drafts, as a caller holding them would
    for _ in range(2):
        transaction = session.begin_nested() if savepoint else None
        kept.append(page.edit())
        kept[-1].publish()
        (transaction or session).rollback()
    assert statuses_in_database(session, Page, 1) == [clio.PUBLISHED]
    assert statuses_in_database(session, Paragraph, 100) == [clio.PUBLISHED]
    draft = page.edit()
    assert draft.status == clio.EDITABLE and page.status == clio.PUBLISHED_UNDER_EDIT
    assert [p.status for p in draft.paragraphs] == [clio.EDITABLE] * 3
    assert all(p.page is draft for p in draft.paragraphs)
    published = draft.publish()
    assert [p.status for p in published.paragraphs] == [clio.PUBLISHED] * 3
    assert statuses_in_database(session, Paragraph, 100) == [clio.PUBLISHED, 1000]


# --- objects this transaction inserted --------------------------------------


def test_publishing_a_new_object_of_this_transaction_sends_its_update_alone(
    session, count_statements
):
    """No other transaction can see a row before it is committed, so a new
    object published in the transaction that inserted it has nothing to
    lock or read again; one committed before is locked as usual."""
    fresh, older = Plain(1, "fresh"), Plain(2, "older")
    session.add(older)
    session.commit()
    older.status  # loaded outside the count
    session.add(fresh)
    session.flush()
    with count_statements() as counted:
        fresh.publish()
    assert [s.split(None, 1)[0] for s in counted.statements] == ["UPDATE"]
    with count_statements() as counted:
        older.publish()
    # the lock read, then the UPDATE
    assert [s.split(None, 1)[0] for s in counted.statements] == ["SELECT", "UPDATE"]
    assert statuses_in_database(session, Plain, 1) == [clio.PUBLISHED]
    assert statuses_in_database(session, Plain, 2) == [clio.PUBLISHED]


def test_new_objects_of_a_released_savepoint_are_this_transactions(
    session, count_statements
):
    with session.begin_nested():
        obj = Plain(1, "one")
        session.add(obj)
    with count_statements() as counted:
        obj.publish()
    assert len(counted) == 1, counted.statements
    assert obj.status == clio.PUBLISHED


def test_a_new_tree_of_this_transaction_is_walked_as_the_session_holds_it(
    session, count_statements
):
    """The children the application put under a new page are published as
    they are: one query checks that the database holds the same rows under
    the page, and nothing is locked or loaded again."""
    page = Page(code=1, title="page", tags=[])
    page.paragraphs = [Paragraph(code=100 + n, text=f"p{n}") for n in range(3)]
    session.add(page)
    session.flush()
    held = list(page.paragraphs)
    with count_statements() as counted:
        page.publish()
    verbs = [s.split(None, 1)[0] for s in counted.statements]
    assert verbs == ["SELECT", "UPDATE", "UPDATE"], counted.statements
    assert page.paragraphs == held
    assert [p.status for p in held] == [clio.PUBLISHED] * 3
    for n in range(3):
        assert statuses_in_database(session, Paragraph, 100 + n) == [clio.PUBLISHED]


@pytest.mark.parametrize("how", ["foreign key", "core"])
def test_children_the_loaded_collection_misses_are_published_too(session, how):
    """A child hung under a new page by its foreign key, or through Core,
    after the page's collection was loaded is not in that collection (the
    unit of work does not put it there); the publication finds it in the
    database and publishes it with the others."""
    page = Page(code=1, title="page", tags=[])
    page.paragraphs = [Paragraph(code=100, text="listed")]
    session.add(page)
    session.flush()
    if how == "foreign key":
        session.add(Paragraph(code=101, text="unlisted", page_id=page.id))
        session.flush()
    else:
        now = Paragraph._now()
        values = dict(code=101, text="unlisted", page_id=page.id, status=clio.NEW)
        values.update(created_timestamp=now, changed_timestamp=now)
        session.execute(sa.insert(Paragraph.__table__).values(**values))
    assert [p.code for p in page.paragraphs] == [100]
    page.publish()
    assert sorted(p.code for p in page.paragraphs) == [100, 101]
    assert statuses_in_database(session, Paragraph, 101) == [clio.PUBLISHED]


def test_a_child_moved_away_from_a_new_page_is_not_published_with_it(session):
    page, other = Page(code=1, title="page", tags=[]), Page(code=2, title="other")
    page.paragraphs = [Paragraph(code=100, text="stays"), Paragraph(code=101, text="moves")]
    session.add_all([page, other])
    session.flush()
    session.execute(
        sa.update(Paragraph.__table__)
        .where(Paragraph.__table__.c.code == 101)
        .values(page_id=other.id)
    )
    page.publish()
    assert [p.code for p in page.paragraphs] == [100]
    assert statuses_in_database(session, Paragraph, 101) == [clio.NEW]


def test_a_pending_draft_hung_under_a_new_page_is_published_over_its_published_version(
    session,
):
    """A child of the new page that is not new itself (a draft moved
    there) still has its object locked: its published version is
    archived when the draft is published."""
    old = make_page(session, code=1, paragraphs=1)
    old.publish()
    session.commit()
    draft = old.paragraphs[0].edit()
    page = Page(code=2, title="new", tags=[])
    session.add(page)
    session.flush()
    list(page.paragraphs)
    draft.page = page
    session.flush()
    page.publish()
    assert draft.status == clio.PUBLISHED
    assert statuses_in_database(session, Paragraph, 100) == [clio.PUBLISHED, 1000]


def test_deleting_a_new_tree_of_this_transaction_removes_what_the_database_holds(session):
    """Deleting a new page removes it and its children, those its loaded
    collection lists and one hung under it by its foreign key alone."""
    page = Page(code=1, title="page", tags=[])
    page.paragraphs = [Paragraph(code=100, text="listed")]
    session.add(page)
    session.flush()
    session.add(Paragraph(code=101, text="unlisted", page_id=page.id))
    session.flush()
    assert page.delete() is None
    session.flush()
    assert statuses_in_database(session, Page, 1) == []
    assert statuses_in_database(session, Paragraph, 100) == []
    assert statuses_in_database(session, Paragraph, 101) == []
