"""The program's numbers for its directors: census, admissions and discharges, completion, retention,
attendance, hours against the floor and open alerts.

Stays and outcomes come from enrollment rows (admission and discharge dates and reasons), read as
plain tuples in one query; attendance figures come from SQL aggregates (GROUP BY), never from a loop
over ORM objects. The page is built in a fixed number of queries whatever the program's size.

A program *episode* is one stay in treatment across transfers between the program's groups: an
enrollment discharged as "transferred" and followed within a week by another admission of the same
person continues the same episode. Admissions, discharges and outcomes count episodes, so a move
from the evening group to the morning group is neither a discharge nor a new admission.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Date, case, cast, func, select

from ..alerts.services import alerts_for, schedule_under_floor
from ..attendance.models import Attendance
from ..domain.sequencer import Stay, program_week
from ..extensions import db
from ..groups.models import Group, Meeting
from ..participants.models import DISCHARGE_LABELS, DISCHARGE_REASONS, Enrollment, Participant
from ..programs.models import AttendanceStatus, Program
from ..progress.services import progress_for

# Share of IOP discharges that are completions nationally (TEDS-D, intensive outpatient).
NATIONAL_COMPLETION = (0.33, 0.38)
TRANSFER_GAP = timedelta(days=7)  # a transfer followed by an admission this soon is the same episode
CENSUS_WEEKS = 16  # active participants by program week: weeks 1..16, then "17 or later"
RETENTION_WEEKS = 20  # the retention curve runs from admission to week 20
MAX_PERIOD = timedelta(days=3 * 366)
ALERT_LABELS = {
    "absences": "Absences in a row",
    "attendance_rate": "Low attendance in the last 2 weeks",
    "hours": "Last whole week under the hours floor",
    "positive_test": "Positive test with no relapse analysis",
    "missed_module": "Missed module with no make-up planned",
}


@dataclass(frozen=True)
class Period:
    """The days a report covers, both inclusive."""

    start: date
    end: date

    @classmethod
    def last_year(cls, today: date) -> Period:
        """The twelve months up to and including today."""
        return cls(today - timedelta(days=364), today)

    def months(self) -> list[date]:
        """The first day of every calendar month the period touches."""
        out, month = [], self.start.replace(day=1)
        while month <= self.end:
            out.append(month)
            month = (month + timedelta(days=32)).replace(day=1)
        return out

    def contains(self, day: date | None) -> bool:
        """The day lies inside the period."""
        return day is not None and self.start <= day <= self.end


def check_period(start: date | None, end: date | None, today: date) -> dict[str, str]:
    """What is wrong with a report period (empty if nothing); keys are the form's field names."""
    problems = {}
    if start is None:
        problems["start"] = "Enter the first day of the period."
    if end is None:
        problems["end"] = "Enter the last day of the period."
    elif end > today:
        problems["end"] = "The period cannot end after today."
    if start is not None and end is not None and "end" not in problems:
        if start > end:
            problems["start"] = "The first day must be on or before the last day."
        elif end - start > MAX_PERIOD:
            problems["start"] = "Choose a period of at most three years."
    return problems


@dataclass(frozen=True)
class Episode:
    """One stay in treatment across transfers: first admission, last group, and how it ended."""

    participant_id: int
    group_id: int
    admitted: date
    discharged: date | None  # None: still enrolled on the day the figures are taken
    reason: str | None

    @property
    def stay(self) -> Stay:
        """The episode as the sequencer's stay."""
        return Stay(self.admitted, self.discharged)

    def enrolled_on(self, day: date) -> bool:
        """Admitted on or before the day and not discharged before it (the discharge day counts)."""
        return self.admitted <= day and (self.discharged is None or self.discharged >= day)


def episodes(program_id: int, as_of: date) -> list[Episode]:
    """Every episode of the program that began by as_of, as the records stood on that day (one query)."""
    rows = db.session.execute(
        select(Enrollment.participant_id, Enrollment.group_id, Enrollment.admitted_on, Enrollment.discharged_on,
               Enrollment.discharge_reason)
        .join(Participant, Participant.id == Enrollment.participant_id)
        .where(Participant.program_id == program_id, Enrollment.admitted_on <= as_of)
        .order_by(Enrollment.participant_id, Enrollment.admitted_on, Enrollment.id)
    ).all()
    out: list[Episode] = []
    current: Episode | None = None
    for pid, group_id, admitted, discharged, reason in rows:
        if discharged is not None and discharged > as_of:
            discharged, reason = None, None  # discharged later: still enrolled on as_of
        if current is not None and current.participant_id == pid and _continues(current, admitted):
            current = Episode(pid, group_id, current.admitted, discharged, reason)
            out[-1] = current
            continue
        current = Episode(pid, group_id, admitted, discharged, reason)
        out.append(current)
    return out


def _continues(episode: Episode, admitted: date) -> bool:
    """A new enrollment belongs to the episode: it overlaps it, or follows a transfer within the gap."""
    if episode.discharged is None or admitted <= episode.discharged:
        return True
    return episode.reason == "transferred" and admitted - episode.discharged <= TRANSFER_GAP


# --- census -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class GroupRow:
    """A group of the program, as the reports name it."""

    id: int
    name: str
    active: bool


def program_groups(program_id: int) -> list[GroupRow]:
    """The program's groups in name order, running or not (one query)."""
    return [GroupRow(*row) for row in db.session.execute(
        select(Group.id, Group.name, Group.active).where(Group.program_id == program_id).order_by(Group.name))]


@dataclass(frozen=True)
class Count:
    """A labelled number (a bar of a chart, a row of a table)."""

    label: str
    value: int


@dataclass(frozen=True)
class MonthFlow:
    """Admissions and discharges of one calendar month."""

    month: date
    admissions: int
    discharges: int
    completions: int


@dataclass(frozen=True)
class Census:
    """Who is enrolled on the last day of the period, by group and by program week."""

    as_of: date
    active: int
    by_group: tuple[Count, ...]
    by_week: tuple[Count, ...]


def census(all_episodes: list[Episode], groups: list[GroupRow], as_of: date) -> Census:
    """Active participants on a day, by their current group (every running group, even empty) and by program week."""
    active = [e for e in all_episodes if e.discharged is None and e.admitted <= as_of]
    per_group = Counter(e.group_id for e in active)
    by_group = tuple(Count(g.name, per_group.get(g.id, 0)) for g in groups if g.active or per_group.get(g.id))
    per_week = Counter(min(program_week(e.stay, as_of), CENSUS_WEEKS + 1) for e in active)
    by_week = tuple(Count(str(week) if week <= CENSUS_WEEKS else f"{CENSUS_WEEKS + 1}+", per_week.get(week, 0))
                    for week in range(1, CENSUS_WEEKS + 2))
    return Census(as_of, len(active), by_group, by_week)


def month_flows(all_episodes: list[Episode], period: Period) -> tuple[MonthFlow, ...]:
    """Admissions (episodes begun) and discharges (episodes ended) per calendar month of the period."""
    admitted = Counter(e.admitted.replace(day=1) for e in all_episodes if period.contains(e.admitted))
    ended = [e for e in all_episodes if period.contains(e.discharged)]
    discharged = Counter(e.discharged.replace(day=1) for e in ended)
    completed = Counter(e.discharged.replace(day=1) for e in ended if e.reason == "completed")
    return tuple(MonthFlow(m, admitted.get(m, 0), discharged.get(m, 0), completed.get(m, 0)) for m in period.months())


# --- outcomes -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReasonCount:
    """Discharges of one reason, with their share of all discharges."""

    reason: str
    label: str
    count: int
    share: float


@dataclass(frozen=True)
class Outcomes:
    """How the period's discharges ended."""

    discharges: int
    completions: int
    completion_rate: float | None  # None when nobody was discharged
    by_reason: tuple[ReasonCount, ...]
    median_weeks_to_completion: float | None
    national: tuple[float, float] = NATIONAL_COMPLETION

    @property
    def against_national(self) -> str:
        """below, within or above the national range (empty when there is no rate)."""
        if self.completion_rate is None:
            return ""
        low, high = self.national
        return "below" if self.completion_rate < low else "above" if self.completion_rate > high else "within"


def outcomes(all_episodes: list[Episode], period: Period) -> Outcomes:
    """Completion share, discharges by reason and the median weeks from admission to completion."""
    ended = [e for e in all_episodes if period.contains(e.discharged)]
    reasons = Counter(e.reason for e in ended)
    total = len(ended)
    by_reason = tuple(ReasonCount(r, DISCHARGE_LABELS[r], reasons.get(r, 0), reasons.get(r, 0) / total if total else 0.0)
                      for r in DISCHARGE_REASONS)
    completed = [e for e in ended if e.reason == "completed"]
    weeks = [(e.discharged - e.admitted).days / 7 for e in completed]
    return Outcomes(total, len(completed), len(completed) / total if total else None, by_reason,
                    round(statistics.median(weeks), 1) if weeks else None)


@dataclass(frozen=True)
class RetentionPoint:
    """One week of the retention curve (a survival estimate that counts each stay for as long as it was seen)."""

    week: int
    followed: int  # still enrolled at the end of the week before, and admitted long enough ago to see this one
    left: int  # of those, discharged before the end of this week
    share: float | None  # estimated share of admissions still enrolled `week` weeks after admission


def retention(all_episodes: list[Episode], period: Period) -> tuple[RetentionPoint, ...]:
    """Share of the period's admissions still enrolled k weeks after admission, k = 0..RETENTION_WEEKS.

    A Kaplan-Meier estimate by whole weeks: a participant admitted 5 weeks before the period's end
    counts in weeks 1 to 5 only, so recent admissions neither inflate nor deflate the later weeks
    and the curve never rises. A completion ends enrollment like any other discharge."""
    cohort = [e for e in all_episodes if period.contains(e.admitted)]
    share: float | None = 1.0 if cohort else None
    out = [RetentionPoint(0, len(cohort), 0, share)]
    for week in range(1, RETENTION_WEEKS + 1):
        followed = [e for e in cohort if e.enrolled_on(e.admitted + timedelta(weeks=week - 1))
                    and e.admitted + timedelta(weeks=week) <= period.end]
        left = sum(1 for e in followed if not e.enrolled_on(e.admitted + timedelta(weeks=week)))
        share = share * (1 - left / len(followed)) if followed and share is not None else None
        out.append(RetentionPoint(week, len(followed), left, share))
    return tuple(out)


# --- attendance and hours (SQL aggregates) ------------------------------------------------------

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
        totals = found.setdefault(group_id, [0, 0, 0])
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
    return [(pid, gid, mondays.setdefault(monday, _as_date(monday)), n, int(att or 0), int(exc or 0), int(mins or 0))
            for pid, gid, monday, n, att, exc, mins in rows]


def _week_start(column):
    """The Monday of a date column's ISO week, in the database's own SQL."""
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(func.date_trunc("week", column), Date)
    return func.date(column, "weekday 0", "-6 days")  # SQLite: on to Sunday, back to its Monday


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


def hours_compliance(program: Program, all_episodes: list[Episode], period: Period, weeks: list[tuple],
                     scheduled_under: float | None) -> HoursCompliance:
    """Minutes that count toward hours per participant and ISO week (from attendance_weeks), against the
    floor, over the whole weeks of each stay inside the period (a week with no rows counts as 0 minutes)."""
    minutes: dict[tuple[int, date], int] = {}
    for pid, _, monday, _, _, _, counted in weeks:
        minutes[pid, monday] = minutes.get((pid, monday), 0) + counted
    floor = program.hours_floor_minutes
    weeks_seen = at_floor = 0
    for e in all_episodes:
        last = min(e.discharged or period.end, period.end)
        first = max(e.admitted, period.start)
        monday = first + timedelta(days=(7 - first.weekday()) % 7)  # the first whole week starts on a Monday
        while monday + timedelta(days=6) <= last:
            weeks_seen += 1
            at_floor += minutes.get((e.participant_id, monday), 0) >= floor
            monday += timedelta(days=7)
    return HoursCompliance(floor, weeks_seen, at_floor, scheduled_under)


def _as_date(value) -> date:
    """SQLite returns the week's Monday as text, PostgreSQL as a date."""
    return date.fromisoformat(value) if isinstance(value, str) else value


# --- open alerts --------------------------------------------------------------------------------

@dataclass(frozen=True)
class AlertSummary:
    """Participants with open alerts today, and alerts by kind."""

    checked: int  # active participants looked at
    participants: int
    by_kind: tuple[Count, ...]


def open_alerts(program: Program, today: date) -> tuple[AlertSummary, float | None]:
    """Alerts of every active participant today (alerts_for over progress_for), and the schedule's
    typical hours a week when they are under the floor. Measured: about 1.5 s for 400 active
    participants of a 2,000-participant program on a busy 2-CPU machine (bench/bench_dashboard.py)."""
    people = list(db.session.scalars(
        select(Participant).where(Participant.program_id == program.id, Participant.id.in_(
            select(Enrollment.participant_id).where(Enrollment.admitted_on <= today,
                                                    (Enrollment.discharged_on.is_(None))
                                                    | (Enrollment.discharged_on > today))))))
    if not people:
        return AlertSummary(0, 0, tuple(Count(label, 0) for label in ALERT_LABELS.values())), None
    plans = progress_for(people, today)
    found = alerts_for(program, plans, today)
    kinds = Counter(a.kind for alerts in found.values() for a in alerts)
    summary = AlertSummary(len(people), len(found),
                           tuple(Count(label, kinds.get(kind, 0)) for kind, label in ALERT_LABELS.items()))
    return summary, schedule_under_floor(plans, program)


# --- the dashboard ------------------------------------------------------------------------------

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
    """The program's numbers for a period, in a fixed number of queries."""
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
