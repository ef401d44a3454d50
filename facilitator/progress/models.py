"""Explicit credits and make-up plans; credits from attendance are derived, never stored twice."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..curricula.models import Module
from ..extensions import db
from ..models_base import one_of, utcnow

CREDIT_SOURCES = ("attendance", "make-up", "override", "individual")  # individual: an IC or RA session
MAKEUP_METHODS = ("other_group", "individual", "homework", "next_rotation")
MAKEUP_STATUSES = ("planned", "completed", "cancelled")


class Credit(db.Model):
    """A module credited to a participant by a make-up or an override (with who and why)."""

    __tablename__ = "credit"
    __table_args__ = (
        one_of("source", CREDIT_SOURCES),
        CheckConstraint("source <> 'override' OR length(reason) >= 5", name="override_has_reason"),
        CheckConstraint("source <> 'make-up' OR makeup_id IS NOT NULL", name="makeup_credit_links_plan"),
        CheckConstraint("minutes BETWEEN 0 AND 480", name="minutes_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"), index=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("module.id"), index=True)
    source: Mapped[str] = mapped_column(String(12))
    attendance_id: Mapped[int | None] = mapped_column(ForeignKey("attendance.id"))
    makeup_id: Mapped[int | None] = mapped_column(ForeignKey("makeup.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    credited_on: Mapped[date]
    # Time in treatment that no attendance row records (an individual session, a make-up meeting
    # not recorded there); it counts toward the week's hours. Homework and overrides carry none.
    minutes: Mapped[int] = mapped_column(default=0, server_default="0")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]  # a mistaken credit is revoked, not deleted
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    module: Mapped[Module] = relationship()


class MakeUp(db.Model):
    """The plan to cover a missed module: another group's meeting, an individual session, or homework."""

    __tablename__ = "makeup"
    __table_args__ = (
        one_of("method", MAKEUP_METHODS),
        one_of("status", MAKEUP_STATUSES),
        CheckConstraint("method <> 'other_group' OR meeting_group_id IS NOT NULL", name="other_group_named"),
        CheckConstraint("(status = 'completed') = (completed_at IS NOT NULL)", name="completed_has_time"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"), index=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("module.id"), index=True)
    method: Mapped[str] = mapped_column(String(14))
    meeting_group_id: Mapped[int | None] = mapped_column(ForeignKey("care_group.id"))
    planned_on: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(10), default="planned")
    note: Mapped[str] = mapped_column(Text, default="")
    assigned_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    module: Mapped[Module] = relationship()
