"""The what-if simulator: a scenario in, the calendar and every participant's progress out, as
plain JSON-ready data. The CLI (`facilitator schedule simulate`) is a thin wrapper around this.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from ..curriculum import Curriculum
from ..problems import Problem
from .calendar import Calendar, build_calendar
from .model import GroupSpec, Meeting, track_plans
from .progress import Attendance, Progress, Rules, Stay, participant_progress
from .scenario import Scenario, ScenarioError, check_names, load_scenario_curriculum, parse_scenario

SCENARIO_GROUP = "scenario"


def simulate(
    data: Any,
    *,
    base_dir: Path | None = None,
    curriculum: Curriculum | None = None,
    source: str = "scenario",
    notes: list[Problem] | None = None,
) -> dict[str, Any]:
    """Run a scenario given as parsed JSON; raise ScenarioError naming every bad field."""
    scenario, problems = parse_scenario(data, source, need_curriculum=curriculum is None)
    if scenario is None:
        raise ScenarioError(problems)
    if curriculum is None:
        curriculum, found = load_scenario_curriculum(scenario.curriculum or "", base_dir)  # type: ignore[arg-type]
        found = [replace(p, file=source) for p in found]
        if notes is not None:
            notes.extend(p for p in found if p.severity == "warning")
        if curriculum is None:
            raise ScenarioError([p for p in found if p.severity == "error"])
    problems = check_names(scenario, curriculum, source)
    if problems:
        raise ScenarioError(problems)
    return run_scenario(scenario, curriculum)


def scenario_calendar(scenario: Scenario, curriculum: Curriculum) -> Calendar:
    """The scenario's group calendar from start through until."""
    group = GroupSpec(
        id=SCENARIO_GROUP, start=scenario.start, slots=scenario.slots, tracks=track_plans(curriculum),
        start_modules=scenario.start_modules, mode=scenario.mode,
    )
    return build_calendar(group, scenario.until, scenario.holidays, scenario.cancellations, scenario.policy,
                          scenario.topics)


def run_scenario(scenario: Scenario, curriculum: Curriculum) -> dict[str, Any]:
    """Simulate a validated scenario: meetings, then each participant's progress, as JSON data."""
    calendar = scenario_calendar(scenario, curriculum)
    # Everyone attends every meeting they are expected at except on their absent days, so only
    # the absences are written down as attendance rows.
    rules = Rules(credit_share=curriculum.credit_share, hours_floor=scenario.hours_floor, unrecorded="present")
    by_day: dict[Any, list[Meeting]] = {}
    for meeting in calendar.meetings:
        if meeting.held:
            by_day.setdefault(meeting.date, []).append(meeting)
    participants = []
    for person in scenario.participants:
        rows = [Attendance(m, False, 0) for day in sorted(person.absent) for m in by_day.get(day, ())]
        progress = participant_progress(Stay(person.admitted, person.discharged), calendar, rows,
                                        as_of=scenario.until, rules=rules)
        participants.append(participant_json(person.id, progress, calendar.group))
    return {"meetings": [meeting_json(m) for m in calendar.meetings], "participants": participants}


def meeting_json(meeting: Meeting) -> dict[str, Any]:
    """A meeting as the simulator prints it."""
    return {
        "date": meeting.date.isoformat(), "time": meeting.time, "track": meeting.track,
        "module": meeting.module, "status": meeting.status,
    }


def _iso(day: Any) -> str | None:
    return day.isoformat() if day is not None else None


def participant_json(pid: Any, progress: Progress, group: GroupSpec) -> dict[str, Any]:
    """A participant's progress as the simulator prints it (group tracks only, curriculum order)."""
    tracks = [t for t in progress.tracks if t.scheduled]
    credited = {t.track: set(t.credited) for t in tracks}
    return {
        "id": pid,
        "credited": {t.track: [c for c in group.track(t.track).modules if c in credited[t.track]] for t in tracks},
        "missing": {t.track: list(t.missing) for t in tracks},
        "track_completed_on": {t.track: _iso(t.completed_on) for t in tracks},
        "completed_on": _iso(progress.group_completed_on),
        "projected_completion": _iso(progress.projected_completion),
        "weekly_minutes": {w.week: w.attended for w in progress.weeks},
        "weekly_expected_minutes": {w.week: w.expected for w in progress.weeks},
        "weeks_under_floor": list(progress.weeks_under_floor),
    }
