"""A facilitator prints the meeting packet a few minutes before group, in a real browser: the long
packet renders on a real `facilitator worker` (a subprocess on the live app's queue) while the page
shows its progress, then the PDF arrives by itself."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from playwright.sync_api import expect

from facilitator import clock
from facilitator.auth.services import create_user
from facilitator.curricula.services import find_version
from facilitator.domain.curriculum import WEEKDAYS
from facilitator.extensions import db
from facilitator.groups.models import Group, Slot
from facilitator.participants.models import Enrollment, Participant
from facilitator.programs.services import create_program

from ..documents.conftest import text
from ..test_queue_support import start_worker, stop
from .conftest import axe_violations, sign_in

pytestmark = pytest.mark.browser
PASSWORD = "browser-password"


def _group_of_twenty(app, slug: str) -> tuple[str, str]:
    """A group meeting on Mondays at 18:30 (RP) with twenty members; (facilitator email, meeting path)."""
    monday = clock.today() - timedelta(days=clock.today().weekday()) + timedelta(weeks=1)
    with app.app_context():
        program = create_program(f"Printing {slug}", slug=slug)
        email = f"facilitator@{slug}.example"
        create_user(program, email, PASSWORD, "facilitator", "Pat Facilitator")
        group = Group(program_id=program.id, name="Monday RP", version_id=find_version("matrix-16").id,
                      start_date=monday - timedelta(weeks=4))
        group.slots = [Slot(weekday=WEEKDAYS.index("mon"), start_time=time(18, 30), track_code="RP", minutes=90)]
        db.session.add(group)
        db.session.flush()
        for n in range(20):
            person = Participant(program_id=program.id, preferred_name=f"Member {n:02d}", initials=f"M{n}",
                                 record_number=f"{slug}-{n}")
            db.session.add(person)
            db.session.flush()
            db.session.add(Enrollment(participant_id=person.id, group_id=group.id,
                                      admitted_on=monday - timedelta(weeks=2)))
        db.session.commit()
        return email, f"/groups/{group.id}/meetings/{monday.isoformat()}/1830/RP"


def test_the_packet_renders_in_a_worker_with_progress_and_opens_when_ready(page, live_app, live_server, tmp_path,
                                                                          monkeypatch):
    monkeypatch.setitem(live_app.config, "DOCUMENT_CACHE_DIR", str(tmp_path / "documents"))
    queue_url = f"sqlite:///{tmp_path}/queue.sqlite3"
    monkeypatch.setitem(live_app.config, "QUEUE_URL", queue_url)
    worker = start_worker(tmp_path / "worker", queue_url)
    try:
        _print_the_packet(page, live_app, live_server)
    finally:
        stop(worker)


def _print_the_packet(page, live_app, live_server) -> None:
    email, meeting = _group_of_twenty(live_app, "packet")
    sign_in(page, live_server, email, PASSWORD)
    page.goto(live_server + meeting)
    expect(page.get_by_text("for each of 20 people with their names")).to_be_visible()
    with page.expect_response(lambda r: "/documents/jobs/" in r.url and r.url.endswith(".pdf"),
                              timeout=120_000) as finished:
        page.get_by_role("link", name="Print packet").click()
        expect(page.get_by_role("heading", name="Preparing packet-")).to_be_visible()
        expect(page.locator("progress")).to_be_attached()
        assert axe_violations(page) == []
    pdf = finished.value
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    # The browser shows the PDF itself; fetch the same file with the page's cookies to read it.
    words = text(page.request.get(pdf.url).body())
    assert "Sign-in sheet" in words and "Member 00" in words and "Member 19" in words
