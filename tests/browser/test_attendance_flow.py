"""The facilitator's evening in a real browser: today's meeting, attendance for everyone in a few
actions, the note signed, credits and alerts where the facilitator looks."""

from __future__ import annotations

import re
from datetime import time, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from facilitator import clock
from facilitator.attendance.models import Attendance
from facilitator.auth.services import create_user
from facilitator.curricula.services import find_version
from facilitator.extensions import db
from facilitator.groups.models import Group, Meeting, Slot
from facilitator.meetings import services
from facilitator.participants.models import Enrollment, Participant
from facilitator.programs.services import create_program

from .conftest import axe_violations, sign_in

pytestmark = pytest.mark.browser
PASSWORD = "browser-password"


def _program_with_meeting_today(app, slug: str, size: int):
    """A group meeting every day at 18:30 (RP), started 8 days ago; `size` members; yesterday recorded
    with the first member absent."""
    today = clock.today()
    with app.app_context():
        program = create_program(f"Flow {slug}", slug=slug)
        user = create_user(program, f"counselor@{slug}.example", PASSWORD, "facilitator", "Casey Counselor")
        version = find_version("matrix-16")
        group = Group(program_id=program.id, name=f"Daily RP {slug}", version_id=version.id,
                      start_date=today - timedelta(days=8), facilitator_id=user.id)
        group.slots = [Slot(weekday=d, start_time=time(18, 30), track_code="RP", minutes=90) for d in range(7)]
        db.session.add(group)
        db.session.flush()
        people = []
        for i in range(size):
            person = Participant(program_id=program.id, preferred_name=f"Member{i:02d}", initials=f"M{i}",
                                 record_number=f"{slug}-{i}")
            db.session.add(person)
            db.session.flush()
            db.session.add(Enrollment(participant_id=person.id, group_id=group.id, admitted_on=group.start_date))
            people.append(person)
        db.session.flush()
        yesterday = services.find_planned(group, today - timedelta(days=1), "18:30", "RP")
        lines = [services.AttendanceLine(p.id, "absent" if i == 0 else "present", 0 if i == 0 else 90)
                 for i, p in enumerate(people)]
        services.save_attendance(group, yesterday, lines, "Yesterday's group.", {}, user)
        db.session.commit()
        return user.email, group.id, [p.id for p in people]


class ActionCounter:
    """Counts the clicks and key presses a person would make."""

    def __init__(self, page):
        self.page, self.count = page, 0

    def choose(self, label: str, value: str) -> None:
        """Open a select and pick an option: two actions."""
        self.page.get_by_label(label).select_option(value)
        self.count += 2

    def type_into(self, label: str, text: str) -> None:
        """Click a field, select what is there, type: one click, one select-all, one press per character."""
        self.page.get_by_label(label).fill(text)
        self.count += 2 + len(text)

    def click(self, role: str, name: str) -> None:
        """One click."""
        self.page.get_by_role(role, name=name).click()
        self.count += 1


def test_a_facilitator_records_todays_meeting(page, live_app, live_server):
    email, group_id, ids = _program_with_meeting_today(live_app, "flow10", 10)
    sign_in(page, live_server, email, PASSWORD)
    assert axe_violations(page) == [], "Today"
    page.get_by_role("link", name="Today 6:30 PM").click()
    expect(page.get_by_role("heading", name="Facilitator guide")).to_be_visible()
    assert axe_violations(page) == [], "meeting page"

    actions = ActionCounter(page)
    actions.choose("Status for Member00", "absent")  # a second absence in a row
    actions.choose("Status for Member01", "absent")
    actions.choose("Status for Member02", "late")
    assert page.get_by_label("Minutes for Member02").input_value() == "75", "late fills in the usual minutes"
    assert page.get_by_label("Minutes for Member00").input_value() == "0"
    actions.click("button", "Save attendance")
    assert actions.count <= 15
    expect(page.get_by_text("Attendance saved for 10 people.")).to_be_visible()
    page.get_by_label("Group note (shared part, written once for everyone)").fill("Topic presented; good discussion.")
    page.get_by_role("button", name="Save attendance").click()
    page.get_by_role("button", name="Sign and lock the note").click()
    expect(page.get_by_text("Note signed and locked.")).to_be_visible()
    expect(page.get_by_role("button", name="Add addendum")).to_be_visible()
    assert axe_violations(page) == [], "locked meeting page"

    with live_app.app_context():
        rows = {r.participant_id: (r.status.code, r.minutes) for r in db.session.scalars(
            select(Attendance).join(Meeting).where(Meeting.group_id == group_id, Meeting.date == clock.today()))}
        assert rows[ids[0]] == ("absent", 0) and rows[ids[2]] == ("late", 75) and rows[ids[5]] == ("present", 90)

    # The late arrival's grid shows today's module credited; the absent member's shows it missed.
    code = " ".join(page.get_by_role("heading", level=1).inner_text().split()[:2])  # "RP 9"
    page.get_by_role("link", name="Member02").first.click()
    cell = page.locator(".pt-cell", has=page.locator(".pt-code", has_text=re.compile(f"^{code}$")))
    expect(cell.locator(".pt-state")).to_contain_text("Credited")
    page.go_back()
    page.get_by_role("link", name="Member01").first.click()
    expect(cell.locator(".pt-state")).to_contain_text("Missed")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Today").click()
    alert = page.locator(".alerts li", has_text="Member00")
    assert "2 absences in a row" in alert.first.inner_text()


def test_attendance_for_twelve_takes_few_actions_with_the_keyboard(page, live_app, live_server):
    email, _, _ = _program_with_meeting_today(live_app, "flow12", 12)
    sign_in(page, live_server, email, PASSWORD)
    page.get_by_role("link", name="Today 6:30 PM").click()
    presses = 0
    status = page.get_by_label("Status for Member03")
    status.focus()
    presses += 1  # one click into the first status to change
    page.keyboard.press("End")  # the last status in the list: absent
    presses += 1
    page.get_by_label("Status for Member07").focus()
    presses += 1
    page.keyboard.press("ArrowDown")  # present -> late
    presses += 1
    page.get_by_role("button", name="Save attendance").click()
    presses += 1
    assert presses <= 15
    expect(page.get_by_text("Attendance saved for 12 people.")).to_be_visible()
    assert page.get_by_label("Status for Member03").input_value() == "absent"
    assert page.get_by_label("Status for Member07").input_value() == "late"
