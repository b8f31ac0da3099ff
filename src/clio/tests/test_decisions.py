"""The decisions of SPEC §3.3, where clio deliberately differs from 0.7."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

import clio
from clio.tests.models import A, B, C, D, Plain


def published_a(session, code=1, children=2):
    a = A(code, "A")
    session.add(a)
    for n in range(children):
        a.bs.append(B(code * 10 + n, f"B{n + 1}"))
    session.flush()
    a.publish()
    session.flush()
    return a


def statuses(session, cls, code):
    return sorted(v.status for v in clio.versions(session, cls, code))


def all_b_statuses(session):
    session.flush()
    return sorted(session.scalars(sa.select(B.status)))


# -- item 1: errors are atomic -------------------------------------------------


def test_edit_of_deleted_updatable_raises_and_changes_nothing(session):
    """Item 1 (reference §8.9): 0.7 reverted the deletion before raising."""
    a = published_a(session, children=0)
    u = a.update()
    u.delete()
    session.flush()
    assert (u.status, a.status) == (clio.DELETED_UPDATABLE, clio.PUBLISHED_UNDER_DELETE)
    with pytest.raises(clio.EditError):
        u.edit()
    session.flush()
    assert (u.status, a.status) == (clio.DELETED_UPDATABLE, clio.PUBLISHED_UNDER_DELETE)


def test_update_of_deleted_editable_raises_and_changes_nothing(session):
    a = published_a(session, children=0)
    e = a.edit()
    e.message = "kept"
    e.delete()
    session.flush()
    with pytest.raises(clio.UpdateError):
        e.update()
    session.flush()
    assert (e.status, a.status, e.message) == (
        clio.DELETED_EDITABLE,
        clio.PUBLISHED_UNDER_DELETE,
        "kept",
    )


def test_publish_error_for_unpublished_parent_changes_nothing(session):
    a = A(1, "A")
    session.add(a)
    b = B(11, "B")
    a.bs.append(b)
    session.flush()
    with pytest.raises(clio.PublishError):
        b.publish()
    session.flush()
    assert (a.status, b.status) == (clio.NEW, clio.NEW)
    assert b.published_start_timestamp is None


# -- item 2: delete delegates from PUE / PUU ---------------------------------------


def test_delete_on_published_under_edit_delegates(session):
    a = published_a(session, children=0)
    e = a.edit()
    assert a.delete() is e
    assert (e.status, a.status) == (clio.DELETED_EDITABLE, clio.PUBLISHED_UNDER_DELETE)


def test_delete_on_published_under_update_delegates(session):
    a = published_a(session, children=0)
    u = a.update()
    assert a.delete() is u
    assert (u.status, a.status) == (clio.DELETED_UPDATABLE, clio.PUBLISHED_UNDER_DELETE)


# -- item 3: deleting trees with unpublished children ---------------------------------


def test_delete_published_parent_with_unpublished_children(session):
    """NEW children go, EDITABLE/UPDATABLE ones become deleted; publishing
    the deletion archives the whole tree (0.7 crashed, §8.10)."""
    a = published_a(session, children=2)
    b1, b2 = a.bs.order_by(B.code).all()
    b1_edit = b1.edit()
    b2_update = b2.update()
    fresh = B(99, "new")
    a.bs.append(fresh)
    session.flush()
    x = a.delete()
    session.flush()
    assert fresh not in session
    assert b1_edit.status == clio.DELETED_EDITABLE
    assert b2_update.status == clio.DELETED_UPDATABLE
    assert (b1.status, b2.status) == (clio.PUBLISHED_UNDER_DELETE,) * 2
    assert x.publish() is a
    session.flush()
    assert a.is_archived()
    assert all(s >= clio.ARCHIVED for s in all_b_statuses(session))
    assert session.scalar(sa.select(sa.func.count()).where(B.code == 99)) == 0


def test_delete_updatable_parent_retires_published_children(session):
    """Item 3 (reference §8.11): 0.7 left the children published."""
    a = published_a(session, children=2)
    u = a.update()
    u.delete()
    session.flush()
    assert u.status == clio.DELETED_UPDATABLE
    assert sorted(b.status for b in a.bs_original) == [clio.PUBLISHED_UNDER_DELETE] * 2
    assert u.publish() is a
    session.flush()
    assert a.is_archived()
    assert all(s >= clio.ARCHIVED for s in all_b_statuses(session))
    assert session.scalar(sa.select(sa.func.count()).select_from(A).where(A.status < 1000)) == 0


def test_revert_deleted_updatable_restores_children(session):
    a = published_a(session, children=2)
    u = a.update()
    u.delete()
    assert u.revert() is u
    session.flush()
    assert (u.status, a.status) == (clio.UPDATABLE, clio.PUBLISHED_UNDER_UPDATE)
    assert all_b_statuses(session) == [clio.PUBLISHED, clio.PUBLISHED]


# -- item 4: publishing an update -------------------------------------------------------


def test_publish_update_publishes_pending_children(session):
    """Reference §8.12: 0.7 moved a NEW child over but left it NEW."""
    a = published_a(session, children=1)
    u = a.update()
    u.bs.append(B(50, "added through the update"))  # lands on the published version
    session.flush()
    u.publish()
    session.flush()
    assert sorted(b.status for b in u.bs) == [clio.PUBLISHED, clio.PUBLISHED]
    assert list(a.bs_original) == []


def test_publish_update_keeps_many_to_many_links(session):
    """Reference §8.13: 0.7 lost the links of the new published version."""
    c = C(1, "c")
    d = D(1, "d")
    session.add_all([c, d])
    d.cs.append(c)
    session.flush()
    c.publish()
    d.publish()
    session.flush()
    u = c.update()
    u.publish()
    session.flush()
    assert [x.code for x in u.ds] == [1]
    assert [x.code for x in c.ds] == [1]  # the archive keeps its links too


# -- item 5: parent checks ----------------------------------------------------------------


def test_edited_child_cannot_be_published_under_editable_parent(session):
    """Reference §8.14: 0.7 skipped the check for EDITABLE children."""
    a = published_a(session, children=1)
    e = a.edit()
    child = e.bs.one()
    with pytest.raises(clio.PublishError):
        child.publish()
    assert child.status == clio.EDITABLE


def test_null_parent_is_allowed(session):
    from clio.tests.models import Section

    section = Section(code=1, text="orphan")
    session.add(section)
    session.flush()
    assert section.publish() is section
    assert section.status == clio.PUBLISHED


def test_pending_children_of_version_under_edit_follow_the_edit(session):
    """Reference §8.15: children added to the published parent while its
    edit is pending are published with the edit, not archived away."""
    a = published_a(session, children=1)
    e = a.edit()
    late = B(77, "late")
    a.bs_original.append(late)
    session.flush()
    e.publish()
    session.flush()
    assert late.status == clio.PUBLISHED
    assert late.a is e
    assert sorted(b.code for b in e.bs_published) == [10, 77]


# -- item 6: archive numbers per code -------------------------------------------------------


def test_archive_numbers_are_per_code_and_increase(session):
    first = published_a(session, code=1, children=0)
    other = published_a(session, code=2, children=0)
    v2 = first.edit()
    v2.publish()
    v3 = v2.edit()
    v3.publish()
    o2 = other.edit()
    o2.publish()
    session.flush()
    assert (first.status, v2.status) == (1000, 1001)
    assert other.status == 1000


# -- item 7: immutability ---------------------------------------------------------------------


def test_published_version_is_immutable(session):
    a = published_a(session, children=0)
    with pytest.raises(clio.ImmutableVersionError):
        a.message = "changed in place"
    assert a.message == "A"


def test_archived_version_is_immutable(session):
    a = published_a(session, children=0)
    a.edit().publish()
    with pytest.raises(clio.ImmutableVersionError):
        a.message = "rewrite history"


def test_foreign_key_of_published_child_is_immutable(session):
    a = published_a(session, children=1)
    other = published_a(session, code=2, children=0)
    child = a.bs.one()
    with pytest.raises(clio.ImmutableVersionError):
        child.a_id = other.id
    with pytest.raises(clio.ImmutableVersionError):
        child.a = other


def test_new_child_may_be_attached_to_published_parent(session):
    a = published_a(session, children=0)
    a.bs.append(B(5, "new child"))
    session.flush()
    assert [b.status for b in a.bs] == [clio.NEW]


def test_immutability_opt_out(session, monkeypatch):
    a = published_a(session, children=0)
    monkeypatch.setattr(A, "__clio_immutable__", False)
    a.message = "migrated"
    session.flush()
    assert a.message == "migrated"


def test_published_after_reload_is_still_immutable(session):
    published_a(session, children=0)
    session.commit()
    session.expunge_all()
    again = session.scalars(sa.select(A).where(A.code == 1)).one()
    with pytest.raises(clio.ImmutableVersionError):
        again.message = "x"


# -- item 8: discard ----------------------------------------------------------------------------


def test_discard_edit_returns_to_plain_published(session):
    a = published_a(session, children=2)
    e = a.edit()
    e.message = "draft"
    assert e.discard() is a
    session.flush()
    assert a.status == clio.PUBLISHED
    assert statuses(session, A, 1) == [clio.PUBLISHED]
    assert all_b_statuses(session) == [clio.PUBLISHED, clio.PUBLISHED]


def test_discard_from_published_under_edit_delegates(session):
    a = published_a(session, children=0)
    a.edit()
    assert a.discard() is a
    session.flush()
    assert statuses(session, A, 1) == [clio.PUBLISHED]


def test_discard_update_and_deletion(session):
    a = published_a(session, children=1)
    a.update()
    assert a.discard() is a
    x = a.delete()
    assert x.discard() is a
    session.flush()
    assert statuses(session, A, 1) == [clio.PUBLISHED]
    assert all_b_statuses(session) == [clio.PUBLISHED]


def test_discard_deleted_edit_throws_both_away(session):
    a = published_a(session, children=0)
    e = a.edit()
    e.delete()
    assert e.discard() is a
    session.flush()
    assert statuses(session, A, 1) == [clio.PUBLISHED]


def test_discard_new_removes_it_and_children(session):
    a = A(1, "A")
    session.add(a)
    a.bs.append(B(11, "child"))
    session.flush()
    assert a.discard() is None
    session.flush()
    assert statuses(session, A, 1) == []
    assert all_b_statuses(session) == []


def test_discard_on_published_and_archived_is_a_no_op(session):
    a = published_a(session, children=0)
    assert a.discard() is a
    e = a.edit()
    e.publish()
    assert a.discard() is a
    assert a.is_archived()


def test_discard_keeps_childs_own_earlier_edit(session):
    """A child edited on its own before the parent's edit keeps its edit,
    attached again to the published parent."""
    a = published_a(session, children=2)
    b1, b2 = a.bs.order_by(B.code).all()
    b1_edit = b1.edit()
    b1_edit.message = "own edit"
    session.flush()
    e = a.edit()
    assert b1_edit.a is e
    e.discard()
    session.flush()
    assert b1_edit.status == clio.EDITABLE
    assert b1_edit.a is a
    assert b1_edit.message == "own edit"
    assert b2.status == clio.PUBLISHED
    assert sorted(b.status for b in a.bs) == [
        clio.EDITABLE,
        clio.PUBLISHED,
        clio.PUBLISHED_UNDER_EDIT,
    ]


# -- item 9: clio removes children of a NEW object it removes ----------------------------------


def test_removing_new_parent_removes_children_without_cascade(session):
    from clio.tests.models import Page, Paragraph

    page = Page(code=1, title="p")
    page.paragraphs.append(Paragraph(code=1, text="x"))
    session.add(page)
    session.flush()
    assert page.delete() is None
    session.flush()
    assert session.scalar(sa.select(sa.func.count()).select_from(Paragraph)) == 0


def test_class_level_relation_works_in_queries(session):
    """Reference §8.18: ``A.bs`` failed at class level in 0.7."""
    published_a(session, children=2)
    rows = session.scalars(
        sa.select(B).join(A.bs).where(A.code == 1).order_by(B.code)
    ).all()
    assert [b.code for b in rows] == [10, 11]
    published = session.scalars(sa.select(B).join(A.bs_published)).all()
    assert len(published) == 2


# -- item 10: timestamps --------------------------------------------------------------------------


def test_timestamps_are_aware_utc_with_microseconds(session, clock):
    clock.step = timedelta(microseconds=1)
    a = published_a(session, children=0)
    e = a.edit()
    e.publish()
    session.commit()
    session.expire_all()
    assert a.published_end_timestamp == e.published_start_timestamp
    assert e.published_start_timestamp.tzinfo is not None
    assert e.published_start_timestamp.utcoffset() == timedelta(0)
    assert e.created_timestamp.microsecond != 0 or a.created_timestamp.microsecond != 0


# -- item 12: user ids --------------------------------------------------------------------------------


def test_session_userid_wins_over_utility(session, userids):
    session.info["clio.userid"] = "alice"
    a = A(1, "A")  # built outside the session: the utility answers u0
    session.add(a)
    session.flush()
    assert (a.created_userid, a.changed_userid) == ("alice", "alice")
    a.publish()
    assert a.published_userid == "alice"


def test_session_userid_may_be_callable(session):
    session.info["clio.userid"] = lambda: "bob"
    a = A(1, "A")
    session.add(a)
    a.publish()
    assert (a.created_userid, a.published_userid) == ("bob", "bob")


def test_unknown_userid_without_any_provider(session):
    a = A(1, "A")
    session.add(a)
    a.publish()
    assert a.published_userid == "unknown"


# -- bad input ------------------------------------------------------------------------------------------


def test_transition_outside_a_session(session):
    a = A(1, "A")
    with pytest.raises(clio.DetachedVersionError):
        a.publish()
    assert a.status == clio.NEW


def test_unknown_status_value(session):
    a = A(1, "A")
    session.add(a)
    session.flush()
    session.execute(sa.update(A.__table__).values(status=42))
    session.expire(a)
    with pytest.raises(clio.UnknownStatusError):
        a.publish()
    with pytest.raises(clio.ClioError):
        a.edit()


@pytest.mark.parametrize("code", [None, "7", 1.5, True])
def test_code_must_be_an_integer(code):
    with pytest.raises(clio.InvalidCodeError):
        A(code)


def test_workflowed_needs_a_code():
    from clio.tests.models import Page

    with pytest.raises(clio.InvalidCodeError):
        Page(title="no code")


def test_code_changed_to_garbage_is_refused_at_flush(session):
    a = A(1, "A")
    session.add(a)
    a.code = "x"
    with pytest.raises(clio.InvalidCodeError):
        session.flush()


def test_compare_relation_on_unknown_name(session):
    a = published_a(session, children=0)
    with pytest.raises(clio.RelationError):
        a.compare_relation("nothing")
    with pytest.raises(clio.RelationError):
        a.compare_relation("message")


def test_all_errors_are_clio_errors():
    for name in (
        "PublishError EditError UpdateError DeleteError RevertError "
        "ImmutableVersionError ConflictError ScheduleError UnknownStatusError "
        "DetachedVersionError InvalidCodeError RelationError ViewError "
        "CompareError DiscardError ExpireError"
    ).split():
        assert issubclass(getattr(clio, name), clio.ClioError)


def test_conflict_error_is_retryable_by_transaction():
    from transaction.interfaces import TransientError

    assert issubclass(clio.ConflictError, TransientError)


# -- unique constraint as the last line of defence ------------------------------------------------------


def test_unique_constraint_refuses_two_published_versions(session):
    session.add_all([Plain(1, "x"), Plain(1, "y")])
    for p in session.new:
        p.status = clio.PUBLISHED
    with pytest.raises(sa.exc.IntegrityError):
        session.flush()
    session.rollback()


def test_constraint_and_index_names_include_the_table_name():
    table = clio.Table("thing", sa.MetaData(), sa.Column("x", sa.Integer))
    names = {c.name for c in table.constraints if isinstance(c, sa.UniqueConstraint)}
    names |= {i.name for i in table.indexes}
    assert names and all("thing" in n for n in names)


# -- statement counts (SPEC §6) ------------------------------------------------------------------------


def test_edit_and_publish_cost_at_most_four_statements(session, count_statements):
    p = Plain(1, "x")
    session.add(p)
    p.publish()
    session.commit()
    p.status  # load after commit, outside the count
    with count_statements() as counted:
        e = p.edit()
        session.flush()
    assert len(counted) <= 4, counted.statements
    e.name = "y"
    session.flush()
    with count_statements() as counted:
        e.publish()
        session.flush()
    assert len(counted) <= 4, counted.statements
    assert (p.status, e.status) == (1000, clio.PUBLISHED)


def test_change_to_an_expired_published_version_is_refused_at_flush(session):
    """After a commit the version is expired, so the set-time guard cannot
    see its status; the flush checks it against the database instead."""
    a = published_a(session, children=0)
    session.commit()
    a.message = "sneaked in"
    with pytest.raises(clio.ImmutableVersionError):
        session.flush()
    session.rollback()
    assert a.message == "A"
