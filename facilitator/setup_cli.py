"""`facilitator init`: migrate to head, load the shipped curricula, optionally create the program and its
first director (who gets a one-time set-password link)."""

from __future__ import annotations

import os

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade

from .auth.accounts import invite_user
from .auth.mail import local_time
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
@click.option("--password", envvar="FACILITATOR_PASSWORD",
              help="The director's password (or FACILITATOR_PASSWORD); without it a one-time set-password link is printed.")
@click.option("--program", "program_name", default="Main program", show_default=True, help="Name of the first program.")
def init_command(email: str | None, password: str | None, program_name: str) -> None:
    """Create or upgrade the database, load the shipped curricula. Safe to run again."""
    os.makedirs(current_app.instance_path, exist_ok=True)  # SQLite's default home
    upgrade()
    for line in load_shipped_curricula():
        click.echo(line)
    link = None
    if email:
        if find_by_email(email):
            click.echo(f"director {email} already exists (a new set-password link: facilitator users reset {email})")
        else:
            program = first_program() or create_program(program_name)
            try:
                if password:  # scripts and the demo; people get a link and choose their own
                    create_user(program, email, password, "director", "Director")
                else:
                    link = invite_user(program, email, "director", "Director").link
            except AccountError as exc:
                db.session.rollback()
                raise click.ClickException(str(exc)) from exc
            click.echo(f"created director {email.strip().lower()} in {program.name}")
    db.session.commit()
    click.echo("database ready")
    if link is not None:
        expires = local_time(link.expires_at, link.user.program)
        click.echo(f"The director chooses a password here (the link works once, until {expires:%Y-%m-%d %H:%M %Z}):")
        click.echo(link.url)
