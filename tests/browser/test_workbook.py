"""The workbook on a phone (360 x 740): a participant opens the worksheet of their next meeting from /me,
fills every kind of field, reloads (the draft saved as they typed is kept), submits and prints their
answers; the counselor reads them, comments and marks them reviewed; the participant sees the comment.
axe-core on every page."""

from __future__ import annotations

import re
import subprocess
from datetime import time, timedelta
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from facilitator.auth.services import create_user
from facilitator.curricula.services import find_version
from facilitator.extensions import db
from facilitator.groups.models import Group, Slot
from facilitator.participants.models import Enrollment, Participant
from facilitator.programs.services import create_program, program_today

from .conftest import axe_violations, sign_in

pytestmark = pytest.mark.browser
PASSWORD = "workbook-browser-password"
PHONE = {"width": 360, "height": 740}


@pytest.fixture(scope="module")
def clinic(live_app):
    """A group whose RP meetings start tomorrow at RP 7, a participant in it with a portal account, a counselor."""
    with live_app.app_context():
        program = create_program("Workbook Browser", slug="workbook-browser")
        counselor = create_user(program, "counselor@workbook.example", PASSWORD, "facilitator", "Casey Counselor")
        today = program_today(program)
        group = Group(program_id=program.id, name="Evening", version_id=find_version("matrix-16").id,
                      start_date=today + timedelta(days=1), facilitator_id=counselor.id, starting_modules={"RP": "RP 7"})
        group.slots = [Slot(weekday=d, start_time=time(18, 30), track_code="RP", minutes=90) for d in range(7)]
        db.session.add(group)
        person = Participant(program_id=program.id, preferred_name="Jordan", initials="JW", record_number="WB-1")
        db.session.add(person)
        db.session.flush()
        db.session.add(Enrollment(participant_id=person.id, group_id=group.id, admitted_on=today))
        create_user(program, "jordan@workbook.example", PASSWORD, "participant", "Jordan", participant_id=person.id)
        db.session.commit()
        return person.id


def _phone(browser):
    return browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)


def _fits(tab) -> None:
    assert tab.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "no sideways scrolling"
    assert axe_violations(tab) == []


def _fill_rp7a(tab) -> None:
    """Every kind of field RP 7A has: a table, a rating scale, a text, lines and a checklist with Other."""
    tab.get_by_role("textbox", name="Row 1 My reason").fill("My kids")
    tab.get_by_role("textbox", name="Row 1 Still true today? (yes or no)").fill("yes")
    tab.get_by_role("group", name="How much I want to stay stopped today").get_by_label("8").check()
    tab.get_by_label("What would move my number up one point").fill("A full night of sleep")
    tab.get_by_label("What one use would cost me now, after the weeks I have put in").fill("My job and my apartment")
    tab.get_by_label("Read my list each morning").check()
    tab.get_by_label("Other").fill("A song that reminds me")


def test_a_participant_fills_submits_and_prints_and_the_counselor_reviews(browser, live_server, clinic, tmp_path):
    person_id = clinic
    context = _phone(browser)
    tab = context.new_page()
    sign_in(tab, live_server, "jordan@workbook.example", PASSWORD)
    tab.goto(f"{live_server}/me")
    # The name reads "Fill in on screen: RP 7A" (the code is for screen readers only; Chromium may put a space
    # before the colon, the two parts being flex items).
    tab.get_by_role("link", name=re.compile(r"^Fill in on screen ?: RP 7A$")).click()
    expect(tab.get_by_role("heading", name="RP 7A My Reasons for Recovery")).to_be_visible()
    _fits(tab)

    _fill_rp7a(tab)
    # Saved as typed: the status line says so without a button being pressed.
    expect(tab.get_by_role("status").filter(has_text="Draft saved.")).to_be_visible(timeout=10_000)
    tab.reload()
    assert tab.get_by_label("What would move my number up one point").input_value() == "A full night of sleep"
    assert tab.get_by_role("textbox", name="Row 1 My reason").input_value() == "My kids"
    assert tab.get_by_role("group", name="How much I want to stay stopped today").get_by_label("8").is_checked()
    assert tab.get_by_label("Read my list each morning").is_checked()
    expect(tab.get_by_text("Draft", exact=True)).to_be_visible()

    tab.get_by_role("button", name="Submit to my counselor").click()
    expect(tab.get_by_text("Sent to your counselor. You can still change it until they review it.")).to_be_visible()
    _fits(tab)

    pdf = tab.request.get(live_server + tab.get_by_role("link", name="Print my answers (PDF)").get_attribute("href"))
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    path = tmp_path / "answers.pdf"
    path.write_bytes(pdf.body())
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    for answer in ("My kids", "A full night of sleep", "My job and my apartment", "A song that reminds me",
                   "My answer: 8", "Jordan"):
        assert answer in text, answer

    # Another kind of sheet, opened from the workbook: a date and a typed signature.
    tab.goto(f"{live_server}/me/workbook")
    expect(tab.get_by_role("heading", name="My workbook")).to_be_visible()
    _fits(tab)
    expect(tab.get_by_role("heading", name="Worksheets I have started")).to_be_visible()
    tab.get_by_text("Individual and Conjoint Sessions (IC)").click()  # the track opens
    tab.get_by_role("link", name="IC 1A My Service Agreement").click()
    signature = tab.get_by_role("group", name="Participant: signature")
    signature.get_by_label("Typed name").fill("Jordan W")
    signature.get_by_label("Date").fill("2026-12-03")
    tab.get_by_role("button", name="Save draft").click()
    expect(tab.get_by_text("Draft saved.").first).to_be_visible()
    assert signature.get_by_label("Typed name").input_value() == "Jordan W"
    assert signature.get_by_label("Date").input_value() == "2026-12-03"
    _fits(tab)

    staff = _phone(browser)
    counselor = staff.new_page()
    sign_in(counselor, live_server, "counselor@workbook.example", PASSWORD)
    counselor.goto(f"{live_server}/participants/{person_id}")
    workbook = counselor.locator("#workbook")
    expect(workbook.get_by_text("1 worksheet waits for your review.")).to_be_visible()
    workbook.get_by_role("link", name="RP 7A My Reasons for Recovery").click()
    expect(counselor.get_by_text("A full night of sleep")).to_be_visible()
    expect(counselor.get_by_text("What would move my number up one point")).to_be_visible()
    _fits(counselor)
    counselor.get_by_label("Comment for the participant (optional)").fill("Strong reasons. Bring the list Monday.")
    counselor.get_by_role("button", name="Mark reviewed").click()
    expect(counselor.get_by_text("RP 7A marked reviewed. Jordan now sees it as reviewed, with your comment.")).to_be_visible()
    _fits(counselor)
    staff.close()

    tab.goto(f"{live_server}/me/worksheets/{quote('RP 7A')}")
    expect(tab.get_by_text("Strong reasons. Bring the list Monday.")).to_be_visible()
    assert tab.get_by_role("textbox").count() == 0, "a reviewed worksheet is read-only"
    _fits(tab)
    tab.goto(f"{live_server}/me/workbook")
    started = tab.get_by_role("region", name="Worksheets I have started")
    expect(started.get_by_text("Strong reasons. Bring the list Monday.")).to_be_visible()
    _fits(tab)
    context.close()
