"""Reference §7, scenarios 45-59: revert.

Each test builds its own small object graph (A with dynamic one-to-many
``bs`` to B) and checks what ``revert()`` does to it, on every database.
Where SPEC §3.3 changes the 0.7 behaviour, the docstring says so.
"""

import sqlalchemy as sa

import clio
from clio.tests.models import A, B


# --- helpers ------------------------------------------------------------------


def by_code(rows):
    return sorted(rows, key=lambda row: (row.code, row.id or 0))


def statuses(rows):
    return sorted(row.status for row in rows)


def rows_of(session, cls, code):
    """Every stored version of ``cls`` with ``code``, straight from the database."""
    session.flush()
    return list(session.scalars(sa.select(cls).where(cls.code == code).order_by(cls.id)))


def count_rows(session, cls, *criteria):
    session.flush()
    return session.scalar(sa.select(sa.func.count()).select_from(cls).where(*criteria))


def published_a(session, code=1, children=2):
    """A PUBLISHED A ("A") with ``children`` published Bs, codes 101, 102, ..."""
    a = A(code, "A")
    session.add(a)
    for number in range(1, children + 1):
        a.bs.append(B(100 + number, f"B{number}"))
    a.publish()
    session.flush()
    return a


def child(parent, code):
    """The child of ``parent`` (any status) with ``code``; exactly one."""
    found = [row for row in parent.bs_original if row.code == code]
    assert len(found) == 1, found
    return found[0]


# --- 45 -------------------------------------------------------------------------


def test_s45_revert_new_removes_row(session):
    """Scenario 45: reverting a NEW, flushed A returns None and its row is gone."""
    a = A(1, "new")
    session.add(a)
    session.flush()
    assert count_rows(session, A, A.code == 1) == 1

    assert a.revert() is None

    assert count_rows(session, A, A.code == 1) == 0
    assert count_rows(session, A) == 0


def test_s45_revert_new_removes_new_children(session):
    """Scenario 45 with children, as changed by SPEC §3.3 item 9: Clio itself
    removes the NEW children of a NEW object it removes."""
    a = A(1, "new")
    session.add(a)
    a.bs.append(B(101, "B1"))
    a.bs.append(B(102, "B2"))
    session.flush()
    assert count_rows(session, B, B.code.in_([101, 102])) == 2

    assert a.revert() is None

    assert count_rows(session, A, A.code == 1) == 0
    assert count_rows(session, B, B.code.in_([101, 102])) == 0


# --- 46 -------------------------------------------------------------------------


def test_s46_revert_editable_resets_content(session, userids):
    """Scenario 46: reverting E (edit of a published A with 2 B) returns E,
    still EDITABLE, with A's content and 2 EDITABLE children."""
    a = published_a(session)
    e = a.edit()
    e.message = "changed"
    e.mark_changed()
    e1 = child(e, 101)
    e1.message = "B1 changed"
    session.flush()
    old_created = e.created_timestamp
    handed_before = list(userids)

    result = e.revert()

    assert result is e
    assert e.status == clio.EDITABLE
    assert a.status == clio.PUBLISHED_UNDER_EDIT
    assert e.message == a.message == "A"
    assert e.code == a.code
    assert e.id != a.id
    # changed_* come back from the published version
    assert e.changed_timestamp == a.changed_timestamp
    assert e.changed_userid == a.changed_userid
    # published_* cleared, created_* reset to now and the current user
    assert e.published_start_timestamp is None
    assert e.published_end_timestamp is None
    assert e.published_userid is None
    assert e.created_timestamp > old_created
    assert e.created_userid == userids[-1]
    assert e.created_userid not in handed_before

    kids = by_code(e.bs)
    assert len(kids) == 2
    assert statuses(kids) == [clio.EDITABLE, clio.EDITABLE]
    assert [k.message for k in kids] == ["B1", "B2"]

    session.flush()
    assert [v.status for v in rows_of(session, A, 1)] == [
        clio.PUBLISHED_UNDER_EDIT,
        clio.EDITABLE,
    ]


# --- 47 -------------------------------------------------------------------------


def test_s47_revert_editable_removes_new_child(session):
    """Scenario 47: E with a NEW child appended; reverting E removes the NEW
    child and leaves E with its 2 children."""
    a = published_a(session)
    e = a.edit()
    e.bs.append(B(103, "B3"))
    session.flush()
    assert len(list(e.bs)) == 3

    assert e.revert() is e

    kids = by_code(e.bs)
    assert [k.code for k in kids] == [101, 102]
    assert statuses(kids) == [clio.EDITABLE, clio.EDITABLE]
    assert count_rows(session, B, B.code == 103) == 0


# --- 48 -------------------------------------------------------------------------


def test_s48_revert_deleted_restores_published(session):
    """Scenario 48: reverting the pending deletion X of a published A with 2 B
    returns A (PUBLISHED) with its 2 published children; X and the DELETED B
    copies are gone.  (SPEC §3.3 item 3 / reference §3.6: the children's
    deletions made by the parent's delete are reverted too.)"""
    a = published_a(session)
    x = a.delete()
    session.flush()
    assert x.status == clio.DELETED
    assert count_rows(session, B, B.status == clio.DELETED) == 2
    assert count_rows(session, B, B.status == clio.PUBLISHED_UNDER_DELETE) == 2

    result = x.revert()

    assert result is a
    assert a.status == clio.PUBLISHED
    kids = list(a.bs)
    assert len(kids) == 2
    assert statuses(kids) == [clio.PUBLISHED, clio.PUBLISHED]
    assert [v.status for v in rows_of(session, A, 1)] == [clio.PUBLISHED]
    assert count_rows(session, B, B.status.in_(clio.DELETED_STATUSES)) == 0
    assert count_rows(session, B, B.status == clio.PUBLISHED_UNDER_DELETE) == 0
    assert count_rows(session, B) == 2


# --- 49 -------------------------------------------------------------------------


def test_s49_revert_deleted_editable(session):
    """Scenario 49: an editable E with 2 editable B is deleted (4); reverting
    it makes E EDITABLE again, its 2 children EDITABLE again, and A PUE."""
    a = published_a(session)
    e = a.edit()
    e.message = "edited"
    assert e.delete() is e
    assert e.status == clio.DELETED_EDITABLE
    assert statuses(e.bs) == [clio.DELETED_EDITABLE] * 2
    assert a.status == clio.PUBLISHED_UNDER_DELETE
    assert statuses(a.bs) == [clio.PUBLISHED_UNDER_DELETE] * 2

    assert e.revert() is e

    assert e.status == clio.EDITABLE
    assert e.message == "edited"  # the edits survive the delete/revert
    assert statuses(e.bs) == [clio.EDITABLE, clio.EDITABLE]
    assert a.status == clio.PUBLISHED_UNDER_EDIT
    assert statuses(a.bs) == [clio.PUBLISHED_UNDER_EDIT] * 2
    session.flush()
    assert count_rows(session, B, B.status.in_(clio.DELETED_STATUSES)) == 0


# --- 50 -------------------------------------------------------------------------


def test_s50_revert_published(session):
    """Scenario 50: reverting a published A with 2 B returns A; A stays
    PUBLISHED with its 2 children."""
    a = published_a(session)

    assert a.revert() is a

    assert a.status == clio.PUBLISHED
    assert a.message == "A"
    assert statuses(a.bs) == [clio.PUBLISHED, clio.PUBLISHED]
    assert [v.status for v in rows_of(session, A, 1)] == [clio.PUBLISHED]
    assert count_rows(session, B) == 2


# --- 51 -------------------------------------------------------------------------


def test_s51_revert_archived_is_noop(session):
    """Scenario 51: reverting an archived version returns it unchanged and
    raises nothing."""
    a = published_a(session, children=0)
    e = a.edit()
    e.message = "v2"
    e.publish()
    session.flush()
    assert a.is_archived()
    columns = [c.key for c in sa.inspect(A).column_attrs]
    before = {key: getattr(a, key) for key in columns}

    assert a.revert() is a

    assert {key: getattr(a, key) for key in columns} == before
    assert e.status == clio.PUBLISHED
    session.flush()
    session.expire_all()
    assert {key: getattr(a, key) for key in columns} == before


# --- 52 -------------------------------------------------------------------------


def test_s52_revert_new_child_of_published_parent(session):
    """Scenario 52: a NEW B3 appended to a published A (flushed, 3 children)
    disappears when reverted; A has 2 children again.  (Attaching a NEW
    child to a published parent is allowed, SPEC §3.3 item 7.)"""
    a = published_a(session)
    b3 = B(103, "B3")
    a.bs.append(b3)
    session.flush()
    assert len(list(a.bs)) == 3
    assert b3.a is a

    assert b3.revert() is None

    assert sorted(k.code for k in a.bs) == [101, 102]
    assert count_rows(session, B, B.code == 103) == 0
    assert a.status == clio.PUBLISHED


# --- 53 -------------------------------------------------------------------------


def test_s53_revert_edited_child(session):
    """Scenario 53: a published child B1 edited to "changed"; reverting the
    editable child gives the same object back with message "B1", status 1,
    parent A, and A.bs_editable has 2 rows."""
    a = published_a(session)
    b1 = child(a, 101)
    b1e = b1.edit()
    b1e.message = "changed"
    session.flush()

    result = b1e.revert()

    assert result is b1e
    assert b1e.message == "B1"
    assert b1e.status == clio.EDITABLE
    assert b1e.a is a
    assert b1.status == clio.PUBLISHED_UNDER_EDIT
    editable = list(a.bs_editable)
    assert len(editable) == 2
    assert b1e in editable
    assert b1 not in editable


# --- 54 -------------------------------------------------------------------------


def test_s54_revert_deleted_child(session):
    """Scenario 54: a published child B1 deleted (X); reverting X leaves
    A.bs[0] PUBLISHED (and all of A's children PUBLISHED)."""
    a = published_a(session)
    b1 = child(a, 101)
    x = b1.delete()
    session.flush()
    assert x.status == clio.DELETED
    assert b1.status == clio.PUBLISHED_UNDER_DELETE

    assert x.revert() is b1

    assert a.bs[0].status == clio.PUBLISHED
    assert statuses(a.bs) == [clio.PUBLISHED, clio.PUBLISHED]
    assert [v.status for v in rows_of(session, B, 101)] == [clio.PUBLISHED]


# --- 55 -------------------------------------------------------------------------


def test_s55_revert_changed_child_of_editable(session):
    """Scenario 55: in E (edit of A), the first editable child was changed;
    reverting that child keeps E's 2 editable children and the first one's
    message is "B1" again."""
    a = published_a(session)
    e = a.edit()
    e1 = child(e, 101)
    e1.message = "changed"
    session.flush()

    assert e1.revert() is e1

    editable = by_code(e.bs_editable)
    assert len(editable) == 2
    assert editable[0] is e1
    assert e1.message == "B1"
    assert e1.status == clio.EDITABLE
    assert e1.a is e


# --- 56 -------------------------------------------------------------------------


def test_s56_revert_deleted_child_of_editable(session):
    """Scenario 56: in E, the first editable child was deleted (4);
    reverting it makes it EDITABLE again and E has 2 editable children."""
    a = published_a(session)
    e = a.edit()
    e1 = child(e, 101)
    b1 = child(a, 101)
    assert e1.delete() is e1
    assert e1.status == clio.DELETED_EDITABLE
    assert b1.status == clio.PUBLISHED_UNDER_DELETE

    assert e1.revert() is e1

    assert e1.status == clio.EDITABLE
    assert b1.status == clio.PUBLISHED_UNDER_EDIT
    editable = by_code(e.bs_editable)
    assert len(editable) == 2
    assert statuses(editable) == [clio.EDITABLE, clio.EDITABLE]


# --- 57 -------------------------------------------------------------------------


def test_s57_revert_parent_deletion_restores_children(session):
    """Scenario 57: reverting the pending deletion of a published A (through
    A itself, which delegates) makes the children PUBLISHED again.  SPEC
    §3.3 item 3 / reference §3.6: the children's deletions made by the
    parent's delete are reverted with it."""
    a = published_a(session)
    a.delete()
    session.flush()
    assert statuses(a.bs) == [clio.PUBLISHED_UNDER_DELETE] * 2

    assert a.revert() is a

    assert a.status == clio.PUBLISHED
    assert statuses(a.bs) == [clio.PUBLISHED, clio.PUBLISHED]
    assert count_rows(session, B) == 2
    assert count_rows(session, A) == 1


def test_s57_revert_parent_deletion_restores_child_pending_edit(session):
    """Scenario 57, child with a pending edit: deleting A turns the child's
    edit B1' into DELETED_EDITABLE; reverting A's deletion (SPEC §3.3 item 3)
    gives B1' back as EDITABLE, with its edits, and B1 is PUE again."""
    a = published_a(session)
    b1 = child(a, 101)
    b1e = b1.edit()
    b1e.message = "B1 edited"
    session.flush()
    x = a.delete()
    session.flush()
    assert b1e.status == clio.DELETED_EDITABLE
    assert b1.status == clio.PUBLISHED_UNDER_DELETE

    assert x.revert() is a

    assert a.status == clio.PUBLISHED
    assert b1e.status == clio.EDITABLE
    assert b1e.message == "B1 edited"
    assert b1.status == clio.PUBLISHED_UNDER_EDIT
    assert child(a, 102).status == clio.PUBLISHED
    session.flush()
    assert count_rows(session, B, B.status.in_(clio.DELETED_STATUSES)) == 0
    assert count_rows(session, A, A.status == clio.DELETED) == 0


# --- 58 -------------------------------------------------------------------------


def test_s58_revert_updatable(session):
    """Scenario 58: reverting an UPDATABLE U keeps it UPDATABLE and gives it
    the published version's content."""
    a = published_a(session, children=0)
    u = a.update()
    u.message = "changed"
    session.flush()

    assert u.revert() is u

    assert u.status == clio.UPDATABLE
    assert a.status == clio.PUBLISHED_UNDER_UPDATE
    assert u.message == a.message == "A"
    assert u.code == a.code
    assert u.published_start_timestamp is None
    assert u.published_userid is None
    session.flush()
    assert [v.status for v in rows_of(session, A, 1)] == [
        clio.PUBLISHED_UNDER_UPDATE,
        clio.UPDATABLE,
    ]


# --- 59 -------------------------------------------------------------------------


def test_s59_revert_published_resets_child_edit(session):
    """Scenario 59 (0.7 behaviour, kept): reverting a published A whose child
    B1 has a pending edit B1' resets B1' to B1's content; B1' stays
    EDITABLE and is not removed."""
    a = published_a(session)
    b1 = child(a, 101)
    b1e = b1.edit()
    b1e.message = "changed"
    session.flush()
    b1e_id = b1e.id

    assert a.revert() is a

    assert a.status == clio.PUBLISHED
    assert b1e.status == clio.EDITABLE
    assert b1e.message == "B1"
    assert b1.status == clio.PUBLISHED_UNDER_EDIT
    assert b1e in list(a.bs)
    stored = rows_of(session, B, 101)
    assert sorted(v.status for v in stored) == [clio.EDITABLE, clio.PUBLISHED_UNDER_EDIT]
    assert b1e_id in [v.id for v in stored]
