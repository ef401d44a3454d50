"""Tests and relapse analyses in a real browser: a positive test opens the analysis, two boxes of the
chart are filled and saved, a counselor marks it reviewed; axe on both screens; a phone's width."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from playwright.sync_api import expect

from facilitator.auth.services import create_user
from facilitator.clinical.services import program_today, record_report
from facilitator.curricula.services import find_version
from facilitator.extensions import db
from facilitator.groups.models import Group, Slot
from facilitator.participants.models import Enrollment, Participant
from facilitator.programs.services import create_program

from .conftest import axe_violations, sign_in

pytestmark = pytest.mark.browser
PASSWORD = "browser-password"


@pytest.fixture(scope="module")
def clinic(live_app):
    """A program with a counselor, a participant admitted three weeks ago, and another with an open analysis."""
    with live_app.app_context():
        program = create_program("Clinical Browser", slug="clinical-browser")
        user = create_user(program, "counselor@clinical.example", PASSWORD, "facilitator", "Casey Counselor")
        today = program_today(program.id)
        group = Group(program_id=program.id, name="Evening", version_id=find_version("matrix-16").id,
                      start_date=today - timedelta(weeks=8), facilitator_id=user.id)
        group.slots = [Slot(weekday=0, start_time=time(18, 30), track_code="RP", minutes=90)]
        db.session.add(group)
        people = []
        for n, name in enumerate(("Jordan", "Avery")):
            person = Participant(program_id=program.id, preferred_name=name, initials=name[:2].upper(),
                                 record_number=f"CB-{n}")
            db.session.add(person)
            db.session.flush()
            db.session.add(Enrollment(participant_id=person.id, group_id=group.id,
                                      admitted_on=today - timedelta(weeks=3)))
            people.append(person)
        db.session.flush()
        opened = record_report(people[1], occurred_on=today, opened_by="craving", user=user, today=today).analysis
        db.session.commit()
        return user.email, people[0].id, people[1].id, opened.id


def test_a_positive_test_opens_an_analysis_that_is_filled_and_reviewed(page, live_server, clinic):
    email, person_id, _, _ = clinic
    sign_in(page, live_server, email, PASSWORD)
    page.goto(f"{live_server}/participants/{person_id}/tests")
    assert axe_violations(page) == []

    page.get_by_label("Positive").check()
    page.get_by_label("Methamphetamine").check()
    page.get_by_label("Collection was observed").check()
    page.get_by_role("button", name="Record test").click()
    expect(page.get_by_text("A relapse analysis is open")).to_be_visible()
    expect(page.get_by_text("Sobriety date:")).to_be_visible()
    page.get_by_role("link", name="Fill in the relapse analysis now").click()

    expect(page.get_by_role("heading", name="RA 1A Looking Back at a Use or Craving")).to_be_visible()
    assert axe_violations(page) == []
    # Two boxes of the chart, found by their row and column headers as a screen reader announces them.
    page.get_by_role("textbox", name="Money Last week").fill("Payday, cash in my pocket")
    page.get_by_role("textbox", name="Places The day of").fill("Went back to the old neighborhood")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Draft saved.")).to_be_visible()
    assert page.get_by_role("textbox", name="Money Last week").input_value() == "Payday, cash in my pocket"

    page.get_by_role("button", name="Save and mark reviewed").click()
    expect(page.get_by_text("Relapse analysis marked reviewed. It is now read-only.")).to_be_visible()
    expect(page.get_by_text("Went back to the old neighborhood")).to_be_visible()
    assert page.get_by_role("textbox").count() == 0
    assert axe_violations(page) == []

    page.get_by_role("link", name="Tests and relapse analyses").click()
    expect(page.get_by_text("Reviewed", exact=True).first).to_be_visible()
def test_the_screens_fit_a_phone(browser, live_server, clinic):
    email, _, person_id, analysis_id = clinic
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    phone = context.new_page()
    sign_in(phone, live_server, email, PASSWORD)
    phone.goto(f"{live_server}/participants/{person_id}/tests")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375, "no sideways scrolling on a phone"
    phone.goto(f"{live_server}/participants/{person_id}/relapse-analyses/{analysis_id}")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    # Each box of the chart sits under its visible column header, big enough to tap.
    box = phone.get_by_role("textbox", name="Money Last week")
    assert box.bounding_box()["height"] >= 44 and box.bounding_box()["width"] >= 250
    assert axe_violations(phone) == []
    context.close()
