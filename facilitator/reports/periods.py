"""What a report covers and whom it counts: the period, the program's groups, and episodes of care.

A program *episode* is one stay in treatment across transfers between the program's groups: an
enrollment discharged as "transferred" and followed within a week by another admission of the same
person continues the same episode. Admissions, discharges and outcomes count episodes, so a move
from the evening group to the morning group is neither a discharge nor a new admission.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from ..domain.sequencer import Stay
from ..extensions import db
from ..groups.models import Group
from ..participants.models import Enrollment, Participant

TRANSFER_GAP = timedelta(days=7)  # a transfer followed by an admission this soon is the same episode
MAX_PERIOD = timedelta(days=3 * 366)


@dataclass(frozen=True)
class Period:
    """The days a report covers, both inclusive."""

    start: date
    end: date

    @classmethod
    def last_year(cls, today: date) -> Period:
        """The twelve months up to and including today."""
        return cls(today - timedelta(days=364), today)

    def months(self) -> list[date]:
        """The first day of every calendar month the period touches."""
        out, month = [], self.start.replace(day=1)
        while month <= self.end:
            out.append(month)
            month = (month + timedelta(days=32)).replace(day=1)
        return out

    def contains(self, day: date | None) -> bool:
        """The day lies inside the period."""
        return day is not None and self.start <= day <= self.end


def check_period(start: date | None, end: date | None, today: date) -> dict[str, str]:
    """What is wrong with a report period (empty if nothing); keys are the form's field names."""
    problems = {}
    if start is None:
        problems["start"] = _("Enter the first day of the period.")
    if end is None:
        problems["end"] = _("Enter the last day of the period.")
    elif end > today:
        problems["end"] = _("The period cannot end after today.")
    if start is not None and end is not None and "end" not in problems:
        if start > end:
            problems["start"] = _("The first day must be on or before the last day.")
        elif end - start > MAX_PERIOD:
            problems["start"] = _("Choose a period of at most three years.")
    return problems


@dataclass(frozen=True)
class Count:
    """A labelled number (a bar of a chart, a row of a table)."""

    label: str
    value: int


@dataclass(frozen=True)
class GroupRow:
    """A group of the program, as the reports name it."""

    id: int
    name: str
    active: bool


def program_groups(program_id: int) -> list[GroupRow]:
    """The program's groups in name order, running or not (one query)."""
    return [GroupRow(*row) for row in db.session.execute(
        select(Group.id, Group.name, Group.active).where(Group.program_id == program_id).order_by(Group.name))]


@dataclass(frozen=True)
class Episode:
    """One stay in treatment across transfers: first admission, last group, and how it ended."""

    participant_id: int
    group_id: int
    admitted: date
    discharged: date | None  # None: still enrolled on the day the figures are taken
    reason: str | None

    @property
    def stay(self) -> Stay:
        """The episode as the sequencer's stay."""
        return Stay(self.admitted, self.discharged)

    def enrolled_on(self, day: date) -> bool:
        """Admitted on or before the day and not discharged before it (the discharge day counts)."""
        return self.admitted <= day and (self.discharged is None or self.discharged >= day)


def episodes(program_id: int, as_of: date) -> list[Episode]:
    """Every episode of the program that began by as_of, as the records stood on that day (one query)."""
    rows = db.session.execute(
        select(Enrollment.participant_id, Enrollment.group_id, Enrollment.admitted_on, Enrollment.discharged_on,
               Enrollment.discharge_reason)
        .join(Participant, Participant.id == Enrollment.participant_id)
        .where(Participant.program_id == program_id, Enrollment.admitted_on <= as_of)
        .order_by(Enrollment.participant_id, Enrollment.admitted_on, Enrollment.id)
    ).all()
    out: list[Episode] = []
    current: Episode | None = None
    for pid, group_id, admitted, discharged, reason in rows:
        if discharged is not None and discharged > as_of:
            discharged, reason = None, None  # discharged later: still enrolled on as_of
        if current is not None and current.participant_id == pid and _continues(current, admitted):
            current = Episode(pid, group_id, current.admitted, discharged, reason)
            out[-1] = current
            continue
        current = Episode(pid, group_id, admitted, discharged, reason)
        out.append(current)
    return out


def _continues(episode: Episode, admitted: date) -> bool:
    """A new enrollment belongs to the episode: it overlaps it, or follows a transfer within the gap."""
    if episode.discharged is None or admitted <= episode.discharged:
        return True
    return episode.reason == "transferred" and admitted - episode.discharged <= TRANSFER_GAP
