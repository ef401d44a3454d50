"""The `facilitator` command: Flask's CLI (run, shell, db) plus the project's own commands."""

from __future__ import annotations

import os
import secrets
import sys

import click
from flask import Flask
from flask.cli import FlaskGroup

from . import create_app


def register_commands(app: Flask) -> None:
    """Attach every area's command group to the app's CLI."""
    from .auth.cli import create_user_command, users_cli
    from .backup.cli import backup_command, restore_command
    from .curricula.cli import curriculum_cli
    from .demo.cli import demo_command
    from .schedule.cli import schedule_cli
    from .setup_cli import init_command

    for command in (init_command, create_user_command, users_cli, demo_command, curriculum_cli, schedule_cli,
                    backup_command, restore_command):
        app.cli.add_command(command)
    app.cli.add_command(__import__("facilitator.documents.cli", fromlist=["print_cli"]).print_cli)
    app.cli.add_command(__import__("facilitator.queue.worker", fromlist=["worker_command"]).worker_command)


def _cli_app() -> Flask:
    app = create_app()
    register_commands(app)
    return app


@click.group(cls=FlaskGroup, create_app=_cli_app, add_version_option=False)
def cli() -> None:
    """facilitator: curriculum, attendance and worksheets for intensive outpatient programs."""


def main() -> None:
    """Console-script entry point."""
    serving = len(sys.argv) > 1 and sys.argv[1] == "run"
    if not serving and not os.environ.get("SECRET_KEY"):
        # Commands other than `run` sign no cookies; a throwaway key lets them work without set-up,
        # while `run` still refuses to start without a real SECRET_KEY.
        os.environ["SECRET_KEY"] = secrets.token_hex(32)
    cli.main(prog_name="facilitator")
