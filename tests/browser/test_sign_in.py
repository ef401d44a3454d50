"""Sign-in in a real browser, and the login page's accessibility."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from facilitator.auth.services import create_user
from facilitator.extensions import db
from facilitator.programs.services import create_program

from .conftest import axe_violations, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def director(live_app):
    with live_app.app_context():
        program = create_program("Browser Test Program", slug="browser-test")
        user = create_user(program, "lead@browser.example", "browser-password", "director", "Dana Lead")
        db.session.commit()
        return user.email


def test_a_director_signs_in_and_out(page, live_server, director):
    sign_in(page, live_server, director, "browser-password")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Today")
    expect(page.get_by_text("Dana Lead")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
def test_a_wrong_password_is_explained_next_to_the_field(page, live_server, director):
    sign_in(page, live_server, director, "not-the-password")
    expect(page.get_by_text("That email and password do not match an active account.")).to_be_visible()
    assert page.get_by_label("Password").get_attribute("aria-invalid") == "true"


def test_the_login_page_has_no_serious_accessibility_violations(page, live_server):
    page.goto(f"{live_server}/login")
    assert axe_violations(page) == []


def test_the_login_page_works_on_a_phone(browser, live_server):
    context = browser.new_context(viewport={"width": 375, "height": 700}, is_mobile=True)
    phone = context.new_page()
    phone.goto(f"{live_server}/login")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, "no sideways scrolling on a phone"
    context.close()
