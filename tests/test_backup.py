"""`facilitator backup FILE` and `facilitator restore FILE` on the suite's database kind: round trips
compared row for row, a backup taken while another thread writes, schema revisions older and newer
than the code, and every file or target that must be refused without changing anything."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import threading
import time
from contextlib import closing
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from flask_migrate import upgrade
from sqlalchemy import create_engine, insert, inspect, select, text
from sqlalchemy.engine import make_url

import facilitator
from facilitator import create_app
from facilitator.audit.models import AuditEvent
from facilitator.audit.services import record
from facilitator.auth.models import User
from facilitator.backup import BackupError, postgres
from facilitator.cli import register_commands
from facilitator.config import TestConfig
from facilitator.demo.services import build_demo
from facilitator.extensions import db
from facilitator.participants.models import Participant
from facilitator.programs.services import find_program
from facilitator.setup_cli import load_shipped_curricula

from .conftest import server_database_url

# Backups copy whatever the database holds: no date is read. The demo is built once for the module.
pytestmark = pytest.mark.undated

HEAD = ScriptDirectory(str(Path(facilitator.__file__).parent / "migrations")).get_current_head()
POSTGRES = bool(os.environ.get("TEST_DATABASE_URL"))
only_sqlite = pytest.mark.skipif(POSTGRES, reason="checks a SQLite backup file (this run is on PostgreSQL)")
only_postgres = pytest.mark.skipif(not POSTGRES, reason="needs PostgreSQL (TEST_DATABASE_URL)")


class Databases:
    """New empty databases of the suite's kind (a PostgreSQL database per name and xdist worker)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.apps: list = []
        self.names: list[str] = []

    def app(self, name: str):
        """An app (with the CLI commands) on a new, empty database."""
        url = server_database_url(f"backup_{name}") if POSTGRES else f"sqlite:///{self.root}/{name}.sqlite"
        self.names.append(make_url(url).database)
        return self.app_at(url)

    def app_at(self, url: str):
        """An app (with the CLI commands) on the database of `url`, made or not."""
        config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
        config.update(SQLALCHEMY_DATABASE_URI=url, DOCUMENT_CACHE_DIR=str(self.root / "document-cache"))
        application = create_app(config)
        register_commands(application)
        self.apps.append(application)
        return application

    def close(self) -> None:
        """Close every engine and drop the PostgreSQL databases made here."""
        for application in self.apps:
            with application.app_context():
                db.engine.dispose()
        if POSTGRES:
            engine = create_engine(os.environ["TEST_DATABASE_URL"], isolation_level="AUTOCOMMIT")
            with engine.connect() as conn:
                for name in self.names:
                    conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
            engine.dispose()


@pytest.fixture(scope="module")
def databases(tmp_path_factory):
    """Makes the module's databases; drops them at the end."""
    made = Databases(tmp_path_factory.mktemp("backup"))
    yield made
    made.close()


@pytest.fixture(scope="module")
def source(databases):
    """A database after `init` and `demo` (built once: the demo takes seconds), with an audit trail."""
    application = databases.app("source")
    with application.app_context():
        upgrade()
        load_shipped_curricula()
        build_demo()
        director = db.session.scalars(select(User).where(User.email == "director@demo.example")).one()
        for person in db.session.scalars(select(Participant).where(Participant.program_id == director.program_id)):
            record("participant.view", "participant", person.id, user=director, participant_id=person.id)
        db.session.commit()
    return application


@pytest.fixture(scope="module")
def backup_file(source, tmp_path_factory) -> Path:
    """One backup of the demo database, for the tests that only need a good file."""
    path = tmp_path_factory.mktemp("files") / "demo.backup"
    result = source.test_cli_runner().invoke(args=["backup", str(path)])
    assert result.exit_code == 0, result.output
    return path


def invoke(application, *args):
    """Run a facilitator command on an app; return (exit code, output)."""
    result = application.test_cli_runner().invoke(args=list(args))
    return result.exit_code, result.output


def all_rows(application, names: tuple[str, ...] = ()) -> dict[str, list]:
    """Every row of every table in the metadata (or of the tables named), and the schema revision,
    ordered by primary key."""
    with application.app_context(), db.engine.connect() as conn:
        rows = {table.name: conn.execute(select(table).order_by(*table.primary_key.columns)).all()
                for table in db.metadata.sorted_tables if table.name in names or not names}
        rows["alembic_version"] = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    return rows


def table_names(application) -> list[str]:
    """The tables a database holds (an empty one: none)."""
    with application.app_context(), db.engine.connect() as conn:
        return inspect(conn).get_table_names()


def test_round_trip_gives_back_every_row_of_every_table(source, databases, tmp_path):
    path = tmp_path / "nightly.backup"
    code, output = invoke(source, "backup", str(path))
    assert code == 0, output
    before = all_rows(source)
    assert f"schema revision {HEAD}" in output
    assert f"{len(db.metadata.sorted_tables)} tables" in output
    rows = sum(len(v) for k, v in before.items() if k != "alembic_version")
    assert f"{rows - len(before['program'])} rows" in output  # not counting the backup's audit events
    assert stat.S_IMODE(path.stat().st_mode) == 0o600, "the file holds health data: its owner only"
    assert [p.name for p in tmp_path.iterdir()] == ["nightly.backup"], "no temporary file left behind"
    demo_people = [row.preferred_name for row in before["participant"]]
    assert not any(name in output for name in demo_people), "no participant data on the console"
    for table in ("participant", "attendance", "credit", "audit_event", "user_account", "module", "worksheet_answer"):
        assert before[table], f"the demo fills {table}, so the comparison means something"

    target = databases.app("round_trip")
    code, output = invoke(target, "restore", str(path))
    assert code == 0, output
    assert "Restored" in output and "migrated" not in output
    after = all_rows(target)
    programs = len(before["program"])
    backed_up = [r for r in before["audit_event"] if r.action == "system.backup"]
    restored = [r for r in after["audit_event"] if r.action == "system.restore"]
    assert len(backed_up) == len(restored) == programs, "each program's trail shows the backup and the restore"
    assert {r.detail["file"] for r in backed_up + restored} == {"nightly.backup"}
    # The backup's own events were written after it was taken, the restore's after it was restored.
    before["audit_event"] = [r for r in before["audit_event"] if r.action != "system.backup"]
    after["audit_event"] = [r for r in after["audit_event"] if r.action != "system.restore"]
    assert after == before

    with target.app_context(), db.engine.connect() as conn:
        if POSTGRES:  # the audit trail stays append-only after a restore
            with pytest.raises(Exception, match="cannot be changed or deleted"):
                conn.execute(text("UPDATE audit_event SET action = 'x'"))
        else:
            raw = conn.connection.driver_connection
            assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def _write_batches(application, stop: threading.Event, done: list, errors: list) -> None:
    """Until stopped: in one transaction each, a new participant and two audit events that point at it."""
    with application.app_context():
        program_id = find_program("demo").id
        db.session.rollback()  # on SQLite the session's transaction holds the write lock (BEGIN IMMEDIATE)
        n = 0
        while not stop.is_set():
            n += 1
            try:
                with db.engine.begin() as conn:
                    pid = conn.execute(insert(Participant.__table__).returning(Participant.__table__.c.id), {
                        "program_id": program_id, "preferred_name": f"Writer {n}", "initials": "WR",
                        "record_number": f"BK-{n}", "language": "en"}).scalar_one()
                    conn.execute(insert(AuditEvent.__table__), [
                        {"action": "backup.test", "entity": "participant", "entity_id": pid, "participant_id": pid,
                         "program_id": program_id, "detail": {"n": n}, "remote_addr": ""}
                        for _ in range(2)])
                done.append(time.monotonic())
            except Exception as exc:  # noqa: BLE001 - the test reports any failed write
                errors.append(repr(exc))
                return


def _batches(query) -> tuple[int, int]:
    """How many writer participants and writer audit events a database holds (query: SQL -> cursor)."""
    people = query("SELECT count(*) FROM participant WHERE substr(record_number, 1, 3) = 'BK-'").fetchone()[0]
    events = query("SELECT count(*) FROM audit_event WHERE action = 'backup.test'").fetchone()[0]
    return people, events


def test_backups_taken_while_another_thread_writes_are_consistent(source, databases, tmp_path):
    stop, done, errors, outputs, during = threading.Event(), [], [], [], []
    writer = threading.Thread(target=_write_batches, args=(source, stop, done, errors))
    writer.start()
    try:
        deadline = time.monotonic() + 10
        while len(done) < 20 and not errors and time.monotonic() < deadline:
            time.sleep(0.05)
        until = time.monotonic() + 2  # backups back to back for two seconds of writing
        while time.monotonic() < until or not outputs:
            before = len(done)
            outputs.append(invoke(source, "backup", str(tmp_path / f"busy-{len(outputs)}.backup")))
            during.append(len(done) - before)
        time.sleep(0.3)  # the writer carries on after the backups, too
    finally:
        stop.set()
        writer.join(timeout=30)
    assert all(code == 0 for code, _ in outputs), outputs
    assert not errors, f"a write failed while a backup ran: {errors[0]}"
    assert sum(during) > 0, "writes were committed while the backups ran"

    paths = sorted(tmp_path.glob("busy-*.backup"))
    assert len(paths) == len(outputs)
    found = []
    if POSTGRES:  # the last archive restored: pg_restore adds the foreign keys after the data, so they hold
        target = databases.app("busy")
        code, output = invoke(target, "restore", str(paths[-1]))
        assert code == 0, output
        with target.app_context(), db.engine.connect() as conn:
            found.append(_batches(conn.exec_driver_sql))
    else:
        for path in paths:
            with closing(sqlite3.connect(path)) as copy:
                assert copy.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
                assert copy.execute("PRAGMA foreign_key_check").fetchall() == []
                found.append(_batches(copy.execute))
    for people, events in found:
        assert events == 2 * people, "every transaction is in a backup whole, or not at all"
        assert 20 <= people <= len(done)


def test_a_backup_of_a_newer_schema_is_refused(databases, tmp_path):
    future = databases.app("future")
    with future.app_context():
        upgrade()
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '9999_later'"))
    path = tmp_path / "future.backup"
    code, output = invoke(future, "backup", str(path))
    assert code == 0 and "schema revision 9999_later" in output

    target = databases.app("future_target")
    code, output = invoke(target, "restore", str(path))
    assert code != 0
    assert "9999_later" in output and HEAD in output and "Nothing was changed" in output
    assert table_names(target) == []


LANGUAGE_COLUMNS = ("curriculum_version", "track", "module", "worksheet")  # 0010 adds `translations` to them


def _rows_at_0004(application, names: tuple[str, ...]) -> dict[str, list]:
    """Every row of the tables named, in the columns they had at 0004 (no `translations`)."""
    with application.app_context(), db.engine.connect() as conn:
        return {table.name: conn.execute(select(*(c for c in table.columns if c.name != "translations"))
                                         .order_by(*table.primary_key.columns)).all()
                for table in db.metadata.sorted_tables if table.name in names}


def test_a_backup_of_an_older_schema_is_migrated_after_restoring(databases, tmp_path):
    old = databases.app("old")
    curriculum = ("curriculum", "curriculum_version", "module", "worksheet")
    with old.app_context():
        upgrade(revision="0004")
        # Today's models load the curricula; their language columns (0010) and the data revisions the
        # commit sets (0011, 0012) are added for the load only.
        for table in LANGUAGE_COLUMNS:
            db.session.execute(text(f"ALTER TABLE {table} ADD COLUMN translations JSON NOT NULL DEFAULT '{{}}'"))
        db.session.execute(text("CREATE TABLE data_revision (id INTEGER PRIMARY KEY, number BIGINT NOT NULL)"))
        db.session.execute(text("CREATE TABLE table_revision (name VARCHAR(64) PRIMARY KEY, number BIGINT NOT NULL)"))
        load_shipped_curricula()
        db.session.commit()
    before = _rows_at_0004(old, curriculum)
    with old.app_context():
        for table in LANGUAGE_COLUMNS:
            db.session.execute(text(f"ALTER TABLE {table} DROP COLUMN translations"))
        db.session.execute(text("DROP TABLE data_revision"))
        db.session.execute(text("DROP TABLE table_revision"))
        db.session.commit()
    path = tmp_path / "old.backup"
    code, output = invoke(old, "backup", str(path))
    assert code == 0 and "schema revision 0004" in output, output

    target = databases.app("old_target")
    code, output = invoke(target, "restore", str(path))
    assert code == 0, output
    assert f"The backup was at schema revision 0004; the database was migrated to {HEAD}." in output
    after = _rows_at_0004(target, curriculum)
    assert all_rows(target, ("curriculum",))["alembic_version"] == [(HEAD,)]
    for table in curriculum:
        assert after[table] and after[table] == before[table]
    assert "account_token" in table_names(target), "0006's tables exist after the restore"


def test_restore_into_a_database_that_is_not_empty_is_refused(source, databases, backup_file):
    before = all_rows(source)
    code, output = invoke(source, "restore", str(backup_file))
    assert code != 0
    assert "is not empty" in output and f"schema revision {HEAD}" in output
    assert all_rows(source) == before

    migrated = databases.app("migrated_only")  # `facilitator db upgrade` ran: tables, no data yet
    with migrated.app_context():
        upgrade()
    code, output = invoke(migrated, "restore", str(backup_file))
    assert code != 0 and "is not empty" in output


def test_wrong_files_are_refused_and_change_nothing(databases, backup_file, tmp_path):
    target = databases.app("wrong_files")
    text_file = tmp_path / "notes.txt"
    text_file.write_text("not a backup\n")
    truncated = tmp_path / "truncated.backup"
    data = backup_file.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    other_kind = tmp_path / "other-kind.backup"
    if POSTGRES:
        with sqlite3.connect(other_kind) as conn:
            conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
    else:
        other_kind.write_bytes(b"PGDMP" + os.urandom(2000))
    expected = {
        text_file: "is not a facilitator backup",
        truncated: "cut short" if not POSTGRES else "is not a complete pg_dump archive",
        other_kind: "Restore it into a SQLite database" if POSTGRES else "Restore it into a PostgreSQL database",
        tmp_path / "missing.backup": "does not exist",
    }
    for path, message in expected.items():
        code, output = invoke(target, "restore", str(path))
        assert code != 0, path
        assert message in output and "Nothing was changed" in output, output
    assert table_names(target) == []


@only_postgres
def test_an_unreachable_database_is_named_without_a_traceback(databases, backup_file):
    url = make_url(os.environ["TEST_DATABASE_URL"]).set(database="facilitator_no_such_database")
    missing = databases.app_at(url.render_as_string(hide_password=False))
    code, output = invoke(missing, "restore", str(backup_file))
    assert code != 0 and "the database cannot be reached" in output and "does not exist" in output
    assert "Traceback" not in output


@only_sqlite
def test_a_sqlite_backup_is_one_self_contained_database_file(backup_file, tmp_path):
    copy = tmp_path / "copy.sqlite"
    shutil.copy(backup_file, copy)
    with sqlite3.connect(copy) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",), "no -wal file needed beside it"
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (HEAD,)


@only_postgres
def test_a_postgresql_backup_is_a_custom_format_dump_with_its_revision(source, backup_file):
    assert backup_file.read_bytes()[:5] == b"PGDMP"
    with source.app_context(), db.engine.connect() as conn:
        major = int(conn.exec_driver_sql("SHOW server_version_num").scalar_one()) // 10000
    assert postgres.archive_revision(backup_file, major) == HEAD


def test_pg_dump_gets_the_password_from_the_environment_never_the_command_line(monkeypatch, tmp_path):
    url = make_url("postgresql+psycopg://clinic:s3cret-pw@db.example:5433/facilitator?sslmode=require")
    calls = []
    monkeypatch.setattr(postgres, "tool", lambda name, major: f"/usr/lib/postgresql/{major}/bin/{name}")
    monkeypatch.setattr(postgres, "run", lambda argv, env, what: calls.append((argv, env)) or "")
    postgres.dump(url, 16, "00000003-1", tmp_path / "x.dump")
    argv, env = calls[0]
    assert not any("s3cret" in part for part in argv)
    assert "--format=custom" in argv and "--no-password" in argv
    assert (env["PGPASSWORD"], env["PGHOST"], env["PGPORT"], env["PGUSER"], env["PGDATABASE"], env["PGSSLMODE"]) == (
        "s3cret-pw", "db.example", "5433", "clinic", "facilitator", "require")
    with pytest.raises(BackupError, match="option weird"):
        postgres.environment(make_url("postgresql+psycopg://clinic@db/facilitator?weird=1"))


def test_a_missing_pg_dump_is_named_with_the_package_to_install():
    with pytest.raises(BackupError, match="pg_dump for PostgreSQL 99 was not found.*postgresql-client-99"):
        postgres.tool("pg_dump", 99)
