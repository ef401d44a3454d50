"""A participant's incentives (contingency management): the streak, what comes next, draws made on
screen with the participant, prizes handed over, missed tests, voucher exchanges, and the history.

URL table:
  GET  /participants/<id>/incentives                              the page (staff; the participant themself)
  POST /participants/<id>/incentives/draws                        draw one slip (staff)
  POST /participants/<id>/incentives/draws/<draw_id>/prize        hand over a prize for a drawn slip (staff)
  POST /participants/<id>/incentives/missed                       record a missed test (staff)
  POST /participants/<id>/incentives/exchanges                    exchange voucher credit (staff)
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import func, select
from wtforms import SelectChoice

from ..clinical.models import DrugTest
from ..clinical.services import KIND_LABELS, RESULT_LABELS
from ..domain import contingency as cm
from ..extensions import db
from ..participants.models import Participant
from ..programs.services import program_today
from ..web.access import audit_participant, own_participant_or_404, staff_required
from ..web.i18n import format_when
from . import ledger as reads
from . import services
from .forms import DrawForm, ExchangeForm, MissedForm, PrizeForm, cents
from .models import CmDraw

bp = Blueprint("contingency", __name__)


@bp.after_app_request
def tell_what_a_test_earned(response: Response) -> Response:
    """When a test was just recorded (the clinical log answered 303), say at once what it earned. The
    incentives area watches the log; the clinical area knows nothing of incentives."""
    if request.endpoint != "clinical.record_test" or response.status_code != 303 or not current_user.is_authenticated:
        return response
    person = db.session.get(Participant, (request.view_args or {}).get("participant_id"))
    if person is None or person.program_id != current_user.program_id:
        return response
    protocols = reads.protocols_of(person.program_id)
    if not cm.protocol_on(protocols, _today()).on:
        return response
    newest = db.session.scalar(select(func.max(DrugTest.id)).where(DrugTest.participant_id == person.id))
    ledger = reads.ledger_of(person, protocols)
    outcome = next((o for o in ledger.outcomes if o.key == f"test:{newest}"), None)
    if outcome is not None:
        flash(_earned_message(person, outcome, ledger), "info")
    return response


def _earned_message(person: Participant, o: cm.Outcome, ledger: reads.Ledger) -> str:
    """What one test earned, in a sentence for the page that recorded it."""
    name = person.preferred_name
    if o.verdict == "success" and o.protocol == "prize":
        return ngettext("Incentives: this negative test earns %(name)s %(num)s draw; %(waiting)s waiting. "
                        "Make them now on the Incentives page.",
                        "Incentives: this negative test earns %(name)s %(num)s draws; %(waiting)s waiting. "
                        "Make them now on the Incentives page.", o.draws, name=name, waiting=ledger.draws_owed)
    if o.verdict == "success" and o.why == "cap":
        return _("Incentives: no voucher for this test: %(amount)s would pass %(name)s's yearly cap.",
                 amount=reads.money(o.refused_cents), name=name)
    if o.verdict == "success":
        return _("Incentives: this negative test earns %(name)s a %(amount)s voucher.", name=name,
                 amount=reads.money(o.voucher_cents))
    if o.verdict == "failure":
        return _("Incentives: this test counts as positive, so the count of negative tests starts again.")
    return _("Incentives: this test does not count under the program's settings.")


@bp.app_template_global("cm_money")
def cm_money(cents: int) -> str:
    """Cents as dollars in any template (the incentives panel on shared pages)."""
    return reads.money(cents)


def _today() -> date:
    return program_today(current_user.program)


def _page(person: Participant, status: int = 200, *, problem: str = "", missed_form: MissedForm | None = None,
          exchange_form: ExchangeForm | None = None, prize_forms: dict[int, PrizeForm] | None = None):
    """The incentives page, with the form the caller holds (and its errors) in place of a fresh one."""
    today = _today()
    protocols = reads.protocols_of(person.program_id)
    ledger = reads.ledger_of(person, protocols)
    protocol = cm.protocol_on(protocols, today)
    panel = reads.panel_of(person.id, protocols, ledger, today)
    tests = {f"test:{t.id}": t for t in db.session.scalars(
        select(DrugTest).where(DrugTest.participant_id == person.id))}
    rows = list(db.session.scalars(select(CmDraw).where(CmDraw.participant_id == person.id).order_by(CmDraw.id)))
    cabinet = services.prizes_of(person.program_id)
    prize_names = {p.id: p.name for p in cabinet}
    waiting = [d for d in rows if d.size != "good_job" and d.given_at is None]
    forms = prize_forms or {}
    if current_user.is_staff:
        for d in waiting:
            if d.id not in forms:
                forms[d.id] = PrizeForm(formdata=None, prefix=f"draw-{d.id}")
            forms[d.id].prize_id.choices = [SelectChoice("", _("Choose a prize"))] + [
                SelectChoice(str(p.id), _("%(prize)s (%(worth)s, %(n)s in stock)", prize=p.name,
                                                  worth=reads.money(p.value_cents), n=p.in_stock))
                for p in cabinet if p.size == d.size and p.in_stock > 0]
    drawn = request.args.get("drawn", type=int)
    html = render_template(
        "contingency/participant.html", person=person, protocol=protocol, ledger=ledger, panel=panel,
        history=list(reversed(ledger.outcomes)), tests=tests, draws={d.id: d for d in rows},
        draws_by_source=_by_source(rows, prize_names), prize_names=prize_names, waiting=waiting, prize_forms=forms,
        just_drawn=next((d for d in rows if d.id == drawn), None), problem=problem, today=today,
        draw_form=DrawForm(formdata=None) if current_user.is_staff else None,
        missed_form=missed_form or (MissedForm(formdata=None, missed_on=today) if current_user.is_staff else None),
        exchange_form=exchange_form or (ExchangeForm(formdata=None) if current_user.is_staff else None),
        money=reads.money, sizes=reads.SIZE_TEXT, kinds=reads.KIND_TEXT, test_kinds=KIND_LABELS,
        results=RESULT_LABELS, exchanges=list(reversed(ledger.exchanges)))
    audit_participant("cm.view", person.id, outcomes=len(ledger.outcomes), draws=len(rows))
    db.session.commit()  # after rendering: a commit expires the loaded rows
    return html, status


@dataclass(frozen=True)
class Slips:
    """The slips of one size drawn for one test or meeting: how many, the prizes given, how many wait."""

    size: str
    count: int
    prizes: tuple[tuple[str, int], ...]  # (prize name, how many)
    waiting: int


def _by_source(rows, prize_names: dict[int, str]) -> dict[str, list[Slips]]:
    """The draws made for each test or meeting, grouped by slip size (largest first)."""
    grouped: dict[str, dict[str, list]] = {}
    for d in rows:
        key = f"test:{d.drug_test_id}" if d.drug_test_id else f"attendance:{d.attendance_id}"
        grouped.setdefault(key, {}).setdefault(d.size, []).append(d)
    out = {}
    for key, sizes in grouped.items():
        out[key] = [Slips(size, len(sizes[size]),
                          tuple(Counter(prize_names.get(d.prize_id, "") for d in sizes[size] if d.prize_id).items()),
                          sum(1 for d in sizes[size] if size != "good_job" and d.prize_id is None))
                    for size in reversed(cm.SIZES) if size in sizes]
    return out


@bp.route("/participants/<int:participant_id>/incentives")
@login_required
def participant(participant_id: int):
    """A participant's incentives: streak, what is next, draws waiting, vouchers, and the history."""
    return _page(own_participant_or_404(participant_id))


@bp.route("/participants/<int:participant_id>/incentives/draws", methods=["POST"])
@staff_required
def draw(participant_id: int):
    """Draw one slip with the participant (a cryptographically sound random number); audited."""
    person = own_participant_or_404(participant_id)
    if not DrawForm().validate_on_submit():
        abort(400)
    try:
        drawn = services.make_draw(person, current_user, _today())
    except services.CmRefused as refused:
        db.session.rollback()
        return _page(person, 422, problem=str(refused))
    row = drawn.draw
    audit_participant("cm.draw", person.id, "cm_draw", row.id, size=row.size, number=row.number, slips=row.slips,
                      drug_test_id=row.drug_test_id, attendance_id=row.attendance_id)
    db.session.commit()
    return redirect(url_for(".participant", participant_id=person.id, drawn=row.id, _anchor="drawn"), 303)


@bp.route("/participants/<int:participant_id>/incentives/draws/<int:draw_id>/prize", methods=["POST"])
@staff_required
def give_prize(participant_id: int, draw_id: int):
    """Hand over a prize from the cabinet for a drawn prize slip; audited."""
    person = own_participant_or_404(participant_id)
    found = services.find_draw(person, draw_id)
    if found is None:
        abort(404)
    form = PrizeForm(prefix=f"draw-{found.id}")
    form.prize_id.choices = []
    if not form.validate_on_submit():
        return _page(person, 422, prize_forms={found.id: form})
    try:
        prize = services.give_prize(person, found, form.prize_id.data, current_user, _today())
    except services.CmRefused as refused:
        db.session.rollback()
        form.prize_id.errors = list(refused.problems.values())
        return _page(person, 422, prize_forms={draw_id: form})
    audit_participant("cm.prize", person.id, "cm_draw", found.id, prize_id=prize.id, size=found.size)
    db.session.commit()
    flash(_("%(prize)s handed over to %(name)s.", prize=prize.name, name=person.preferred_name), "info")
    return redirect(url_for(".participant", participant_id=person.id, _anchor="draws-heading"), 303)


@bp.route("/participants/<int:participant_id>/incentives/missed", methods=["POST"])
@staff_required
def missed(participant_id: int):
    """Record a test the participant was due for and did not give; it resets the streak. Audited."""
    person = own_participant_or_404(participant_id)
    form = MissedForm()
    if not form.validate_on_submit():
        return _page(person, 422, missed_form=form)
    try:
        row = services.record_missed(person, form.missed_on.data, current_user, _today())
    except services.CmRefused as refused:
        db.session.rollback()
        form.missed_on.errors = list(refused.problems.values())
        return _page(person, 422, missed_form=form)
    audit_participant("cm.missed", person.id, "cm_missed_test", row.id)
    db.session.commit()
    flash(_("Missed test on %(day)s recorded. It counts as a positive test.", day=format_when(row.missed_on, "short")),
          "info")
    return redirect(url_for(".participant", participant_id=person.id, _anchor="history-heading"), 303)


@bp.route("/participants/<int:participant_id>/incentives/exchanges", methods=["POST"])
@staff_required
def exchange(participant_id: int):
    """Exchange voucher credit for goods or services (never cash); audited."""
    person = own_participant_or_404(participant_id)
    form = ExchangeForm()
    if not form.validate_on_submit():
        return _page(person, 422, exchange_form=form)
    try:
        row = services.exchange_voucher(person, cents(form.amount.data), form.item.data or "", current_user, _today())
    except services.CmRefused as refused:
        db.session.rollback()
        for name, message in refused.problems.items():
            getattr(form, name, form.amount).errors = [message]
        return _page(person, 422, exchange_form=form)
    audit_participant("cm.exchange", person.id, "cm_voucher_exchange", row.id, amount_cents=row.amount_cents)
    db.session.commit()
    flash(_("%(amount)s of voucher credit exchanged.", amount=reads.money(row.amount_cents)), "info")
    return redirect(url_for(".participant", participant_id=person.id, _anchor="vouchers-heading"), 303)
