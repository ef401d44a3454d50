"""`facilitator init`: migrate to head, load the shipped curricula, optionally create the first director."""

from __future__ import annotations

import os
import sys

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade

from .auth.services import AccountError, create_user, find_by_email
from .curricula.services import import_curriculum
from .domain.curriculum_files import MANIFEST, SHIPPED_DIR, errors_only, load_folder
from .extensions import db
from .programs.services import create_program, first_program


def load_shipped_curricula() -> list[str]:
    """Import every curriculum folder under curriculum/ (idempotent); return a line per curriculum."""
    lines = []
    for folder in sorted(p for p in SHIPPED_DIR.iterdir() if (p / MANIFEST).is_file()):
        curriculum, problems = load_folder(folder)
        errors = errors_only(problems)
        if curriculum is None or errors:
            for problem in errors:
                click.echo(str(problem), err=True)
            raise click.ClickException(f"shipped curriculum {folder.name} is invalid; nothing imported")
        version, created = import_curriculum(curriculum)
        lines.append(f"{curriculum.name}: {'imported' if created else 'up to date,'} version {version.number} ({version.label})")
    return lines


@click.command("init")
@with_appcontext
@click.option("--email", help="Create the first director with this email.")
@click.option("--password", envvar="FACILITATOR_PASSWORD", help="The director's password (or set FACILITATOR_PASSWORD).")
@click.option("--program", "program_name", default="Main program", show_default=True, help="Name of the first program.")
def init_command(email: str | None, password: str | None, program_name: str) -> None:
    """Create or upgrade the database, load the shipped curricula. Safe to run again."""
    os.makedirs(current_app.instance_path, exist_ok=True)  # SQLite's default home
    upgrade()
    for line in load_shipped_curricula():
        click.echo(line)
    if email:
        if find_by_email(email):
            click.echo(f"director {email} already exists")
        else:
            if not password:
                if not sys.stdin.isatty():
                    raise click.ClickException("give --password or FACILITATOR_PASSWORD when not at a terminal")
                password = click.prompt("Password for the director", hide_input=True, confirmation_prompt=True)
            program = first_program() or create_program(program_name)
            try:
                create_user(program, email, password, "director", "Director")
            except AccountError as exc:
                db.session.rollback()
                raise click.ClickException(str(exc)) from exc
            click.echo(f"created director {email.strip().lower()} in {program.name}")
    db.session.commit()
    click.echo("database ready")
