"""Reads of contingency management: what each participant earned (replayed from the test log, the
missed tests and attendance by domain.contingency), what was drawn, given and exchanged, and the
program's budget. Every read is a fixed number of queries, however long the history. Nothing here
changes rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import Integer, String, cast, literal, null, select, union_all

from .. import data_revision
from ..attendance.models import Attendance
from ..clinical.models import DrugTest
from ..domain import contingency as cm
from ..extensions import db
from ..groups.models import Meeting
from ..participants.models import Participant
from ..programs.models import AttendanceStatus
from .models import CmDraw, CmMissedTest, CmProtocol, CmVoucherExchange

SIZE_LABELS = {"good_job": "Good job", "small": "Small prize", "large": "Large prize", "jumbo": "Jumbo prize"}
KIND_LABELS = {"off": "Off", "prize": "Prize draws (fishbowl)", "voucher": "Vouchers"}
# The same as people read them, in the current language (the English ones above go into report files).
SIZE_TEXT = {"good_job": _l("Good job"), "small": _l("Small prize"), "large": _l("Large prize"),
             "jumbo": _l("Jumbo prize")}
KIND_TEXT = {"off": lazy_pgettext("incentives", "Off"), "prize": _l("Prize draws (fishbowl)"), "voucher": _l("Vouchers")}


def money(cents: int) -> str:
    """Cents as dollars the way the pages show them: $1,234.50."""
    return f"-${-cents / 100:,.2f}" if cents < 0 else f"${cents / 100:,.2f}"


def to_protocol(row: CmProtocol) -> cm.Protocol:
    """A stored protocol version as the domain's Protocol (unknown keys in the rules are ignored)."""
    rules = dict(row.rules or {})
    known = {f for f in cm.Protocol.__dataclass_fields__}
    values = {k: v for k, v in rules.items() if k in known}
    for name in ("test_kinds", "target_substances"):
        if name in values:
            values[name] = frozenset(values[name])
    return cm.Protocol(**values, kind=row.kind, effective_from=row.effective_from,
                       yearly_cap_cents=row.yearly_cap_cents, budget_cents=row.budget_cents,
                       year_starts_month=row.year_starts_month)


def rules_of(protocol: cm.Protocol) -> dict:
    """The part of a Protocol stored as the row's JSON rules."""
    stored = {}
    for name in cm.Protocol.__dataclass_fields__:
        if name in ("kind", "effective_from", "yearly_cap_cents", "budget_cents", "year_starts_month"):
            continue
        value = getattr(protocol, name)
        stored[name] = sorted(value) if isinstance(value, frozenset) else (
            dict(value) if isinstance(value, dict) else value)
    return stored


def protocol_rows(program_id: int) -> list[CmProtocol]:
    """A program's protocol versions in the order they apply (one query)."""
    return list(db.session.scalars(select(CmProtocol).where(CmProtocol.program_id == program_id)
                                   .order_by(CmProtocol.effective_from, CmProtocol.id)))


def protocols_of(program_id: int) -> list[cm.Protocol]:
    """A program's protocols in the order they apply (one query, none when read before unchanged)."""
    return list(data_revision.remembered("protocols", (program_id,),
                                         lambda: [to_protocol(row) for row in protocol_rows(program_id)],
                                         reads=("cm_protocol",)))


@dataclass(frozen=True)
class DrawRow:
    """A draw made: its source, slip and the prize given (if any)."""

    id: int
    day: date
    source: str  # the outcome key it was drawn for
    size: str
    size_cents: int
    prize_id: int | None
    prize_cents: int | None
    given: bool

    @property
    def waiting(self) -> bool:
        """A prize slip whose prize has not been handed over yet."""
        return self.size != "good_job" and not self.given

    @property
    def committed(self) -> int:
        """What the draw costs or will cost: the prize given, else the slip's value."""
        return self.prize_cents if self.given and self.prize_cents is not None else self.size_cents


@dataclass(frozen=True)
class ExchangeRow:
    """Voucher credit exchanged."""

    id: int
    day: date
    amount_cents: int
    item: str


@dataclass
class Ledger:
    """One participant's CM: every outcome, where they stand, draws made and owed, vouchers."""

    participant_id: int
    outcomes: list[cm.Outcome] = field(default_factory=list)
    ladder: cm.Ladder = field(default_factory=cm.Ladder)
    draws: list[DrawRow] = field(default_factory=list)
    exchanges: list[ExchangeRow] = field(default_factory=list)
    owed: list[tuple[str, int]] = field(default_factory=list)  # (outcome key, draws still to make), oldest first

    @property
    def draws_owed(self) -> int:
        """Draws earned and not made yet."""
        return sum(n for _, n in self.owed)

    @property
    def voucher_earned(self) -> int:
        """All voucher credit earned."""
        return sum(o.voucher_cents for o in self.outcomes)

    @property
    def voucher_balance(self) -> int:
        """Voucher credit earned and not exchanged yet."""
        return self.voucher_earned - sum(e.amount_cents for e in self.exchanges)

    def committed_in(self, start: date, end: date | None = None) -> int:
        """What the participant earned from start (to end): vouchers earned, prizes given or drawn."""
        def inside(day: date) -> bool:
            return day >= start and (end is None or day < end)
        return (sum(o.voucher_cents for o in self.outcomes if inside(o.day))
                + sum(d.committed for d in self.draws if inside(d.day)))

    def draws_for(self, key: str) -> list[DrawRow]:
        """The draws made for one outcome."""
        return [d for d in self.draws if d.source == key]


def _in(column, participant_ids: Iterable[int] | None, program_id: int):
    if participant_ids is not None:
        return column.in_(list(participant_ids))
    return column.in_(select(Participant.id).where(Participant.program_id == program_id))


def _events(program_id: int, participant_ids: Iterable[int] | None, attendance: bool) -> dict[int, list[cm.Event]]:
    """Tests, missed tests and (when a protocol rewards it) meetings attended, per participant (one query)."""
    text = String()
    parts = [
        select(literal("test", text).label("kind"), DrugTest.id, DrugTest.participant_id,
               DrugTest.collected_on.label("day"), DrugTest.kind.label("test_kind"), DrugTest.result,
               cast(DrugTest.substances, String).label("substances"), DrugTest.observed)
        .where(_in(DrugTest.participant_id, participant_ids, program_id)),
        select(literal("missed", text), CmMissedTest.id, CmMissedTest.participant_id, CmMissedTest.missed_on,
               literal("", text), literal("", text), literal("[]", text), literal(False))
        .where(_in(CmMissedTest.participant_id, participant_ids, program_id)),
    ]
    if attendance:
        parts.append(
            select(literal("attendance", text), Attendance.id, Attendance.participant_id, Meeting.date,
                   literal("", text), literal("", text), literal("[]", text), literal(False))
            .join(Meeting, Meeting.id == Attendance.meeting_id)
            .join(AttendanceStatus, AttendanceStatus.id == Attendance.status_id)
            .where(_in(Attendance.participant_id, participant_ids, program_id), Meeting.status == "held",
                   AttendanceStatus.counts_attended))
    out: dict[int, list[cm.Event]] = {}
    for kind, row_id, pid, day, test_kind, result, substances, observed in db.session.execute(union_all(*parts)):
        found = tuple(json.loads(substances or "[]")) if kind == "test" else ()
        out.setdefault(pid, []).append(cm.Event(day, kind, f"{kind}:{row_id}", result=result or "",
                                                test_kind=test_kind or "", substances=found,
                                                observed=bool(observed), order=row_id))
    return out


def _desk(program_id: int, participant_ids: Iterable[int] | None) -> dict[int, tuple[list[DrawRow], list[ExchangeRow]]]:
    """Draws made and vouchers exchanged, per participant (one query)."""
    number, text = Integer(), String()
    draws = select(literal("draw", text).label("what"), CmDraw.id, CmDraw.participant_id,
                   CmDraw.drawn_on.label("day"), CmDraw.drug_test_id, CmDraw.attendance_id, CmDraw.size,
                   CmDraw.size_cents, CmDraw.prize_id, CmDraw.prize_cents, CmDraw.given_at.is_not(None).label("given"))
    exchanges = select(literal("exchange", text), CmVoucherExchange.id, CmVoucherExchange.participant_id,
                       CmVoucherExchange.exchanged_on, cast(null(), number), cast(null(), number),
                       CmVoucherExchange.item, CmVoucherExchange.amount_cents, cast(null(), number),
                       cast(null(), number), literal(True))
    query = union_all(draws.where(_in(CmDraw.participant_id, participant_ids, program_id)),
                      exchanges.where(_in(CmVoucherExchange.participant_id, participant_ids, program_id)))
    out: dict[int, tuple[list[DrawRow], list[ExchangeRow]]] = {}
    for what, row_id, pid, day, test_id, attendance_id, size, cents, prize_id, prize_cents, given in \
            db.session.execute(query):
        drawn, exchanged = out.setdefault(pid, ([], []))
        if what == "draw":
            source = f"test:{test_id}" if test_id is not None else f"attendance:{attendance_id}"
            drawn.append(DrawRow(row_id, day, source, size, cents, prize_id, prize_cents, bool(given)))
        else:
            exchanged.append(ExchangeRow(row_id, day, cents, size))
    for drawn, exchanged in out.values():
        drawn.sort(key=lambda d: d.id)
        exchanged.sort(key=lambda e: e.id)
    return out


def ledgers(program_id: int, protocols: list[cm.Protocol],
            participant_ids: Iterable[int] | None = None) -> dict[int, Ledger]:
    """Every participant's ledger (or these participants'), in two queries."""
    ids = list(participant_ids) if participant_ids is not None else None
    events = _events(program_id, ids, _rewards_attendance(protocols))
    desk = _desk(program_id, ids)
    out = {}
    for pid in set(events) | set(desk) | set(ids or ()):
        drawn, exchanged = desk.get(pid, ([], []))
        # Prizes given count toward the yearly cap of a voucher earned later the same year.
        spent = [cm.Event(d.day, "spent", f"spent:{d.id}", cents=d.committed, order=d.id) for d in drawn]
        results, ladder = cm.outcomes(protocols, events.get(pid, []) + spent)
        made: dict[str, int] = {}
        for d in drawn:
            made[d.source] = made.get(d.source, 0) + 1
        owed = [(o.key, o.draws - made.get(o.key, 0)) for o in results if o.draws > made.get(o.key, 0)]
        out[pid] = Ledger(pid, results, ladder, drawn, exchanged, owed)
    return out


def _rewards_attendance(protocols: list[cm.Protocol]) -> bool:
    return any(p.kind == "prize" and p.attendance_draws for p in protocols)


# The tables a ledger is read from (the protocols are part of the panel's key through cm_protocol).
LEDGER_READS = ("cm_protocol", "drug_test", "cm_missed_test", "cm_draw", "cm_voucher_exchange")
ATTENDANCE_READS = ("attendance", "meeting", "attendance_status")


def ledger_of(person: Participant, protocols: list[cm.Protocol]) -> Ledger:
    """One participant's ledger (two queries)."""
    return ledgers(person.program_id, protocols, [person.id])[person.id]


# --- the budget ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Budget:
    """The program's CM money for the current year: spent, committed, and what is left."""

    year_start: date
    budget: int  # 0: no budget set
    prizes_given: int
    vouchers_exchanged: int
    slips_waiting: int  # prize slips drawn, prize not handed over yet (their nominal value)
    voucher_balances: int  # voucher credit earned and not exchanged
    draws_owed: int
    draws_owed_cents: int  # draws earned and not made, at the average cost of a draw

    @property
    def spent(self) -> int:
        """Money that left the program this year."""
        return self.prizes_given + self.vouchers_exchanged

    @property
    def owed(self) -> int:
        """Money the program already owes (a draw refused for the budget counts this and what was spent)."""
        return self.slips_waiting + self.voucher_balances

    @property
    def committed(self) -> int:
        """Owed, plus the expected cost of the draws earned and not made."""
        return self.owed + self.draws_owed_cents

    @property
    def left(self) -> int:
        """The budget less what was spent and committed (meaningful only when a budget is set)."""
        return self.budget - self.spent - self.committed


def budget_of(protocol: cm.Protocol, all_ledgers: Iterable[Ledger], today: date) -> Budget:
    """The program's budget figures for the year holding today, from every participant's ledger."""
    start = cm.year_start(today, protocol.year_starts_month)
    given = waiting = exchanged = balances = owed = 0
    for ledger in all_ledgers:
        given += sum(d.prize_cents or 0 for d in ledger.draws if d.given and d.day >= start)
        waiting += sum(d.size_cents for d in ledger.draws if d.waiting)
        exchanged += sum(e.amount_cents for e in ledger.exchanges if e.day >= start)
        balances += max(ledger.voucher_balance, 0)
        owed += ledger.draws_owed
    per_draw = cm.expected_cents(protocol.bowl, protocol.prize_cents) if protocol.kind == "prize" else 0
    return Budget(start, protocol.budget_cents, given, exchanged, waiting, balances, owed, owed * per_draw)


# --- the panel on the participant page and /me --------------------------------------------------------

@dataclass(frozen=True)
class Panel:
    """What the participant page and /me show of CM: the streak, what is next, the latest outcomes."""

    participant_id: int
    protocol: cm.Protocol
    standing: cm.Standing
    draws_owed: int
    voucher_balance: int
    cap_left: int
    recent: tuple[cm.Outcome, ...]
    earned_this_year: int
    cap_year_start: date


def panel_for(person: Participant, today: date) -> Panel | None:
    """The CM panel of a participant (None when the program never ran CM): three queries at most, none
    when this process built it before and the tables a ledger is read from have not changed since."""
    protocols = protocols_of(person.program_id)
    if not protocols:
        return None
    # What the ledger reads: attendance only when a protocol rewards it (then a save changes the panel).
    reads = LEDGER_READS + (ATTENDANCE_READS if _rewards_attendance(protocols) else ())
    return data_revision.remembered("incentives panel", (person.program_id, person.id, today),
                                    lambda: _panel(person.program_id, person.id, protocols, today), reads=reads,
                                    people=(person.id,))


def _panel(program_id: int, participant_id: int, protocols: list[cm.Protocol], today: date) -> Panel | None:
    ledger = ledgers(program_id, protocols, [participant_id])[participant_id]
    return panel_of(participant_id, protocols, ledger, today)


def panel_of(participant_id: int, protocols: list[cm.Protocol], ledger: Ledger, today: date) -> Panel | None:
    """The panel from a ledger already read."""
    protocol = cm.protocol_on(protocols, today)
    if not protocol.on and not ledger.outcomes:
        return None
    start = cm.year_start(today, protocol.year_starts_month)
    earned = ledger.committed_in(start)
    counted = [o for o in ledger.outcomes if o.verdict not in ("off", "not_counted")]
    return Panel(participant_id, protocol, cm.standing(protocol, ledger.ladder, today), ledger.draws_owed,
                 ledger.voucher_balance, protocol.yearly_cap_cents - earned, tuple(reversed(counted[-5:])), earned,
                 start)
