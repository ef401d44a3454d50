"""`facilitator create-user` and `facilitator users list|invite|reset|deactivate|activate`."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from ..extensions import db
from ..participants.models import Participant
from ..programs.services import find_program, first_program
from . import accounts
from .invites import Link
from .mail import local_time
from .models import ROLES, User
from .services import AccountError, create_user, find_by_email


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


# --- `facilitator users ...`: the staff page's operations from the command line ---------------------

@click.group("users")
def users_cli() -> None:
    """List accounts, invite people, make set-password links, deactivate and reactivate accounts."""


def _account(email: str) -> User:
    user = find_by_email(email)
    if user is None:
        raise click.ClickException(f"no account has the email {email.strip()}")
    return user


def _done(message: str) -> None:
    db.session.commit()
    click.echo(message)


def _print_link(link: Link) -> None:
    expires = local_time(link.expires_at, link.user.program)
    click.echo(link.url)
    click.echo(f"(works once, until {expires:%Y-%m-%d %H:%M %Z}; give it to {link.user.email} only)")


@users_cli.command("list")
@with_appcontext
@click.option("--program", "program_slug", help="Only this program (its short name).")
def list_command(program_slug: str | None) -> None:
    """Every account: email, role, status, last sign-in (program time), two-factor, program."""
    query = select(User).order_by(User.program_id, User.role, User.email)
    if program_slug:
        program = find_program(program_slug)
        if program is None:
            raise click.ClickException(f"no program has the short name {program_slug}")
        query = query.where(User.program_id == program.id)
    for user in db.session.scalars(query):
        status = "deactivated" if not user.active else "active" if user.password_hash else "invited"
        last = (f"{local_time(user.last_login_at, user.program):%Y-%m-%d %H:%M}" if user.last_login_at else "never")
        click.echo("\t".join((user.email, user.role, status, f"last sign-in {last}",
                              "2FA on" if user.mfa_enabled else "2FA off", user.program.slug)))


@users_cli.command("invite")
@with_appcontext
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--participant", "record_number", help="The participant's record number (role participant).")
@click.option("--name", "display_name", default="", help="Name shown in the app (default: the participant's "
              "preferred name, or the email's first part).")
@click.option("--program", "program_slug", help="Program short name (default: the first program).")
def invite_command(email: str, role: str, record_number: str | None, display_name: str,
                   program_slug: str | None) -> None:
    """Create an account without a password and print its one-time set-password link."""
    program = find_program(program_slug) if program_slug else first_program()
    if program is None:
        raise click.ClickException(f"no program has the short name {program_slug}" if program_slug
                                   else "there is no program yet; run `facilitator init --program NAME --email E`")
    participant = None
    if role == "participant":
        if not record_number:
            raise click.ClickException("a participant account needs --participant RECORD_NUMBER")
        participant = db.session.scalar(select(Participant).where(Participant.program_id == program.id,
                                                                  Participant.record_number == record_number))
        if participant is None:
            raise click.ClickException(f"no participant has the record number {record_number} in {program.name}")
    elif record_number:
        raise click.ClickException("--participant is only for --role participant")
    try:
        invitation = accounts.invite_user(program, email, role, display_name, None, participant)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"invited {invitation.user.role} {invitation.user.email} to {program.name}; their link:")
    _print_link(invitation.link)


@users_cli.command("reset")
@with_appcontext
@click.argument("email")
def reset_command(email: str) -> None:
    """Print a new one-time set-password link for an account (its older links stop working)."""
    user = _account(email)
    try:
        link = accounts.reset_link(user)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    _print_link(link)


@users_cli.command("deactivate")
@with_appcontext
@click.argument("email")
def deactivate_command(email: str) -> None:
    """Stop an account from signing in; its open sessions end at their next request."""
    user = _account(email)
    if not user.active:
        raise click.ClickException(f"{user.email} is already deactivated")
    try:
        accounts.deactivate(user)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    _done(f"deactivated {user.email}")


@users_cli.command("activate")
@with_appcontext
@click.argument("email")
def activate_command(email: str) -> None:
    """Let a deactivated account sign in again."""
    user = _account(email)
    if user.active:
        raise click.ClickException(f"{user.email} is already active")
    accounts.activate(user)
    _done(f"reactivated {user.email}")
