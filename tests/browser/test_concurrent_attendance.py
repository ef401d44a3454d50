"""Two facilitators saving the same meeting's attendance at the same moment: nothing is lost and no
row is duplicated. Real threads, a real database file, the real views."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from facilitator import clock
from facilitator.attendance.models import Attendance
from facilitator.extensions import db
from facilitator.groups.models import Meeting

from ..conftest import csrf_token, login
from .test_attendance_flow import PASSWORD, _program_with_meeting_today


def test_two_saves_at_once_keep_one_row_per_person(live_app):
    email, group_id, ids = _program_with_meeting_today(live_app, "race", 8)
    url = f"/groups/{group_id}/meetings/{clock.today().isoformat()}/1830/RP"
    clients = [live_app.test_client() for _ in range(2)]
    forms = []
    for n, client in enumerate(clients):
        login(client, email, PASSWORD)
        data = {"csrf_token": csrf_token(client.get(url).text), "note": f"Saved by facilitator {n}"}
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
    assert results == [302, 302]
    with live_app.app_context():
        meetings = db.session.scalar(select(func.count()).select_from(Meeting).where(
            Meeting.group_id == group_id, Meeting.date == clock.today()))
        assert meetings == 1, "one meeting row, whoever opened it first"
        rows = db.session.execute(select(Attendance.participant_id, Attendance.minutes).join(Meeting).where(
            Meeting.group_id == group_id, Meeting.date == clock.today())).all()
        assert sorted(pid for pid, _ in rows) == sorted(ids), "everyone once, nobody twice"
        assert {minutes for _, minutes in rows} <= {90, 75}
