"""`facilitator schedule ...`: scheduling commands that need no app or database."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import NoReturn

import click

from ..domain.problems import Problem
from ..domain.sequencer import ScenarioError, format_problem, simulate

EXIT_INVALID = 2


@click.group("schedule")
def schedule_cli() -> None:
    """Plan and simulate group calendars."""


@schedule_cli.command("simulate")
@click.argument("scenario", type=click.Path(dir_okay=False, allow_dash=True))
def simulate_command(scenario: str) -> None:
    """Simulate SCENARIO (a JSON file, or - for stdin) and print meetings and progress as JSON."""
    name = "<stdin>" if scenario == "-" else scenario
    try:
        text = sys.stdin.read() if scenario == "-" else Path(scenario).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        _fail([f"{name}: cannot read: {exc}"])
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        _fail([f"{name}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}"])
    base_dir = Path.cwd() if scenario == "-" else Path(scenario).resolve().parent
    notes: list[Problem] = []
    try:
        result = simulate(data, base_dir=base_dir, source=name, notes=notes)
    except ScenarioError as exc:
        _fail([format_problem(p) for p in exc.problems])
    for note in notes:
        click.echo(f"note: {format_problem(note)}", err=True)
    click.echo(json.dumps(result, indent=2))


def _fail(lines: list[str]) -> NoReturn:
    for line in lines:
        click.echo(f"error: {line}", err=True)
    raise SystemExit(EXIT_INVALID)
