"""The demo participant's workbook: a worksheet reviewed with a comment, one sent and waiting, one draft."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from ..auth.models import User
from ..curricula.models import CurriculumVersion, Worksheet
from ..extensions import db
from ..participants.models import Participant
from ..workbook.models import WorksheetAnswer

# Answers keyed by the field ids of the shipped worksheets (as the web form stores them).
ANSWERS = {
    "RP 2A": {"bored_times": {"checked": ["Weekday evenings", "Right after work"]}, "bored_rating": 7,
              "new_activities": {"r1_c1": "Pick-up basketball", "r1_c2": "Free", "r1_c3": "My cousin",
                                 "r1_c4": "Tuesday after work"},
              "weekend_plan": "Saturday at 10, the farmers market with my daughter.",
              "bored_self_talk": "Bored is a feeling, not an order. Move first, think later."},
    "RP 8A": {"lied_about": {"checked": ["Where my money went"]}, "honesty_rating": 6,
              "hard_truth": "I still have my old dealer's number in my phone.",
              "truth_listener": "My counselor", "truth_when": "Thursday, before group"},
    "ERS 1A": {"backup": "Call my sister, then walk to the 6 pm meeting on Main Street."},
}


def build_workbook(person: Participant, version: CurriculumVersion, counselor: User, today: date) -> None:
    """RP 2A reviewed with a comment, RP 8A submitted and waiting for review, ERS 1A a draft."""
    sheets = {w.code: w for w in db.session.scalars(
        select(Worksheet).where(Worksheet.version_id == version.id, Worksheet.code.in_(ANSWERS)))}
    at = datetime.combine(today - timedelta(days=6), time(19, 40))
    states = {"RP 2A": "reviewed", "RP 8A": "submitted", "ERS 1A": "draft"}
    for code, status in states.items():
        if code not in sheets:
            continue  # a director's local version may have dropped it
        row = WorksheetAnswer(participant_id=person.id, worksheet_id=sheets[code].id, status=status,
                              answers=ANSWERS[code], created_at=at, updated_at=at,
                              submitted_at=at if status != "draft" else None)
        if status == "reviewed":
            row.reviewed_at, row.reviewed_by_id = at + timedelta(days=1, hours=-3), counselor.id
            row.comment = "Good list. The basketball idea is a strong one; tell the group about it on Tuesday."
        db.session.add(row)
        at += timedelta(days=2)
    db.session.flush()
