"""Worksheet answers: one row per participant and worksheet, tied to the version it was answered on."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..curricula.models import Worksheet
from ..extensions import db
from ..models_base import one_of, utcnow

ANSWER_STATUSES = ("draft", "submitted", "reviewed")


class WorksheetAnswer(db.Model):
    """A participant's answers to one worksheet, keyed by the worksheet's field ids.

    It points at the worksheet of the curriculum version it was answered on (published versions
    never change), so the answers always show with the questions they answered.
    """

    __tablename__ = "worksheet_answer"
    __table_args__ = (
        UniqueConstraint("participant_id", "worksheet_id"),
        one_of("status", ANSWER_STATUSES),
        CheckConstraint("status = 'draft' OR submitted_at IS NOT NULL", name="submitted_has_date"),
        CheckConstraint("(status = 'reviewed') = (reviewed_at IS NOT NULL AND reviewed_by_id IS NOT NULL)",
                        name="reviewed_has_reviewer"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"), index=True)
    worksheet_id: Mapped[int] = mapped_column(ForeignKey("worksheet.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="draft")
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    submitted_at: Mapped[datetime | None]
    reviewed_at: Mapped[datetime | None]
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    worksheet: Mapped[Worksheet] = relationship()
