"""Participants (minimum necessary: preferred name, initials, record number, language) and enrollments."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..groups.models import Group
from ..models_base import one_of, utcnow

# TEDS discharge reason categories used in national treatment statistics.
DISCHARGE_REASONS = (
    "completed",
    "transferred",
    "dropped_out",
    "terminated",
    "incarcerated",
    "died",
    "other",
)
DISCHARGE_LABELS = {
    "completed": "Completed treatment",
    "transferred": "Transferred to another program or group",
    "dropped_out": "Dropped out (left against advice)",
    "terminated": "Terminated by the facility",
    "incarcerated": "Incarcerated",
    "died": "Died",
    "other": "Other",
}


class Participant(db.Model):
    """A person in treatment, stored with the minimum the program needs."""

    __tablename__ = "participant"
    __table_args__ = (
        UniqueConstraint("program_id", "record_number"),
        CheckConstraint("length(initials) BETWEEN 1 AND 4", name="initials_length"),
        CheckConstraint("length(preferred_name) >= 1", name="preferred_name_present"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id"), index=True)
    preferred_name: Mapped[str] = mapped_column(String(60))
    initials: Mapped[str] = mapped_column(String(4))
    record_number: Mapped[str] = mapped_column(String(30))
    language: Mapped[str] = mapped_column(String(2), default="en")
    sobriety_date: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The secret address of the participant's own calendar feed (replaceable; None until asked for).
    feed_token: Mapped[str | None] = mapped_column(String(43), unique=True)

    enrollments: Mapped[list[Enrollment]] = relationship(
        back_populates="participant", order_by="Enrollment.admitted_on"
    )
    guests: Mapped[list[FamilyGuest]] = relationship(back_populates="participant")


class Enrollment(db.Model):
    """A participant's stay in a group: admitted, perhaps discharged with a reason."""

    __tablename__ = "enrollment"
    __table_args__ = (
        one_of("discharge_reason", DISCHARGE_REASONS),
        CheckConstraint("discharged_on IS NULL OR discharged_on >= admitted_on", name="discharge_after_admission"),
        CheckConstraint("(discharged_on IS NULL) = (discharge_reason IS NULL)", name="discharge_has_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("care_group.id"), index=True)
    admitted_on: Mapped[date]
    discharged_on: Mapped[date | None]
    discharge_reason: Mapped[str | None] = mapped_column(String(20))
    discharge_note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    participant: Mapped[Participant] = relationship(back_populates="enrollments")
    group: Mapped[Group] = relationship()

    @property
    def is_active(self) -> bool:
        """Still enrolled (no discharge recorded)."""
        return self.discharged_on is None


class FamilyGuest(db.Model):
    """A family member or friend who attends family education in support of a participant."""

    __tablename__ = "family_guest"

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    relationship_to: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    participant: Mapped[Participant] = relationship(back_populates="guests")
