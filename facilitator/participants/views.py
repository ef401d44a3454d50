"""Participant screens: the list, the participant page, admission, profile, transfer, discharge,
make-ups, and a participant's own page (/me). Views are thin: parse, call a service, audit, commit.

| method    | URL                                             | who        |
|-----------|-------------------------------------------------|------------|
| GET       | /participants/                                  | staff      |
| GET, POST | /participants/new                               | staff      |
| GET       | /participants/<id>                              | staff      |
| GET, POST | /participants/<id>/profile                      | staff      |
| GET, POST | /participants/<id>/admit                        | staff      |
| GET, POST | /participants/<id>/transfer                     | staff      |
| GET, POST | /participants/<id>/discharge                    | staff      |
| GET, POST | /participants/<id>/makeups/new                  | staff      |
| GET, POST | /participants/<id>/makeups/<makeup>/complete    | staff      |
| POST      | /participants/<id>/makeups/<makeup>/cancel      | staff      |
| GET       | /me                                             | participant|
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from ..audit import services as audit
from ..audit import trail
from ..auth.accounts import portal_account
from ..contingency import ledger as incentives
from ..extensions import db
from ..portal import schedule as portal_schedule
from ..programs.services import program_today
from ..progress import services as makeups
from ..progress.forms import CancelMakeUpForm, CompleteMakeUpForm, IndividualSessionForm, MakeUpForm
from ..progress.models import MakeUp
from ..web.access import audit_participant, own_participant_or_404, staff_required
from ..web.i18n import format_when
from ..web.remembered_pages import remembered_page
from ..workbook import services as workbook
from . import pages, services
from .forms import AdmitForm, DischargeForm, ListFilterForm, NewParticipantForm, ProfileForm, TransferForm, options

bp = Blueprint("participants", __name__)


def _today() -> date:
    return program_today(current_user.program)


def _refuse(form: FlaskForm, error: services.InputError | makeups.MakeUpError) -> None:
    """Show a service's refusal next to the field it names (or at the top if the form has no such field)."""
    target = getattr(form, error.field, None)
    if target is None:
        flash(error.message, "error")
    else:
        target.errors = [*target.errors, error.message]


def _group_choices(form_field, blank: str = "", groups: list | None = None) -> None:
    active = [g for g in (groups if groups is not None else pages.program_groups(current_user.program_id)) if g.active]
    form_field.choices = options([("", blank or _("Choose a group"))] + [(g.id, g.name) for g in active])


def _audit_many(action: str, participant_ids: list[int]) -> None:
    """One audit event per participant shown, written in one statement (a list may show hundreds)."""
    audit.record_many(action, "participant", None, participant_ids, user=current_user,
                      remote_addr=request.remote_addr or "")


def _committed(html: str) -> str:
    # Render first, then commit the audit events: a commit expires every loaded row, and reading
    # them again in the template would cost one query per row.
    db.session.commit()
    return html


def _status(form: FlaskForm) -> int:
    # Not form.errors: WTForms caches it at validation, before a service's refusal is added.
    return 422 if any(f.errors for f in form) else 200


@bp.route("/participants/")
@staff_required
def index():
    """Participants of the program with group, week, progress, projection and alerts; filters and search."""
    return remembered_page("participants", _list_page)


def _list_page() -> str:
    form = ListFilterForm(request.args)
    groups = pages.program_groups(current_user.program_id, with_slots=True)  # the filter's and the progress's
    _group_choices(form.group, _("All groups"), groups)
    status = form.status.data if form.status.data in pages.STATUSES else "active"
    filters = pages.ListFilters(group_id=form.group.data, status=status, search=(form.q.data or "")[:60])
    rows = pages.list_rows(current_user.program, filters, _today(), groups)
    html = render_template("participants/index.html", rows=rows, form=form, filters=filters, today=_today())
    _audit_many("participant.list", [row.participant.id for row in rows])
    return _committed(html)


@bp.route("/participants/new", methods=["GET", "POST"])
@staff_required
def new():
    """Create a participant and admit them to a group in one form."""
    form = NewParticipantForm()
    _group_choices(form.group_id)
    if request.method == "GET":
        form.admitted_on.data = _today()
    if form.validate_on_submit():
        try:
            person = services.create_participant(
                current_user.program_id, _profile(form), form.group_id.data, form.admitted_on.data,
                current_user, _today())
        except services.InputError as error:
            _refuse(form, error)
        else:
            audit_participant("participant.create", person.id, fields=["preferred_name", "initials",
                                                                        "record_number", "language"])
            audit_participant("enrollment.admit", person.id, "enrollment", person.enrollments[-1].id)
            db.session.commit()
            flash(_("%(name)s is admitted.", name=person.preferred_name), "info")
            return redirect(url_for("participants.show", participant_id=person.id))
    return render_template("participants/new.html", form=form), _status(form)


def _profile(form: ProfileForm) -> services.Profile:
    return services.Profile(form.preferred_name.data or "", form.initials.data or "", form.record_number.data or "",
                            form.language.data or "")


@bp.route("/participants/<int:participant_id>")
@staff_required
def show(participant_id: int):
    """The participant page: profile, stays, progress grid, hours, absences, make-ups and alerts."""
    person = own_participant_or_404(participant_id)

    def opened() -> list:
        return trail.openings(person.id, person.program_id, current_user.program.timezone, _today())

    def build() -> str:
        page = pages.participant_page(person, _today())
        audit_participant("participant.view", person.id)  # before "who opened this record" reads the trail
        cm_panel = incentives.panel_for(person, _today())  # incentives, when the program runs them
        html = render_template("participants/show.html", page=page, reason_labels=services.reason_labels(),
                               opened=opened(), opened_record=person.record_number, cm_panel=cm_panel,
                               portal=portal_account(person),
                               workbook=workbook.staff_panel(person.id, current_user.program.timezone))
        return _committed(html)

    # Who opened the record changes with every view, this one included: rendered afresh each time.
    return remembered_page("participant", build, live={"opened": lambda: render_template(
        "audit/_opened.html", opened=opened(), opened_record=person.record_number)})


@bp.route("/participants/<int:participant_id>/profile", methods=["GET", "POST"])
@staff_required
def profile(participant_id: int):
    """Edit preferred name, initials, record number and language."""
    person = own_participant_or_404(participant_id)
    form = ProfileForm(obj=person)
    if form.validate_on_submit():
        try:
            changed = services.update_profile(person, _profile(form), current_user)
        except services.InputError as error:
            _refuse(form, error)
        else:
            audit_participant("participant.update", person.id, fields=changed)
            db.session.commit()
            flash(_("Profile saved.") if changed else _("Nothing changed."), "info")
            return redirect(url_for("participants.show", participant_id=person.id))
    else:
        audit_participant("participant.view", person.id, page="profile")
        db.session.commit()
    return render_template("participants/profile.html", person=person, form=form), _status(form)


@bp.route("/participants/<int:participant_id>/admit", methods=["GET", "POST"])
@staff_required
def admit(participant_id: int):
    """Admit (or readmit) a participant with no open stay."""
    person = own_participant_or_404(participant_id)
    form = AdmitForm()
    _group_choices(form.group_id)
    if request.method == "GET":
        form.admitted_on.data = _today()
    if form.validate_on_submit():
        try:
            enrollment = services.admit(person, form.group_id.data, form.admitted_on.data, current_user, _today())
        except services.InputError as error:
            _refuse(form, error)
        else:
            audit_participant("enrollment.admit", person.id, "enrollment", enrollment.id)
            db.session.commit()
            flash(_("%(name)s is admitted to %(group)s.", name=person.preferred_name, group=enrollment.group.name), "info")
            return redirect(url_for("participants.show", participant_id=person.id))
    return render_template("participants/admit.html", person=person, form=form,
                           current=services.open_enrollment(person)), _status(form)


@bp.route("/participants/<int:participant_id>/transfer", methods=["GET", "POST"])
@staff_required
def transfer(participant_id: int):
    """Move to another group: the current stay ends as 'transferred', a new one starts, history stays."""
    person = own_participant_or_404(participant_id)
    current = services.open_enrollment(person)
    form = TransferForm()
    _group_choices(form.group_id)
    if request.method == "GET":
        form.first_day.data = _today()
    if form.validate_on_submit():
        try:
            moved = services.transfer(person, form.group_id.data, form.first_day.data, form.note.data or "",
                                      current_user, _today())
        except services.InputError as error:
            _refuse(form, error)
        else:
            audit_participant("enrollment.transfer", person.id, "enrollment", moved.id,
                              from_enrollment=current.id if current else None)
            db.session.commit()
            flash(_("%(name)s moves to %(group)s on %(day)s.", name=person.preferred_name, group=moved.group.name,
                    day=format_when(moved.admitted_on, "short")), "info")
            return redirect(url_for("participants.show", participant_id=person.id))
    return render_template("participants/transfer.html", person=person, form=form, current=current), _status(form)


@bp.route("/participants/<int:participant_id>/discharge", methods=["GET", "POST"])
@staff_required
def discharge(participant_id: int):
    """Discharge with a national reason category."""
    person = own_participant_or_404(participant_id)
    current = services.open_enrollment(person)
    form = DischargeForm()
    if request.method == "GET":
        form.discharged_on.data = _today()
    if form.validate_on_submit():
        try:
            closed = services.discharge(person, form.discharged_on.data, form.reason.data or "",
                                        form.note.data or "", current_user, _today())
        except services.InputError as error:
            _refuse(form, error)
        else:
            audit_participant("enrollment.discharge", person.id, "enrollment", closed.id,
                              fields=["discharged_on", "discharge_reason", "discharge_note"])
            db.session.commit()
            flash(_("%(name)s is discharged (%(reason)s).", name=person.preferred_name,
                    reason=services.reason_label(closed.discharge_reason)), "info")
            return redirect(url_for("participants.show", participant_id=person.id))
    return render_template("participants/discharge.html", person=person, form=form, current=current), _status(form)


@bp.route("/participants/<int:participant_id>/makeups/new", methods=["GET", "POST"])
@staff_required
def new_makeup(participant_id: int):
    """Plan a make-up: a group's meeting (from the suggestions), an individual session, or homework."""
    person = own_participant_or_404(participant_id)
    form = MakeUpForm(formdata=request.form if request.method == "POST" else request.args or None)
    _group_choices(form.group_id)
    if form.validate_on_submit():
        try:
            makeup = makeups.assign_makeup(person, form.module.data or "", form.method.data or "",
                                           form.group_id.data, form.planned_on.data, form.note.data or "",
                                           current_user, _today())
        except makeups.MakeUpError as error:
            _refuse(form, error)
        else:
            audit_participant("makeup.assign", person.id, "makeup", makeup.id)
            db.session.commit()
            flash(_("Make-up planned for %(code)s.", code=makeup.module.code), "info")
            return redirect(url_for("participants.show", participant_id=person.id, _anchor="makeups"))
    page = pages.participant_page(person, _today())
    form.module.choices = options([("", _("Choose a module")), *pages.missing_modules(page)])
    html = render_template("participants/makeup_new.html", person=person, form=form, page=page)
    audit_participant("participant.view", person.id, page="makeup")
    return _committed(html), _status(form)


def _makeup_or_404(person_id: int, makeup_id: int) -> MakeUp:
    makeup = db.session.get(MakeUp, makeup_id)
    if makeup is None or makeup.participant_id != person_id:
        abort(404)
    return makeup


@bp.route("/participants/<int:participant_id>/makeups/<int:makeup_id>/complete", methods=["GET", "POST"])
@staff_required
def complete_makeup(participant_id: int, makeup_id: int):
    """Mark a make-up done: the module is credited (source make-up, linked to the plan, who and when)."""
    person = own_participant_or_404(participant_id)
    makeup = _makeup_or_404(person.id, makeup_id)
    form = CompleteMakeUpForm()
    if request.method == "GET":
        form.completed_on.data = _today()
        form.minutes.data = 0 if makeup.method == "homework" else makeup.module.minutes
    if form.validate_on_submit():
        try:
            credit = makeups.complete_makeup(makeup, form.completed_on.data, current_user, _today(),
                                             form.minutes.data)
        except makeups.MakeUpError as error:
            _refuse(form, error)
        else:
            audit_participant("makeup.complete", person.id, "makeup", makeup.id, credit_id=credit.id)
            db.session.commit()
            flash(_("%(code)s is credited.", code=makeup.module.code), "info")
            return redirect(url_for("participants.show", participant_id=person.id, _anchor="makeups"))
    return render_template("participants/makeup_complete.html", person=person, makeup=makeup,
                           form=form), _status(form)


@bp.route("/participants/<int:participant_id>/makeups/<int:makeup_id>/cancel", methods=["POST"])
@staff_required
def cancel_makeup(participant_id: int, makeup_id: int):
    """Cancel a planned make-up (it stays in the history)."""
    person = own_participant_or_404(participant_id)
    makeup = _makeup_or_404(person.id, makeup_id)
    form = CancelMakeUpForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        makeups.cancel_makeup(makeup, current_user)
    except makeups.MakeUpError as error:
        flash(error.message, "error")
    else:
        audit_participant("makeup.cancel", person.id, "makeup", makeup.id)
        db.session.commit()
        flash(_("The make-up for %(code)s is cancelled.", code=makeup.module.code), "info")
    return redirect(url_for("participants.show", participant_id=person.id, _anchor="makeups"))


@bp.route("/me")
@login_required
def me():
    """A participant's own page: schedule, what is done and still missing, make-ups. Nobody else's data."""
    if current_user.role != "participant":
        return redirect(url_for("participants.index"))
    person = own_participant_or_404(current_user.participant_id)
    page = pages.participant_page(person, _today(), for_staff=False)
    cm_panel = incentives.panel_for(person, _today())
    html = render_template("participants/me.html", page=page, sessions=portal_schedule.my_sessions(page),
                           cm_panel=cm_panel)
    audit_participant("participant.view", person.id, page="me")
    return _committed(html)


@bp.route("/participants/<int:participant_id>/sessions/new", methods=["GET", "POST"])
@staff_required
def record_session(participant_id: int):
    """Record an individual session (IC) or relapse analysis session (RA) that was held: it credits the module."""
    person = own_participant_or_404(participant_id)
    plan = makeups.progress_for([person], _today())[person.id]
    form = IndividualSessionForm()
    form.module.choices = options([("", _("Choose a session"))] + [
        (code, f"{code} {title}") for code, title in makeups.individual_modules(plan)])
    if request.method == "GET":
        form.held_on.data = _today()
    if form.validate_on_submit():
        try:
            credit = makeups.record_individual_session(person, form.module.data or "", form.held_on.data,
                                                       form.note.data or "", current_user, _today(),
                                                       form.minutes.data)
        except makeups.MakeUpError as error:
            _refuse(form, error)
        else:
            audit_participant("session.record", person.id, "credit", credit.id)
            db.session.commit()
            flash(_("%(code)s is credited.", code=form.module.data), "info")
            return redirect(url_for("participants.show", participant_id=person.id))
    html = render_template("participants/session_new.html", person=person, form=form)
    audit_participant("participant.view", person.id, page="session")
    return _committed(html), _status(form)
