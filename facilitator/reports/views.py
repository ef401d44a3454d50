"""The program's numbers for directors: the dashboard, its printable PDF report, CSV and .xlsx exports, and
the iCalendar feed of a group's meetings.

URL table:
  GET /reports/?start=&end=                         the dashboard for a period (directors)
  GET /reports/report.pdf?start=&end=               the same figures as a printable PDF (directors)
  GET /reports/exports/<kind>.csv?start=&end=       attendance, billing, credits, discharges, drug-tests (directors)
  GET /reports/exports/<kind>.xlsx?start=&end=      the same exports as .xlsx workbooks (directors)
  GET /reports/groups/<id>/meetings.ics             a group's meetings as iCalendar, no participant data (staff)
  GET /calendars/<token>.ics                        the same, for calendar apps: the secret address is the key
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import astuple
from datetime import date, timedelta

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import StringField

from ..audit import services as audit
from ..extensions import db
from ..groups import feeds
from ..programs.models import Program
from ..programs.services import program_today
from ..web.access import director_required, own_group_or_404, staff_required
from ..web.forms import AppForm
from ..web.i18n import current_language
from . import charts, exports, ical, services, spreadsheets
from .services import Period

bp = Blueprint("reports", __name__)


def _today() -> date:
    return program_today(current_user.program)


class PeriodForm(AppForm):
    """The dashboard's period (a GET form: nothing changes, so no CSRF token)."""

    class Meta:
        csrf = False

    start = StringField(_l("From"), render_kw={"type": "date"})
    end = StringField(_l("To"), render_kw={"type": "date"})


def _date(text: str | None) -> tuple[date | None, bool]:
    """A YYYY-MM-DD date, and whether the text was a date at all."""
    try:
        return date.fromisoformat((text or "").strip()), True
    except ValueError:
        return None, False


def _period() -> tuple[PeriodForm, Period | None]:
    """The period asked for (default: the twelve months up to today); None with errors on the form."""
    form = PeriodForm(request.args)
    today = _today()
    default = Period.last_year(today)
    start_text, end_text = (form.start.data or "").strip(), (form.end.data or "").strip()
    start, start_ok = _date(start_text) if start_text else (None, True)
    end, end_ok = _date(end_text) if end_text else (today, True)
    if not start_text:
        start = Period.last_year(end).start if end else default.start
    problems = services.check_period(start, end, today)
    if not start_ok:
        problems["start"] = _("Enter the first day as a date, for example 2026-01-01.")
    if not end_ok:
        problems["end"] = _("Enter the last day as a date, for example 2026-12-31.")
    if problems:
        for name, message in problems.items():
            getattr(form, name).errors = [message]
        return form, None
    form.start.data, form.end.data = start.isoformat(), end.isoformat()
    return form, Period(start, end)


def _program() -> Program:
    return db.session.get(Program, current_user.program_id)


def _page(program: Program, form: PeriodForm, d: services.Dashboard | None = None, status: int = 200):
    """The dashboard page; without figures (status 422) when the period was refused."""
    query = {"start": d.period.start.isoformat(), "end": d.period.end.isoformat()} if d else {}
    today = _today()
    presets = [(_("last 30 days"), today - timedelta(days=29), today),
               (_("last 90 days"), today - timedelta(days=89), today),
               (_("this year"), today.replace(month=1, day=1), today),
               (_("last 12 months"), *astuple(Period.last_year(today)))]
    html = render_template("reports/index.html", d=d, charts=charts.dashboard_charts(d) if d else {}, query=query,
                           form=form, program=program, exports=exports.EXPORTS.values(), notice=exports.NOTICE,
                           presets=presets, groups=[g for g in services.program_groups(program.id) if g.active])
    return html, status


@bp.route("/reports/")
@director_required
def index():
    """The dashboard: census, admissions and discharges, outcomes, retention, attendance, hours, alerts, exports."""
    form, period = _period()
    program = _program()  # held for the whole request: one query, however the page uses it
    if period is None:
        return _page(program, form, status=422)
    return _page(program, form, services.dashboard(program, period, _today()))


@bp.route("/reports/report.pdf")
@director_required
def report_pdf():
    """The dashboard's figures as a printable PDF, through the shared document service."""
    from ..documents import service  # WeasyPrint loads lazily: only processes that print pay for it

    form, period = _period()
    program = _program()
    if period is None:
        return _page(program, form, status=422)
    d = services.dashboard(program, period, _today())
    html = render_template("reports/report_print.html", d=d, charts=charts.dashboard_charts(d), program=program)
    language = current_language()
    key = service.cache_key("program-report", {"html": hashlib.sha256(html.encode()).hexdigest(),
                                               "page_size": program.page_size, "lang": language})
    # Bytes, not a cached path: a file pruned by another process before it is read costs a render.
    data, _cached = service.produce_bytes(key, lambda: service.RenderInput(html=html, page_size=program.page_size,
                                                                           lang=language),
                                    service.cache_for(current_app))
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="program-report-{period.start}-to-{period.end}.pdf"'
    response.headers["Cache-Control"] = "no-store"
    return response


NO_SUCH_EXPORT = _l("There is no such export. The exports are attendance, billing, credits, discharges and "
                    "drug-tests, each as .csv or .xlsx.")


def _export(kind: str, extension: str, mimetype: str, write: Callable[[exports.Export, Period], bytes | str]):
    """One export of the period as a download, audited once; the page with its errors (422) when
    the period is refused; 404 with a message for an export that does not exist."""
    found = exports.EXPORTS.get(kind)
    if found is None:
        abort(404, description=str(NO_SUCH_EXPORT))
    form, period = _period()
    program = _program()
    if period is None:
        return _page(program, form, status=422)
    export = found.build(program, period)
    audit.record(f"export.{kind}", "export", None, user=current_user, remote_addr=request.remote_addr or "",
                 detail={"rows": len(export.rows), "participant_ids": list(export.participant_ids),
                         "start": period.start.isoformat(), "end": period.end.isoformat(), "format": extension})
    db.session.commit()
    response = Response(write(export, period), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{exports.filename(kind, period, extension)}"'
    response.headers["Cache-Control"] = "no-store"  # participant data stays out of browser and proxy caches
    return response


@bp.route("/reports/exports/<kind>.csv")
@director_required
def export_csv(kind: str):
    """One CSV export of the period, header first, the 42 CFR 2.32 notice on every row; audited."""
    return _export(kind, "csv", "text/csv", lambda export, period: exports.to_csv(export))


@bp.route("/reports/exports/<kind>.xlsx")
@director_required
def export_xlsx(kind: str):
    """The same export as an .xlsx workbook: typed cells, the notice on its own sheet; audited."""
    return _export(kind, "xlsx", spreadsheets.MIMETYPE, spreadsheets.to_xlsx)


@bp.route("/reports/groups/<int:group_id>/meetings.ics")
@staff_required
def group_calendar(group_id: int):
    """A group's meetings (8 weeks back, 16 ahead) as iCalendar, each with its module; no participant data."""
    group = own_group_or_404(group_id)
    body = ical.group_calendar_ics(group, _program(), _today())
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'attachment; filename="group-{group.id}-meetings.ics"'
    return response


@bp.route("/calendars/<token>.ics")
def group_feed(token: str):
    """A group's calendar for subscribing from a calendar app: no sign-in, the secret address is the
    key; meetings and topics only, never a participant. An unknown or replaced address is 404."""
    group = feeds.group_by_feed(token)
    if group is None:
        abort(404)
    body = ical.group_calendar_ics(group, group.program, program_today(group.program))
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'inline; filename="group-{group.id}-meetings.ics"'
    response.headers["Cache-Control"] = "private, max-age=900"  # apps poll; a quarter of an hour is fresh enough
    return response
