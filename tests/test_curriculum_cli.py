"""`facilitator curriculum validate|import|export` and `facilitator init`."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import func, select

from facilitator import create_app
from facilitator.cli import register_commands
from facilitator.curricula.models import CurriculumVersion, Module
from facilitator.domain.curriculum_files import SHIPPED_DIR

MATRIX = SHIPPED_DIR / "matrix-16"


def test_validate_reports_the_track_counts(runner):
    result = runner.invoke(args=["curriculum", "validate", str(MATRIX)])
    assert result.exit_code == 0, result.output
    counts = {}
    for line in result.output.splitlines():
        parts = line.split()
        if len(parts) == 5 and parts[0].isalpha() and parts[0].isupper():
            counts[parts[0]] = (int(parts[1]), int(parts[2]), float(parts[3]), float(parts[4]))
    assert {code: c[0] for code, c in counts.items()} == {"IC": 3, "ERS": 8, "RP": 32, "FE": 12, "SS": 36, "RA": 1}
    for code, (modules, worksheets, mean_grade, max_grade) in counts.items():
        assert worksheets >= modules, f"{code}: every module has a worksheet"
        assert mean_grade <= 8 and max_grade <= 10
    assert "valid: 0 errors" in result.output


def test_validate_accepts_a_shipped_name(runner):
    assert runner.invoke(args=["curriculum", "validate", "matrix-16"]).exit_code == 0


def _broken_copy(tmp_path: Path, file: str, old: str, new: str) -> Path:
    copy = tmp_path / "broken"
    shutil.copytree(MATRIX, copy)
    target = copy / file
    text = target.read_text()
    assert old in text
    target.write_text(text.replace(old, new, 1))
    return copy


def test_a_broken_module_names_the_file_line_and_field(runner, tmp_path):
    copy = _broken_copy(tmp_path, "modules/ers/ers-01.md", "minutes: 50\n", "minutes: fifty\n")
    result = runner.invoke(args=["curriculum", "validate", str(copy)])
    assert result.exit_code == 1
    assert "modules/ers/ers-01.md:4: [minutes] error: 'fifty' is not of type 'integer'" in result.output


def test_minutes_that_do_not_add_up_are_an_error(runner, tmp_path):
    copy = _broken_copy(tmp_path, "modules/ers/ers-01.md", "  - minutes: 5\n", "  - minutes: 6\n")
    result = runner.invoke(args=["curriculum", "validate", str(copy)])
    assert result.exit_code == 1
    assert "modules/ers/ers-01.md: [outline] error: outline minutes add up to 51, not 50" in result.output


def test_a_missing_module_file_names_the_manifest_line(runner, tmp_path):
    copy = tmp_path / "broken"
    shutil.copytree(MATRIX, copy)
    (copy / "modules/rp/rp-07.md").unlink()
    result = runner.invoke(args=["curriculum", "validate", str(copy)])
    assert result.exit_code == 1
    assert "curriculum.yaml:" in result.output and "modules/rp/rp-07.md: no such module file" in result.output


def test_a_failed_import_changes_nothing(runner, session, tmp_path):
    before = session.scalar(select(func.count()).select_from(Module))
    versions = session.scalar(select(func.count()).select_from(CurriculumVersion))
    copy = _broken_copy(tmp_path, "modules/rp/rp-32.md", "minutes: 90\n", "minutes: -5\n")
    (copy / "curriculum.yaml").write_text((copy / "curriculum.yaml").read_text().replace("2027.2", "broken-1"))
    result = runner.invoke(args=["curriculum", "import", str(copy)])
    assert result.exit_code == 1
    assert "the database was not changed" in result.output
    assert session.scalar(select(func.count()).select_from(Module)) == before
    assert session.scalar(select(func.count()).select_from(CurriculumVersion)) == versions


def test_export_then_import_gives_the_same_version_back(runner, tmp_path):
    out = tmp_path / "exported"
    result = runner.invoke(args=["curriculum", "export", "matrix-16", "1", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "curriculum.yaml").is_file() and (out / "modules/rp/rp-03.md").is_file()
    result = runner.invoke(args=["curriculum", "import", str(out)])
    assert result.exit_code == 0, result.output
    assert "already present as version 1" in result.output


def test_an_edited_export_imports_as_a_new_version(runner, tmp_path):
    out = tmp_path / "exported"
    runner.invoke(args=["curriculum", "export", "matrix-16", "2027.2", str(out)])
    manifest = out / "curriculum.yaml"
    manifest.write_text(manifest.read_text().replace("version: '2027.2'", "version: '2027.3'"))
    result = runner.invoke(args=["curriculum", "import", str(out)])
    assert result.exit_code == 0, result.output
    assert "imported as version 2 (2027.3)" in result.output


def test_export_of_an_unknown_version_fails_cleanly(runner, tmp_path):
    result = runner.invoke(args=["curriculum", "export", "matrix-16", "99", str(tmp_path / "x")])
    assert result.exit_code != 0
    assert "has no version '99'" in result.output
    assert not (tmp_path / "x").exists()


def test_init_twice_is_harmless(tmp_path, monkeypatch):
    monkeypatch.setenv("FACILITATOR_INSTANCE", str(tmp_path / "instance"))
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/instance/init.sqlite",
                      "SECRET_KEY": "k", "TESTING": True})
    register_commands(app)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["init", "--email", "Boss@Example.org", "--password", "a-long-password"])
    assert first.exit_code == 0, first.output
    assert "matrix-16: imported version 1" in first.output and "created director boss@example.org" in first.output
    second = runner.invoke(args=["init", "--email", "boss@example.org", "--password", "a-long-password"])
    assert second.exit_code == 0, second.output
    assert "matrix-16: up to date, version 1" in second.output
    assert "director boss@example.org already exists" in second.output
    with app.app_context():
        from facilitator.extensions import db

        assert db.session.scalar(select(func.count()).select_from(CurriculumVersion)) == 1
        db.engine.dispose()


def test_init_on_a_database_with_the_older_text_publishes_the_new_version_beside_it(tmp_path, monkeypatch):
    """A site that installed 2026.1 gets 2027.2 as version 2 on the next init; version 1 stays as it was."""
    older = tmp_path / "shipped-2026" / "matrix-16"
    shutil.copytree(MATRIX, older)
    manifest = older / "curriculum.yaml"
    manifest.write_text(manifest.read_text().replace("version: '2027.2'", "version: '2026.1'"))
    rp1 = older / "modules/rp/rp-01.md"
    rp1.write_text(rp1.read_text().replace("## Key points\n", "## Key points\n\n- The older text.\n", 1))
    monkeypatch.setenv("FACILITATOR_INSTANCE", str(tmp_path / "instance"))
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/instance/upgrade.sqlite",
                      "SECRET_KEY": "k", "TESTING": True})
    register_commands(app)
    runner = app.test_cli_runner()
    monkeypatch.setattr("facilitator.setup_cli.SHIPPED_DIR", older.parent)
    first = runner.invoke(args=["init"])
    assert first.exit_code == 0, first.output
    assert "matrix-16: imported version 1 (2026.1)" in first.output
    with app.app_context():
        from facilitator.curricula.services import find_version, load_version
        from facilitator.extensions import db

        old = find_version("matrix-16")
        old_hash, old_published = old.content_hash, old.published_at
        db.session.remove()
    monkeypatch.undo()
    monkeypatch.setenv("FACILITATOR_INSTANCE", str(tmp_path / "instance"))
    second = runner.invoke(args=["init"])
    assert second.exit_code == 0, second.output
    assert "matrix-16: imported version 2 (2027.2)" in second.output
    assert "matrix-16: up to date, version 2" in runner.invoke(args=["init"]).output
    with app.app_context():
        versions = db.session.scalars(select(CurriculumVersion).order_by(CurriculumVersion.number)).all()
        assert [(v.number, v.label, v.status) for v in versions] == [(1, "2026.1", "published"),
                                                                      (2, "2027.2", "published")]
        kept = load_version(versions[0].id)
        assert (kept.content_hash, kept.published_at) == (old_hash, old_published)
        rp1_old = next(m for t in kept.tracks for m in t.modules if m.code == "RP 1")
        assert "The older text." in rp1_old.key_points, "the published 2026.1 text is untouched"
        assert find_version("matrix-16").label == "2027.2", "new groups get the new version"
        assert find_version("matrix-16", "2026.1").number == 1, "groups on 2026.1 keep their version"
        db.engine.dispose()
