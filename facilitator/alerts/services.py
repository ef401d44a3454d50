"""Alerts computed from stored rows and derived progress; thresholds are program settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from ..attendance.models import Attendance
from ..clinical.models import DrugTest, RelapseAnalysis
from ..curricula.models import Module
from ..extensions import db
from ..groups.models import Meeting
from ..programs.models import AttendanceStatus, Program
from ..progress.models import MakeUp
from ..progress.services import ParticipantProgress, planned_makeups


@dataclass(frozen=True)
class Alert:
    """One reason to look at a participant now."""

    participant_id: int
    kind: str  # absences | attendance_rate | hours | positive_test | missed_module
    message: str
    severity: str = "warning"  # warning | urgent


def _recent_rows(participant_ids: list[int], since: date) -> dict[int, list[tuple[date, bool, bool]]]:
    """(date, attended, excused) of each participant's recorded rows since a date, oldest first."""
    rows = db.session.execute(
        select(Attendance.participant_id, Meeting.date, AttendanceStatus.counts_attended, AttendanceStatus.excused)
        .join(Meeting, Meeting.id == Attendance.meeting_id)
        .join(AttendanceStatus, AttendanceStatus.id == Attendance.status_id)
        .where(Attendance.participant_id.in_(participant_ids), Meeting.date >= since, Meeting.status == "held")
        .order_by(Meeting.date, Meeting.start_time)
    ).all()
    out: dict[int, list[tuple[date, bool, bool]]] = {}
    for pid, day, attended, excused in rows:
        out.setdefault(pid, []).append((day, attended, excused))
    return out


def _untested_positives(participant_ids: list[int]) -> dict[int, list[date]]:
    rows = db.session.execute(
        select(DrugTest.participant_id, DrugTest.collected_on)
        .outerjoin(RelapseAnalysis, RelapseAnalysis.drug_test_id == DrugTest.id)
        .where(DrugTest.participant_id.in_(participant_ids), DrugTest.result == "positive",
               RelapseAnalysis.id.is_(None))
    ).all()
    out: dict[int, list[date]] = {}
    for pid, day in rows:
        out.setdefault(pid, []).append(day)
    return out


def alerts_for(program: Program, plans: dict[int, ParticipantProgress], today: date) -> dict[int, list[Alert]]:
    """Alerts for participants with an open enrollment, in a fixed number of queries."""
    active = [pid for pid, plan in plans.items() if plan.current is not None]
    if not active:
        return {}
    recent = _recent_rows(active, today - timedelta(days=60))
    positives = _untested_positives(active)
    makeups = planned_makeups(active)
    done_makeups = _completed_makeup_modules(active)
    out: dict[int, list[Alert]] = {}
    floor = program.hours_floor_minutes
    for pid in active:
        plan, found = plans[pid], []
        rows = recent.get(pid, [])
        streak = 0
        for _, attended, excused in reversed(rows):
            if attended or excused:
                break
            streak += 1
        if streak >= program.absence_alert_consecutive:
            found.append(Alert(pid, "absences", f"{streak} absences in a row", "urgent"))
        window = [r for r in rows if r[0] >= today - timedelta(days=14)]
        if window:
            rate = sum(1 for r in window if r[1]) / len(window)
            if rate < program.attendance_alert_rate:
                found.append(Alert(pid, "attendance_rate", f"attended {rate:.0%} of meetings in the last 2 weeks"))
        if plan.progress is not None:
            whole = [w for w in plan.progress.weeks if w.whole]
            if whole:
                last = whole[-1]
                # Only time the participant missed: a schedule that offers less than the floor
                # is the program's problem, shown once on the program's pages, not on every person.
                if last.attended < min(floor, last.expected):
                    found.append(Alert(pid, "hours", f"{last.attended / 60:.1f} h attended in {last.week}, "
                                                     f"under the {floor / 60:.0f} h floor"))
            planned = {m.module.code for m in makeups.get(pid, [])} | done_makeups.get(pid, set())
            unplanned = [code for t in plan.progress.tracks for code in t.missed if code not in planned]
            if unplanned:
                found.append(Alert(pid, "missed_module", "missed with no make-up planned: " + ", ".join(unplanned)))
        for day in positives.get(pid, []):
            found.append(Alert(pid, "positive_test", f"positive test on {day:%b %-d} has no relapse analysis", "urgent"))
        if found:
            out[pid] = found
    return out


def _completed_makeup_modules(participant_ids: list[int]) -> dict[int, set[str]]:
    rows = db.session.execute(
        select(MakeUp.participant_id, Module.code).join(Module, Module.id == MakeUp.module_id)
        .where(MakeUp.participant_id.in_(participant_ids), MakeUp.status == "completed")
    ).all()
    out: dict[int, set[str]] = {}
    for pid, code in rows:
        out.setdefault(pid, set()).add(code)
    return out


def schedule_under_floor(plans: dict[int, ParticipantProgress], program: Program) -> float | None:
    """Scheduled hours a week of the program's typical week, if they are under the floor (else None)."""
    weeks = [w.expected for plan in plans.values() if plan.progress for w in plan.progress.weeks if w.whole]
    if not weeks:
        return None
    typical = sorted(weeks)[len(weeks) // 2]
    return typical / 60 if typical < program.hours_floor_minutes else None
