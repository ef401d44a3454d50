"""The read-only JSON API's payloads: plain dicts built from the progress, groups and meetings services.

Dates are ISO strings ("2027-01-05"), times "HH:MM", durations whole minutes. Nothing here writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..curricula.models import Module
from ..domain import sequencer as seq
from ..extensions import db
from ..groups.calendars import group_calendar, group_calendars, version_structure
from ..groups.models import Group, Meeting
from ..meetings.services import RosterEntry
from ..participants.models import Enrollment
from ..programs.models import Program
from ..progress.models import MakeUp
from ..progress.services import HORIZON, ParticipantProgress

MAX_RANGE_DAYS = 366  # "at most a year" of meetings in one answer, leap years included
DEFAULT_RANGE_DAYS = 27  # four weeks, today included
YEARS_AROUND_TODAY = 10  # a calendar is laid out from the group's start: keep it to dates that can matter
SUGGESTED_MEETINGS = 3


class BadParameter(ValueError):
    """A query or path parameter that cannot be used; the message names it."""

    def __init__(self, parameter: str, message: str):
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def parse_day(parameter: str, raw: str | None, default: date | None = None) -> date:
    """A YYYY-MM-DD parameter (or the default when it is absent)."""
    if raw is None or raw == "":
        if default is None:
            raise BadParameter(parameter, "is required (YYYY-MM-DD)")
        return default
    try:
        return date.fromisoformat(raw) if len(raw) == 10 else _bad_day(parameter, raw)
    except ValueError:
        return _bad_day(parameter, raw)


def _bad_day(parameter: str, raw: str) -> date:
    raise BadParameter(parameter, f"not a date (YYYY-MM-DD): {raw[:40]!r}")


def near_today(parameter: str, day: date, today: date) -> date:
    """Refuse dates far from today: a calendar is laid out from the group's start up to the date."""
    if abs((day - today).days) > 365 * YEARS_AROUND_TODAY:
        raise BadParameter(parameter, f"must be within {YEARS_AROUND_TODAY} years of today ({today.isoformat()})")
    return day


def parse_range(args: Mapping[str, str], today: date) -> tuple[date, date]:
    """The from/to query parameters: both inclusive, at most a year apart, within ten years of today."""
    start = parse_day("from", args.get("from"), today)
    end = parse_day("to", args.get("to"), start + timedelta(days=DEFAULT_RANGE_DAYS))
    near_today("from", start, today)
    near_today("to", end, today)
    if end < start:
        raise BadParameter("to", f"{end.isoformat()} is before from {start.isoformat()}")
    if (end - start).days >= MAX_RANGE_DAYS:
        raise BadParameter("to", f"the range is {(end - start).days + 1} days; ask for at most {MAX_RANGE_DAYS}")
    return start, end


def parse_time(raw: str) -> str:
    """An HHMM path segment as the calendar's "HH:MM"."""
    if len(raw) != 4 or not raw.isdigit() or int(raw[:2]) > 23 or int(raw[2:]) > 59:
        raise BadParameter("time", f"not a time (HHMM, e.g. 1830): {raw[:10]!r}")
    return f"{raw[:2]}:{raw[2:]}"


def _titles(version_ids: set[int]) -> dict[str, str]:
    """Module code -> title for the versions (one query)."""
    if not version_ids:
        return {}
    return dict(db.session.execute(select(Module.code, Module.title).where(Module.version_id.in_(version_ids))).all())


def _credit(credit: seq.Credit, titles: Mapping[str, str], scheduled: bool) -> dict[str, Any]:
    meeting = credit.meeting
    # Progress passes an individual session (IC, RA) to the sequencer as a make-up; on a track with
    # no group meetings an explicit credit can only be one, so it is named for what it was.
    source = "individual" if credit.source == "make-up" and not scheduled else credit.source
    return {
        "module": credit.module, "title": titles.get(credit.module, ""), "date": _iso(credit.date),
        "source": source,
        "meeting": {"group_id": int(meeting.group), "date": _iso(meeting.date), "time": meeting.time}
        if meeting is not None else None,
        "reason": credit.reason or None,
    }


def progress_payload(plan: ParticipantProgress, today: date) -> dict[str, Any]:
    """A participant's progress: tracks (credits, missing, missed, dates), weekly minutes, completion."""
    person, progress, group = plan.participant, plan.progress, plan.group
    out: dict[str, Any] = {
        "participant": {"id": person.id, "preferred_name": person.preferred_name, "initials": person.initials},
        "as_of": today.isoformat(),
        "group": {"id": group.id, "name": group.name} if group else None,
        "stay": None, "program_week": None, "tracks": [], "weeks": [],
        "completed_on": None, "group_completed_on": None, "projected_completion": None,
        "hours_floor_minutes": db.session.get(Program, person.program_id).hours_floor_minutes,
    }
    if progress is None or group is None:
        return out
    structure = version_structure(group.version_id)
    titles = _titles({group.version_id})
    names = {t.code: t.name for t in structure.tracks}
    out.update({
        "stay": {"admitted": _iso(progress.stay.admitted), "discharged": _iso(progress.stay.discharged)},
        "program_week": seq.program_week(progress.stay, today) if plan.current is not None else None,
        "tracks": [{
            "track": t.track, "name": names.get(t.track, t.track), "required": t.required, "scheduled": t.scheduled,
            "credited": [_credit(c, titles, t.scheduled) for c in t.credits],
            "missing": list(t.missing), "missed": list(t.missed),
            "completed_on": _iso(t.completed_on), "projected_completion": _iso(t.projected_completion),
        } for t in progress.tracks],
        "weeks": [{
            "week": w.week, "monday": _iso(w.monday), "expected_minutes": w.expected, "attended_minutes": w.attended,
            "whole": w.whole, "under_floor": w.under_floor,
        } for w in progress.weeks],
        "completed_on": _iso(progress.completed_on),
        "group_completed_on": _iso(progress.group_completed_on),
        "projected_completion": _iso(progress.projected_completion),
    })
    return out


def program_groups(program_id: int) -> list[Group]:
    """The program's active groups with their weekly patterns (two queries)."""
    return list(db.session.scalars(select(Group).where(Group.program_id == program_id, Group.active)
                                   .options(selectinload(Group.slots)).order_by(Group.name)))


def plan_payload(plan: ParticipantProgress, today: date) -> dict[str, Any]:
    """Make-up suggestions (next meetings of any group that deliver each missing module) and planned make-ups."""
    person, progress = plan.participant, plan.progress
    groups = program_groups(person.program_id)
    names = {g.id: g.name for g in groups}
    makeups = list(db.session.scalars(select(MakeUp).where(MakeUp.participant_id == person.id, MakeUp.status == "planned")
                                      .options(selectinload(MakeUp.module)).order_by(MakeUp.planned_on, MakeUp.id)))
    titles = _titles({g.version_id for g in groups} | ({plan.group.version_id} if plan.group else set()))
    suggestions = []
    if progress is not None and plan.current is not None:
        calendars = group_calendars(groups, today + HORIZON)
        track_of = {code: t.track for t in progress.tracks for code in t.missing}
        for s in seq.makeup_suggestions(progress, seq.Deliveries(calendars.values()), SUGGESTED_MEETINGS):
            suggestions.append({
                "module": s.module, "title": titles.get(s.module, ""), "track": track_of.get(s.module),
                "missed": s.missed, "individual": s.individual,
                "meetings": [{"group_id": int(m.group), "group": names.get(int(m.group), ""), "date": _iso(m.date),
                              "time": m.time, "track": m.track} for m in s.meetings],
            })
    return {
        "participant": {"id": person.id, "preferred_name": person.preferred_name, "initials": person.initials},
        "as_of": today.isoformat(),
        "suggestions": suggestions,
        "planned_makeups": [{
            "id": m.id, "module": m.module.code, "title": m.module.title, "method": m.method,
            "group_id": m.meeting_group_id, "planned_on": _iso(m.planned_on), "note": m.note,
        } for m in makeups],
    }


def attends(participant_id: int, group_id: int) -> bool:
    """True if the participant has (or had) a stay in the group."""
    return db.session.scalar(select(Enrollment.id).where(
        Enrollment.participant_id == participant_id, Enrollment.group_id == group_id).limit(1)) is not None


def calendar_payload(group: Group, start: date, end: date) -> dict[str, Any]:
    """The group's meetings from start to end: date, time, track, module, minutes and status."""
    calendar = group_calendar(group, end)
    stored = {(d, t.strftime("%H:%M"), track): status for d, t, track, status in db.session.execute(
        select(Meeting.date, Meeting.start_time, Meeting.track_code, Meeting.status)
        .where(Meeting.group_id == group.id, Meeting.date >= start, Meeting.date <= end))}
    titles = _titles({group.version_id})
    meetings = []
    for m in calendar.meetings:
        if not start <= m.date <= end:
            continue
        status = meeting_status(m, stored.get((m.date, m.time, m.track)))
        meetings.append({
            "date": _iso(m.date), "time": m.time, "track": m.track, "module": m.module,
            "title": titles.get(m.module or "", ""), "minutes": m.minutes, "status": status,
            "reason": ("holiday" if m.reason == "holiday" else "cancelled") if status == "cancelled" else None,
        })
    return {"group": {"id": group.id, "name": group.name}, "from": start.isoformat(), "to": end.isoformat(),
            "meetings": meetings}


def meeting_status(planned: seq.Meeting, stored_status: str | None) -> str:
    """held (attendance recorded), cancelled, or scheduled (still to come, or not yet recorded)."""
    if planned.status == "cancelled":
        return "cancelled"
    return "held" if stored_status == "held" else "scheduled"


def roster_payload(group: Group, planned: seq.Meeting, row: Meeting | None, entries: list[RosterEntry]) -> dict[str, Any]:
    """Who is expected at a meeting: preferred name, initials, program week, and whether the module is a repeat."""
    titles = _titles({group.version_id})
    return {
        "group": {"id": group.id, "name": group.name},
        "meeting": {"date": _iso(planned.date), "time": planned.time, "track": planned.track,
                    "module": planned.module, "title": titles.get(planned.module or "", ""),
                    "minutes": planned.minutes, "status": meeting_status(planned, row.status if row else None)},
        "expected": [{
            "participant_id": e.participant.id, "preferred_name": e.participant.preferred_name,
            "initials": e.participant.initials, "program_week": e.program_week, "first_week": e.newest,
            "repeat": e.credited_here,
        } for e in entries],
    }
