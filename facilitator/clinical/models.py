"""Drug and breath tests; a positive result or a recorded use opens a relapse analysis."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..models_base import one_of, utcnow

TEST_KINDS = ("urine", "breath", "oral", "other")
TEST_RESULTS = ("negative", "positive", "dilute", "invalid", "refused")
ANALYSIS_TRIGGERS = ("positive_test", "reported_use", "craving")
ANALYSIS_STATUSES = ("open", "reviewed")


class DrugTest(db.Model):
    """One urine, breath or oral-fluid test with its result and the substances found."""

    __tablename__ = "drug_test"
    __table_args__ = (one_of("kind", TEST_KINDS), one_of("result", TEST_RESULTS))

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"), index=True)
    collected_on: Mapped[date]
    kind: Mapped[str] = mapped_column(String(8))
    result: Mapped[str] = mapped_column(String(10))
    substances: Mapped[list[str]] = mapped_column(JSON, default=list)
    observed: Mapped[bool] = mapped_column(default=False)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class RelapseAnalysis(db.Model):
    """The relapse analysis worksheet as a record: answers keyed by the RA worksheet's field ids."""

    __tablename__ = "relapse_analysis"
    __table_args__ = (one_of("opened_by", ANALYSIS_TRIGGERS), one_of("status", ANALYSIS_STATUSES))

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"), index=True)
    drug_test_id: Mapped[int | None] = mapped_column(ForeignKey("drug_test.id"), unique=True)
    occurred_on: Mapped[date]
    opened_by: Mapped[str] = mapped_column(String(14))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(10), default="open")
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reviewed_at: Mapped[datetime | None]

    drug_test: Mapped[DrugTest | None] = relationship()
