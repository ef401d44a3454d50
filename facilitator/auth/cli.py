"""`facilitator create-user`."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from ..extensions import db
from ..programs.services import find_program, first_program
from .models import ROLES
from .services import AccountError, create_user


@click.command("create-user")
@with_appcontext
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES[:2]), default="facilitator", show_default=True)
@click.option("--name", "display_name", default="", help="Name shown in the app.")
@click.option("--program", "program_slug", help="Program short name (default: the first program).")
@click.password_option(envvar="FACILITATOR_PASSWORD", help="Password (or FACILITATOR_PASSWORD).")
def create_user_command(email: str, role: str, display_name: str, program_slug: str | None, password: str) -> None:
    """Create a director or facilitator account."""
    program = find_program(program_slug) if program_slug else first_program()
    if program is None:
        raise click.ClickException("no such program; run `facilitator init --email ...` first")
    try:
        user = create_user(program, email, password, role, display_name)
    except AccountError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"created {user.role} {user.email} in {program.name}")
