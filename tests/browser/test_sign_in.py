"""Sign-in in a real browser, and the login page's accessibility."""

from __future__ import annotations

import secrets
import time
from datetime import timedelta

import pyotp
import pytest
import time_machine
from playwright.sync_api import expect

from facilitator import clock
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


@pytest.fixture
def short_idle(live_app):
    """A facilitator whose program signs staff out after 5 idle minutes; the page asks the server
    every second (the test moves the server's clock, not the browser's timers)."""
    with live_app.app_context():
        program = create_program("Idle Test Program", slug=f"idle-{secrets.token_hex(4)}")
        program.idle_minutes_staff = 5
        user = create_user(program, f"idle-{secrets.token_hex(4)}@browser.example", "browser-password",
                           "facilitator", "Ira Idle")
        db.session.commit()
        email = user.email
    live_app.config["SESSION_STATUS_POLL_SECONDS"] = 1
    yield email
    live_app.config["SESSION_STATUS_POLL_SECONDS"] = 0


def test_the_idle_warning_appears_and_stay_signed_in_keeps_the_session(page, live_server, short_idle):
    sign_in(page, live_server, short_idle, "browser-password")
    warning = page.get_by_role("dialog", name="Are you still there?")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Today")
    expect(warning).to_be_hidden()
    # The live server runs in this process: moving this clock moves the server's. It stands still
    # between the moves: a ticking clock let a slow run (axe on a loaded machine) use up the warning's
    # 55 seconds before "Stay signed in" reached the server, which then signed the page out.
    with time_machine.travel(clock.utc_now(), tick=False) as traveller:
        traveller.shift(timedelta(minutes=4, seconds=5))  # 55 seconds left
        expect(warning).to_be_visible(timeout=5000)
        assert axe_violations(page) == []
        page.get_by_role("button", name="Stay signed in").click()
        expect(warning).to_be_hidden(timeout=5000)

        traveller.shift(timedelta(minutes=3))  # 3 minutes after "stay": no warning yet
        page.wait_for_timeout(2500)
        expect(warning).to_be_hidden()
        page.reload()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Today")  # still signed in

        traveller.shift(timedelta(minutes=5, seconds=30))  # idle past the limit: the page leaves
        expect(page.get_by_text("You were signed out after 5 minutes without activity.")).to_be_visible(timeout=5000)
        assert "/login" in page.url


def test_two_factor_set_up_and_sign_in_in_the_browser(page, live_server, live_app, tmp_path):
    with live_app.app_context():
        program = create_program("MFA Test Program", slug=f"mfa-{secrets.token_hex(4)}")
        email = create_user(program, f"mfa-{secrets.token_hex(4)}@browser.example", "browser-password",
                            "facilitator", "Mia Factor").email
        db.session.commit()
    sign_in(page, live_server, email, "browser-password")
    page.get_by_role("link", name="Mia Factor").click()
    expect(page.get_by_role("heading", level=1, name="My account")).to_be_visible()
    expect(page.get_by_role("cell", name="Signed in")).to_be_visible()  # this sign-in, listed
    assert axe_violations(page) == []
    page.get_by_role("link", name="Set up two-factor sign-in").click()
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    assert axe_violations(page) == []
    for width in (1024, 360):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(tmp_path / f"mfa-setup-{width}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    key = page.locator("#mfa-key").inner_text().replace(" ", "")
    page.get_by_label("Code from the app").fill(pyotp.TOTP(key).now())
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.get_by_role("heading", name="Keep these recovery codes")).to_be_visible()
    assert page.locator(".si-codes li").count() == 10
    assert axe_violations(page) == []
    page.get_by_role("link", name="I have kept my codes: continue").click()

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, live_server, email, "browser-password")
    expect(page.get_by_role("heading", level=1, name="Two-factor sign-in")).to_be_visible()
    assert axe_violations(page) == []
    # The code that set it up is used up: the app's next code (accepted a step early, clocks drift).
    page.get_by_label("Code").fill(pyotp.TOTP(key).at(int(time.time()) + 30))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Today")
