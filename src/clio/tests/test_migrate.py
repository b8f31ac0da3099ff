"""clio.migrate: a database as Clio 0.6/0.7 left it, upgraded in place.

The "old" tables are written here as plain SQLAlchemy Core, the way 0.7
declared them: naive ``DateTime`` (second precision on MariaDB), a unique
constraint called ``workflow`` (per-table names on PostgreSQL, where 0.7
never ran and the name must be unique per schema), ``index=True`` on the
indexed columns.  The rows are what 0.7 would have stored for the
reference scenarios: an object edited and published twice with a pending
edit, a deleted object, a new one, children that follow their parent
along the edit path, table-wide archive numbers, naive local times in
Europe/Amsterdam (winter and summer time).  After the upgrade the tables
must look exactly like freshly created current ones, and transitions and
as-of reads must work on them.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

import clio
import clio.migrate
from clio.schema import BOOKKEEPING_COLUMNS

UTC = timezone.utc
TABLES = ("mig_a", "mig_b", "mig_c", "mig_d", "mig_e")


def L(text):
    """A naive local timestamp as 0.7 stored it."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S")


def U(text):
    """An aware UTC moment."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


# --- the old schema ---------------------------------------------------------------


def legacy_table(name, metadata, dialect, *extra, version="0.7"):
    constraint = f"workflow_{name}" if dialect == "postgresql" else "workflow"
    columns = [
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.Integer, nullable=False, index=True),
        sa.Column("status", sa.Integer, nullable=False, index=(version == "0.7")),
        sa.Column("created_timestamp", sa.DateTime, nullable=False),
        sa.Column("published_start_timestamp", sa.DateTime, nullable=True, index=True),
        sa.Column("published_end_timestamp", sa.DateTime, nullable=True, index=True),
    ]
    if version == "0.7":
        columns.append(sa.Column("changed_timestamp", sa.DateTime, nullable=True))
        columns.append(sa.Column("created_userid", sa.Unicode(64), nullable=True, index=True))
    columns += [
        sa.Column("published_userid", sa.Unicode(64), nullable=True, index=(version == "0.7")),
        sa.Column("changed_userid", sa.Unicode(64), nullable=True, index=(version == "0.7")),
    ]
    return sa.Table(
        name,
        metadata,
        *columns,
        *extra,
        sa.UniqueConstraint("code", "status", name=constraint),
        mysql_engine="InnoDB",
    )


def legacy_metadata(dialect):
    md = sa.MetaData()
    legacy_table("mig_a", md, dialect, sa.Column("name", sa.Unicode(100)))
    legacy_table(
        "mig_b",
        md,
        dialect,
        sa.Column("name", sa.Unicode(100)),
        sa.Column("a_id", sa.Integer, sa.ForeignKey("mig_a.id"), nullable=False),
    )
    legacy_table("mig_c", md, dialect, sa.Column("name", sa.Unicode(100)))
    legacy_table("mig_d", md, dialect, sa.Column("name", sa.Unicode(100)))
    sa.Table(
        "mig_cd",
        md,
        sa.Column("c_id", sa.Integer, sa.ForeignKey("mig_c.id"), primary_key=True),
        sa.Column("d_id", sa.Integer, sa.ForeignKey("mig_d.id"), primary_key=True),
        mysql_engine="InnoDB",
    )
    legacy_table("mig_e", md, dialect, sa.Column("name", sa.Unicode(100)), version="0.6")
    return md


def row(id, code, status, created, start=None, end=None, name="", **kw):
    values = dict(
        id=id,
        code=code,
        status=status,
        created_timestamp=L(created),
        published_start_timestamp=start and L(start),
        published_end_timestamp=end and L(end),
        changed_timestamp=L(created),
        created_userid="editor",
        published_userid="publisher" if start else None,
        changed_userid="editor",
        name=name,
    )
    values.update(kw)
    return values


T_V1 = "2010-03-01 10:00:05"  # CET, UTC+1
T_V2 = "2010-04-01 12:00:10"  # CEST, UTC+2
T_V3 = "2010-05-01 09:00:30"
T_BOX_GONE = "2010-04-15 15:00:00"

A_ROWS = [
    # code 1: published, edited and published twice, edited again (pending)
    row(1, 1, 1000, "2010-03-01 10:00:00", T_V1, T_V2, "jar v1"),
    row(2, 1, 1002, "2010-04-01 12:00:00", T_V2, T_V3, "jar v2"),
    row(3, 1, clio.PUBLISHED_UNDER_EDIT, "2010-05-01 09:00:00", T_V3, None, "jar v3"),
    row(4, 1, clio.EDITABLE, "2010-05-10 08:00:00", None, None, "jar v4"),
    # code 2: published, then its deletion was published (archived 2nd)
    row(5, 2, 1001, "2010-03-15 10:00:00", "2010-03-15 10:00:01", T_BOX_GONE, "box"),
    # code 3: new, never published
    row(6, 3, clio.NEW, "2010-05-12 10:00:00", None, None, "tin"),
]
B_ROWS = [
    # cookie (code 1) follows the jar along the edit path
    row(1, 1, 1000, "2010-03-01 10:00:00", T_V1, T_V2, "cookie v1", a_id=1),
    row(2, 1, 1001, "2010-04-01 12:00:00", T_V2, T_V3, "cookie v2", a_id=2),
    row(3, 1, clio.PUBLISHED_UNDER_EDIT, "2010-05-01 09:00:00", T_V3, None, "cookie v3", a_id=3),
    row(4, 1, clio.EDITABLE, "2010-05-10 08:00:00", None, None, "cookie v4", a_id=4),
    # biscuit (code 2) was added in jar v2
    row(5, 2, 1002, "2010-04-01 11:00:00", T_V2, T_V3, "biscuit v2", a_id=2),
    row(6, 2, clio.PUBLISHED_UNDER_EDIT, "2010-05-01 09:00:00", T_V3, None, "biscuit v3", a_id=3),
    row(7, 2, clio.EDITABLE, "2010-05-10 08:00:00", None, None, "biscuit v4", a_id=4),
]
C_ROWS = [row(1, 7, clio.PUBLISHED, "2010-03-01 10:00:00", T_V1, None, "c")]
D_ROWS = [row(1, 8, clio.PUBLISHED, "2010-03-01 10:00:00", T_V1, None, "d")]
E_ROWS = [
    {k: v for k, v in r.items() if k not in ("changed_timestamp", "created_userid")}
    for r in [
        row(1, 1, 1005, "2010-02-10 10:00:00", "2010-02-10 10:00:01", "2010-02-11 10:00:00", "e v1"),
        row(2, 1, clio.PUBLISHED, "2010-02-11 09:00:00", "2010-02-11 10:00:00", None, "e v2"),
    ]
]


@pytest.fixture
def legacy(database):
    """The old tables with their rows, committed; dropped afterwards with
    everything the upgrade or the tests added."""
    engine = database.engine
    md = legacy_metadata(engine.dialect.name)
    drop_ours(engine)
    md.create_all(engine)
    with engine.begin() as conn:
        conn.execute(md.tables["mig_a"].insert(), A_ROWS)
        conn.execute(md.tables["mig_b"].insert(), B_ROWS)
        conn.execute(md.tables["mig_c"].insert(), C_ROWS)
        conn.execute(md.tables["mig_d"].insert(), D_ROWS)
        conn.execute(md.tables["mig_cd"].insert(), [{"c_id": 1, "d_id": 1}])
        conn.execute(md.tables["mig_e"].insert(), E_ROWS)
        if engine.dialect.name == "postgresql":
            # The rows came with their ids; move the id sequences past them.
            for name in TABLES:
                conn.execute(
                    sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                        f"(SELECT max(id) FROM {name}))"
                    )
                )
    yield engine
    drop_ours(engine)


def drop_ours(engine):
    md = sa.MetaData()
    md.reflect(engine, only=lambda name, _: name.startswith("mig_") or name == "clio_migrate")
    md.drop_all(engine)


def snapshot(engine):
    """Everything a test can compare: schema signatures and every row."""
    with engine.connect() as conn:
        inspector = sa.inspect(conn)
        names = sorted(n for n in inspector.get_table_names() if n.startswith(("mig_", "clio_m")))
        result = {}
        for name in names:
            table = sa.Table(name, sa.MetaData(), autoload_with=conn)
            rows = conn.execute(sa.select(table).order_by(*table.primary_key.columns)).all()
            result[name] = (signature(conn, name, name), [tuple(r) for r in rows])
        return result


def signature(conn, name, as_name):
    """The shape of a table, with its name replaced by ``as_name`` in
    constraint and index names (to compare a migrated and a fresh table)."""
    inspector = sa.inspect(conn)

    def rename(text):
        return text.replace(name, as_name) if text else text

    # Sorted: columns added to a 0.6 table come last, which is cosmetic.
    columns = sorted(
        (c["name"], c["type"].compile(dialect=conn.dialect), c["nullable"])
        for c in inspector.get_columns(name)
    )
    uniques = sorted(
        (rename(u["name"]), tuple(u["column_names"])) for u in inspector.get_unique_constraints(name)
    )
    indexes = sorted(
        (rename(i["name"]), tuple(i["column_names"]))
        for i in inspector.get_indexes(name)
        if set(i["column_names"]) <= set(BOOKKEEPING_COLUMNS)
        and not i.get("duplicates_constraint")
        and not i.get("unique")
    )
    return columns, uniques, indexes


def run(engine, **kw):
    out = io.StringIO()
    plan = clio.migrate.upgrade(engine, out=out, **kw)
    return plan, out.getvalue()


# --- the current schema, mapped for reading and transitions ------------------------------


class Base(DeclarativeBase):
    pass


class MigA(clio.Workflowed, Base):
    __tablename__ = "mig_a"
    name: Mapped[str | None] = mapped_column(sa.Unicode(100))
    bs: Mapped[list[MigB]] = relationship(back_populates="a", order_by="MigB.code")


class MigB(clio.Workflowed, Base):
    __tablename__ = "mig_b"
    name: Mapped[str | None] = mapped_column(sa.Unicode(100))
    a_id: Mapped[int] = mapped_column(sa.ForeignKey("mig_a.id"))
    a: Mapped[MigA] = relationship(back_populates="bs")


class MigE(clio.Workflowed, Base):
    __tablename__ = "mig_e"
    name: Mapped[str | None] = mapped_column(sa.Unicode(100))


def fresh_signatures(engine):
    """Signatures of current tables created from scratch under other names."""
    md = sa.MetaData()
    clio.Table("mig_fresh_a", md, sa.Column("name", sa.Unicode(100)))
    clio.Table(
        "mig_fresh_b",
        md,
        sa.Column("name", sa.Unicode(100)),
        sa.Column("a_id", sa.Integer, sa.ForeignKey("mig_fresh_a.id"), nullable=False),
    )
    clio.Table("mig_fresh_e", md, sa.Column("name", sa.Unicode(100)))
    md.create_all(engine)
    try:
        with engine.connect() as conn:
            return {
                n: signature(conn, f"mig_fresh_{n[-1]}", n) for n in ("mig_a", "mig_b", "mig_e")
            }
    finally:
        md.drop_all(engine)


# --- tests ------------------------------------------------------------------------------------


def test_finds_the_clio_tables_and_not_the_others(legacy):
    import clio.migrate

    with legacy.connect() as conn:
        found = [n for n in clio.migrate.clio_tables(conn) if n.startswith("mig_")]
    assert found == list(TABLES)  # not the pivot mig_cd


def test_upgrade_gives_the_current_schema(legacy):
    import clio.migrate

    plan, _ = run(legacy, timezone="Europe/Amsterdam")
    assert plan
    expected = fresh_signatures(legacy)
    with legacy.connect() as conn:
        for name in ("mig_a", "mig_b", "mig_e"):
            assert signature(conn, name, name) == expected[name], name
        assert not sa.inspect(conn).has_table(clio.migrate.MARKER_TABLE)
        # The application's own tables and indexes are left alone.
        assert sa.inspect(conn).has_table("mig_cd")
        assert conn.execute(sa.text("SELECT count(*) FROM mig_cd")).scalar() == 1
    # Running it again finds nothing to do.
    again, out = run(legacy, timezone="Europe/Amsterdam")
    assert not again
    assert "nothing to do" in again.describe()


def test_timestamps_become_utc_and_archives_are_numbered_per_code(legacy):
    run(legacy, timezone="Europe/Amsterdam")
    with Session(legacy) as session:
        jar = {v.id: v for v in clio.versions(session, MigA, 1)}
        assert jar[1].created_timestamp == U("2010-03-01 09:00:00")  # CET
        assert jar[1].published_end_timestamp == U("2010-04-01 10:00:10")  # CEST
        assert jar[2].published_start_timestamp == jar[1].published_end_timestamp
        assert jar[1].changed_timestamp == U("2010-03-01 09:00:00")
        assert jar[1].created_timestamp.tzinfo is not None
        # per code from 1000, in the old order
        assert [(v.id, v.status) for v in clio.versions(session, MigA, 1)][:2] == [
            (1, 1000),
            (2, 1001),
        ]
        assert session.get(MigA, 5).status == 1000
        assert {b.id: b.status for b in session.scalars(sa.select(MigB))} == {
            1: 1000,
            2: 1001,
            3: clio.PUBLISHED_UNDER_EDIT,
            4: clio.EDITABLE,
            5: 1000,
            6: clio.PUBLISHED_UNDER_EDIT,
            7: clio.EDITABLE,
        }
        e = session.get(MigE, 1)
        assert (e.status, e.changed_timestamp, e.created_userid) == (1000, None, None)
        assert e.created_timestamp == U("2010-02-10 09:00:00")


def test_without_timezone_naive_values_are_taken_as_utc(legacy):
    plan, _ = run(legacy)
    assert not any("convert" in s.description for s in plan.steps)
    with Session(legacy) as session:
        assert session.get(MigA, 1).created_timestamp == U("2010-03-01 10:00:00")


def read(session, cls, code, moment):
    return session.scalars(
        sa.select(cls).where(cls.code == code).options(clio.view(as_of=moment))
    ).one_or_none()


def test_as_of_reads_on_the_upgraded_database(legacy):
    run(legacy, timezone="Europe/Amsterdam")
    with Session(legacy) as session:
        assert read(session, MigA, 1, U("2010-03-01 09:00:04")) is None
        v1 = read(session, MigA, 1, U("2010-03-01 09:00:05"))
        assert v1.name == "jar v1" and [b.name for b in v1.bs] == ["cookie v1"]
        session.expunge_all()
        v2 = read(session, MigA, 1, U("2010-04-15 12:59:59"))
        assert v2.name == "jar v2" and [b.name for b in v2.bs] == ["cookie v2", "biscuit v2"]
        assert read(session, MigA, 2, U("2010-04-15 12:59:59")).name == "box"
        # half-open: the box is gone at 15:00 CEST = 13:00 UTC exactly
        assert read(session, MigA, 2, U("2010-04-15 13:00:00")) is None
        session.expunge_all()
        v3 = read(session, MigA, 1, U("2010-05-01 07:00:30"))
        assert v3.name == "jar v3" and [b.name for b in v3.bs] == ["cookie v3", "biscuit v3"]
        session.expunge_all()
        now = session.scalars(sa.select(MigA).options(clio.view("published"))).all()
        assert sorted(a.name for a in now) == ["jar v3"]


def test_transitions_on_the_upgraded_database(legacy, clock):
    run(legacy, timezone="Europe/Amsterdam")
    with Session(legacy) as session:
        draft = session.get(MigA, 4)
        published = draft.publish()
        assert published is draft and draft.status == clio.PUBLISHED
        old = session.get(MigA, 3)
        assert old.status == 1002  # per code: after 1000, 1001
        assert old.published_end_timestamp == draft.published_start_timestamp
        assert {b.code: b.status for b in session.get(MigA, 3).bs} == {1: 1002, 2: 1001}
        assert [(b.name, b.status) for b in draft.bs] == [
            ("cookie v4", clio.PUBLISHED),
            ("biscuit v4", clio.PUBLISHED),
        ]
        tin = session.get(MigA, 6)
        tin.publish()
        # a new object alongside the migrated ones
        session.add(MigA(code=9, name="new"))
        session.flush()
        edit = draft.edit()
        edit.name = "jar v5"
        session.commit()
        moment = draft.published_start_timestamp
    with Session(legacy) as session:
        assert read(session, MigA, 1, moment).name == "jar v4"
        assert read(session, MigA, 1, moment - timedelta(microseconds=1)).name == "jar v3"
        events = [e.event_type for e in clio.history(clio.versions(session, MigA, 1))]
        assert events[:4] == ["create", "publish", "edit", "archive"]
        assert events[-1] == "edit"
        e = session.get(MigE, 2)
        e_edit = e.edit()
        e_edit.publish()
        assert session.get(MigE, 2).status == 1001
        session.commit()


def test_dry_run_changes_nothing_and_prints_the_plan(legacy):
    before = snapshot(legacy)
    plan, out = run(
        legacy, timezone="Europe/Amsterdam", dry_run=True, sequences=[("mig_a_code", "mig_a")]
    )
    assert snapshot(legacy) == before
    assert plan
    assert "convert timestamps" in out
    assert "renumber 2 archived versions of 2 objects" in out  # mig_a: ids 2 and 5
    assert "rename unique constraint" in out
    assert "set sequence mig_a_code to 3" in out
    if legacy.dialect.name != "sqlite":
        assert "rename index ix_mig_a_published_end_timestamp to ix_mig_a_published_end" in out
    if legacy.dialect.name == "sqlite":
        assert "CREATE TABLE _alembic_tmp_mig_a" in out
    elif legacy.dialect.name == "postgresql":
        assert "TIMESTAMP WITH TIME ZONE USING created_timestamp AT TIME ZONE 'UTC'" in out
    else:
        assert "CHANGE created_timestamp created_timestamp DATETIME(6) NOT NULL" in out
        assert "RENAME INDEX workflow TO mig_a_workflow" in out
    with legacy.connect() as conn:
        assert not sa.inspect(conn).has_table("mig_a_code")


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"timezone": "Mars/Olympus_Mons"}, "unknown time zone 'Mars/Olympus_Mons'"),
        ({"tables": ["mig_cd"]}, "'mig_cd' is not a Clio table"),
        ({"tables": ["mig_nowhere"]}, "'mig_nowhere' is not a Clio table"),
        ({"sequences": [("s", "mig_cd")]}, "sequence 's': 'mig_cd' is not a Clio table"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(legacy, kw, message):
    import clio.migrate

    before = snapshot(legacy)
    with pytest.raises(clio.migrate.MigrationError, match=message):
        run(legacy, **kw)
    assert isinstance(clio.migrate.MigrationError("x"), clio.ClioError)
    assert snapshot(legacy) == before


def test_only_the_tables_asked_for(legacy):
    run(legacy, tables=["mig_e"])
    with legacy.connect() as conn:
        names = {u["name"] for u in sa.inspect(conn).get_unique_constraints("mig_e")}
        assert names == {"mig_e_workflow"}
        names = {u["name"] for u in sa.inspect(conn).get_unique_constraints("mig_a")}
        assert "mig_a_workflow" not in names


def test_interrupted_upgrade_never_converts_twice(legacy, monkeypatch):
    """A failure in the schema part: SQLite and PostgreSQL roll everything
    back; MariaDB has committed the converted values (DDL commits), and its
    marker row keeps the second run from converting them again."""
    import clio.migrate

    real = clio.migrate._create_index

    def failing(name, columns):
        def run_(op, batch):
            if name == "ix_mig_b_code_start":
                raise RuntimeError("interrupted")
            return real(name, columns)(op, batch)

        return run_

    before = snapshot(legacy)
    monkeypatch.setattr(clio.migrate, "_create_index", failing)
    with pytest.raises(RuntimeError, match="interrupted"):
        run(legacy, timezone="Europe/Amsterdam")
    if legacy.dialect.name in ("sqlite", "postgresql"):
        assert snapshot(legacy) == before
    else:
        with legacy.connect() as conn:
            assert sa.inspect(conn).has_table(clio.migrate.MARKER_TABLE)
    monkeypatch.setattr(clio.migrate, "_create_index", real)
    plan, _ = run(legacy, timezone="Europe/Amsterdam")
    with Session(legacy) as session:
        assert session.get(MigA, 1).created_timestamp == U("2010-03-01 09:00:00")
        assert session.get(MigB, 1).created_timestamp == U("2010-03-01 09:00:00")
    with legacy.connect() as conn:
        assert not sa.inspect(conn).has_table(clio.migrate.MARKER_TABLE)


def test_sequence_is_set_to_the_highest_code(legacy):
    run(legacy, sequences=[("mig_a_code", "mig_a")])
    sequence = clio.Sequence("mig_a_code", sa.MetaData())
    with Session(legacy) as session:
        assert sequence(session) == 4  # codes 1..3 exist
        session.commit()
    # A sequence already past the highest code is never set back.
    plan, _ = run(legacy, sequences=[("mig_a_code", "mig_a")])
    assert not [s for s in plan.steps if s.kind == "sequence"]
    assert "mig_a_code needs no change" in plan.describe()
    with Session(legacy) as session:
        assert sequence(session) == 5


def test_an_existing_legacy_sequence_table_is_raised(legacy):
    md = sa.MetaData()
    counter = sa.Table("mig_b_code", md, sa.Column("id", sa.Integer, nullable=False))
    md.create_all(legacy)
    with legacy.begin() as conn:
        conn.execute(counter.insert().values(id=1))  # behind: codes 1, 2 exist
    run(legacy, sequences=[("mig_b_code", "mig_b")])
    with Session(legacy) as session:
        assert clio.Sequence("mig_b_code", sa.MetaData())(session) == 3


def test_not_a_sequence_table_is_refused(legacy):
    import clio.migrate

    with pytest.raises(clio.migrate.MigrationError, match="not a sequence table"):
        run(legacy, sequences=[("mig_cd", "mig_a")])


# --- the command ----------------------------------------------------------------------------


def url_of(database):
    return database.engine.url.render_as_string(hide_password=False)


def test_command_dry_run(legacy, database, capsys):
    from clio.migrate import main

    before = snapshot(legacy)
    assert main([url_of(database), "--dry-run", "--timezone", "Europe/Amsterdam"]) == 0
    out = capsys.readouterr().out
    assert "rename unique constraint" in out
    assert snapshot(legacy) == before


def test_command_upgrades(legacy, database, capsys):
    from clio.migrate import main

    argv = [url_of(database), "--table", "mig_a", "--sequence", "mig_a_code=mig_a"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "clio-migrate: done" in out
    with legacy.connect() as conn:
        names = {u["name"] for u in sa.inspect(conn).get_unique_constraints("mig_a")}
    assert names == {"mig_a_workflow"}
    assert main(argv) == 0
    assert "nothing to do" in capsys.readouterr().out


def test_command_reads_a_pyramid_ini_file(legacy, database, tmp_path, capsys):
    from clio.migrate import main

    ini = tmp_path / "production.ini"
    url = url_of(database).replace("%", "%%")
    ini.write_text(f"[app:main]\nuse = egg:clio\nsqlalchemy.url = {url}\n", encoding="utf-8")
    assert main([str(ini), "--dry-run", "--table", "mig_e"]) == 0
    assert "add column changed_timestamp" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["sqlite:////nonexistent/dir/old.sqlite"], "no such SQLite database"),
        (["nosuchdriver://x"], "clio-migrate:"),
        (["/nonexistent/production.ini"], "no such ini file"),
    ],
)
def test_command_errors(argv, message, capsys):
    from clio.migrate import main

    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_command_bad_timezone(legacy, database, capsys):
    from clio.migrate import main

    before = snapshot(legacy)
    assert main([url_of(database), "--timezone", "Nowhere/Special"]) == 2
    assert "unknown time zone 'Nowhere/Special'" in capsys.readouterr().err
    assert snapshot(legacy) == before


def test_command_bad_sequence_option(capsys):
    from clio.migrate import main

    with pytest.raises(SystemExit) as exit_:
        main(["sqlite://", "--sequence", "no-equals-sign"])
    assert exit_.value.code == 2
    assert "expected SEQUENCE=TABLE" in capsys.readouterr().err
