"""`facilitator backup FILE` and `facilitator restore FILE`."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from ..audit import services as audit
from ..extensions import db
from ..programs.models import Program
from . import BackupError
from .services import KIND_NAMES, backup, head_revision, restore


def _run(operation, file: Path):
    """Run backup() or restore(), turning its refusals and an unreachable database into the command's error."""
    try:
        return operation(file)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise click.ClickException(f"the database cannot be reached ({reason}). Nothing was changed.") from exc


def _audit_for_every_program(action: str, detail: dict) -> None:
    """One audit event per program (a director's trail shows their program's events): a backup or a
    restore copies everyone's records. The file's name only: its folder is the server's business."""
    for program_id in db.session.scalars(select(Program.id)):
        audit.record(action, "database", None, program_id=program_id, detail=detail)
    db.session.commit()


def _size(size: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return ""


@click.command("backup")
@click.argument("file", type=click.Path(path_type=Path))
@with_appcontext
def backup_command(file: Path) -> None:
    """Write a consistent backup of the whole database to FILE (SQLite: a database file; PostgreSQL: pg_dump -Fc)."""
    result = _run(backup, file)
    contents = result.contents
    _audit_for_every_program("system.backup", {"file": result.path.name, "revision": contents.revision,
                                               "rows": contents.rows})
    click.echo(f"Backup written to {result.path} ({KIND_NAMES[result.kind]}, {_size(result.size)}, readable by its "
               f"owner only): schema revision {contents.revision}, {contents.tables} tables, {contents.rows} rows.")


@click.command("restore")
@click.argument("file", type=click.Path(path_type=Path))
@with_appcontext
def restore_command(file: Path) -> None:
    """Restore a backup FILE into the empty database of DATABASE_URL, then migrate it to this version's schema."""
    result = _run(restore, file)
    contents = result.contents
    _audit_for_every_program("system.restore", {"file": Path(file).name, "backup_revision": result.file_revision,
                                                "revision": contents.revision})
    if result.file_revision != contents.revision:
        click.echo(f"The backup was at schema revision {result.file_revision}; the database was migrated to "
                   f"{head_revision()}.")
    click.echo(f"Restored {file} into the {KIND_NAMES[result.kind]} database: schema revision {contents.revision}, "
               f"{contents.tables} tables, {contents.rows} rows.")
