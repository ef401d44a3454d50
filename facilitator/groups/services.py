"""The group screens' services: the groups list, the group page (calendar week by week, roster) and
the small helpers the other group modules share (the refusal error, clock times, patterns in words)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..alerts.services import alerts_for
from ..auth.models import User
from ..curricula.models import Module, Track
from ..domain import curriculum as dom
from ..domain import sequencer as seq
from ..domain.curriculum import WEEKDAYS
from ..extensions import db
from ..participants.models import Enrollment, Participant
from ..programs.models import Holiday
from ..progress.services import progress_for
from ..web.i18n import current_language, format_clock, format_when
from .calendars import group_calendar, group_calendars, group_spec, version_structure
from .models import Cancellation, Group, Meeting

PAGE_PAST = timedelta(weeks=4)  # the group page shows the past 4 weeks...
PAGE_AHEAD = timedelta(weeks=8)  # ...and the next 8
PREVIEW_AHEAD = timedelta(weeks=4)  # the edit form previews the next 4 weeks
LOOK_AHEAD = timedelta(weeks=40)  # far enough to find where a postponed or skipped module is taught
# A past meeting the new weekly pattern would have had, stored as cancelled so that a pattern change
# re-plans only the future (see editing._frozen_past); the group page does not list these.
NOT_IN_PATTERN = "Not on the weekly pattern at the time"
SLOT_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class GroupRefused(ValueError):
    """The service refuses the input; `problems` maps a form field name to a plain message."""

    def __init__(self, problems: dict[str, str]):
        super().__init__("; ".join(problems.values()))
        self.problems = problems


def clock(hhmm: str) -> str:
    """ "17:30" -> "5:30 PM" ("5:30 p.m." in Spanish)."""
    return format_clock(hhmm)


def weekday_short(index: int) -> str:
    """A weekday (0 = Monday) as people read it, short: "Mon" ("lun" in Spanish)."""
    return format_when(date(2024, 1, 1) + timedelta(days=index), "weekday_short")


def pattern_words(slots: Iterable[dom.PatternSlot]) -> str:
    """A weekly pattern in words: "Mon 5:30 PM ERS 50 min, Mon 6:30 PM RP 90 min, ..."."""
    ordered = sorted(slots, key=lambda s: (WEEKDAYS.index(s.weekday), s.time, s.track))
    return ", ".join(_("%(day)s %(time)s %(track)s %(minutes)s min", day=weekday_short(WEEKDAYS.index(s.weekday)),
                       time=format_clock(s.time), track=s.track, minutes=s.minutes)
                     for s in ordered) or _("No weekly pattern yet")


def titles_of(structure: dom.Curriculum) -> dict[str, str]:
    """Module code -> title, for one version."""
    return {m.code: m.title for t in structure.tracks for m in t.modules}


def shown_track_names(structure: dom.Curriculum, version_id: int) -> dict[str, str]:
    """Track code -> name as the page shows it: in the current language where the track has a name
    there (one query, only in a language other than English), else as the curriculum has it."""
    names = {t.code: t.name for t in structure.tracks}
    language = current_language()
    if language == "en":
        return names
    for code, translations in db.session.execute(
            select(Track.code, Track.translations).where(Track.version_id == version_id)).all():
        name = ((translations or {}).get(language) or {}).get("name")
        if name:
            names[code] = name
    return names


def shown_titles(structure: dom.Curriculum, version_id: int) -> dict[str, str]:
    """Module code -> title as the page shows it: in the current language where a module has a reviewed
    twin there (one query, only in a language other than English), else as the curriculum has it."""
    titles = titles_of(structure)
    language = current_language()
    if language == "en":
        return titles
    for code, translations in db.session.execute(
            select(Module.code, Module.translations).where(Module.version_id == version_id)).all():
        twin = (translations or {}).get(language)
        if twin and twin.get("title") and not twin.get("needs_review"):
            titles[code] = twin["title"]
    return titles


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


def calendar_weeks(group: Group, today: date, calendar: seq.Calendar | None = None,
                   holidays: Iterable[Holiday] | None = None,
                   cancellations: Iterable[Cancellation] | None = None) -> list[CalendarWeek]:
    """The past 4 and next 8 weeks of a group's meetings, week by week, in a fixed number of queries.
    A caller that holds the group's calendar through today + LOOK_AHEAD, the program's holidays or the
    group's cancellations passes them, and they are not read again."""
    structure = version_structure(group.version_id)
    first = today - PAGE_PAST
    first -= timedelta(days=first.weekday())
    last = today + PAGE_AHEAD
    calendar = calendar if calendar is not None else group_calendar(group, today + LOOK_AHEAD)
    holidays = {h.date: h.name for h in holidays} if holidays is not None else _holiday_names(group.program_id)
    reasons = ({(c.date, c.track_code): c.reason for c in cancellations} if cancellations is not None
               else _cancellation_reasons(group.id))
    stored = _stored_rows(group.id, first, last)
    titles = shown_titles(structure, group.version_id)
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
                reason = _("Holiday: %(name)s", name=holidays.get(m.date) or _("program closed"))
            elif m.reason == "cancelled":
                reason = reasons.get((m.date, m.track)) or reasons.get((m.date, None)) or _("Cancelled ahead of time")
            else:
                reason = stored_reason or _("Cancelled")
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


def group_roster(group: Group, today: date, calendar: seq.Calendar | None = None) -> list[MemberRow]:
    """The group's active members with program week, progress per required track, projection and
    alerts, newest first, in a fixed number of queries whatever the roster size. `calendar`: the
    group's calendar through today + progress.services.HORIZON, if the caller holds it."""
    rows = db.session.execute(
        select(Participant, Enrollment.admitted_on).join(Enrollment, Enrollment.participant_id == Participant.id)
        .where(Enrollment.group_id == group.id, Enrollment.discharged_on.is_(None))).all()
    people = [person for person, _ in rows]
    admitted = {person.id: day for person, day in rows}
    plans = progress_for(people, today, groups=[group], calendars={group.id: calendar} if calendar is not None else None)
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

