"""Reference §7, scenarios 60-74: relations under edit and publish, the
``_actual`` view, ``compare_relation`` and many-to-many links.

A has a dynamic one-to-many ``bs`` to B; C and D are linked many-to-many
(``D.cs`` a plain list, ``C.ds`` the dynamic backref).
"""

import sqlalchemy as sa

import clio
from clio.tests.models import A, B, C, D


# --- helpers ------------------------------------------------------------------


def by_code(rows):
    return sorted(rows, key=lambda row: (row.code, row.status))


def statuses(rows):
    return sorted(row.status for row in rows)


def ids(rows):
    return sorted(row.id for row in rows)


def published_a(session, code=1, children=2):
    """A PUBLISHED A ("A") with ``children`` published Bs, codes 101, 102, ..."""
    a = A(code, "A")
    session.add(a)
    for number in range(1, children + 1):
        a.bs.append(B(100 + number, f"B{number}"))
    a.publish()
    session.flush()
    return a


def child(parent, code, status=None):
    """The one child of ``parent`` with ``code`` (and ``status``, if given)."""
    found = [
        row
        for row in parent.bs_original
        if row.code == code and (status is None or row.status == status)
    ]
    assert len(found) == 1, found
    return found[0]


def linked_c_and_d(session, publish=True):
    """c0 and d0, linked through the pivot, both PUBLISHED unless told."""
    c0 = C(1, "c0")
    d0 = D(1, "d0")
    session.add_all([c0, d0])
    c0.ds.append(d0)
    session.flush()
    if publish:
        c0.publish()
        d0.publish()
        session.flush()
    return c0, d0


# --- 60, 61 ---------------------------------------------------------------------


def edit_with_two_new_children(session):
    a = published_a(session, children=0)
    e = a.edit()
    e.bs.append(B(101, "B1"))
    e.bs.append(B(102, "B2"))
    session.flush()
    return a, e


def test_s60_new_children_of_an_edit(session):
    """Scenario 60: an edit E of a childless published A gets 2 NEW Bs; A.bs
    stays empty, E.bs_editable has 2 NEW rows, E.bs_published and
    E.bs_archived are empty."""
    a, e = edit_with_two_new_children(session)

    assert list(a.bs) == []
    editable = list(e.bs_editable)
    assert len(editable) == 2
    assert statuses(editable) == [clio.NEW, clio.NEW]
    assert list(e.bs_published) == []
    assert list(e.bs_archived) == []
    assert [b.a for b in editable] == [e, e]


def test_s61_publish_edit_publishes_new_children(session):
    """Scenario 61 (continuing 60): publishing E publishes its 2 children;
    bs, bs_published and bs_editable agree, bs_archived is empty."""
    a, e = edit_with_two_new_children(session)

    assert e.publish() is e

    session.flush()
    published = list(e.bs_published)
    assert len(published) == 2
    assert statuses(published) == [clio.PUBLISHED, clio.PUBLISHED]
    assert ids(e.bs) == ids(e.bs_published) == ids(e.bs_editable)
    assert list(e.bs_archived) == []
    assert a.is_archived()
    assert list(a.bs) == []


# --- 62, 63 ---------------------------------------------------------------------


def test_s62_edit_copies_published_children(session):
    """Scenario 62: editing a published A with 2 published B gives E 2
    EDITABLE children (E.bs_published empty); A keeps 2 children in bs and
    bs_published, and A.bs_editable is empty."""
    a = published_a(session)

    e = a.edit()
    session.flush()

    e_children = list(e.bs)
    assert statuses(e_children) == [clio.EDITABLE, clio.EDITABLE]
    assert list(e.bs_published) == []
    assert len(list(e.bs_editable)) == 2
    assert len(list(a.bs_published)) == 2
    assert statuses(a.bs) == [clio.PUBLISHED_UNDER_EDIT] * 2
    assert list(a.bs_editable) == []
    # the children of E are new rows, not the published ones
    assert not set(ids(e_children)) & set(ids(a.bs))
    assert sorted(b.code for b in e_children) == [101, 102]


def test_s63_publish_edit_archives_old_children(session):
    """Scenario 63 (continuing 62, both children edited): after E is
    published, the archived A's bs_archived holds the old messages and E's
    children hold the new ones."""
    a = published_a(session)
    e = a.edit()
    for kid in e.bs:
        kid.message = kid.message + " new"
    session.flush()

    e.publish()
    session.flush()

    assert a.is_archived()
    assert e.status == clio.PUBLISHED
    old = by_code(a.bs_archived)
    assert [b.message for b in old] == ["B1", "B2"]
    assert all(b.is_archived() for b in old)
    new = by_code(e.bs)
    assert [b.message for b in new] == ["B1 new", "B2 new"]
    assert statuses(new) == [clio.PUBLISHED, clio.PUBLISHED]
    assert by_code(e.bs_published) == new


# --- 64 -------------------------------------------------------------------------------


def test_s64_edit_and_publish_a_single_child(session):
    """Scenario 64: editing B1 alone makes A.bs 3 rows (EDITABLE, PUBLISHED,
    PUE), bs_editable 2, bs_published 2; publishing B1' leaves 3 rows (1
    archived, 2 PUBLISHED), bs_archived 1, bs_editable and bs_published 2."""
    a = published_a(session)
    b1 = child(a, 101)

    b1e = b1.edit()
    session.flush()

    assert statuses(a.bs) == [
        clio.EDITABLE,
        clio.PUBLISHED,
        clio.PUBLISHED_UNDER_EDIT,
    ]
    assert len(list(a.bs_editable)) == 2
    assert len(list(a.bs_published)) == 2
    assert b1e.a is a

    assert b1e.publish() is b1e
    session.flush()

    rows = list(a.bs)
    assert len(rows) == 3
    assert sum(1 for b in rows if b.is_archived()) == 1
    assert sum(1 for b in rows if b.status == clio.PUBLISHED) == 2
    assert list(a.bs_archived) == [b1]
    assert len(list(a.bs_editable)) == 2
    assert len(list(a.bs_published)) == 2
    assert a.status == clio.PUBLISHED


# --- 65, 66 ---------------------------------------------------------------------


def test_s65_parent_edit_reuses_child_edit(session):
    """Scenario 65: B1 edited on its own, then A edited: E.bs_editable holds
    B1' itself (edited message, now attached to E) and a new copy of B2,
    both EDITABLE."""
    a = published_a(session)
    b1 = child(a, 101)
    b2 = child(a, 102)
    b1e = b1.edit()
    b1e.message = "B1 edited"
    session.flush()

    e = a.edit()
    session.flush()

    editable = by_code(e.bs_editable)
    assert len(editable) == 2
    assert editable[0] is b1e
    assert b1e.message == "B1 edited"
    assert b1e.a is e
    b2e = editable[1]
    assert b2e is not b2
    assert b2e.code == 102
    assert b2e.message == "B2"
    assert statuses(editable) == [clio.EDITABLE, clio.EDITABLE]
    # the PUE version of B1 stays with the old parent
    assert b1.a is a
    assert b1.status == clio.PUBLISHED_UNDER_EDIT
    assert b2.status == clio.PUBLISHED_UNDER_EDIT


def test_s66_publish_parent_edit_after_child_edit(session):
    """Scenario 66: B1 under edit, then A edited and published: the published
    version has 2 rows in bs_published."""
    a = published_a(session)
    b1e = child(a, 101).edit()
    b1e.message = "B1 edited"
    session.flush()
    e = a.edit()

    published = e.publish()
    session.flush()

    assert published is e
    rows = by_code(published.bs_published)
    assert len(rows) == 2
    assert statuses(rows) == [clio.PUBLISHED, clio.PUBLISHED]
    assert [b.message for b in rows] == ["B1 edited", "B2"]
    assert a.is_archived()
    assert len(list(a.bs_archived)) == 2


# --- 67 -------------------------------------------------------------------------------


def test_s67_deleted_child_is_editable_not_actual(session):
    """Scenario 67: in E with 2 editable children, deleting child 1 makes it
    editable but not actual; E.bs_editable has 2 rows, E.bs_actual 1."""
    a = published_a(session)
    e = a.edit()
    e1 = child(e, 101)

    assert e1.delete() is e1
    session.flush()

    assert e1.status == clio.DELETED_EDITABLE
    assert not e1.is_actual()
    assert e1.is_editable()
    assert len(list(e.bs_editable)) == 2
    actual = list(e.bs_actual)
    assert len(actual) == 1
    assert actual[0].code == 102


# --- 68-71 ---------------------------------------------------------------------------


def test_s68_compare_published(session):
    """Scenario 68: compare_relation('bs') on a published A with 2 B: nothing
    edited or deleted, both unchanged."""
    a = published_a(session)

    result = a.compare_relation("bs")

    assert result.edited == []
    assert result.deleted == []
    assert ids(result.unchanged) == ids(a.bs)
    assert len(result.unchanged) == 2


def test_s69_compare_editable(session):
    """Scenario 69: compare_relation('bs') on the edit E of 68: both children
    edited, none deleted or unchanged."""
    a = published_a(session)
    e = a.edit()
    session.flush()

    result = e.compare_relation("bs")

    assert len(result.edited) == 2
    assert ids(result.edited) == ids(e.bs)
    assert result.deleted == []
    assert result.unchanged == []


def test_s70_compare_with_edited_child(session):
    """Scenario 70: B1 edited under a published A: compare_relation('bs')
    gives edited = [B1'] and unchanged = [B2]."""
    a = published_a(session)
    b1e = child(a, 101).edit()
    b2 = child(a, 102)
    session.flush()

    result = a.compare_relation("bs")

    assert result.edited == [b1e]
    assert result.unchanged == [b2]
    assert result.deleted == []


def test_s71_compare_with_deleted_child(session):
    """Scenario 71: B1 deleted under a published A: compare_relation('bs')
    gives deleted = [the DELETED copy] and unchanged = [B2]."""
    a = published_a(session)
    x = child(a, 101).delete()
    b2 = child(a, 102)
    session.flush()
    assert x.status == clio.DELETED

    result = a.compare_relation("bs")

    assert result.deleted == [x]
    assert result.unchanged == [b2]
    assert result.edited == []


# --- 72-74 ---------------------------------------------------------------------------


def test_s72_many_to_many_publish_is_independent(session):
    """Scenario 72: NEW c0 linked to NEW d0 and d1; publishing c0 leaves 2
    rows in c0.ds and none in c0.ds_published; once d0 is published,
    c0.ds_published = [d0]."""
    c0 = C(1, "c0")
    d0 = D(1, "d0")
    d1 = D(2, "d1")
    session.add_all([c0, d0, d1])
    c0.ds.append(d0)
    c0.ds.append(d1)
    session.flush()

    c0.publish()
    session.flush()

    assert c0.status == clio.PUBLISHED
    assert ids(c0.ds) == ids([d0, d1])
    assert list(c0.ds_published) == []
    assert d0.status == d1.status == clio.NEW

    d0.publish()
    session.flush()

    assert list(c0.ds_published) == [d0]
    assert c0.status == clio.PUBLISHED
    assert d1.status == clio.NEW
    assert c0 in d0.cs


def test_s73_many_to_many_edit_copy_links(session):
    """Scenario 73: editing a published c0 linked to a published d0 gives a
    copy whose ds_published is [d0]; d0 is untouched."""
    c0, d0 = linked_c_and_d(session)

    copy = c0.edit()
    session.flush()

    assert copy.status == clio.EDITABLE
    assert list(copy.ds_published) == [d0]
    assert list(c0.ds) == [d0]
    assert d0.status == clio.PUBLISHED
    assert sorted(c.id for c in d0.cs) == sorted([c0.id, copy.id])


def test_s74_many_to_many_delete_copy_links(session):
    """Scenario 74: deleting a published c0 linked to a published d0 gives a
    DELETED copy whose ds_published is [d0]; d0 is untouched."""
    c0, d0 = linked_c_and_d(session)

    x = c0.delete()
    session.flush()

    assert x is not c0
    assert x.status == clio.DELETED
    assert c0.status == clio.PUBLISHED_UNDER_DELETE
    assert list(x.ds_published) == [d0]
    assert d0.status == clio.PUBLISHED
    # the pivot really holds both links
    links = session.execute(
        sa.select(sa.func.count()).select_from(D.cs.property.secondary).where(
            D.cs.property.secondary.c.d_id == d0.id
        )
    ).scalar()
    assert links == 2
