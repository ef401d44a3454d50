"""Scenario parsing and validation, curriculum resolution, and the `schedule simulate` command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from facilitator.domain.curriculum_files import write_folder
from facilitator.domain.sequencer import ScenarioError, simulate
from facilitator.schedule.cli import schedule_cli

from .test_sequencer_support import matrix_like, pattern_json

DATA = Path(__file__).resolve().parents[1] / "data"
CUR = matrix_like()


def base(**changes) -> dict:
    scenario = {
        "start": "2027-01-04", "until": "2027-02-26", "slots": pattern_json(),
        "participants": [{"id": "A1", "admitted": "2027-01-04", "absent": ["2027-01-08"]}],
    }
    scenario.update(changes)
    return scenario


def problems(scenario) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        simulate(scenario, curriculum=CUR)
    return [f"{p.field}: {p.message}" for p in caught.value.problems]


SLOT = {"weekday": "mon", "time": "18:00", "track": "RP", "minutes": 90}


@pytest.mark.parametrize("changes, field, words", [
    ({"until": "2027-01-01"}, "until", "before start"),
    ({"start": "2027-02-30"}, "start", "not a date"),
    ({"start": "27-01-04"}, "start", "not a date"),
    ({"holidays": ["2027-01-18", "soon"]}, "holidays[1]", "not a date"),
    ({"slots": [{**SLOT, "minutes": 0}]}, "slots[0].minutes", "greater than 0"),
    ({"slots": [{**SLOT, "minutes": -5}]}, "slots[0].minutes", "greater than 0"),
    ({"slots": [{**SLOT, "minutes": "90"}]}, "slots[0].minutes", "whole number"),
    ({"slots": [{**SLOT, "track": "XYZ"}]}, "slots[0].track", "unknown track 'XYZ'"),
    ({"slots": [{**SLOT, "track": "IC"}]}, "slots[0].track", "scheduled individually"),
    ({"slots": [{**SLOT, "weekday": "monday"}]}, "slots[0].weekday", "mon, tue"),
    ({"slots": [{**SLOT, "time": "6pm"}]}, "slots[0].time", "24-hour time"),
    ({"slots": [SLOT, SLOT]}, "slots[1]", "same weekday, time and track as slots[0]"),
    ({"slots": [{"weekday": "mon", "time": "18:00", "track": "RP"}]}, "slots[0].minutes", "missing"),
    ({"slots": "mon"}, "slots", "must be a list"),
    ({"cancellations": [{"date": "2027-01-20", "track": "XX"}]}, "cancellations[0].track", "unknown track"),
    ({"cancellations": [{"track": "RP"}]}, "cancellations[0].date", "missing"),
    ({"policy": "drop"}, "policy", "postpone, skip"),
    ({"hours_floor": -1}, "hours_floor", "number of hours"),
    ({"hours_floor": True}, "hours_floor", "number of hours"),
    ({"mode": "closed"}, "mode", "open, cohort"),
    ({"participants": [{"id": "A"}]}, "participants[0].admitted", "missing"),
    ({"participants": [{"id": "A", "admitted": "2027-01-04", "discharged": "2027-01-01"}]},
     "participants[0].discharged", "before admitted"),
    ({"participants": [{"id": "A", "admitted": "2027-01-04"}, {"id": "A", "admitted": "2027-01-05"}]},
     "participants[1].id", "also the id of participants[0]"),
    ({"participants": [{"id": "A", "admitted": "2027-01-04", "absent": ["2027-1-8"]}]},
     "participants[0].absent[0]", "not a date"),
    ({"participants": [{"id": "A", "admitted": "2027-01-04", "present": []}]}, "participants[0].present", "unknown field"),
    ({"mode": "cohort", "participants": [{"id": "A", "admitted": "2027-01-05"}]},
     "participants[0].admitted", "cohort admits everyone"),
    ({"mode": "cohort", "start_modules": {"RP": "RP 5"}}, "start_modules", "cohort starts every track"),
    ({"start_modules": {"RP": "RP 40"}}, "start_modules.RP", "not a module of RP"),
    ({"topics": [{"date": "2027-01-06", "track": "SS", "module": "SS 99"}]}, "topics[0].module", "not a module of SS"),
    ({"topics": [{"date": "2027-01-07", "track": "SS", "module": "SS 9"}]}, "topics[0]", "no SS meeting on 2027-01-07"),
    ({"topics": [{"date": "2027-01-04", "track": "RP", "module": "RP 9"}]}, "topics[0].track", "only pool tracks"),
    ({"holiday": ["2027-01-18"]}, "holiday", "unknown field"),
])
def test_a_bad_scenario_names_the_field(changes, field, words):
    found = problems(base(**changes))
    assert any(p.startswith(f"{field}: ") and words in p for p in found), found


def test_every_problem_is_reported_at_once():
    found = problems(base(until="2026-12-01", slots=[{**SLOT, "minutes": 0}], policy="?"))
    assert {p.split(":")[0] for p in found} == {"until", "slots[0].minutes", "policy"}


def test_not_an_object():
    assert problems([1, 2]) == [": must be an object"]


def test_a_scenario_needs_a_curriculum_unless_one_is_given():
    with pytest.raises(ScenarioError, match="curriculum: missing"):
        simulate(base())
    with pytest.raises(ScenarioError, match="no shipped curriculum or curriculum folder named 'nope'"):
        simulate(base(curriculum="nope"))


def test_a_curriculum_folder_with_missing_and_unfinished_modules_still_simulates(tmp_path):
    """A missing file and module files that do not pass the schema (these synthetic ones have no
    goals or outline) do not stop a what-if: the codes come from the file names."""
    folder = tmp_path / "draft"
    write_folder(CUR, folder)
    (folder / "modules" / "rp" / "rp-07.md").unlink()
    notes = []
    out = simulate(base(curriculum="draft"), base_dir=tmp_path, notes=notes)
    assert [m["module"] for m in out["meetings"] if m["track"] == "RP"][:8] == [f"RP {n}" for n in range(1, 9)]
    assert notes[0].message.startswith("92 module files of synthetic are missing or not valid")
    assert out == simulate(base(), curriculum=CUR)


def run_cli(*args, stdin=None):
    return CliRunner().invoke(schedule_cli, ["simulate", *args], input=stdin)


def test_the_readme_example_gives_the_checked_output():
    """The README's example (shipped matrix-16 structure), verified by hand once, stays the same."""
    result = run_cli(str(DATA / "scenario-example.json"))
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == json.loads((DATA / "scenario-example.out.json").read_text())


def test_the_cli_reads_stdin_and_resolves_folders_against_the_working_directory(tmp_path, monkeypatch):
    write_folder(CUR, tmp_path / "mine")
    monkeypatch.chdir(tmp_path)
    result = run_cli("-", stdin=json.dumps(base(curriculum="mine")))
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == simulate(base(), curriculum=CUR)


def test_the_cli_rejects_a_bad_scenario_with_exit_code_2_and_nothing_on_stdout(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(base(curriculum="matrix-16", until="2026-01-01", slots=[{**SLOT, "track": "XX"}])))
    result = run_cli(str(path))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "until: 2026-01-01 is before start 2027-01-04" in result.stderr
    assert str(path) in result.stderr


def test_the_cli_rejects_unknown_tracks(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(base(curriculum="matrix-16", slots=[{**SLOT, "track": "XX"}])))
    result = run_cli(str(path))
    assert result.exit_code == 2 and result.stdout == ""
    assert "slots[0].track: unknown track 'XX' (matrix-16 has ERS, RP, FE, SS)" in result.stderr


def test_the_cli_rejects_broken_json_and_missing_files(tmp_path):
    broken = run_cli("-", stdin='{"start": ')
    assert broken.exit_code == 2 and broken.stdout == ""
    assert "not valid JSON" in broken.stderr
    missing = run_cli(str(tmp_path / "nothing.json"))
    assert missing.exit_code == 2 and missing.stdout == ""
    assert "cannot read" in missing.stderr
