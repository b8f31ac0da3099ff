"""A run: one transition's shared state and its work with the database.

Each public transition (and each bulk batch) is one :class:`Run`.  It takes
one timestamp and asks for the user id at most once; it locks the live
versions of every object it touches (``SELECT ... FOR UPDATE`` on MariaDB
and PostgreSQL, so concurrent transitions on one object serialise), a tree
level at a time where it walks a tree; it reads archive numbers in grouped
queries; and it writes clio's bookkeeping columns set-wise
(:meth:`Run.write`, :meth:`Run.send`).  The workflow's rules live in
:mod:`clio.workflow`; this module is how they reach the database.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import attributes, object_session

from clio import status as st
from clio.classcache import class_cache
from clio.exceptions import ConflictError, DetachedVersionError, UnknownStatusError
from clio.model import check_code
from clio.relations import batch_loadable, key_pairs, needs_load, relations_of
from clio.session import inserted_here, mark_written, register_written
from clio.userid import current_userid

# --- runs ---------------------------------------------------------------------


def is_conflict(error: sa_exc.DBAPIError) -> bool:
    """Whether a database error means another transaction got there first."""
    orig = getattr(error, "orig", None)
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if code in ("40001", "40P01", "55P03"):
        return True
    args = getattr(orig, "args", ())
    return bool(args) and args[0] in (1205, 1213)  # MariaDB lock timeout, deadlock


def _versioned_tables() -> set[str]:
    from clio.model import _versioned_classes

    return {sa.inspect(cls).local_table.name for cls in _versioned_classes()}


@sa.event.listens_for(sa.engine.Engine, "handle_error")
def _lost_race(context):
    """A deadlock or serialisation failure on a versioned table means two
    transitions raced: say so with ConflictError, which pyramid_retry
    retries.  Unique violations stay IntegrityError (SPEC §4.1)."""
    error = context.sqlalchemy_exception
    if not isinstance(error, sa_exc.DBAPIError) or not is_conflict(error):
        return
    statement = (context.statement or "").lower()
    if any(name.lower() in statement for name in _versioned_tables()):
        raise ConflictError(f"concurrent change: {error.orig}") from error


#: Codes per ``IN (...)`` list when many objects are locked at once.
CHUNK = 500


def _chunks(items: list, size: int = CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def base_mapper(cls):
    """``sa.inspect(cls).base_mapper``, cached: a run asks for it for
    every version it touches."""
    return class_cache(cls, "base_mapper", lambda: sa.inspect(cls).base_mapper)


def live_or_ending(cls, now):
    """The versions a transition works on: those not archived, and archives
    whose published life ends after ``now`` (a pending schedule)."""
    return sa.or_(cls.status < st.ARCHIVED, cls.published_end_timestamp > now)


class _JSONList(sa.types.TypeDecorator):
    """A list parameter sent as one JSON array (see :func:`_list_param`)."""

    impl = sa.Unicode
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else json.dumps(list(value))


def _json_list(dialect: str, column) -> bool:
    """Whether a list of values of ``column`` travels as a JSON array: on
    SQLite 3.38 and later (``json_each`` built in), for integer columns
    (codes, ids, the usual keys).  Values of other types need their type's
    conversion, which an expanding parameter applies to each."""
    return (
        dialect == "sqlite"
        and sqlite3.sqlite_version_info >= (3, 38)
        and isinstance(column.type, sa.Integer)
    )


def _list_param(name: str, dialect: str, column) -> sa.BindParameter:
    """The list parameter ``name`` of a run's statement, of values of
    ``column``: an expanding one (``IN (?, ?, ...)``, rendered anew for
    each length at each run), or one JSON array read with ``json_each``
    (see :func:`_json_list`), so that the statement's text stays the same
    and SQLAlchemy does not rewrite it at every run (a tenth of the cost of
    a bookkeeping ``UPDATE`` of ten children on SQLite)."""
    if _json_list(dialect, column):
        return sa.bindparam(name, type_=_JSONList())
    return sa.bindparam(name, expanding=True)


def _listed(param: sa.BindParameter):
    """``param`` (see :func:`_list_param`) as something ``IN`` takes."""
    if isinstance(param.type, _JSONList):
        return sa.select(sa.func.json_each(param).table_valued("value").c.value)
    return param


class Statements(NamedTuple):
    lock: sa.Select
    lock_many: sa.Select
    archive_max: sa.Select
    archive_max_many: sa.Select


def statements(cls, dialect: str) -> Statements:
    """The run's queries for ``cls``, built once per class and dialect.

    ``lock`` reads an object's live versions (and those whose published
    life ends in the future), refreshing what the session holds, with
    ``FOR UPDATE`` where the database has row locks (on SQLite through
    :func:`_live_ids`, so that it stays as fast however long the object's
    history is); ``lock_many`` does the same for a list of codes
    (``:codes``, see :func:`_list_param` and :func:`_live_ids_many`).
    ``archive_max`` finds the highest archive number of an object,
    ``archive_max_many`` of each of a list of codes (``:codes``; one array
    on PostgreSQL, see :func:`_archive_max_each`); they are Core
    statements on the table (no objects to load), and on MariaDB locking
    reads, because InnoDB's plain reads see the transaction's old
    snapshot, not what a winner committed while we waited.
    """

    def build():
        columns = sa.inspect(cls).base_mapper.columns
        code_column, status = columns["code"], columns["status"]
        code, codes, now = (
            sa.bindparam("code"),
            _list_param("codes", dialect, code_column),
            sa.bindparam("now"),
        )
        if dialect == "sqlite":
            lock = sa.select(cls).where(cls.id.in_(_live_ids(cls, code, now)))
        else:
            lock = sa.select(cls).where(cls.code == code, live_or_ending(cls, now))
        lock = lock.execution_options(populate_existing=True)
        if isinstance(codes.type, _JSONList):
            lock_many = sa.select(cls).where(cls.id.in_(_live_ids_many(cls, codes, now)))
        else:
            lock_many = sa.select(cls).where(cls.code.in_(codes), live_or_ending(cls, now))
        lock_many = lock_many.order_by(cls.code, cls.id).execution_options(populate_existing=True)
        archive_max = sa.select(sa.func.max(status)).where(code_column == code)
        if dialect == "postgresql":
            archive_max_many = _archive_max_each(code_column, status)
        else:
            archive_max_many = (
                sa.select(code_column, sa.func.max(status))
                .where(code_column.in_(_listed(codes)))
                .group_by(code_column)
            )
        if dialect != "sqlite":
            lock = lock.with_for_update()
            lock_many = lock_many.with_for_update()
        if dialect in ("mysql", "mariadb"):
            archive_max = archive_max.with_for_update()
            archive_max_many = archive_max_many.with_for_update()
        return Statements(lock, lock_many, archive_max, archive_max_many)

    return class_cache(cls, ("statements", dialect), build)


def _archive_max_each(code, status) -> sa.Select:
    """``archive_max_many`` on PostgreSQL: the highest status of each code
    of ``:codes`` (passed as one array), found by one probe per code::

        SELECT clio_each.code, (SELECT max(status) ... WHERE code = clio_each.code)
        FROM unnest(:codes) AS clio_each (code)

    Grouped (``WHERE code IN (...) GROUP BY code``), PostgreSQL reads
    every ``(code, status)`` index entry of every code, so publishing a
    tree whose children have a thousand versions each spent 2.2 ms on it;
    ``max`` of one code is a single step down the index from its end.
    """
    codes = sa.bindparam("codes", type_=postgresql.ARRAY(code.type))
    each = sa.func.unnest(codes).table_valued("code").render_derived(name="clio_each")
    top = sa.select(sa.func.max(status)).where(code == each.c.code).scalar_subquery()
    return sa.select(each.c.code, top)


def _aliased(columns, name: str, fk=None) -> dict:
    """An alias ``name`` of the table holding ``columns`` (a mapper's
    columns), as its columns by key: id, code, status and the validity
    interval, and ``fk`` (a column of the table) as ``"fk"``."""
    aliased = columns["code"].table.alias(name)
    keys = ("id", "code", "status", "published_start_timestamp", "published_end_timestamp")
    found = {key: aliased.corresponding_column(columns[key]) for key in keys}
    if fk is not None:
        found["fk"] = aliased.corresponding_column(fk)
    return found


def _ending_after(ending: dict, latest: dict, code, now) -> sa.ColumnElement:
    """The criterion on ``ending`` (an :func:`_aliased` table) for the
    archives of object ``code`` whose published life ends after ``now``,
    as index ranges of ``(code, published_start_timestamp)``: they start
    no earlier than the version live at ``now`` (the latest start by then,
    found in ``latest``), or than ``now`` itself if none has started.
    Exact while validity intervals do not overlap (see :func:`_live_ids`).
    """
    start, end = "published_start_timestamp", "published_end_timestamp"
    started = (
        sa.select(sa.func.max(latest[start]))
        .where(latest["code"] == code, latest[start] <= now)
        .scalar_subquery()
    )
    bound = sa.func.coalesce(started, sa.type_coerce(now, ending[start].type))
    return sa.and_(ending["code"] == code, ending[end] > now, ending[start] >= bound)


def _live_ids(cls, code, now) -> sa.CompoundSelect:
    """The ids of the versions :func:`live_or_ending` selects of one
    object, in a form every row of which an index range finds::

        SELECT id ... WHERE code = :code AND status < 1000
        UNION ALL
        SELECT id ... WHERE code = :code AND published_end_timestamp > :now
          AND published_start_timestamp >= coalesce(
              (SELECT max(published_start_timestamp) ... WHERE code = :code
                 AND published_start_timestamp <= :now), :now)

    SQLite plans the plain criterion (``code = ? AND (status < 1000 OR
    end > now)``) through the code index and filters, visiting every
    version of the object (30 ms an edit at 100,000 versions here).  Here
    the first branch is a range of the ``(code, status)`` index.  The
    second needs the validity intervals not to overlap (what
    :mod:`clio.check` verifies): a version whose life ends after ``now``
    either started after ``now`` or is the one live at ``now``, which is
    the latest to start by then, so no archive ending in the future starts
    before that start, and a range of ``(code, published_start_timestamp)``
    finds them.  The branches are disjoint (an archive is not below 1000).

    The other databases keep the plain criterion.  MariaDB merges the
    ``(code, status)`` and ``published_end_timestamp`` ranges by itself,
    and runs ``IN`` over a ``UNION`` once per row of the table.  PostgreSQL
    plans the plain criterion by index ranges too, and this form cost it
    10% more per edit (planning); only a generic plan of a prepared
    statement can fall back to the code index (see docs/benchmarks.rst).
    """
    columns = base_mapper(cls).columns
    live, ending, latest = (
        _aliased(columns, f"clio_{name}") for name in ("live", "ending", "latest")
    )
    return sa.union_all(
        sa.select(live["id"]).where(live["code"] == code, live["status"] < st.ARCHIVED),
        sa.select(ending["id"]).where(_ending_after(ending, latest, code, now)),
    )


def _live_ids_many(cls, codes, now) -> sa.CompoundSelect:
    """:func:`_live_ids` for a list of codes (``codes``, a JSON array), on
    SQLite::

        SELECT id ... WHERE code IN (SELECT value FROM json_each(:codes))
          AND status < 1000
        UNION ALL
        SELECT ending.id FROM json_each(:codes) AS each
          JOIN ... AS ending ON ending.code = each.value
           AND ending.published_end_timestamp > :now
           AND ending.published_start_timestamp >= coalesce(
               (SELECT max(published_start_timestamp) ... WHERE code =
                  each.value AND published_start_timestamp <= :now), :now)

    The archives ending in the future need the start of each object's
    version live now as their bound, one per code: the list of codes,
    read as a table (``json_each``, built into SQLite since 3.38; an
    older SQLite gets the plain criterion), drives the join, so that the
    subquery runs once per code and bounds a range of ``(code,
    published_start_timestamp)``.
    """
    columns = base_mapper(cls).columns
    live, ending, latest = (
        _aliased(columns, f"clio_{name}") for name in ("live", "ending", "latest")
    )
    each = sa.func.json_each(codes).table_valued("value").alias("clio_each")
    return sa.union_all(
        sa.select(live["id"]).where(
            live["code"].in_(_listed(codes)), live["status"] < st.ARCHIVED
        ),
        sa.select(ending["id"])
        .select_from(each)
        .join(ending["id"].table, _ending_after(ending, latest, each.c.value, now)),
    )


def _children_and_versions(prop, dialect: str) -> sa.Select:
    """The query of :meth:`Run.lock_children` for the one-to-many
    ``prop`` (built once per relation and dialect)."""

    def build():
        cls = prop.mapper.class_
        ((_local, remote),) = prop.synchronize_pairs
        keys, now = _list_param("keys", dialect, remote), sa.bindparam("now")
        if dialect == "sqlite":
            rows = _children_rows(prop, remote, keys, now, sa.union_all)
            stmt = sa.select(cls).where(cls.id.in_(rows))
        elif dialect in ("mysql", "mariadb"):
            # The rows found first, then each by its primary key: left to
            # itself MariaDB may scan the table instead (and lock it all).
            found = _children_rows(prop, remote, keys, now, sa.union).subquery("clio_rows")
            stmt = (
                sa.select(cls)
                .select_from(found)
                .join(cls, cls.id == found.c.id)
                .prefix_with("STRAIGHT_JOIN")
            )
        else:
            siblings = _aliased(prop.mapper.columns, "clio_siblings", fk=remote)
            codes = sa.select(siblings["code"]).where(siblings["fk"].in_(keys))
            # Every row under the parents has its code among ``codes``: the
            # database finds all rows through the code index, then keeps
            # those under the parents and the live ones.  The filter is
            # wrapped in coalesce() so that PostgreSQL cannot OR the
            # parents' key index with the status index instead: every
            # live row of the table (it does on small tables).
            wanted = sa.or_(remote.in_(keys), live_or_ending(cls, now))
            stmt = sa.select(cls).where(cls.code.in_(codes), sa.func.coalesce(wanted, sa.false()))
        stmt = stmt.execution_options(populate_existing=True)
        if prop.order_by:
            stmt = stmt.order_by(*prop.order_by)
        return stmt.with_for_update() if dialect != "sqlite" else stmt

    return class_cache(prop.parent.class_, ("children_and_versions", prop.key, dialect), build)


def _children_keys(prop, dialect: str) -> sa.Select:
    """``SELECT id, fk ... WHERE fk IN :keys`` for the one-to-many
    ``prop``: which rows hang under the parents, for
    :meth:`Run._differing` (built once per relation and dialect)."""

    def build():
        ((_local, remote),) = prop.synchronize_pairs
        (ident,) = prop.mapper.primary_key
        keys = _list_param("keys", dialect, remote)
        return sa.select(ident, remote).where(remote.in_(_listed(keys)))

    return class_cache(prop.parent.class_, ("children_keys", prop.key, dialect), build)


def _children_rows(prop, remote, keys, now, union) -> sa.CompoundSelect:
    """The ids of the rows :meth:`Run.lock_children` reads, for SQLite and
    MariaDB: the rows under the parents (their keys ``keys``, a list
    parameter, see :func:`_list_param`), and the live versions and the
    archives ending in the future of their objects::

        SELECT id ... WHERE fk IN :keys
        UNION SELECT id ... WHERE code IN (<codes under the parents>)
                              AND status < 1000
        UNION SELECT ending.id FROM <rows under the parents> AS kin
              JOIN ... AS ending ON ending.code = kin.code
               AND ending.published_end_timestamp > :now
               AND ending.published_start_timestamp >= coalesce(
                   (SELECT max(published_start_timestamp) ... WHERE code =
                      kin.code AND published_start_timestamp <= :now), :now)

    Each branch is index ranges, like :func:`_live_ids` for one object:
    the third bounds each child's archives by the start of its version
    live now, found once per child (the subquery follows the row of
    ``kin``, which drives the join).  ``union`` is ``sa.union`` where the
    rows are joined (a row is found by two branches), ``sa.union_all``
    under ``IN``.  Finding the rows through the code
    index alone visits every version of every child: a tree edited a
    thousand times pays that on every level (10 ms a level on MariaDB for
    ten children, 2.6 ms on SQLite; 2.1 and 0.3 ms this way).  MariaDB
    needs the union as a joined derived table (it runs ``IN`` over a union
    once per row of the table), SQLite takes either; PostgreSQL plans the
    plain form better than this one and keeps it.
    """
    columns = prop.mapper.columns
    under, kin, codes_under, live, ending, latest = (
        _aliased(columns, f"clio_{name}", fk=remote)
        for name in ("under", "kin", "codes", "live", "ending", "latest")
    )
    codes = sa.select(codes_under["code"]).where(codes_under["fk"].in_(_listed(keys)))
    return union(
        sa.select(under["id"]).where(under["fk"].in_(_listed(keys))),
        sa.select(live["id"]).where(live["code"].in_(codes), live["status"] < st.ARCHIVED),
        sa.select(ending["id"])
        .select_from(kin["id"].table)
        .join(ending["id"].table, _ending_after(ending, latest, kin["code"], now))
        .where(kin["fk"].in_(_listed(keys))),
    )


def check_version(version) -> None:
    """What every transition checks of its version before anything else:
    an integer code and a status clio knows."""
    check_code(version.code)
    if not st.is_known_status(version.status):
        raise UnknownStatusError(
            f"{type(version).__name__} code={version.code} has unknown "
            f"status {version.status!r}"
        )


class Run:
    """State shared by one top-level transition and everything it does."""

    def __init__(self, version, at: datetime | None = None):
        session = object_session(version)
        if session is None:
            raise DetachedVersionError(
                f"{type(version).__name__} code={getattr(version, 'code', None)!r} "
                f"belongs to no session; add it to one first"
            )
        check_version(version)
        self.session = session
        self.dialect = session.get_bind().dialect.name
        self.now = type(version)._now()
        self.at = at
        self._userid = None
        self._versions: dict = {}
        self._archive_max: dict = {}
        self.removed: set = set()
        # Bookkeeping values written to stored versions, not yet sent:
        # id(version) -> (version, {attribute: value}); see write().
        self._writes: dict = {}
        # What the run did, in order, for the events sent afterwards.
        self.copies: list = []
        self.published: list = []
        self.archived: list = []
        self.cancelling = False

    @property
    def userid(self) -> str:
        if self._userid is None:
            self._userid = current_userid(self.session)
        return self._userid

    @property
    def moment(self) -> datetime:
        """When publications and archivings of this run take effect."""
        return self.at if self.at is not None else self.now

    # -- the versions of one object, locked ------------------------------------

    def _key(self, version):
        return (base_mapper(type(version)), version.code)

    def _ours(self, version) -> bool:
        """Whether ``version`` is a new object this transaction inserted:
        then it is its object's only version, and no other transaction can
        see it (:func:`clio.session.inserted_here`), so there is nothing to
        lock or read again.  Publishing an object created in the same
        request costs its ``UPDATE`` alone; a new tree's loaded
        collections are walked as they are once one query has found them
        complete (:meth:`_differing`)."""
        return version.status == st.NEW and inserted_here(self.session, version)

    def versions(self, version) -> list:
        """The live versions of ``version``'s object (and those whose
        published life ends in the future), locked for this transaction."""
        key = self._key(version)
        found = self._versions.get(key)
        if found is None and self._ours(version):
            found = self._versions[key] = [version]
        if found is None:
            cls = key[0].class_
            stmt = statements(cls, self.dialect).lock
            self.send()  # the lock refreshes what it reads
            found = list(self.session.scalars(stmt, {"code": version.code, "now": self.now}))
            self._versions[key] = found
            self._include(version)
        return [v for v in self._versions[key] if not self.is_gone(v)]

    def _include(self, version) -> None:
        """Make sure ``version`` is among its object's locked versions."""
        found = self._versions[self._key(version)]
        if version in found or self.is_gone(version):
            return
        state = sa.inspect(version)
        if state.persistent and not st.is_archived_status(version.status):
            # The row no longer matches: a concurrent transaction archived
            # or removed it while we waited for the lock.
            raise ConflictError(
                f"{type(version).__name__} code={version.code} was changed by "
                f"another transaction; reload it and try again"
            )
        found.append(version)

    def prefetch(self, versions, archives: bool = False) -> None:
        """Lock the objects of many versions at once (one query per class
        and chunk of codes), and with ``archives`` read their archive
        numbers in one grouped query, so that walking a tree or a batch
        costs a few statements instead of a few per object."""
        if not versions:
            return
        by_base: dict = {}
        for version in versions:
            key = self._key(version)
            if key in self._versions:
                continue
            if self._ours(version):
                self._versions[key] = [version]
            else:
                by_base.setdefault(key[0], set()).add(key[1])
        if by_base:
            self.send()  # the lock refreshes what it reads
        for base, codes in by_base.items():
            stmt = statements(base.class_, self.dialect).lock_many
            for chunk in _chunks(sorted(codes)):
                found: dict = {code: [] for code in chunk}
                params = {"codes": chunk, "now": self.now}
                for row in self.session.scalars(stmt, params):
                    found[row.code].append(row)
                for code, rows in found.items():
                    self._versions[(base, code)] = rows
        for version in versions:
            self._include(version)
        if archives:
            self._prefetch_archive_numbers(versions)

    def lock_children(self, parents) -> None:
        """Load the one-to-many collections of ``parents`` that need
        loading and lock the live versions of the children's objects, in
        one query per relation::

            SELECT child ... WHERE child.code IN (
                SELECT code ... WHERE fk IN (:parents))
              AND (child.fk IN (:parents) OR <live or ending>)  FOR UPDATE

        The rows under the parents (whatever their status) fill the
        collections; the live ones are each child object's locked
        versions, as :meth:`prefetch` would lock them.  A walk down a tree
        needs both, and this costs one statement and one load of each row
        instead of two.  Relations it cannot serve (dynamic, a join
        condition of their own, a child class over several tables) are
        left to :func:`clio.relations.load_children` and :meth:`prefetch`.
        A loaded collection of a new object this transaction inserted is
        kept if it lists what the database holds (:meth:`_differing`).
        """
        wanted: dict = {}
        held: dict = {}
        for parent in parents:
            one_to_many = relations_of(type(parent)).one_to_many
            if not one_to_many:
                continue
            state = attributes.instance_state(parent)
            if state.session is None or not state.persistent:
                continue
            for prop in one_to_many:
                if not (
                    batch_loadable(prop)
                    and prop.secondary is None
                    and len(prop.mapper.tables) == 1
                ):
                    continue
                if needs_load(state, prop):
                    wanted.setdefault(prop, []).append(parent)
                elif self._ours(parent):
                    held.setdefault(prop, []).append(parent)
        if not wanted and not held:
            return
        self.send()  # the query refreshes what it reads
        for prop, owners in held.items():
            stale = self._differing(prop, owners)
            if stale:
                wanted.setdefault(prop, []).extend(stale)
        for prop, owners in wanted.items():
            ((owner_key, child_key),) = key_pairs(prop)
            found: dict = {getattr(owner, owner_key): [] for owner in owners}
            live: dict = {}
            stmt = _children_and_versions(prop, self.dialect)
            for chunk in _chunks(sorted(found)):
                for row in self.session.scalars(stmt, {"keys": chunk, "now": self.now}):
                    key = getattr(row, child_key)
                    if key in found:
                        found[key].append(row)
                    if row.status < st.ARCHIVED or (
                        row.published_end_timestamp is not None
                        and row.published_end_timestamp > self.now
                    ):
                        rows = live.setdefault(self._key(row), [])
                        if not any(row is other for other in rows):
                            rows.append(row)
            for owner in owners:
                attributes.set_committed_value(
                    owner, prop.key, found[getattr(owner, owner_key)]
                )
            for rows in found.values():
                for row in rows:
                    key = self._key(row)
                    if key not in self._versions:
                        self._versions[key] = live.get(key, [])

    def _differing(self, prop, owners) -> list:
        """Those of ``owners`` (new objects this transaction inserted,
        ``prop`` loaded) whose collection does not list exactly the rows
        the database holds under them, found with one query of keys.

        No other transaction can have hung anything under such an object
        (:meth:`_ours`), and its children are usually the very objects the
        application put in the collection: then the collection is walked
        as it is, not loaded again (and the children this transaction
        inserted are not locked either).  But a child hung there by setting
        its foreign key, or written through Core, after the collection was
        loaded is missing from it, and one moved away through Core is still
        listed; the collection is then loaded again like any other."""
        ((owner_key, _child_key),) = key_pairs(prop)
        below: dict = {getattr(owner, owner_key): set() for owner in owners}
        stmt = _children_keys(prop, self.dialect)
        connection = self.session.connection(bind_arguments={"mapper": prop.mapper})
        for chunk in _chunks(sorted(below)):
            for ident, key in connection.execute(stmt, {"keys": chunk}):
                below[key].add(ident)
        stale = []
        for owner in owners:
            listed = {
                attributes.instance_state(child).identity
                for child in attributes.instance_state(owner).dict[prop.key]
            }
            if listed != {(ident,) for ident in below[getattr(owner, owner_key)]}:
                stale.append(owner)
        return stale

    def _prefetch_archive_numbers(self, versions) -> None:
        by_base: dict = {}
        for version in versions:
            key = self._key(version)
            if key not in self._archive_max and version.status != st.NEW:
                by_base.setdefault(key[0], set()).add(key[1])
        if by_base:
            self.send()
        for base, codes in by_base.items():
            stmt = statements(base.class_, self.dialect).archive_max_many
            connection = self.session.connection(bind_arguments={"mapper": base})
            for chunk in _chunks(sorted(codes)):
                found = dict(connection.execute(stmt, {"codes": chunk}).all())
                for code in chunk:
                    self._archive_max[(base, code)] = max(found.get(code) or 0, st.ARCHIVED - 1)

    def added(self, version) -> None:
        self._versions.setdefault(self._key(version), []).append(version)

    def counterpart(self, version, statuses):
        for other in self.versions(version):
            if other is not version and other.status in statuses:
                return other
        return None

    def required_counterpart(self, version, statuses):
        other = self.counterpart(version, statuses)
        if other is None:
            raise ConflictError(
                f"{type(version).__name__} code={version.code} is "
                f"{st.status_name(version.status)} but its counterpart is "
                f"missing; another transaction changed it"
            )
        return other

    def next_archive_status(self, version) -> int:
        key = self._key(version)
        current = self._archive_max.get(key)
        if current is None:
            self.send()
            stmt = statements(key[0].class_, self.dialect).archive_max
            connection = self.session.connection(bind_arguments={"mapper": key[0]})
            current = connection.execute(stmt, {"code": version.code}).scalar()
            current = max(current or 0, st.ARCHIVED - 1)
        current += 1
        self._archive_max[key] = current
        return current

    def is_gone(self, version) -> bool:
        """Whether the run removed ``version`` (or a cascade of its removal
        marked it deleted).  A run starts from a flushed session, so
        pending deletions exist only once it has removed something; until
        then ``session.deleted``, a new set at every call, is not asked."""
        if id(version) in self.removed:
            return True
        return bool(self.removed) and version in self.session.deleted

    # -- writing clio's columns -------------------------------------------------

    def write(self, version, **values) -> None:
        """Set clio's bookkeeping columns of ``version`` (status, validity
        interval, publisher).

        A stored version gets the values in memory at once, as loaded
        state (``set_committed_value``: no attribute events, no history,
        not dirty), and the run sends them itself, one ``UPDATE`` per class
        and set of values for all the versions it wrote (:meth:`send`).
        A tree's transition changes the statuses of every version in it;
        through the unit of work that is a history and a dirty-state
        bookkeeping per attribute and per object, which cost clio most of
        its time on trees.  A version not yet stored is set as usual: its
        ``INSERT`` carries the values.
        """
        state = attributes.instance_state(version)
        if state.key is None:
            for key, value in values.items():
                setattr(version, key, value)
            return
        for key, value in values.items():
            attributes.set_committed_value(version, key, value)
        entry = self._writes.get(id(version))
        if entry is None:
            self._writes[id(version)] = (version, dict(values))
        else:
            entry[1].update(values)

    def send(self) -> None:
        """Send the values :meth:`write` holds: one ``UPDATE`` per class
        and set of values (``WHERE id IN (...)``), so that a tree whose
        versions all change alike (every child to PUBLISHED at one moment,
        say) costs one statement per class.  It runs before the run reads
        versions again, so that the database agrees with memory, and when
        the run ends.

        Core statements: the ORM's own for this (bulk UPDATE) costs twice
        as much per statement, which an object without relations, with
        one or two statements per transition, would feel.  So that
        zope.sqlalchemy commits what they wrote, the session is marked
        changed (:func:`clio.session.mark_written`).
        """
        if not self._writes:
            return
        writes, self._writes = self._writes, {}
        groups: dict = {}
        written = []
        for version, values in writes.values():
            if self.is_gone(version):
                continue
            written.append(version)
            mapper = base_mapper(type(version))
            key = (mapper, tuple(sorted(values.items(), key=lambda item: item[0])))
            (ident,) = attributes.instance_state(version).identity
            groups.setdefault(key, []).append(ident)
        if not groups:
            return
        for (mapper, values), idents in groups.items():
            keys = tuple(key for key, _ in values)
            connection = self.session.connection(bind_arguments={"mapper": mapper})
            for chunk in _chunks(sorted(idents)):
                params = {f"clio_{key}": value for key, value in values}
                many = len(chunk) > 1
                if many:
                    params["clio_ids"] = chunk
                else:
                    params["clio_id"] = chunk[0]
                stmt = _bookkeeping_update(mapper, keys, many, self.dialect)
                result = connection.execute(stmt, params)
                if result.rowcount != len(chunk):
                    raise ConflictError(
                        f"{mapper.class_.__name__}: {len(chunk) - result.rowcount} "
                        f"of the versions being changed were removed by another "
                        f"transaction; reload and retry"
                    )
        mark_written(self.session)
        register_written(self.session, updated=written)

    def forget_writes(self) -> None:
        """After a failed step: drop the values not sent and expire them,
        so that memory shows what the database holds."""
        writes, self._writes = self._writes, {}
        for version, values in writes.values():
            state = sa.inspect(version)
            if state.session is not None and state.key is not None:
                self.session.expire(version, list(values))


def _bookkeeping_update(mapper, keys: tuple, many: bool, dialect: str) -> sa.Update:
    """``UPDATE t SET col = :clio_key, ... WHERE id = :clio_id`` (or ``id
    IN :clio_ids``, see :func:`_list_param`) for the attributes ``keys``
    of a versioned class, built once per class, keys, form and dialect."""

    def build():
        (ident,) = mapper.primary_key
        if many:
            where = ident.in_(_listed(_list_param("clio_ids", dialect, ident)))
        else:
            where = ident == sa.bindparam("clio_id")
        columns = {mapper.get_property(key).columns[0]: key for key in keys}
        return (
            sa.update(ident.table)
            .where(where)
            .values({column: sa.bindparam(f"clio_{key}") for column, key in columns.items()})
        )

    return class_cache(mapper.class_, ("bookkeeping_update", keys, many, dialect), build)
