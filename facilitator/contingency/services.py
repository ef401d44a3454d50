"""Changes of contingency management: a protocol version, a missed test, a draw, a prize handed over,
a voucher exchange, the prize cabinet. Each takes plain data and the acting user, checks, changes
rows, flushes and returns; the view audits and commits.

Rules (from the issue, and the choices made where it left room):
- A protocol change applies from a day on (today or later), never to tests before it.
- A draw is made only under prize-based CM, for a test or meeting that earned draws not made yet
  (the oldest first). It is refused when its largest possible prize would pass the participant's
  yearly cap or the program's budget (what was spent and is owed). The slip comes from
  `secrets.randbelow` over the bowl's slips; the number and the bowl are stored with the draw.
- A prize is handed over from the cabinet for a drawn prize slip of its size; it takes one from
  stock and is refused if its value would pass the yearly cap.
- Vouchers are exchanged for goods or services (never cash), up to the credit earned.
- A missed test is dated after the participant's last test: an earlier one would change what the
  tests after it earned (draws may have been made for them).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select

from ..auth.models import User
from ..clinical.models import DrugTest
from ..domain import contingency as cm
from ..extensions import db
from ..models_base import utcnow
from ..participants.models import Enrollment, Participant
from ..programs.models import Program
from ..web.i18n import format_when
from . import ledger as reads
from .ledger import SIZE_TEXT, money
from .models import CmDraw, CmMissedTest, CmPrize, CmProtocol, CmVoucherExchange


class CmRefused(ValueError):
    """A change refused: a plain message per form field (key "" for the form as a whole)."""

    def __init__(self, problems: dict[str, str] | str):
        self.problems = problems if isinstance(problems, dict) else {"": problems}
        super().__init__(" ".join(self.problems.values()))


def _day(day: date) -> str:
    return format_when(day, "year")


def save_protocol(program: Program, protocol: cm.Protocol, user: User, today: date) -> CmProtocol:
    """Add a protocol version from its effective day on (today or later); earlier outcomes keep theirs."""
    problems = cm.check_protocol(protocol)
    if protocol.effective_from < today:
        problems["effective_from"] = _("A change applies from today (%(day)s) or a later day, so that no "
                                       "past outcome changes.", day=_day(today))
    if problems:
        raise CmRefused(problems)
    row = CmProtocol(program_id=program.id, effective_from=protocol.effective_from, kind=protocol.kind,
                     yearly_cap_cents=protocol.yearly_cap_cents, budget_cents=protocol.budget_cents,
                     year_starts_month=protocol.year_starts_month, rules=reads.rules_of(protocol),
                     created_by_id=user.id, created_at=utcnow())
    db.session.add(row)
    db.session.flush()
    return row


def record_missed(person: Participant, day: date | None, user: User, today: date) -> CmMissedTest:
    """A test the participant was due for and did not give (it counts as positive)."""
    if day is None:
        raise CmRefused({"missed_on": _("Enter the day of the missed test, like 2027-01-05.")})
    if day > today:
        raise CmRefused({"missed_on": _("The day cannot be in the future (today is %(day)s).", day=_day(today))})
    admitted = db.session.scalar(select(func.min(Enrollment.admitted_on)).where(Enrollment.participant_id == person.id))
    if admitted is None or day < admitted:
        raise CmRefused({"missed_on": _("The day is before the participant's admission.")})
    if db.session.scalar(select(DrugTest.id).where(DrugTest.participant_id == person.id,
                                                   DrugTest.collected_on == day).limit(1)) is not None:
        raise CmRefused({"missed_on": _("A test is recorded on %(day)s. A missed test is for a day with no test.",
                                        day=_day(day))})
    latest = db.session.scalar(select(func.max(DrugTest.collected_on)).where(DrugTest.participant_id == person.id))
    if latest is not None and day < latest:
        # An earlier miss would reset the streak under tests already rewarded.
        raise CmRefused({"missed_on": _("A missed test can be recorded only after the last test (%(day)s): "
                                        "an earlier one would change what later tests earned.", day=_day(latest))})
    if db.session.scalar(select(CmMissedTest.id).where(CmMissedTest.participant_id == person.id,
                                                       CmMissedTest.missed_on == day)) is not None:
        raise CmRefused({"missed_on": _("A missed test on %(day)s is already recorded.", day=_day(day))})
    row = CmMissedTest(participant_id=person.id, missed_on=day, recorded_by_id=user.id, recorded_at=utcnow())
    db.session.add(row)
    db.session.flush()
    return row


@dataclass(frozen=True)
class Drawn:
    """A draw made: the row, and how many draws are still waiting after it."""

    draw: CmDraw
    still_owed: int


def refusal_message(refusal: cm.Refusal, name: str) -> str:
    """Why a draw was refused, in words, with the figures."""
    prize = str(SIZE_TEXT[refusal.size]).lower()
    if refusal.limit == "cap":
        return _("No draw was made: a draw can give a %(prize)s worth %(worth)s, and %(name)s has %(left)s left "
                 "under the yearly cap of %(cap)s. The draws stay in the record; the director can raise the cap in "
                 "the settings if the funder allows it.", prize=prize, worth=money(refusal.at_stake), name=name,
                 left=money(refusal.left), cap=money(refusal.limit_cents))
    return _("No draw was made: a draw can give a %(prize)s worth %(worth)s, and the program has %(left)s left of "
             "its budget of %(budget)s (spent and owed counted). Ask the director to add to the budget.",
             prize=prize, worth=money(refusal.at_stake), left=money(refusal.left), budget=money(refusal.limit_cents))


def _locked(person: Participant) -> None:
    # One draw at a time per participant: a second desk could otherwise pass the cap check twice.
    db.session.execute(select(Participant.id).where(Participant.id == person.id).with_for_update())


def make_draw(person: Participant, user: User, today: date,
              randbelow: Callable[[int], int] = secrets.randbelow) -> Drawn:
    """Draw one slip for the oldest test or meeting with draws waiting; refused past the cap or budget."""
    _locked(person)
    protocols = reads.protocols_of(person.program_id)
    protocol = cm.protocol_on(protocols, today)
    if protocol.kind != "prize":
        raise CmRefused(_("Draws are made only while the program runs prize draws."))
    all_ledgers = reads.ledgers(person.program_id, protocols)
    mine = all_ledgers.get(person.id) or reads.Ledger(person.id)
    if not mine.owed:
        raise CmRefused(_("%(name)s has no draws waiting.", name=person.preferred_name))
    budget = reads.budget_of(protocol, all_ledgers.values(), today)
    committed = mine.committed_in(cm.year_start(today, protocol.year_starts_month))
    refusal = cm.check_draw(protocol, committed, budget.spent + budget.owed)
    if refusal is not None:
        raise CmRefused(refusal_message(refusal, person.preferred_name))
    source = mine.owed[0][0]
    kind, _sep, row_id = source.partition(":")
    slips = cm.bowl_total(protocol.bowl)
    number = randbelow(slips)
    size = cm.slip_at(protocol.bowl, number)
    draw = CmDraw(participant_id=person.id, drug_test_id=int(row_id) if kind == "test" else None,
                  attendance_id=int(row_id) if kind == "attendance" else None, drawn_on=today, drawn_at=utcnow(),
                  drawn_by_id=user.id, number=number, slips=slips,
                  bowl={s: protocol.bowl.get(s, 0) for s in cm.SIZES}, size=size,
                  size_cents=protocol.prize_cents.get(size, 0) if size != "good_job" else 0)
    db.session.add(draw)
    db.session.flush()
    return Drawn(draw, mine.draws_owed - 1)


def find_draw(person: Participant, draw_id: int) -> CmDraw | None:
    """The participant's draw with this id (None if it is someone else's)."""
    draw = db.session.get(CmDraw, draw_id)
    return draw if draw is not None and draw.participant_id == person.id else None


def give_prize(person: Participant, draw: CmDraw, prize_id: int | None, user: User, today: date) -> CmPrize:
    """Hand over a prize from the cabinet for a drawn prize slip: one less in stock; refused past the cap."""
    if draw.size == "good_job":
        raise CmRefused(_("A good-job slip wins no prize."))
    if draw.given_at is not None:
        raise CmRefused(_("The prize for this slip was already handed over."))
    prize = db.session.get(CmPrize, prize_id) if prize_id else None
    if prize is None or prize.program_id != person.program_id:
        raise CmRefused({"prize_id": _("Choose a prize from the cabinet.")})
    if prize.size != draw.size:
        raise CmRefused({"prize_id": _("Choose a %(size)s: the slip says so.", size=str(SIZE_TEXT[draw.size]).lower())})
    if prize.in_stock < 1:
        raise CmRefused({"prize_id": _("There is no %(prize)s left in the cabinet. Choose another prize or "
                                       "restock the cabinet.", prize=prize.name)})
    _locked(person)
    protocols = reads.protocols_of(person.program_id)
    protocol = cm.protocol_on(protocols, today)
    mine = reads.ledger_of(person, protocols)
    committed = mine.committed_in(cm.year_start(draw.drawn_on, protocol.year_starts_month)) - draw.size_cents
    if committed + prize.value_cents > protocol.yearly_cap_cents:
        left = max(protocol.yearly_cap_cents - committed, 0)
        raise CmRefused({"prize_id": _("%(prize)s is worth %(worth)s, and %(name)s has %(left)s left under the "
                                       "yearly cap of %(cap)s. Choose a prize of this size worth less.",
                                       prize=prize.name, worth=money(prize.value_cents), name=person.preferred_name,
                                       left=money(left), cap=money(protocol.yearly_cap_cents))})
    prize.in_stock -= 1
    draw.prize_id, draw.prize_cents, draw.given_at, draw.given_by_id = prize.id, prize.value_cents, utcnow(), user.id
    db.session.flush()
    return prize


def exchange_voucher(person: Participant, amount_cents: int | None, item: str, user: User, today: date) -> CmVoucherExchange:
    """Exchange voucher credit for goods or services (never cash), up to the balance."""
    problems = {}
    item = (item or "").strip()
    if not item:
        problems["item"] = _("Say what the voucher buys (for example: bus pass, grocery card).")
    elif len(item) > 120:
        problems["item"] = _("Keep what it buys to 120 characters or fewer.")
    if amount_cents is None or amount_cents <= 0:
        problems["amount"] = _("Enter the amount in dollars, more than $0.")
    if problems:
        raise CmRefused(problems)
    assert amount_cents is not None
    _locked(person)
    balance = reads.ledger_of(person, reads.protocols_of(person.program_id)).voucher_balance
    if amount_cents > balance:
        raise CmRefused({"amount": _("%(name)s has %(balance)s of voucher credit; the exchange cannot be more "
                                     "than that.", name=person.preferred_name, balance=money(balance))})
    row = CmVoucherExchange(participant_id=person.id, exchanged_on=today, amount_cents=amount_cents, item=item,
                            approved_by_id=user.id, recorded_at=utcnow())
    db.session.add(row)
    db.session.flush()
    return row


# --- the prize cabinet ---------------------------------------------------------------------------

def prizes_of(program_id: int) -> list[CmPrize]:
    """The cabinet: prizes by size, then name (one query)."""
    order = {size: n for n, size in enumerate(cm.PRIZE_SIZES)}
    rows = list(db.session.scalars(select(CmPrize).where(CmPrize.program_id == program_id)))
    return sorted(rows, key=lambda p: (order[p.size], p.name.lower()))


def add_prize(program: Program, size: str, name: str, value_cents: int | None, count: int | None,
              user: User) -> CmPrize:
    """Add a prize to the cabinet with its size, value and how many are in stock."""
    problems = {}
    name = (name or "").strip()
    if size not in cm.PRIZE_SIZES:
        problems["size"] = _("Choose small, large or jumbo.")
    if not name or len(name) > 80:
        problems["name"] = _("Name the prize in 1 to 80 characters.")
    elif db.session.scalar(select(CmPrize.id).where(CmPrize.program_id == program.id,
                                                    func.lower(CmPrize.name) == name.lower())) is not None:
        problems["name"] = _("The cabinet already has a prize named %(name)s. Restock that one instead.", name=name)
    if value_cents is None or not 0 <= value_cents <= 100000:
        problems["value"] = _("Enter what the prize is worth, from $0 to $1,000.")
    if count is None or not 0 <= count <= 10000:
        problems["count"] = _("Enter how many are in stock, from 0 to 10,000.")
    if problems:
        raise CmRefused(problems)
    row = CmPrize(program_id=program.id, size=size, name=name, value_cents=value_cents, in_stock=count,
                  created_at=utcnow())
    db.session.add(row)
    db.session.flush()
    return row


def restock(prize: CmPrize, change: int | None, user: User) -> int:
    """Add to (or, with a negative number, take from) a prize's stock; returns the new count."""
    if change is None or change == 0 or not -10000 <= change <= 10000:
        raise CmRefused({"change": _("Enter how many to add (or, with a minus sign, to take away), up to 10,000.")})
    if prize.in_stock + change < 0:
        raise CmRefused({"change": _("Only %(n)s %(prize)s are in stock; you cannot take away %(change)s.",
                                     n=prize.in_stock, prize=prize.name, change=-change)})
    prize.in_stock += change
    db.session.flush()
    return prize.in_stock
