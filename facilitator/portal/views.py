"""A participant's own: their private calendar address and feed, and the download of their records.

| method | URL                                   | who                                          |
|--------|---------------------------------------|----------------------------------------------|
| POST   | /me/calendar                          | participant: make or replace their address   |
| POST   | /participants/<id>/calendar/remove    | staff: stop a participant's address          |
| GET    | /calendars/mine/<token>.ics           | anyone with the secret address (no sign-in)  |
| GET    | /me/records.pdf                       | participant: their records as a PDF          |
| GET    | /me/records.json                      | participant: the same as JSON                |
"""

from __future__ import annotations

import io
import json

from flask import Blueprint, Response, abort, current_app, flash, redirect, request, send_file, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..audit import services as audit
from ..documents import jobs, service
from ..documents.catalog import DocumentNotFound, Order
from ..extensions import db
from ..participants.models import Participant
from ..programs.models import Program
from ..programs.services import program_today
from ..queue import queue_for
from ..web.access import audit_participant, own_participant_or_404, staff_required
from ..web.forms import AppForm
from . import feed, records

bp = Blueprint("portal", __name__)


class FeedForm(AppForm):
    """Make or replace the calendar address (a button: only the CSRF token)."""


def _own_record() -> Participant:
    """The signed-in participant's own record; anyone else is sent away (staff have the participant page)."""
    if current_user.role != "participant" or current_user.participant_id is None:
        abort(404)
    return own_participant_or_404(current_user.participant_id)


@bp.route("/me/calendar", methods=["POST"])
@login_required
def share_feed():
    """Make the participant's private calendar address, or a new one (the old address stops working)."""
    person = _own_record()
    if not FeedForm().validate_on_submit():
        abort(400)
    replace = request.form.get("replace") == "1" and person.feed_token is not None
    feed.share_feed(person, current_user, replace=replace)
    audit_participant("participant.feed_replace" if replace else "participant.feed_share", person.id)
    db.session.commit()
    flash(_("Your new calendar address is ready. The old one no longer works: subscribe again with the new one.")
          if replace else _("Your calendar address is ready. Keep it to yourself: anyone with it sees your meetings."),
          "info")
    return redirect(url_for("participants.me", _anchor="my-calendar"))


@bp.route("/participants/<int:participant_id>/calendar/remove", methods=["POST"])
@staff_required
def remove_feed(participant_id: int):
    """Stop a participant's private calendar address (a lost or shared phone); they can make a new one."""
    person = own_participant_or_404(participant_id)
    if not FeedForm().validate_on_submit():
        abort(400)
    if feed.remove_feed(person, current_user):
        audit_participant("participant.feed_remove", person.id)
        db.session.commit()
        flash(_("The calendar address of %(name)s no longer works. They can make a new one on their page.",
                name=person.preferred_name), "info")
    return redirect(url_for("participants.show", participant_id=person.id, _anchor="portal-heading"), 303)


@bp.route("/calendars/mine/<token>.ics")
def participant_feed(token: str):
    """A participant's own meetings for their calendar app: no sign-in, the secret address is the key.
    An unknown or replaced address is 404."""
    person = feed.participant_by_feed(token)
    if person is None:
        abort(404)
    program = db.session.get(Program, person.program_id)
    with force_locale(person.language or "en"):  # a calendar app signs no one in: the participant's language
        body = feed.participant_calendar_ics(person, program, program_today(program))
    audit.record("participant.feed_read", "participant", person.id, program_id=person.program_id,
                 participant_id=person.id, remote_addr=request.remote_addr or "")
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="my-meetings.ics"'
    response.headers["Cache-Control"] = "private, max-age=900"  # apps poll; a quarter of an hour is fresh enough
    return response


def _personal_seconds() -> int:
    return int(current_app.config.get("DOCUMENT_PERSONAL_SECONDS", service.DEFAULT_PERSONAL_SECONDS))


def _deliver(order: Order):
    """The PDF from the cache or rendered now; a long one through a render job and its progress page."""
    cache = service.cache_for(current_app)
    data = cache.read(order.key)
    if data is None and jobs.is_long(order):
        queue = queue_for(current_app)
        state = jobs.start(order, queue, user_id=current_user.id, personal_seconds=_personal_seconds())
        data = jobs.document(queue, state, _personal_seconds())
        if data is None:
            return redirect(url_for("documents.job_page", job_id=state["id"]), 303)
        cache.put(order.key, data, True)
    if data is None:
        data, _cached = service.produce_bytes(order.key, order.build, cache, True)
    response = send_file(io.BytesIO(data), mimetype="application/pdf", download_name=order.filename, max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/me/records.pdf")
@login_required
def records_pdf():
    """The participant's records as one PDF: stays, progress, attendance, tests, make-ups, worksheets."""
    person = _own_record()
    program = current_user.program
    try:
        order = records.records_order(person, program=program, today=program_today(program))
    except DocumentNotFound:
        abort(404)
    audit_participant("participant.records_download", person.id, format="pdf")
    return _deliver(order)


@bp.get("/me/records.json")
@login_required
def records_json():
    """The participant's records as JSON, the 42 CFR 2.32 notice first."""
    person = _own_record()
    program = current_user.program
    # default=str: labels marked for translation (lazy strings) are written as text
    body = json.dumps(records.gather(person, program_today(program)), ensure_ascii=False, indent=2, default=str)
    audit_participant("participant.records_download", person.id, format="json")
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = \
        f'attachment; filename="my-records-{program_today(program).isoformat()}-confidential-42-CFR-part-2.json"'
    response.headers["Cache-Control"] = "no-store"
    return response
