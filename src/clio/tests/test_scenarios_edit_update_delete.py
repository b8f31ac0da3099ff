"""Reference §7, scenarios 15-44: edit, publishing an edit and archiving,
update, delete, and edit or update of a pending deletion.

Each test is named after the scenario it checks (``test_sNN_...``) and its
docstring quotes the scenario number; where SPEC §3.3 changes the 0.7
behaviour the docstring says so.  The tests run on SQLite, MariaDB and
PostgreSQL through the ``session`` fixture.  The fixture clock hands out one
aware UTC moment per ``_now()`` call, and a transition takes one moment, so
``clock.peek()`` right after a transition is "now" for it.  With the
``userids`` fixture the user-id provider answers u0, u1, ... and is asked
once per transition (construction asks once for created and changed).
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

import clio
from clio.tests.models import A, B, a_code, b_code
from clio.tests.scenario_helpers import by_id, column_values, db_statuses

# --- helpers ------------------------------------------------------------------


def db_b_statuses(session, codes) -> list[int]:
    session.flush()
    return sorted(session.scalars(sa.select(B.status).where(B.code.in_(codes))))


def row_exists(session, cls, row_id) -> bool:
    session.flush()
    count = session.scalar(sa.select(sa.func.count()).select_from(cls).where(cls.id == row_id))
    return count == 1


def by_message(rows) -> list:
    return sorted(rows, key=lambda row: row.message)


def published_a(session, message="A", children=()):
    """A published A, with published B children carrying ``children`` as
    messages."""
    a = A(a_code(session), message)
    session.add(a)
    for child in children:
        a.bs.append(B(b_code(session), child))
    a.publish()
    session.flush()
    return a


def archived_version(session):
    a = published_a(session, "old")
    e = a.edit()
    e.message = "new"
    e.publish()
    session.flush()
    assert a.is_archived()
    return a


# --- Edit -------------------------------------------------------------------------


def test_s15_edit_published(session, clock, userids):
    """Scenario 15: edit() on a PUBLISHED A returns a new EDITABLE version E
    of the same code, created now by the current user, never published,
    with A's changed_* values; A becomes PUBLISHED_UNDER_EDIT."""
    a = published_a(session, "A")
    e = a.edit()
    now = clock.peek()
    session.flush()

    assert e is not a
    assert e.status == clio.EDITABLE
    assert e.code == a.code
    assert a.status == clio.PUBLISHED_UNDER_EDIT
    assert e.id != a.id
    assert e.created_timestamp == now
    assert e.created_userid == "u2"  # u0 created, u1 published, u2 edits
    assert e.published_start_timestamp is None
    assert e.published_end_timestamp is None
    assert e.published_userid is None
    assert e.changed_timestamp == a.changed_timestamp
    assert e.changed_userid == a.changed_userid == "u0"
    assert e.message == "A"
    assert userids == ["u0", "u1", "u2"]
    assert db_statuses(session, A, a.code) == [clio.EDITABLE, clio.PUBLISHED_UNDER_EDIT]


def test_s16_edit_again_returns_same_editable(session):
    """Scenario 16: edit() again on the PUBLISHED_UNDER_EDIT A returns the
    same E."""
    a = published_a(session)
    e = a.edit()
    session.flush()
    assert a.edit() is e
    assert a.edit() is e
    assert db_statuses(session, A, a.code) == [clio.EDITABLE, clio.PUBLISHED_UNDER_EDIT]


def test_s16_edit_again_copies_children_once(session):
    """Scenario 16 with children: the repeated edit() returns the same E and
    makes no second set of child copies."""
    a = published_a(session, "A", children=("B1", "B2"))
    codes = [b.code for b in a.bs]
    e = a.edit()
    session.flush()
    assert a.edit() is e
    session.flush()
    assert len(list(e.bs)) == 2
    assert db_b_statuses(session, codes) == [clio.EDITABLE] * 2 + [clio.PUBLISHED_UNDER_EDIT] * 2


def test_s17_edit_of_editable_returns_itself(session):
    """Scenario 17: E.edit() returns E."""
    a = published_a(session)
    e = a.edit()
    assert e.edit() is e
    assert e.status == clio.EDITABLE
    assert db_statuses(session, A, a.code) == [clio.EDITABLE, clio.PUBLISHED_UNDER_EDIT]


def test_s17_edit_of_new_returns_itself(session):
    """Scenario 17: on a NEW A, edit() returns A, still NEW."""
    a = A(a_code(session), "A")
    session.add(a)
    assert a.edit() is a
    assert a.status == clio.NEW
    assert db_statuses(session, A, a.code) == [clio.NEW]


def test_s18_edit_of_updatable_raises(session):
    """Scenario 18: edit() on an UPDATABLE U, or on its PUBLISHED_UNDER_UPDATE
    counterpart, raises EditError (and changes nothing)."""
    a = published_a(session)
    u = a.update()
    session.flush()
    with pytest.raises(clio.EditError):
        u.edit()
    with pytest.raises(clio.EditError):
        a.edit()
    assert (u.status, a.status) == (clio.UPDATABLE, clio.PUBLISHED_UNDER_UPDATE)
    assert db_statuses(session, A, a.code) == [clio.UPDATABLE, clio.PUBLISHED_UNDER_UPDATE]


def test_s18_edit_of_deleted_update_raises_atomically(session):
    """Scenario 18 with a deleted update (reference §8 item 9). Changed by
    SPEC §3.3 item 1: 0.7 reverted the deletion before raising EditError;
    here the error leaves the deletion in place."""
    a = published_a(session)
    u = a.update()
    u.delete()
    session.flush()
    with pytest.raises(clio.EditError):
        u.edit()
    with pytest.raises(clio.EditError):
        a.edit()
    assert (u.status, a.status) == (clio.DELETED_UPDATABLE, clio.PUBLISHED_UNDER_DELETE)
    assert db_statuses(session, A, a.code) == [
        clio.DELETED_UPDATABLE,
        clio.PUBLISHED_UNDER_DELETE,
    ]


def test_s19_edit_of_archived_raises(session):
    """Scenario 19: edit() on an archived version raises EditError."""
    archived = archived_version(session)
    before = column_values(archived)
    with pytest.raises(clio.EditError):
        archived.edit()
    assert column_values(archived) == before
    assert db_statuses(session, A, archived.code) == [clio.PUBLISHED, clio.ARCHIVED]


def test_s20_editing_leaves_published_unchanged(session):
    """Scenario 20: changing E does not change the published A, in memory
    or in the database."""
    a = published_a(session, "original")
    e = a.edit()
    e.message = "changed"
    session.flush()
    assert a.message == "original"
    session.expire_all()
    messages = dict(session.execute(sa.select(A.status, A.message).where(A.code == a.code)).all())
    assert messages == {clio.PUBLISHED_UNDER_EDIT: "original", clio.EDITABLE: "changed"}


# --- Publish an edit, and archiving ---------------------------------------------


def test_s21_publish_edit_archives_predecessor(session, clock, userids):
    """Scenario 21: publishing E returns E, E is 6, A is archived, A's end
    equals E's start, and E was published by the current user."""
    a = published_a(session, "A")
    a_start, a_publisher = a.published_start_timestamp, a.published_userid
    e = a.edit()
    e.message = "edited"
    result = e.publish()
    now = clock.peek()

    assert result is e
    assert e.status == clio.PUBLISHED
    assert a.status >= clio.ARCHIVED
    assert a.is_archived()
    assert e.published_start_timestamp == now
    assert a.published_end_timestamp == e.published_start_timestamp
    assert e.published_end_timestamp is None
    assert e.published_userid == "u3"  # u0 create, u1 publish, u2 edit, u3 publish
    # the predecessor keeps its own publication record
    assert a.published_start_timestamp == a_start
    assert a.published_userid == a_publisher == "u1"
    assert userids == ["u0", "u1", "u2", "u3"]

    session.flush()
    session.expire_all()
    rows = {
        row.id: row
        for row in session.execute(
            sa.select(A.id, A.status, A.published_start_timestamp, A.published_end_timestamp)
            .where(A.code == a.code)
        )
    }
    assert rows[e.id].status == clio.PUBLISHED
    assert rows[a.id].status >= clio.ARCHIVED
    assert rows[a.id].published_end_timestamp == rows[e.id].published_start_timestamp == now


def test_s22_two_edit_cycles_keep_history(session):
    """Scenario 22: after two edit/publish cycles v1 and v2 are archived with
    their old names, v3 is published, and v1 was archived first."""
    v1 = published_a(session, "v1")
    v2 = v1.edit()
    v2.message = "v2"
    v2.publish()
    v3 = v2.edit()
    v3.message = "v3"
    v3.publish()
    session.flush()

    assert v1.is_archived() and v2.is_archived()
    assert v3.status == clio.PUBLISHED
    assert (v1.message, v2.message, v3.message) == ("v1", "v2", "v3")
    assert v1.status < v2.status
    assert v1.published_end_timestamp == v2.published_start_timestamp
    assert v2.published_end_timestamp == v3.published_start_timestamp

    session.expire_all()
    stored = session.execute(
        sa.select(A.message, A.status).where(A.code == v1.code).order_by(A.status)
    ).all()
    assert [message for message, _ in stored] == ["v3", "v1", "v2"]


def test_s23_archive_numbers_per_code(session):
    """Scenario 23, adjusted to SPEC §3.3 item 6: archive numbers are
    allocated per code. The first archive of a code is exactly 1000, the
    second of the same code 1001, and another code's first archive is 1000
    again (0.7 numbered table-wide)."""
    first = published_a(session, "first")
    first_edit = first.edit()
    first_edit.publish()
    session.flush()
    assert first.status == 1000

    first_edit.edit().publish()
    session.flush()
    assert first_edit.status == 1001

    other = published_a(session, "other")
    other.edit().publish()
    session.flush()
    assert other.code != first.code
    assert other.status == 1000
    assert db_statuses(session, A, first.code) == [clio.PUBLISHED, 1000, 1001]
    assert db_statuses(session, A, other.code) == [clio.PUBLISHED, 1000]


def test_s24_publishing_the_published_under_edit_publishes_the_edit(session):
    """Scenario 24: publish() on the PUBLISHED_UNDER_EDIT A publishes E
    (and returns it); A is archived."""
    a = published_a(session, "A")
    e = a.edit()
    e.message = "edited"
    result = a.publish()
    assert result is e
    assert e.status == clio.PUBLISHED
    assert a.is_archived()
    assert a.published_end_timestamp == e.published_start_timestamp
    assert db_statuses(session, A, a.code) == [clio.PUBLISHED, clio.ARCHIVED]


def test_s24_publishing_the_published_under_edit_publishes_child_edits(session):
    """Scenario 24 with children: publishing through the PUBLISHED_UNDER_EDIT
    parent also publishes the children's edit copies."""
    a = published_a(session, "A", children=("B1", "B2"))
    codes = [b.code for b in a.bs]
    e = a.edit()
    assert a.publish() is e
    session.flush()
    assert [b.status for b in e.bs] == [clio.PUBLISHED] * 2
    assert len(list(a.bs_archived)) == 2
    assert db_b_statuses(session, codes) == [clio.PUBLISHED] * 2 + [clio.ARCHIVED] * 2


def test_s25_user_ids_through_two_edit_cycles(session, userids):
    """Scenario 25: create (u0), publish (u1), edit (u2), mark_changed (u3),
    publish (u4), edit (u5), mark_changed (u6), publish (u7): each version
    records its own creator, changer and publisher; archiving asks for no
    user."""
    v1 = A(a_code(session), "v1")
    session.add(v1)
    v1.publish()
    v2 = v1.edit()
    v2.mark_changed()
    v2.publish()
    v3 = v2.edit()
    v3.mark_changed()
    v3.publish()
    session.flush()

    def users(version):
        return (version.created_userid, version.changed_userid, version.published_userid)

    assert users(v1) == ("u0", "u0", "u1")
    assert users(v2) == ("u2", "u3", "u4")
    assert users(v3) == ("u5", "u6", "u7")
    assert userids == [f"u{n}" for n in range(8)]

    session.expire_all()
    stored = session.execute(
        sa.select(A.created_userid, A.changed_userid, A.published_userid)
        .where(A.code == v1.code)
        .order_by(A.created_timestamp)
    ).all()
    assert [tuple(row) for row in stored] == [users(v1), users(v2), users(v3)]


def test_s26_edit_copy_inherits_changed_user(session, userids):
    """Scenario 26: without mark_changed an edit keeps A's changed_userid
    (u0) and changed_timestamp, but has a new creator."""
    a = published_a(session)
    e = a.edit()
    assert e.changed_userid == a.changed_userid == "u0"
    assert e.changed_timestamp == a.changed_timestamp == a.created_timestamp
    assert e.created_userid == "u2"
    assert e.created_userid != a.created_userid
    assert e.created_timestamp > a.created_timestamp


# --- Update ------------------------------------------------------------------------


def test_s27_update_published(session, clock, userids):
    """Scenario 27: update() on a PUBLISHED A gives an UPDATABLE U and makes A
    PUBLISHED_UNDER_UPDATE; A.update() again and U.update() return U."""
    a = published_a(session)
    u = a.update()
    now = clock.peek()
    assert u is not a
    assert u.status == clio.UPDATABLE
    assert a.status == clio.PUBLISHED_UNDER_UPDATE
    assert u.code == a.code
    assert u.created_timestamp == now
    assert u.created_userid == "u2"
    assert (u.published_start_timestamp, u.published_userid) == (None, None)
    assert a.update() is u
    assert u.update() is u
    assert db_statuses(session, A, a.code) == [clio.UPDATABLE, clio.PUBLISHED_UNDER_UPDATE]


def test_s28_update_of_edit_raises(session):
    """Scenario 28: update() on an EDITABLE E or on its PUBLISHED_UNDER_EDIT
    counterpart raises UpdateError (and changes nothing)."""
    a = published_a(session)
    e = a.edit()
    session.flush()
    with pytest.raises(clio.UpdateError):
        e.update()
    with pytest.raises(clio.UpdateError):
        a.update()
    assert (e.status, a.status) == (clio.EDITABLE, clio.PUBLISHED_UNDER_EDIT)
    assert db_statuses(session, A, a.code) == [clio.EDITABLE, clio.PUBLISHED_UNDER_EDIT]


def test_s28_update_of_archived_raises(session):
    """Scenario 28: update() on an archived version raises UpdateError."""
    archived = archived_version(session)
    before = column_values(archived)
    with pytest.raises(clio.UpdateError):
        archived.update()
    assert column_values(archived) == before
    assert db_statuses(session, A, archived.code) == [clio.PUBLISHED, clio.ARCHIVED]


def test_s28_update_of_deleted_edit_raises_atomically(session):
    """Scenario 28 with a deleted edit (reference §8 item 9). Changed by SPEC
    §3.3 item 1: 0.7 reverted the deletion before raising UpdateError; here
    the error changes nothing and the edited content stays."""
    a = published_a(session)
    e = a.edit()
    e.message = "kept"
    e.delete()
    session.flush()
    with pytest.raises(clio.UpdateError):
        e.update()
    assert (e.status, a.status, e.message) == (
        clio.DELETED_EDITABLE,
        clio.PUBLISHED_UNDER_DELETE,
        "kept",
    )
    assert db_statuses(session, A, a.code) == [
        clio.DELETED_EDITABLE,
        clio.PUBLISHED_UNDER_DELETE,
    ]


def test_s29_updatable_reads_published_children(session):
    """Scenario 29: U made from a published A with two published B reads
    A's two children through U.bs."""
    a = published_a(session, "A", children=("B1", "B2"))
    children = by_id(a.bs)
    u = a.update()
    session.flush()
    assert len(list(u.bs)) == 2
    assert by_id(u.bs) == children
    assert all(b.a is a for b in u.bs)
    assert by_id(u.bs_published) == children
    assert list(u.bs_original) == []  # nothing was copied


def test_s30_publish_update_moves_children(session):
    """Scenario 30: publishing U archives A and moves the children to U;
    A's bs is empty and the children stay published."""
    a = published_a(session, "A", children=("B1", "B2"))
    children = by_id(a.bs)
    u = a.update()
    u.message = "updated"
    assert u.publish() is u
    session.flush()

    assert u.status == clio.PUBLISHED
    assert a.is_archived()
    assert list(a.bs) == []
    assert list(a.bs_original) == []
    assert by_id(u.bs) == children
    assert [b.status for b in children] == [clio.PUBLISHED, clio.PUBLISHED]
    assert all(b.a is u for b in children)
    assert a.published_end_timestamp == u.published_start_timestamp
    assert db_b_statuses(session, [b.code for b in children]) == [clio.PUBLISHED] * 2


def test_s30_two_update_cycles_leave_archives_childless(session):
    """Scenario 30: over two update cycles every archived parent version has
    an empty bs; the current one has both children."""
    v1 = published_a(session, "A", children=("B1", "B2"))
    children = by_id(v1.bs)
    v2 = v1.update()
    v2.publish()
    v3 = v2.update()
    v3.publish()
    session.flush()

    assert v1.is_archived() and v2.is_archived()
    assert v1.status < v2.status
    assert list(v1.bs) == [] and list(v2.bs) == []
    assert by_id(v3.bs) == children
    assert all(b.status == clio.PUBLISHED for b in v3.bs)
    child_parents = session.scalars(sa.select(B.a_id).where(B.code.in_([b.code for b in children])))
    assert set(child_parents) == {v3.id}


@pytest.mark.parametrize("transition", ["edit", "update"])
def test_s31_update_publish_matches_edit_publish(session, clock, userids, transition):
    """Scenario 31: for an A without children, update/publish behaves like
    edit/publish (statuses, archive number, timestamps, publisher)."""
    a = published_a(session, "A")
    pending = getattr(a, transition)()
    pending.message = "next"
    assert pending.publish() is pending
    now = clock.peek()
    session.flush()

    assert pending.status == clio.PUBLISHED
    assert a.status == clio.ARCHIVED
    assert pending.published_start_timestamp == now
    assert a.published_end_timestamp == now
    assert pending.published_end_timestamp is None
    assert pending.published_userid == "u3"
    assert a.published_userid == "u1"
    assert (a.message, pending.message) == ("A", "next")
    assert db_statuses(session, A, a.code) == [clio.PUBLISHED, clio.ARCHIVED]


# --- Delete ------------------------------------------------------------------------


def test_s32_delete_new_removes_row(session):
    """Scenario 32: delete() on a flushed NEW A returns None and removes the
    row."""
    a = A(a_code(session), "A")
    session.add(a)
    session.flush()
    row_id = a.id
    assert a.delete() is None
    assert not row_exists(session, A, row_id)
    assert db_statuses(session, A, a.code) == []


def test_s33_delete_published_makes_deleted_copy(session, clock, userids):
    """Scenario 33: delete() on a PUBLISHED A returns a new version X with
    status 3; A becomes 9."""
    a = published_a(session, "A")
    x = a.delete()
    now = clock.peek()
    assert x is not None and x is not a
    assert x.status == clio.DELETED
    assert a.status == clio.PUBLISHED_UNDER_DELETE
    assert x.code == a.code
    assert x.message == "A"
    assert x.created_timestamp == now
    assert x.created_userid == "u2"
    assert x.published_start_timestamp is None
    assert x.is_deleted() and not a.is_deleted()
    assert a.published_userid == "u1"  # unchanged until the deletion is published
    assert userids == ["u0", "u1", "u2"]
    assert db_statuses(session, A, a.code) == [clio.DELETED, clio.PUBLISHED_UNDER_DELETE]


def test_s34_publish_deletion(session, clock, userids):
    """Scenario 34: publishing X returns A, archived now, with the deleting
    user as published_userid; the row X is gone."""
    a = published_a(session, "A")
    x = a.delete()
    session.flush()
    x_id = x.id
    result = x.publish()
    now = clock.peek()

    assert result is a
    assert a.is_archived()
    assert a.published_end_timestamp == now
    assert a.published_userid == "u3"  # u0 create, u1 publish, u2 delete, u3 publish
    assert not row_exists(session, A, x_id)
    assert db_statuses(session, A, a.code) == [clio.ARCHIVED]
    session.expire_all()
    stored = session.get(A, a.id)
    assert stored.published_end_timestamp == now
    assert stored.published_userid == "u3"


def test_s35_delete_published_parent_with_children(session):
    """Scenario 35: deleting a published A with two published B gives two
    DELETED B under X and two B at 9; publishing X archives A (1000, first
    archive of its code) and both children, and leaves no B at 6."""
    a = published_a(session, "A", children=("B1", "B2"))
    originals = by_id(a.bs)
    codes = [b.code for b in originals]
    x = a.delete()
    session.flush()

    assert db_b_statuses(session, codes) == [clio.DELETED] * 2 + [clio.PUBLISHED_UNDER_DELETE] * 2
    copies = list(x.bs)
    assert len(copies) == 2
    assert all(b.status == clio.DELETED for b in copies)
    assert {b.code for b in copies} == set(codes)
    assert x.bs_editable[0].status == clio.DELETED
    assert all(b.status == clio.PUBLISHED_UNDER_DELETE for b in originals)

    assert x.publish() is a
    session.flush()
    assert a.status == 1000
    assert by_id(a.bs_archived) == originals
    assert all(b.is_archived() for b in originals)
    assert clio.PUBLISHED not in db_b_statuses(session, codes)
    assert all(s >= clio.ARCHIVED for s in db_b_statuses(session, codes))


def test_s36_delete_editable_parent_with_children(session):
    """Scenario 36: E.delete() on an editable A with two editable B returns E
    at 4, both edited B at 4, their published versions and A at 9;
    publishing archives everything and leaves no B at 6, 1 or 7."""
    a = published_a(session, "A", children=("B1", "B2"))
    originals = by_id(a.bs)
    codes = [b.code for b in originals]
    e = a.edit()
    e.message = "edited"
    edited = by_id(e.bs)
    assert [b.status for b in edited] == [clio.EDITABLE] * 2

    assert e.delete() is e
    session.flush()
    assert e.status == clio.DELETED_EDITABLE
    assert e.message == "edited"
    assert [b.status for b in edited] == [clio.DELETED_EDITABLE] * 2
    assert [b.status for b in originals] == [clio.PUBLISHED_UNDER_DELETE] * 2
    assert a.status == clio.PUBLISHED_UNDER_DELETE
    assert db_b_statuses(session, codes) == (
        [clio.DELETED_EDITABLE] * 2 + [clio.PUBLISHED_UNDER_DELETE] * 2
    )

    e.publish()
    session.flush()
    assert a.is_archived()
    assert by_id(a.bs_archived) == originals
    remaining = db_b_statuses(session, codes)
    assert not {clio.PUBLISHED, clio.EDITABLE, clio.PUBLISHED_UNDER_EDIT} & set(remaining)
    assert all(s >= clio.ARCHIVED for s in remaining)
    assert db_statuses(session, A, a.code) == [clio.ARCHIVED]


def test_s37_delete_editable_removes_new_child(session):
    """Scenario 37: deleting E removes its NEW child from the session at
    once."""
    a = published_a(session, "A")
    e = a.edit()
    child = B(b_code(session), "new child")
    e.bs.append(child)
    session.flush()
    child_id = child.id

    assert e.delete() is e
    assert child in session.deleted or child not in session
    assert e.status == clio.DELETED_EDITABLE
    assert not row_exists(session, B, child_id)
    assert list(e.bs) == []


def test_s37_delete_editable_with_new_and_edited_children(session):
    """Scenario 37 alongside scenario 36: deleting E removes its NEW child
    while its edited children become DELETED_EDITABLE."""
    a = published_a(session, "A", children=("B1", "B2"))
    codes = [b.code for b in a.bs]
    e = a.edit()
    child = B(b_code(session), "new child")
    e.bs.append(child)
    session.flush()

    e.delete()
    session.flush()
    assert sorted(b.message for b in e.bs) == ["B1", "B2"]
    assert all(b.status == clio.DELETED_EDITABLE for b in e.bs)
    assert db_b_statuses(session, [child.code]) == []
    assert db_b_statuses(session, codes) == (
        [clio.DELETED_EDITABLE] * 2 + [clio.PUBLISHED_UNDER_DELETE] * 2
    )


def test_s38_delete_updatable(session):
    """Scenario 38: U.delete() makes U 5 and A 9."""
    a = published_a(session, "A")
    u = a.update()
    u.message = "updated"
    assert u.delete() is u
    assert u.status == clio.DELETED_UPDATABLE
    assert a.status == clio.PUBLISHED_UNDER_DELETE
    assert u.message == "updated"
    assert db_statuses(session, A, a.code) == [
        clio.DELETED_UPDATABLE,
        clio.PUBLISHED_UNDER_DELETE,
    ]


def test_s38_delete_updatable_parent_retires_children(session):
    """Scenario 38 with children, changed by SPEC §3.3 item 3 (reference §8
    item 11): in 0.7 the children of the published version stayed at 6 even
    after the deletion was published; here deleting U also puts them under
    deletion and publishing it archives the whole tree."""
    a = published_a(session, "A", children=("B1", "B2"))
    originals = by_id(a.bs)
    codes = [b.code for b in originals]
    u = a.update()
    u.delete()
    session.flush()
    assert (u.status, a.status) == (clio.DELETED_UPDATABLE, clio.PUBLISHED_UNDER_DELETE)
    assert [b.status for b in originals] == [clio.PUBLISHED_UNDER_DELETE] * 2

    assert u.publish() is a
    session.flush()
    assert a.is_archived()
    assert db_statuses(session, A, a.code) == [clio.ARCHIVED]
    remaining = db_b_statuses(session, codes)
    assert len(remaining) == 2
    assert all(s >= clio.ARCHIVED for s in remaining)


def _pending_deletion(a, how):
    if how == "published":
        return a.delete()
    return getattr(a, how)().delete()


@pytest.mark.parametrize(
    "how, status",
    [
        ("published", clio.DELETED),
        ("edit", clio.DELETED_EDITABLE),
        ("update", clio.DELETED_UPDATABLE),
    ],
)
def test_s39_delete_of_pending_deletion_returns_it(session, how, status):
    """Scenario 39: delete() on a version in a deleted status returns that
    version; delete() on the PUBLISHED_UNDER_DELETE version returns its
    deleted counterpart."""
    a = published_a(session, "A")
    deleted = _pending_deletion(a, how)
    session.flush()
    assert deleted.status == status
    assert deleted.delete() is deleted
    assert a.delete() is deleted
    assert (deleted.status, a.status) == (status, clio.PUBLISHED_UNDER_DELETE)
    assert db_statuses(session, A, a.code) == [status, clio.PUBLISHED_UNDER_DELETE]


def test_s40_delete_on_published_under_edit_delegates(session):
    """Scenario 40, changed by SPEC §3.3 item 2: 0.7 raised DeleteError on
    PUBLISHED_UNDER_EDIT; here delete() delegates to the EDITABLE version,
    which becomes DELETED_EDITABLE (edits kept) and is returned; A is 9."""
    a = published_a(session, "A")
    e = a.edit()
    e.message = "edited"
    session.flush()
    assert a.delete() is e
    assert e.status == clio.DELETED_EDITABLE
    assert e.message == "edited"
    assert a.status == clio.PUBLISHED_UNDER_DELETE
    assert db_statuses(session, A, a.code) == [
        clio.DELETED_EDITABLE,
        clio.PUBLISHED_UNDER_DELETE,
    ]


def test_s40_delete_on_published_under_update_delegates(session):
    """Scenario 40, changed by SPEC §3.3 item 2: 0.7 raised DeleteError on
    PUBLISHED_UNDER_UPDATE; here delete() delegates to the UPDATABLE version,
    which becomes DELETED_UPDATABLE and is returned; A is 9."""
    a = published_a(session, "A")
    u = a.update()
    session.flush()
    assert a.delete() is u
    assert u.status == clio.DELETED_UPDATABLE
    assert a.status == clio.PUBLISHED_UNDER_DELETE
    assert db_statuses(session, A, a.code) == [
        clio.DELETED_UPDATABLE,
        clio.PUBLISHED_UNDER_DELETE,
    ]


def test_s40_delegated_deletion_publishes_like_a_deletion(session):
    """Scenario 40 (SPEC §3.3 item 2), carried on: the deletion reached
    through PUBLISHED_UNDER_EDIT publishes like any deletion (A archived,
    nothing live remains)."""
    a = published_a(session, "A", children=("B1",))
    a.edit()
    deleted = a.delete()
    assert deleted.publish() is a
    session.flush()
    assert a.is_archived()
    assert db_statuses(session, A, a.code) == [clio.ARCHIVED]
    archived_children = list(a.bs)
    assert len(archived_children) == 1
    assert archived_children[0].is_archived()


def test_s41_delete_of_archived_raises(session):
    """Scenario 41: delete() on an archived version raises DeleteError and
    changes nothing."""
    archived = archived_version(session)
    before = column_values(archived)
    with pytest.raises(clio.DeleteError):
        archived.delete()
    assert column_values(archived) == before
    assert db_statuses(session, A, archived.code) == [clio.PUBLISHED, clio.ARCHIVED]


# --- Edit or update of a pending deletion -------------------------------------------


def test_s42_edit_of_deleted_version(session):
    """Scenario 42: X.edit() on a pending deletion removes X, returns a new
    EDITABLE version, and A becomes 7."""
    a = published_a(session, "A")
    x = a.delete()
    session.flush()
    x_id = x.id

    e = x.edit()
    assert e is not x
    assert e.status == clio.EDITABLE
    assert a.status == clio.PUBLISHED_UNDER_EDIT
    assert x in session.deleted or x not in session
    # SQLite may give the new version the freed row id (no AUTOINCREMENT)
    assert e.id == x_id or not row_exists(session, A, x_id)
    assert db_statuses(session, A, a.code) == [clio.EDITABLE, clio.PUBLISHED_UNDER_EDIT]
    assert a.edit() is e


def test_s42_edit_of_deleted_parent_restores_children(session):
    """Scenario 42 with children: editing a pending deletion of a parent
    undoes the children's deletion copies, and the new edit has EDITABLE
    copies of both children while their published versions are 7."""
    a = published_a(session, "A", children=("B1", "B2"))
    originals = by_id(a.bs)
    codes = [b.code for b in originals]
    x = a.delete()
    session.flush()

    e = x.edit()
    session.flush()
    assert e.status == clio.EDITABLE
    assert [b.message for b in by_message(e.bs)] == ["B1", "B2"]
    assert all(b.status == clio.EDITABLE for b in e.bs)
    assert [b.status for b in originals] == [clio.PUBLISHED_UNDER_EDIT] * 2
    assert db_b_statuses(session, codes) == [clio.EDITABLE] * 2 + [clio.PUBLISHED_UNDER_EDIT] * 2


def test_s43_update_of_deleted_version(session):
    """Scenario 43: X.update() on a pending deletion gives an UPDATABLE
    version and A becomes 8; X is gone."""
    a = published_a(session, "A")
    x = a.delete()
    session.flush()
    x_id = x.id

    u = x.update()
    assert u.status == clio.UPDATABLE
    assert a.status == clio.PUBLISHED_UNDER_UPDATE
    assert u.id == x_id or not row_exists(session, A, x_id)  # see s42
    assert db_statuses(session, A, a.code) == [clio.UPDATABLE, clio.PUBLISHED_UNDER_UPDATE]
    assert a.update() is u


def test_s44_edit_of_published_under_delete(session):
    """Scenario 44: edit() on the PUBLISHED_UNDER_DELETE A does what
    scenario 42 does: the deletion is removed, an EDITABLE version is
    returned, A is 7."""
    a = published_a(session, "A")
    x = a.delete()
    session.flush()
    x_id = x.id

    e = a.edit()
    assert e is not x and e is not a
    assert e.status == clio.EDITABLE
    assert a.status == clio.PUBLISHED_UNDER_EDIT
    assert e.id == x_id or not row_exists(session, A, x_id)  # see s42
    assert db_statuses(session, A, a.code) == [clio.EDITABLE, clio.PUBLISHED_UNDER_EDIT]
