"""Who may see what: every participant, group and meeting belongs to one program, and staff see
only their own program's records. Lookups that cross programs answer 404, never data."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, request
from flask_login import current_user, login_required

from ..audit import services as audit
from ..extensions import db
from ..groups.models import Group
from ..participants.models import Participant

F = TypeVar("F", bound=Callable[..., Any])


def roles_required(*roles: str) -> Callable[[F], F]:
    """Login required, and one of these roles; anyone else gets 403."""

    def decorate(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate


staff_required = roles_required("director", "facilitator")
director_required = roles_required("director")


def own_participant_or_404(participant_id: int) -> Participant:
    """A participant of the signed-in user's program (a participant may see only themselves)."""
    person = db.session.get(Participant, participant_id)
    if person is None or person.program_id != current_user.program_id:
        abort(404)
    if current_user.role == "participant" and current_user.participant_id != person.id:
        abort(404)
    return person


def own_group_or_404(group_id: int) -> Group:
    """A group of the signed-in user's program."""
    group = db.session.get(Group, group_id)
    if group is None or group.program_id != current_user.program_id:
        abort(404)
    return group


def audit_participant(action: str, participant_id: int, entity: str = "participant", entity_id: int | None = None,
                      **detail: Any) -> None:
    """Record that the signed-in user read or changed a participant's data (ids, never values)."""
    audit.record(action, entity, entity_id if entity_id is not None else participant_id, user=current_user,
                 participant_id=participant_id, detail=detail, remote_addr=request.remote_addr or "")
