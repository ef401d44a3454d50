"""Contingency management's reports, as the shared export tables (reports.exports.Export: CSV and .xlsx
with the 42 CFR 2.32 notice column): earnings and prizes by participant and month, the share of
negative tests by month for participants in CM, every draw made, and the prize cabinet. Each is built
in a fixed number of queries."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..auth.models import User
from ..domain import contingency as cm
from ..extensions import db
from ..participants.models import Participant
from ..programs.models import Program
from ..reports.exports import Export
from ..reports.services import Period
from . import ledger as reads
from .models import CmDraw, CmPrize

CENT = Decimal("0.01")
SHARE = Decimal("0.001")


def _dollars(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(CENT)


def _month(day: date) -> date:
    return day.replace(day=1)


def _people(ids: set[int]) -> dict[int, tuple[str, str]]:
    if not ids:
        return {}
    return {pid: (record, initials) for pid, record, initials in db.session.execute(
        select(Participant.id, Participant.record_number, Participant.initials).where(Participant.id.in_(ids)))}


def _counted(o: cm.Outcome) -> bool:
    return o.kind in ("test", "missed", "gap") and o.verdict in ("success", "failure")


def earnings_export(program: Program, period: Period) -> Export:
    """One row per participant per month with CM activity: tests counted, negatives, draws earned and
    made, prizes given and their value, vouchers earned, refused at the cap, and exchanged."""
    protocols = reads.protocols_of(program.id)
    rows: dict[tuple[int, date], list[int]] = {}
    for pid, ledger in reads.ledgers(program.id, protocols).items():
        def add(day: date, column: int, amount: int = 1, pid: int = pid) -> None:
            if period.contains(day):
                rows.setdefault((pid, _month(day)), [0] * 9)[column] += amount
        for o in ledger.outcomes:
            if _counted(o):
                add(o.day, 0)
                if o.verdict == "success":
                    add(o.day, 1)
            add(o.day, 2, o.draws)
            add(o.day, 6, o.voucher_cents)
            add(o.day, 7, o.refused_cents)
        for d in ledger.draws:
            add(d.day, 3)
            if d.given:
                add(d.day, 4)
                add(d.day, 5, d.prize_cents or 0)
        for e in ledger.exchanges:
            add(e.day, 8, e.amount_cents)
    people = _people({pid for pid, _ in rows})
    out = []
    for (pid, month), v in sorted(rows.items(), key=lambda item: (people[item[0][0]][0], item[0][1])):
        if not any(v):
            continue
        record, initials = people[pid]
        out.append((pid, record, initials, f"{month:%Y-%m}", v[0], v[1], v[2], v[3], v[4], _dollars(v[5]),
                    _dollars(v[6]), _dollars(v[7]), _dollars(v[8])))
    return Export("cm-earnings", "CM earnings", (
        "participant_id", "record_number", "initials", "month", "tests_counted", "negative_tests", "draws_earned",
        "draws_made", "prizes_given", "prize_value", "vouchers_earned", "vouchers_refused_at_cap",
        "vouchers_exchanged"), out, tuple(sorted({r[0] for r in out})))


@dataclass(frozen=True)
class MonthShare:
    """Tests counted and negative in one month, for participants in CM."""

    month: date
    participants: int
    counted: int
    negative: int

    @property
    def share(self) -> Decimal | None:
        """Negative tests as a share of the tests counted (None without tests)."""
        return (Decimal(self.negative) / self.counted).quantize(SHARE) if self.counted else None


def negative_shares(program: Program, period: Period) -> tuple[list[MonthShare], tuple[int, ...]]:
    """By month of the period: how many counted tests (missed ones included) were negative."""
    protocols = reads.protocols_of(program.id)
    months = {m: [set(), 0, 0] for m in period.months()}
    for pid, ledger in reads.ledgers(program.id, protocols).items():
        for o in ledger.outcomes:
            if _counted(o) and period.contains(o.day):
                cell = months[_month(o.day)]
                cell[0].add(pid)
                cell[1] += 1
                cell[2] += o.verdict == "success"
    shares = [MonthShare(m, len(c[0]), c[1], c[2]) for m, c in sorted(months.items())]
    return shares, tuple(sorted(set().union(*(c[0] for c in months.values()))))


def negatives_export(program: Program, period: Period) -> Export:
    """The share of negative tests by month for participants in CM (no one is named)."""
    shares, ids = negative_shares(program, period)
    rows = [(f"{s.month:%Y-%m}", s.participants, s.counted, s.negative, s.share) for s in shares]
    return Export("cm-negative-tests", "CM negative tests", (
        "month", "participants_tested", "tests_counted", "negative_tests", "share_negative"), rows, ids)


def draws_export(program: Program, period: Period) -> Export:
    """Every draw made in the period: for which test or meeting, the random number, the slip, the prize."""
    drawer, giver = User.__table__.alias("drawer"), User.__table__.alias("giver")
    found = db.session.execute(
        select(CmDraw, Participant.record_number, Participant.initials, CmPrize.name, drawer.c.display_name,
               giver.c.display_name)
        .join(Participant, Participant.id == CmDraw.participant_id)
        .outerjoin(CmPrize, CmPrize.id == CmDraw.prize_id)
        .join(drawer, drawer.c.id == CmDraw.drawn_by_id)
        .outerjoin(giver, giver.c.id == CmDraw.given_by_id)
        .where(Participant.program_id == program.id, CmDraw.drawn_on >= period.start, CmDraw.drawn_on <= period.end)
        .order_by(CmDraw.drawn_on, CmDraw.id)).all()
    rows = [(d.drawn_on, d.participant_id, record, initials, "test" if d.drug_test_id else "attendance",
             d.number, d.slips, d.size, prize or "", _dollars(d.prize_cents) if d.prize_cents is not None else None,
             drawn_by, given_by or "") for d, record, initials, prize, drawn_by, given_by in found]
    return Export("cm-draws", "CM draws", (
        "drawn_on", "participant_id", "record_number", "initials", "for", "random_number", "slips_in_bowl", "slip",
        "prize", "prize_value", "drawn_by", "given_by"), rows, tuple(sorted({r[1] for r in rows})))


@dataclass(frozen=True)
class InventoryLine:
    """One prize of the cabinet: stock now, and how many were given in the period."""

    prize: CmPrize
    given: int
    given_cents: int


def inventory(program: Program, period: Period) -> list[InventoryLine]:
    """The cabinet with what was handed over in the period (two queries)."""
    prizes = sorted(db.session.scalars(select(CmPrize).where(CmPrize.program_id == program.id)),
                    key=lambda p: (cm.PRIZE_SIZES.index(p.size), p.name.lower()))
    given: dict[int, list[int]] = {}
    for prize_id, cents in db.session.execute(
            select(CmDraw.prize_id, CmDraw.prize_cents).join(CmPrize, CmPrize.id == CmDraw.prize_id)
            .where(CmPrize.program_id == program.id, CmDraw.drawn_on >= period.start, CmDraw.drawn_on <= period.end)):
        cell = given.setdefault(prize_id, [0, 0])
        cell[0] += 1
        cell[1] += cents or 0
    return [InventoryLine(p, *given.get(p.id, (0, 0))) for p in prizes]


def inventory_export(program: Program, period: Period) -> Export:
    """The prize cabinet: each prize's size, value, stock now, and how many were given in the period."""
    rows = [(line.prize.name, reads.SIZE_LABELS[line.prize.size], _dollars(line.prize.value_cents),
             line.prize.in_stock, line.given, _dollars(line.given_cents)) for line in inventory(program, period)]
    return Export("cm-prizes", "CM prize inventory", (
        "prize", "size", "value", "in_stock", "given_in_period", "value_given_in_period"), rows, ())


@dataclass(frozen=True)
class ReportKind:
    """One downloadable CM report."""

    kind: str
    title: str
    description: str
    build: Callable[[Program, Period], Export]


REPORTS = {r.kind: r for r in (
    ReportKind("earnings", _l("Earnings and prizes"), _l("One row per participant per month: tests, draws, prizes "
                                                         "and vouchers."), earnings_export),
    ReportKind("negative-tests", _l("Negative tests"),
               _l("The share of negative tests by month for participants in CM."), negatives_export),
    ReportKind("draws", _l("Draws"), _l("Every draw: the random number, the slip, the prize, who drew and who "
                                        "handed it over."), draws_export),
    ReportKind("prizes", _l("Prize inventory"), _l("The cabinet: stock now and prizes given in the period."),
               inventory_export),
)}
