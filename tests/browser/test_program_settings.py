"""A director sets the program's name, time zone, address, phone and sign-in rules in a browser; the
page passes axe on a desktop and on a phone, and a wrong phone number is explained next to its field."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from facilitator.auth.services import create_user
from facilitator.extensions import db
from facilitator.programs.models import Program
from facilitator.programs.services import create_program

from .conftest import axe_violations, sign_in

pytestmark = pytest.mark.browser
PASSWORD = "browser-password"
EMAIL = "dee@settings-browser.example"


@pytest.fixture(scope="module")
def program_id(live_app):
    """A program with one director."""
    with live_app.app_context():
        program = create_program("Settings in a browser", slug="settings-browser")
        create_user(program, EMAIL, PASSWORD, "director", "Dee Director")
        db.session.commit()
        return program.id


def _clean(page, what: str) -> None:
    found = axe_violations(page)
    assert found == [], (what, [(v["id"], v["nodes"][0]["target"]) for v in found])


def test_a_director_sets_the_program_details_and_sign_in_rules(page, live_app, live_server, program_id):
    sign_in(page, live_server, EMAIL, PASSWORD)
    page.get_by_role("link", name="Settings").click()
    _clean(page, "settings page")
    details = page.locator("#program")
    details.get_by_label("Program name").fill("Harbour Outpatient IOP")
    details.get_by_label("Time zone").select_option("America/Chicago")
    details.get_by_label("Address").fill("120 Harbor Way, Suite 4, Eugene OR 97401")
    details.get_by_label("Phone").fill("call the front desk")
    details.get_by_role("button", name="Save program details").click()
    expect(page.get_by_text("Enter a phone number with at least 7 digits, for example (541) 555-0100.")).to_be_visible()
    _clean(page, "settings page with an error")
    page.locator("#program").get_by_label("Phone").fill("(541) 555-0100")
    page.locator("#program").get_by_role("button", name="Save program details").click()
    expect(page.get_by_text("Program details saved.")).to_be_visible()

    rules = page.locator("#sign-in")
    rules.get_by_label("Sign staff out after (minutes without activity)").fill("20")
    rules.get_by_label("Portal access ends this many days after discharge").fill("45")
    rules.get_by_role("button", name="Save sign-in rules").click()
    expect(page.get_by_text("Sign-in rules saved.")).to_be_visible()
    page.locator("#program").screenshot(path="/tmp/settings-program.png")
    with live_app.app_context():
        program = db.session.get(Program, program_id)
        assert (program.name, program.timezone, program.phone, program.idle_minutes_staff,
                program.portal_days_after_discharge) == ("Harbour Outpatient IOP", "America/Chicago",
                                                         "(541) 555-0100", 20, 45)


def test_the_settings_read_on_a_phone(browser, live_server, program_id):
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    sign_in(page, live_server, EMAIL, PASSWORD)
    page.goto(f"{live_server}/programs/")
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 360, f"the page scrolls sideways: {width}px"
    page.locator("#sign-in").screenshot(path="/tmp/settings-phone.png")
    context.close()
