"""A meeting as the facilitator runs it: who is expected, attendance, the note, held or cancelled.

Services take plain data and the acting user, change rows and flush; the view commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from ..attendance.models import Attendance
from ..auth.models import User
from ..curricula.models import Module
from ..domain import sequencer as seq
from ..extensions import db
from ..groups.calendars import group_calendar, group_calendars, version_structure
from ..groups.models import Group, Meeting, MeetingAddendum
from ..models_base import utcnow
from ..participants.models import Enrollment, FamilyGuest, Participant
from ..programs.models import AttendanceStatus
from ..programs.services import active_statuses, program_today
from ..progress.services import HORIZON, ParticipantProgress, progress_for
from ..web.i18n import format_clock, format_when

FIDELITY_ITEMS = (
    ("handout", _l("Topic presented with the handout")),
    ("open_discussion", _l("Open discussion held")),
    ("tests_collected", _l("Urine or breath tests collected")),
)
MAX_EXTRA_MINUTES = 60  # a meeting may run over, but not by hours: that is a typing mistake


NOT_YET = _l("Attendance for this meeting opens on %(day)s, the day it takes place. Nothing was saved.")
GUESTS_NOT_YET = _l("Guests can be recorded from %(day)s, the day of the meeting. Nothing was saved.")
STALE = _l("Someone saved attendance for this meeting after you opened the page. Nothing you entered was saved: "
           "compare below, then save again.")


class MeetingError(ValueError):
    """The meeting cannot be changed as asked; the message says why, in the user's words."""


class StaleAttendance(MeetingError):
    """Attendance was saved by someone else after the submitted page was built; nothing changed."""

    def __init__(self) -> None:
        super().__init__(str(STALE))


def attendance_opens_on(group: Group, day: date) -> date | None:
    """The day attendance for a meeting on `day` can be recorded, while that day is still to come in the
    program's time zone; None once it has come."""
    return day if day > program_today(group.program) else None


@dataclass(frozen=True)
class RosterEntry:
    """One person expected at (or recorded for) a meeting."""

    participant: Participant
    enrollment: Enrollment | None
    program_week: int | None
    newest: bool  # in their first week: greet them, explain the group
    attendance: Attendance | None
    plan: ParticipantProgress | None
    credited_here: bool  # this meeting's module is already credited (a repeat for them)


def page_calendar(group: Group, day: date) -> seq.Calendar:
    """The group's calendar as far as a page about a meeting on `day` needs it: through the day and as far
    ahead as its roster's progress looks (one calendar for finding the meeting and for the progress)."""
    return group_calendar(group, max(day, program_today(group.program)) + HORIZON)


def find_planned(group: Group, day: date, at: str, track: str,
                 calendar: seq.Calendar | None = None) -> seq.Meeting | None:
    """The calendar's meeting of a group at a date, time and track (None if the pattern has none).
    A calendar of the group through `day` or later may be passed (its meetings up to a day do not
    depend on how far it goes)."""
    calendar = calendar if calendar is not None else group_calendar(group, day)
    for meeting in calendar.meetings:
        if meeting.date == day and meeting.time == at and meeting.track == track:
            return meeting
    return None


def stored_meeting(group: Group, day: date, at: str, track: str) -> Meeting | None:
    """The stored row of a meeting, if it was ever opened or recorded."""
    return db.session.scalar(select(Meeting).where(
        Meeting.group_id == group.id, Meeting.date == day, Meeting.start_time == time.fromisoformat(at),
        Meeting.track_code == track))


def ensure_meeting(group: Group, planned: seq.Meeting) -> Meeting:
    """The stored row for a planned meeting, created if needed (safe when two people open it at once)."""
    row = stored_meeting(group, planned.date, planned.time, planned.track)
    if row is not None:
        return row
    row = Meeting(group_id=group.id, date=planned.date, start_time=time.fromisoformat(planned.time),
                  track_code=planned.track, minutes=planned.minutes, status="scheduled")
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:  # someone else created it a moment ago: use theirs
        row = stored_meeting(group, planned.date, planned.time, planned.track)
    return row


def module_id(group: Group, code: str | None) -> int | None:
    """The id of a module code in the group's curriculum version."""
    if code is None:
        return None
    return db.session.scalar(select(Module.id).where(Module.version_id == group.version_id, Module.code == code))


def roster(group: Group, planned: seq.Meeting, row: Meeting | None,
           calendar: seq.Calendar | None = None) -> list[RosterEntry]:
    """Who is expected at the meeting, per the sequencer, plus anyone already recorded there; in a fixed
    number of queries. `calendar`: the group's page_calendar, if the caller holds it."""
    recorded = {}
    if row is not None:
        recorded = {a.participant_id: a for a in db.session.scalars(
            select(Attendance).where(Attendance.meeting_id == row.id, Attendance.participant_id.is_not(None))
            .options(joinedload(Attendance.status)))}
    staying = select(Enrollment.participant_id).where(
        Enrollment.group_id == group.id, Enrollment.admitted_on <= planned.date,
        (Enrollment.discharged_on.is_(None)) | (Enrollment.discharged_on >= planned.date))
    people = db.session.scalars(select(Participant).where(
        Participant.id.in_(staying) | Participant.id.in_(list(recorded)))).all()
    as_of = max(planned.date, program_today(group.program))
    plans = progress_for(list(people), as_of, groups=[group],
                         calendars={group.id: calendar} if calendar is not None else None)
    first_week = _first_week(group, planned.track)
    entries = []
    for person in people:
        plan = plans.get(person.id)
        stay = plan.progress.stay if plan and plan.progress else None
        week = seq.program_week(stay, planned.date) if stay else None
        track = plan.progress.track(planned.track) if plan and plan.progress else None
        if not is_expected(plan, planned, first_week) and person.id not in recorded:
            continue
        credited_here = bool(track and planned.module and any(
            c.module == planned.module and c.date < planned.date for c in track.credits))
        entries.append(RosterEntry(person, _stay_here(plan, group, planned.date), week, week == 1,
                                   recorded.get(person.id), plan, credited_here))
    entries.sort(key=lambda e: (not e.newest, e.participant.preferred_name.lower()))
    return entries


def _stay_here(plan: ParticipantProgress | None, group: Group, day: date) -> Enrollment | None:
    """The enrollment that has the person in this group on the day (the latest, if several)."""
    rows = plan.enrollments if plan else ()
    return next((e for e in reversed(rows) if e.group_id == group.id and e.admitted_on <= day
                 and (e.discharged_on is None or e.discharged_on >= day)), None)


def is_expected(plan: ParticipantProgress | None, planned: seq.Meeting, first_week: int) -> bool:
    """Expected at a meeting: inside the stay, at or past the track's first week, track not complete before."""
    if plan is None or plan.progress is None or planned.status != "held":
        return False
    stay = plan.progress.stay
    if planned.date < stay.admitted or (stay.discharged is not None and planned.date > stay.discharged):
        return False
    if seq.program_week(stay, planned.date) < first_week:
        return False
    track = plan.progress.track(planned.track)
    return track.completed_on is None or track.completed_on >= planned.date


def _first_week(group: Group, track: str) -> int:
    return version_structure(group.version_id).track(track).first_week


@dataclass(frozen=True)
class AttendanceLine:
    """One submitted attendance line: plain data from the form."""

    participant_id: int
    status_code: str
    minutes: int
    note: str = ""


def save_attendance(group: Group, planned: seq.Meeting, lines: list[AttendanceLine], note: str,
                    fidelity: dict[str, bool], user: User, version: int | None = None) -> Meeting:
    """Record attendance for everyone at once and mark the meeting held; credits follow from the rows.

    `version` is the meeting's attendance version the form was built from: if someone saved since,
    StaleAttendance is raised and nothing changes (None: the caller read nothing first, e.g. a seed)."""
    opens = attendance_opens_on(group, planned.date)
    if opens is not None:
        raise MeetingError(str(NOT_YET) % {"day": format_when(opens, "long_day")})
    row = ensure_meeting(group, planned)
    if row.locked_at is not None:
        raise MeetingError(_("This note is signed and locked. Add an addendum instead."))
    if row.status == "cancelled":
        raise MeetingError(_("This meeting was cancelled. Reopen it before recording attendance."))
    statuses = {s.code: s for s in active_statuses(group.program_id)}  # a retired status is not offered
    entries = roster(group, planned, row)
    allowed = {e.participant.id for e in entries}
    recorded = {e.participant.id: e.attendance for e in entries if e.attendance is not None}
    for line in lines:
        status = statuses.get(line.status_code)
        if status is None:
            raise MeetingError(_("Unknown attendance status %(code)s.", code=repr(line.status_code)))
        if line.participant_id not in allowed:
            raise MeetingError(_("Someone on the form is not on this meeting's roster."))
        if not 0 <= line.minutes <= row.minutes + MAX_EXTRA_MINUTES:
            raise MeetingError(_("Minutes must be between 0 and %(top)s.", top=row.minutes + MAX_EXTRA_MINUTES))
    _claim(row, version)
    delivered = row.module_id or module_id(group, planned.module)  # before any change: queries autoflush
    row.status, row.module_id = "held", delivered
    row.note = note.strip()
    row.fidelity = {key: bool(fidelity.get(key)) for key, _ in FIDELITY_ITEMS} | {"group_size": len(
        [line for line in lines if statuses[line.status_code].counts_attended])}
    for line in lines:
        status = statuses[line.status_code]
        minutes = stored_minutes(status, line.minutes)
        _upsert(row, line.participant_id, status, minutes, line.note.strip(), user, recorded.get(line.participant_id))
    db.session.flush()
    return row


def _claim(row: Meeting, version: int | None) -> None:
    """Move the meeting to the next attendance version, if it is still at the one the form was built from.
    One conditional UPDATE: of two saves from the same version, the database lets exactly one through
    (the other waits for the row and then finds it moved on)."""
    if version is None:
        row.attendance_version = (row.attendance_version or 0) + 1
        return
    claimed = db.session.execute(update(Meeting).where(Meeting.id == row.id, Meeting.attendance_version == version)
                                 .values(attendance_version=version + 1))
    if claimed.rowcount != 1:
        raise StaleAttendance()


def stored_minutes(status: AttendanceStatus, minutes: int) -> int:
    """The minutes kept for a status: none when it neither counts as attended nor toward hours."""
    return minutes if status.counts_hours or status.counts_attended else 0


def _upsert(row: Meeting, participant_id: int, status: AttendanceStatus, minutes: int, note: str, user: User,
            existing: Attendance | None) -> None:
    """One attendance row per person and meeting, whoever saves first (no duplicates, nothing lost).
    `existing`: the person's row as the roster read it (None: not recorded then)."""
    if existing is None:
        try:
            with db.session.begin_nested():
                db.session.add(Attendance(meeting_id=row.id, participant_id=participant_id, status_id=status.id,
                                          minutes=minutes, note=note, recorded_by_id=user.id))
            return
        except IntegrityError:  # another facilitator saved this person a moment ago: update theirs
            existing = db.session.scalar(select(Attendance).where(
                Attendance.meeting_id == row.id, Attendance.participant_id == participant_id))
    note = note or existing.note  # a blank note keeps the stored one
    if (existing.status_id, existing.minutes, existing.note) == (status.id, minutes, note):
        # Unchanged: the row keeps who recorded it and when, and nothing derived from it is read again
        # (progress, alerts). The audit trail has every save, this one included.
        return
    existing.status_id, existing.minutes, existing.note = status.id, minutes, note
    existing.recorded_by_id, existing.recorded_at = user.id, utcnow()


def cancel_meeting(group: Group, planned: seq.Meeting, reason: str, user: User) -> Meeting:
    """Cancel a meeting: its module moves to the next meeting of the track (the group's policy)."""
    row = ensure_meeting(group, planned)
    if row.locked_at is not None or db.session.scalar(select(Attendance.id).where(Attendance.meeting_id == row.id)):
        raise MeetingError(_("Attendance is already recorded for this meeting; it cannot be cancelled."))
    row.status, row.cancel_reason, row.module_id = "cancelled", reason.strip()[:200], None
    db.session.flush()
    return row


def reopen_meeting(group: Group, planned: seq.Meeting, user: User) -> Meeting:
    """Undo a cancellation (before anything was recorded)."""
    row = ensure_meeting(group, planned)
    if row.status == "cancelled":
        row.status, row.cancel_reason = "scheduled", ""
    db.session.flush()
    return row


def lock_note(row: Meeting, user: User) -> None:
    """Sign and lock the group note; from now on only addenda."""
    if row.status != "held":
        raise MeetingError(_("Record attendance before signing the note."))
    if row.locked_at is not None:
        raise MeetingError(_("This note is already signed."))
    if not row.note.strip():
        raise MeetingError(_("Write the group note before signing it."))
    row.locked_at, row.locked_by_id = utcnow(), user.id
    db.session.flush()


def add_addendum(row: Meeting, text: str, user: User) -> MeetingAddendum:
    """Add a signed addendum to a locked note."""
    if row.locked_at is None:
        raise MeetingError(_("Edit the note itself until it is signed; addenda are for signed notes."))
    if not text.strip():
        raise MeetingError(_("Write the addendum first."))
    addendum = MeetingAddendum(meeting_id=row.id, author_id=user.id, text=text.strip())
    db.session.add(addendum)
    db.session.flush()
    return addendum


def add_guest(row: Meeting, participant: Participant, name: str, relationship: str, minutes: int,
              user: User) -> Attendance:
    """A family member or friend at family education, recorded without becoming a participant."""
    if row.locked_at is not None:
        raise MeetingError(_("This note is signed and locked. Add an addendum instead."))
    opens = attendance_opens_on(row.group, row.date)
    if opens is not None:
        raise MeetingError(str(GUESTS_NOT_YET) % {"day": format_when(opens, "long_day")})
    guest = db.session.scalar(select(FamilyGuest).where(
        FamilyGuest.participant_id == participant.id, FamilyGuest.name == name.strip()))
    if guest is None:
        guest = FamilyGuest(participant_id=participant.id, name=name.strip(), relationship_to=relationship.strip())
        db.session.add(guest)
        db.session.flush()
    present = db.session.scalar(select(AttendanceStatus).where(
        AttendanceStatus.program_id == participant.program_id, AttendanceStatus.code == "present"))
    existing = db.session.scalar(select(Attendance).where(Attendance.meeting_id == row.id,
                                                          Attendance.guest_id == guest.id))
    if existing is not None:
        raise MeetingError(f"{guest.name} is already recorded at this meeting.")
    attendance = Attendance(meeting_id=row.id, guest_id=guest.id, status_id=present.id, minutes=minutes,
                            recorded_by_id=user.id)
    db.session.add(attendance)
    db.session.flush()
    return attendance


def guests_at(row: Meeting) -> list[tuple[str, str, str, int]]:
    """(guest name, relationship, supported participant's preferred name, minutes) at a meeting."""
    return [tuple(r) for r in db.session.execute(
        select(FamilyGuest.name, FamilyGuest.relationship_to, Participant.preferred_name, Attendance.minutes)
        .join(Attendance, Attendance.guest_id == FamilyGuest.id)
        .join(Participant, Participant.id == FamilyGuest.participant_id)
        .where(Attendance.meeting_id == row.id))]


def upcoming(groups: list[Group], start: date, days: int,
             calendars: dict[int, seq.Calendar] | None = None) -> list[tuple[Group, seq.Meeting]]:
    """The meetings of these groups from a date for a number of days, in date and time order; from the
    calendars given (any that reach at least that far: the meetings up to a day do not depend on how
    far a calendar goes), built for the groups that have none."""
    calendars = dict(calendars or {})
    missing = [g for g in groups if g.id not in calendars]
    if missing:
        calendars.update(group_calendars(missing, start + timedelta(days=days)))
    calendars = {g.id: calendars[g.id] for g in groups}
    by_id = {g.id: g for g in groups}
    out = [(by_id[int(m.group)], m) for c in calendars.values() for m in c.meetings
           if start <= m.date <= start + timedelta(days=days)]
    out.sort(key=lambda pair: (pair[1].date, pair[1].time, pair[0].name))
    return out


def locked_label(row: Meeting) -> str:
    """"Signed Nov 27, 9:05 PM" for a locked note."""
    if not row.locked_at:
        return ""
    return _("Signed %(day)s, %(time)s", day=format_when(row.locked_at, "short"), time=format_clock(row.locked_at))
