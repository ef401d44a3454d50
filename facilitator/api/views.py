"""The read-only JSON API, on the web session and its role and program rules (see API.md).

URL table (GET only):
  /api/participants/<id>/progress                           staff of the program; the participant themself
  /api/participants/<id>/plan                               staff of the program; the participant themself
  /api/groups/<id>/calendar?from=YYYY-MM-DD&to=YYYY-MM-DD   staff of the program; a participant of the group
  /api/groups/<id>/meetings/<YYYY-MM-DD>/<HHMM>/<track>/roster   staff of the program
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, abort, jsonify, request
from flask_login import current_user

from ..audit import services as audit
from ..clinical.services import program_today
from ..extensions import db
from ..meetings.services import find_planned, roster, stored_meeting
from ..progress.services import progress_for
from ..web.access import audit_participant, own_group_or_404, own_participant_or_404
from . import services
from .services import BadParameter

bp = Blueprint("api", __name__, url_prefix="/api")


def signed_in(view: Callable[..., Any]) -> Callable[..., Any]:
    """The web session's login, answered with a JSON 401 instead of a redirect to the login page."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            abort(401, description="Sign in first: the API uses the same session as the web pages.")
        try:
            response = jsonify(view(*args, **kwargs))
        except BadParameter as problem:
            db.session.rollback()
            response = jsonify(error=str(problem), status=400)
            response.status_code = 400
        # Health data stays out of browser and proxy caches.
        response.headers["Cache-Control"] = "no-store"
        return response

    return wrapped


def _plan_of(participant_id: int):
    person = own_participant_or_404(participant_id)
    today = program_today(person.program_id)
    return progress_for([person], today)[person.id], today


@bp.get("/participants/<int:participant_id>/progress")
@signed_in
def progress(participant_id: int):
    """Tracks (credits with dates and sources, missing, missed, completion), weekly minutes, completion dates."""
    plan, today = _plan_of(participant_id)
    payload = services.progress_payload(plan, today)
    audit_participant("api.progress.view", participant_id)
    db.session.commit()
    return payload


@bp.get("/participants/<int:participant_id>/plan")
@signed_in
def plan(participant_id: int):
    """Make-up suggestions for every missing module, and the make-ups already planned."""
    found, today = _plan_of(participant_id)
    payload = services.plan_payload(found, today)
    audit_participant("api.plan.view", participant_id)
    db.session.commit()
    return payload


def _group_or_404(group_id: int):
    group = own_group_or_404(group_id)
    if not current_user.is_staff and not services.attends(current_user.participant_id, group.id):
        abort(404)  # a participant sees only their own group's calendar
    return group


@bp.get("/groups/<int:group_id>/calendar")
@signed_in
def calendar(group_id: int):
    """The group's meetings between two dates (default: the next four weeks), at most a year."""
    group = _group_or_404(group_id)
    start, end = services.parse_range(request.args, program_today(group.program_id))
    return services.calendar_payload(group, start, end)


@bp.get("/groups/<int:group_id>/meetings/<day>/<at>/<track>/roster")
@signed_in
def meeting_roster(group_id: int, day: str, at: str, track: str):
    """Who is expected at one meeting, with program week and whether its module is a repeat for them."""
    if not current_user.is_staff:
        abort(403)
    group = own_group_or_404(group_id)
    when = services.near_today("date", services.parse_day("date", day), program_today(group.program_id))
    planned = find_planned(group, when, services.parse_time(at), track.upper())
    if planned is None:
        abort(404)
    row = stored_meeting(group, planned.date, planned.time, planned.track)
    entries = roster(group, planned, row)
    payload = services.roster_payload(group, planned, row, entries)
    audit.record_many("api.roster.view", "group", group.id, [e.participant.id for e in entries], user=current_user,
                      remote_addr=request.remote_addr or "", detail={"date": when.isoformat(), "track": planned.track})
    db.session.commit()
    return payload
