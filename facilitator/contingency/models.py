"""Contingency management's own ledger. It reads tests (clinical) and attendance and writes only these
rows: the protocol versions a program ran, the missed tests staff recorded, the draws made with their
random number and the prize given, the prize cabinet, and vouchers exchanged for goods.

What a test earned is never stored: it follows from the tests and the protocols (domain.contingency),
so it cannot drift from the test log. What happened at the desk (a draw, a prize, an exchange) is stored.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..domain.contingency import KINDS, PRIZE_SIZES, SIZES
from ..extensions import db
from ..models_base import one_of, utcnow


class CmProtocol(db.Model):
    """One version of a program's CM settings, in effect from a day on (rows are added, never changed)."""

    __tablename__ = "cm_protocol"
    __table_args__ = (
        one_of("kind", KINDS),
        CheckConstraint("yearly_cap_cents > 0", name="cap_positive"),
        CheckConstraint("budget_cents >= 0", name="budget_not_negative"),
        CheckConstraint("year_starts_month BETWEEN 1 AND 12", name="year_month_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id", ondelete="CASCADE"), index=True)
    effective_from: Mapped[date]
    kind: Mapped[str] = mapped_column(String(8))
    yearly_cap_cents: Mapped[int]
    budget_cents: Mapped[int] = mapped_column(default=0)
    year_starts_month: Mapped[int] = mapped_column(default=1)
    rules: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # the rest of domain.contingency.Protocol
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CmMissedTest(db.Model):
    """A test the participant was due for and did not give: it counts as positive."""

    __tablename__ = "cm_missed_test"
    __table_args__ = (UniqueConstraint("participant_id", "missed_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"), index=True)
    missed_on: Mapped[date]
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class CmPrize(db.Model):
    """A prize in the cabinet: its size (the slip it answers), what it is worth, and how many are in stock."""

    __tablename__ = "cm_prize"
    __table_args__ = (
        UniqueConstraint("program_id", "name"),
        one_of("size", PRIZE_SIZES),
        CheckConstraint("value_cents >= 0", name="value_not_negative"),
        CheckConstraint("in_stock >= 0", name="stock_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id", ondelete="CASCADE"), index=True)
    size: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(80))
    value_cents: Mapped[int]
    in_stock: Mapped[int] = mapped_column(default=0)  # counted at the cabinet; a prize given takes one
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CmDraw(db.Model):
    """One slip drawn with the participant: for which test or meeting, the random number and the bowl it
    picked from, the slip, and (for a prize slip) the prize given."""

    __tablename__ = "cm_draw"
    __table_args__ = (
        one_of("size", SIZES),
        CheckConstraint("(drug_test_id IS NULL) <> (attendance_id IS NULL)", name="test_or_attendance"),
        CheckConstraint("number >= 0 AND number < slips", name="number_in_bowl"),
        CheckConstraint("(prize_id IS NULL) = (given_at IS NULL)", name="prize_has_time"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"), index=True)
    drug_test_id: Mapped[int | None] = mapped_column(ForeignKey("drug_test.id"), index=True)
    attendance_id: Mapped[int | None] = mapped_column(ForeignKey("attendance.id"), index=True)
    drawn_on: Mapped[date]
    drawn_at: Mapped[datetime] = mapped_column(default=utcnow)
    drawn_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    number: Mapped[int]  # from secrets.randbelow(slips): the position of the slip in the bowl
    slips: Mapped[int]
    bowl: Mapped[dict[str, int]] = mapped_column(JSON)  # the bowl's mix when drawn
    size: Mapped[str] = mapped_column(String(8))
    size_cents: Mapped[int] = mapped_column(default=0)  # the slip's prize value under the protocol of the day
    prize_id: Mapped[int | None] = mapped_column(ForeignKey("cm_prize.id"))
    prize_cents: Mapped[int | None]  # the value of the prize given
    given_at: Mapped[datetime | None]
    given_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class CmVoucherExchange(db.Model):
    """Voucher credit exchanged for goods or services (never cash), approved by staff."""

    __tablename__ = "cm_voucher_exchange"
    __table_args__ = (CheckConstraint("amount_cents > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"), index=True)
    exchanged_on: Mapped[date]
    amount_cents: Mapped[int]
    item: Mapped[str] = mapped_column(String(120))
    approved_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
