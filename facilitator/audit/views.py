"""The audit trail page (directors of the program): who did what, when, from where; filtered, paged,
downloadable. Nothing here changes an event: the trail is read-only in the app, and on PostgreSQL a
trigger (migration 0006) refuses UPDATE and DELETE on the table.

URL table:
  GET  /audit               the trail, newest first, 50 a page; filters: person, participant, action, from, to
  GET  /audit/export.csv    the filtered trail as CSV (42 CFR 2.32 notice on every row); audited audit.export
  GET  /audit/export.xlsx   the same as an .xlsx workbook (notice sheet)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from babel.dates import format_time
from flask import Blueprint, Response, render_template, request
from flask_login import current_user

from ..extensions import db
from ..programs.models import Program
from ..programs.services import program_today
from ..reports import exports, spreadsheets
from ..reports.services import Period
from ..web.access import director_required
from ..web.i18n import FORMAT_LOCALES, current_language
from . import services as audit
from . import trail
from .forms import TrailFilterForm

bp = Blueprint("audit", __name__)

@bp.app_template_filter("clock_seconds")
def clock_seconds(value: datetime) -> str:
    """A time of day to the second, as people read it: 5:30:12 PM (English as before), 5:30:12 p.m."""
    language = current_language()
    if language == "en":
        return value.strftime("%-I:%M:%S %p")
    return format_time(value, "medium", locale=FORMAT_LOCALES[language]).replace("\u202f", " ")


HEADER = ("when", "time_zone", "person", "role", "action", "entity", "entity_id", "record_number", "address")


def _checked() -> tuple[Program, TrailFilterForm, tuple[trail.Filters, int] | None]:
    """The program, the filter form, and the checked filters (None when a value is wrong)."""
    program = db.session.get(Program, current_user.program_id)
    form = TrailFilterForm(request.args)
    form.offer(program.id)
    form.validate()  # lengths and control characters (AppForm); the checks against the program follow
    return program, form, form.filters(program.id)


@bp.route("/audit")
@director_required
def index():
    """The audit trail of the program, newest first; a wrong filter shows its message (422) and no rows."""
    program, form, checked = _checked()
    if checked is None:
        return render_template("audit/index.html", form=form, rows=[], total=0, page=1, pages=1,
                               program=program, query={}), 422
    filters, page = checked
    total = trail.count(program.id, program.timezone, filters)
    pages = max(1, -(-total // trail.PAGE_SIZE))
    rows = trail.rows(program.id, program.timezone, filters, page) if page <= pages else []
    query = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("audit/index.html", form=form, rows=rows, total=total, page=page, pages=pages,
                           program=program, query=query)


def _export(extension: str, mimetype: str, write: Callable[[exports.Export, Period], bytes | str]):
    """The filtered trail as a download with the 42 CFR 2.32 notice; the download itself is audited."""
    program, form, checked = _checked()
    if checked is None:
        return render_template("audit/index.html", form=form, rows=[], total=0, page=1, pages=1,
                               program=program, query={}), 422
    filters, _page = checked
    today = program_today(program)
    found = trail.rows(program.id, program.timezone, filters, page=None)
    table = [(r.at.replace(tzinfo=None, microsecond=0), program.timezone, r.who, r.role, r.action, r.entity,
              r.entity_id, r.record_number, r.remote_addr) for r in found]
    export = exports.Export(kind="audit-trail", title="Audit trail", header=HEADER, rows=table,
                             participant_ids=tuple(sorted({r.participant_id for r in found if r.participant_id})))
    period = Period(filters.start or trail.first_day(program.id, program.timezone) or today, filters.end or today)
    audit.record("audit.export", "audit_event", None, user=current_user, remote_addr=request.remote_addr or "",
                 participant_id=filters.participant_id,
                  detail={"rows": len(table), "participant_ids": list(export.participant_ids), "format": extension, "user_id": filters.user_id,
                         "action": filters.action, "start": period.start.isoformat(), "end": period.end.isoformat()})
    db.session.commit()
    response = Response(write(export, period), mimetype=mimetype)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{exports.filename("audit-trail", period, extension)}"')
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/audit/export.csv")
@director_required
def export_csv():
    """The filtered trail as CSV, header first, the notice on every row; audited."""
    return _export("csv", "text/csv", lambda export, period: exports.to_csv(export))


@bp.route("/audit/export.xlsx")
@director_required
def export_xlsx():
    """The filtered trail as an .xlsx workbook with the notice sheet; audited."""
    return _export("xlsx", spreadsheets.MIMETYPE, spreadsheets.to_xlsx)
