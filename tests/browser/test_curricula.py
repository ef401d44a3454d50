"""A director adapts the curriculum in a real browser: fork matrix-16, move RP 12 before RP 3, add a
local module with a worksheet, publish, move a running group to the new version, and see the group's
calendar and a member's progress follow. Every screen is checked with axe."""

from __future__ import annotations

import re
from datetime import time, timedelta

import pytest
from playwright.sync_api import expect

from facilitator import clock
from facilitator.auth.services import create_user
from facilitator.curricula.services import find_version
from facilitator.extensions import db
from facilitator.groups.calendars import group_calendar
from facilitator.groups.models import Group, Slot
from facilitator.meetings import services as meetings
from facilitator.participants.models import Enrollment, Participant
from facilitator.programs.services import create_program
from facilitator.progress.services import progress_for

from .conftest import axe_violations, sign_in

pytestmark = pytest.mark.browser
PASSWORD = "browser-password"


@pytest.fixture
def running_group(live_app):
    """A program whose RP group meets every evening; it started two days ago and recorded RP 1 and RP 2
    with Jordan present both times. Tonight's meeting is not recorded yet."""
    from facilitator.groups import calendars

    calendars._STRUCTURES.clear()  # the cache is keyed by version id; this is another database
    today = clock.today()
    with live_app.app_context():
        program = create_program("Curricula in a browser", slug="curricula-browser")
        director = create_user(program, "dee@curricula-browser.example", PASSWORD, "director", "Dee Director")
        group = Group(program_id=program.id, name="Evening RP", version_id=find_version("matrix-16").id,
                      start_date=today - timedelta(days=2), facilitator_id=director.id)
        group.slots = [Slot(weekday=d, start_time=time(18, 30), track_code="RP", minutes=90) for d in range(7)]
        db.session.add(group)
        db.session.flush()
        jordan = Participant(program_id=program.id, preferred_name="Jordan", initials="JR", record_number="C-1")
        db.session.add(jordan)
        db.session.flush()
        db.session.add(Enrollment(participant_id=jordan.id, group_id=group.id, admitted_on=group.start_date))
        db.session.flush()
        for days_ago in (2, 1):
            planned = meetings.find_planned(group, today - timedelta(days=days_ago), "18:30", "RP")
            meetings.save_attendance(group, planned, [meetings.AttendanceLine(jordan.id, "present", 90)], "", {},
                                     director)
        db.session.commit()
        return director.email, group.id, jordan.id


def _no_violations(page, what: str) -> None:
    found = axe_violations(page)
    assert found == [], (what, [(v["id"], v["nodes"][0]["target"]) for v in found])


def _press_enter_on(page, button):
    """Focus a button on a fully loaded page and press Enter, as a keyboard user would."""
    # The status line shows before the page's load event; a key pressed while the page still
    # loads can be lost, so wait for the load and for the focus to land before pressing.
    page.wait_for_load_state("load")
    button.focus()
    expect(button).to_be_focused()
    page.keyboard.press("Enter")


def test_a_director_adapts_the_curriculum_and_moves_a_group(page, live_app, live_server, running_group):
    email, group_id, jordan_id = running_group
    sign_in(page, live_server, email, PASSWORD)

    # Fork matrix-16.
    page.get_by_role("link", name="Curricula").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Curricula")
    _no_violations(page, "curricula list")
    page.get_by_role("link", name="Version 2027.2", exact=True).click()
    page.get_by_label("Title of the new curriculum").fill("Our IOP 2027")
    page.get_by_role("button", name="Fork into a new draft").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Our IOP 2027")
    _no_violations(page, "draft page")

    # Move RP 12 before RP 3; the move buttons work from the keyboard and say which module they move.
    page.get_by_role("link", name="RP Relapse Prevention").click()
    _no_violations(page, "track page")
    page.get_by_label("Move", exact=True).select_option(label="RP 12 Trust")
    page.get_by_label("before", exact=True).select_option(label="RP 3 Avoiding Relapse Drift")
    page.get_by_role("button", name="Move", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Moved RP 12 before RP 3.")
    _press_enter_on(page, page.get_by_role("button", name="Move RP 12 down"))
    expect(page.get_by_role("status")).to_contain_text("Moved RP 12 down.")
    _press_enter_on(page, page.get_by_role("button", name="Move RP 12 up"))
    expect(page.get_by_role("status")).to_contain_text("Moved RP 12 up.")
    codes = page.locator("table.cu-modules .cu-code").all_inner_texts()
    assert codes[:4] == ["RP 1", "RP 2", "RP 12", "RP 3"]

    # Add a local module with its guide and a worksheet.
    page.get_by_label("Title of the new module").fill("Holidays and Family Events")
    page.get_by_role("button", name="Add module").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("RP 33 Holidays and Family Events")
    page.get_by_label("Goals, one per line").fill(
        "Name one holiday or family event that may be hard for you.\n"
        "Plan who you will be with and when you will leave.\n"
        "Choose one thing to say if someone offers you a drink.")
    steps = page.locator("#outline fieldset.gr-slot")
    steps.nth(0).get_by_label("Minutes").fill("60")
    steps.nth(0).get_by_label("What happens").fill("Talk about why holidays are hard, then members fill in RP 33A.")
    steps.nth(1).get_by_label("Minutes").fill("30")
    steps.nth(1).get_by_label("What happens").fill("Open discussion: what members are struggling with this week.")
    page.get_by_label("Key points (Markdown)").fill("- Holidays bring old places and strong feelings.\n"
                                                    "- A plan made ahead is easier to keep.")
    page.get_by_label("Discussion questions, one per line").fill(
        "Which holiday is the hardest for you?\nWho will help you stay safe that day?\n"
        "What will you say if someone offers you a drink?\nWhen will you leave, and how will you get home?")
    cases = page.locator("#considerations fieldset.gr-slot")
    cases.nth(0).get_by_label("If this happens").fill("A member has nowhere safe to go.")
    cases.nth(0).get_by_label("What to do").fill("Help them find a meeting or a sober event that day.")
    cases.nth(1).get_by_label("If this happens").fill("A member used at a past holiday.")
    cases.nth(1).get_by_label("What to do").fill("Thank them for sharing and plan the hard hour together.")
    page.get_by_role("button", name="Save RP 33").click()
    expect(page.get_by_role("status")).to_contain_text("Saved RP 33.")
    _no_violations(page, "module page")
    page.get_by_label("Title of the new worksheet").fill("My Holiday Plan")
    page.get_by_role("button", name="Add worksheet").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("RP 33A My Holiday Plan")
    for count, kind in enumerate(("text", "checklist"), start=1):
        page.get_by_label("Type of the new field").select_option(kind)
        page.get_by_role("button", name="Add a field").click()
        # Wait for the page the add leads to (its "Saved" notice shown and so used up): typing into the
        # page being left would let the next save race the add, and both notices would show at once.
        expect(page.locator("fieldset.cu-field")).to_have_count(count)
        page.wait_for_load_state()
    first, second = page.locator("fieldset.cu-field").nth(0), page.locator("fieldset.cu-field").nth(1)
    first.get_by_label("Label (what a screen reader announces)").fill("The holiday or family event I am planning for")
    second.get_by_label("Label (what a screen reader announces)").fill("If I feel a craving that day I will")
    second.get_by_label("Items, one per line").fill("Call my sponsor\nLeave early\nGo for a walk")
    # The printed page beside the form follows what is typed, before saving.
    expect(page.frame_locator("#preview-frame").get_by_text("Go for a walk")).to_be_visible()
    page.get_by_role("button", name="Save RP 33A").first.click()
    expect(page.get_by_role("status")).to_contain_text("Saved RP 33A.")
    _no_violations(page, "worksheet page")

    # Publish: the change summary lists the move and the new module.
    page.get_by_role("link", name="Our IOP 2027, version 1").click()
    page.get_by_role("button", name="Publish version 1").click()
    expect(page.get_by_role("status")).to_contain_text("Published version 1 of Our IOP 2027.")
    expect(page.get_by_text("Moved RP 12 Trust: now after RP 2.")).to_be_visible()
    expect(page.get_by_text("Added RP 33 Holidays and Family Events.")).to_be_visible()
    _no_violations(page, "published version")

    # Move the group: the effect first, then the move.
    page.goto(f"{live_server}/curricula/groups/{group_id}/version")
    page.get_by_label("Move to").select_option(label="Our IOP 2027, version 1")
    page.get_by_role("button", name="Show the effect").click()
    jordan = page.get_by_role("row", name=re.compile("Jordan"))
    expect(jordan).to_contain_text("RP 1, RP 2")
    expect(jordan).to_contain_text("RP 33")
    _no_violations(page, "move page with its effect")
    page.get_by_role("button", name=re.compile("^Move Evening RP to Our IOP 2027")).click()

    # The group's calendar now delivers RP 12 tonight, right after RP 2; Jordan keeps RP 1 and RP 2.
    expect(page.get_by_role("status")).to_contain_text("Evening RP now runs Our IOP 2027 (version 1).")
    coming = page.locator("table.gr-calendar tr.gr-status-coming td:nth-child(3) strong").all_inner_texts()
    assert coming[:3] == ["RP 12", "RP 3", "RP 4"]
    page.goto(f"{live_server}/participants/{jordan_id}")
    credited = page.locator("li.pt-cell-credited .pt-code").all_inner_texts()
    assert "RP 1" in credited and "RP 2" in credited
    with live_app.app_context():
        group = db.session.get(Group, group_id)
        today = clock.today()
        rp = [m.module for m in group_calendar(group, today + timedelta(days=3)).meetings if m.track == "RP"]
        assert rp[:4] == ["RP 1", "RP 2", "RP 12", "RP 3"]
        plan = progress_for([db.session.get(Participant, jordan_id)], today)[jordan_id]
        track = plan.progress.track("RP")
        assert track.credited == ("RP 1", "RP 2") and "RP 33" in track.missing
        db.session.rollback()


def test_the_editor_fits_a_phone(browser, live_app, live_server):
    """At 375 px the track, module and worksheet pages have no sideways scrolling and pass axe."""
    from facilitator.curricula import drafts
    from facilitator.curricula.models import Module

    with live_app.app_context():
        program = create_program("Curricula on a phone", slug="curricula-phone")
        director = create_user(program, "pat@curricula-phone.example", PASSWORD, "director", "Pat Phone")
        draft = drafts.fork(find_version("matrix-16"), director, "Phone draft")
        rp12 = next(m for m in draft.tracks[2].modules if m.code == "RP 12")
        pages = ["/curricula/", f"/curricula/versions/{draft.id}", f"/curricula/versions/{draft.id}/tracks/RP",
                 f"/curricula/versions/{draft.id}/modules/{rp12.id}",
                 f"/curricula/versions/{draft.id}/worksheets/{rp12.worksheets[0].id}"]
        assert isinstance(rp12, Module)
        db.session.commit()
    context = browser.new_context(viewport={"width": 375, "height": 740})
    page = context.new_page()
    try:
        sign_in(page, live_server, "pat@curricula-phone.example", PASSWORD)
        for url in pages:
            page.goto(live_server + url)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 375, (url, width)
            _no_violations(page, url)
    finally:
        context.close()
