"""A director in a real browser: the program's numbers (axe clean on a desktop and a phone), the
attendance CSV downloaded with its notice, and a setting changed on the settings page."""

from __future__ import annotations

import csv
import io
from datetime import time, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from facilitator import clock
from facilitator.attendance.models import Attendance
from facilitator.auth.services import create_user
from facilitator.curricula.services import find_version
from facilitator.domain.curriculum import WEEKDAYS
from facilitator.extensions import db
from facilitator.groups.calendars import module_ids
from facilitator.groups.models import Group, Meeting, Slot
from facilitator.participants.models import Enrollment, Participant
from facilitator.programs.models import AttendanceStatus, Program
from facilitator.programs.services import create_program

from .conftest import axe_violations, sign_in

pytestmark = pytest.mark.browser
PASSWORD = "browser-password"


def _program_with_history(app, slug: str) -> str:
    """A program with one group, eight participants admitted over the last ten weeks (two discharged,
    one completing) and a held RP meeting each week with attendance; the director's email."""
    today = clock.today()
    with app.app_context():
        program = create_program(f"Reports {slug}", slug=slug)
        email = f"director@{slug}.example"
        director = create_user(program, email, PASSWORD, "director", "Dana Director")
        version = find_version("matrix-16")
        start = today - timedelta(weeks=12, days=today.weekday())
        group = Group(program_id=program.id, name="Evening IOP", version_id=version.id, start_date=start)
        group.slots = [Slot(weekday=WEEKDAYS.index(s["weekday"]), start_time=time.fromisoformat(s["time"]),
                            track_code=s["track"], minutes=s["minutes"]) for s in version.pattern]
        db.session.add(group)
        db.session.flush()
        people = []
        for i in range(8):
            person = Participant(program_id=program.id, preferred_name=f"Member{i}", initials=f"M{i}",
                                 record_number=f"{slug}-{i}")
            db.session.add(person)
            db.session.flush()
            admitted = start + timedelta(weeks=i)
            stay = Enrollment(participant_id=person.id, group_id=group.id, admitted_on=admitted)
            if i in (1, 2):
                stay.discharged_on, stay.discharge_reason = admitted + timedelta(weeks=3), "dropped_out"
            if i == 0:
                stay.discharged_on, stay.discharge_reason = today - timedelta(days=1), "completed"
            db.session.add(stay)
            people.append((person, stay))
        status = {s.code: s.id for s in db.session.scalars(select(AttendanceStatus).where(
            AttendanceStatus.program_id == program.id))}
        modules = module_ids(version.id)
        for week in range(12):
            day = start + timedelta(weeks=week)
            meeting = Meeting(group_id=group.id, date=day, start_time=time(18, 30), track_code="RP", minutes=90,
                              status="held", module_id=modules[f"RP {week + 1}"])
            db.session.add(meeting)
            db.session.flush()
            for n, (person, stay) in enumerate(people):
                if stay.admitted_on <= day <= (stay.discharged_on or today):
                    code = "absent" if (n + week) % 4 == 0 else "present"
                    db.session.add(Attendance(meeting_id=meeting.id, participant_id=person.id, status_id=status[code],
                                              minutes=0 if code == "absent" else 90, recorded_by_id=director.id))
        db.session.commit()
        return email


def test_a_director_reads_the_numbers_downloads_attendance_and_changes_a_setting(page, live_app, live_server):
    email = _program_with_history(live_app, "numbers")
    sign_in(page, live_server, email, PASSWORD)
    page.goto(f"{live_server}/reports/")
    expect(page.get_by_role("heading", name="Program numbers")).to_be_visible()
    expect(page.get_by_role("img", name="Retention: share still enrolled by week since admission")).to_be_visible()
    assert axe_violations(page) == []

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Attendance (CSV)").click()
    download = download_info.value
    assert download.suggested_filename.startswith("attendance-") and download.suggested_filename.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert len(rows) > 20 and list(rows[0])[:6] == ["meeting_date", "start_time", "group", "track", "module",
                                                    "participant_id"]
    assert {row["notice"] for row in rows} == {"42 CFR part 2 prohibits unauthorized use or disclosure of these records."}

    page.get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", name="Program settings")).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_label("Weekly hours floor (hours)").fill("6")
    page.get_by_label("A4 (210 × 297 mm)").check()
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Settings saved.")).to_be_visible()
    with live_app.app_context():
        program = db.session.scalar(select(Program).where(Program.slug == "numbers"))
        assert (program.hours_floor_minutes, program.page_size) == (360, "a4")

    page.get_by_label("Weekly hours floor (hours)").fill("90")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Enter the weekly floor in hours, from 1 to 40")).to_be_visible()
    assert axe_violations(page) == []


def test_the_numbers_work_on_a_phone(browser, live_app, live_server):
    email = _program_with_history(live_app, "phone")
    context = browser.new_context(viewport={"width": 375, "height": 800})
    page = context.new_page()
    try:
        sign_in(page, live_server, email, PASSWORD)
        for url in ("/reports/", "/programs/"):
            page.goto(f"{live_server}{url}")
            assert axe_violations(page) == []
            # Charts scroll inside their own box; the page itself never scrolls sideways.
            assert page.evaluate("document.documentElement.scrollWidth") <= 375
    finally:
        context.close()
