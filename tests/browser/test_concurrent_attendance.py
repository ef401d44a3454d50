"""Two facilitators saving the same meeting's attendance: at the same moment, exactly one save goes
through and nothing is duplicated; a moment apart, the later one is refused with what changed and can
be re-applied. Real threads and real browsers, a real database, the real views."""

from __future__ import annotations

import threading

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from facilitator import clock
from facilitator.attendance.models import Attendance
from facilitator.auth.services import create_user
from facilitator.extensions import db
from facilitator.groups.models import Group, Meeting

from ..conftest import csrf_token, login
from .conftest import axe_violations, sign_in
from .test_attendance_flow import PASSWORD, _program_with_meeting_today

pytestmark = pytest.mark.browser


def _version(html: str) -> str:
    marker = 'name="version" type="hidden" value="'
    start = html.index(marker) + len(marker)
    return html[start:html.index('"', start)]


def test_two_saves_at_once_let_exactly_one_through(live_app):
    email, group_id, ids = _program_with_meeting_today(live_app, "race", 8)
    url = f"/groups/{group_id}/meetings/{clock.today().isoformat()}/1830/RP"
    clients = [live_app.test_client() for _ in range(2)]
    forms = []
    for n, client in enumerate(clients):
        login(client, email, PASSWORD)
        page = client.get(url).text  # both pages are built from the same attendance version
        data = {"csrf_token": csrf_token(page), "version": _version(page), "note": f"Saved by facilitator {n}"}
        for i, pid in enumerate(ids):
            data[f"rows-{i}-participant_id"] = str(pid)
            data[f"rows-{i}-status"] = "present" if n == 0 else "late"
            data[f"rows-{i}-minutes"] = "90" if n == 0 else "75"
        forms.append(data)
    start = threading.Barrier(2)
    results: list[int] = []

    def save(client, data):
        start.wait()
        results.append(client.post(url + "/attendance", data=data).status_code)

    threads = [threading.Thread(target=save, args=pair) for pair in zip(clients, forms, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == [302, 409], "one save applied, the other refused: none silently replaced"
    with live_app.app_context():
        meetings = db.session.scalar(select(func.count()).select_from(Meeting).where(
            Meeting.group_id == group_id, Meeting.date == clock.today()))
        assert meetings == 1, "one meeting row, whoever opened it first"
        rows = db.session.execute(select(Attendance.participant_id, Attendance.minutes).join(Meeting).where(
            Meeting.group_id == group_id, Meeting.date == clock.today())).all()
        assert sorted(pid for pid, _ in rows) == sorted(ids), "everyone once, nobody twice"
        assert len({minutes for _, minutes in rows}) == 1, "all rows from the one save that went through"


def test_the_second_facilitator_sees_what_changed_and_re_applies(page, browser, live_app, live_server):
    email, group_id, ids = _program_with_meeting_today(live_app, "apart", 4)
    with live_app.app_context():
        group = db.session.get(Group, group_id)
        other = create_user(group.program, "cover@apart.example", PASSWORD, "facilitator", "Robin Cover")
        db.session.commit()
        other_email = other.email
    url = f"{live_server}/groups/{group_id}/meetings/{clock.today().isoformat()}/1830/RP"
    second = browser.new_context(viewport={"width": 1024, "height": 900}).new_page()
    try:
        sign_in(page, live_server, email, PASSWORD)
        sign_in(second, live_server, other_email, PASSWORD)
        page.goto(url)
        second.goto(url)  # both open the meeting before either saves

        page.get_by_label("Status for Member00").select_option("absent")
        page.get_by_role("button", name="Save attendance").click()
        expect(page.get_by_text("Attendance saved for 4 people.")).to_be_visible()

        second.get_by_label("Status for Member01").select_option("late")
        second.get_by_role("button", name="Save attendance").click()
        expect(second.get_by_role("heading", name="Saved by someone else while you were entering attendance")
               ).to_be_visible()
        expect(second.get_by_text("Casey Counselor saved attendance for this meeting at")).to_be_visible()
        table = second.get_by_role("table", name="People whose attendance differs")
        expect(table.get_by_role("row", name="Member00")).to_contain_text("Absent, 0 min")
        expect(table.get_by_role("row", name="Member01")).to_contain_text("Late, 75 min")
        expect(table.get_by_role("row", name="Member02")).to_have_count(0)
        assert axe_violations(second) == [], "conflict page"
        with live_app.app_context():
            stored = dict(db.session.execute(select(Attendance.participant_id, Attendance.minutes).join(Meeting).where(
                Meeting.group_id == group_id, Meeting.date == clock.today())).all())
            assert stored[ids[1]] == 90, "the refused save changed nothing"

        # The form still holds what they typed; keep the first facilitator's absence and save again.
        assert second.get_by_label("Status for Member01").input_value() == "late"
        second.get_by_label("Status for Member00").select_option("absent")
        second.get_by_role("button", name="Save attendance").click()
        expect(second.get_by_text("Attendance saved for 4 people.")).to_be_visible()
        with live_app.app_context():
            stored = dict(db.session.execute(select(Attendance.participant_id, Attendance.minutes).join(Meeting).where(
                Meeting.group_id == group_id, Meeting.date == clock.today())).all())
            assert (stored[ids[0]], stored[ids[1]], stored[ids[2]]) == (0, 75, 90)
    finally:
        second.context.close()
