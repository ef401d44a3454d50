"""Home page and health check."""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, url_for
from flask_login import current_user, login_required
from sqlalchemy import text

from ..extensions import db

bp = Blueprint("web", __name__)


@bp.route("/health")
def health():
    """Liveness and database check for load balancers; no data, no login."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001  (any database failure means unhealthy)
        db.session.rollback()
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")


@bp.route("/")
@login_required
def home():
    """Staff start on today's meetings; participants on their own progress."""
    return redirect(url_for("meetings.today" if current_user.is_staff else "participants.me"))


@bp.app_template_global()
def participant_url(participant_id: int) -> str:
    """The participant page (used by every area's templates): the endpoint `participants.show`."""
    return url_for("participants.show", participant_id=participant_id)
