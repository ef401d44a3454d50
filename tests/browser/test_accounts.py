"""Account pages in a real browser: the staff page, a new link (copy, print), the set-password page
with its errors, Forgot password and portal access; axe on each, desktop and phone width."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from facilitator.auth.services import create_user
from facilitator.extensions import db
from facilitator.participants.models import Participant
from facilitator.programs.services import create_program

from .conftest import axe_violations, sign_in

pytestmark = pytest.mark.browser
PASSWORD = "browser-accounts-pass"


@pytest.fixture(scope="module")
def clinic(live_app, live_server):
    """A program with a director and a participant (committed: the live server has its own database);
    links point at the live server (APP_BASE_URL, never the request's Host header)."""
    before = live_app.config["APP_BASE_URL"]
    live_app.config["APP_BASE_URL"] = live_server
    with live_app.app_context():
        program = create_program("Accounts Browser Clinic", slug="accounts-browser")
        program.phone = "(555) 010-4000"
        director = create_user(program, "dana@accounts-browser.example", PASSWORD, "director", "Dana Director")
        person = Participant(program_id=program.id, preferred_name="Robin", initials="RB", record_number="AB-1")
        db.session.add(person)
        db.session.commit()
        people = {"director": director.email, "participant": person.id}
    yield people
    live_app.config["APP_BASE_URL"] = before


@pytest.mark.parametrize("width", [1024, 360])
def test_a_director_invites_and_the_invitee_sets_a_password(browser, live_server, clinic, width):
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    sign_in(page, live_server, clinic["director"], PASSWORD)
    page.goto(f"{live_server}/staff")
    assert axe_violations(page) == []
    page.get_by_label("Email").fill(f"nia{width}@accounts-browser.example")
    page.get_by_label("Name").fill("Nia Counselor")
    page.get_by_role("button", name="Invite").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Invitation for Nia Counselor")
    assert axe_violations(page) == []
    link = page.get_by_label("Link").input_value()
    with page.expect_popup() as popup:
        page.get_by_role("button", name="Print handout (PDF)").click()
    assert popup.value is not None
    context.close()

    newcomer = browser.new_context(viewport={"width": width, "height": 800})
    tab = newcomer.new_page()
    tab.goto(link)
    assert axe_violations(tab) == []
    tab.get_by_label("New password").fill("short")
    tab.get_by_label("Type it again").fill("short")
    tab.get_by_role("button", name="Save my password").click()
    expect(tab.get_by_text("Use at least 12 characters.")).to_be_visible()
    assert tab.get_by_label("New password").get_attribute("aria-invalid") == "true"
    assert axe_violations(tab) == []
    tab.get_by_label("New password").fill("orchard-lantern-violet")
    tab.get_by_label("Type it again").fill("orchard-lantern-violet")
    tab.get_by_role("button", name="Save my password").click()
    expect(tab.get_by_text("Your password is set.")).to_be_visible()
    sign_in(tab, live_server, f"nia{width}@accounts-browser.example", "orchard-lantern-violet")
    expect(tab.get_by_text("Nia Counselor")).to_be_visible()
    tab.goto(link)
    expect(tab.get_by_role("heading", level=1)).to_have_text("This link no longer works")
    assert axe_violations(tab) == []
    newcomer.close()


def test_forgot_password_and_portal_access_pages_are_accessible(page, live_server, clinic):
    page.goto(f"{live_server}/login")
    page.get_by_role("link", name="Forgot password?").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Forgot your password?")
    assert axe_violations(page) == []
    sign_in(page, live_server, clinic["director"], PASSWORD)
    page.goto(f"{live_server}/participants/{clinic['participant']}")
    page.get_by_label("Email to sign in with").fill("robin@accounts-browser.example")
    page.get_by_role("button", name="Give portal access").click()
    expect(page.get_by_role("link", name="Back to Robin")).to_be_visible()
    page.get_by_role("link", name="Back to Robin").click()
    expect(page.get_by_role("button", name="Remove portal access")).to_be_visible()
    assert axe_violations(page) == []
