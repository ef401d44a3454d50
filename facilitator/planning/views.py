"""The planning screens (directors only): the weekly-pattern editor with what a pattern implies, and
the what-if simulator comparing two patterns over the same admissions. Nothing here is saved; a
pattern is applied to a group on the group's own settings page.

URL table:
  GET, POST /planning/          weekly-pattern editor: start from a group's or a curriculum's pattern,
                                edit the meetings, see the length and hours per week (directors)
  GET, POST /planning/what-if   what-if simulator: scenario A against an edited scenario B, projected
                                completion per admission (directors)
Both take ?start=group-<id> or ?start=version-<id>; another program's group answers 404.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from ..groups.calendars import version_structure
from ..programs.services import program_today
from ..web.access import director_required
from . import services
from .forms import PatternForm, WhatIfForm, admissions_text, holidays_text

bp = Blueprint("planning", __name__)


def _today() -> date:
    return program_today(current_user.program)


@bp.app_template_filter("plan_hours")
def _hours_filter(minutes: int) -> str:
    return services.hours(minutes)


def _edit_link(source: services.Source | None) -> str | None:
    """The group's settings page, where a pattern is applied (only if that screen exists)."""
    if source is None or source.group is None or "groups.edit" not in current_app.view_functions:
        return None
    return url_for("groups.edit", group_id=source.group.id)


def _source(choices: list[services.Source], key: str | None) -> services.Source | None:
    """The chosen source; 404 for a group that is not one of the program's (or no source at all)."""
    source = services.pick_source(choices, key)
    if source is None and (services.names_a_group(key) or not choices):
        abort(404)
    return source


def _prepare(form, choices: list[services.Source], source: services.Source | None):
    """Offer the sources and the source version's tracks; return the version's structure."""
    form.source.choices = [SelectChoice(s.key, s.label, optgroup=_("Groups") if s.group
                                        else _("Suggested by a curriculum"))
                           for s in choices]
    if source is None:
        form.source.errors = [_("Choose a group or a curriculum to start from.")]
        source = choices[0]
    structure = version_structure(source.version_id)
    form.set_tracks(services.slot_tracks(structure))
    return structure


def _pattern_page(form: PatternForm, source: services.Source | None, status: int = 200, implications=None):
    return render_template("planning/index.html", form=form, source=source, implications=implications,
                           edit_link=_edit_link(source), floor=current_user.program.hours_floor_minutes), status


@bp.route("/planning/", methods=["GET", "POST"])
@director_required
def index():
    """The weekly-pattern editor and what the pattern implies for a newcomer, before anything is saved."""
    choices = services.sources(current_user.program_id)
    floor = current_user.program.hours_floor_minutes
    if request.method == "GET":
        source = _source(choices, request.args.get("start"))
        form = PatternForm(formdata=None)
        form.source.data = source.key  # type: ignore[union-attr]
        form.fill(source.slots)  # type: ignore[union-attr]
        structure = _prepare(form, choices, source)
        return _pattern_page(form, source, implications=_loaded(form, source, structure, floor))
    form = PatternForm()
    source = _source(choices, form.source.data)
    if form.load.data and source is not None:
        form.fill(source.slots)
    structure = _prepare(form, choices, source)
    if source is None:
        return _pattern_page(form, source, 422)
    if form.load.data:
        return _pattern_page(form, source, implications=_loaded(form, source, structure, floor))
    if form.add_row.data:
        form.add_blank_row()
        form.set_tracks(services.slot_tracks(structure))
        return _pattern_page(form, source)
    if form.drop_removed():
        return _pattern_page(form, source)
    valid = form.validate()  # first: validating clears every field's messages
    slots, rows = _read_pattern(form, structure)
    if not valid or form.has_problems():
        return _pattern_page(form, source, 422)
    return _pattern_page(form, source, implications=services.implications(slots, structure, floor))


def _loaded(form: PatternForm, source: services.Source, structure, floor: int):
    """What a stored pattern implies; a pattern the rules refuse (a group with no meetings yet) gets
    its messages next to the rows instead."""
    problems = services.check_pattern(source.slots, structure)
    if problems:
        form.show_problems(problems, list(form.slots))
        return None
    return services.implications(source.slots, structure, floor)


def _read_pattern(form, structure) -> tuple[tuple, list]:
    """The meetings typed in and the row of each, with every problem put next to its field: those of
    shape and the service's rules together, so that one round trip shows them all."""
    slots, rows, problems = form.read_slots()
    rules = services.check_pattern(slots, structure)
    if problems:
        rules.pop("slots", None)  # "add a meeting" is wrong when the meetings typed have problems
    form.show_problems(problems)
    form.show_problems(rules, rows)
    return slots, rows


def _what_if_page(form: WhatIfForm, source: services.Source | None, status: int = 200, result=None):
    return render_template("planning/what_if.html", form=form, source=source, result=result,
                           edit_link=_edit_link(source), floor=current_user.program.hours_floor_minutes,
                           pattern_words=services.pattern_words), status


def _fill_defaults(form: WhatIfForm) -> None:
    """Days, holidays and admissions to start from: the next 26 weeks and a week of admissions."""
    start, until, holidays, admissions = services.what_if_defaults(current_user.program_id, _today())
    form.start.data, form.until.data = start.isoformat(), until.isoformat()
    form.holidays.data = holidays_text(holidays)
    form.admissions.data = admissions_text(admissions)


@bp.route("/planning/what-if", methods=["GET", "POST"])
@director_required
def what_if():
    """Compare projected completion dates under scenario A (a group's or a curriculum's pattern) and
    an edited scenario B, for the same admissions, holidays and days."""
    choices = services.sources(current_user.program_id)
    if request.method == "GET":
        source = _source(choices, request.args.get("start"))
        form = WhatIfForm(formdata=None)
        form.source.data = source.key  # type: ignore[union-attr]
        form.fill(source.slots)  # type: ignore[union-attr]
        _fill_defaults(form)
        _prepare(form, choices, source)
        return _what_if_page(form, source)
    form = WhatIfForm()
    source = _source(choices, form.source.data)
    if "to_what_if" in request.form:  # arriving from the pattern editor: its meetings become scenario B
        _fill_defaults(form)
    if form.load.data and source is not None:
        form.fill(source.slots)
    structure = _prepare(form, choices, source)
    if source is None:
        return _what_if_page(form, source, 422)
    if "to_what_if" in request.form or form.load.data:
        return _what_if_page(form, source)
    if form.add_row.data:
        form.add_blank_row()
        form.set_tracks(services.slot_tracks(structure))
        return _what_if_page(form, source)
    if form.drop_removed():
        return _what_if_page(form, source)
    valid = form.validate()  # first: validating clears every field's messages
    slots, rows = _read_pattern(form, structure)
    start, until, day_problems = form.read_days()
    holidays, holiday_problems = form.read_holidays()
    admissions, admission_problems = form.read_admissions()
    form.show_problems(day_problems | holiday_problems | admission_problems)
    if start and until and form.has_problems():  # say what is wrong with the days in the same round trip
        form.show_problems(services.check_days(start, until, _today()))
    if not valid or form.has_problems():
        return _what_if_page(form, source, 422)
    inputs = services.WhatIfInput(source, slots, start, until, holidays, admissions)  # type: ignore[arg-type]
    try:
        result = services.run_what_if(inputs, structure, current_user.program.hours_floor_minutes, _today())
    except services.PlanRefused as refused:
        form.show_problems(refused.problems, rows)
        return _what_if_page(form, source, 422)
    return _what_if_page(form, source, result=result)
