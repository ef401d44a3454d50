"""Drug and breath tests, and relapse analyses, per participant.

URL table:
  GET  /participants/<id>/tests                          tests and analyses (staff; the participant themself)
  POST /participants/<id>/tests                          record a test (staff)
  POST /participants/<id>/relapse-analyses               open an analysis for a reported use or craving (staff)
  GET  /participants/<id>/relapse-analyses/<ra_id>       the analysis worksheet (staff; the participant themself)
  POST /participants/<id>/relapse-analyses/<ra_id>       save a draft (staff; the participant themself), or
                                                         save and mark reviewed (staff only)
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..extensions import db
from ..participants.models import Participant
from ..web.access import audit_participant, own_participant_or_404, staff_required
from ..web.i18n import current_language
from . import services
from .forms import AnalysisForm, DrugTestForm, ReportForm, WorksheetForm

bp = Blueprint("clinical", __name__)


def _tests_page(person: Participant, test_form: DrugTestForm | None = None, report_form: ReportForm | None = None,
                status: int = 200):
    tests, analyses = services.tests_of(person), services.analyses_of(person)
    by_test = {a.drug_test_id: a for a in analyses if a.drug_test_id is not None}
    names = services.staff_names({t.recorded_by_id for t in tests} | {a.reviewed_by_id for a in analyses
                                                                       if a.reviewed_by_id})
    opened = request.args.get("opened", type=int)
    just_opened = next((a for a in analyses if a.id == opened and a.status == "open"), None)
    today = services.program_today(person.program_id)
    if current_user.is_staff:
        test_form = test_form or DrugTestForm(formdata=None, collected_on=today)
        report_form = report_form or ReportForm(formdata=None, occurred_on=today)
    page = render_template(
        "clinical/tests.html", person=person, tests=tests, analyses=analyses, by_test=by_test, names=names,
        test_form=test_form, report_form=report_form, just_opened=just_opened, today=today, s=services,
    )
    # Commit the audit event after rendering: a commit expires every loaded row, and reading them
    # again would cost a query per row.
    audit_participant("clinical.tests.view", person.id, tests=len(tests), analyses=len(analyses))
    db.session.commit()
    return page, status


@bp.route("/participants/<int:participant_id>/tests")
@login_required
def tests(participant_id: int):
    """A participant's drug and breath tests and relapse analyses, with the forms to record more."""
    return _tests_page(own_participant_or_404(participant_id))


def _refused(form, error: services.ClinicalError) -> None:
    """Put a service's refusal next to the field it concerns (or at the top of the form)."""
    target = getattr(form, error.field, None) if error.field else None
    if target is not None:
        target.errors = [*target.errors, str(error)]
    else:
        form.form_errors.append(str(error))


def _after_recording(person: Participant, recorded: services.Recorded, what: str):
    if recorded.test is not None:
        audit_participant("drug_test.create", person.id, "drug_test", recorded.test.id)
    if recorded.analysis is not None:
        audit_participant("relapse_analysis.open", person.id, "relapse_analysis", recorded.analysis.id,
                          drug_test_id=recorded.analysis.drug_test_id)
    if recorded.sobriety_date is not None:
        audit_participant("participant.update", person.id, fields=["sobriety_date"])
    db.session.commit()
    flash(what, "info")
    opened = recorded.analysis.id if recorded.analysis is not None else None
    return redirect(url_for(".tests", participant_id=person.id, opened=opened, _anchor="opened" if opened else None),
                    303)


@bp.route("/participants/<int:participant_id>/tests", methods=["POST"])
@staff_required
def record_test(participant_id: int):
    """Record a test; a positive result opens a relapse analysis and resets the sobriety date."""
    person = own_participant_or_404(participant_id)
    form = DrugTestForm()
    if form.validate_on_submit():
        try:
            recorded = services.record_test(
                person, collected_on=form.collected_on.data, kind=form.kind.data, result=form.result.data,
                substances=form.substances.data or [], observed=form.observed.data, user=current_user,
                today=services.program_today(person.program_id))
        except services.ClinicalError as error:
            db.session.rollback()
            _refused(form, error)
        else:
            test = recorded.test
            what = _("%(result)s %(kind)s test on %(day)s recorded.", result=services.RESULT_LABELS[test.result],
                     kind=str(services.KIND_LABELS[test.kind]).lower(), day=services.day_label(test.collected_on))
            return _after_recording(person, recorded, what)
    return _tests_page(person, test_form=form, status=422)


@bp.route("/participants/<int:participant_id>/relapse-analyses", methods=["POST"])
@staff_required
def report(participant_id: int):
    """Open a relapse analysis for a use or strong craving the participant reports."""
    person = own_participant_or_404(participant_id)
    form = ReportForm()
    if form.validate_on_submit():
        try:
            recorded = services.record_report(person, occurred_on=form.occurred_on.data, opened_by=form.opened_by.data,
                                              user=current_user, today=services.program_today(person.program_id))
        except services.ClinicalError as error:
            db.session.rollback()
            _refused(form, error)
        else:
            return _after_recording(person, recorded, _("Relapse analysis opened."))
    return _tests_page(person, report_form=form, status=422)


def _analysis_page(person: Participant, analysis, sheet, ws: WorksheetForm | None, form: AnalysisForm,
                   status: int = 200, problem: str = ""):
    names = services.staff_names({analysis.reviewed_by_id} if analysis.reviewed_by_id else set())
    return render_template("clinical/analysis.html", person=person, analysis=analysis, sheet=sheet, ws=ws,
                           form=form, names=names, problem=problem, s=services), status


@bp.route("/participants/<int:participant_id>/relapse-analyses/<int:analysis_id>", methods=["GET", "POST"])
@login_required
def analysis(participant_id: int, analysis_id: int):
    """The relapse analysis worksheet as a web form: save a draft; a counselor marks it reviewed."""
    person = own_participant_or_404(participant_id)
    found = services.find_analysis(person, analysis_id)
    if found is None:
        abort(404)
    sheet = services.analysis_worksheet(services.version_on(person, found.occurred_on), current_language())
    ws = WorksheetForm(sheet, found.answers) if sheet is not None else None
    form = AnalysisForm()
    if request.method == "GET":
        page = _analysis_page(person, found, sheet, ws, form)
        audit_participant("relapse_analysis.view", person.id, "relapse_analysis", found.id)
        db.session.commit()
        return page
    if not form.validate_on_submit() or ws is None:
        return _analysis_page(person, found, sheet, ws, form, 422, _("The form could not be saved. Try again."))
    answers, errors = ws.read(request.form)
    if errors:
        return _analysis_page(person, found, sheet, ws, form, 422,
                              _("Some answers need a change before they can be saved; see the messages below."))
    try:
        changed = services.save_answers(found, sheet, answers, current_user)
        if form.review.data:
            services.mark_reviewed(found, current_user)
    except services.ClinicalError as error:
        db.session.rollback()  # a refused review saves nothing either
        return _analysis_page(person, found, sheet, ws, form, 403 if isinstance(error, services.NotAllowed) else 422,
                              str(error))
    if changed:
        audit_participant("relapse_analysis.save", person.id, "relapse_analysis", found.id, fields=changed)
    if form.review.data:
        audit_participant("relapse_analysis.review", person.id, "relapse_analysis", found.id)
    db.session.commit()
    flash(_("Relapse analysis marked reviewed. It is now read-only.") if form.review.data else _("Draft saved."), "info")
    return redirect(url_for(".analysis", participant_id=person.id, analysis_id=found.id), 303)
