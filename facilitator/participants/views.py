"""Web views of the participants area (being built)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("participants", __name__)


@bp.route("/participants/")
def index():
    """Placeholder until the participant screens land."""
    return "", 204


@bp.route("/me")
def me():
    """Placeholder until the participant screens land."""
    return "", 204


@bp.route("/participants/<int:participant_id>")
def show(participant_id: int):
    """Placeholder until the participant screens land."""
    return "", 204
