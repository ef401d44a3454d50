"""`facilitator demo`: a realistic program, built through the real sequencer, created once."""

from __future__ import annotations

from sqlalchemy import func, select

from facilitator import clock
from facilitator.attendance.models import Attendance
from facilitator.groups.models import Group, Meeting
from facilitator.participants.models import Enrollment, Participant
from facilitator.programs.services import find_program
from facilitator.progress.services import progress_for


def test_demo_is_realistic_and_idempotent(runner, session):
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert "demo program created" in first.output and "director@demo.example" in first.output
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0 and "already present" in second.output

    program = find_program("demo")
    groups = session.scalars(select(Group).where(Group.program_id == program.id)).all()
    assert len(groups) == 2
    people = session.scalars(select(Participant).where(Participant.program_id == program.id)).all()
    assert len(people) == 26
    reasons = session.scalars(select(Enrollment.discharge_reason).join(Participant)
                              .where(Participant.program_id == program.id)).all()
    assert reasons.count("dropped_out") == 2 and reasons.count("transferred") == 1
    assert reasons.count("completed") == 1, "one person completed, so a certificate can be printed"
    held = session.scalar(select(func.count()).select_from(Meeting).where(
        Meeting.group_id.in_([g.id for g in groups]), Meeting.status == "held"))
    cancelled = session.scalar(select(func.count()).select_from(Meeting).where(
        Meeting.group_id.in_([g.id for g in groups]), Meeting.status == "cancelled"))
    assert held > 100 and cancelled >= 1, "a holiday cancelled some meetings"
    rows = session.scalar(select(func.count()).select_from(Attendance).join(Participant)
                          .where(Participant.program_id == program.id))
    assert rows > 300

    # The two groups are at different points of the RP rotation today.
    plans = progress_for(people, clock.today())
    next_rp = {g.id: None for g in groups}
    for plan in plans.values():
        if plan.calendar is not None:
            upcoming = [m for m in plan.calendar.meetings if m.track == "RP" and m.date >= clock.today()]
            next_rp[plan.group.id] = upcoming[0].module
    assert len(set(next_rp.values())) == 2
    missed = [p for p in plans.values() if p.progress and any(t.missed for t in p.progress.tracks)]
    assert missed, "some participants have missed modules to make up"
    credited = [p for p in plans.values() if p.progress and p.progress.track("RP").credits]
    assert len(credited) >= 20
