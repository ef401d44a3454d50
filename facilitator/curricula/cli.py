"""`facilitator curriculum ...`: validate, import and export the curriculum file format."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from ..domain.curriculum_files import errors_only, load_folder, shipped_path, write_folder
from ..domain.curriculum_languages import language_report
from ..domain.curriculum_rules import track_report
from ..extensions import db
from . import services

curriculum_cli = AppGroup("curriculum", help="Validate, import and export curricula (a folder with curriculum.yaml and module files).")


def _load_or_report(path: str):
    folder = shipped_path(path)
    if not folder.is_dir():
        raise click.ClickException(f"{path}: no such folder")
    curriculum, problems = load_folder(folder)
    for problem in problems:
        click.echo(str(problem), err=True)
    return curriculum, problems


@curriculum_cli.command("validate")
@click.argument("path")
def validate_command(path: str) -> None:
    """Check a curriculum folder; print per-track counts and reading grades. Exit 1 on any error."""
    curriculum, problems = _load_or_report(path)
    if curriculum is not None:
        click.echo(f"{curriculum.name} {curriculum.version}: {curriculum.title}")
        click.echo("English: reading grade of the worksheets (Flesch-Kincaid US grade, lower is easier)")
        click.echo(f"{'track':<6} {'modules':>7} {'worksheets':>10} {'mean grade':>10} {'max grade':>9}")
        for row in track_report(curriculum):
            click.echo(f"{row.code:<6} {row.modules:>7} {row.worksheets:>10} {row.mean_grade:>10.1f} {row.max_grade:>9.1f}")
        languages = language_report(curriculum)
        if languages:
            # Spanish reads by ease (0-100, higher is easier; 70-80 is about grade 6), not by US grade.
            click.echo("Other languages: reading ease of the worksheets (higher is easier; 70 and up is about grade 6)")
            click.echo(f"{'track':<6} {'language':<8} {'worksheets':>10} {'mean F-H':>9} {'lowest F-H':>10} "
                       f"{'mean S-P':>9}   (F-H: Fernández-Huerta, S-P: Szigriszt-Pazos)")
            for lang_row in languages:
                click.echo(f"{lang_row.code:<6} {lang_row.language:<8} {lang_row.worksheets:>10} {lang_row.mean_ease:>9.1f} "
                           f"{lang_row.min_ease:>10.1f} {lang_row.mean_szigriszt:>9.1f}")
    errors = errors_only(problems)
    warnings = len(problems) - len(errors)
    if errors or curriculum is None:
        click.echo(f"invalid: {len(errors)} error(s), {warnings} warning(s)", err=True)
        sys.exit(1)
    click.echo(f"valid: 0 errors, {warnings} warning(s)")


@curriculum_cli.command("import")
@click.argument("path")
def import_command(path: str) -> None:
    """Validate a curriculum folder and store it as a published version (nothing is written on error)."""
    curriculum, problems = _load_or_report(path)
    if curriculum is None or errors_only(problems):
        click.echo("not imported: fix the errors above; the database was not changed", err=True)
        sys.exit(1)
    version, created = services.import_curriculum(curriculum)
    db.session.commit()
    verb = "imported as" if created else "already present as"
    click.echo(f"{curriculum.name}: {verb} version {version.number} ({version.label})")


@curriculum_cli.command("export")
@click.argument("name")
@click.argument("version")
@click.argument("path", type=click.Path(file_okay=False, path_type=Path))
def export_command(name: str, version: str, path: Path) -> None:
    """Write a stored version (number or label) to a folder in the curriculum file format."""
    try:
        stored = services.find_version(name, version)
    except services.CurriculumNotFound as exc:
        raise click.ClickException(str(exc)) from exc
    if path.exists() and any(path.iterdir()):
        raise click.ClickException(f"{path} is not empty; choose a new folder")
    files = write_folder(services.to_domain(services.load_version(stored.id)), path)
    click.echo(f"wrote {len(files)} files to {path}")
