"""A participant's own page on a phone (360 x 740): each meeting's worksheets open from the schedule,
the three actions are there and large enough to tap, nothing scrolls sideways, the private calendar
address is made with one button, and axe-core finds no serious or critical violation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time, timedelta

import pytest
from playwright.sync_api import expect

from facilitator import clock
from facilitator.auth.services import create_user
from facilitator.curricula.services import find_version
from facilitator.extensions import db
from facilitator.groups.models import Group, Slot
from facilitator.participants.models import Enrollment, Participant
from facilitator.programs.services import create_program

from ..test_participants_support import hold_meetings, monday_weeks_ago
from .conftest import axe_violations, sign_in

pytestmark = pytest.mark.browser
PASSWORD = "portal-browser-password"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Setup:
    email: str


@pytest.fixture(scope="module")
def setup(live_app) -> Setup:
    """A participant three weeks into an evening group, with its meetings held until yesterday."""
    with live_app.app_context():
        program = create_program("Portal Browser Program", slug="portal-browser")
        staff = create_user(program, "counselor@portal.example", PASSWORD, "facilitator", "Sam Counselor")
        version = find_version("matrix-16")
        group = Group(program_id=program.id, name="Evening group", version_id=version.id,
                      start_date=monday_weeks_ago(8))
        group.slots = [Slot(weekday=WEEKDAYS.index(s["weekday"]), start_time=time.fromisoformat(s["time"]),
                            track_code=s["track"], minutes=s["minutes"]) for s in version.pattern]
        db.session.add(group)
        person = Participant(program_id=program.id, preferred_name="Robin", initials="RB", record_number="PP-1")
        db.session.add(person)
        db.session.flush()
        db.session.add(Enrollment(participant_id=person.id, group_id=group.id, admitted_on=monday_weeks_ago(3)))
        db.session.flush()
        hold_meetings(group, staff, [person], clock.today() - timedelta(days=1))
        create_user(program, "robin@portal.example", PASSWORD, "participant", "Robin", participant_id=person.id)
        db.session.commit()
    return Setup("robin@portal.example")


def test_my_page_on_a_phone(browser, live_server, setup):
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True)
    phone = context.new_page()
    sign_in(phone, live_server, setup.email, PASSWORD)
    phone.goto(f"{live_server}/me")
    schedule = phone.locator("#schedule")
    expect(schedule.get_by_role("heading", name="My schedule, the next two weeks")).to_be_visible()
    opened = schedule.locator("details[open]").first
    expect(opened.get_by_role("link", name="Print blank").first).to_be_visible()
    expect(opened.get_by_role("link", name="Print with my name").first).to_be_visible()
    expect(opened.get_by_role("link", name="Fill in on screen").first).to_be_visible()
    expect(phone.get_by_role("heading", name="My meetings, the past four weeks")).to_be_visible()
    # A past meeting opens with a tap and shows its worksheets.
    past = phone.locator("#past details").first
    past.locator("summary").click()
    expect(past.get_by_role("link", name="Print with my name").first).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360, "no sideways scrolling on a phone"
    small = phone.evaluate("""() => [...document.querySelectorAll('.pp-card a.button, .pp-card button, .pp-card summary')]
        .filter(e => e.offsetParent !== null && e.getBoundingClientRect().height < 44).map(e => e.outerHTML.slice(0, 80))""")
    assert small == [], small
    assert axe_violations(phone) == []
    phone.get_by_role("button", name="Make my calendar address").click()
    expect(phone.get_by_text("Your calendar address is ready")).to_be_visible()
    assert "/calendars/mine/" in phone.get_by_label("My private calendar address").input_value()
    assert axe_violations(phone) == []
    context.close()
