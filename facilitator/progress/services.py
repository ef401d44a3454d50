"""Progress from stored rows: attendance and explicit credits, through the sequencer, for one
participant or a whole roster in a fixed number of queries. Nothing here is stored: completion is
derived every time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..attendance.models import Attendance
from ..curricula.models import Module
from ..domain import sequencer as seq
from ..extensions import db
from ..groups.models import Group, Meeting
from ..groups.services import group_calendars, version_structure
from ..participants.models import Enrollment, Participant
from ..programs.models import AttendanceStatus, Program
from .models import Credit, MakeUp

HORIZON = timedelta(weeks=20)  # how far ahead calendars are laid out for "coming on" dates


@dataclass(frozen=True)
class ParticipantProgress:
    """A participant's stay, group and derived progress as of a date."""

    participant: Participant
    enrollments: tuple[Enrollment, ...]
    current: Enrollment | None  # the open enrollment, if any
    group: Group | None  # the group of the latest enrollment
    progress: seq.Progress | None  # None when the participant was never admitted
    calendar: seq.Calendar | None


def stay_of(enrollments: Iterable[Enrollment]) -> seq.Stay | None:
    """One stay across transfers: the first admission to the last discharge (open if any is open)."""
    rows = sorted(enrollments, key=lambda e: e.admitted_on)
    if not rows:
        return None
    open_now = any(e.discharged_on is None for e in rows)
    return seq.Stay(admitted=rows[0].admitted_on, discharged=None if open_now else max(e.discharged_on for e in rows))


def rules_for(program: Program, credit_share: float) -> seq.Rules:
    """The program's settings as the sequencer's rules."""
    return seq.Rules(credit_share=credit_share, hours_floor=program.hours_floor_minutes / 60)


def _attendance_rows(participant_ids: list[int]) -> dict[int, list[seq.Attendance]]:
    """Every attendance row of these participants as sequencer input, in one query."""
    rows = db.session.execute(
        select(Attendance.participant_id, Attendance.minutes, AttendanceStatus.counts_attended, Meeting.group_id,
               Meeting.date, Meeting.start_time, Meeting.track_code, Meeting.minutes, Meeting.status, Module.code)
        .join(Meeting, Meeting.id == Attendance.meeting_id)
        .join(AttendanceStatus, AttendanceStatus.id == Attendance.status_id)
        .outerjoin(Module, Module.id == Meeting.module_id)
        .where(Attendance.participant_id.in_(participant_ids))
    ).all()
    out: dict[int, list[seq.Attendance]] = {}
    for pid, minutes, attended, group_id, day, start, track, length, status, module in rows:
        meeting = seq.Meeting(group=str(group_id), date=day, time=start.strftime("%H:%M"), track=track,
                              minutes=length, module=module, status=status, recorded=True)
        out.setdefault(pid, []).append(seq.Attendance(meeting=meeting, attended=attended, minutes=minutes))
    return out


def _explicit_credits(participant_ids: list[int]) -> dict[int, list[seq.ExplicitCredit]]:
    """Make-up, override and individual-session credits (not revoked), in one query."""
    rows = db.session.execute(
        select(Credit.participant_id, Module.code, Credit.credited_on, Credit.source, Credit.reason)
        .join(Module, Module.id == Credit.module_id)
        .where(Credit.participant_id.in_(participant_ids), Credit.revoked_at.is_(None))
    ).all()
    out: dict[int, list[seq.ExplicitCredit]] = {}
    for pid, code, day, source, reason in rows:
        # An individual session (IC, RA) is credited like a make-up: explicitly, with a date.
        out.setdefault(pid, []).append(seq.ExplicitCredit(
            module=code, date=day, source="make-up" if source == "individual" else source, reason=reason))
    return out


def progress_for(participants: list[Participant], as_of: date) -> dict[int, ParticipantProgress]:
    """Progress of several participants of one program as of a date, in a fixed number of queries."""
    if not participants:
        return {}
    ids = [p.id for p in participants]
    enrollments: dict[int, list[Enrollment]] = {}
    for row in db.session.scalars(select(Enrollment).where(Enrollment.participant_id.in_(ids))
                                  .order_by(Enrollment.admitted_on, Enrollment.id)):
        enrollments.setdefault(row.participant_id, []).append(row)
    group_ids = {rows[-1].group_id for rows in enrollments.values()}
    groups = {g.id: g for g in db.session.scalars(
        select(Group).where(Group.id.in_(group_ids)).options(selectinload(Group.slots)))}
    calendars = group_calendars(list(groups.values()), as_of + HORIZON)
    program = db.session.get(Program, participants[0].program_id)
    attendance = _attendance_rows(ids)
    credits = _explicit_credits(ids)
    out = {}
    for person in participants:
        rows = tuple(enrollments.get(person.id, ()))
        stay = stay_of(rows)
        group = groups[rows[-1].group_id] if rows else None
        calendar = calendars.get(group.id) if group else None
        progress = None
        if stay is not None and calendar is not None:
            share = version_structure(group.version_id).credit_share
            progress = seq.participant_progress(stay, calendar, attendance.get(person.id, ()),
                                                credits.get(person.id, ()), as_of=as_of,
                                                rules=rules_for(program, share))
        current = next((e for e in rows if e.discharged_on is None), None)
        out[person.id] = ParticipantProgress(person, rows, current, group, progress, calendar)
    return out


def planned_makeups(participant_ids: list[int]) -> dict[int, list[MakeUp]]:
    """Open make-up plans per participant, in one query."""
    out: dict[int, list[MakeUp]] = {}
    for row in db.session.scalars(select(MakeUp).where(MakeUp.participant_id.in_(participant_ids),
                                                       MakeUp.status == "planned").options(selectinload(MakeUp.module))):
        out.setdefault(row.participant_id, []).append(row)
    return out
