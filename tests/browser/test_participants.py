"""Participant screens in a real browser: open a participant from the list, read the grid, plan a
make-up from a suggestion, complete it and see the module credited; axe on every screen."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

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
PASSWORD = "participants-browser-pw"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Setup:
    staff: str
    own: str
    person_id: int
    missed: str


def _group(program, version, name: str, start_modules: dict[str, str]) -> Group:
    group = Group(program_id=program.id, name=name, version_id=version.id, start_date=monday_weeks_ago(12),
                  starting_modules=start_modules)
    group.slots = [Slot(weekday=WEEKDAYS.index(s["weekday"]), start_time=time.fromisoformat(s["time"]),
                        track_code=s["track"], minutes=s["minutes"]) for s in version.pattern]
    db.session.add(group)
    db.session.flush()
    return group


@pytest.fixture(scope="module")
def setup(live_app) -> Setup:
    """A program with two groups and a participant who missed their first RP meeting."""
    with live_app.app_context():
        program = create_program("Participants Browser Program", slug="participants-browser")
        staff = create_user(program, "counselor@participants.example", PASSWORD, "facilitator", "Sky Counselor")
        version = find_version("matrix-16")
        evening = _group(program, version, "Evening group", {})
        _group(program, version, "Morning group", {"RP": "RP 17", "ERS": "ERS 5", "FE": "FE 7"})
        person = Participant(program_id=program.id, preferred_name="Robin", initials="RB", record_number="PB-1")
        db.session.add(person)
        db.session.flush()
        db.session.add(Enrollment(participant_id=person.id, group_id=evening.id, admitted_on=monday_weeks_ago(4)))
        db.session.flush()
        first_rp: list = []

        def absent(p, meeting):
            if meeting.track == "RP" and not first_rp:
                first_rp.append(meeting)
                return True
            return False

        hold_meetings(evening, staff, [person], clock.today() - timedelta(days=1), absent)
        own = create_user(program, "robin@participants.example", PASSWORD, "participant", "Robin",
                          participant_id=person.id)
        db.session.commit()
        assert db.session.scalar(select(Participant.id).where(Participant.id == person.id))
        return Setup(staff.email, own.email, person.id, first_rp[0].module)


def test_open_from_the_list_plan_a_make_up_from_a_suggestion_and_credit_it(page, live_server, setup):
    sign_in(page, live_server, setup.staff, PASSWORD)
    page.goto(f"{live_server}/participants/")
    assert axe_violations(page) == []
    page.get_by_role("link", name="Robin").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Robin"))
    assert axe_violations(page) == []
    module = setup.missed  # the missed module, e.g. "RP 17"
    cell = page.locator(".pt-cell", has=page.locator(".pt-code", has_text=module)).first
    assert "Missed" in cell.inner_text()
    suggestion = page.locator(".pt-suggestion", has=page.get_by_text(module, exact=True)).first
    suggestion.get_by_role("button", name="Morning group").first.click()
    expect(page.get_by_text(f"Make-up planned for {module}.")).to_be_visible()
    cell = page.locator(".pt-cell", has=page.locator(".pt-code", has_text=module)).first
    assert "Make-up planned" in cell.inner_text()
    page.get_by_role("button", name=f"Complete and credit {module}").click()
    expect(page.get_by_text(f"{module} is credited.")).to_be_visible()
    cell = page.locator(".pt-cell", has=page.locator(".pt-code", has_text=module)).first
    text = cell.inner_text()
    assert "Credited" in text and "another group's meeting" in text and "Sky Counselor" in text


def test_forms_have_no_serious_accessibility_violations(page, live_server, setup):
    sign_in(page, live_server, setup.staff, PASSWORD)
    for path in ("/participants/new", f"/participants/{setup.person_id}/admit",
                 f"/participants/{setup.person_id}/discharge", f"/participants/{setup.person_id}/transfer",
                 f"/participants/{setup.person_id}/makeups/new", f"/participants/{setup.person_id}/profile"):
        page.goto(f"{live_server}{path}")
        assert axe_violations(page) == [], path
    # A refusal: the message sits next to the field and the page stays accessible.
    page.goto(f"{live_server}/participants/{setup.person_id}/discharge")
    page.get_by_label("Discharge date").fill("2001-01-01")
    page.get_by_label("Reason").select_option("completed")
    page.get_by_role("button", name="Discharge").click()
    expect(page.get_by_text("The discharge cannot be before the admission on")).to_be_visible()
    assert page.get_by_label("Discharge date").get_attribute("aria-invalid") == "true"
    assert axe_violations(page) == []


def test_a_participant_sees_their_own_page(page, live_server, setup):
    sign_in(page, live_server, setup.own, PASSWORD)
    page.goto(f"{live_server}/me")
    assert page.get_by_role("heading", level=1).inner_text() == "Hello, Robin"
    expect(page.get_by_role("heading", name="My schedule, the next two weeks")).to_be_visible()
    assert axe_violations(page) == []
    assert page.goto(f"{live_server}/participants/").status == 403


@pytest.mark.parametrize("path", ["/participants/", "/participants/ID", "/participants/new"])
def test_staff_screens_fit_a_phone(browser, live_server, setup, path):
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    phone = context.new_page()
    sign_in(phone, live_server, setup.staff, PASSWORD)
    phone.goto(live_server + path.replace("ID", str(setup.person_id)))
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375, "no sideways scrolling on a phone"
    small = phone.evaluate("""() => [...document.querySelectorAll('main button, main select, main input:not([type=hidden])')]
        .filter(e => e.offsetParent !== null && e.getBoundingClientRect().height < 44).map(e => e.outerHTML.slice(0, 80))""")
    assert small == [], small
    context.close()
