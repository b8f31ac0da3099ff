"""The contenders, each doing the same logical work its own way.

Every workload method runs in one transaction (committed at the end) and
flushes after every step of every object, so each step's SQL is sent when
the step happens, as it would be when each step is its own request.  The
steps of the write workloads, per object:

* ``create_publish``: create a document, publish it; with ``later``,
  create them all, commit, and publish each in a new transaction (loaded
  again first, as a request would load it): the publication of an object
  created earlier, which clio locks, as opposed to one created in the
  same transaction, which it need not;
* ``rounds``: K times: edit (make a draft), change the draft's title,
  publish the draft (archiving the old published version);
* ``tree_create_publish`` (``later`` too) and ``tree_rounds``: the same with a parent
  holding ten children; the change touches the parent and one child.

Plain SQLAlchemy and Continuum have no drafts: their edit and publish are
no-ops and the change is an UPDATE (for Continuum, plus its version rows).
Every write workload calls ``mark(step)`` right after each step of each
object (``mark("load")`` after fetching its objects, which is no step):
the runner's statement counter and its step timer split their figures
there, so one workload yields both the whole and each step's share.
"""

from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.orm import Session

import clio
from clio import status as st
from clio.bench import models as m

USER = "bench"
KIDS = 10


def now() -> datetime:
    return datetime.now(timezone.utc)


def kid_codes(code: int) -> list[int]:
    return [code * 100 + n for n in range(KIDS)]


def _noop(step: str) -> None:
    pass


class Contender:
    name = ""
    label = ""
    metadata: sa.MetaData
    as_of = True  # keeps history to read at a past moment
    reads = True

    def __init__(self, engine: sa.Engine):
        self.engine = engine

    def create_tables(self) -> None:
        self.metadata.create_all(self.engine)

    def drop_tables(self) -> None:
        self.metadata.drop_all(self.engine)

    def session(self) -> Session:
        return Session(self.engine)

    def reader(self):
        """What the read workloads get: a session (a connection for the
        baseline), used as a context manager."""
        return self.session()


# --- plain SQLAlchemy --------------------------------------------------------------


class OrmContender(Contender):
    """Plain SQLAlchemy; Continuum reuses it with its versioned classes."""

    name = "plain"
    label = "plain SQLAlchemy"
    as_of = False

    def __init__(self, engine):
        super().__init__(engine)
        self.metadata = m.PlainBase.metadata
        self.Doc, self.Page, self.Kid = m.PlainDoc, m.PlainPage, m.PlainKid

    def _docs(self, session, codes, cls=None):
        cls = cls or self.Doc
        docs = session.scalars(sa.select(cls).where(cls.code.in_(codes)))
        by_code = {d.code: d for d in docs}
        return [by_code[c] for c in codes]

    def create_publish(self, codes, mark=_noop, later=False):
        with self.session() as s:
            for code in codes:
                s.add(self.Doc(id=code, code=code, title=f"t{code}", body="body"))
                s.flush()
                mark("create")
                if not later:
                    mark("publish")
            s.commit()
        if later:
            self._publish_later(codes, mark)

    def _publish_later(self, codes, mark):
        """Nothing to publish: the marks of the step, after a load."""
        mark("load")
        for _code in codes:
            mark("publish")

    def rounds(self, codes, k, mark=_noop):
        with self.session() as s:
            docs = self._docs(s, codes)
            mark("load")
            for r in range(k):
                for doc in docs:
                    mark("edit")
                    doc.title = f"r{r}"
                    s.flush()
                    mark("change")
                    mark("publish")
            s.commit()

    def tree_create_publish(self, codes, mark=_noop, later=False):
        with self.session() as s:
            for code in codes:
                doc = self.Page(id=code, code=code, title=f"t{code}", body="body")
                doc.kids = [self.Kid(id=c, code=c, text="kid") for c in kid_codes(code)]
                s.add(doc)
                s.flush()
                mark("create")
                if not later:
                    mark("publish")
            s.commit()
        if later:
            self._publish_later(codes, mark)

    def tree_rounds(self, codes, k, mark=_noop):
        with self.session() as s:
            docs = self._docs(s, codes, self.Page)
            mark("load")
            for r in range(k):
                for doc in docs:
                    mark("edit")
                    doc.title = f"r{r}"
                    min(doc.kids, key=lambda kid: kid.code).text = f"r{r}"
                    s.flush()
                    mark("change")
                    mark("publish")
            s.commit()

    def read_published(self, session, code):
        return session.scalars(sa.select(self.Doc).where(self.Doc.code == code)).one()

    def listing(self, session):
        return len(session.scalars(sa.select(self.Doc)).all())


class ContinuumContender(OrmContender):
    name = "continuum"
    label = "SQLAlchemy-Continuum"
    as_of = True

    def __init__(self, engine):
        Contender.__init__(self, engine)
        base, self.Doc, self.Page, self.Kid, self.Transaction = m.continuum_models()
        self.metadata = base.metadata
        import sqlalchemy_continuum as continuum

        self.DocVersion = continuum.version_class(self.Doc)

    def session(self):
        return m.ContinuumSession(self.engine)

    def read_as_of(self, session, code, moment):
        """Continuum's own way: the version row whose transaction interval
        holds the last transaction issued at or before the moment."""
        tx = self.Transaction
        version = self.DocVersion
        # Continuum stamps transactions with naive UTC.
        naive = moment.astimezone(timezone.utc).replace(tzinfo=None)
        last = sa.select(sa.func.max(tx.id)).where(tx.issued_at <= naive).scalar_subquery()
        stmt = sa.select(version).where(
            version.id == code,
            version.transaction_id <= last,
            sa.or_(version.end_transaction_id.is_(None), version.end_transaction_id > last),
        )
        return session.scalars(stmt).one()


# --- clio ------------------------------------------------------------------------


class ClioContender(Contender):
    name = "clio"
    label = "clio"

    models = m.CLIO

    def __init__(self, engine):
        super().__init__(engine)
        self.metadata = self.models.base.metadata

    def session(self):
        return Session(self.engine, info={"clio.userid": USER})

    def _load(self, session, codes, cls=None, status=st.PUBLISHED):
        """The versions of ``codes`` in ``status``, in the order of ``codes``."""
        cls = cls or self.models.doc
        rows = session.scalars(sa.select(cls).where(cls.code.in_(codes), cls.status == status))
        by_code = {d.code: d for d in rows}
        return [by_code[c] for c in codes]

    def create_publish(self, codes, mark=_noop, later=False):
        with self.session() as s:
            for code in codes:
                doc = self.models.doc(code=code, title=f"t{code}", body="body")
                s.add(doc)
                s.flush()
                mark("create")
                if not later:
                    doc.publish()
                    s.flush()
                    mark("publish")
            s.commit()
        if later:
            self._publish_later(codes, self.models.doc, mark)

    def _publish_later(self, codes, cls, mark):
        with self.session() as s:
            docs = self._load(s, codes, cls, st.NEW)
            mark("load")
            self._publish_loaded(s, docs, mark)
            s.commit()

    def _publish_loaded(self, session, docs, mark):
        for doc in docs:
            doc.publish()
            session.flush()
            mark("publish")

    def rounds(self, codes, k, mark=_noop):
        with self.session() as s:
            docs = self._load(s, codes)
            mark("load")
            for r in range(k):
                for n, doc in enumerate(docs):
                    draft = doc.edit()
                    s.flush()
                    mark("edit")
                    draft.title = f"r{r}"
                    s.flush()
                    mark("change")
                    docs[n] = draft.publish()
                    s.flush()
                    mark("publish")
            s.commit()

    def tree_create_publish(self, codes, mark=_noop, later=False):
        with self.session() as s:
            for code in codes:
                doc = self.models.page(code=code, title=f"t{code}", body="body")
                doc.kids = [self.models.kid(code=c, text="kid") for c in kid_codes(code)]
                s.add(doc)
                s.flush()
                mark("create")
                if not later:
                    doc.publish()
                    s.flush()
                    mark("publish")
            s.commit()
        if later:
            self._publish_later(codes, self.models.page, mark)

    def tree_rounds(self, codes, k, mark=_noop):
        with self.session() as s:
            docs = self._load(s, codes, self.models.page)
            mark("load")
            for r in range(k):
                for n, doc in enumerate(docs):
                    draft = doc.edit()
                    s.flush()
                    mark("edit")
                    draft.title = f"r{r}"
                    min(draft.kids, key=lambda kid: kid.code).text = f"r{r}"
                    s.flush()
                    mark("change")
                    docs[n] = draft.publish()
                    s.flush()
                    mark("publish")
            s.commit()

    @staticmethod
    def _found(version, code):
        if version is None:
            raise LookupError(f"no live version of {code}")
        return version

    def read_published(self, session, code):
        """The published version through ``clio.version_at``: one index
        probe, however long the object's history."""
        return self._found(clio.version_at(session, self.models.doc, code), code)

    def read_as_of(self, session, code, moment):
        return self._found(clio.version_at(session, self.models.doc, code, moment), code)

    def read_published_view(self, session, code):
        """The same read through ``clio.view('published')``: the loader
        criterion every query (listings, joins, relation loads) gets."""
        stmt = sa.select(self.models.doc).where(self.models.doc.code == code)
        return session.scalars(stmt.options(clio.view("published"))).one()

    def read_as_of_view(self, session, code, moment):
        stmt = sa.select(self.models.doc).where(self.models.doc.code == code)
        return session.scalars(stmt.options(clio.view(as_of=moment))).one()

    def listing(self, session):
        stmt = sa.select(self.models.doc).options(clio.view("published"))
        return len(session.scalars(stmt).all())


class ClioBulkContender(ClioContender):
    """clio through ``edit_all``/``publish_all``: each step over all
    objects at once.  Reads are clio's, so they are not repeated here."""

    name = "clio_bulk"
    label = "clio (bulk API)"
    reads = False
    models = m.CLIO_BULK

    def create_publish(self, codes, mark=_noop, later=False):
        with self.session() as s:
            docs = [self.models.doc(code=code, title=f"t{code}", body="body") for code in codes]
            s.add_all(docs)
            s.flush()
            mark("create")
            if not later:
                clio.publish_all(s, docs)
                s.flush()
                mark("publish")
            s.commit()
        if later:
            self._publish_later(codes, self.models.doc, mark)

    def _publish_loaded(self, session, docs, mark):
        clio.publish_all(session, docs)
        session.flush()
        mark("publish")

    def rounds(self, codes, k, mark=_noop):
        with self.session() as s:
            docs = self._load(s, codes)
            mark("load")
            for r in range(k):
                drafts = clio.edit_all(s, docs)
                s.flush()
                mark("edit")
                for draft in drafts:
                    draft.title = f"r{r}"
                s.flush()
                mark("change")
                docs = clio.publish_all(s, drafts)
                s.flush()
                mark("publish")
            s.commit()

    def tree_create_publish(self, codes, mark=_noop, later=False):
        with self.session() as s:
            docs = []
            for code in codes:
                doc = self.models.page(code=code, title=f"t{code}", body="body")
                doc.kids = [self.models.kid(code=c, text="kid") for c in kid_codes(code)]
                docs.append(doc)
            s.add_all(docs)
            s.flush()
            mark("create")
            if not later:
                clio.publish_all(s, docs)
                s.flush()
                mark("publish")
            s.commit()
        if later:
            self._publish_later(codes, self.models.page, mark)

    def tree_rounds(self, codes, k, mark=_noop):
        with self.session() as s:
            docs = self._load(s, codes, self.models.page)
            mark("load")
            for r in range(k):
                drafts = clio.edit_all(s, docs)
                s.flush()
                mark("edit")
                for draft in drafts:
                    draft.title = f"r{r}"
                    min(draft.kids, key=lambda kid: kid.code).text = f"r{r}"
                s.flush()
                mark("change")
                docs = clio.publish_all(s, drafts)
                s.flush()
                mark("publish")
            s.commit()


# --- the hand-written baseline -------------------------------------------------------


class BaselineContender(Contender):
    """clio's logical work written by hand in Core statements, per object:

    * publish a NEW object: lock its live rows, UPDATE it to PUBLISHED;
    * edit: lock (reading the published row), INSERT the EDITABLE copy,
      UPDATE the published row to PUBLISHED_UNDER_EDIT;
    * change: UPDATE the draft;
    * publish a draft: lock, read the highest archive number, UPDATE the old
      version to archived, UPDATE the draft to PUBLISHED.

    For a parent with children the children are handled set-wise (one
    statement for all ten), as one would write it by hand.
    """

    name = "baseline"
    label = "hand-written same-table"
    metadata = m.baseline_metadata

    def reader(self):
        return self.engine.connect()

    def __init__(self, engine):
        super().__init__(engine)
        dialect = engine.dialect.name
        self.locking = dialect != "sqlite"
        self.locking_max = dialect in ("mysql", "mariadb")

    # -- building blocks --

    def _lock(self, conn, table, code, at):
        stmt = sa.select(table).where(
            table.c.code == code,
            sa.or_(table.c.status < st.ARCHIVED, table.c.published_end_timestamp > at),
        )
        if self.locking:
            stmt = stmt.with_for_update()
        return {row.status: row for row in conn.execute(stmt)}

    def _max_status(self, conn, table, codes):
        stmt = (
            sa.select(table.c.code, sa.func.max(table.c.status))
            .where(table.c.code.in_(codes))
            .group_by(table.c.code)
        )
        if self.locking_max:
            stmt = stmt.with_for_update()
        return {code: max(top, st.ARCHIVED - 1) for code, top in conn.execute(stmt)}

    def _insert(self, conn, table, code, at, **values):
        row = dict(
            code=code,
            status=st.NEW,
            created_timestamp=at,
            changed_timestamp=at,
            created_userid=USER,
            changed_userid=USER,
            **values,
        )
        return conn.execute(sa.insert(table).values(row)).inserted_primary_key[0]

    @staticmethod
    def _publish_row(conn, table, ident, at):
        conn.execute(
            sa.update(table)
            .where(table.c.id == ident)
            .values(
                status=st.PUBLISHED,
                published_start_timestamp=at,
                published_end_timestamp=None,
                published_userid=USER,
            )
        )

    @staticmethod
    def _copy(row, status, at, **overrides):
        values = dict(row._mapping)
        del values["id"]
        values.update(
            status=status,
            created_timestamp=at,
            created_userid=USER,
            published_start_timestamp=None,
            published_end_timestamp=None,
            published_userid=None,
            **overrides,
        )
        return values

    def _edit(self, conn, table, code, at):
        published = self._lock(conn, table, code, at)[st.PUBLISHED]
        draft = conn.execute(
            sa.insert(table).values(self._copy(published, st.EDITABLE, at))
        ).inserted_primary_key[0]
        conn.execute(
            sa.update(table)
            .where(table.c.id == published.id)
            .values(status=st.PUBLISHED_UNDER_EDIT)
        )
        return published.id, draft

    def _publish_draft(self, conn, table, code, at):
        rows = self._lock(conn, table, code, at)
        old, new = rows[st.PUBLISHED_UNDER_EDIT], rows[st.EDITABLE]
        top = self._max_status(conn, table, [code])[code]
        conn.execute(
            sa.update(table)
            .where(table.c.id == old.id)
            .values(status=top + 1, published_end_timestamp=at)
        )
        self._publish_row(conn, table, new.id, at)
        return old.id, new.id

    def _change(self, conn, table, ident, at, **values):
        conn.execute(
            sa.update(table)
            .where(table.c.id == ident)
            .values(changed_timestamp=at, changed_userid=USER, **values)
        )

    # -- workloads --

    def _publish_new(self, conn, code):
        at = now()
        row = self._lock(conn, m.baseline_doc, code, at)[st.NEW]
        self._publish_row(conn, m.baseline_doc, row.id, at)

    def _publish_later(self, codes, publish, mark):
        with self.engine.begin() as conn:
            # No objects to load, but the others' "load" also opens their
            # connection: the first publication should not pay for it here alone.
            mark("load")
            for code in codes:
                publish(conn, code)
                mark("publish")

    def create_publish(self, codes, mark=_noop, later=False):
        doc = m.baseline_doc
        with self.engine.begin() as conn:
            for code in codes:
                at = now()
                self._insert(conn, doc, code, at, title=f"t{code}", body="body")
                mark("create")
                if not later:
                    self._publish_new(conn, code)
                    mark("publish")
        if later:
            self._publish_later(codes, self._publish_new, mark)

    def rounds(self, codes, k, mark=_noop):
        doc = m.baseline_doc
        with self.engine.begin() as conn:
            # No objects to load, but the others' "load" also opens their
            # connection: the first edit should not pay for it here alone.
            mark("load")
            for r in range(k):
                for code in codes:
                    _, draft = self._edit(conn, doc, code, now())
                    mark("edit")
                    self._change(conn, doc, draft, now(), title=f"r{r}")
                    mark("change")
                    self._publish_draft(conn, doc, code, now())
                    mark("publish")

    def _publish_new_tree(self, conn, code):
        doc, kid = m.baseline_page, m.baseline_kid
        at = now()
        row = self._lock(conn, doc, code, at)[st.NEW]
        self._publish_row(conn, doc, row.id, at)
        conn.execute(
            sa.update(kid)
            .where(kid.c.doc_id == row.id, kid.c.status == st.NEW)
            .values(
                status=st.PUBLISHED,
                published_start_timestamp=at,
                published_userid=USER,
            )
        )

    def tree_create_publish(self, codes, mark=_noop, later=False):
        doc, kid = m.baseline_page, m.baseline_kid
        with self.engine.begin() as conn:
            for code in codes:
                at = now()
                parent = self._insert(conn, doc, code, at, title=f"t{code}", body="body")
                rows = [
                    dict(
                        code=c,
                        status=st.NEW,
                        created_timestamp=at,
                        changed_timestamp=at,
                        created_userid=USER,
                        changed_userid=USER,
                        text="kid",
                        doc_id=parent,
                    )
                    for c in kid_codes(code)
                ]
                conn.execute(sa.insert(kid), rows)
                mark("create")
                if not later:
                    self._publish_new_tree(conn, code)
                    mark("publish")
        if later:
            self._publish_later(codes, self._publish_new_tree, mark)

    def _lock_kids(self, conn, parents, columns):
        kid = m.baseline_kid
        stmt = sa.select(*columns).where(kid.c.doc_id.in_(parents)).order_by(kid.c.code)
        if self.locking:
            stmt = stmt.with_for_update()
        return conn.execute(stmt).all()

    def tree_rounds(self, codes, k, mark=_noop):
        doc, kid = m.baseline_page, m.baseline_kid
        with self.engine.begin() as conn:
            mark("load")  # as in rounds
            for r in range(k):
                for code in codes:
                    at = now()
                    published, draft = self._edit(conn, doc, code, at)
                    kids = self._lock_kids(conn, [published], [kid])
                    copies = [
                        self._copy(row, st.EDITABLE, at, doc_id=draft)
                        for row in kids
                        if row.status == st.PUBLISHED
                    ]
                    conn.execute(sa.insert(kid), copies)
                    conn.execute(
                        sa.update(kid)
                        .where(kid.c.doc_id == published, kid.c.status == st.PUBLISHED)
                        .values(status=st.PUBLISHED_UNDER_EDIT)
                    )
                    mark("edit")
                    at = now()
                    self._change(conn, doc, draft, at, title=f"r{r}")
                    conn.execute(
                        sa.update(kid)
                        .where(kid.c.doc_id == draft, kid.c.code == code * 100)
                        .values(text=f"r{r}", changed_timestamp=at, changed_userid=USER)
                    )
                    mark("change")
                    at = now()
                    old, new = self._publish_draft(conn, doc, code, at)
                    kids = self._lock_kids(
                        conn, [old, new], [kid.c.id, kid.c.code, kid.c.status, kid.c.doc_id]
                    )
                    tops = self._max_status(conn, kid, sorted({row.code for row in kids}))
                    archived = [
                        {"ident": row.id, "archive": tops[row.code] + 1}
                        for row in kids
                        if row.doc_id == old and row.status == st.PUBLISHED_UNDER_EDIT
                    ]
                    conn.execute(
                        sa.update(kid)
                        .where(kid.c.id == sa.bindparam("ident"))
                        .values(status=sa.bindparam("archive"), published_end_timestamp=at),
                        archived,
                    )
                    conn.execute(
                        sa.update(kid)
                        .where(kid.c.doc_id == new, kid.c.status == st.EDITABLE)
                        .values(
                            status=st.PUBLISHED,
                            published_start_timestamp=at,
                            published_userid=USER,
                        )
                    )
                    mark("publish")

    def _live_at(self, moment):
        doc = m.baseline_doc
        return (
            sa.select(doc)
            .where(
                doc.c.published_start_timestamp <= moment,
                sa.or_(
                    doc.c.published_end_timestamp.is_(None),
                    doc.c.published_end_timestamp > moment,
                ),
            )
        )

    def read_published(self, conn, code):
        return self.read_as_of(conn, code, now())

    def read_as_of(self, conn, code, moment):
        """The live version at a moment, the latest start first: the
        ``(code, published_start_timestamp)`` index finds it at once."""
        doc = m.baseline_doc
        stmt = (
            self._live_at(moment)
            .where(doc.c.code == code)
            .order_by(doc.c.published_start_timestamp.desc())
            .limit(1)
        )
        return conn.execute(stmt).one()

    def listing(self, conn):
        return len(conn.execute(self._live_at(now())).all())


CONTENDERS = {
    cls.name: cls
    for cls in (OrmContender, BaselineContender, ContinuumContender, ClioContender, ClioBulkContender)
}
