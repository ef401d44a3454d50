"""Attendance: one row per participant (or family guest) per meeting."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_pgettext
from sqlalchemy import CheckConstraint, ForeignKey, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..groups.models import Meeting
from ..models_base import utcnow
from ..programs.models import AttendanceStatus

# The default statuses' labels as people read them; a label a program wrote itself stays as written.
STATUS_TEXT = {"Present": lazy_pgettext("attendance status", "Present"),
               "Late": lazy_pgettext("attendance status", "Late"),
               "Left early": lazy_pgettext("attendance status", "Left early"),
               "Excused": lazy_pgettext("attendance status", "Excused"),
               "Absent": lazy_pgettext("attendance status", "Absent")}


def status_label(label: str) -> str:
    """An attendance status's label in the current language (the default ones; others as written)."""
    return str(STATUS_TEXT.get(label, label))


class Attendance(db.Model):
    """Who was at a meeting, with which status and how many minutes, recorded by whom."""

    __tablename__ = "attendance"
    __table_args__ = (
        UniqueConstraint("meeting_id", "participant_id"),
        UniqueConstraint("meeting_id", "guest_id"),
        CheckConstraint("(participant_id IS NULL) <> (guest_id IS NULL)", name="participant_or_guest"),
        CheckConstraint("minutes BETWEEN 0 AND 600", name="minutes_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participant.id"), index=True)
    guest_id: Mapped[int | None] = mapped_column(ForeignKey("family_guest.id"), index=True)
    status_id: Mapped[int] = mapped_column(ForeignKey("attendance_status.id"))
    minutes: Mapped[int] = mapped_column(default=0)
    note: Mapped[str] = mapped_column(Text, default="")  # the short per-participant part of the note
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    meeting: Mapped[Meeting] = relationship()
    status: Mapped[AttendanceStatus] = relationship()
