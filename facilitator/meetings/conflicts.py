"""A stale attendance save explained: what is stored now, who saved it and when, against what the
second person tried to save, person by person, so they can re-apply what still matters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ..attendance.models import Attendance, status_label
from ..audit.models import AuditEvent
from ..auth.models import User
from ..extensions import db
from ..groups.models import Group, Meeting
from ..participants.models import Participant
from ..programs.models import AttendanceStatus
from .services import AttendanceLine, stored_minutes


@dataclass(frozen=True)
class PersonChange:
    """One person's line: what is stored now and what was tried (None: nothing stored / not on the form)."""

    name: str
    stored_status: str | None
    stored_minutes: int | None
    stored_note: str
    tried_status: str | None
    tried_minutes: int | None
    tried_note: str

    @property
    def differs(self) -> bool:
        """Whether the stored line and the tried line disagree."""
        return (self.stored_status, self.stored_minutes, self.stored_note) != (
            self.tried_status, self.tried_minutes, self.tried_note)


@dataclass(frozen=True)
class Conflict:
    """Who saved the attendance now stored, when (program time), and each person's two versions."""

    saved_by: str | None
    saved_at: datetime | None
    people: tuple[PersonChange, ...]
    stored_note: str
    tried_note: str

    @property
    def changed(self) -> tuple[PersonChange, ...]:
        """The people whose stored line differs from what was tried."""
        return tuple(p for p in self.people if p.differs)


def conflict(group: Group, row: Meeting, lines: list[AttendanceLine], note: str) -> Conflict:
    """Compare the stored attendance of a meeting with a refused save (read after the rollback)."""
    stored = {a.participant_id: a for a in db.session.scalars(
        select(Attendance).where(Attendance.meeting_id == row.id, Attendance.participant_id.is_not(None)))}
    statuses = {s.code: s for s in db.session.scalars(
        select(AttendanceStatus).where(AttendanceStatus.program_id == group.program_id))}
    labels = {s.id: status_label(s.label) for s in statuses.values()}
    tried = {line.participant_id: line for line in lines}
    ids = set(stored) | set(tried)
    names = dict(db.session.execute(select(Participant.id, Participant.preferred_name).where(
        Participant.id.in_(ids), Participant.program_id == group.program_id)).all()) if ids else {}
    people = []
    for pid in sorted(ids & set(names), key=lambda i: names[i].lower()):
        now, line = stored.get(pid), tried.get(pid)
        status = statuses.get(line.status_code) if line else None
        people.append(PersonChange(
            names[pid], labels.get(now.status_id) if now else None, now.minutes if now else None,
            now.note if now else "", status_label(status.label) if status else None,
            stored_minutes(status, line.minutes) if status and line else None,
            # a blank note keeps the stored one (see services._upsert), so it is no difference
            (line.note.strip() or (now.note if now else "")) if line else ""))
    latest = _last_save(row)
    zone = ZoneInfo(group.program.timezone)
    return Conflict(latest[0] if latest else None,
                    latest[1].replace(tzinfo=UTC).astimezone(zone) if latest else None,
                    tuple(people), row.note, note.strip())


def _last_save(row: Meeting) -> tuple[str, datetime] | None:
    """Who saved the meeting's attendance last, and when (UTC): the audit trail's latest save, since a
    save that leaves a person's line as it was does not touch their row; else the latest row change."""
    found = db.session.execute(
        select(User.display_name, AuditEvent.at).join(User, User.id == AuditEvent.user_id)
        .where(AuditEvent.action == "attendance.save", AuditEvent.entity == "meeting", AuditEvent.entity_id == row.id)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(1)).first()
    return found or db.session.execute(
        select(User.display_name, Attendance.recorded_at).join(User, User.id == Attendance.recorded_by_id)
        .where(Attendance.meeting_id == row.id).order_by(Attendance.recorded_at.desc()).limit(1)).first()
