"""Attendance figures of the period from SQL aggregates: rates per group and the weekly hours floor."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Date, case, cast, func, select

from ..attendance.models import Attendance
from ..extensions import db
from ..groups.models import Group, Meeting
from ..programs.models import AttendanceStatus, Program
from .periods import Episode, GroupRow, Period


@dataclass(frozen=True)
class GroupAttendance:
    """Attendance rows of a group's held meetings in the period."""

    group: str
    recorded: int
    attended: int
    excused: int

    @property
    def rate(self) -> float | None:
        """Share of recorded rows that count as attended."""
        return self.attended / self.recorded if self.recorded else None


def attendance_by_group(weeks: list[tuple], groups: list[GroupRow]) -> tuple[GroupAttendance, ...]:
    """Recorded, attended and excused rows per group, summed from the period's weekly rows."""
    found: dict[int, list[int]] = {}
    for _, group_id, _, recorded, attended, excused, _ in weeks:
        totals = found.get(group_id)
        if totals is None:
            totals = found[group_id] = [0, 0, 0]
        totals[0] += recorded
        totals[1] += attended
        totals[2] += excused
    return tuple(GroupAttendance(g.name, *found[g.id]) for g in groups if g.id in found)


def attendance_weeks(program_id: int, period: Period) -> list[tuple]:
    """(participant, group, ISO week's Monday, recorded, attended, excused, minutes that count toward
    hours) of the held meetings in the period: one GROUP BY, one pass over the year's attendance for
    both the per-group rates and the hours."""
    week = _week_start(Meeting.date).label("week")
    rows = db.session.execute(
        select(Attendance.participant_id, Meeting.group_id, week, func.count(Attendance.id),
               func.sum(case((AttendanceStatus.counts_attended, 1), else_=0)),
               func.sum(case((AttendanceStatus.excused, 1), else_=0)),
               func.sum(case((AttendanceStatus.counts_hours, Attendance.minutes), else_=0)))
        .select_from(Attendance)
        .join(Meeting, Meeting.id == Attendance.meeting_id)
        .join(Group, Group.id == Meeting.group_id)
        .join(AttendanceStatus, AttendanceStatus.id == Attendance.status_id)
        .where(Group.program_id == program_id, Attendance.participant_id.is_not(None), Meeting.status == "held",
               Meeting.date >= period.start, Meeting.date <= period.end)
        .group_by(Attendance.participant_id, Meeting.group_id, week)
    ).all()
    mondays: dict = {}  # a few dozen distinct weeks: parse each once
    for monday in {row[2] for row in rows}:
        mondays[monday] = _as_date(monday)
    return [(pid, gid, mondays[monday], n, int(att or 0), int(exc or 0), int(mins or 0))
            for pid, gid, monday, n, att, exc, mins in rows]


def _week_start(column):
    """The Monday of a date column's ISO week, in the database's own SQL."""
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(func.date_trunc("week", column), Date)
    return func.date(column, "weekday 0", "-6 days")  # SQLite: on to Sunday, back to its Monday


def _as_date(value) -> date:
    """SQLite returns the week's Monday as text, PostgreSQL as a date."""
    return date.fromisoformat(value) if isinstance(value, str) else value


@dataclass(frozen=True)
class HoursCompliance:
    """Whole participant-weeks of the period at or above the weekly hours floor."""

    floor_minutes: int
    weeks: int
    at_floor: int
    scheduled_under_floor: float | None  # typical scheduled hours a week, when the schedule itself is short

    @property
    def rate(self) -> float | None:
        """Share of whole weeks at or above the floor."""
        return self.at_floor / self.weeks if self.weeks else None


WEEK = timedelta(days=7)


def hours_compliance(program: Program, all_episodes: list[Episode], period: Period, weeks: list[tuple],
                     scheduled_under: float | None) -> HoursCompliance:
    """Minutes that count toward hours per participant and ISO week (from attendance_weeks), against the
    floor, over the whole weeks of each stay inside the period (a week with no rows counts as 0 minutes).

    The whole weeks of a stay are counted by arithmetic and the weeks at the floor found by bisection in
    the participant's sorted Mondays: no loop over every week of every stay."""
    minutes: dict[tuple[int, date], int] = {}
    for pid, _, monday, _, _, _, counted in weeks:
        key = (pid, monday)
        minutes[key] = minutes.get(key, 0) + counted
    floor = program.hours_floor_minutes
    # Per participant, in order: the Mondays of the weeks that count. Above a floor of 0 a week counts
    # only with rows at the floor; at a floor of 0 or less every week counts but those with rows under it.
    marked: dict[int, list[date]] = {}
    for (pid, monday), total in minutes.items():
        if (total >= floor) == (floor > 0):
            marked.setdefault(pid, []).append(monday)
    for found in marked.values():
        found.sort()
    weeks_seen = at_floor = 0
    for e in all_episodes:
        last = min(e.discharged or period.end, period.end)
        first = max(e.admitted, period.start)
        monday = first + timedelta(days=(7 - first.weekday()) % 7)  # the first whole week starts on a Monday
        if monday + timedelta(days=6) > last:
            continue
        count = ((last - monday).days - 6) // 7 + 1
        mine = marked.get(e.participant_id, ())
        inside = bisect_right(mine, monday + WEEK * (count - 1)) - bisect_left(mine, monday) if mine else 0
        weeks_seen += count
        at_floor += inside if floor > 0 else count - inside
    return HoursCompliance(floor, weeks_seen, at_floor, scheduled_under)
