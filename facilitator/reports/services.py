"""The program's numbers for its directors: census, admissions and discharges, completion, retention,
attendance, hours against the floor and open alerts, gathered into one Dashboard.

By concern: periods.py (the period, groups and episodes of care), outcomes.py (figures from episodes:
census, flows, outcomes, retention), attendance.py (SQL aggregates: rates per group, the hours
floor) and alerts.py (open alerts of active participants). Stays and outcomes come from enrollment
rows read as plain tuples in one query; attendance figures come from SQL aggregates (GROUP BY),
never from a loop over ORM objects. The page is built in a fixed number of queries whatever the
program's size.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .. import data_revision
from ..programs.models import Program
from .alerts import ALERT_LABELS, AlertSummary, open_alerts
from .attendance import GroupAttendance, HoursCompliance, attendance_by_group, attendance_weeks, hours_compliance
from .outcomes import Census, MonthFlow, Outcomes, RetentionPoint, census, month_flows, outcomes, retention
from .periods import Count, Episode, GroupRow, Period, check_period, episodes, program_groups

__all__ = ["ALERT_LABELS", "AlertSummary", "Census", "Count", "Dashboard", "Episode", "GroupAttendance", "GroupRow",
           "HoursCompliance", "MonthFlow", "Outcomes", "Period", "RetentionPoint", "check_period", "dashboard",
           "episodes", "open_alerts", "program_groups"]


@dataclass(frozen=True)
class Dashboard:
    """Everything the program page shows, as plain data (the PDF report renders the same)."""

    program: str
    period: Period
    today: date
    census: Census
    flows: tuple[MonthFlow, ...]
    admissions: int
    outcomes: Outcomes
    retention: tuple[RetentionPoint, ...]
    attendance: tuple[GroupAttendance, ...]
    attendance_alert_rate: float
    hours: HoursCompliance
    alerts: AlertSummary


def dashboard(program: Program, period: Period, today: date) -> Dashboard:
    """The program's numbers for a period, in a fixed number of queries (none but the revision's when
    this process computed them before at the same revision of the data)."""
    return data_revision.remembered("dashboard", (program.id, period, today), lambda: _dashboard(program, period, today))


def _dashboard(program: Program, period: Period, today: date) -> Dashboard:
    groups = program_groups(program.id)
    all_episodes = episodes(program.id, period.end)
    alerts, scheduled_under = open_alerts(program, today)
    flows = month_flows(all_episodes, period)
    weeks = attendance_weeks(program.id, period)
    return Dashboard(
        program=program.name, period=period, today=today,
        census=census(all_episodes, groups, period.end), flows=flows,
        admissions=sum(f.admissions for f in flows),
        outcomes=outcomes(all_episodes, period), retention=retention(all_episodes, period),
        attendance=attendance_by_group(weeks, groups),
        attendance_alert_rate=program.attendance_alert_rate,
        hours=hours_compliance(program, all_episodes, period, weeks, scheduled_under), alerts=alerts)
