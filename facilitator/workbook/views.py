"""The participant's workbook on screen, and the counselor's review of it.

URL table:
  GET  /me/workbook                                       my worksheets by track and module, with status (participant)
  GET  /me/worksheets/<code>                              a worksheet as a form, or read-only once reviewed (participant)
  POST /me/worksheets/<code>                              save a draft (button, or as JSON while typing), or submit
  GET  /participants/<id>/worksheets/<answer_id>          the answers with their questions, and the review form (staff;
                                                          the participant themself is sent to their worksheet page)
  POST /participants/<id>/worksheets/<answer_id>/review   comment and mark reviewed (staff)
The filled worksheet as a PDF is a document: /documents/participants/<id>/worksheets/<answer_id>/answers.pdf.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from ..clinical.forms import WorksheetForm
from ..extensions import db
from ..participants.models import Participant
from ..web.access import audit_participant, own_participant_or_404, roles_required, staff_required
from ..web.i18n import current_language
from . import services
from .forms import ReviewForm, SheetForm, read_answers

bp = Blueprint("workbook", __name__)
participant_required = roles_required("participant")

SAVED = _l("Draft saved.")
SUBMITTED = _l("Sent to your counselor. You can still change it until they review it.")
FIX_FIRST = _l("Some answers need a change before they can be saved; see the messages below. Nothing was saved.")
NOTHING_YET = _l("Nothing to save yet: the worksheet is empty.")
STALE_FORM = _l("The form could not be saved (it was open too long). Reload the page and try again. Nothing was saved.")


def _me() -> Participant:
    return own_participant_or_404(current_user.participant_id)


def _wants_json() -> bool:
    """A save sent by the page's script while the participant types (it asks for JSON)."""
    return request.accept_mimetypes.best == "application/json"


@bp.get("/me/workbook")
@participant_required
def index():
    """All my worksheets by track and module: not started, draft, submitted, reviewed, with comments."""
    person = _me()
    tracks, others = services.workbook(person)
    html = render_template("workbook/index.html", person=person, tracks=tracks, others=others, s=services,
                           zone=current_user.program.timezone)
    audit_participant("workbook.view", person.id, answers=sum(1 for t in tracks for e in t.entries if e.answer_id)
                      + len(others))
    db.session.commit()
    return html


def _sheet_page(person, row, answer, ws, form, status=200, problem=""):
    reviewer = services.reviewer_name(answer) if answer is not None else ""
    return render_template("workbook/sheet.html", person=person, row=row, answer=answer, ws=ws, form=form,
                           problem=str(problem), reviewer=reviewer, module=row.module, s=services,
                           zone=current_user.program.timezone), status


@bp.route("/me/worksheets/<code>", methods=["GET", "POST"])
@participant_required
def sheet(code: str):
    """A worksheet of my group's curriculum as a form: save a draft, submit it; read-only once reviewed."""
    person = _me()
    found = services.find_sheet(person, code)
    if found is None:
        abort(404)
    row, answer = found
    sheet_ = services.sheet_in(row, current_language())  # the reader's language; answers stored as the version's
    ws = WorksheetForm(sheet_, services.shown_answers(row, sheet_, answer.answers if answer is not None else {}))
    form = SheetForm()
    if request.method == "GET":
        page = _sheet_page(person, row, answer, ws, form)
        if answer is not None:
            audit_participant("worksheet_answer.view", person.id, "worksheet_answer", answer.id, code=row.code)
        db.session.commit()
        return page
    return _save(person, row, answer, sheet_, ws, form)


def _refuse(person, row, answer, ws, form, status: int, problem: str, errors: dict[str, str] | None = None):
    db.session.rollback()
    if _wants_json():
        return jsonify(saved=False, message=str(problem), errors=errors or {}), status
    return _sheet_page(person, row, answer, ws, form, status, problem)


def _save(person, row, answer, sheet_, ws, form):
    if not form.validate_on_submit():
        return _refuse(person, row, answer, ws, form, 422, STALE_FORM)
    answers, errors, problem = read_answers(ws, request.form)
    if problem or errors:
        return _refuse(person, row, answer, ws, form, 422, problem or FIX_FIRST, errors)
    submit = bool(form.submit.data) and not _wants_json()
    answers = services.stored_answers(row, sheet_, answers)
    try:
        try:
            saved, changed = services.save(person, row, answer, sheet_, answers, current_user, submit=submit)
        except IntegrityError:
            # The first save of this sheet from another tab or a double press won the race: save over it.
            db.session.rollback()
            answer = services.find_answer_to(person, row)
            saved, changed = services.save(person, row, answer, sheet_, answers, current_user, submit=submit)
    except services.WorkbookError as error:
        return _refuse(person, row, answer, ws, form, 409 if answer is not None and answer.status == "reviewed"
                       else 422, str(error))
    if saved is None:
        return _nothing_yet(row)
    if changed:
        audit_participant("worksheet_answer.save", person.id, "worksheet_answer", saved.id, code=row.code,
                          fields=changed)
    if submit:
        audit_participant("worksheet_answer.submit", person.id, "worksheet_answer", saved.id, code=row.code)
    db.session.commit()
    if _wants_json():
        return jsonify(saved=True, message=str(SAVED), status=saved.status)
    flash(str(SUBMITTED if submit else SAVED), "info")
    return redirect(url_for(".sheet", code=row.code), 303)


def _nothing_yet(row):
    if _wants_json():
        return jsonify(saved=False, message=str(NOTHING_YET))
    flash(str(NOTHING_YET), "info")
    return redirect(url_for(".sheet", code=row.code), 303)


# --- staff ----------------------------------------------------------------------------------------------------

def _answer_or_404(participant_id: int, answer_id: int):
    person = own_participant_or_404(participant_id)
    answer = services.find_answer(person, answer_id)
    if answer is None or (current_user.is_staff and answer.status == "draft"):
        abort(404)  # a draft is the participant's until they send it
    return person, answer


def _answer_page(person, answer, form, status=200, problem=""):
    shown = services.sheet_in(answer.worksheet, current_language())
    ws = WorksheetForm(shown, services.shown_answers(answer.worksheet, shown, answer.answers))
    return render_template("workbook/answer.html", person=person, answer=answer, row=answer.worksheet, ws=ws,
                           form=form, problem=problem, reviewer=services.reviewer_name(answer),
                           module=answer.worksheet.module, s=services, zone=current_user.program.timezone), status


@bp.get("/participants/<int:participant_id>/worksheets/<int:answer_id>")
@login_required
def answer(participant_id: int, answer_id: int):
    """A participant's sent worksheet with the questions of the version it was answered on, and the review form."""
    person, found = _answer_or_404(participant_id, answer_id)
    if not current_user.is_staff:  # the participant themself (anyone else had a 404): their own page
        return redirect(url_for(".sheet", code=found.worksheet.code))
    page = _answer_page(person, found, ReviewForm(formdata=None))
    audit_participant("worksheet_answer.view", person.id, "worksheet_answer", found.id, code=found.worksheet.code)
    db.session.commit()
    return page


@bp.post("/participants/<int:participant_id>/worksheets/<int:answer_id>/review")
@staff_required
def review(participant_id: int, answer_id: int):
    """Mark a sent worksheet reviewed, with a comment the participant sees."""
    person, found = _answer_or_404(participant_id, answer_id)
    form = ReviewForm()
    if not form.validate_on_submit():
        return _answer_page(person, found, form, 422, _("The review could not be saved; see the message below."))
    try:
        services.review(found, form.comment.data or "", current_user)
    except services.WorkbookError as error:
        db.session.rollback()
        return _answer_page(person, found, form, 409 if found.status == "reviewed" else 422, str(error))
    audit_participant("worksheet_answer.review", person.id, "worksheet_answer", found.id, code=found.worksheet.code,
                      commented=bool(found.comment))
    db.session.commit()
    if found.comment:
        flash(_("%(code)s marked reviewed. %(name)s now sees it as reviewed, with your comment.",
                code=found.worksheet.code, name=person.preferred_name), "info")
    else:
        flash(_("%(code)s marked reviewed. %(name)s now sees it as reviewed.", code=found.worksheet.code,
                name=person.preferred_name), "info")
    return redirect(url_for(".answer", participant_id=person.id, answer_id=found.id), 303)
