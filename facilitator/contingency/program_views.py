"""Contingency management for the program: the overview (budget, who has draws or vouchers waiting), the
director's settings, the prize cabinet, and the reports.

URL table:
  GET  /contingency/                               overview (staff)
  GET  /contingency/settings                       the protocol settings (directors)
  POST /contingency/settings                       save a protocol version from a day on (directors)
  GET  /contingency/prizes                         the prize cabinet (staff)
  POST /contingency/prizes                         add a prize (directors)
  POST /contingency/prizes/<prize_id>/stock        add to or take from a prize's stock (directors)
  GET  /contingency/reports?start=&end=            negative tests by month, the cabinet, downloads (directors)
  GET  /contingency/reports/<kind>.csv|.xlsx       earnings, negative-tests, draws, prizes (directors)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..audit import services as audit
from ..domain import contingency as cm
from ..extensions import db
from ..participants.models import Enrollment, Participant
from ..programs.models import Program
from ..programs.services import program_today
from ..reports import exports, spreadsheets
from ..reports.services import Period, check_period
from ..web.access import director_required, staff_required
from ..web.i18n import format_when
from . import ledger as reads
from . import reports, services
from .forms import NewPrizeForm, PeriodForm, SettingsForm, StockForm, cents
from .models import CmPrize

bp = Blueprint("contingency_program", __name__)


def _today() -> date:
    return program_today(current_user.program)


def _program() -> Program:
    return db.session.get(Program, current_user.program_id)


def _audit(action: str, entity: str, entity_id: int | None, **detail) -> None:
    audit.record(action, entity, entity_id, user=current_user, detail=detail, remote_addr=request.remote_addr or "")


@bp.route("/contingency/")
@staff_required
def index():
    """The program's incentives: the protocol, the budget, and who has draws or voucher credit waiting."""
    today = _today()
    protocols = reads.protocols_of(current_user.program_id)
    protocol = cm.protocol_on(protocols, today)
    ledgers = reads.ledgers(current_user.program_id, protocols)
    budget = reads.budget_of(protocol, ledgers.values(), today)
    active = set(db.session.scalars(select(Enrollment.participant_id).join(
        Participant, Participant.id == Enrollment.participant_id).where(
        Participant.program_id == current_user.program_id, Enrollment.discharged_on.is_(None))))
    waiting_ids = {pid for pid, lg in ledgers.items() if lg.draws_owed or lg.voucher_balance
                   or any(d.waiting for d in lg.draws)}
    people = {p.id: p for p in db.session.scalars(select(Participant).where(Participant.id.in_(waiting_ids)))} \
        if waiting_ids else {}
    rows = []
    for pid in sorted(waiting_ids, key=lambda i: people[i].preferred_name.lower()):
        lg = ledgers[pid]
        rows.append((people[pid], lg, cm.standing(protocol, lg.ladder, today), pid in active))
    planned = [p for p in protocols if p.effective_from > today]
    html = render_template("contingency/index.html", protocol=protocol, planned=planned, budget=budget, rows=rows,
                           money=reads.money, kinds=reads.KIND_TEXT, sizes=reads.SIZE_TEXT, today=today,
                           per_draw=cm.expected_cents(protocol.bowl, protocol.prize_cents))
    audit.record_many("cm.list", "participant", None, [r[0].id for r in rows], user=current_user,
                      remote_addr=request.remote_addr or "")
    db.session.commit()
    return html


def _settings_page(form: SettingsForm, status: int = 200):
    today = _today()
    rows = reads.protocol_rows(current_user.program_id)
    protocols = [reads.to_protocol(r) for r in rows]
    return render_template("contingency/settings.html", form=form, current=cm.protocol_on(protocols, today),
                           versions=list(reversed(list(zip(rows, protocols, strict=True)))), today=today,
                           money=reads.money, kinds=reads.KIND_TEXT, sizes=reads.SIZE_TEXT), status


@bp.route("/contingency/settings")
@director_required
def settings():
    """The CM settings: protocol, what counts, the ladder, the bowl, the cap and the budget."""
    protocols = reads.protocols_of(current_user.program_id)
    today = _today()
    current = cm.protocol_on(protocols, today)
    if not protocols:  # a program's first protocol starts from the published prize mix
        current = cm.Protocol(kind="prize")
    return _settings_page(SettingsForm.of(current, today))


@bp.route("/contingency/settings", methods=["POST"])
@director_required
def save_settings():
    """Save the settings as a new version from its day on; every bad value is refused next to its field."""
    form = SettingsForm()
    if not form.validate_on_submit():
        return _settings_page(form, 422)
    try:
        row = services.save_protocol(_program(), form.to_protocol(), current_user, _today())
    except services.CmRefused as refused:
        db.session.rollback()
        form.refuse(refused.problems)
        return _settings_page(form, 422)
    _audit("cm.settings", "cm_protocol", row.id, kind=row.kind, effective_from=row.effective_from.isoformat())
    db.session.commit()
    flash(_("Settings saved. They apply to tests from %(day)s on; earlier tests keep what they earned.",
            day=format_when(row.effective_from, "year")), "info")
    return redirect(url_for(".settings"), 303)


def _prizes_page(new_form: NewPrizeForm | None = None, stock: tuple[int, StockForm] | None = None,
                 status: int = 200):
    cabinet = services.prizes_of(current_user.program_id)
    forms = {p.id: StockForm(formdata=None, prefix=f"stock-{p.id}") for p in cabinet}
    if stock is not None:
        forms[stock[0]] = stock[1]
    return render_template("contingency/prizes.html", cabinet=cabinet, stock_forms=forms,
                           new_form=new_form or NewPrizeForm(formdata=None), money=reads.money,
                           sizes=reads.SIZE_TEXT), status


@bp.route("/contingency/prizes")
@staff_required
def prizes():
    """The prize cabinet: each prize's size, value and stock."""
    return _prizes_page()


@bp.route("/contingency/prizes", methods=["POST"])
@director_required
def add_prize():
    """Add a prize to the cabinet; audited."""
    form = NewPrizeForm()
    if not form.validate_on_submit():
        return _prizes_page(new_form=form, status=422)
    try:
        prize = services.add_prize(_program(), form.size.data or "", form.name.data or "", cents(form.value.data),
                                   form.count.data, current_user)
    except services.CmRefused as refused:
        db.session.rollback()
        for name, message in refused.problems.items():
            getattr(form, name, form.name).errors = [message]
        return _prizes_page(new_form=form, status=422)
    _audit("cm.prize_add", "cm_prize", prize.id, size=prize.size, in_stock=prize.in_stock)
    db.session.commit()
    flash(_("%(prize)s added to the cabinet.", prize=prize.name), "info")
    return redirect(url_for(".prizes"), 303)


@bp.route("/contingency/prizes/<int:prize_id>/stock", methods=["POST"])
@director_required
def restock(prize_id: int):
    """Add to (or take from) a prize's stock; audited."""
    prize = db.session.get(CmPrize, prize_id)
    if prize is None or prize.program_id != current_user.program_id:
        abort(404)
    form = StockForm(prefix=f"stock-{prize.id}")
    if not form.validate_on_submit():
        return _prizes_page(stock=(prize.id, form), status=422)
    try:
        count = services.restock(prize, form.change.data, current_user)
    except services.CmRefused as refused:
        db.session.rollback()
        form.change.errors = list(refused.problems.values())
        return _prizes_page(stock=(prize_id, form), status=422)
    _audit("cm.prize_stock", "cm_prize", prize.id, change=form.change.data, in_stock=count)
    db.session.commit()
    flash(_("%(prize)s: %(n)s in stock.", prize=prize.name, n=count), "info")
    return redirect(url_for(".prizes", _anchor=f"prize-{prize.id}"), 303)


def _period() -> tuple[PeriodForm, Period | None]:
    """The period asked for (default: the twelve months up to today); None with errors on the form."""
    form = PeriodForm(request.args)
    today = _today()
    if not form.validate():
        return form, None
    end = form.end.data or today
    start = form.start.data or (end - timedelta(days=364))
    problems = check_period(start, end, today)
    if problems:
        for name, message in problems.items():
            getattr(form, name).errors = [message]
        return form, None
    form.start.data, form.end.data = start, end
    return form, Period(start, end)


def _reports_page(form: PeriodForm, period: Period | None, status: int = 200):
    program = _program()
    shares = reports.negative_shares(program, period)[0] if period else []
    lines = reports.inventory(program, period) if period else []
    query = {"start": period.start.isoformat(), "end": period.end.isoformat()} if period else {}
    return render_template("contingency/reports.html", form=form, period=period, shares=shares, lines=lines,
                           query=query, kinds=reports.REPORTS.values(), notice=exports.NOTICE, money=reads.money,
                           sizes=reads.SIZE_TEXT), status


@bp.route("/contingency/reports")
@director_required
def reports_index():
    """The share of negative tests by month, the cabinet, and the downloads, for a period."""
    form, period = _period()
    return _reports_page(form, period, 200 if period else 422)


def _download(kind: str, extension: str, mimetype: str, write: Callable[[exports.Export, Period], bytes | str]):
    found = reports.REPORTS.get(kind)
    if found is None:
        abort(404, description=_("There is no such report. The reports are earnings, negative-tests, draws and "
                                 "prizes, each as .csv or .xlsx."))
    form, period = _period()
    if period is None:
        return _reports_page(form, None, 422)
    export = found.build(_program(), period)
    _audit(f"export.{export.kind}", "export", None, rows=len(export.rows), participant_ids=list(export.participant_ids),
           start=period.start.isoformat(), end=period.end.isoformat(), format=extension)
    db.session.commit()
    response = Response(write(export, period), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{exports.filename(export.kind, period, extension)}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/contingency/reports/<kind>.csv")
@director_required
def report_csv(kind: str):
    """One CM report as CSV, the 42 CFR 2.32 notice on every row; audited."""
    return _download(kind, "csv", "text/csv", lambda export, period: exports.to_csv(export))


@bp.route("/contingency/reports/<kind>.xlsx")
@director_required
def report_xlsx(kind: str):
    """The same report as an .xlsx workbook with the notice sheet; audited."""
    return _download(kind, "xlsx", spreadsheets.MIMETYPE, spreadsheets.to_xlsx)
