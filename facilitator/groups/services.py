"""Groups as the sequencer sees them: stored rows in, calendars (past as recorded, future planned) out."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..auth.models import User
from ..curricula.models import Curriculum, CurriculumVersion, Module, Track
from ..domain import curriculum as dom
from ..domain import sequencer as seq
from ..domain.curriculum import WEEKDAYS
from ..extensions import db
from ..participants.models import Enrollment, Participant
from ..programs.models import Holiday
from .models import Cancellation, Group, Meeting, Slot

# Published versions never change, so caching them per process is safe. (Tests that roll back and
# reuse ids clear it: see tests/conftest.py.)
_STRUCTURES: dict[int, dom.Curriculum] = {}


def version_structure(version_id: int) -> dom.Curriculum:
    """A version's tracks and module codes and minutes (no text), in two queries; cached if published."""
    if version_id in _STRUCTURES:
        return _STRUCTURES[version_id]
    version = db.session.get(CurriculumVersion, version_id)
    tracks = db.session.scalars(select(Track).where(Track.version_id == version_id).order_by(Track.position)).all()
    rows = db.session.execute(
        select(Module.track_id, Module.code, Module.title, Module.minutes, Module.retired)
        .where(Module.version_id == version_id).order_by(Module.track_id, Module.position)
    ).all()
    modules: dict[int, list[dom.Module]] = {}
    for track_id, code, title, minutes, retired in rows:
        modules.setdefault(track_id, []).append(dom.Module(code=code, title=title, minutes=minutes, retired=retired))
    structure = dom.Curriculum(
        name=str(version.curriculum_id), title=version.title, version=version.label,
        credit_share=version.credit_share,
        tracks=tuple(
            dom.Track(code=t.code, name=t.name, kind=t.kind, ordering=t.ordering, minutes=t.minutes,
                      required=t.required, first_week=t.first_week, last_week=t.last_week,
                      modules=tuple(modules.get(t.id, ())))
            for t in tracks
        ),
    )
    if version.is_published:
        _STRUCTURES[version_id] = structure
    return structure


def preload_versions(version_ids: Iterable[int]) -> None:
    """Load several versions in one query, so version_structure finds them without one query each."""
    ids = {v for v in version_ids if v not in _STRUCTURES}  # cached ones need no row at all
    if ids:
        db.session.scalars(select(CurriculumVersion).where(CurriculumVersion.id.in_(ids))).all()


def group_spec(group: Group, structure: dom.Curriculum | None = None) -> seq.GroupSpec:
    """The sequencer's view of a stored group."""
    structure = structure or version_structure(group.version_id)
    slots = tuple(
        dom.PatternSlot(weekday=WEEKDAYS[s.weekday], time=s.start_time.strftime("%H:%M"), track=s.track_code,
                        minutes=s.minutes)
        for s in group.slots
    )
    return seq.GroupSpec(
        id=str(group.id), start=group.start_date, slots=slots, tracks=seq.track_plans(structure),
        start_modules=tuple(sorted(group.starting_modules.items())) if group.mode == "open" else (),
        mode=group.mode, end=group.end_date,
    )


def program_holidays(program_id: int) -> list[date]:
    """The dates the whole program is closed."""
    return list(db.session.scalars(select(Holiday.date).where(Holiday.program_id == program_id)))


def recorded_meetings(group_ids: Iterable[int]) -> dict[int, list[seq.RecordedMeeting]]:
    """Stored meetings (held, cancelled, or opened ahead) per group, in one query."""
    rows = db.session.execute(
        select(Meeting.group_id, Meeting.date, Meeting.start_time, Meeting.track_code, Meeting.status,
               Module.code, Meeting.minutes)
        .outerjoin(Module, Module.id == Meeting.module_id)
        .where(Meeting.group_id.in_(list(group_ids)))
    ).all()
    out: dict[int, list[seq.RecordedMeeting]] = {}
    for group_id, day, start, track, status, module, minutes in rows:
        out.setdefault(group_id, []).append(seq.RecordedMeeting(
            date=day, time=start.strftime("%H:%M"), track=track, status=status, module=module, minutes=minutes))
    return out


def group_cancellations(group_ids: Iterable[int]) -> dict[int, list[seq.Cancellation]]:
    """Cancellations decided ahead of time, per group, in one query."""
    out: dict[int, list[seq.Cancellation]] = {}
    for row in db.session.scalars(select(Cancellation).where(Cancellation.group_id.in_(list(group_ids)))):
        out.setdefault(row.group_id, []).append(seq.Cancellation(date=row.date, track=row.track_code))
    return out


def group_calendars(groups: list[Group], until: date) -> dict[int, seq.Calendar]:
    """Calendars of several groups of one program through `until`, in a fixed number of queries."""
    if not groups:
        return {}
    ids = [g.id for g in groups]
    preload_versions(g.version_id for g in groups)
    holidays = program_holidays(groups[0].program_id)
    recorded = recorded_meetings(ids)
    cancellations = group_cancellations(ids)
    calendars = {}
    for group in groups:
        calendars[group.id] = seq.build_calendar(
            group_spec(group), until, holidays=holidays, cancellations=cancellations.get(group.id, ()),
            policy=group.cancellation_policy, recorded=recorded.get(group.id, ()),
        )
    return calendars


def group_calendar(group: Group, until: date) -> seq.Calendar:
    """One group's calendar through `until`."""
    return group_calendars([group], until)[group.id]


# --- The group screens: list, group page, holidays and cancellations, create and edit ---------------
# Appended for the web screens; the functions above are shared by other areas and stay as they are.

PAGE_PAST = timedelta(weeks=4)  # the group page shows the past 4 weeks...
PAGE_AHEAD = timedelta(weeks=8)  # ...and the next 8
PREVIEW_AHEAD = timedelta(weeks=4)  # the edit form previews the next 4 weeks
LOOK_AHEAD = timedelta(weeks=40)  # far enough to find where a postponed or skipped module is taught
MAX_SLOT_MINUTES = 480
# A past meeting the new weekly pattern would have had, stored as cancelled so that a pattern change
# re-plans only the future (see _frozen_past); the group page does not list these.
NOT_IN_PATTERN = "Not on the weekly pattern at the time"
SLOT_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class GroupRefused(ValueError):
    """The service refuses the input; `problems` maps a form field name to a plain message."""

    def __init__(self, problems: dict[str, str]):
        super().__init__("; ".join(problems.values()))
        self.problems = problems


def clock(hhmm: str) -> str:
    """ "17:30" -> "5:30 PM"."""
    hour, minute = (int(part) for part in hhmm.split(":"))
    return f"{(hour - 1) % 12 + 1}:{minute:02d} {'AM' if hour < 12 else 'PM'}"


def pattern_words(slots: Iterable[dom.PatternSlot]) -> str:
    """A weekly pattern in words: "Mon 5:30 PM ERS 50 min, Mon 6:30 PM RP 90 min, ..."."""
    ordered = sorted(slots, key=lambda s: (WEEKDAYS.index(s.weekday), s.time, s.track))
    return ", ".join(f"{SLOT_DAY_NAMES[WEEKDAYS.index(s.weekday)]} {clock(s.time)} {s.track} {s.minutes} min"
                     for s in ordered) or "No weekly pattern yet"


def titles_of(structure: dom.Curriculum) -> dict[str, str]:
    """Module code -> title, for one version."""
    return {m.code: m.title for t in structure.tracks for m in t.modules}


def rotating_tracks(structure: dom.Curriculum) -> list[dom.Track]:
    """The tracks whose meetings rotate through their modules in order (a starting module makes sense)."""
    return [t for t in structure.tracks if t.kind in seq.model.SCHEDULED_KINDS and t.ordering == "rotating"]


def slot_tracks(structure: dom.Curriculum) -> list[dom.Track]:
    """The tracks that can have slots on a weekly pattern (group and family tracks, not IC or RA)."""
    plans = {p.code: p for p in seq.track_plans(structure)}
    return [t for t in structure.tracks if plans[t.code].scheduled]


@dataclass(frozen=True)
class TrackStanding:
    """Where a rotating track stands: the module of its next meeting."""

    track: str
    module: str | None
    title: str
    meeting: seq.Meeting | None


@dataclass(frozen=True)
class GroupSummary:
    """One line of the groups list."""

    group: Group
    version_title: str
    pattern: str
    active_members: int
    facilitator: str
    standing: tuple[TrackStanding, ...]


def staff_names(program_id: int) -> dict[int, str]:
    """User id -> display name, for the program's staff."""
    return dict(db.session.execute(select(User.id, User.display_name).where(User.program_id == program_id)).all())


def _active_counts(group_ids: list[int]) -> dict[int, int]:
    return dict(db.session.execute(
        select(Enrollment.group_id, func.count(Enrollment.id))
        .where(Enrollment.group_id.in_(group_ids), Enrollment.discharged_on.is_(None))
        .group_by(Enrollment.group_id)).all())


def standing(calendar: seq.Calendar, structure: dom.Curriculum, today: date) -> tuple[TrackStanding, ...]:
    """Per rotating track, the next meeting on or after today that takes place, and its module."""
    titles = titles_of(structure)
    out = []
    for track in rotating_tracks(structure):
        nxt = next((m for m in calendar.meetings if m.track == track.code and m.held and m.date >= today), None)
        if nxt is None and any(s.track == track.code for s in calendar.group.slots):
            later = calendar.extended(track.code, 1)
            nxt = later[0] if later else None
        if nxt is not None:
            out.append(TrackStanding(track.code, nxt.module, titles.get(nxt.module or "", ""), nxt))
    return tuple(out)


def groups_overview(program_id: int, today: date) -> list[GroupSummary]:
    """The program's groups with pattern, members and where each rotating track stands, in fixed queries."""
    groups = list(db.session.scalars(
        select(Group).where(Group.program_id == program_id).order_by(Group.active.desc(), Group.name)
        .options(selectinload(Group.slots), selectinload(Group.version))))
    if not groups:
        return []
    calendars = group_calendars(groups, today + PREVIEW_AHEAD)
    counts = _active_counts([g.id for g in groups])
    names = staff_names(program_id)
    out = []
    for group in groups:
        structure = version_structure(group.version_id)
        spec = group_spec(group, structure)
        out.append(GroupSummary(
            group=group, version_title=f"{group.version.title} ({group.version.label})",
            pattern=pattern_words(spec.slots), active_members=counts.get(group.id, 0),
            facilitator=names.get(group.facilitator_id or 0, ""),
            standing=standing(calendars[group.id], structure, today)))
    return out


@dataclass(frozen=True)
class CalendarRow:
    """One meeting on the group page: what it teaches, its status in words, and where a cancelled module goes."""

    meeting: seq.Meeting
    title: str
    status: str  # held | cancelled | coming | not recorded
    reason: str  # why it is cancelled, in words ("Holiday: Thanksgiving")
    taught: seq.Meeting | None  # cancelled: the meeting that teaches its module instead (or on its next turn)
    policy: str


@dataclass(frozen=True)
class CalendarWeek:
    """The meetings of one week (Monday first)."""

    monday: date
    rows: tuple[CalendarRow, ...]
    holidays: tuple[tuple[date, str], ...]


def _holiday_names(program_id: int) -> dict[date, str]:
    return dict(db.session.execute(select(Holiday.date, Holiday.name).where(Holiday.program_id == program_id)).all())


def _cancellation_reasons(group_id: int) -> dict[tuple[date, str | None], str]:
    rows = db.session.execute(select(Cancellation.date, Cancellation.track_code, Cancellation.reason)
                              .where(Cancellation.group_id == group_id)).all()
    return {(day, track): reason for day, track, reason in rows}


def _stored_rows(group_id: int, first: date, last: date) -> dict[tuple[date, str, str], tuple[str, str]]:
    """(date, "HH:MM", track) -> (status, cancel reason) of the stored meetings in a window, in one query."""
    rows = db.session.execute(
        select(Meeting.date, Meeting.start_time, Meeting.track_code, Meeting.status, Meeting.cancel_reason)
        .where(Meeting.group_id == group_id, Meeting.date >= first, Meeting.date <= last)).all()
    return {(day, at.strftime("%H:%M"), track): (status, reason) for day, at, track, status, reason in rows}


def taught_instead(calendar: seq.Calendar, meeting: seq.Meeting) -> seq.Meeting | None:
    """For a cancelled meeting: the next meeting of its track that teaches its module (postponed or next turn)."""
    if meeting.module is None:
        return None
    found = [m for m in calendar.next_deliveries(meeting.module, meeting.date - timedelta(days=1), 4)
             if (m.date, m.time) > (meeting.date, meeting.time)]
    return found[0] if found else None


def calendar_weeks(group: Group, today: date) -> list[CalendarWeek]:
    """The past 4 and next 8 weeks of a group's meetings, week by week, in a fixed number of queries."""
    structure = version_structure(group.version_id)
    first = today - PAGE_PAST
    first -= timedelta(days=first.weekday())
    last = today + PAGE_AHEAD
    calendar = group_calendar(group, today + LOOK_AHEAD)
    holidays = _holiday_names(group.program_id)
    reasons = _cancellation_reasons(group.id)
    stored = _stored_rows(group.id, first, last)
    titles = titles_of(structure)
    by_week: dict[date, list[CalendarRow]] = {}
    for m in calendar.meetings:
        if not first <= m.date <= last:
            continue
        status, stored_reason = stored.get((m.date, m.time, m.track), ("", ""))
        if stored_reason == NOT_IN_PATTERN:
            continue  # a day the group did not meet: never a meeting at all
        reason, taught = "", None
        if m.status == "cancelled":
            label = "cancelled"
            if m.reason == "holiday":
                reason = f"Holiday: {holidays.get(m.date, 'program closed')}"
            elif m.reason == "cancelled":
                reason = reasons.get((m.date, m.track)) or reasons.get((m.date, None)) or "Cancelled ahead of time"
            else:
                reason = stored_reason or "Cancelled"
            taught = taught_instead(calendar, m)
        elif status == "held":
            label = "held"
        elif m.date >= today:
            label = "coming"
        else:
            label = "not recorded"
        monday = m.date - timedelta(days=m.date.weekday())
        by_week.setdefault(monday, []).append(CalendarRow(m, titles.get(m.module or "", ""), label, reason, taught,
                                                          group.cancellation_policy))
    weeks = []
    monday = first
    while monday <= last:
        days = [(d, name) for d, name in sorted(holidays.items()) if monday <= d < monday + timedelta(days=7)]
        weeks.append(CalendarWeek(monday, tuple(by_week.get(monday, ())), tuple(days)))
        monday += timedelta(days=7)
    return weeks


@dataclass(frozen=True)
class TrackCount:
    """Modules credited out of the track's modules ("RP 14/32")."""

    track: str
    credited: int
    total: int


@dataclass(frozen=True)
class MemberRow:
    """One active member on the group page."""

    participant: Participant
    admitted_on: date
    week: int | None
    newest: bool
    tracks: tuple[TrackCount, ...]
    completed_on: date | None
    projected: date | None
    alerts: tuple  # alerts.services.Alert


def group_roster(group: Group, today: date) -> list[MemberRow]:
    """The group's active members with program week, progress per required track, projection and
    alerts, newest first, in a fixed number of queries whatever the roster size."""
    # progress and alerts read group rows through this module: imported here to avoid an import cycle
    from ..alerts.services import alerts_for
    from ..progress.services import progress_for

    rows = db.session.execute(
        select(Participant, Enrollment.admitted_on).join(Enrollment, Enrollment.participant_id == Participant.id)
        .where(Enrollment.group_id == group.id, Enrollment.discharged_on.is_(None))).all()
    people = [person for person, _ in rows]
    admitted = {person.id: day for person, day in rows}
    plans = progress_for(people, today)
    alerts = alerts_for(group.program, plans, today)
    out = []
    for person in people:
        progress = plans[person.id].progress
        week = seq.program_week(progress.stay, today) if progress else None
        counts = tuple(TrackCount(t.track, len(t.credits), len(t.credits) + len(t.missing))
                       for t in (progress.tracks if progress else ()) if t.required)
        out.append(MemberRow(
            participant=person, admitted_on=admitted[person.id], week=week, newest=week is not None and week <= 1,
            tracks=counts, completed_on=progress.group_completed_on if progress else None,
            projected=progress.projected_completion if progress else None, alerts=tuple(alerts.get(person.id, ()))))
    out.sort(key=lambda r: (not r.newest, r.participant.preferred_name.lower(), r.participant.id))
    return out


# --- Holidays (program-wide) and cancellations (one group) ----------------------------------------

HOLIDAY_HORIZON = timedelta(days=3 * 366)  # further ahead than this is a typing mistake


@dataclass(frozen=True)
class Move:
    """A module a cancellation or holiday moves: the meeting that no longer teaches it and the one that will."""

    group: str
    cancelled: seq.Meeting
    title: str
    taught: seq.Meeting | None  # None: not within the next 40 weeks
    policy: str  # postpone: the next meeting of the track teaches it; skip: it waits for its next turn


def calendars_with(groups: list[Group], until: date, *, holidays: Iterable[date] = (),
                   cancellations: dict[int, list[seq.Cancellation]] | None = None,
                   specs: dict[int, seq.GroupSpec] | None = None,
                   recorded: dict[int, list[seq.RecordedMeeting]] | None = None) -> dict[int, seq.Calendar]:
    """Like group_calendars, with what-if changes laid over the stored ones (extra holidays and
    cancellations, a new spec, extra recorded meetings); nothing is written."""
    if not groups:
        return {}
    ids = [g.id for g in groups]
    all_holidays = set(program_holidays(groups[0].program_id)) | set(holidays)
    stored_recorded = recorded_meetings(ids)
    stored_cancellations = group_cancellations(ids)
    out = {}
    for group in groups:
        out[group.id] = seq.build_calendar(
            (specs or {}).get(group.id) or group_spec(group), until, holidays=all_holidays,
            cancellations=[*stored_cancellations.get(group.id, ()), *(cancellations or {}).get(group.id, ())],
            policy=group.cancellation_policy,
            recorded=[*stored_recorded.get(group.id, ()), *(recorded or {}).get(group.id, ())])
    return out


def _moves(groups: list[Group], before: dict[int, seq.Calendar], after: dict[int, seq.Calendar]) -> list[Move]:
    """Meetings that take place before the change and are cancelled after it, with where their module goes."""
    out = []
    for group in groups:
        titles = titles_of(version_structure(group.version_id))
        held = {m.key for m in before[group.id].meetings if m.held}
        calendar = after[group.id]
        for m in calendar.meetings:
            if not m.held and m.key in held:
                out.append(Move(group.name, m, titles.get(m.module or "", ""), taught_instead(calendar, m),
                                group.cancellation_policy))
    return out


def _program_groups(program_id: int) -> list[Group]:
    return list(db.session.scalars(select(Group).where(Group.program_id == program_id, Group.active)
                                   .order_by(Group.name).options(selectinload(Group.slots))))


def upcoming_holidays(program_id: int, today: date) -> list[Holiday]:
    """The program's holidays from today on."""
    return list(db.session.scalars(select(Holiday).where(Holiday.program_id == program_id, Holiday.date >= today)
                                   .order_by(Holiday.date)))


def check_holiday(program_id: int, day: date, name: str, today: date) -> dict[str, str]:
    """What is wrong with a new program holiday (empty if nothing)."""
    problems = {}
    if not name.strip():
        problems["name"] = "Name the holiday, for example Thanksgiving."
    if day < today:
        problems["date"] = "Pick today or a later day: past meetings are already part of the record."
    elif day > today + HOLIDAY_HORIZON:
        problems["date"] = "Pick a day within the next three years."
    else:
        existing = db.session.scalar(select(Holiday.name).where(Holiday.program_id == program_id, Holiday.date == day))
        if existing is not None:
            problems["date"] = f"{day:%a %b %-d, %Y} is already a holiday ({existing})."
    return problems


def holiday_effect(program_id: int, day: date) -> list[Move]:
    """Which modules a new holiday on this day would move, in every active group of the program."""
    groups = _program_groups(program_id)
    until = day + LOOK_AHEAD
    return _moves(groups, calendars_with(groups, until), calendars_with(groups, until, holidays=[day]))


def add_holiday(program_id: int, day: date, name: str, user: User, today: date) -> Holiday:
    """Close the whole program on a day: every meeting that day is cancelled (directors only)."""
    if user.role != "director" or user.program_id != program_id:
        raise PermissionError("only the program's directors edit holidays")
    problems = check_holiday(program_id, day, name, today)
    if problems:
        raise GroupRefused(problems)
    holiday = Holiday(program_id=program_id, date=day, name=name.strip()[:80])
    db.session.add(holiday)
    db.session.flush()
    return holiday


def remove_holiday(program_id: int, holiday_id: int, user: User, today: date) -> Holiday | None:
    """Reopen a day that was a holiday (today or later; past holidays are part of the record)."""
    if user.role != "director" or user.program_id != program_id:
        raise PermissionError("only the program's directors edit holidays")
    holiday = db.session.get(Holiday, holiday_id)
    if holiday is None or holiday.program_id != program_id:
        return None
    if holiday.date < today:
        raise GroupRefused({"holiday": "A past holiday is part of the record and stays."})
    db.session.delete(holiday)
    db.session.flush()
    return holiday


def upcoming_cancellations(group_id: int, today: date) -> list[Cancellation]:
    """A group's cancellations from today on."""
    return list(db.session.scalars(select(Cancellation).where(Cancellation.group_id == group_id,
                                                              Cancellation.date >= today)
                                   .order_by(Cancellation.date, Cancellation.track_code)))


def _days_in_words(weekdays: Iterable[int]) -> str:
    names = [SLOT_DAY_NAMES[d] for d in sorted(set(weekdays))]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def check_cancellation(group: Group, day: date, track: str | None, reason: str, today: date) -> dict[str, str]:
    """What is wrong with cancelling this group's meetings on a day (empty if nothing)."""
    problems = {}
    if not reason.strip():
        problems["reason"] = "Say why, for example: staff training."
    structure = version_structure(group.version_id)
    if track is not None and track not in {t.code for t in slot_tracks(structure)}:
        problems["track"] = "Choose a track this group meets for, or all tracks."
        return problems
    if day < group.start_date:
        problems["date"] = f"The group starts on {group.start_date:%a %b %-d, %Y}; pick that day or a later one."
    elif group.end_date is not None and day > group.end_date:
        problems["date"] = f"The group ends on {group.end_date:%a %b %-d, %Y}; pick that day or an earlier one."
    elif day < today:
        problems["date"] = "That day has passed. Record a past meeting as cancelled on its meeting page."
    if problems.get("date"):
        return problems
    on_day = [s for s in group.slots if s.weekday == day.weekday()]
    if not on_day:
        problems["date"] = (f"The group does not meet on {day:%A}s. It meets on "
                            f"{_days_in_words(s.weekday for s in group.slots)}.")
        return problems
    if track is not None and not any(s.track_code == track for s in on_day):
        problems["track"] = f"The group has no {track} meeting on {day:%A}s."
        return problems
    holiday = db.session.scalar(select(Holiday.name).where(Holiday.program_id == group.program_id,
                                                           Holiday.date == day))
    if holiday is not None:
        problems["date"] = f"{day:%a %b %-d} is a program holiday ({holiday}): every meeting that day is cancelled."
        return problems
    existing = {row.track_code for row in db.session.scalars(
        select(Cancellation).where(Cancellation.group_id == group.id, Cancellation.date == day))}
    if None in existing or (track is not None and track in existing):
        what = "Every meeting" if None in existing else f"The {track} meeting"
        problems["date"] = f"{what} on {day:%a %b %-d} is already cancelled."
        return problems
    stored = db.session.execute(select(Meeting.track_code, Meeting.status).where(
        Meeting.group_id == group.id, Meeting.date == day)).all()
    for code, status in stored:
        if track is not None and code != track:
            continue
        if status == "held":
            problems["date"] = f"Attendance is already recorded for the {code} meeting on {day:%a %b %-d}."
        elif status == "cancelled":
            problems["date"] = f"The {code} meeting on {day:%a %b %-d} is already cancelled on its meeting page."
        else:
            problems["date"] = (f"The {code} meeting on {day:%a %b %-d} is already open; "
                                "cancel it on its meeting page.")
        return problems
    return problems


def _check_staff(user: User, group: Group) -> None:
    if not user.is_staff or user.program_id != group.program_id:
        raise PermissionError("only the program's staff cancel its meetings")


def cancellation_effect(group: Group, day: date, track: str | None) -> list[Move]:
    """Which modules cancelling this group's meetings on a day (one track or all) would move."""
    until = day + LOOK_AHEAD
    extra = {group.id: [seq.Cancellation(date=day, track=track)]}
    return _moves([group], calendars_with([group], until), calendars_with([group], until, cancellations=extra))


def add_cancellation(group: Group, day: date, track: str | None, reason: str, user: User,
                     today: date) -> Cancellation:
    """Cancel a group's meetings on a day ahead of time; under "postpone" each module moves to the
    next meeting of its track."""
    _check_staff(user, group)
    problems = check_cancellation(group, day, track, reason, today)
    if problems:
        raise GroupRefused(problems)
    row = Cancellation(group_id=group.id, date=day, track_code=track, reason=reason.strip()[:200],
                       created_by_id=user.id)
    db.session.add(row)
    db.session.flush()
    return row


def remove_cancellation(group: Group, cancellation_id: int, user: User, today: date) -> Cancellation | None:
    """Undo a cancellation decided ahead of time (today or later)."""
    _check_staff(user, group)
    row = db.session.get(Cancellation, cancellation_id)
    if row is None or row.group_id != group.id:
        return None
    if row.date < today:
        raise GroupRefused({"cancellation": "That day has passed; the cancellation is part of the record."})
    db.session.delete(row)
    db.session.flush()
    return row


# --- Creating and editing groups (directors) ------------------------------------------------------

NEW_GROUP_EARLIEST = timedelta(days=366)  # a new group may have started up to a year ago
NEW_GROUP_LATEST = timedelta(days=2 * 366)


@dataclass(frozen=True)
class GroupSettings:
    """What a director sets for a group, as plain data from the form."""

    name: str
    version_id: int
    mode: str
    start_date: date
    cancellation_policy: str
    facilitator_id: int | None
    slots: tuple[dom.PatternSlot, ...]
    start_modules: tuple[tuple[str, str], ...] = ()  # (track, module); open groups only


@dataclass(frozen=True)
class Change:
    """An upcoming meeting that the new settings change."""

    day: date
    time: str
    track: str
    before: str | None  # module code before; None: no meeting before
    after: str | None  # module code after; None: no meeting after
    before_status: str = "held"
    after_status: str = "held"


@dataclass(frozen=True)
class Preview:
    """The next weeks under new settings, what changes, and warnings that do not block saving."""

    rows: tuple[CalendarRow, ...]
    changes: tuple[Change, ...]
    warnings: tuple[str, ...]
    titles: dict[str, str]


def allowed_versions(program_id: int) -> list[CurriculumVersion]:
    """Published versions of the program's own curricula and of the shipped ones."""
    return list(db.session.scalars(
        select(CurriculumVersion).join(Curriculum, Curriculum.id == CurriculumVersion.curriculum_id)
        .where(CurriculumVersion.status == "published",
               (Curriculum.program_id == program_id) | Curriculum.program_id.is_(None))
        .order_by(Curriculum.program_id.is_(None), Curriculum.title, CurriculumVersion.number.desc())))


def program_staff(program_id: int) -> list[User]:
    """Active directors and facilitators of the program (who may lead a group)."""
    return list(db.session.scalars(select(User).where(
        User.program_id == program_id, User.role.in_(("director", "facilitator")), User.active)
        .order_by(User.display_name)))


def settings_of(group: Group) -> GroupSettings:
    """A stored group's settings, as the edit form starts from."""
    spec = group_spec(group)
    return GroupSettings(
        name=group.name, version_id=group.version_id, mode=group.mode, start_date=group.start_date,
        cancellation_policy=group.cancellation_policy, facilitator_id=group.facilitator_id, slots=spec.slots,
        start_modules=tuple(sorted(group.starting_modules.items())))


def _has_records(group: Group | None) -> bool:
    return group is not None and db.session.scalar(
        select(Meeting.id).where(Meeting.group_id == group.id).limit(1)) is not None


def check_settings(program_id: int, settings: GroupSettings, group: Group | None, today: date) -> dict[str, str]:
    """What is wrong with these settings (empty if nothing); keys name form fields ("slots-2-minutes")."""
    problems: dict[str, str] = {}
    name = settings.name.strip()
    if not name:
        problems["name"] = "Give the group a name, for example Evening IOP (Mon/Wed/Fri)."
    elif len(name) > 80:
        problems["name"] = "Keep the name under 80 characters."
    else:
        clash = db.session.scalar(select(Group.id).where(
            Group.program_id == program_id, func.lower(Group.name) == name.lower(),
            Group.id != (group.id if group else -1)))
        if clash is not None:
            problems["name"] = f"Another group of this program is already called {name}."
    versions = {v.id: v for v in allowed_versions(program_id)}
    recorded = _has_records(group)
    if group is not None and recorded and settings.version_id != group.version_id:
        problems["version"] = ("This group has recorded meetings, so it keeps its curriculum version and its "
                               "history stays true. Start a new group for the other version.")
        return problems
    if settings.version_id not in versions and not (group and settings.version_id == group.version_id):
        problems["version"] = "Choose a published curriculum version."
        return problems
    if settings.mode not in seq.MODES:
        problems["mode"] = "Choose open or cohort."
    if settings.cancellation_policy not in seq.POLICIES:
        problems["cancellation_policy"] = "Choose what happens to a cancelled meeting's module."
    problems.update(_check_start(settings, group, recorded, today))
    if settings.facilitator_id is not None and settings.facilitator_id not in {u.id for u in program_staff(program_id)}:
        problems["facilitator"] = "Choose a director or facilitator of this program."
    structure = version_structure(settings.version_id)
    problems.update(_check_slots(settings.slots, structure))
    if settings.mode == "open":
        for track, module in settings.start_modules:
            plans = {p.code: p for p in seq.track_plans(structure)}
            plan = plans.get(track)
            if plan is None or track not in {t.code for t in rotating_tracks(structure)}:
                problems[f"start_{track}"] = f"{track} is not a rotating track of this curriculum version."
            elif module not in plan.position:
                problems[f"start_{track}"] = (f"{module} is not a module of {track} "
                                              f"({plan.modules[0]} to {plan.modules[-1]}).")
    return problems


def _check_start(settings: GroupSettings, group: Group | None, recorded: bool, today: date) -> dict[str, str]:
    day = settings.start_date
    if group is not None and day != group.start_date and (recorded or group.start_date <= today):
        return {"start_date": f"This group started on {group.start_date:%b %-d, %Y}; its start date is part "
                              "of the record and stays."}
    if group is not None and day == group.start_date:
        return {}
    if day < today - NEW_GROUP_EARLIEST:
        return {"start_date": "A group cannot start more than a year ago."}
    if day > today + NEW_GROUP_LATEST:
        return {"start_date": "Pick a start date within the next two years."}
    if group is not None and group.end_date is not None and day > group.end_date:
        return {"start_date": f"The group ends on {group.end_date:%b %-d, %Y}; start before that."}
    return {}


def _check_slots(slots: tuple[dom.PatternSlot, ...], structure: dom.Curriculum) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not slots:
        return {"slots": "Add at least one meeting to the weekly pattern."}
    plans = {p.code: p for p in seq.track_plans(structure)}
    seen: dict[tuple[str, str, str], int] = {}
    for index, slot in enumerate(slots):
        plan = plans.get(slot.track)
        if plan is None:
            problems[f"slots-{index}-track"] = f"Choose a track of {structure.title}."
        elif not plan.scheduled:
            problems[f"slots-{index}-track"] = (f"{slot.track} sessions are booked one by one, not on the weekly "
                                                "pattern. Choose a group or family track.")
        if not 0 < slot.minutes <= MAX_SLOT_MINUTES:
            problems[f"slots-{index}-minutes"] = f"Enter between 1 and {MAX_SLOT_MINUTES} minutes."
        key = (slot.weekday, slot.time, slot.track)
        if key in seen:
            problems[f"slots-{index}-track"] = f"Meeting {seen[key] + 1} is already {slot.track} at this day and time."
        seen.setdefault(key, index)
    return problems


def pattern_warnings(settings: GroupSettings) -> list[str]:
    """What the pattern means for completion, said before saving (these do not block it)."""
    structure = version_structure(settings.version_id)
    out = []
    for plan in seq.track_plans(structure):
        if not plan.scheduled or not plan.modules:
            continue
        lengths = [s.minutes for s in settings.slots if s.track == plan.code]
        if not lengths and plan.required:
            out.append(f"No meeting for {plan.code}: members of this group cannot complete {plan.code}, "
                       "which is required.")
        elif lengths and min(lengths) < structure.credit_share * max(plan.module_minutes):
            need = structure.credit_share * max(plan.module_minutes)
            out.append(f"{plan.code} meetings of {min(lengths)} minutes are shorter than the {need:.0f} minutes some "
                       f"{plan.code} modules need for credit.")
    return out


def spec_of(settings: GroupSettings, group_id: str, end: date | None = None) -> seq.GroupSpec:
    """The sequencer's view of unsaved settings."""
    structure = version_structure(settings.version_id)
    return seq.GroupSpec(id=group_id, start=settings.start_date, slots=settings.slots,
                         tracks=seq.track_plans(structure),
                         start_modules=settings.start_modules if settings.mode == "open" else (),
                         mode=settings.mode, end=end)


def _starts(settings: GroupSettings) -> dict[str, str]:
    """The starting modules that differ from module 1 (module 1 is where every rotation starts anyway)."""
    if settings.mode != "open":
        return {}
    firsts = {p.code: p.modules[0] for p in seq.track_plans(version_structure(settings.version_id)) if p.modules}
    return {track: module for track, module in settings.start_modules if firsts.get(track) != module}


def _pattern_changed(group: Group, settings: GroupSettings) -> bool:
    before = settings_of(group)
    return (set(before.slots) != set(settings.slots) or before.mode != settings.mode
            or _starts(before) != _starts(settings))


def _frozen_past(group: Group, settings: GroupSettings, today: date) -> list[tuple[seq.RecordedMeeting, str]]:
    """Rows (with their cancel reason) that keep a running group's past as it stands when its pattern changes.

    The sequencer lays the pattern over the whole life of the group, so a new pattern would also
    re-plan the past: unrecorded meetings of the old pattern would vanish and days that only the
    new pattern has would appear as meetings everyone missed. Storing the old past meetings that
    were never recorded (as they were planned) and the new pattern's past days (as cancelled,
    "not on the weekly pattern at the time") leaves the past as it was; only the future is re-planned.
    """
    if group.start_date >= today or not _pattern_changed(group, settings):
        return []
    yesterday = today - timedelta(days=1)
    old = group_calendar(group, yesterday)
    why = {"holiday": "Holiday", "cancelled": "Cancelled ahead of time"}
    kept = [(seq.RecordedMeeting(m.date, m.time, m.track, "scheduled" if m.held else "cancelled",
                                 m.module if m.held else None, m.minutes), "" if m.held else why.get(m.reason, ""))
            for m in old.meetings if not m.recorded]
    new_spec = spec_of(settings, str(group.id), group.end_date)
    new = calendars_with([group], yesterday, specs={group.id: new_spec},
                         recorded={group.id: [r for r, _ in kept]})[group.id]
    kept += [(seq.RecordedMeeting(m.date, m.time, m.track, "cancelled", None, m.minutes), NOT_IN_PATTERN)
             for m in new.meetings if not m.recorded]
    return kept


def preview_settings(program_id: int, settings: GroupSettings, group: Group | None, today: date) -> Preview:
    """The next 4 weeks of meetings under the new settings and, for a stored group, what changes."""
    structure = version_structure(settings.version_id)
    titles = titles_of(structure)
    until = today + PREVIEW_AHEAD
    look = today + LOOK_AHEAD
    if group is None:
        holidays = program_holidays(program_id)
        after = seq.build_calendar(spec_of(settings, "new"), look, holidays=holidays,
                                   policy=settings.cancellation_policy)
        before = None
    else:
        frozen = [r for r, _ in _frozen_past(group, settings, today)]
        spec = spec_of(settings, str(group.id), group.end_date)
        # Built here, not with calendars_with: the new settings may change the cancellation policy.
        after = seq.build_calendar(spec, look, holidays=program_holidays(program_id),
                                   cancellations=group_cancellations([group.id]).get(group.id, ()),
                                   policy=settings.cancellation_policy,
                                   recorded=[*recorded_meetings([group.id]).get(group.id, ()), *frozen])
        before = group_calendar(group, look)
    window = [m for m in after.meetings if today <= m.date <= until]
    rows = []
    for m in window:
        reason = {"holiday": "Holiday", "cancelled": "Cancelled ahead of time"}.get(m.reason, "Cancelled")
        rows.append(CalendarRow(m, titles.get(m.module or "", ""), "coming" if m.held else "cancelled",
                                "" if m.held else reason, None if m.held else taught_instead(after, m),
                                settings.cancellation_policy))
    changes: list[Change] = []
    if before is not None:
        old = {(m.date, m.time, m.track): m for m in before.meetings if today <= m.date <= until}
        new = {(m.date, m.time, m.track): m for m in window}
        for key in sorted(set(old) | set(new)):
            a, b = old.get(key), new.get(key)
            if a is not None and b is not None and (a.module, a.status) == (b.module, b.status):
                continue
            changes.append(Change(key[0], key[1], key[2], a.module if a else None, b.module if b else None,
                                  a.status if a else "", b.status if b else ""))
    return Preview(tuple(rows), tuple(changes), tuple(pattern_warnings(settings)), titles)


def _slot_key(slot: dom.PatternSlot) -> tuple[int, time, str]:
    return (WEEKDAYS.index(slot.weekday), time.fromisoformat(slot.time), slot.track)


def save_group(program_id: int, settings: GroupSettings, user: User, today: date,
               group: Group | None = None) -> Group:
    """Create a group or change one (directors only). Recorded meetings stay as they are; a changed
    pattern re-plans only the future."""
    if user.role != "director" or user.program_id != program_id:
        raise PermissionError("only the program's directors create and edit groups")
    if group is not None and group.program_id != program_id:
        raise PermissionError("not a group of this program")
    problems = check_settings(program_id, settings, group, today)
    if problems:
        raise GroupRefused(problems)
    frozen = _frozen_past(group, settings, today) if group is not None else []
    if group is None:
        group = Group(program_id=program_id)
        db.session.add(group)
    group.name = settings.name.strip()
    group.version_id = settings.version_id
    group.mode = settings.mode
    group.start_date = settings.start_date
    group.cancellation_policy = settings.cancellation_policy
    group.facilitator_id = settings.facilitator_id
    group.starting_modules = _starts(settings)
    _replace_slots(group, settings.slots)
    db.session.flush()
    _store_frozen(group, frozen)
    return group


def _replace_slots(group: Group, slots: tuple[dom.PatternSlot, ...]) -> None:
    """Keep the slots that stay (new minutes), drop the others first, then add the new ones (the
    unique key of a slot would clash if an identical row were inserted before the old one is deleted)."""
    wanted = {_slot_key(s): s for s in slots}
    current = {(s.weekday, s.start_time, s.track_code): s for s in group.slots} if group.id else {}
    for key, row in current.items():
        if key not in wanted:
            group.slots.remove(row)
    if group.id:
        db.session.flush()
    for key, slot in wanted.items():
        if key in current:
            current[key].minutes = slot.minutes
        else:
            group.slots.append(Slot(weekday=key[0], start_time=key[1], track_code=key[2], minutes=slot.minutes))


def module_ids(version_id: int) -> dict[str, int]:
    """Module code -> id, for one version."""
    return dict(db.session.execute(select(Module.code, Module.id).where(Module.version_id == version_id)).all())


def _store_frozen(group: Group, rows: list[tuple[seq.RecordedMeeting, str]]) -> None:
    if not rows:
        return
    ids = module_ids(group.version_id)
    for r, reason in rows:
        db.session.add(Meeting(
            group_id=group.id, date=r.date, start_time=time.fromisoformat(r.time), track_code=r.track,
            minutes=r.minutes or 1, status=r.status, module_id=ids.get(r.module) if r.module else None,
            cancel_reason=reason))
    db.session.flush()
