"""Schedule planning in a real browser: a director opens Planning, reads what the default pattern
implies, adds a Tuesday RP meeting, sees the program get shorter, and compares the two patterns in
the what-if simulator; axe finds no serious problem, and nothing scrolls sideways on a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from facilitator.auth.services import create_user
from facilitator.extensions import db
from facilitator.programs.services import create_program

from .conftest import axe_violations, sign_in

pytestmark = pytest.mark.browser
PASSWORD = "browser-password"


def _director(app, slug: str) -> str:
    with app.app_context():
        program = create_program(f"Planning {slug}", slug=slug)
        user = create_user(program, f"director@{slug}.example", PASSWORD, "director", "Dana Director")
        db.session.commit()
        return user.email


def _fits_a_phone(page) -> bool:
    page.set_viewport_size({"width": 375, "height": 800})
    fits = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.set_viewport_size({"width": 1024, "height": 768})
    return fits


def test_a_director_plans_a_pattern_and_compares_it(page, live_app, live_server):
    sign_in(page, live_server, _director(live_app, "plan1"), PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Planning").click()
    implied = page.locator("#implications")
    assert "15.4 to 15.9 weeks" in implied.inner_text()
    assert "Weeks 1-4" in implied.inner_text() and "6.2 h (370 min)" in implied.inner_text()
    assert "Under the 9 h floor by 4.5 h" in implied.inner_text()
    assert axe_violations(page) == [], "pattern editor"
    assert _fits_a_phone(page), "pattern editor at 375 px"

    page.get_by_role("button", name="Add a meeting").click()
    last = page.locator("#last-meeting")
    expect(last.locator("legend")).to_have_text("Meeting 7")  # the next page, not the one before
    last.get_by_label("Day").select_option("tue")
    last.get_by_label("Starts at").fill("18:30")
    last.get_by_label("Track").select_option("RP")
    last.get_by_label("Minutes").fill("90")
    page.get_by_role("button", name="Show what it implies").click()
    implied = page.locator("#implications")
    expect(implied).to_contain_text("11.0 to 11.9 weeks")  # the page before said 15.4 to 15.9
    assert "Warning: shorter than 12 weeks" in implied.inner_text()

    page.get_by_role("button", name="Compare in the what-if simulator").click()
    # Wait for the simulator itself: the planning page has a "last meeting" on Tuesday too.
    expect(page.get_by_role("button", name="Compare A and B")).to_be_visible()
    assert page.locator("#last-meeting").get_by_label("Day").input_value() == "tue"
    page.get_by_role("button", name="Compare A and B").click()
    table = page.get_by_role("table", name="Completion of the required group tracks")
    rows = table.locator("tbody tr")
    # The comparison arrives with the next page; a bare count() could read the page before it.
    expect(rows).to_have_count(5)
    for i in range(5):
        assert "earlier" in rows.nth(i).inner_text()
    assert "earlier for 5" in page.locator("#comparison").inner_text()
    assert axe_violations(page) == [], "what-if comparison"
    assert _fits_a_phone(page), "what-if at 375 px"


def test_bad_input_in_the_what_if_is_announced_next_to_the_field(page, live_app, live_server):
    sign_in(page, live_server, _director(live_app, "plan2"), PASSWORD)
    page.goto(f"{live_server}/planning/what-if")
    page.get_by_label("Last day simulated").fill("2020-01-01")
    page.get_by_role("button", name="Compare A and B").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert page.get_by_label("Last day simulated").get_attribute("aria-invalid") == "true"
    assert "is before the first day" in page.locator("#until-error").inner_text()
    assert page.locator("#comparison").count() == 0
    assert axe_violations(page) == [], "what-if with a problem"
