"""Incentives in a real browser: a counselor draws a slip with the participant on screen, hands over a prize
from the cabinet, and the page counts down the draws waiting; axe on each screen; the participant's own
page at a phone's width."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from playwright.sync_api import expect

from facilitator.auth.services import create_user
from facilitator.clinical.services import program_today, record_test
from facilitator.contingency import services
from facilitator.curricula.services import find_version
from facilitator.domain import contingency as cm
from facilitator.extensions import db
from facilitator.groups.models import Group, Slot
from facilitator.participants.models import Enrollment, Participant
from facilitator.programs.services import create_program

from .conftest import axe_violations, sign_in

pytestmark = pytest.mark.browser
PASSWORD = "browser-password"
# Only small-prize slips: the slip is still drawn with secrets.randbelow, and the test knows what it says.
BOWL = {"good_job": 0, "small": 10, "large": 0, "jumbo": 0}


@pytest.fixture(scope="module")
def bowl(live_app):
    """A program running prize draws, a stocked cabinet, and a participant with two negative tests (3 draws)."""
    with live_app.app_context():
        program = create_program("Incentives Browser", slug="incentives-browser")
        director = create_user(program, "director@incentives.example", PASSWORD, "director", "Dana Director")
        counselor = create_user(program, "counselor@incentives.example", PASSWORD, "facilitator", "Casey Counselor")
        today = program_today(program.id)
        group = Group(program_id=program.id, name="Evening", version_id=find_version("matrix-16").id,
                      start_date=today - timedelta(weeks=8), facilitator_id=counselor.id)
        group.slots = [Slot(weekday=0, start_time=time(18, 30), track_code="RP", minutes=90)]
        db.session.add(group)
        person = Participant(program_id=program.id, preferred_name="Jordan", initials="JB", record_number="IB-1")
        db.session.add(person)
        db.session.flush()
        db.session.add(Enrollment(participant_id=person.id, group_id=group.id, admitted_on=today - timedelta(weeks=3)))
        start = today - timedelta(weeks=3)
        services.save_protocol(program, cm.Protocol(kind="prize", effective_from=start, bowl=BOWL), director, start)
        for days in (8, 1):
            record_test(person, collected_on=today - timedelta(days=days), kind="urine", result="negative",
                        substances=[], observed=True, user=counselor, today=today)
        services.add_prize(program, "small", "Bus token", 100, 5, director)
        create_user(program, "jordan@incentives.example", PASSWORD, "participant", "Jordan", participant_id=person.id)
        db.session.commit()
        return person.id


def test_a_counselor_draws_a_slip_with_the_participant_and_hands_over_the_prize(page, live_server, bowl):
    sign_in(page, live_server, "counselor@incentives.example", PASSWORD)
    page.goto(f"{live_server}/participants/{bowl}/incentives")
    expect(page.get_by_role("heading", name="Incentives: Jordan (JB)")).to_be_visible()
    assert axe_violations(page) == []

    page.get_by_role("button", name="Draw a slip with Jordan (3 waiting)").click()
    expect(page.get_by_role("heading", name="The slip says: Small prize")).to_be_visible()
    expect(page.get_by_text("drawn with a secure random number")).to_be_visible()
    assert axe_violations(page) == []

    page.get_by_label("Prize from the cabinet").select_option(label="Bus token ($1.00, 5 in stock)")
    page.get_by_role("button", name="Hand over").click()
    expect(page.get_by_text("Bus token handed over to Jordan.")).to_be_visible()
    expect(page.get_by_role("button", name="Draw a slip with Jordan (2 waiting)")).to_be_visible()
    expect(page.get_by_text("1 × small prize: Bus token")).to_be_visible()
    assert axe_violations(page) == []

    page.goto(f"{live_server}/contingency/prizes")
    expect(page.get_by_role("row", name="Bus token").get_by_role("cell").nth(2)).to_have_text("4")


def test_the_participant_sees_the_streak_and_history_on_a_phone(browser, live_server, bowl):
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True)
    phone = context.new_page()
    sign_in(phone, live_server, "jordan@incentives.example", PASSWORD)
    phone.goto(f"{live_server}/me")
    panel = phone.locator(".cm-panel")
    expect(panel.get_by_role("heading", name="My incentives")).to_be_visible()
    expect(panel.get_by_text("Next negative test:")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360, "no sideways scrolling on a phone"
    panel.get_by_role("link", name="My incentives and their history").click()
    expect(phone.get_by_role("heading", name="My incentives")).to_be_visible()
    assert phone.get_by_role("button", name="Draw a slip").count() == 0
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    assert axe_violations(phone) == []
    context.close()
