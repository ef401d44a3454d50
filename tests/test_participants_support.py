"""Shared setup for the participant and make-up tests: a program with two groups at different
rotation points, staff, and recorded meetings with attendance (no tests in this module)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta

import pytest
from sqlalchemy import select

from facilitator import clock
from facilitator.attendance.models import Attendance
from facilitator.audit.models import AuditEvent
from facilitator.curricula.models import Module
from facilitator.extensions import db
from facilitator.groups.calendars import group_calendar
from facilitator.groups.models import Group, Meeting
from facilitator.participants.models import Enrollment, Participant
from facilitator.programs.models import AttendanceStatus

from .conftest import csrf_token


def monday_weeks_ago(weeks: int) -> date:
    """The Monday of the week `weeks` weeks before today."""
    day = clock.today() - timedelta(weeks=weeks)
    return day - timedelta(days=day.weekday())


def hold_meetings(group: Group, recorder, people: list[Participant], until: date,
                  absent=lambda person, meeting: False) -> int:
    """Store the group's meetings through `until` as held, with a row for each member in their stay
    (present for the full time unless `absent(person, meeting)`); return how many rows were added."""
    module_ids = dict(db.session.execute(select(Module.code, Module.id).where(Module.version_id == group.version_id)).all())
    statuses = {s.code: s.id for s in db.session.scalars(
        select(AttendanceStatus).where(AttendanceStatus.program_id == group.program_id))}
    stays = {e.participant_id: e for e in db.session.scalars(select(Enrollment).where(Enrollment.group_id == group.id))}
    rows = 0
    for item in group_calendar(group, until).meetings:
        if not item.held:
            continue
        meeting = Meeting(group_id=group.id, date=item.date, start_time=time.fromisoformat(item.time),
                          track_code=item.track, minutes=item.minutes, status="held",
                          module_id=module_ids.get(item.module))
        db.session.add(meeting)
        db.session.flush()
        for person in people:
            stay = stays.get(person.id)
            if stay is None or not stay.admitted_on <= item.date <= (stay.discharged_on or until):
                continue
            missing = absent(person, item)
            db.session.add(Attendance(meeting_id=meeting.id, participant_id=person.id,
                                      status_id=statuses["absent" if missing else "present"],
                                      minutes=0 if missing else item.minutes, recorded_by_id=recorder.id))
            rows += 1
    db.session.flush()
    return rows


@dataclass
class World:
    """A program with an evening and a morning group, a facilitator and a director."""

    program: object
    evening: Group
    morning: Group
    facilitator: object
    director: object


@pytest.fixture(name="world")
def world_fixture(session, make_program, make_user, make_group) -> World:
    """Two groups of one program; the morning group's rotations start elsewhere, so it delivers a
    missed module days before the evening group comes round to it again."""
    program = make_program()
    evening = make_group(program, "Evening group", start=monday_weeks_ago(12))
    morning = make_group(program, "Morning group", start=monday_weeks_ago(12))
    morning.starting_modules = {"RP": "RP 17", "ERS": "ERS 5", "FE": "FE 7"}
    db.session.flush()
    return World(program, evening, morning, make_user("facilitator", program), make_user("director", program))


def audit_actions(participant_id: int) -> list[str]:
    """The audited actions on a participant, oldest first."""
    return list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.participant_id == participant_id)
                                   .order_by(AuditEvent.id)))


def post_form(client, get_url: str, data: dict, post_url: str | None = None):
    """Open a form page, then post it back with its CSRF token (as a browser would)."""
    page = client.get(get_url)
    assert page.status_code == 200, page.status_code
    return client.post(post_url or get_url, data={"csrf_token": csrf_token(page.text), **data})
