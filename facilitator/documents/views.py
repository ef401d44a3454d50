"""PDF routes: worksheets (blank, personalized, fillable), facilitator guides, the handbook, render jobs.

URL table:
  GET /documents/worksheet/<code>.pdf?participant=ID&fillable=1  worksheets of a module or one sheet
  GET /documents/guide/<code>.pdf                                 facilitator guide (staff)
  GET /documents/handbook.pdf                                     participant handbook (a render job)
  GET /documents/meetings/<group>/<day>/<hhmm>/<track>/signin.pdf  a meeting's sign-in sheet (staff)
  GET /documents/meetings/<group>/<day>/<hhmm>/<track>/packet.pdf  guide + sign-in + worksheet copies (staff)
  GET /documents/participants/<id>/progress.pdf                   progress report (staff; a participant: own)
  GET /documents/participants/<id>/certificate.pdf?name=          completion certificate (staff; participant: own)
  GET /documents/participants/<id>/worksheets/<answer_id>/answers.pdf  a worksheet with the answers in place
                                                                  (staff; a participant: own)
  GET /documents/groups/<id>/calendar.pdf?month=2027-03&months=1  a month per page, for the wall
  GET /documents/jobs/<id>  (.json, .pdf)                         progress page, status, finished file

Every document takes ?lang=en|es. Without it, worksheets, guides, the handbook, calendars and the packet's
guide print in the page's language (where the curriculum has it); a personalized copy, a progress report,
a certificate and printed answers in the participant's own language. A language the curriculum lacks is a
404 that says so.
"""

from __future__ import annotations

import io

from flask import Blueprint, abort, current_app, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..audit import services as audit
from ..extensions import db
from ..groups.models import Group
from ..participants.models import Participant
from ..queue import queue_for
from ..web.access import own_participant_or_404
from ..web.i18n import current_language
from ..workbook import services as workbook
from . import builders, calendar_doc, catalog, jobs, meeting_docs, participant_docs, service, workbook_docs

bp = Blueprint("documents", __name__, url_prefix="/documents")


def _lang() -> str | None:
    """The language asked for (?lang=es), or None for the default."""
    return request.args.get("lang") or None


def _no_language() -> None:
    """The answer when the document has no text in the language asked for."""
    abort(404, description=_("This document cannot be printed in %(language)s: the curriculum has no text in it.",
                             language=builders.language_name(request.args.get("lang", ""))))


def _people():
    """The participants asked for: staff see their program's; a participant only themself."""
    raw = request.args.getlist("participant")
    if not raw:
        return [], {}
    if not all(r.isdigit() for r in raw):
        abort(404)
    ids = [int(r) for r in raw]
    if not current_user.is_staff and ids != [current_user.participant_id]:
        abort(404)  # the same answer as for a record that does not exist
    try:
        people = catalog.participants_by_id(ids, current_user.program_id)
    except catalog.DocumentNotFound:
        abort(404)
    return people, catalog.current_enrollments(people)


def _audit(kind: str, participant_ids: list[int], detail: dict) -> None:
    for pid in participant_ids:
        audit.record("document.print", "participant", pid, user=current_user, participant_id=pid,
                     detail={"document": kind, **detail}, remote_addr=request.remote_addr or "")
    db.session.commit()


def _send(data: bytes, filename: str, personal: bool):
    # Bytes, not a path: another worker's cache pruning may delete the file at any time (documents are < 1 MB).
    response = send_file(io.BytesIO(data), mimetype="application/pdf", download_name=filename, max_age=0)
    # Health data stays out of browser and proxy caches; blank documents may be kept a while.
    response.headers["Cache-Control"] = "no-store" if personal else "private, max-age=3600"
    return response


def _deliver(order: catalog.Order):
    """Serve an order: from the cache, rendered now, or (long documents) through a render job."""
    cache = service.cache_for(current_app)
    data = cache.read(order.key)
    if data is None and jobs.is_long(order):
        queue = queue_for(current_app)
        state = jobs.start(order, queue, user_id=current_user.id, personal_seconds=_personal_seconds())
        data = jobs.document(queue, state, _personal_seconds())  # rendered before, maybe on another server
        if data is None:
            return redirect(url_for(".job_page", job_id=state["id"]), 303)
        cache.put(order.key, data, order.personal)
    if data is None:
        data, _ = service.produce_bytes(order.key, order.build, cache, order.personal)
    _audit(order.kind, list(order.participant_ids), order.detail or {})
    return _send(data, order.filename, order.personal)


@bp.get("/worksheet/<code>.pdf")
@login_required
def worksheet(code: str):
    """The worksheets of a module, or one worksheet; personalized with ?participant=ID, fillable with ?fillable=1."""
    people, enrollments = _people()
    try:
        version = catalog.version_for(people, enrollments, request.args.get("curriculum"), current_user.program_id,
                                      request.args.get("version"))
        order = catalog.worksheet_order(code, version=version, program=current_user.program, people=people,
                                        enrollments=enrollments, fillable=request.args.get("fillable") == "1",
                                        lang=_lang(), preferred=current_language())
    except catalog.LanguageMissing:
        _no_language()
    except catalog.DocumentNotFound:
        abort(404)
    return _deliver(order)


@bp.get("/guide/<code>.pdf")
@login_required
def guide(code: str):
    """The facilitator guide of a module (staff only)."""
    if not current_user.is_staff:
        abort(403)
    try:
        version = catalog.find_version(request.args.get("curriculum"), current_user.program_id,
                                       request.args.get("version"))
        order = catalog.guide_order(code, version=version, program=current_user.program, lang=_lang(),
                                    preferred=current_language())
    except catalog.LanguageMissing:
        _no_language()
    except catalog.DocumentNotFound:
        abort(404)
    return _deliver(order)


@bp.get("/handbook.pdf")
@login_required
def handbook():
    """The participant handbook (rendered by a worker; the first request waits on a progress page)."""
    try:
        version = catalog.find_version(request.args.get("curriculum"), current_user.program_id)
        order = catalog.handbook_order(version=version, program=current_user.program, lang=_lang(),
                                       preferred=current_language())
    except catalog.LanguageMissing:
        _no_language()
    except catalog.DocumentNotFound:
        abort(404)
    return _deliver(order)


def _meeting_or_404(group_id: int, day: str, at: str, track: str) -> meeting_docs.MeetingContext:
    if not current_user.is_staff:
        abort(403)
    try:
        group, planned, row = meeting_docs.find_meeting(f"{group_id}/{day}/{at}/{track}", current_user.program_id)
    except catalog.DocumentNotFound:
        abort(404)
    try:
        return meeting_docs.meeting_context(group, planned, row)
    except catalog.NotPrintable as exc:
        abort(409, description=str(exc))


@bp.get("/meetings/<int:group_id>/<day>/<at>/<track>/signin.pdf")
@login_required
def signin(group_id: int, day: str, at: str, track: str):
    """A meeting's sign-in sheet: the expected roster, signature and times, blank rows for walk-ins."""
    return _deliver(meeting_docs.signin_order(_meeting_or_404(group_id, day, at, track)))


@bp.get("/meetings/<int:group_id>/<day>/<at>/<track>/packet.pdf")
@login_required
def packet(group_id: int, day: str, at: str, track: str):
    """A meeting's packet: guide, sign-in sheet and a personalized worksheet copy per person expected."""
    try:
        order = meeting_docs.packet_order(_meeting_or_404(group_id, day, at, track), lang=_lang(),
                                          preferred=current_language())
    except catalog.NotPrintable as exc:
        abort(409, description=str(exc))
    except catalog.LanguageMissing:
        _no_language()
    return _deliver(order)


@bp.get("/participants/<int:participant_id>/progress.pdf")
@login_required
def progress(participant_id: int):
    """A participant's progress report, with the 42 CFR 2.32 notice on every page."""
    person = own_participant_or_404(participant_id)
    program = current_user.program
    try:
        order = participant_docs.progress_order(person, program=program, today=catalog.program_today(program),
                                                lang=_lang())
    except catalog.LanguageMissing:
        _no_language()
    except catalog.DocumentNotFound:
        abort(404)
    return _deliver(order)


@bp.get("/participants/<int:participant_id>/certificate.pdf")
@login_required
def certificate(participant_id: int):
    """A completion certificate, with the name as the participant chooses it (?name=, else the preferred name)."""
    person = own_participant_or_404(participant_id)
    program = current_user.program
    try:
        order = participant_docs.certificate_order(person, program=program, today=catalog.program_today(program),
                                                   name=request.args.get("name") or None, lang=_lang())
    except catalog.NotPrintable as exc:
        abort(409, description=str(exc))
    except catalog.LanguageMissing:
        _no_language()
    except catalog.DocumentNotFound:
        abort(404)
    return _deliver(order)


@bp.get("/participants/<int:participant_id>/worksheets/<int:answer_id>/answers.pdf")
@login_required
def workbook_answers(participant_id: int, answer_id: int):
    """A worksheet printed with the participant's answers in place (a staff member: only once sent)."""
    person = own_participant_or_404(participant_id)
    answer = workbook.find_answer(person, answer_id)
    if answer is None or (current_user.is_staff and answer.status == "draft"):
        abort(404)  # a draft is the participant's until they send it
    try:
        order = workbook_docs.answers_order(person, answer, program=current_user.program)
    except catalog.DocumentNotFound:
        abort(404)
    return _deliver(order)


@bp.get("/groups/<int:group_id>/calendar.pdf")
@login_required
def calendar(group_id: int):
    """A group's calendar, a month per page (staff; a participant: their own group's)."""
    group = db.session.get(Group, group_id)
    if group is None or group.program_id != current_user.program_id:
        abort(404)
    if not current_user.is_staff and group_id not in _participant_groups():
        abort(404)
    program = current_user.program
    month, months = request.args.get("month"), request.args.get("months", "1")
    first = catalog.parse_month(month) if month else catalog.program_today(program).replace(day=1)
    if first is None or not months.isdigit():
        abort(400, description=_("Give the month as YYYY-MM (2027-03) and the number of months as 1 to 12."))
    try:
        order = calendar_doc.calendar_order(group, program=program, month=first, months=int(months), lang=_lang(),
                                            preferred=current_language())
    except catalog.LanguageMissing:
        _no_language()
    except catalog.DocumentNotFound as exc:
        abort(400, description=str(exc))
    return _deliver(order)


def _participant_groups() -> set[int]:
    person = db.session.get(Participant, current_user.participant_id) if current_user.participant_id else None
    return {e.group_id for e in catalog.current_enrollments([person]).values()} if person else set()


def _personal_seconds() -> int:
    return int(current_app.config.get("DOCUMENT_PERSONAL_SECONDS", service.DEFAULT_PERSONAL_SECONDS))


def _job_or_404(job_id: str) -> dict:
    state = jobs.read_state(queue_for(current_app), job_id)
    if state is None or (state.get("program_id") and state["program_id"] != current_user.program_id):
        abort(404)
    if state.get("personal") and not current_user.is_staff and state.get("user_id") != current_user.id:
        abort(404)
    return state


@bp.get("/jobs/<job_id>")
@login_required
def job_page(job_id: str):
    """A page that shows the render's progress and fetches the file when it is ready."""
    state = _job_or_404(job_id)
    if state["status"] == "done":
        return redirect(url_for(".job_file", job_id=job_id), 303)
    return render_template("documents/job.html", state=state)


@bp.get("/jobs/<job_id>.json")
@login_required
def job_status(job_id: str):
    """The render's status for the progress page to poll."""
    state = _job_or_404(job_id)
    return jsonify(status=state["status"], done=state.get("done", 0),
                   total=state.get("total", 0),
                   file=url_for(".job_file", job_id=job_id) if state["status"] == "done" else None)


@bp.get("/jobs/<job_id>.pdf")
@login_required
def job_file(job_id: str):
    """The finished file of a render job."""
    state = _job_or_404(job_id)
    data = jobs.document(queue_for(current_app), state, _personal_seconds())  # from the queue's storage
    if data is None:
        abort(404)  # expired or cleaned up: asking for the document again renders it again
    _audit("job", state.get("participant_ids", []), {"job": job_id[:12]})
    return _send(data, state.get("filename", "document.pdf"), bool(state.get("personal")))
