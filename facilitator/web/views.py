"""Home page and health check."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template
from flask_login import current_user, login_required
from sqlalchemy import select, text

from ..extensions import db
from ..groups.models import Group

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
    """The signed-in user's start page: their program's groups for now."""
    groups = []
    if current_user.is_staff:
        groups = db.session.scalars(
            select(Group).where(Group.program_id == current_user.program_id, Group.active).order_by(Group.name)
        ).all()
    return render_template("web/home.html", groups=groups)
