"""The dashboard's open alerts: how many active participants have one today, and of which kind."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..alerts.services import alerts_for, schedule_under_floor
from ..extensions import db
from ..participants.models import Enrollment, Participant
from ..programs.models import Program
from ..progress.services import progress_for
from .periods import Count

ALERT_LABELS = {
    "absences": _l("Absences in a row"),
    "attendance_rate": _l("Low attendance in the last 2 weeks"),
    "hours": _l("Last whole week under the hours floor"),
    "positive_test": _l("Positive test with no relapse analysis"),
    "missed_module": _l("Missed module with no make-up planned"),
}


@dataclass(frozen=True)
class AlertSummary:
    """Participants with open alerts today, and alerts by kind."""

    checked: int  # active participants looked at
    participants: int
    by_kind: tuple[Count, ...]


def open_alerts(program: Program, today: date) -> tuple[AlertSummary, float | None]:
    """Alerts of every active participant today (alerts_for over progress_for), and the schedule's
    typical hours a week when they are under the floor."""
    people = list(db.session.scalars(
        select(Participant).where(Participant.program_id == program.id, Participant.id.in_(
            select(Enrollment.participant_id).where(Enrollment.admitted_on <= today,
                                                    (Enrollment.discharged_on.is_(None))
                                                    | (Enrollment.discharged_on > today))))))
    if not people:
        return AlertSummary(0, 0, tuple(Count(label, 0) for label in ALERT_LABELS.values())), None
    plans = progress_for(people, today)
    found = alerts_for(program, plans, today)
    kinds = Counter(a.kind for alerts in found.values() for a in alerts)
    summary = AlertSummary(len(people), len(found),
                           tuple(Count(label, kinds.get(kind, 0)) for kind, label in ALERT_LABELS.items()))
    return summary, schedule_under_floor(plans, program)
