"""`facilitator demo`: a realistic program, built through the real sequencer, created once."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from facilitator import clock
from facilitator.attendance.models import Attendance
from facilitator.groups.models import Group, Meeting
from facilitator.participants.models import Enrollment, Participant
from facilitator.programs.services import find_program, program_today
from facilitator.progress.services import progress_for
from facilitator.reports.exports import billing_export
from facilitator.reports.services import Period, dashboard


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


def test_the_demo_is_a_compliant_iop_where_the_few_under_the_floor_stand_out(runner, session):
    assert runner.invoke(args=["demo"]).exit_code == 0
    program = find_program("demo")
    today = program_today(program)
    period = Period.last_year(today)

    # The dashboard: the typical scheduled week is not short, and most (not all) whole
    # participant-weeks reach the 9-hour floor.
    hours = dashboard(program, period, today).hours
    assert hours.floor_minutes == 9 * 60 and hours.scheduled_under_floor is None
    assert hours.weeks >= 100
    assert 0.65 <= hours.rate < 0.95, f"{hours.at_floor} of {hours.weeks} participant-weeks at the floor"

    # Per-diem billing: most attended days reach the daily minimum; a few are flagged with 0 units.
    billing = billing_export(program, period)
    unit, who = billing.header.index("units"), billing.header.index("participant_id")
    units = [row[unit] for row in billing.rows]
    assert len(units) >= 300
    assert 0.75 <= sum(units) / len(units) < 0.97, f"{sum(units)} of {len(units)} participant-days billed"

    # Those few days belong to a few people: most participants have at most one day flagged,
    # while some have several (the ones who miss meetings or come late).
    flagged = Counter(row[who] for row in billing.rows if row[unit] == 0)
    billed_people = {row[who] for row in billing.rows}
    assert sum(1 for pid in billed_people if flagged[pid] <= 1) > len(billed_people) / 2
    assert sum(1 for n in flagged.values() if n >= 5) >= 2
