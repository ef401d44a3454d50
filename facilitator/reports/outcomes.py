"""Figures from episodes alone (no attendance): census, admissions and discharges per month, how
discharges ended, and retention. Each is one pass over the program's episodes."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import date

from ..domain.sequencer import program_week
from ..participants.models import DISCHARGE_LABELS, DISCHARGE_REASONS
from ..participants.services import DISCHARGE_TEXT
from .periods import Count, Episode, GroupRow, Period

# Share of IOP discharges that are completions nationally (TEDS-D, intensive outpatient).
NATIONAL_COMPLETION = (0.33, 0.38)
CENSUS_WEEKS = 16  # active participants by program week: weeks 1..16, then "17 or later"
RETENTION_WEEKS = 20  # the retention curve runs from admission to week 20


@dataclass(frozen=True)
class MonthFlow:
    """Admissions and discharges of one calendar month."""

    month: date
    admissions: int
    discharges: int
    completions: int


@dataclass(frozen=True)
class Census:
    """Who is enrolled on the last day of the period, by group and by program week."""

    as_of: date
    active: int
    by_group: tuple[Count, ...]
    by_week: tuple[Count, ...]


def census(all_episodes: list[Episode], groups: list[GroupRow], as_of: date) -> Census:
    """Active participants on a day, by their current group (every running group, even empty) and by program week."""
    active = [e for e in all_episodes if e.discharged is None and e.admitted <= as_of]
    per_group = Counter(e.group_id for e in active)
    by_group = tuple(Count(g.name, per_group.get(g.id, 0)) for g in groups if g.active or per_group.get(g.id))
    per_week = Counter(min(program_week(e.stay, as_of), CENSUS_WEEKS + 1) for e in active)
    by_week = tuple(Count(str(week) if week <= CENSUS_WEEKS else f"{CENSUS_WEEKS + 1}+", per_week.get(week, 0))
                    for week in range(1, CENSUS_WEEKS + 2))
    return Census(as_of, len(active), by_group, by_week)


def month_flows(all_episodes: list[Episode], period: Period) -> tuple[MonthFlow, ...]:
    """Admissions (episodes begun) and discharges (episodes ended) per calendar month of the period."""
    admitted = Counter(e.admitted.replace(day=1) for e in all_episodes if period.contains(e.admitted))
    ended = [e for e in all_episodes if period.contains(e.discharged)]
    discharged = Counter(e.discharged.replace(day=1) for e in ended)
    completed = Counter(e.discharged.replace(day=1) for e in ended if e.reason == "completed")
    return tuple(MonthFlow(m, admitted.get(m, 0), discharged.get(m, 0), completed.get(m, 0)) for m in period.months())


@dataclass(frozen=True)
class ReasonCount:
    """Discharges of one reason, with their share of all discharges."""

    reason: str
    label: str
    count: int
    share: float


@dataclass(frozen=True)
class Outcomes:
    """How the period's discharges ended."""

    discharges: int
    completions: int
    completion_rate: float | None  # None when nobody was discharged
    by_reason: tuple[ReasonCount, ...]
    median_weeks_to_completion: float | None
    national: tuple[float, float] = NATIONAL_COMPLETION

    @property
    def against_national(self) -> str:
        """below, within or above the national range (empty when there is no rate)."""
        if self.completion_rate is None:
            return ""
        low, high = self.national
        return "below" if self.completion_rate < low else "above" if self.completion_rate > high else "within"


def outcomes(all_episodes: list[Episode], period: Period) -> Outcomes:
    """Completion share, discharges by reason and the median weeks from admission to completion."""
    ended = [e for e in all_episodes if period.contains(e.discharged)]
    reasons = Counter(e.reason for e in ended)
    total = len(ended)
    by_reason = tuple(ReasonCount(r, DISCHARGE_TEXT.get(r, DISCHARGE_LABELS[r]), reasons.get(r, 0), reasons.get(r, 0) / total if total else 0.0)
                      for r in DISCHARGE_REASONS)
    completed = [e for e in ended if e.reason == "completed"]
    weeks = [(e.discharged - e.admitted).days / 7 for e in completed]
    return Outcomes(total, len(completed), len(completed) / total if total else None, by_reason,
                    round(statistics.median(weeks), 1) if weeks else None)


@dataclass(frozen=True)
class RetentionPoint:
    """One week of the retention curve (a survival estimate that counts each stay for as long as it was seen)."""

    week: int
    followed: int  # still enrolled at the end of the week before, and admitted long enough ago to see this one
    left: int  # of those, discharged before the end of this week
    share: float | None  # estimated share of admissions still enrolled `week` weeks after admission


def retention(all_episodes: list[Episode], period: Period) -> tuple[RetentionPoint, ...]:
    """Share of the period's admissions still enrolled k weeks after admission, k = 0..RETENTION_WEEKS.

    A Kaplan-Meier estimate by whole weeks: a participant admitted 5 weeks before the period's end
    counts in weeks 1 to 5 only, so recent admissions neither inflate nor deflate the later weeks
    and the curve never rises. A completion ends enrollment like any other discharge.

    Week k follows a stay that was still enrolled k - 1 weeks after admission and whose k weeks had
    passed by the period's end; it leaves in week k when its discharge falls less than k weeks after
    admission. So each stay is followed from week 1 to a last week, computed once, and leaves at most
    once: one pass over the cohort, not one per week."""
    cohort = [e for e in all_episodes if period.contains(e.admitted)]
    last_followed: Counter[int] = Counter()  # stays by the last week they are followed in (capped)
    left_in: Counter[int] = Counter()
    for e in cohort:
        seen = (period.end - e.admitted).days // 7  # weeks whose end lies inside the period
        if e.discharged is None:
            last = seen
        else:
            leaving = (e.discharged - e.admitted).days // 7 + 1  # the week during which the stay ended
            last = min(seen, leaving)
            if 1 <= leaving <= min(seen, RETENTION_WEEKS):
                left_in[leaving] += 1
        last_followed[min(last, RETENTION_WEEKS)] += 1
    share: float | None = 1.0 if cohort else None
    out = [RetentionPoint(0, len(cohort), 0, share)]
    followed = sum(n for week, n in last_followed.items() if week >= 1)
    for week in range(1, RETENTION_WEEKS + 1):
        left = left_in.get(week, 0)
        share = share * (1 - left / followed) if followed and share is not None else None
        out.append(RetentionPoint(week, followed, left, share))
        followed -= last_followed.get(week, 0)  # those whose last followed week this was
    return tuple(out)
