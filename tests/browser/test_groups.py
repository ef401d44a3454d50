"""The group screens in a real browser: a director creates a Mon/Wed/Fri group with a preview, saves it,
cancels a Wednesday family-education meeting and sees its module move a week; axe on every screen."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from facilitator import clock
from facilitator.auth.services import create_user
from facilitator.curricula.services import find_version
from facilitator.extensions import db
from facilitator.groups.models import Group, Slot
from facilitator.participants.models import Enrollment, Participant
from facilitator.programs.models import Holiday
from facilitator.programs.services import create_program

from .conftest import axe_violations, sign_in

pytestmark = pytest.mark.browser
PASSWORD = "browser-password"
MWF = [("mon", "17:30", "ERS", "50"), ("mon", "18:30", "RP", "90"), ("wed", "18:30", "FE", "90"),
       ("wed", "18:30", "SS", "90"), ("fri", "17:30", "ERS", "50"), ("fri", "18:30", "RP", "90")]


def _next_monday() -> date:
    today = clock.today()
    return today + timedelta(days=7 - today.weekday())


@pytest.fixture(scope="module")
def program(live_app):
    """A program with a director and a running group of three members (one new this week)."""
    today = clock.today()
    with live_app.app_context():
        program = create_program("Browser Groups", slug="browser-groups")
        director = create_user(program, "director@groups.example", PASSWORD, "director", "Dana Director")
        version = find_version("matrix-16")
        group = Group(program_id=program.id, name="Running group", version_id=version.id,
                      start_date=today - timedelta(weeks=6), facilitator_id=director.id)
        group.slots = [Slot(weekday=("mon", "tue", "wed", "thu", "fri").index(d), start_time=_time(at), track_code=t,
                            minutes=int(m)) for d, at, t, m in MWF]
        db.session.add(group)
        # The Friday after next Monday: never one of the Wednesdays the cancellation test uses (on a
        # Sunday, "today + 10 days" was the second Wednesday after next Monday and the test failed).
        db.session.add(Holiday(program_id=program.id, date=_next_monday() + timedelta(days=4), name="Founders Day"))
        db.session.flush()
        for i, days in enumerate((40, 20, 2)):
            person = Participant(program_id=program.id, preferred_name=f"Member {i}", initials=f"M{i}",
                                 record_number=f"bg-{i}")
            db.session.add(person)
            db.session.flush()
            db.session.add(Enrollment(participant_id=person.id, group_id=group.id,
                                      admitted_on=today - timedelta(days=days)))
        db.session.commit()
        return {"director": director.email, "group": group.id}


def _time(at: str):
    from datetime import time

    return time.fromisoformat(at)


def test_a_director_creates_a_group_previews_saves_and_cancels_a_wednesday_fe_meeting(page, live_server, program):
    start = _next_monday()
    second_wednesday, third_wednesday = start + timedelta(days=9), start + timedelta(days=16)
    sign_in(page, live_server, program["director"], PASSWORD)
    page.goto(f"{live_server}/groups/")
    page.get_by_role("link", name="New group").click()
    page.get_by_label("Name").fill("Evening Mon/Wed/Fri")
    page.get_by_label("Start date").fill(start.isoformat())
    for n, (day, at, track, minutes) in enumerate(MWF, start=1):
        row = page.get_by_role("group", name=f"Meeting {n}", exact=True)
        row.get_by_label("Day").select_option(day)
        row.get_by_label("Starts at").fill(at)
        row.get_by_label("Track").select_option(track)
        row.get_by_label("Minutes").fill(minutes)
    page.get_by_role("button", name="Preview").click()
    preview = page.get_by_role("region", name="Preview: the next 4 weeks under these settings")
    expect(preview).to_be_visible()
    assert preview.get_by_text("Stop the Cycle").first.is_visible()  # ERS 1 on the first Monday
    assert preview.get_by_role("row").filter(has_text=f"{start:%a %b %-d}").count() == 2
    page.get_by_role("button", name="Save these settings").click()

    expect(page.get_by_role("heading", name="Evening Mon/Wed/Fri", level=1)).to_be_visible()
    expect(page.get_by_text("Evening Mon/Wed/Fri created.")).to_be_visible()
    expect(page.get_by_text("Mon 5:30 PM ERS 50 min, Mon 6:30 PM RP 90 min, Wed 6:30 PM FE 90 min")).to_be_visible()
    cancel = page.locator("#cancellations")
    cancel.get_by_label("Date").fill(second_wednesday.isoformat())
    cancel.get_by_label("Which meetings").select_option("FE")
    cancel.get_by_role("button", name="Show the effect").click()
    effect = page.get_by_role("status").filter(has_text="What this cancellation would change")
    assert f"moves to {third_wednesday:%a %b %-d}, 6:30 PM" in effect.inner_text()
    assert "FE 2" in effect.inner_text()
    cancel = page.locator("#cancellations")
    cancel.get_by_label("Reason").fill("Staff training")
    cancel.get_by_role("button", name="Cancel these meetings").click()

    moved = f"FE 2 moves to {third_wednesday:%a %b %-d}."
    expect(page.get_by_text(f"Cancelled the FE meeting on {second_wednesday:%a %b %-d}. {moved}")).to_be_visible()
    calendar = page.locator("#calendar")
    cancelled_row = calendar.get_by_role("row").filter(has_text=f"{second_wednesday:%a %b %-d}").filter(
        has_text="Cancelled")
    assert "Cancelled" in cancelled_row.inner_text() and "Staff training" in cancelled_row.inner_text()
    assert moved in cancelled_row.inner_text()
    taught = calendar.get_by_role("row").filter(has_text=f"{third_wednesday:%a %b %-d}").filter(
        has_text="FE 2").filter(has_not_text="Cancelled")
    assert taught.count() == 1 and "Coming" in taught.inner_text()
    # SS meets at the same hour on Wednesdays and goes ahead
    ss_row = calendar.get_by_role("row").filter(has_text=f"{second_wednesday:%a %b %-d}").filter(has_text="SS 2")
    assert "Coming" in ss_row.inner_text()


@pytest.mark.parametrize("path", ["/groups/", "/groups/{gid}", "/groups/{gid}/edit", "/groups/new"])
def test_the_group_screens_have_no_serious_accessibility_violations(page, live_server, program, path):
    sign_in(page, live_server, program["director"], PASSWORD)
    page.goto(live_server + path.format(gid=program["group"]))
    assert axe_violations(page) == []


def test_the_preview_and_an_error_have_no_serious_accessibility_violations(page, live_server, program):
    sign_in(page, live_server, program["director"], PASSWORD)
    page.goto(f"{live_server}/groups/{program['group']}/edit")
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("heading", name="What changes")).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_role("group", name="Meeting 1", exact=True).get_by_label("Minutes").fill("0")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("alert").filter(has_text="Nothing was saved")).to_be_visible()
    expect(page.get_by_text("Enter between 1 and 480 minutes.").first).to_be_visible()
    assert axe_violations(page) == []


@pytest.mark.parametrize("path", ["/groups/", "/groups/{gid}", "/groups/{gid}/edit"])
def test_the_group_screens_work_on_a_phone(browser, live_server, program, path):
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    phone = context.new_page()
    sign_in(phone, live_server, program["director"], PASSWORD)
    phone.goto(live_server + path.format(gid=program["group"]))
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375, "no sideways scrolling on a phone"
    context.close()
