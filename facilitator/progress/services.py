"""Progress from stored rows: attendance and explicit credits, through the sequencer, for one
participant or a whole roster in a fixed number of queries. Nothing here is stored: completion is
derived every time.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, cast, func, select, update
from sqlalchemy.orm import selectinload

from .. import data_revision
from ..attendance.models import Attendance
from ..auth.models import User
from ..curricula.models import Module
from ..domain import sequencer as seq
from ..extensions import db
from ..groups.calendars import calendar_token, group_calendars, version_structure
from ..groups.models import Group, Meeting
from ..models_base import utcnow
from ..participants.models import Enrollment, Participant
from ..programs.models import AttendanceStatus, Program
from ..web.i18n import format_when
from .models import MAKEUP_METHODS, Credit, MakeUp

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
    """One stay across transfers: the first admission to the last discharge (open if any is open),
    and when they joined the latest group if a transfer brought them there."""
    rows = sorted(enrollments, key=lambda e: e.admitted_on)
    if not rows:
        return None
    open_now = any(e.discharged_on is None for e in rows)
    joined = rows[-1].admitted_on
    for row in reversed(rows):  # back through the latest group's own enrollments (a re-admission)
        if row.group_id != rows[-1].group_id:
            break
        joined = row.admitted_on
    return seq.Stay(admitted=rows[0].admitted_on, discharged=None if open_now else max(e.discharged_on for e in rows),
                    joined=joined if joined > rows[0].admitted_on else None)


def rules_for(program: Program, credit_share: float, as_of: date) -> seq.Rules:
    """The program's settings as the sequencer's rules; meetings of as_of not yet recorded are pending."""
    return seq.Rules(credit_share=credit_share, hours_floor=program.hours_floor_minutes / 60, pending_from=as_of)


def _attendance_rows(participant_ids: list[int]) -> dict[int, tuple[tuple, ...]]:
    """Every attendance row of these participants as plain tuples (one order), in three queries.

    The rows come as integers only and the meetings they point at once each (SQLite turns every
    date and time column into Python objects row by row: a year of a roster's attendance repeats
    each meeting's date dozens of times)."""
    rows = db.session.execute(
        select(Attendance.participant_id, Attendance.meeting_id, Attendance.minutes, Attendance.status_id)
        .where(Attendance.participant_id.in_(participant_ids))
        .order_by(Attendance.participant_id, Attendance.meeting_id)  # one order for the cache keys
    ).all()
    if not rows:
        return {}
    meetings = {mid: rest for mid, *rest in db.session.execute(
        select(Meeting.id, Meeting.group_id, Meeting.date, Meeting.start_time, Meeting.track_code, Meeting.minutes,
               Meeting.status, Module.code)
        .outerjoin(Module, Module.id == Meeting.module_id)
        .where(Meeting.id.in_(select(Attendance.meeting_id).where(Attendance.participant_id.in_(participant_ids))))
    )}
    statuses = {sid: (attended, hours) for sid, attended, hours in db.session.execute(
        select(AttendanceStatus.id, AttendanceStatus.counts_attended, AttendanceStatus.counts_hours)
        .where(AttendanceStatus.id.in_(list({row[3] for row in rows}))))}
    out: dict[int, list[tuple]] = {}
    for pid, meeting_id, minutes, status_id in rows:
        found = out.get(pid)
        if found is None:
            found = out[pid] = []
        found.append((minutes, *statuses[status_id], *meetings[meeting_id]))
    return {pid: tuple(found) for pid, found in out.items()}


def _as_attendance(rows: Iterable[tuple]) -> list[seq.Attendance]:
    """Attendance tuples as the sequencer's input."""
    out = []
    for minutes, attended, hours, group_id, day, start, track, length, status, module in rows:
        meeting = seq.Meeting(group=str(group_id), date=day, time=f"{start.hour:02d}:{start.minute:02d}", track=track,
                              minutes=length, module=module, status=status, recorded=True)
        out.append(seq.Attendance(meeting=meeting, attended=attended, minutes=minutes, counts_hours=hours))
    return out


# Progress is derived from its inputs only, so it is cached under all of them (the cached calendar's
# token, the stay, the attendance, every credit, the day and the rules): a new row makes a new key.
# The attendance enters the key as its stamp (_attendance_stamps), read in one aggregate query, so a
# hit loads none of a year's rows; each process checks the database on every request, so a cache
# shared by no one stays right with many workers and machines.
_PROGRESS: OrderedDict[tuple, seq.Progress] = OrderedDict()
PROGRESS_CACHE_SIZE = 4096


def _cached(key: tuple | None) -> seq.Progress | None:
    found = _PROGRESS.get(key) if key is not None else None
    if found is not None:
        _PROGRESS.move_to_end(key)
    return found


def _remember(key: tuple | None, progress: seq.Progress) -> None:
    if key is not None:
        _PROGRESS[key] = progress
        if len(_PROGRESS) > PROGRESS_CACHE_SIZE:
            _PROGRESS.popitem(last=False)


def _attendance_stamps(participant_ids: list[int]) -> dict[int, tuple]:
    """A stamp of each participant's attendance rows, in one aggregate query: how many, sums weighted
    by the meeting (a changed status or minutes on any row changes them; a person has one row per
    meeting) and the latest change (recorded_at moves on every update)."""
    def weighted(column):
        return func.sum(cast(Attendance.meeting_id, BigInteger) * column)

    rows = db.session.execute(
        select(Attendance.participant_id, func.count(), func.sum(Attendance.meeting_id),
               weighted(Attendance.status_id), weighted(Attendance.minutes + 1), func.max(Attendance.recorded_at))
        .where(Attendance.participant_id.in_(participant_ids)).group_by(Attendance.participant_id)
    ).all()
    return {pid: tuple(rest) for pid, *rest in rows}


def _status_flags(program_id: int) -> tuple:
    """What each of the program's attendance statuses counts for (part of every progress key)."""
    return tuple(db.session.execute(
        select(AttendanceStatus.id, AttendanceStatus.counts_attended, AttendanceStatus.counts_hours)
        .where(AttendanceStatus.program_id == program_id).order_by(AttendanceStatus.id)).all())


def _explicit_credits(participant_ids: list[int]) -> dict[int, list[seq.ExplicitCredit]]:
    """Make-up, override and individual-session credits (not revoked), in one query."""
    rows = db.session.execute(
        select(Credit.participant_id, Module.code, Credit.credited_on, Credit.source, Credit.reason, Credit.minutes)
        .join(Module, Module.id == Credit.module_id)
        .where(Credit.participant_id.in_(participant_ids), Credit.revoked_at.is_(None))
    ).all()
    out: dict[int, list[seq.ExplicitCredit]] = {}
    for pid, code, day, source, reason, minutes in rows:
        # An individual session (IC, RA) is credited like a make-up: explicitly, with a date.
        out.setdefault(pid, []).append(seq.ExplicitCredit(
            module=code, date=day, source="make-up" if source == "individual" else source, reason=reason,
            minutes=minutes))
    return out


def progress_for(participants: list[Participant], as_of: date, groups: Iterable[Group] = (),
                 calendars: dict[int, seq.Calendar] | None = None) -> dict[int, ParticipantProgress]:
    """Progress of several participants of one program as of a date, in a fixed number of queries.

    A caller that already holds some of their groups (with slots) or those groups' calendars through
    as_of + HORIZON passes them, and they are not read again."""
    if not participants:
        return {}
    ids = [p.id for p in participants]
    enrollments: dict[int, list[Enrollment]] = {}
    for row in db.session.scalars(select(Enrollment).where(Enrollment.participant_id.in_(ids))
                                  .order_by(Enrollment.admitted_on, Enrollment.id)):
        enrollments.setdefault(row.participant_id, []).append(row)
    group_ids = {rows[-1].group_id for rows in enrollments.values()}
    held = {g.id: g for g in groups if g.id in group_ids}
    if group_ids - held.keys():
        held |= {g.id: g for g in db.session.scalars(
            select(Group).where(Group.id.in_(group_ids - held.keys())).options(selectinload(Group.slots)))}
    calendars = {gid: c for gid, c in (calendars or {}).items() if gid in held}
    calendars |= group_calendars([g for g in held.values() if g.id not in calendars], as_of + HORIZON)
    structures = {}
    for group in held.values():
        structure = version_structure(group.version_id)
        structures[group.id] = (structure, {m.code for t in structure.tracks for m in t.modules if not m.retired})
    program = db.session.get(Program, participants[0].program_id)
    # Three entries: a save of attendance leaves the statuses' flags and the credits remembered.
    key = tuple(ids)
    stamps = data_revision.remembered("attendance stamps", key, lambda: _attendance_stamps(ids), reads=("attendance",),
                                      people=ids)
    flags = data_revision.remembered("status flags", (program.id,), lambda: _status_flags(program.id),
                                     reads=("attendance_status",))
    credits = data_revision.remembered("explicit credits", key, lambda: _explicit_credits(ids),
                                       reads=("credit", "module"))
    inputs, found = {}, {}
    for person in participants:
        rows = tuple(enrollments.get(person.id, ()))
        stay = stay_of(rows)
        group = held[rows[-1].group_id] if rows else None
        calendar = calendars.get(group.id) if group else None
        if stay is None or calendar is None:
            continue
        structure, known = structures[group.id]
        # A credit for a module the group's version no longer has (after a move to a new
        # version) stays in the record but cannot count toward this version's tracks.
        counted = [c for c in credits.get(person.id, ()) if c.module in known]
        rules = rules_for(program, structure.credit_share, as_of)
        token = calendar_token(calendar)
        # Someone whose stays were all in this group has all their attendance at its meetings
        # (attendance is recorded only for a meeting's roster), which the calendar's token covers:
        # their stamp stands for the rows. After a transfer, the rows themselves are the key.
        key = None
        if token is not None and all(e.group_id == group.id for e in rows):
            key = (token, stay, stamps.get(person.id), flags, tuple(counted), as_of, rules)
        inputs[person.id] = (key, stay, calendar, counted, rules, token)
        found[person.id] = _cached(key)
    missing = [pid for pid, progress in found.items() if progress is None]
    with data_revision.people_rows(missing):  # their rows only: a page of theirs outlives saves for others
        attendance = _attendance_rows(missing) if missing else {}
    for pid in missing:
        key, stay, calendar, counted, rules, token = inputs[pid]
        rows = attendance.get(pid, ())
        if key is None and token is not None:
            key = ("rows", token, stay, rows, tuple(counted), as_of, rules)
            found[pid] = _cached(key)
        if found[pid] is None:
            found[pid] = seq.participant_progress(stay, calendar, _as_attendance(rows), counted, as_of=as_of,
                                                  rules=rules)
            _remember(key, found[pid])
    out = {}
    for person in participants:
        rows = tuple(enrollments.get(person.id, ()))
        group = held[rows[-1].group_id] if rows else None
        current = next((e for e in rows if e.discharged_on is None), None)
        out[person.id] = ParticipantProgress(person, rows, current, group, found.get(person.id),
                                             calendars.get(group.id) if group else None)
    return out


def planned_makeups(participant_ids: list[int]) -> dict[int, list[MakeUp]]:
    """Open make-up plans per participant, in one query."""
    out: dict[int, list[MakeUp]] = {}
    for row in db.session.scalars(select(MakeUp).where(MakeUp.participant_id.in_(participant_ids),
                                                       MakeUp.status == "planned").options(selectinload(MakeUp.module))):
        out.setdefault(row.participant_id, []).append(row)
    return out


# --- Make-ups: plan how a missed module is covered, then credit it when done. ---------------------

MAKEUP_LABELS = {
    "next_rotation": _l("Their group's next rotation"),
    "other_group": _l("Another group's meeting"),
    "individual": _l("Individual session"),
    "homework": _l("Homework"),
}
MAKEUP_NOTE_MAX = 500


class MakeUpError(ValueError):
    """A make-up cannot be planned or completed as asked; `field` names the form field at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def _credit_of(plan: ParticipantProgress, code: str) -> seq.Credit | None:
    """The credit of a module in the participant's progress, if it is credited."""
    for track in plan.progress.tracks if plan.progress else ():
        for credit in track.credits:
            if credit.module == code:
                return credit
    return None


def _credited_message(code: str, credit: seq.Credit) -> str:
    how = _("attended") if credit.source == "attendance" else credit.source
    return _("%(code)s is already credited (%(how)s on %(day)s). No make-up is needed.", code=code, how=how,
             day=format_when(credit.date, "year"))


def assign_makeup(participant: Participant, module: str, method: str, group_id: int | None,
                  planned_on: date | None, note: str, user: User, today: date) -> MakeUp:
    """Plan a make-up for a module the participant still needs: a group's meeting, an individual
    session or homework. A group meeting must really deliver the module on the planned date."""
    plan = progress_for([participant], today)[participant.id]
    if plan.current is None or plan.progress is None or plan.group is None:
        raise MakeUpError("module", _("Make-ups are planned for participants who are currently admitted."))
    track = next((t for t in plan.progress.tracks if module in t.credited or module in t.missing), None)
    if track is None or not track.scheduled:
        raise MakeUpError("module", _("Choose a group module of their curriculum."))
    credit = _credit_of(plan, module)
    if credit is not None:
        raise MakeUpError("module", _credited_message(module, credit))
    planned = db.session.scalar(select(MakeUp).join(Module, Module.id == MakeUp.module_id).where(
        MakeUp.participant_id == participant.id, MakeUp.status == "planned", Module.code == module))
    if planned is not None:
        raise MakeUpError("module", _("A make-up for %(code)s is already planned (%(method)s).", code=module,
                                      method=str(MAKEUP_LABELS[planned.method]).lower()))
    if method not in MAKEUP_METHODS:
        raise MakeUpError("method", _("Choose how the module will be made up."))
    note = note.strip()
    if len(note) > MAKEUP_NOTE_MAX:
        raise MakeUpError("note", _("Keep the note to %(max)s characters or fewer.", max=MAKEUP_NOTE_MAX))
    if planned_on is not None and planned_on < today:
        raise MakeUpError("planned_on", _("The planned date has passed. Choose today or a later date."))
    if planned_on is not None and planned_on > today + HORIZON:
        raise MakeUpError("planned_on", _("Plan within the next %(weeks)s weeks.", weeks=HORIZON.days // 7))
    meeting_group_id = None
    if method in ("other_group", "next_rotation"):
        group = db.session.get(Group, group_id) if group_id else None
        if group is None or group.program_id != participant.program_id or not group.active:
            raise MakeUpError("group_id", _("Choose the group whose meeting they will attend."))
        if planned_on is None:
            raise MakeUpError("planned_on", _("Enter the date of that group's meeting."))
        calendar = group_calendars([group], planned_on)[group.id]
        if not any(m.date == planned_on and m.held and m.module == module for m in calendar.meetings):
            raise MakeUpError("planned_on", _("%(group)s does not deliver %(code)s on %(day)s. "
                                              "Pick one of the suggested meetings.", group=group.name, code=module,
                                              day=format_when(planned_on, "year")))
        method = "next_rotation" if group.id == plan.current.group_id else "other_group"
        meeting_group_id = group.id
    module_id = db.session.scalar(select(Module.id).where(Module.version_id == plan.group.version_id,
                                                         Module.code == module))
    makeup = MakeUp(participant_id=participant.id, module_id=module_id, method=method,
                    meeting_group_id=meeting_group_id, planned_on=planned_on, note=note, assigned_by_id=user.id)
    db.session.add(makeup)
    db.session.flush()
    return makeup


MAX_SESSION_MINUTES = 480


def _session_minutes(minutes: int | None, module: Module, field: str) -> int:
    """Minutes spent with the participant: the module's length when not given; 0 to 480."""
    if minutes is None:
        return module.minutes
    if not 0 <= minutes <= MAX_SESSION_MINUTES:
        raise MakeUpError(field, _("Enter the minutes spent, from 0 to %(max)s.", max=MAX_SESSION_MINUTES))
    return minutes


def complete_makeup(makeup: MakeUp, completed_on: date | None, user: User, today: date,
                    minutes: int | None = None) -> Credit:
    """Mark a planned make-up done and credit its module (a Credit with source make-up, linked to
    the plan, with who and when). A make-up is completed once; a module is credited once.

    Minutes (default: the module's length) count toward weekly hours; homework counts none."""
    if makeup.method == "homework":
        if minutes:
            raise MakeUpError("minutes", _("Homework is done outside treatment time; leave the minutes at 0."))
        minutes = 0
    credit_minutes = _session_minutes(minutes, makeup.module, "minutes")
    if makeup.status == "completed":
        done = db.session.scalar(select(Credit.credited_on).where(Credit.makeup_id == makeup.id))
        raise MakeUpError("completed_on", _("This make-up was already completed on %(day)s.",
                                            day=format_when(done, "year")) if done
                          else _("This make-up was already completed."))
    if makeup.status != "planned":
        raise MakeUpError("completed_on", _("This make-up was cancelled. Plan a new one if it is still needed."))
    if completed_on is None:
        raise MakeUpError("completed_on", _("Enter the date it was done."))
    if completed_on > today:
        raise MakeUpError("completed_on", _("The date it was done cannot be in the future."))
    participant = db.session.get(Participant, makeup.participant_id)
    plan = progress_for([participant], today)[participant.id]
    stay = plan.progress.stay if plan.progress else None
    if stay is None or completed_on < stay.admitted:
        raise MakeUpError("completed_on", _("The date it was done is before the admission."))
    if stay.discharged is not None and completed_on > stay.discharged:
        raise MakeUpError("completed_on", _("The stay ended on %(day)s; the make-up cannot be later.",
                                            day=format_when(stay.discharged, "year")))
    code = makeup.module.code
    credit = _credit_of(plan, code)
    if credit is not None:
        raise MakeUpError("completed_on", _credited_message(code, credit) + " " + _("Cancel this make-up instead."))
    # Conditional update: of two clicks (or two people) at once, only one completes the plan.
    changed = db.session.execute(
        update(MakeUp).where(MakeUp.id == makeup.id, MakeUp.status == "planned")
        .values(status="completed", completed_at=utcnow(), completed_by_id=user.id)
        .execution_options(synchronize_session="fetch"))
    if changed.rowcount != 1:
        raise MakeUpError("completed_on", _("This make-up was already completed."))
    row = Credit(participant_id=makeup.participant_id, module_id=makeup.module_id, source="make-up",
                 makeup_id=makeup.id, credited_on=completed_on, created_by_id=user.id,
                 minutes=credit_minutes)
    db.session.add(row)
    db.session.flush()
    return row


def cancel_makeup(makeup: MakeUp, user: User) -> MakeUp:
    """Cancel a planned make-up (kept as history, never deleted)."""
    if makeup.status != "planned":
        raise MakeUpError("makeup", _("Only a planned make-up can be cancelled."))
    makeup.status = "cancelled"
    db.session.flush()
    return makeup


def individual_modules(plan: ParticipantProgress) -> list[tuple[str, str]]:
    """(code, title) of the individual-track modules a participant still needs (IC, RA)."""
    if plan.progress is None or plan.group is None:
        return []
    titles = {m.code: m.title for t in version_structure(plan.group.version_id).tracks for m in t.modules}
    return [(code, titles.get(code, code)) for t in plan.progress.tracks if not t.scheduled for code in t.missing]


def record_individual_session(participant: Participant, module: str, held_on: date | None, note: str, user: User,
                              today: date, minutes: int | None = None) -> Credit:
    """Credit an individual session (IC 2, RA 1, ...) held on a date: a Credit with source individual;
    its minutes (default: the module's length) count toward the week's hours."""
    plan = progress_for([participant], today)[participant.id]
    if plan.progress is None or plan.group is None:
        raise MakeUpError("module", _("Record sessions for participants who have been admitted."))
    if module not in dict(individual_modules(plan)):
        raise MakeUpError("module", _("Choose an individual session they still need."))
    if held_on is None:
        raise MakeUpError("held_on", _("Enter the date the session was held."))
    if held_on > today:
        raise MakeUpError("held_on", _("The session date cannot be in the future."))
    stay = plan.progress.stay
    if held_on < stay.admitted or (stay.discharged is not None and held_on > stay.discharged):
        raise MakeUpError("held_on", _("The session date must fall inside the participant's stay."))
    row = db.session.scalar(select(Module).where(Module.version_id == plan.group.version_id, Module.code == module))
    credit = Credit(participant_id=participant.id, module_id=row.id, source="individual", credited_on=held_on,
                    reason=note.strip()[:500], created_by_id=user.id, minutes=_session_minutes(minutes, row, "minutes"))
    db.session.add(credit)
    db.session.flush()
    return credit
