"""The audit trail in a browser: a director filters it by participant and by action, on a desktop and
on a phone; the page and the participant page's "Who opened this record" pass axe."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from facilitator.auth.services import create_user
from facilitator.extensions import db
from facilitator.participants.models import Participant
from facilitator.programs.services import create_program

from .conftest import axe_violations, sign_in

pytestmark = pytest.mark.browser
PASSWORD = "browser-password"


@pytest.fixture(scope="module")
def program(live_app):
    """A director, a facilitator and two participants; the facilitator has opened one record."""
    with live_app.app_context():
        program = create_program("Audit in a browser", slug="audit-browser")
        create_user(program, "dee@audit-browser.example", PASSWORD, "director", "Dee Director")
        create_user(program, "fay@audit-browser.example", PASSWORD, "facilitator", "Fay Facilitator")
        people = [Participant(program_id=program.id, preferred_name=name, initials=name[:2], record_number=number)
                  for name, number in (("Robin", "AU-100"), ("Casey", "AU-200"))]
        db.session.add_all(people)
        db.session.commit()
        return {p.record_number: p.id for p in people}


def _clean(page, what: str) -> None:
    found = axe_violations(page)
    assert found == [], (what, [(v["id"], v["nodes"][0]["target"]) for v in found])


def test_a_director_finds_who_opened_a_record(browser, live_server, program):
    fay = browser.new_context(viewport={"width": 1024, "height": 768}).new_page()
    sign_in(fay, live_server, "fay@audit-browser.example", PASSWORD)
    fay.goto(f"{live_server}/participants/{program['AU-100']}")
    expect(fay.get_by_role("heading", name="Who opened this record")).to_be_visible()
    fay.context.close()

    page = browser.new_context(viewport={"width": 1024, "height": 768}).new_page()
    sign_in(page, live_server, "dee@audit-browser.example", PASSWORD)
    page.get_by_role("link", name="Audit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit trail")
    _clean(page, "audit trail")
    page.get_by_label("Participant", exact=True).fill("AU-100")
    page.get_by_role("button", name="Show").click()
    table = page.get_by_role("table")
    expect(table.get_by_role("row")).to_have_count(2)  # the header and Fay's opening
    expect(table).to_contain_text("Fay Facilitator")
    expect(table).to_contain_text("participant.view")
    page.screenshot(path="/tmp/audit-desktop.png", full_page=True)

    page.get_by_label("Participant", exact=True).fill("AU-999")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text("No participant of your program has the record number AU-999.")).to_be_visible()
    _clean(page, "audit trail with an error")

    page.goto(f"{live_server}/participants/{program['AU-100']}")
    opened = page.locator("#opened")
    expect(opened).to_contain_text("Fay Facilitator")
    _clean(page, "participant page")
    opened.screenshot(path="/tmp/audit-opened.png")
    page.context.close()


def test_the_trail_reads_on_a_phone(browser, live_server, program):
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    sign_in(page, live_server, "dee@audit-browser.example", PASSWORD)
    page.goto(f"{live_server}/audit")
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit trail")
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 360, f"the page scrolls sideways: {width}px"
    _clean(page, "audit trail on a phone")
    page.screenshot(path="/tmp/audit-phone.png", full_page=True)
    context.close()
