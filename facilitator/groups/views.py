"""The group screens: the groups list, the group page (calendar, roster, cancellations, holidays),
and creating and editing groups with a preview of the calendar before saving.

URL table:
  GET       /groups/                                        groups list (staff)
  GET, POST /groups/new                                     create a group, Preview then Save (directors)
  GET       /groups/<id>                                    group page (staff)
  GET, POST /groups/<id>/edit                               edit a group, Preview then Save (directors)
  POST      /groups/<id>/cancellations                      show the effect of / add a cancellation (staff)
  POST      /groups/<id>/cancellations/<cid>/remove         remove a cancellation (staff)
  POST      /groups/<id>/holidays                           show the effect of / add a program holiday (directors)
  POST      /groups/<id>/holidays/<hid>/remove              remove a program holiday (directors)
"""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from ..audit import services as audit
from ..extensions import db
from ..programs.services import program_today
from ..progress.services import HORIZON
from ..web.access import director_required, own_group_or_404, staff_required
from ..web.i18n import format_clock, format_when, role_name
from ..web.remembered_pages import remembered_page
from . import calendars, editing, feeds, schedule, services
from .forms import CancellationForm, GroupForm, HolidayForm, RemoveForm, choices, group_form, parse_date, rows_of
from .models import Group

bp = Blueprint("groups", __name__)


def _today() -> date:
    return program_today(current_user.program)


@bp.context_processor
def _helpers() -> dict:
    return {"clock": format_clock}


@bp.route("/groups/")
@staff_required
def index():
    """The program's groups: pattern, version, members, and where each rotating track stands today."""
    today = _today()
    return render_template("groups/index.html", summaries=services.groups_overview(current_user.program_id, today),
                           today=today)


def _move_words(moves: list[schedule.Move]) -> str:
    """ "FE 5 moves to Wed Dec 9." for a flash message."""
    parts = []
    for move in moves:
        module = move.cancelled.module or move.cancelled.track
        if move.taught is None:
            parts.append(_("%(module)s is not taught again in the next 40 weeks.", module=module))
        elif move.policy == "skip":
            parts.append(_("%(module)s is skipped; it comes round again on %(day)s.", module=module,
                           day=format_when(move.taught.date, "day")))
        else:
            parts.append(_("%(module)s moves to %(day)s.", module=module, day=format_when(move.taught.date, "day")))
    return " ".join(parts)


def _cancellation_form(group: Group, form: CancellationForm | None = None) -> CancellationForm:
    form = form or CancellationForm(formdata=None, prefix="cancel")
    structure = calendars.version_structure(group.version_id)
    own = {s.track_code for s in group.slots}
    names = services.shown_track_names(structure, group.version_id)
    form.track.choices = choices([("", _("All tracks")), *((t.code, f"{t.code} {names.get(t.code, t.name)}")
                                                        for t in services.slot_tracks(structure) if t.code in own)])
    return form


def _page(group: Group, status: int = 200, *, cancel_form: CancellationForm | None = None,
          holiday_form: HolidayForm | None = None, effect: list[schedule.Move] | None = None,
          effect_of: str = ""):
    """Render the group page, with a form (and its errors or effect) the caller already holds."""
    today = _today()
    # The group's calendar through both horizons the page needs (the members' progress, and where a
    # cancelled module is taught), and its holidays and cancellations, each read once.
    roster_until, weeks_until = today + HORIZON, today + services.LOOK_AHEAD
    built = calendars.calendars_through([group], [roster_until, weeks_until])
    holidays = schedule.holiday_rows(group.program_id)
    cancellations = schedule.cancellation_rows(group.id)
    roster = services.group_roster(group, today, built[roster_until][group.id])
    structure = calendars.version_structure(group.version_id)
    context = dict(
        group=group, today=today, this_monday=today - timedelta(days=today.weekday()),
        weeks=services.calendar_weeks(group, today, built[weeks_until][group.id], holidays, cancellations),
        roster=roster, version_title=structure.title, version_label=structure.version,
        pattern=services.pattern_words(calendars.group_spec(group).slots),
        facilitator=services.staff_names(group.program_id).get(group.facilitator_id or 0, ""),
        cancellations=[c for c in cancellations if c.date >= today],
        holidays=[h for h in holidays if h.date >= today],
        cancel_form=_cancellation_form(group, cancel_form),
        holiday_form=holiday_form or HolidayForm(formdata=None, prefix="holiday"), effect=effect, effect_of=effect_of,
    )
    html = render_template("groups/show.html", **context)
    _audit_roster(group, [row.participant.id for row in roster])
    # Render first, then commit: a commit expires every loaded row, and the template would reload them one by one.
    db.session.commit()
    return html, status


def _audit_roster(group: Group, participant_ids: list[int]) -> None:
    """One audit event per member shown, written in one statement whatever the roster size."""
    audit.record_many("group.roster_view", "group", group.id, participant_ids, user=current_user,
                      remote_addr=request.remote_addr or "")


@bp.route("/groups/<int:group_id>")
@staff_required
def show(group_id: int):
    """The group page: pattern, calendar of the past 4 and next 8 weeks, roster, cancellations, holidays."""
    group = own_group_or_404(group_id)  # every time: who may see the group is checked before anything is reused
    return remembered_page("group", lambda: _page(group)[0])


def _track_or_none(raw: str | None) -> str | None:
    return (raw or "").strip().upper() or None


@bp.route("/groups/<int:group_id>/cancellations", methods=["POST"])
@staff_required
def add_cancellation(group_id: int):
    """Show which modules a cancellation moves ("Show the effect"), or cancel the meetings."""
    group = own_group_or_404(group_id)
    form = _cancellation_form(group, CancellationForm(prefix="cancel"))
    if not form.validate_on_submit():
        return _page(group, 422, cancel_form=form)
    day = parse_date(form.date.data)
    if day is None:
        form.date.errors = [_("Enter the date as YYYY-MM-DD, for example 2027-01-04.")]
        return _page(group, 422, cancel_form=form)
    track = _track_or_none(form.track.data)
    reason = form.reason.data or ""
    problems = schedule.check_cancellation(group, day, track, reason, _today())
    if not form.cancel_meetings.data:
        problems.pop("reason", None)  # the effect can be shown before a reason is typed
    if problems:
        for key, message in problems.items():
            form[key].errors = [*form[key].errors, message]
        return _page(group, 422, cancel_form=form)
    moves = schedule.cancellation_effect(group, day, track)
    if not form.cancel_meetings.data:
        return _page(group, cancel_form=form, effect=moves, effect_of="cancellation")
    schedule.add_cancellation(group, day, track, reason, current_user, _today())
    audit.record("group.cancel_add", "group", group.id, user=current_user,
                 detail={"date": day.isoformat(), "track": track})
    db.session.commit()
    when = format_when(day, "day")
    done = (_("Cancelled the %(track)s meeting on %(day)s.", track=track, day=when) if track
            else _("Cancelled the meetings on %(day)s.", day=when))
    flash(f"{done} {_move_words(moves)}", "info")
    return redirect(url_for(".show", group_id=group.id, _anchor="calendar"))


@bp.route("/groups/<int:group_id>/cancellations/<int:cancellation_id>/remove", methods=["POST"])
@staff_required
def remove_cancellation(group_id: int, cancellation_id: int):
    """Undo a cancellation decided ahead of time."""
    group = own_group_or_404(group_id)
    if not RemoveForm().validate_on_submit():
        abort(400)
    try:
        row = schedule.remove_cancellation(group, cancellation_id, current_user, _today())
    except services.GroupRefused as refused:
        flash(" ".join(refused.problems.values()), "error")
        return redirect(url_for(".show", group_id=group.id, _anchor="cancellations"))
    if row is None:
        abort(404)
    audit.record("group.cancel_remove", "group", group.id, user=current_user,
                 detail={"date": row.date.isoformat(), "track": row.track_code})
    db.session.commit()
    flash(_("The meetings on %(day)s take place again.", day=format_when(row.date, "day")), "info")
    return redirect(url_for(".show", group_id=group.id, _anchor="cancellations"))


@bp.route("/groups/<int:group_id>/feed", methods=["POST"])
@staff_required
def share_feed(group_id: int):
    """Make the group's calendar subscription address (or a new one: the old address stops working)."""
    group = own_group_or_404(group_id)
    if not RemoveForm().validate_on_submit():
        abort(400)
    replace = request.form.get("replace") == "1"
    feeds.share_feed(group, current_user, replace=replace)
    audit.record("group.feed_replace" if replace else "group.feed_share", "group", group.id, user=current_user)
    db.session.commit()
    flash(_("A new subscription address is ready; the old one no longer works.") if replace else
          _("The subscription address is ready. Anyone with it sees this group's meetings and topics, "
            "never who attends."), "info")
    return redirect(url_for(".show", group_id=group.id, _anchor="subscribe"))


@bp.route("/groups/<int:group_id>/holidays", methods=["POST"])
@director_required
def add_holiday(group_id: int):
    """Show which modules a program holiday moves in every group, or add it."""
    group = own_group_or_404(group_id)
    form = HolidayForm(prefix="holiday")
    if not form.validate_on_submit():
        return _page(group, 422, holiday_form=form)
    day = parse_date(form.date.data)
    if day is None:
        form.date.errors = [_("Enter the date as YYYY-MM-DD, for example 2027-11-25.")]
        return _page(group, 422, holiday_form=form)
    name = form.name.data or ""
    problems = schedule.check_holiday(group.program_id, day, name, _today())
    if not form.add_holiday.data:
        problems.pop("name", None)  # the effect can be shown before the holiday is named
    if problems:
        for key, message in problems.items():
            form[key].errors = [*form[key].errors, message]
        return _page(group, 422, holiday_form=form)
    moves = schedule.holiday_effect(group.program_id, day)
    if not form.add_holiday.data:
        return _page(group, holiday_form=form, effect=moves, effect_of="holiday")
    holiday = schedule.add_holiday(group.program_id, day, name, current_user, _today())
    audit.record("holiday.add", "holiday", holiday.id, user=current_user, detail={"date": day.isoformat()})
    db.session.commit()
    flash(ngettext("%(name)s on %(day)s is a holiday for the whole program. %(num)s meeting cancelled.",
                   "%(name)s on %(day)s is a holiday for the whole program. %(num)s meetings cancelled.",
                   len(moves), name=holiday.name, day=format_when(day, "day")), "info")
    return redirect(url_for(".show", group_id=group.id, _anchor="holidays"))


@bp.route("/groups/<int:group_id>/holidays/<int:holiday_id>/remove", methods=["POST"])
@director_required
def remove_holiday(group_id: int, holiday_id: int):
    """Reopen a day that was a program holiday."""
    group = own_group_or_404(group_id)
    if not RemoveForm().validate_on_submit():
        abort(400)
    try:
        holiday = schedule.remove_holiday(group.program_id, holiday_id, current_user, _today())
    except services.GroupRefused as refused:
        flash(" ".join(refused.problems.values()), "error")
        return redirect(url_for(".show", group_id=group.id, _anchor="holidays"))
    if holiday is None:
        abort(404)
    audit.record("holiday.remove", "holiday", holiday_id, user=current_user,
                 detail={"date": holiday.date.isoformat()})
    db.session.commit()
    flash(_("%(name)s is no longer a holiday; meetings on %(day)s take place.", name=holiday.name,
            day=format_when(holiday.date, "day")), "info")
    return redirect(url_for(".show", group_id=group.id, _anchor="holidays"))


def _initial_data(group: Group | None, version) -> dict:
    """What the form shows first: the stored group, or a new group on the version's suggested pattern."""
    if group is not None:
        settings = editing.settings_of(group)
        slots = [{"weekday": s.weekday, "time": s.time, "track": s.track, "minutes": str(s.minutes)}
                 for s in settings.slots]
        data = {"name": settings.name, "version": str(settings.version_id), "mode": settings.mode,
                "start_date": settings.start_date.isoformat(), "cancellation_policy": settings.cancellation_policy,
                "facilitator": str(settings.facilitator_id or ""), "slots": slots}
        data.update({f"start_{track}": module for track, module in settings.start_modules})
        return data
    today = _today()
    monday = today + timedelta(days=(7 - today.weekday()) % 7 or 7)
    return {"version": str(version.id), "mode": "open", "start_date": monday.isoformat(),
            "cancellation_policy": "postpone", "facilitator": "",
            "slots": [{"weekday": s["weekday"], "time": s["time"], "track": s["track"], "minutes": str(s["minutes"])}
                      for s in version.pattern]}


def _edit(group: Group | None):
    """Create (group None) or edit a group: Preview renders the next weeks, Save stores and leaves."""
    program_id = current_user.program_id
    versions = editing.allowed_versions(program_id)
    if not versions and group is None:
        flash(_("There is no published curriculum version yet. Import or publish one first."), "error")
        return redirect(url_for(".index"))
    by_id = {v.id: v for v in versions}
    raw = request.form.get("version", "") if request.method == "POST" else ""
    current = group.version_id if group else versions[0].id
    version_id = int(raw) if raw.isdigit() and int(raw) in by_id else current
    structure = calendars.version_structure(version_id)
    if request.method == "POST":
        form = group_form(structure, services.shown_titles(structure, version_id))
    else:
        form = group_form(structure, services.shown_titles(structure, version_id),
                          data=_initial_data(group, by_id.get(version_id) or group.version))
    preview, status = None, 200
    if request.method == "POST" and form.add_row.data:
        form.slots.append_entry()
    elif request.method == "POST":
        status, preview, saved = _submit(form, structure, group, program_id)
        if saved is not None:
            return saved
    form.add_blank_rows()
    _set_choices(form, versions, group, structure, program_id, version_id)
    started = group is not None and group.start_date <= _today()
    return render_template("groups/edit.html", form=form, group=group, preview=preview, started=started,
                           refused=status == 422), status


def _submit(form: GroupForm, structure, group: Group | None, program_id: int):
    """Validate; on Preview return the preview, on Save store the group and return the redirect."""
    if not form.validate_on_submit():
        return 422, None, None
    settings, problems, rows = form.read(structure)
    if settings is not None:
        problems = rows_of(editing.check_settings(program_id, settings, group, _today()), rows)
    if problems:
        form.show_problems(problems)
        return 422, None, None
    if not form.save.data:
        return 200, editing.preview_settings(program_id, settings, group, _today()), None
    creating = group is None
    saved = editing.save_group(program_id, settings, current_user, _today(), group)
    audit.record("group.create" if creating else "group.update", "group", saved.id, user=current_user)
    db.session.commit()
    flash(_("%(name)s created.", name=saved.name) if creating else _("%(name)s saved.", name=saved.name), "info")
    return 200, None, redirect(url_for(".show", group_id=saved.id))


def _set_choices(form: GroupForm, versions, group: Group | None, structure, program_id: int,
                 version_id: int) -> None:
    shown = [(v.id, _("%(title)s (version %(version)s)", title=v.title, version=v.label)) for v in versions]
    if group is not None and group.version_id not in {v.id for v in versions}:
        shown.insert(0, (group.version_id, _("%(title)s (version %(version)s)", title=group.version.title,
                                             version=group.version.label)))
    form.version.choices = choices(shown)
    form.facilitator.choices = choices([("", _("No one yet")), *((u.id, f"{u.display_name} ({role_name(u.role)})")
                                                              for u in editing.program_staff(program_id))])
    names = services.shown_track_names(structure, version_id)
    tracks = choices([("", _("Choose a track")), *((t.code, f"{t.code} {names.get(t.code, t.name)}")
                                                   for t in services.slot_tracks(structure))])
    for row in form.slots:
        row.form.track.choices = tracks


@bp.route("/groups/new", methods=["GET", "POST"])
@director_required
def new():
    """Create a group (directors)."""
    return _edit(None)


@bp.route("/groups/<int:group_id>/edit", methods=["GET", "POST"])
@director_required
def edit(group_id: int):
    """Edit a group (directors); recorded meetings stay as they are, the future is re-planned."""
    return _edit(own_group_or_404(group_id))
