"""Web views of the groups area (being built)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("groups", __name__)


@bp.route("/groups/")
def index():
    """Placeholder until the group screens land."""
    return "", 204
