"""Today's meetings and the meeting page: guide, roster, attendance, note, cancel, sign."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..alerts.services import alerts_for, schedule_under_floor
from ..attendance.models import status_label
from ..audit import services as audit
from ..curricula.models import Curriculum, CurriculumVersion, Module
from ..curricula.services import domain_module
from ..extensions import db
from ..groups.calendars import version_structure
from ..groups.models import Group
from ..groups.services import shown_titles
from ..participants.models import Enrollment, Participant
from ..programs.services import active_statuses, program_today
from ..progress.services import progress_for
from ..web.access import own_group_or_404, staff_required
from ..web.i18n import current_language
from ..web.remembered_pages import remembered_page
from ..workbook import services as workbook
from . import conflicts, services
from .forms import AddendumForm, AttendanceForm, CancelForm, GuestForm, LockForm, ReopenForm

bp = Blueprint("meetings", __name__)
DAYS_AHEAD = 7


def _program_groups(mine_only: bool) -> list[Group]:
    # With their weekly patterns: every group's calendar is built from them.
    query = (select(Group).where(Group.program_id == current_user.program_id, Group.active).order_by(Group.name)
             .options(selectinload(Group.slots)))
    if mine_only:
        query = query.where(Group.facilitator_id == current_user.id)
    return list(db.session.scalars(query))


@bp.route("/today")
@staff_required
def today():
    """My meetings today and in the next 7 days, with expected roster sizes and alerts."""
    return remembered_page("today", _today_page)


def _today_page() -> str:
    mine_only = current_user.role == "facilitator" and request.args.get("all") != "1"
    groups = _program_groups(mine_only)
    day = program_today(current_user.program)
    people = list(db.session.scalars(
        select(Participant).join(Enrollment, Enrollment.participant_id == Participant.id)
        .where(Enrollment.group_id.in_([g.id for g in groups]), Enrollment.discharged_on.is_(None)).distinct()))
    plans = progress_for(people, day, groups=groups)
    # The members' progress came with their groups' calendars (20 weeks ahead): the next 7 days are in them.
    calendars = {p.group.id: p.calendar for p in plans.values() if p.group is not None and p.calendar is not None}
    meetings = services.upcoming(groups, day, DAYS_AHEAD, calendars) if groups else []
    alerts = alerts_for(groups[0].program, plans, day) if groups else {}
    structures = {g.id: version_structure(g.version_id) for g in groups}  # cached: published versions never change
    groups_by_id = {g.id: g for g in groups}
    first_weeks = {gid: {t.code: t.first_week for t in s.tracks} for gid, s in structures.items()}
    shown: dict[int, dict[str, str]] = {}  # per version: the module titles in the page's language
    titles = {gid: shown.setdefault(groups_by_id[gid].version_id, shown_titles(s, groups_by_id[gid].version_id))
              for gid, s in structures.items()}
    rows = []
    for group, meeting in meetings:
        members = [p for p in plans.values() if p.group is not None and p.group.id == group.id]
        expected = [p for p in members if services.is_expected(p, meeting, first_weeks[group.id][meeting.track])]
        flagged = sum(1 for p in expected if p.participant.id in alerts)
        rows.append({"group": group, "meeting": meeting, "title": titles[group.id].get(meeting.module, ""),
                     "expected": len(expected), "flagged": flagged})
    people_by_id = {p.id: p for p in people}
    alert_rows = sorted(((people_by_id[pid], alert) for pid, found in alerts.items() for alert in found),
                        key=lambda pair: (pair[1].severity != "urgent", pair[0].preferred_name.lower()))
    audit.record_many("alerts.view", "participant", None, list(alerts), user=current_user,
                      remote_addr=request.remote_addr or "")
    html = render_template("meetings/today.html", rows=rows, today=day, alert_rows=alert_rows,
                           mine_only=mine_only, under_floor=schedule_under_floor(plans, current_user.program)
                           if groups else None, floor=current_user.program.hours_floor_minutes / 60)
    db.session.commit()  # after rendering: a commit expires every row, and the page would reload them one by one
    return html


def _planned_or_404(group_id: int, day: str, at: str, track: str, with_calendar: bool = False):
    group = own_group_or_404(group_id)
    try:
        when = date.fromisoformat(day)
    except ValueError:
        abort(404)
    if len(at) != 4 or not at.isdigit():
        abort(404)
    calendar = services.page_calendar(group, when) if with_calendar else None
    planned = services.find_planned(group, when, f"{at[:2]}:{at[2:]}", track.upper(), calendar)
    if planned is None:
        abort(404)  # no meeting of this group at that date, time and track
    return (group, planned, calendar) if with_calendar else (group, planned)


def _guide_text(module: Module | None):
    """The module as the guide shows it: in the current language where it has a reviewed twin there."""
    language = current_language()
    if module is None or language == "en" or language not in (module.translations or {}):
        return module
    english = domain_module(module)
    twin = english.in_language(language)
    return replace(twin, code=english.code, worksheets=twin.worksheets or english.worksheets)


def _page(group, planned, status=200, page_error="", conflict=None, calendar=None, **forms):
    """Render the meeting page with whatever forms the caller already holds (with their errors), and
    what a refused stale save would have changed. `calendar`: the group's page_calendar, if held."""
    row = services.stored_meeting(group, planned.date, planned.time, planned.track)
    entries = services.roster(group, planned, row, calendar)
    statuses = active_statuses(group.program_id)  # retired statuses stay in history, not on the form
    default = next((s.code for s in statuses if s.is_default), statuses[0].code)
    # The delivered module (or the planned one), the curriculum's name and number, in one query.
    which = Module.id == row.module_id if row is not None and row.module_id is not None else Module.code == planned.module
    curriculum, number, module = db.session.execute(
        select(Curriculum.name, CurriculumVersion.number, Module)
        .join(Curriculum, Curriculum.id == CurriculumVersion.curriculum_id)
        .outerjoin(Module, (Module.version_id == CurriculumVersion.id) & which)
        .where(CurriculumVersion.id == group.version_id).options(selectinload(Module.worksheets))).one()
    addenda = list(row.addenda) if row is not None and row.locked_at else []
    form = forms.get("attendance")
    lines = _submitted_lines(form) if form is not None else _stored_lines(entries, planned, default)
    form = form or _attendance_form(row)
    choices = [(s.code, status_label(s.label)) for s in statuses]
    guest_form = forms.get("guest") or GuestForm(minutes=planned.minutes)
    guest_form.participant_id.choices = [(e.participant.id, e.participant.preferred_name) for e in entries]
    guests = services.guests_at(row) if row is not None and planned.track == "FE" else []  # shown at FE only
    audit.record_many("meeting.roster_view", "meeting", row.id if row else None,
                      [e.participant.id for e in entries], user=current_user, remote_addr=request.remote_addr or "")
    html = render_template(
        "meetings/meeting.html", group=group, planned=planned, row=row, entries=entries, module=_guide_text(module),
        form=form, cancel_form=forms.get("cancel") or CancelForm(), reopen_form=ReopenForm(),
        lock_form=LockForm(), addendum_form=forms.get("addendum") or AddendumForm(), guest_form=guest_form,
        guests=guests, fidelity_items=services.FIDELITY_ITEMS, addenda=addenda, status_choices=choices, lines=lines,
        version_args={"curriculum": curriculum, "version": number},
        at=planned.time.replace(":", ""), locked_label=services.locked_label(row) if row else "",
        page_error=page_error, conflict=conflict, opens_on=services.attendance_opens_on(group, planned.date),
        worksheets_sent=workbook.meeting_panel(module.code if module else None, [w.code for w in module.worksheets]
                                               if module else [], [(e.participant.id, e.participant.preferred_name)
                                                                   for e in entries]),
    )
    db.session.commit()  # after rendering: committing first would expire every row the page shows
    return html, status


def _attendance_form(row) -> AttendanceForm:
    """The form's shared part (note, checklist, version); the rows are written from _stored_lines."""
    return AttendanceForm(data={"note": row.note if row else "", "version": row.attendance_version if row else 0,
                                **({k: bool(v) for k, v in (row.fidelity or {}).items()} if row else {})})


# The attendance rows as the template writes them (plain data: building a WTForms row per person cost
# more than the rest of a 40-person page): field name prefix, values as the inputs show them, errors.
def _stored_lines(entries, planned, default) -> list[dict]:
    lines = []
    for index, entry in enumerate(entries):
        existing = entry.attendance
        lines.append({"name": f"rows-{index}", "participant_id": str(entry.participant.id),
                      "status": existing.status.code if existing else default,
                      "minutes": str(existing.minutes if existing else planned.minutes),
                      "note": (existing.note or "") if existing else "", "errors": {}})
    return lines


def _submitted_lines(form: AttendanceForm) -> list[dict]:
    return [{"name": sub.name, "participant_id": sub.participant_id._value(), "status": sub.status.data,
             "minutes": sub.minutes._value(), "note": sub.note._value(),
             "errors": {key: sub[key].errors for key in ("status", "minutes", "note")}} for sub in form.rows]


@bp.route("/groups/<int:group_id>/meetings/<day>/<at>/<track>")
@staff_required
def meeting(group_id: int, day: str, at: str, track: str):
    """The meeting page."""
    # Every time: who may see the group is checked before anything is reused (and the group, held
    # here, stays in the session for the build: the identity map keeps only what is referenced).
    group = own_group_or_404(group_id)

    def build() -> str:
        _, planned, calendar = _planned_or_404(group.id, day, at, track, with_calendar=True)
        return _page(group, planned, calendar=calendar)[0]

    return remembered_page("meeting", build)


def _back(group, planned):
    return redirect(url_for("meetings.meeting", group_id=group.id, day=planned.date.isoformat(),
                            at=planned.time.replace(":", ""), track=planned.track))


@bp.route("/groups/<int:group_id>/meetings/<day>/<at>/<track>/attendance", methods=["POST"])
@staff_required
def save_attendance(group_id: int, day: str, at: str, track: str):
    """Save attendance for everyone, the shared note and the checklist; the meeting becomes held."""
    group, planned = _planned_or_404(group_id, day, at, track)
    form = AttendanceForm()
    codes = [status.code for status in active_statuses(group.program_id)]
    for sub in form.rows:
        sub.status.choices = [(c, c) for c in codes]
    form.limit_minutes(planned.minutes)
    if not form.validate_on_submit():
        return _page(group, planned, 422, page_error=" ".join(str(e) for e in form.version.errors), attendance=form)
    lines = [services.AttendanceLine(int(sub.participant_id.data), sub.status.data, sub.minutes.data,
                                     sub.note.data or "") for sub in form.rows if sub.participant_id.data.isdigit()]
    fidelity = {key: getattr(form, key).data for key, _ in services.FIDELITY_ITEMS}
    try:
        row = services.save_attendance(group, planned, lines, form.note.data or "", fidelity, current_user,
                                       version=form.version.data)
    except services.StaleAttendance as exc:
        db.session.rollback()
        return _stale(group, planned, form, lines, str(exc))
    except services.MeetingError as exc:
        db.session.rollback()
        return _page(group, planned, 422, page_error=str(exc), attendance=form)
    audit.record_many("attendance.save", "meeting", row.id, [line.participant_id for line in lines],
                      user=current_user, remote_addr=request.remote_addr or "")
    db.session.commit()
    flash(ngettext("Attendance saved for %(num)s person. Credits are up to date.",
                   "Attendance saved for %(num)s people. Credits are up to date.", len(lines)), "info")
    return _back(group, planned)


def _stale(group, planned, form: AttendanceForm, lines, message: str):
    """409: someone saved since this page was built. Show what is stored against what was tried, and
    keep the tried values in the form, now at the stored version, so saving again applies them."""
    row = services.stored_meeting(group, planned.date, planned.time, planned.track)
    found = conflicts.conflict(group, row, lines, form.note.data or "")
    form.version.data, form.version.raw_data = row.attendance_version, [str(row.attendance_version)]
    return _page(group, planned, 409, page_error=message, conflict=found, attendance=form)


@bp.route("/groups/<int:group_id>/meetings/<day>/<at>/<track>/cancel", methods=["POST"])
@staff_required
def cancel(group_id: int, day: str, at: str, track: str):
    """Cancel the meeting; its module moves to the next meeting of the track."""
    group, planned = _planned_or_404(group_id, day, at, track)
    form = CancelForm()
    if not form.validate_on_submit():
        return _page(group, planned, 422, cancel=form)
    try:
        services.cancel_meeting(group, planned, form.reason.data, current_user)
    except services.MeetingError as exc:
        db.session.rollback()
        return _page(group, planned, 422, page_error=str(exc), cancel=form)
    audit.record("meeting.cancel", "group", group.id, user=current_user, detail={"date": day, "track": track})
    db.session.commit()
    flash(_("Meeting cancelled. %(module)s moves to the next %(track)s meeting.", module=planned.module, track=planned.track),
          "info")
    return _back(group, planned)


@bp.route("/groups/<int:group_id>/meetings/<day>/<at>/<track>/reopen", methods=["POST"])
@staff_required
def reopen(group_id: int, day: str, at: str, track: str):
    """Undo a cancellation."""
    group, planned = _planned_or_404(group_id, day, at, track)
    if ReopenForm().validate_on_submit():
        services.reopen_meeting(group, planned, current_user)
        audit.record("meeting.reopen", "group", group.id, user=current_user, detail={"date": day, "track": track})
        db.session.commit()
        flash(_("Meeting reopened."), "info")
    return _back(group, planned)


def _stored_or_404(group, planned):
    row = services.stored_meeting(group, planned.date, planned.time, planned.track)
    if row is None:
        abort(404)
    return row


@bp.route("/groups/<int:group_id>/meetings/<day>/<at>/<track>/lock", methods=["POST"])
@staff_required
def lock(group_id: int, day: str, at: str, track: str):
    """Sign and lock the note."""
    group, planned = _planned_or_404(group_id, day, at, track)
    row = _stored_or_404(group, planned)
    form = LockForm()
    if form.validate_on_submit():
        try:
            services.lock_note(row, current_user)
        except services.MeetingError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return _back(group, planned)
        audit.record("meeting.lock", "meeting", row.id, user=current_user)
        db.session.commit()
        flash(_("Note signed and locked. Add an addendum to change it."), "info")
    return _back(group, planned)


@bp.route("/groups/<int:group_id>/meetings/<day>/<at>/<track>/addendum", methods=["POST"])
@staff_required
def addendum(group_id: int, day: str, at: str, track: str):
    """Add an addendum to a signed note."""
    group, planned = _planned_or_404(group_id, day, at, track)
    row = _stored_or_404(group, planned)
    form = AddendumForm()
    if not form.validate_on_submit():
        return _page(group, planned, 422, addendum=form)
    try:
        services.add_addendum(row, form.text.data, current_user)
    except services.MeetingError as exc:
        db.session.rollback()
        form.text.errors = [str(exc)]
        return _page(group, planned, 422, addendum=form)
    audit.record("meeting.addendum", "meeting", row.id, user=current_user)
    db.session.commit()
    flash(_("Addendum added."), "info")
    return _back(group, planned)


@bp.route("/groups/<int:group_id>/meetings/<day>/<at>/<track>/guests", methods=["POST"])
@staff_required
def add_guest(group_id: int, day: str, at: str, track: str):
    """Record a family member or friend at family education."""
    group, planned = _planned_or_404(group_id, day, at, track)
    form = GuestForm()
    entries = services.roster(group, planned, services.stored_meeting(group, planned.date, planned.time, planned.track))
    form.participant_id.choices = [(e.participant.id, e.participant.preferred_name) for e in entries]
    if not form.validate_on_submit():
        return _page(group, planned, 422, guest=form)
    person = db.session.get(Participant, form.participant_id.data)
    try:
        row = services.ensure_meeting(group, planned)
        services.add_guest(row, person, form.name.data, form.relationship.data or "", form.minutes.data, current_user)
    except services.MeetingError as exc:
        db.session.rollback()
        form.name.errors = [str(exc)]
        return _page(group, planned, 422, guest=form)
    audit.record("guest.add", "meeting", row.id, user=current_user, participant_id=person.id)
    db.session.commit()
    flash(_("Guest added."), "info")
    return _back(group, planned)


def meeting_url(group_id: int, meeting) -> str:
    """The meeting page of a sequencer meeting."""
    # One url_for per request, then plain formatting: a group page links a hundred meetings, and
    # every part is an int, an ISO date, four digits or a track code (nothing to escape).
    pattern = g.get("meeting_url_pattern")
    if pattern is None:
        pattern = g.meeting_url_pattern = url_for("meetings.meeting", group_id=0, day="D", at="A", track="T").replace(
            "/0/meetings/D/A/T", "/{}/meetings/{}/{}/{}")
    return pattern.format(group_id, meeting.date.isoformat(), meeting.time.replace(":", ""), meeting.track)


@bp.app_template_filter("status_label")
def _status_label_filter(label: str) -> str:
    return status_label(label)


@bp.app_template_global("meeting_url")
def _meeting_url_global(group_id: int, meeting) -> str:
    return meeting_url(group_id, meeting)
