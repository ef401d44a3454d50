"""Audit events: who did what to which record, when. Never participant data itself."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..models_base import utcnow


class AuditEvent(db.Model):
    """One audited action; detail holds ids and field names, not values of health data."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    program_id: Mapped[int | None] = mapped_column(ForeignKey("program.id"), index=True)
    action: Mapped[str] = mapped_column(String(40))  # e.g. participant.view, attendance.save
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int | None]
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participant.id"), index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    remote_addr: Mapped[str] = mapped_column(String(45), default="")
