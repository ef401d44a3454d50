"""A clinic going live, end to end in real browsers: a director invites a facilitator and a
participant; both set their passwords from the links and sign in; the facilitator turns on
two-factor sign-in; the director deactivates the facilitator, whose open page then goes to the
sign-in page by itself; the audit trail shows all of it."""

from __future__ import annotations

import pyotp
import pytest
from playwright.sync_api import expect

from facilitator.auth.services import create_user
from facilitator.extensions import db
from facilitator.participants.models import Participant
from facilitator.programs.services import create_program

from .conftest import axe_violations, sign_in

pytestmark = pytest.mark.browser
DIRECTOR_PASSWORD = "harbor-director-pass"
FACILITATOR = ("sam@golive.example", "Sam Counselor", "kettle-meadow-sparrow")
PARTICIPANT = ("jo@golive.example", "lantern-jo-2027")


@pytest.fixture
def clinic(live_app, live_server):
    """A new program with its first director and one participant record, links to the live server,
    and open pages that ask the server every second whether their session still holds (the
    production default is a minute)."""
    saved = {name: live_app.config.get(name) for name in ("APP_BASE_URL", "SESSION_STATUS_POLL_SECONDS")}
    live_app.config.update(APP_BASE_URL=live_server, SESSION_STATUS_POLL_SECONDS=1)
    with live_app.app_context():
        program = create_program("Harbor Light IOP", slug="go-live-story")
        director = create_user(program, "dana@golive.example", DIRECTOR_PASSWORD, "director", "Dana Director")
        person = Participant(program_id=program.id, preferred_name="Jo", initials="JQ", record_number="GL-7")
        db.session.add(person)
        db.session.flush()
        made = {"director": director.email, "participant": person.id}
        db.session.commit()
    yield made  # outside the app context: no transaction of ours holds SQLite's lock during the test
    live_app.config.update(saved)


def _set_password(browser, link: str, password: str) -> None:
    """Open a set-password link in a browser of its own and choose the password."""
    context = browser.new_context()
    tab = context.new_page()
    tab.goto(link)
    tab.get_by_label("New password").fill(password)
    tab.get_by_label("Type it again").fill(password)
    tab.get_by_role("button", name="Save my password").click()
    expect(tab.get_by_text("Your password is set.")).to_be_visible()
    context.close()


def test_a_clinic_goes_live(browser, live_server, clinic):
    director = browser.new_context().new_page()
    sign_in(director, live_server, clinic["director"], DIRECTOR_PASSWORD)

    # The director invites a facilitator and gives the participant portal access.
    director.goto(f"{live_server}/staff")
    director.get_by_label("Email").fill(FACILITATOR[0])
    director.get_by_label("Name").fill(FACILITATOR[1])
    director.get_by_role("button", name="Invite").click()
    expect(director.get_by_role("heading", level=1)).to_have_text(f"Invitation for {FACILITATOR[1]}")
    facilitator_link = director.get_by_label("Link").input_value()
    director.goto(f"{live_server}/participants/{clinic['participant']}")
    director.get_by_label("Email to sign in with").fill(PARTICIPANT[0])
    director.get_by_role("button", name="Give portal access").click()
    participant_link = director.get_by_label("Link").input_value()
    assert facilitator_link != participant_link

    # Both set their passwords from the links and sign in.
    _set_password(browser, facilitator_link, FACILITATOR[2])
    _set_password(browser, participant_link, PARTICIPANT[1])
    member = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True).new_page()
    sign_in(member, live_server, PARTICIPANT[0], PARTICIPANT[1])
    expect(member.get_by_role("heading", level=1)).to_contain_text("Jo")
    facilitator = browser.new_context().new_page()
    sign_in(facilitator, live_server, FACILITATOR[0], FACILITATOR[2])
    expect(facilitator.get_by_text(FACILITATOR[1])).to_be_visible()

    # The facilitator turns on two-factor sign-in, and the next sign-in asks for a code.
    facilitator.goto(f"{live_server}/account")
    facilitator.get_by_role("link", name="Set up two-factor sign-in").click()
    key = facilitator.locator("#mfa-key").inner_text().replace(" ", "")
    facilitator.get_by_label("Code from the app").fill(pyotp.TOTP(key).now())
    facilitator.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(facilitator.get_by_role("heading", name="Keep these recovery codes")).to_be_visible()
    director.goto(f"{live_server}/staff")
    row = director.get_by_role("row").filter(has_text=FACILITATOR[0])
    expect(row).to_contain_text("On")

    # The facilitator's page is open on Today when the director deactivates them: the page goes to
    # the sign-in page by itself, with no click of theirs.
    facilitator.goto(f"{live_server}/today")
    expect(facilitator.get_by_role("heading", level=1)).to_contain_text("Today")
    row.get_by_role("button", name=f"Deactivate {FACILITATOR[1]}").click()
    expect(director.get_by_role("row").filter(has_text=FACILITATOR[0])).to_contain_text("Deactivated")
    expect(facilitator).to_have_url(f"{live_server}/login", timeout=10_000)
    facilitator.get_by_label("Email").fill(FACILITATOR[0])
    facilitator.get_by_label("Password").fill(FACILITATOR[2])
    facilitator.get_by_role("button", name="Sign in").click()
    expect(facilitator.get_by_text("do not match an active account")).to_be_visible()

    # The audit trail shows the whole story.
    director.goto(f"{live_server}/audit")
    trail = director.locator("table").inner_text()
    for action in ("auth.invite", "auth.portal_granted", "auth.password_set", "auth.login", "auth.mfa_setup",
                   "auth.deactivate", "auth.login_failed"):
        assert action in trail, action
    assert axe_violations(director) == []
