"""Schedule planning for directors: what a weekly pattern implies for a newcomer (length of the
program, scheduled hours per week against the floor) and the what-if comparison of two patterns
over the same admissions. Nothing here writes: every function reads, runs the sequencer and returns.

The numbers come from the same engine the rest of the app uses (facilitator.domain.sequencer), never
from a formula of their own, so a planner's answer and a group's calendar cannot disagree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..curricula.models import Curriculum, CurriculumVersion
from ..domain import curriculum as dom
from ..domain import sequencer as seq
from ..domain.curriculum import WEEKDAYS
from ..extensions import db
from ..groups.calendars import group_calendar
from ..groups.models import Group
from ..programs.models import Holiday
from ..web.i18n import curriculum_text, format_clock, format_when

# A Matrix-style IOP runs 12 to 20 weeks; a pattern outside that range deserves a second look.
LENGTH_WEEKS = (12, 20)
# Any Monday will do: without holidays only the weekday of an admission matters. Fixed, so that the
# numbers on the page never depend on the day it is opened.
REFERENCE_MONDAY = date(2029, 1, 1)
MAX_SLOTS = 40
MAX_SLOT_MINUTES = 480
MAX_ADMISSIONS = 200
MAX_HOLIDAYS = 100
MAX_SPAN_DAYS = 3 * 365 + 1  # three years, one of them a leap year
EARLIEST_START = timedelta(days=366)  # a what-if may start up to a year ago...
LATEST_START = timedelta(days=3 * 366)  # ...or up to three years ahead
DAY_NAMES = (_l("Monday"), _l("Tuesday"), _l("Wednesday"), _l("Thursday"), _l("Friday"), _l("Saturday"), _l("Sunday"))
DAY_SHORT = (_l("Mon"), _l("Tue"), _l("Wed"), _l("Thu"), _l("Fri"), _l("Sat"), _l("Sun"))
TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class PlanRefused(ValueError):
    """Input the planner cannot run; `problems` maps a form field name to a plain message."""

    def __init__(self, problems: dict[str, str]):
        super().__init__("; ".join(problems.values()))
        self.problems = problems


# --- Where a pattern comes from: a curriculum's suggested pattern or a group's current one ---------


@dataclass(frozen=True)
class Source:
    """A pattern to start from: a curriculum version's suggested pattern or a group's current pattern."""

    key: str  # "version-5" or "group-3": the value of the form's choice and of ?start=
    label: str
    version_id: int
    version_title: str
    slots: tuple[dom.PatternSlot, ...]
    group: Group | None = None

    @property
    def policy(self) -> str:
        """What happens to a cancelled meeting's module under this source."""
        return self.group.cancellation_policy if self.group else "postpone"


def _version_words(version: CurriculumVersion) -> str:
    if version.is_published:
        return f"{version.title} ({version.label})"
    return _("%(title)s (%(label)s, draft)", title=version.title, label=version.label)


def sources(program_id: int) -> list[Source]:
    """The patterns a director may start from: the suggested pattern of each published version (and of
    the program's own drafts), then the program's active groups' current patterns, in four queries."""
    groups = db.session.scalars(
        select(Group).where(Group.program_id == program_id, Group.active).order_by(Group.name)
        .options(selectinload(Group.slots), selectinload(Group.version))).all()
    versions = db.session.scalars(
        select(CurriculumVersion).join(Curriculum, Curriculum.id == CurriculumVersion.curriculum_id)
        .where((Curriculum.program_id == program_id)
               | (Curriculum.program_id.is_(None) & (CurriculumVersion.status == "published")))
        .order_by(Curriculum.program_id.is_(None), Curriculum.title, CurriculumVersion.number.desc())).all()
    out = []
    for version in versions:
        slots = tuple(dom.PatternSlot(**slot) for slot in version.pattern or ())
        out.append(Source(f"version-{version.id}", _("Suggested pattern of %(version)s", version=_version_words(version)), version.id,
                          _version_words(version), slots))
    for group in groups:
        slots = tuple(dom.PatternSlot(WEEKDAYS[s.weekday], s.start_time.strftime("%H:%M"), s.track_code, s.minutes)
                      for s in group.slots)
        out.append(Source(f"group-{group.id}", _("%(group)s: its current pattern", group=group.name), group.version_id,
                          _version_words(group.version), slots, group))
    return out


def pick_source(choices: list[Source], key: str | None) -> Source | None:
    """The source with this key (the first suggested pattern if no key is given); None if unknown."""
    if not key:
        return choices[0] if choices else None
    return next((s for s in choices if s.key == key), None)


def names_a_group(key: str | None) -> bool:
    """True if a source key names a group (an unknown one is another program's: the view answers 404)."""
    return bool(key) and key.startswith("group-")  # type: ignore[union-attr]


def slot_tracks(structure: dom.Curriculum) -> list[dom.Track]:
    """The tracks that can have slots on a weekly pattern (group and family tracks, not IC or RA)."""
    plans = {p.code: p for p in seq.track_plans(structure)}
    return [t for t in structure.tracks if plans[t.code].scheduled]


def clock(hhmm: str) -> str:
    """ "17:30" -> "5:30 PM"."""
    hour, minute = (int(part) for part in hhmm.split(":"))
    return f"{(hour - 1) % 12 + 1}:{minute:02d} {'AM' if hour < 12 else 'PM'}"


def pattern_words(slots: tuple[dom.PatternSlot, ...]) -> list[str]:
    """Each meeting of a pattern in words, in weekday and time order: "Mon 5:30 PM: ERS, 50 min"."""
    ordered = sorted(slots, key=lambda s: (WEEKDAYS.index(s.weekday), s.time, s.track))
    return [_("%(day)s %(time)s: %(track)s, %(minutes)s min", day=DAY_SHORT[WEEKDAYS.index(s.weekday)],
              time=format_clock(s.time), track=s.track, minutes=s.minutes) for s in ordered]


def hours(minutes: int) -> str:
    """Minutes as hours with one decimal, without a trailing ".0": 370 -> "6.2", 540 -> "9"."""
    text = f"{minutes / 60:.1f}"
    return text[:-2] if text.endswith(".0") else text


# --- Checking a pattern --------------------------------------------------------------------------


def check_pattern(slots: tuple[dom.PatternSlot, ...], structure: dom.Curriculum) -> dict[str, str]:
    """What is wrong with a weekly pattern (empty if nothing); "slots-2-minutes" is the third slot."""
    if not slots:
        return {"slots": _("Add at least one meeting to the weekly pattern.")}
    if len(slots) > MAX_SLOTS:
        return {"slots": _("A weekly pattern can have at most %(most)s meetings; this one has %(count)s.", most=MAX_SLOTS,
                              count=len(slots))}
    problems: dict[str, str] = {}
    tracks = {t.code: t for t in structure.tracks}
    allowed = [t.code for t in slot_tracks(structure)]
    seen: dict[tuple[str, str, str], int] = {}
    for index, slot in enumerate(slots):
        prefix = f"slots-{index}-"
        if slot.weekday not in WEEKDAYS:
            problems[prefix + "weekday"] = _("Choose a day of the week.")
        if not TIME.match(slot.time or ""):
            problems[prefix + "time"] = _("Enter a time like 18:30.")
        if slot.track not in tracks:
            problems[prefix + "track"] = _("Choose a track of %(title)s: %(tracks)s.", title=structure.title,
                                           tracks=_or_list(allowed))
        elif slot.track not in allowed:
            problems[prefix + "track"] = _("%(track)s sessions are booked one by one, not on the weekly pattern. "
                                            "Choose %(tracks)s.", track=slot.track, tracks=_or_list(allowed))
        if not 0 < slot.minutes <= MAX_SLOT_MINUTES:
            problems[prefix + "minutes"] = _("Enter between 1 and %(most)s minutes, not %(value)s.", most=MAX_SLOT_MINUTES,
                                             value=slot.minutes)
        key = (slot.weekday, slot.time, slot.track)
        if key in seen and prefix + "track" not in problems:
            problems[prefix + "track"] = _("Meeting %(number)s is already %(track)s on this day at this time.",
                                           number=seen[key] + 1, track=slot.track)
        seen.setdefault(key, index)
    return problems


def _or_list(codes: list[str]) -> str:
    return codes[0] if len(codes) == 1 else _("%(codes)s or %(last)s", codes=", ".join(codes[:-1]), last=codes[-1])


# --- What a pattern implies for a newcomer ---------------------------------------------------------


@dataclass(frozen=True)
class NewcomerLength:
    """How long a newcomer admitted on one day of the week takes, with perfect attendance."""

    weekday: int  # 0 = Monday
    completes_week: int | None  # program week of completion (week 1 starts on the admission day)
    completes_weekday: int | None
    days: int | None  # admission to completion; None: cannot complete

    @property
    def day_name(self) -> str:
        """The admission day in words."""
        return DAY_NAMES[self.weekday]

    @property
    def weeks(self) -> float | None:
        """The length in weeks, as the page shows it (one decimal)."""
        return None if self.days is None else round(self.days / 7, 1)


@dataclass(frozen=True)
class Phase:
    """A stretch of program weeks in which the same tracks meet: its scheduled minutes per week."""

    first_week: int
    last_week: int | None  # None: open-ended (a required track never completes)
    tracks: tuple[str, ...]
    minutes: int
    floor_minutes: int

    @property
    def weeks_words(self) -> str:
        """ "Weeks 1-4", "Week 12" or "From week 13"."""
        if self.last_week is None:
            return _("From week %(week)s", week=self.first_week)
        if self.last_week == self.first_week:
            return _("Week %(week)s", week=self.first_week)
        return _("Weeks %(first)s-%(last)s", first=self.first_week, last=self.last_week)

    @property
    def under_floor(self) -> bool:
        """Fewer scheduled minutes than the program's floor."""
        return self.minutes < self.floor_minutes

    @property
    def gap_minutes(self) -> int:
        """How far the scheduled minutes are from the floor (positive: under it)."""
        return self.floor_minutes - self.minutes


@dataclass(frozen=True)
class Implications:
    """What a weekly pattern means for a newcomer with perfect attendance."""

    lengths: tuple[NewcomerLength, ...]  # admission on each day of a week, Monday first
    phases: tuple[Phase, ...]
    blocked: tuple[str, ...]  # why a newcomer cannot complete, in words
    required: tuple[str, ...]  # the required tracks the length waits for
    floor_minutes: int

    @property
    def shortest(self) -> float | None:
        """The shortest length in weeks (None if some newcomer cannot complete)."""
        weeks = [n.weeks for n in self.lengths]
        return None if not weeks or None in weeks else min(weeks)  # type: ignore[type-var]

    @property
    def longest(self) -> float | None:
        """The longest length in weeks (None if some newcomer cannot complete)."""
        weeks = [n.weeks for n in self.lengths]
        return None if not weeks or None in weeks else max(weeks)  # type: ignore[type-var]

    @property
    def length_words(self) -> str:
        """ "15.4 to 15.9 weeks", "16.0 weeks" or "" if a newcomer cannot complete."""
        if self.shortest is None or self.longest is None:
            return ""
        if self.shortest == self.longest:
            return _("%(weeks)s weeks", weeks=f"{self.shortest:.1f}")
        return _("%(shortest)s to %(longest)s weeks", shortest=f"{self.shortest:.1f}", longest=f"{self.longest:.1f}")

    @property
    def outside_range(self) -> str:
        """ "shorter" or "longer" when the length falls outside 12-20 weeks; "" otherwise."""
        days = [n.days for n in self.lengths if n.days is not None]
        if not days or len(days) < len(self.lengths):
            return ""
        if min(days) < LENGTH_WEEKS[0] * 7:
            return "shorter"
        if max(days) > LENGTH_WEEKS[1] * 7:
            return "longer"
        return ""


def implications(slots: tuple[dom.PatternSlot, ...], structure: dom.Curriculum, floor_minutes: int) -> Implications:
    """Length for a newcomer admitted on each day of a week, and scheduled minutes per phase against
    the floor, with perfect attendance and no holidays. The pattern must have passed check_pattern."""
    plans = seq.track_plans(structure)
    group = seq.GroupSpec(id="plan", start=REFERENCE_MONDAY, slots=slots, tracks=plans)
    # One week of calendar is enough: each newcomer's completion is projected past it by the engine.
    calendar = seq.build_calendar(group, REFERENCE_MONDAY + timedelta(days=6))
    rules = seq.Rules(credit_share=structure.credit_share, hours_floor=floor_minutes / 60, unrecorded="present")
    lengths, first = [], None
    for offset in range(7):
        admitted = REFERENCE_MONDAY + timedelta(days=offset)
        progress = seq.participant_progress(seq.Stay(admitted, None), calendar, as_of=admitted, rules=rules)
        first = first or progress
        done = progress.projected_completion
        lengths.append(NewcomerLength(
            offset, seq.program_week(progress.stay, done) if done else None, done.weekday() if done else None,
            (done - admitted).days if done else None))
    assert first is not None
    return Implications(tuple(lengths), _phases(slots, plans, first, floor_minutes),
                        tuple(_blocked(slots, plans, first, structure)),
                        tuple(p.code for p in plans if p.scheduled and p.required), floor_minutes)


def _phases(slots: tuple[dom.PatternSlot, ...], plans: tuple[seq.TrackPlan, ...], progress: seq.Progress,
            floor_minutes: int) -> tuple[Phase, ...]:
    """Phases of a newcomer admitted on a Monday (program weeks are then calendar weeks): a phase
    starts at week 1, at each track's first week, and the week after each track completes."""
    stay = progress.stay
    meeting = [p for p in plans if p.scheduled and any(s.track == p.code for s in slots)]
    done_week = {}
    for plan in meeting:
        when = progress.track(plan.code).projected_completion
        done_week[plan.code] = seq.program_week(stay, when) if when else None
    end = seq.program_week(stay, progress.projected_completion) if progress.projected_completion else None
    starts = {1} | {p.first_week for p in meeting} | {w + 1 for w in done_week.values() if w is not None}
    starts = sorted(w for w in starts if end is None or w <= end)
    phases: list[Phase] = []
    for i, start in enumerate(starts):
        last = starts[i + 1] - 1 if i + 1 < len(starts) else end
        active = tuple(p.code for p in meeting
                       if p.first_week <= start and (done_week[p.code] is None or done_week[p.code] >= start))
        minutes = sum(s.minutes for s in slots if s.track in active)
        if phases and phases[-1].tracks == active:  # the same tracks: one phase, not two
            phases[-1] = Phase(phases[-1].first_week, last, active, minutes, floor_minutes)
        else:
            phases.append(Phase(start, last, active, minutes, floor_minutes))
    return tuple(phases)


def _blocked(slots: tuple[dom.PatternSlot, ...], plans: tuple[seq.TrackPlan, ...], progress: seq.Progress,
             structure: dom.Curriculum) -> list[str]:
    """Why a newcomer cannot complete the required group tracks, one sentence per track."""
    names = {t.code: curriculum_text(t.name) for t in structure.tracks}
    out = []
    for plan in plans:
        if not plan.scheduled or not plan.required or progress.track(plan.code).projected_completion is not None:
            continue
        lengths = [s.minutes for s in slots if s.track == plan.code]
        if not lengths:
            out.append(_("No %(code)s meeting on the pattern: a newcomer cannot complete %(name)s "
                         "(%(code)s), which is required.", code=plan.code, name=names[plan.code]))
        else:
            need = structure.credit_share * max(plan.module_minutes)
            out.append(_("%(code)s meetings are too short to earn every module's credit: some %(code)s modules "
                         "need %(need)s minutes (%(share)s of %(most)s), and the longest %(code)s meeting has "
                         "%(longest)s.", code=plan.code, need=f"{need:.0f}", share=f"{structure.credit_share:.0%}",
                         most=max(plan.module_minutes), longest=max(lengths)))
    return out


# --- The what-if comparison ----------------------------------------------------------------------


@dataclass(frozen=True)
class Admission:
    """One admission of a what-if: the day and the days the person misses (every meeting that day)."""

    admitted: date
    absent: tuple[date, ...] = ()
    line: int = 0  # the line of the admissions field it came from, for messages


@dataclass(frozen=True)
class WhatIfInput:
    """What a director asks: pattern A (a source) against pattern B, over the same days and admissions."""

    source: Source
    slots_b: tuple[dom.PatternSlot, ...]
    start: date
    until: date
    holidays: tuple[date, ...]
    admissions: tuple[Admission, ...]


@dataclass(frozen=True)
class ComparisonRow:
    """One admission's projected completion under A and under B."""

    admission: Admission
    a: date | None
    b: date | None

    @property
    def difference(self) -> int | None:
        """Days B finishes after A (negative: earlier); None if either cannot complete."""
        return None if self.a is None or self.b is None else (self.b - self.a).days


@dataclass(frozen=True)
class WhatIfResult:
    """The comparison, and what each pattern means for a newcomer."""

    rows: tuple[ComparisonRow, ...]
    a: Implications
    b: Implications

    def count(self, sign: int) -> int:
        """How many admissions finish earlier (-1), on the same day (0) or later (1) under B."""
        return sum(1 for r in self.rows if r.difference is not None and (r.difference > 0) - (r.difference < 0) == sign)


def what_if_defaults(program_id: int, today: date) -> tuple[date, date, list[tuple[date, str]], list[date]]:
    """A starting point for the what-if: 26 weeks from the next Monday, the program's holidays in
    that window, and one admission on each weekday (Monday to Friday) of the first week."""
    start = today + timedelta(days=(7 - today.weekday()) % 7)
    until = start + timedelta(weeks=26, days=-1)
    holidays = db.session.execute(select(Holiday.date, Holiday.name).where(
        Holiday.program_id == program_id, Holiday.date >= start, Holiday.date <= until).order_by(Holiday.date)).all()
    return start, until, [(d, n) for d, n in holidays], [start + timedelta(days=i) for i in range(5)]


def check_days(start: date, until: date, today: date) -> dict[str, str]:
    """What is wrong with the days a what-if covers (empty if nothing)."""
    if start < today - EARLIEST_START or start > today + LATEST_START:
        return {"start": _("Pick a first day within a year before today and three years after.")}
    if until < start:
        return {"until": _("The last day (%(last)s) is before the first day (%(first)s).",
                             last=format_when(until, "year"), first=format_when(start, "year"))}
    if (until - start).days > MAX_SPAN_DAYS:
        return {"until": _("A what-if covers at most 3 years: pick a last day on or before %(day)s.",
                             day=format_when(start + timedelta(days=MAX_SPAN_DAYS), "year"))}
    return {}


def check_what_if(inputs: WhatIfInput, structure: dom.Curriculum, today: date) -> dict[str, str]:
    """What is wrong with a what-if (empty if nothing); keys name the form fields."""
    problems = check_pattern(inputs.slots_b, structure)
    start, until = inputs.start, inputs.until
    problems.update(check_days(start, until, today))
    window = "start" not in problems and "until" not in problems
    if len(inputs.holidays) > MAX_HOLIDAYS:
        problems["holidays"] = _("List at most %(most)s holidays; there are %(count)s.", most=MAX_HOLIDAYS,
                                 count=len(inputs.holidays))
    elif window:
        outside = [d for d in inputs.holidays if not start <= d <= until]
        if outside:
            problems["holidays"] = _("%(day)s is outside the days simulated (%(start)s to %(end)s).",
                                      day=f"{outside[0]:%Y-%m-%d}", start=f"{start:%Y-%m-%d}", end=f"{until:%Y-%m-%d}")
    if not inputs.admissions:
        problems["admissions"] = _("Add at least one admission date.")
    elif len(inputs.admissions) > MAX_ADMISSIONS:
        problems["admissions"] = _("At most %(most)s admissions at a time; there are %(count)s.", most=MAX_ADMISSIONS,
                                    count=len(inputs.admissions))
    elif window:
        messages = _admission_problems(inputs.admissions, start, until)
        if messages:
            more = (" " + _("(%(count)s more lines need fixing.)", count=len(messages) - 3)) if len(messages) > 3 else ""
            problems["admissions"] = " ".join(messages[:3]) + more
    return problems


def _admission_problems(admissions: tuple[Admission, ...], start: date, until: date) -> list[str]:
    out = []
    for a in admissions:
        if not start <= a.admitted <= until:
            out.append(_("Line %(line)s: admission %(day)s is outside the days simulated (%(start)s to %(end)s).",
                         line=a.line, day=f"{a.admitted:%Y-%m-%d}", start=f"{start:%Y-%m-%d}", end=f"{until:%Y-%m-%d}"))
            continue
        for day in a.absent:
            if day < a.admitted:
                out.append(_("Line %(line)s: absence %(day)s is before the admission on %(admitted)s.", line=a.line,
                             day=f"{day:%Y-%m-%d}", admitted=f"{a.admitted:%Y-%m-%d}"))
                break
            if day > until:
                out.append(_("Line %(line)s: absence %(day)s is after the last day simulated (%(end)s).", line=a.line,
                             day=f"{day:%Y-%m-%d}", end=f"{until:%Y-%m-%d}"))
                break
        if len(set(a.absent)) < len(a.absent):
            out.append(_("Line %(line)s: an absence is listed twice.", line=a.line))
    return out


def rotation_start(source: Source, start: date) -> dict[str, str]:
    """Where each rotation of the source group stands on the what-if's first day (a suggested
    pattern starts every track at module 1), so both scenarios continue the real group's rotation."""
    if source.group is None:
        return {}
    calendar = group_calendar(source.group, start - timedelta(days=1))
    plans = {p.code: p for p in calendar.group.tracks}
    return {track: plans[track].modules[index] for track, index in calendar.next_positions
            if plans[track].modules and plans[track].scheduled}


def run_what_if(inputs: WhatIfInput, structure: dom.Curriculum, floor_minutes: int, today: date) -> WhatIfResult:
    """Projected completion of every admission under pattern A and pattern B (same days, holidays and
    admissions), through the sequencer's what-if simulator; PlanRefused if the input cannot run."""
    problems = check_what_if(inputs, structure, today)
    if problems:
        raise PlanRefused(problems)
    common = {
        "start": inputs.start.isoformat(), "until": inputs.until.isoformat(),
        "holidays": [d.isoformat() for d in sorted(set(inputs.holidays))],
        "policy": inputs.source.policy, "hours_floor": floor_minutes / 60,
        "start_modules": rotation_start(inputs.source, inputs.start),
        "participants": [{"id": i, "admitted": a.admitted.isoformat(), "absent": [d.isoformat() for d in a.absent]}
                         for i, a in enumerate(inputs.admissions)],
    }
    outcomes = []
    for label, slots in (("A", inputs.source.slots), ("B", inputs.slots_b)):
        data = {**common, "slots": [{"weekday": s.weekday, "time": s.time, "track": s.track, "minutes": s.minutes}
                                    for s in slots]}
        try:
            outcomes.append(seq.simulate(data, curriculum=structure, source=f"scenario {label}"))
        except seq.ScenarioError as error:  # pattern A comes from stored rows; say so rather than fail
            raise PlanRefused({"source": _("Scenario %(label)s cannot run: %(error)s", label=label, error=error)}) from error
    rows = tuple(
        ComparisonRow(a, _day(pa["projected_completion"]), _day(pb["projected_completion"]))
        for a, pa, pb in zip(inputs.admissions, outcomes[0]["participants"], outcomes[1]["participants"], strict=True))
    return WhatIfResult(rows, implications(inputs.source.slots, structure, floor_minutes)
                        if not check_pattern(inputs.source.slots, structure) else _empty(floor_minutes),
                        implications(inputs.slots_b, structure, floor_minutes))


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _empty(floor_minutes: int) -> Implications:
    return Implications((), (), (_("This pattern has no meetings the planner can read."),), (), floor_minutes)

