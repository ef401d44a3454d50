"""`facilitator demo`."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from ..extensions import db
from .services import DEMO_LOGINS, build_demo


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Create the demo program (idempotent) and print its logins."""
    created = build_demo()
    db.session.commit()
    click.echo("demo program created" if created else "demo program already present")
    for role, email, password in DEMO_LOGINS:
        click.echo(f"  {role:<12} {email:<32} {password}")
