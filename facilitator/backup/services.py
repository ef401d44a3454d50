"""Backup and restore of the app's database: SQLite through its online backup API, PostgreSQL through
pg_dump's custom format. A backup file holds the schema revision (alembic_version) with the data; a
restore goes only into an empty database, refuses a schema newer than this code and migrates an older one."""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory
from flask import current_app
from flask_migrate import upgrade
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url

from ..extensions import db
from . import BackupError, postgres

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"
KIND_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


@dataclass(frozen=True)
class Contents:
    """What a database or backup holds, in figures only (never participant data)."""

    revision: str | None  # None: no alembic_version (not a facilitator database, or an empty one)
    tables: int  # tables besides alembic_version
    rows: int


@dataclass(frozen=True)
class BackupResult:
    """A written backup file."""

    path: Path
    kind: str
    size: int
    contents: Contents


@dataclass(frozen=True)
class RestoreResult:
    """A restored database: the revision the file held and what the database holds now, at head."""

    kind: str
    file_revision: str
    contents: Contents


def database_url() -> URL:
    """The app's database URL."""
    return make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])


def database_kind(url: URL) -> str:
    """'sqlite' or 'postgresql'."""
    kind = url.get_backend_name()
    if kind not in KIND_NAMES:
        raise BackupError(f"backups are made for SQLite and PostgreSQL databases, not {kind}.")
    return kind


def head_revision() -> str:
    """The newest schema revision this code knows (alembic head)."""
    return _scripts().get_current_head()


def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config())


def check_revision(revision: str | None, name: str) -> None:
    """Refuse a file without a revision, or with one newer than (unknown to) this code."""
    head = head_revision()
    if revision is None:
        raise BackupError(f"{name} holds no schema revision (no alembic_version table): it is not a facilitator "
                          "backup. Nothing was changed.")
    if revision not in {script.revision for script in _scripts().walk_revisions()}:
        raise BackupError(
            f"{name} was made at schema revision {revision}, newer than this version of facilitator knows "
            f"(its newest is {head}). Upgrade facilitator, then restore. Nothing was changed.")


def file_kind(path: Path) -> str:
    """The kind of database a backup file is from, by its first bytes; refuses anything else."""
    try:
        with path.open("rb") as handle:
            start = handle.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise BackupError(f"{path} cannot be read: {exc.strerror}.") from exc
    if start.startswith(SQLITE_MAGIC):
        return "sqlite"
    if start.startswith(PGDUMP_MAGIC):
        return "postgresql"
    raise BackupError(f"{path} is not a facilitator backup (neither a SQLite database nor a pg_dump custom-format "
                      "archive). Nothing was changed.")


# --- backup ---------------------------------------------------------------------------------------------------


def backup(path: Path) -> BackupResult:
    """Write a consistent copy of the app's database to `path` (atomically, mode 0600)."""
    url = database_url()
    kind = database_kind(url)
    path = Path(path)
    if path.is_dir():
        raise BackupError(f"{path} is a folder; give the backup's file name.")
    if not path.parent.is_dir():
        raise BackupError(f"the folder {path.parent} does not exist.")
    with _temporary_beside(path) as partial:
        contents = _backup_sqlite(url, partial) if kind == "sqlite" else _backup_postgresql(url, partial)
        os.chmod(partial, 0o600)  # it holds health data: its owner only
        _fsync(partial)
        os.replace(partial, path)  # a reader never sees half a backup; an older FILE stays until now
    _fsync(path.parent)
    return BackupResult(path, kind, path.stat().st_size, contents)


@contextmanager
def _temporary_beside(path: Path) -> Iterator[Path]:
    """A private (0600) temporary file in the target's folder (same file system, so the rename is atomic)."""
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    os.close(handle)
    try:
        yield Path(name)
    finally:
        Path(name).unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    handle = os.open(path, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def sqlite_path(url: URL) -> Path:
    """The file of a SQLite URL (an in-memory database has none)."""
    if not url.database or url.database == ":memory:":
        raise BackupError("the database is in memory: there is no file to back up or restore into.")
    return Path(url.database)


def _backup_sqlite(url: URL, partial: Path) -> Contents:
    source = sqlite_path(url)
    if not source.is_file():
        raise BackupError(f"the database {source} does not exist (run facilitator init first).")
    try:
        with closing(sqlite3.connect(source, timeout=60)) as src, closing(sqlite3.connect(partial)) as dst:
            # One step (pages=-1): the whole copy is read in one read transaction, a single moment of the
            # database, WAL included; writers in WAL mode carry on meanwhile.
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    except sqlite3.Error as exc:
        raise BackupError(f"the database {source} could not be copied ({exc}); no backup was written.") from exc
    with closing(_open_backup(partial)) as copy:
        contents = _sqlite_contents(copy)
    if contents.revision is None:
        raise BackupError(f"the database {source} holds no schema revision (run facilitator init first).")
    return contents


def _sqlite_contents(conn: sqlite3.Connection) -> Contents:
    names = [row[0] for row in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    revision = None
    if "alembic_version" in names:
        names.remove("alembic_version")
        found = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        revision = found[0] if found else None
    rows = sum(conn.execute(f'SELECT count(*) FROM "{name.replace(chr(34), chr(34) * 2)}"').fetchone()[0]
               for name in names)
    return Contents(revision, len(names), rows)


def _open_backup(path: Path) -> sqlite3.Connection:
    # Read-only and immutable: reading a backup never writes beside it (no -wal or -shm files).
    return sqlite3.connect(path.resolve().as_uri() + "?mode=ro&immutable=1", uri=True)


def _backup_postgresql(url: URL, partial: Path) -> Contents:
    with db.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            # pg_dump reads the snapshot this transaction exports: the figures printed below describe
            # exactly the rows in the file.
            snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
            contents = _postgresql_contents(conn)
            if contents.revision is None:
                raise BackupError("the database holds no schema revision (run facilitator init first).")
            postgres.dump(url, _server_major(conn), snapshot, partial)
    return contents


def _server_major(conn) -> int:
    return int(conn.exec_driver_sql("SHOW server_version_num").scalar_one()) // 10000


def _postgresql_tables(conn) -> list[tuple[str, str]]:
    return [tuple(row) for row in conn.execute(text(
        "SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
        "AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2"))]


def _postgresql_contents(conn) -> Contents:
    tables = _postgresql_tables(conn)
    revision = None
    if any(name == "alembic_version" for _, name in tables):
        revision = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    quote = conn.dialect.identifier_preparer.quote
    data = [(schema, name) for schema, name in tables if name != "alembic_version"]
    rows = sum(conn.exec_driver_sql(f"SELECT count(*) FROM {quote(schema)}.{quote(name)}").scalar_one()
               for schema, name in data)
    return Contents(revision, len(data), rows)


# --- restore --------------------------------------------------------------------------------------------------


def restore(path: Path) -> RestoreResult:
    """Restore a backup file into the app's empty database, then migrate it to head."""
    path = Path(path)
    url = database_url()
    kind = database_kind(url)
    if not path.is_file():
        raise BackupError(f"{path} does not exist or is not a file. Nothing was changed.")
    found = file_kind(path)
    if found != kind:
        raise BackupError(f"{path} is a {KIND_NAMES[found]} backup, and the database to restore into is "
                          f"{KIND_NAMES[kind]}. Restore it into a {KIND_NAMES[found]} database. Nothing was changed.")
    revision = _restore_sqlite(url, path) if kind == "sqlite" else _restore_postgresql(url, path)
    if revision != head_revision():
        try:
            upgrade()  # an older schema: the migrations bring it to this code's head
        except Exception as exc:
            raise BackupError(f"the backup was restored at schema revision {revision}, but migrating it to "
                              f"{head_revision()} failed ({exc}); the database holds the backup as it was. Run "
                              "facilitator db upgrade once the cause is fixed.") from exc
    db.engine.dispose()
    with db.engine.connect() as conn:
        contents = _sqlite_contents(conn.connection.driver_connection) if kind == "sqlite" \
            else _postgresql_contents(conn)
    return RestoreResult(kind, revision, contents)


def _refuse_non_empty(present: Contents, where: str) -> None:
    if present.tables or present.revision:
        at = f", schema revision {present.revision}" if present.revision else ""
        raise BackupError(
            f"the database to restore into ({where}) is not empty: {present.tables} tables, {present.rows} rows{at}. "
            "Restore only "
            "into an empty database: point DATABASE_URL at a new database (createdb) or move the SQLite file "
            "away. Nothing was changed.")


def _restore_sqlite(url: URL, path: Path) -> str:
    target = sqlite_path(url)
    try:
        with closing(_open_backup(path)) as src:
            check = src.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise BackupError(f"{path} is damaged ({check}). Nothing was changed.")
            contents = _sqlite_contents(src)
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is damaged or cut short ({exc}). Nothing was changed.") from exc
    check_revision(contents.revision, str(path))
    if target.exists():
        with closing(sqlite3.connect(target.resolve().as_uri() + "?mode=ro", uri=True)) as existing:
            _refuse_non_empty(_sqlite_contents(existing), str(target))
    db.engine.dispose()  # no pooled connection holds the old (empty) file open
    target.parent.mkdir(parents=True, exist_ok=True)  # a new instance folder, as `init` would make it
    with closing(_open_backup(path)) as src, closing(sqlite3.connect(target, timeout=60)) as dst:
        src.backup(dst)  # page by page into the target, in one write transaction
        dst.execute("PRAGMA journal_mode=WAL")  # as the app runs it
    return contents.revision


def _restore_postgresql(url: URL, path: Path) -> str:
    with db.engine.connect() as conn:
        major = _server_major(conn)
        present = _postgresql_contents(conn)
    try:
        revision = postgres.archive_revision(path, major)
    except BackupError as exc:
        raise BackupError(f"{path} is not a complete pg_dump archive: {exc} Nothing was changed.") from exc
    check_revision(revision, str(path))
    _refuse_non_empty(present, f"PostgreSQL database {url.database}")
    db.engine.dispose()
    try:
        postgres.restore(url, major, path)
    except BackupError as exc:
        raise BackupError(f"{exc} The restore ran in one transaction: nothing was restored.") from exc
    with db.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")  # planner statistics
    return revision
