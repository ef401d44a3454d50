"""The program settings page (directors): the program's name, time zone, address and phone, its sign-in
rules, alert thresholds, hours floor, printing, billing codes, attendance statuses and holidays.

URL table:
  GET  /programs/                                   the settings page
  POST /programs/details                            save the program's name, time zone, address and phone
  POST /programs/sign-in                            save automatic sign-out, two-factor and portal rules
  POST /programs/settings                           save thresholds, hours, printing and billing settings
  POST /programs/statuses                           add a status
  POST /programs/statuses/<id>                      rename a status or change its flags
  POST /programs/statuses/<id>/up  | /down          move a status in the list
  POST /programs/statuses/<id>/retire               stop offering a status (deleted only if never used)
  POST /programs/statuses/<id>/restore              offer a retired status again
  POST /programs/holidays                           add a holiday (every meeting that day is cancelled)
  POST /programs/holidays/<id>/remove               remove a coming holiday
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from ..audit import services as audit
from ..extensions import db
from ..groups import schedule
from ..groups.services import GroupRefused
from ..programs.models import AttendanceStatus, Program
from ..web.access import director_required
from ..web.i18n import format_when
from . import details, services
from .forms import ActionForm, DetailsForm, HolidayForm, SettingsForm, SignInRulesForm, StatusForm
from .services import program_today

bp = Blueprint("programs", __name__)


def _today() -> date:
    return program_today(current_user.program)


def _program() -> Program:
    return db.session.get(Program, current_user.program_id)


def _status_or_404(status_id: int) -> AttendanceStatus:
    status = db.session.get(AttendanceStatus, status_id)
    if status is None or status.program_id != current_user.program_id:
        abort(404)
    return status


def _audit(action: str, entity: str, entity_id: int | None, **detail) -> None:
    audit.record(action, entity, entity_id, user=current_user, detail=detail, remote_addr=request.remote_addr or "")


def _page(status: int = 200, *, settings_form: SettingsForm | None = None, new_form: StatusForm | None = None,
          edited: tuple[int, StatusForm] | None = None, holiday_form: HolidayForm | None = None,
          problem: tuple[int, str] | None = None, details_form: DetailsForm | None = None,
          rules_form: SignInRulesForm | None = None):
    """The settings page, with the one form the caller holds (and its errors) in place of a fresh one."""
    program = _program()
    statuses = services.program_statuses(program.id)
    forms = {s.id: StatusForm(formdata=None, prefix=f"status-{s.id}", obj=s) for s in statuses}
    if edited is not None:
        forms[edited[0]] = edited[1]
    html = render_template(
        "programs/index.html", program=program, today=_today(),
        settings_form=settings_form or SettingsForm.of(services.settings_of(program)),
        offered=[s for s in statuses if not services.is_retired(s)],
        retired=[s for s in statuses if services.is_retired(s)], status_forms=forms,
        in_use=services.statuses_in_use(program.id), new_form=new_form or StatusForm(formdata=None, prefix="new"),
        action_form=ActionForm(formdata=None), holidays=schedule.upcoming_holidays(program.id, _today()),
        holiday_form=holiday_form or HolidayForm(formdata=None), problem=problem,
        details_form=details_form or DetailsForm.of(details.details_of(program)),
        rules_form=rules_form or SignInRulesForm.of(details.rules_of(program)))
    return html, status


@bp.route("/programs/")
@director_required
def index():
    """The settings page: thresholds, hours, printing, billing, statuses and holidays."""
    return _page()


def _save_section(form, values, update, form_name: str, saved: str, anchor: str):
    """Save one section of the settings page through update(program, values, user): audited, then
    back to the section; a refusal shows the page again with the errors next to the fields (422)."""
    if values is None:
        return _page(422, **{form_name: form})
    try:
        changed = update(_program(), values, current_user)
    except services.SettingsRefused as refused:
        form.refuse(refused.problems)
        return _page(422, **{form_name: form})
    _audit("program.settings", "program", current_user.program_id, fields=changed)
    db.session.commit()
    flash(saved if changed else _("Nothing changed."), "info")
    return redirect(url_for(".index", _anchor=anchor))


@bp.route("/programs/details", methods=["POST"])
@director_required
def save_details():
    """Save the program's name, time zone, address and phone; a bad value is refused next to its field."""
    form = DetailsForm(prefix="program")
    values = form.to_details() if form.validate_on_submit() else None
    return _save_section(form, values, details.update_details, "details_form", _("Program details saved."), "program")


@bp.route("/programs/sign-in", methods=["POST"])
@director_required
def save_sign_in_rules():
    """Save automatic sign-out, two-factor sign-in and portal access rules; bad values are refused."""
    form = SignInRulesForm()
    values = form.to_rules() if form.validate_on_submit() else None
    return _save_section(form, values, details.update_rules, "rules_form", _("Sign-in rules saved."), "sign-in")


@bp.route("/programs/settings", methods=["POST"])
@director_required
def save_settings():
    """Save the settings; every bad value is refused with a message next to its field."""
    form = SettingsForm()
    values = form.to_settings() if form.validate_on_submit() else None
    return _save_section(form, values, services.update_settings, "settings_form", _("Settings saved."), "general")


@bp.route("/programs/statuses", methods=["POST"])
@director_required
def add_status():
    """Add an attendance status at the end of the list."""
    form = StatusForm(prefix="new")
    if not form.validate_on_submit():
        return _page(422, new_form=form)
    try:
        status = services.add_status(_program(), form.flags(), current_user)
    except services.SettingsRefused as refused:
        for name, message in refused.problems.items():
            form[name].errors = [message]
        return _page(422, new_form=form)
    _audit("status.add", "attendance_status", status.id)
    db.session.commit()
    flash(_("Added the status %(label)s.", label=status.label), "info")
    return redirect(url_for(".index", _anchor="statuses"))


@bp.route("/programs/statuses/<int:status_id>", methods=["POST"])
@director_required
def update_status(status_id: int):
    """Rename a status or change its flags (attendance already recorded keeps it)."""
    status = _status_or_404(status_id)
    form = StatusForm(prefix=f"status-{status.id}")
    if not form.validate_on_submit():
        return _page(422, edited=(status.id, form))
    try:
        services.update_status(_program(), status, form.flags(), current_user)
    except services.SettingsRefused as refused:
        for name, message in refused.problems.items():
            form[name].errors = [message]
        return _page(422, edited=(status_id, form))
    _audit("status.update", "attendance_status", status.id)
    db.session.commit()
    flash(_("Saved the status %(label)s.", label=status.label), "info")
    return redirect(url_for(".index", _anchor=f"status-{status_id}"))


def _action(status_id: int, run) -> tuple[AttendanceStatus, object]:
    """Check the CSRF token and run a status change (a refusal is shown next to the status)."""
    status = _status_or_404(status_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    return status, run(_program(), status, current_user)


@bp.route("/programs/statuses/<int:status_id>/<any(up, down):direction>", methods=["POST"])
@director_required
def move_status(status_id: int, direction: str):
    """Move a status one place up or down the attendance form."""
    try:
        _action(status_id, lambda p, s, u: services.move_status(p, s, direction, u))
    except services.SettingsRefused as refused:
        return _page(422, problem=(status_id, " ".join(refused.problems.values())))
    _audit("status.move", "attendance_status", status_id, direction=direction)
    db.session.commit()
    return redirect(url_for(".index", _anchor=f"status-{status_id}"))


@bp.route("/programs/statuses/<int:status_id>/retire", methods=["POST"])
@director_required
def retire_status(status_id: int):
    """Stop offering a status; one that attendance uses is kept (retired), never deleted."""
    try:
        status, outcome = _action(status_id, services.retire_status)
    except services.SettingsRefused as refused:
        return _page(422, problem=(status_id, " ".join(refused.problems.values())))
    label = status.label
    _audit(f"status.{'retire' if outcome == 'retired' else 'delete'}", "attendance_status", status_id)
    db.session.commit()
    flash(_("%(label)s is retired: attendance already recorded with it keeps it.", label=label) if outcome == "retired"
          else _("%(label)s was never used and is removed.", label=label), "info")
    return redirect(url_for(".index", _anchor="statuses"))


@bp.route("/programs/statuses/<int:status_id>/restore", methods=["POST"])
@director_required
def restore_status(status_id: int):
    """Offer a retired status again, at the end of the list."""
    try:
        status, _changed = _action(status_id, services.restore_status)
    except services.SettingsRefused as refused:
        return _page(422, problem=(status_id, " ".join(refused.problems.values())))
    _audit("status.restore", "attendance_status", status_id)
    db.session.commit()
    flash(_("%(label)s is offered again.", label=status.label), "info")
    return redirect(url_for(".index", _anchor=f"status-{status_id}"))


@bp.route("/programs/holidays", methods=["POST"])
@director_required
def add_holiday():
    """Add a program holiday: every meeting of every group that day is cancelled, modules move on."""
    form = HolidayForm()
    day = form.day() if form.validate_on_submit() else None
    if day is None:
        return _page(422, holiday_form=form)
    program_id = current_user.program_id
    problems = schedule.check_holiday(program_id, day, form.name.data or "", _today())
    if problems:
        for name, message in problems.items():
            form[name].errors = [message]
        return _page(422, holiday_form=form)
    moved = schedule.holiday_effect(program_id, day)
    holiday = schedule.add_holiday(program_id, day, form.name.data or "", current_user, _today())
    _audit("holiday.add", "holiday", holiday.id, date=day.isoformat())
    db.session.commit()
    flash(_("%(holiday)s on %(day)s is a holiday for the whole program.", holiday=holiday.name,
            day=format_when(day, "day_year")) + " "
          + ngettext("%(num)d meeting cancelled; their modules move to the next meeting.",
                     "%(num)d meetings cancelled; their modules move to the next meeting.", len(moved)), "info")
    return redirect(url_for(".index", _anchor="holidays"))


@bp.route("/programs/holidays/<int:holiday_id>/remove", methods=["POST"])
@director_required
def remove_holiday(holiday_id: int):
    """Remove a coming holiday: that day's meetings take place again."""
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        holiday = schedule.remove_holiday(current_user.program_id, holiday_id, current_user, _today())
    except GroupRefused as refused:
        flash(" ".join(refused.problems.values()), "error")
        return redirect(url_for(".index", _anchor="holidays"))
    if holiday is None:
        abort(404)
    _audit("holiday.remove", "holiday", holiday_id, date=holiday.date.isoformat())
    db.session.commit()
    flash(_("%(holiday)s is no longer a holiday; meetings on %(day)s take place.", holiday=holiday.name,
            day=format_when(holiday.date, "day_year")), "info")
    return redirect(url_for(".index", _anchor="holidays"))
