"""Layer 2 of the sequencer: one participant's stay, attendance and explicit credits against a
group's calendar -> credited and missing modules, completion dates, projections and hours.

Rules (from the issue): a participant is expected at a held meeting of track T when the date is
inside the stay, T is not yet complete for them and their program week (week 1 starts on the
admission date) is at or past T's first week. Attending with enough minutes credits the module
delivered, once. Meetings after `as_of` are projections: perfect attendance, and past the
calendar's last day the same pattern with no holidays. Make-ups are never assumed.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from .calendar import Calendar, Timeline, week_label
from .model import Meeting, TrackPlan

CREDIT_SOURCES = ("attendance", "make-up", "override")
UNRECORDED = ("absent", "present")
EPSILON = 1e-9  # 0.7 * 10 is 7.000000000000001 in floats; 7 minutes must still earn the credit


@dataclass(frozen=True)
class Stay:
    """A participant's stay in a group: admitted and (if it ended) discharged, both inclusive."""

    admitted: date
    discharged: date | None = None
    # The day a transfer brought them into this calendar's group, if after admission: the group's
    # meetings before it were not theirs (what they attended in the previous group still credits).
    joined: date | None = None

    def first_expected(self, first_week: int) -> int:
        """The ordinal of the first day a track starting in program week first_week expects them here."""
        start = self.admitted.toordinal() + 7 * (first_week - 1)
        return max(start, self.joined.toordinal()) if self.joined is not None else start


@dataclass(frozen=True)
class Attendance:
    """A participant at one meeting (of any group): attended or not, and minutes present."""

    meeting: Meeting
    attended: bool
    minutes: int
    # Whether the minutes count toward weekly hours; None: as attended. A program may count a
    # status one way and not the other (hours from a partial stay that earns no credit, say).
    counts_hours: bool | None = None

    @property
    def hours_minutes(self) -> int:
        """The minutes this row adds to the week's attended hours."""
        counted = self.attended if self.counts_hours is None else self.counts_hours
        return self.minutes if counted else 0


@dataclass(frozen=True)
class ExplicitCredit:
    """A module credited by a make-up or an override, with who and why."""

    module: str
    date: date
    source: str = "make-up"
    by: str = ""
    reason: str = ""
    minutes: int = 0  # time spent with the participant; counts toward attended hours


@dataclass(frozen=True)
class Rules:
    """The program's settings that progress depends on."""

    credit_share: float = 0.75  # share of the module's minutes that earns its credit
    hours_floor: float = 9.0  # hours a week (ASAM 2.1 adults)
    # A past expected meeting without an attendance row: "absent" for real records (no row means
    # nobody marked them present), "present" for what-if runs that list only the absences.
    unrecorded: str = "absent"
    # Meetings on or after this day that nobody has recorded yet (today's evening group at noon)
    # are not due: they are neither missed nor credited, and the projection counts on them.
    pending_from: date | None = None


@dataclass(frozen=True)
class Credit:
    """A module credited to a participant: when, how, and by which meeting or person."""

    module: str
    date: date
    source: str  # attendance | make-up | override
    meeting: Meeting | None = None  # the meeting attended, for credits from attendance
    by: str = ""
    reason: str = ""


@dataclass(frozen=True)
class TrackProgress:
    """Where a participant stands in one track."""

    track: str
    required: bool
    scheduled: bool  # False for individual tracks (IC, RA), credited only explicitly
    credits: tuple[Credit, ...]  # in date order
    missing: tuple[str, ...]  # in curriculum order
    missed: tuple[str, ...]  # missing modules already delivered while they were expected
    completed_on: date | None
    projected_completion: date | None  # completed_on if complete; None if it cannot happen

    @property
    def credited(self) -> tuple[str, ...]:
        """The credited module codes, in credit order."""
        return tuple(c.module for c in self.credits)


@dataclass(frozen=True)
class WeekMinutes:
    """Expected and attended minutes in one ISO week of the stay."""

    week: str  # "2027-W06"
    monday: date
    expected: int
    attended: int
    whole: bool  # the whole week lies inside the stay (and on or before as_of)
    under_floor: bool


@dataclass(frozen=True)
class Progress:
    """A participant's progress as of a date, with projections past it."""

    as_of: date
    stay: Stay
    tracks: tuple[TrackProgress, ...]
    group_completed_on: date | None  # every required group or family track complete
    completed_on: date | None  # every required track complete, individual ones too
    projected_completion: date | None  # required group tracks, projected past as_of
    weeks: tuple[WeekMinutes, ...]

    def track(self, code: str) -> TrackProgress:
        """The progress in one track; KeyError if the curriculum has no such track."""
        for track in self.tracks:
            if track.track == code:
                return track
        raise KeyError(code)

    @property
    def weeks_under_floor(self) -> tuple[str, ...]:
        """The whole weeks of the stay with fewer attended minutes than the floor."""
        return tuple(w.week for w in self.weeks if w.under_floor)


def iso_week(day: date) -> str:
    """The ISO week label of a date, e.g. "2027-W06"."""
    return week_label(day.toordinal())


def program_week(stay: Stay, day: date) -> int:
    """The participant's program week on a day (week 1 starts on the admission date)."""
    return (day - stay.admitted).days // 7 + 1


@lru_cache(maxsize=1024)
def _needs(module_minutes: tuple[int, ...], share: float) -> tuple[float, ...]:
    """Minutes each module needs for its credit (a hair under, so 0.7 x 10 = 7 passes)."""
    return tuple(share * minutes - EPSILON for minutes in module_minutes)


class _Event:
    """A credit that does not come from walking the group's own meetings, at a point in time."""

    __slots__ = ("ordinal", "time", "position", "credit")

    def __init__(self, ordinal: int, time: str, position: int, credit: Credit):
        self.ordinal, self.time, self.position, self.credit = ordinal, time, position, credit


def participant_progress(
    stay: Stay,
    calendar: Calendar,
    attendance: Iterable[Attendance] = (),
    credits: Iterable[ExplicitCredit] = (),
    *,
    as_of: date,
    rules: Rules = Rules(),
) -> Progress:
    """A participant's credits, completion, projection and weekly minutes as of a date."""
    if as_of > calendar.until:
        raise ValueError(f"as_of {as_of} is after the calendar's last day {calendar.until}")
    if stay.discharged is not None and stay.discharged < stay.admitted:
        raise ValueError("discharged before admitted")
    if rules.unrecorded not in UNRECORDED:
        raise ValueError(f"unrecorded must be one of {', '.join(UNRECORDED)}")
    plans, track_of = calendar.plans, calendar.plan_of_module
    end = min(stay.discharged, as_of) if stay.discharged else as_of
    last = end.toordinal()

    attended_by_week: dict[str, int] = {}
    expected_by_week: dict[str, int] = {}
    # Rows of this group's meetings where the participant is expected are read as the walk
    # reaches them; every other credit (an early or late row, another group's meeting, a
    # make-up, an override) is an event placed in time order.
    own_rows: dict[str, dict[tuple[int, str], Attendance]] = {}
    events: dict[str, list[_Event]] = {}
    for row in attendance:
        m = row.meeting
        ordinal = m.date.toordinal()
        if m.date > as_of:
            continue
        if row.hours_minutes:
            week = week_label(ordinal)
            attended_by_week[week] = attended_by_week.get(week, 0) + row.hours_minutes
        # A row on a meeting still marked "scheduled" counts: someone took attendance, so it met.
        met = m.status != "cancelled"
        plan = plans.get(m.track)
        if (plan is not None and m.group == calendar.group.id and met
                and stay.first_expected(plan.first_week) <= ordinal <= last):
            own_rows.setdefault(m.track, {})[(ordinal, m.time)] = row
        elif row.attended and met and m.module in track_of:
            plan = track_of[m.module]
            if row.minutes >= _needs(plan.module_minutes, rules.credit_share)[plan.position[m.module]]:
                credit = Credit(m.module, m.date, "attendance", m)
                events.setdefault(plan.code, []).append(_Event(ordinal, m.time, plan.position[m.module], credit))
    for c in credits:
        if c.date > as_of:
            continue  # a future make-up is a plan, not a credit
        if c.source not in CREDIT_SOURCES[1:]:
            raise ValueError(f"explicit credits are make-up or override, not {c.source!r}")
        if c.module not in track_of:
            raise ValueError(f"unknown module {c.module!r}")
        if c.minutes:
            week = iso_week(c.date)
            attended_by_week[week] = attended_by_week.get(week, 0) + c.minutes
        plan = track_of[c.module]
        # An explicit credit takes effect at the start of its day, before that day's meetings.
        credit = Credit(c.module, c.date, c.source, None, c.by, c.reason)
        events.setdefault(plan.code, []).append(_Event(c.date.toordinal(), "", plan.position[c.module], credit))

    results = []
    for plan in plans.values():
        track_events = sorted(events.get(plan.code, ()), key=lambda e: (e.ordinal, e.time))
        results.append(_track_progress(plan, stay, calendar, own_rows.get(plan.code, {}), track_events,
                                       as_of, end, rules, expected_by_week, attended_by_week))

    return Progress(
        as_of=as_of,
        stay=stay,
        tracks=tuple(results),
        group_completed_on=_all_done([t.completed_on for t in results if t.required and t.scheduled], stay),
        completed_on=_all_done([t.completed_on for t in results if t.required], stay),
        projected_completion=_all_done([t.projected_completion for t in results if t.required and t.scheduled], stay),
        weeks=_weeks(stay, end, expected_by_week, attended_by_week, rules.hours_floor),
    )


def _all_done(dates: Sequence[date | None], stay: Stay) -> date | None:
    """The last of the dates, if none is missing; nothing required means complete on admission."""
    if any(d is None for d in dates):
        return None
    return max((d for d in dates if d is not None), default=stay.admitted)


def _track_progress(
    plan: TrackPlan, stay: Stay, calendar: Calendar, rows: dict[tuple[int, str], Attendance],
    events: list[_Event], as_of: date, end: date, rules: Rules,
    expected_by_week: dict[str, int], attended_by_week: dict[str, int],
) -> TrackProgress:
    """Walk the track's meetings in time order until it is complete or the stay (or as_of) ends."""
    n = len(plan.modules)
    need = _needs(plan.module_minutes, rules.credit_share)
    got: dict[int, Credit] = {}  # module position -> its credit, in the order they were earned
    missed: set[int] = set()
    completed: Credit | None = None
    timeline = calendar.timeline(plan.code) if plan.scheduled else Timeline()
    ords, times, positions, minutes, weeks = (timeline.ords, timeline.times, timeline.positions,
                                              timeline.minutes, timeline.weeks)
    # Meetings before the track's first program week are not expected: the walk starts after them.
    k = bisect_left(ords, stay.first_expected(plan.first_week))
    stop = bisect_right(ords, end.toordinal())
    if rules.pending_from is not None:
        for j in range(bisect_left(ords, rules.pending_from.toordinal()), stop):
            if not timeline.meetings[j].recorded:
                stop = j
                break
    assume_present = rules.unrecorded == "present"
    pending, n_events, count = 0, len(events), 0
    while k < stop and count < n:
        ordinal = ords[k]
        while pending < n_events and (events[pending].ordinal, events[pending].time) < (ordinal, times[k]):
            event = events[pending]
            pending += 1
            if event.position not in got:
                got[event.position] = event.credit
                count += 1
                if count == n:
                    completed = event.credit
        if count == n:
            break
        week, length, position = weeks[k], minutes[k], positions[k]
        expected_by_week[week] = expected_by_week.get(week, 0) + length
        row = rows.get((ordinal, times[k])) if rows else None
        if row is not None:
            present = row.minutes if row.attended else -1
        elif assume_present:
            present = length
            attended_by_week[week] = attended_by_week.get(week, 0) + length
        else:
            present = -1
        if position >= 0 and position not in got:
            if present >= need[position]:
                credit = timeline.credits[k] or _attendance_credit(timeline, k)
                got[position] = credit  # type: ignore[assignment]
                count += 1
                if count == n:
                    completed = credit  # type: ignore[assignment]
            else:
                missed.add(position)
        k += 1
    for event in events[pending:]:
        if event.position not in got:
            got[event.position] = event.credit
            count += 1
            if count == n:
                completed = event.credit

    if n == 0:
        completed_on: date | None = stay.admitted  # nothing to credit: complete from the first day
    else:
        completed_on = completed.date if completed is not None else None
    projected = completed_on
    if projected is None and plan.scheduled and (stay.discharged is None or stay.discharged > as_of):
        projected = _project(plan, stay, calendar, set(got), need, timeline, stop)
    return TrackProgress(
        track=plan.code,
        required=plan.required,
        scheduled=plan.scheduled,
        credits=tuple(got.values()),  # the walk meets meetings and events in time order
        missing=tuple(code for i, code in enumerate(plan.modules) if i not in got) if count < n else (),
        missed=tuple(code for i, code in enumerate(plan.modules) if i in missed and i not in got),
        completed_on=completed_on,
        projected_completion=projected,
    )


def _attendance_credit(timeline: Timeline, k: int) -> Credit:
    """The credit for attending the k-th meeting, built once and shared by every attendee."""
    meeting = timeline.meetings[k]
    credit = timeline.credits[k] = Credit(meeting.module, meeting.date, "attendance", meeting)  # type: ignore[arg-type]
    return credit


def _project(plan: TrackPlan, stay: Stay, calendar: Calendar, got: set[int], need: tuple[float, ...],
             known: Timeline, start: int) -> date | None:
    """The date the track would complete with perfect attendance after as_of (known meetings
    from index `start` on, then the calendar extended with the same pattern)."""
    n = len(plan.modules)
    first = stay.first_expected(plan.first_week)
    last = stay.discharged.toordinal() if stay.discharged else None
    for k in range(max(start, bisect_left(known.ords, first)), len(known)):
        if last is not None and known.ords[k] > last:
            return None
        position = known.positions[k]
        if position >= 0 and known.minutes[k] >= need[position]:
            got.add(position)
            if len(got) == n:
                return known.meetings[k].date
    # Past the known calendar every (rotation position, slot) pair recurs within
    # modules x slots-per-week meetings, so a longer search cannot find anything new.
    slots = sum(1 for slot in calendar.group.slots if slot.track == plan.code)
    budget = n * slots
    k = 0
    ext = calendar.extension(plan.code, 0)
    while budget > 0:
        if k >= len(ext):
            ext = calendar.extension(plan.code, k + 1)
            if k >= len(ext):
                return None  # the group ends
        ordinal = ext.ords[k]
        if last is not None and ordinal > last:
            return None
        if ordinal >= first:
            budget -= 1
            position = ext.positions[k]
            if position >= 0 and ext.minutes[k] >= need[position]:
                got.add(position)
                if len(got) == n:
                    return ext.meetings[k].date
        k += 1
    return None


def _weeks(stay: Stay, end: date, expected: dict[str, int], attended: dict[str, int],
           floor_hours: float) -> tuple[WeekMinutes, ...]:
    """Every ISO week that overlaps the stay up to `end`, with its minutes and the floor check."""
    out = []
    monday = stay.admitted.toordinal() - stay.admitted.weekday()
    first, last = stay.admitted.toordinal(), end.toordinal()
    floor = floor_hours * 60
    while monday <= last:
        week = week_label(monday)
        got = attended.get(week, 0)
        whole = monday >= first and monday + 6 <= last
        out.append(WeekMinutes(week, date.fromordinal(monday), expected.get(week, 0), got, whole,
                               whole and got + EPSILON < floor))
        monday += 7
    return tuple(out)
