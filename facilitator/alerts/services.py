"""Alerts computed from stored rows and derived progress; thresholds are program settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import and_, bindparam, case, func, or_, select

from .. import data_revision
from ..attendance.models import Attendance
from ..clinical.models import DrugTest, RelapseAnalysis
from ..curricula.models import Module
from ..extensions import db
from ..groups.models import Meeting
from ..programs.models import AttendanceStatus, Program
from ..progress.models import MakeUp
from ..progress.services import ParticipantProgress
from ..web.i18n import format_when


@dataclass(frozen=True)
class Alert:
    """One reason to look at a participant now."""

    participant_id: int
    kind: str  # absences | attendance_rate | hours | positive_test | missed_module
    message: str
    severity: str = "warning"  # warning | urgent


# The statements are built once: building one costs more than running it on a page's roster.
_IDS = bindparam("ids", expanding=True)
# Each participant's held meetings since a day, latest first: rank 1 is the most recent.
_RANKED = (
    select(Attendance.participant_id.label("pid"), Meeting.date.label("day"),
           AttendanceStatus.counts_attended.label("attended"),
           or_(AttendanceStatus.counts_attended, AttendanceStatus.excused).label("accounted"),
           func.row_number().over(partition_by=Attendance.participant_id,
                                  order_by=(Meeting.date.desc(), Meeting.start_time.desc())).label("rank"))
    .join(Meeting, Meeting.id == Attendance.meeting_id)
    .join(AttendanceStatus, AttendanceStatus.id == Attendance.status_id)
    .where(Attendance.participant_id.in_(_IDS), Meeting.date >= bindparam("since"), Meeting.status == "held")
    .subquery())
_WINDOW = _RANKED.c.day >= bindparam("window")
# Per participant: rows, the rank of the latest row attended or excused (the absences in a row are the
# ranks before it), and rows and attended rows in the recent window. One row per person, not per meeting.
_RECENT = (
    select(_RANKED.c.pid, func.count(), func.min(case((_RANKED.c.accounted, _RANKED.c.rank))),
           func.sum(case((_WINDOW, 1), else_=0)), func.sum(case((and_(_WINDOW, _RANKED.c.attended), 1), else_=0)))
    .group_by(_RANKED.c.pid))
_UNTESTED_POSITIVES = (
    select(DrugTest.participant_id, DrugTest.collected_on)
    .outerjoin(RelapseAnalysis, RelapseAnalysis.drug_test_id == DrugTest.id)
    .where(DrugTest.participant_id.in_(_IDS), DrugTest.result == "positive", RelapseAnalysis.id.is_(None)))
_COVERED = (
    select(MakeUp.participant_id, Module.code).join(Module, Module.id == MakeUp.module_id)
    .where(MakeUp.participant_id.in_(_IDS), MakeUp.status.in_(("planned", "completed"))))


def _recent_attendance(participant_ids: list[int], since: date, window: date) -> dict[int, tuple[int, int, int]]:
    """(absences in a row, meetings and meetings attended since `window`) of each participant's held
    meetings since `since`; an excused absence breaks a run of absences."""
    out: dict[int, tuple[int, int, int]] = {}
    for pid, rows, accounted, in_window, attended in db.session.execute(
            _RECENT, {"ids": participant_ids, "since": since, "window": window}):
        out[pid] = (rows if accounted is None else accounted - 1, in_window, attended)
    return out


def _untested_positives(participant_ids: list[int]) -> dict[int, list[date]]:
    out: dict[int, list[date]] = {}
    for pid, day in db.session.execute(_UNTESTED_POSITIVES, {"ids": participant_ids}):
        out.setdefault(pid, []).append(day)
    return out


def alerts_for(program: Program, plans: dict[int, ParticipantProgress], today: date) -> dict[int, list[Alert]]:
    """Alerts for participants with an open enrollment, in a fixed number of queries."""
    active = [pid for pid, plan in plans.items() if plan.current is not None]
    if not active:
        return {}
    key = tuple(active)
    recent = data_revision.remembered(
        "recent attendance", (key, today),
        lambda: _recent_attendance(active, today - timedelta(days=60), today - timedelta(days=14)),
        reads=("attendance", "meeting", "attendance_status"), people=active)
    # Tests and make-ups do not change when attendance is saved: these outlive a save.
    positives = data_revision.remembered("untested positives", key, lambda: _untested_positives(active),
                                         reads=("drug_test", "relapse_analysis"))
    covered = data_revision.remembered("covered modules", key, lambda: _covered_modules(active),
                                       reads=("makeup", "module"))
    out: dict[int, list[Alert]] = {}
    floor = program.hours_floor_minutes
    for pid in active:
        plan, found = plans[pid], []
        streak, in_window, attended = recent.get(pid, (0, 0, 0))
        if streak >= program.absence_alert_consecutive:
            found.append(Alert(pid, "absences", ngettext("%(num)s absence in a row", "%(num)s absences in a row", streak),
                               "urgent"))
        if in_window:
            rate = attended / in_window
            if rate < program.attendance_alert_rate:
                found.append(Alert(pid, "attendance_rate", _("attended %(rate)s of meetings in the last 2 weeks",
                                                              rate=f"{rate:.0%}")))
        if plan.progress is not None:
            whole = [w for w in plan.progress.weeks if w.whole]
            if whole:
                last = whole[-1]
                # Only time the participant missed: a schedule that offers less than the floor
                # is the program's problem, shown once on the program's pages, not on every person.
                if last.attended < min(floor, last.expected):
                    found.append(Alert(pid, "hours", _("%(hours)s h attended in %(week)s, under the %(floor)s h floor",
                                                       hours=f"{last.attended / 60:.1f}", week=last.week,
                                                       floor=f"{floor / 60:.0f}")))
            planned = covered.get(pid, ())
            unplanned = [code for t in plan.progress.tracks for code in t.missed if code not in planned]
            if unplanned:
                found.append(Alert(pid, "missed_module", _("missed with no make-up planned: %(codes)s",
                                                            codes=", ".join(unplanned))))
        for day in positives.get(pid, []):
            found.append(Alert(pid, "positive_test", _("positive test on %(day)s has no relapse analysis",
                                                      day=format_when(day, "short")), "urgent"))
        if found:
            out[pid] = found
    return out


def _covered_modules(participant_ids: list[int]) -> dict[int, set[str]]:
    """Module codes with a make-up planned or completed, per participant, in one query."""
    out: dict[int, set[str]] = {}
    for pid, code in db.session.execute(_COVERED, {"ids": participant_ids}):
        out.setdefault(pid, set()).add(code)
    return out


def schedule_under_floor(plans: dict[int, ParticipantProgress], program: Program) -> float | None:
    """Scheduled hours a week of the program's typical week, if they are under the floor (else None)."""
    weeks = [w.expected for plan in plans.values() if plan.progress for w in plan.progress.weeks if w.whole]
    if not weeks:
        return None
    typical = sorted(weeks)[len(weeks) // 2]
    return typical / 60 if typical < program.hours_floor_minutes else None
