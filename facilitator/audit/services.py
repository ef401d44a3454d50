"""Writing audit events; callers pass ids and field names, never health data values."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert

from ..extensions import db
from ..models_base import utcnow
from .models import AuditEvent


def record(action: str, entity: str, entity_id: int | None, *, user: Any = None, program_id: int | None = None,
           participant_id: int | None = None, detail: dict[str, Any] | None = None,
           remote_addr: str = "") -> AuditEvent:
    """Add an audit event to the session (the caller's commit makes it permanent)."""
    event = AuditEvent(
        action=action,
        entity=entity,
        entity_id=entity_id,
        user_id=getattr(user, "id", None),
        program_id=program_id if program_id is not None else getattr(user, "program_id", None),
        participant_id=participant_id,
        detail=detail or {},
        remote_addr=remote_addr[:45],
    )
    db.session.add(event)
    return event


def record_many(action: str, entity: str, entity_id: int | None, participant_ids: list[int], *, user: Any,
                remote_addr: str = "", detail: dict[str, Any] | None = None) -> None:
    """One event per participant in a single statement (a roster view reads many records at once)."""
    if not participant_ids:
        return
    rows = [{"at": utcnow(), "user_id": user.id, "program_id": user.program_id, "action": action, "entity": entity,
             "entity_id": entity_id, "participant_id": pid, "detail": detail or {}, "remote_addr": remote_addr[:45]}
            for pid in participant_ids]
    db.session.execute(insert(AuditEvent), rows)
