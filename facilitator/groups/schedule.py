"""Program holidays and a group's cancellations decided ahead of time: checking them, showing which
modules they would move (what-if calendars, nothing written), adding and removing them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..auth.models import User
from ..domain import sequencer as seq
from ..extensions import db
from ..programs.models import Holiday
from ..web.i18n import format_when
from .calendars import group_cancellations, group_spec, program_holidays, recorded_meetings, version_structure
from .models import Cancellation, Group, Meeting
from .services import LOOK_AHEAD, GroupRefused, slot_tracks, taught_instead, titles_of, weekday_short

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


def holiday_rows(program_id: int) -> list[Holiday]:
    """Every holiday of the program, by date (one query)."""
    return list(db.session.scalars(select(Holiday).where(Holiday.program_id == program_id).order_by(Holiday.date)))


def upcoming_holidays(program_id: int, today: date) -> list[Holiday]:
    """The program's holidays from today on."""
    return list(db.session.scalars(select(Holiday).where(Holiday.program_id == program_id, Holiday.date >= today)
                                   .order_by(Holiday.date)))


def check_holiday(program_id: int, day: date, name: str, today: date) -> dict[str, str]:
    """What is wrong with a new program holiday (empty if nothing)."""
    problems = {}
    if not name.strip():
        problems["name"] = _("Name the holiday, for example Thanksgiving.")
    if day < today:
        problems["date"] = _("Pick today or a later day: past meetings are already part of the record.")
    elif day > today + HOLIDAY_HORIZON:
        problems["date"] = _("Pick a day within the next three years.")
    else:
        existing = db.session.scalar(select(Holiday.name).where(Holiday.program_id == program_id, Holiday.date == day))
        if existing is not None:
            problems["date"] = _("%(day)s is already a holiday (%(name)s).", day=format_when(day, "day_year"), name=existing)
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


def cancellation_rows(group_id: int) -> list[Cancellation]:
    """Every cancellation of a group, in the order the page lists them (one query)."""
    return list(db.session.scalars(select(Cancellation).where(Cancellation.group_id == group_id)
                                   .order_by(Cancellation.date, Cancellation.track_code)))


def upcoming_cancellations(group_id: int, today: date) -> list[Cancellation]:
    """A group's cancellations from today on."""
    return list(db.session.scalars(select(Cancellation).where(Cancellation.group_id == group_id,
                                                              Cancellation.date >= today)
                                   .order_by(Cancellation.date, Cancellation.track_code)))


def _days_in_words(weekdays: Iterable[int]) -> str:
    names = [weekday_short(d) for d in sorted(set(weekdays))]
    return names[0] if len(names) == 1 else _("%(days)s and %(last)s", days=", ".join(names[:-1]), last=names[-1])


def _weekday_plural(day: date) -> str:
    """ "Mondays": every such weekday, in the current language."""
    return (_("Mondays"), _("Tuesdays"), _("Wednesdays"), _("Thursdays"), _("Fridays"), _("Saturdays"),
            _("Sundays"))[day.weekday()]


def check_cancellation(group: Group, day: date, track: str | None, reason: str, today: date) -> dict[str, str]:
    """What is wrong with cancelling this group's meetings on a day (empty if nothing)."""
    problems = {}
    if not reason.strip():
        problems["reason"] = _("Say why, for example: staff training.")
    structure = version_structure(group.version_id)
    if track is not None and track not in {t.code for t in slot_tracks(structure)}:
        problems["track"] = _("Choose a track this group meets for, or all tracks.")
        return problems
    if day < group.start_date:
        problems["date"] = _("The group starts on %(day)s; pick that day or a later one.",
                             day=format_when(group.start_date, "day_year"))
    elif group.end_date is not None and day > group.end_date:
        problems["date"] = _("The group ends on %(day)s; pick that day or an earlier one.",
                             day=format_when(group.end_date, "day_year"))
    elif day < today:
        problems["date"] = _("That day has passed. Record a past meeting as cancelled on its meeting page.")
    if problems.get("date"):
        return problems
    on_day = [s for s in group.slots if s.weekday == day.weekday()]
    if not on_day:
        problems["date"] = _("The group does not meet on %(weekdays)s. It meets on %(days)s.",
                             weekdays=_weekday_plural(day), days=_days_in_words(s.weekday for s in group.slots))
        return problems
    if track is not None and not any(s.track_code == track for s in on_day):
        problems["track"] = _("The group has no %(track)s meeting on %(weekdays)s.", track=track,
                              weekdays=_weekday_plural(day))
        return problems
    holiday = db.session.scalar(select(Holiday.name).where(Holiday.program_id == group.program_id,
                                                           Holiday.date == day))
    if holiday is not None:
        problems["date"] = _("%(day)s is a program holiday (%(name)s): every meeting that day is cancelled.",
                             day=format_when(day, "day"), name=holiday)
        return problems
    existing = {row.track_code for row in db.session.scalars(
        select(Cancellation).where(Cancellation.group_id == group.id, Cancellation.date == day))}
    if None in existing or (track is not None and track in existing):
        when = format_when(day, "day")
        problems["date"] = (_("Every meeting on %(day)s is already cancelled.", day=when) if None in existing
                            else _("The %(track)s meeting on %(day)s is already cancelled.", track=track, day=when))
        return problems
    stored = db.session.execute(select(Meeting.track_code, Meeting.status).where(
        Meeting.group_id == group.id, Meeting.date == day)).all()
    for code, status in stored:
        if track is not None and code != track:
            continue
        if status == "held":
            problems["date"] = _("Attendance is already recorded for the %(track)s meeting on %(day)s.", track=code,
                                  day=format_when(day, "day"))
        elif status == "cancelled":
            problems["date"] = _("The %(track)s meeting on %(day)s is already cancelled on its meeting page.",
                                  track=code, day=format_when(day, "day"))
        else:
            problems["date"] = _("The %(track)s meeting on %(day)s is already open; cancel it on its meeting page.",
                                 track=code, day=format_when(day, "day"))
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
        raise GroupRefused({"cancellation": _("That day has passed; the cancellation is part of the record.")})
    db.session.delete(row)
    db.session.flush()
    return row
