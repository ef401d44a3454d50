"""The strict Content-Security-Policy holds in a real browser: the main screens of a director, a
facilitator and a participant load, run their scripts and show their styles without a single CSP
violation (reported by the page's securitypolicyviolation event or on the console), and the worksheet
editor's live preview (a sandboxed frame) keeps its print stylesheet."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from facilitator.auth.services import create_user
from facilitator.curricula import drafts
from facilitator.curricula.models import Worksheet
from facilitator.curricula.services import find_version
from facilitator.extensions import db
from facilitator.groups.models import Group, Slot
from facilitator.participants.models import Enrollment, Participant
from facilitator.programs.services import create_program, program_today

from .conftest import sign_in

pytestmark = pytest.mark.browser
PASSWORD = "browser-password"

# Every violation in any frame lands in window.__csp (set before the page's own scripts run).
LISTEN = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + (e.sourceFile || '') + ':' + e.lineNumber);
});
"""


@pytest.fixture(scope="module")
def world(live_app):
    """A program with a director, a facilitator, a group meeting every evening, a participant with a
    portal account, and a draft curriculum with a worksheet; the pages to visit per person."""
    from facilitator.groups import calendars

    calendars._STRUCTURES.clear()  # keyed by version id; this is another database
    with live_app.app_context():
        program = create_program("CSP in a browser", slug="csp-browser")
        today = program_today(program)
        director = create_user(program, "dee@csp-browser.example", PASSWORD, "director", "Dee Director")
        create_user(program, "fay@csp-browser.example", PASSWORD, "facilitator", "Fay Facilitator")
        group = Group(program_id=program.id, name="Evening RP", version_id=find_version("matrix-16").id,
                      start_date=today - timedelta(days=3), facilitator_id=director.id)
        group.slots = [Slot(weekday=d, start_time=time(18, 30), track_code="RP", minutes=90) for d in range(7)]
        db.session.add(group)
        person = Participant(program_id=program.id, preferred_name="Jordan", initials="JR", record_number="CSP-1")
        db.session.add(person)
        db.session.flush()
        db.session.add(Enrollment(participant_id=person.id, group_id=group.id, admitted_on=group.start_date))
        create_user(program, "jordan@csp-browser.example", PASSWORD, "participant", "Jordan",
                    participant_id=person.id)
        draft = drafts.fork(find_version("matrix-16"), director, "CSP draft")
        sheet = db.session.scalars(select(Worksheet).where(Worksheet.version_id == draft.id)
                                   .order_by(Worksheet.id).limit(1)).one()
        db.session.commit()
        meeting = f"/groups/{group.id}/meetings/{today.isoformat()}/1830/RP"
        staff_pages = ["/today", "/groups/", f"/groups/{group.id}", meeting, "/participants/",
                       f"/participants/{person.id}", f"/participants/{person.id}/profile"]
        director_pages = staff_pages + ["/reports/", "/curricula/", f"/curricula/versions/{draft.id}",
                                        f"/curricula/versions/{draft.id}/worksheets/{sheet.id}", "/planning/",
                                        "/programs/", "/groups/new", "/audit",
                                        f"/audit?participant={person.record_number}"]
        return {"director": ("dee@csp-browser.example", director_pages),
                "facilitator": ("fay@csp-browser.example", staff_pages),
                "participant": ("jordan@csp-browser.example", ["/me"]),
                "worksheet": f"/curricula/versions/{draft.id}/worksheets/{sheet.id}"}


def _watched(browser):
    """A page whose CSP violations (events and console reports) are collected."""
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    context.add_init_script(LISTEN)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text) if "Content Security Policy" in m.text else None)
    return context, page, console


def _violations(page, console: list[str]) -> list[str]:
    found = list(console)
    for frame in page.frames:
        found += frame.evaluate("() => window.__csp || []")
    return found


@pytest.mark.parametrize("who", ["director", "facilitator", "participant"])
def test_main_screens_report_no_csp_violation(browser, live_server, world, who):
    email, paths = world[who]
    context, page, console = _watched(browser)
    try:
        page.goto(f"{live_server}/login")
        assert _violations(page, console) == [], "sign-in page"
        sign_in(page, live_server, email, PASSWORD)
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        for path in paths:
            response = page.goto(f"{live_server}{path}")
            assert response is not None and response.status == 200, (path, response and response.status)
            assert "script-src 'self'" in response.headers["content-security-policy"]
            page.wait_for_load_state("load")
            assert _violations(page, console) == [], path
    finally:
        context.close()


def test_worksheet_preview_keeps_its_print_styles_under_the_policy(browser, live_server, world):
    context, page, console = _watched(browser)
    try:
        sign_in(page, live_server, world["director"][0], PASSWORD)
        page.goto(f"{live_server}{world['worksheet']}")
        frame = page.frame_locator("#preview-frame")
        # The print stylesheet reached the sandboxed frame: the screen rule gives the page a white sheet.
        body = frame.locator("body")
        expect(body).to_have_css("background-color", "rgb(255, 255, 255)")
        expect(body).to_have_css("max-width", "816px")  # 8.5in
        # The live preview (static worksheet.js) re-renders as the director types.
        title = page.get_by_label("Title", exact=True)
        title.fill("Triggers, renamed while typing")
        expect(frame.get_by_text("Triggers, renamed while typing")).to_be_visible()
        expect(frame.locator("body")).to_have_css("max-width", "816px")
        assert _violations(page, console) == []
    finally:
        context.close()


def test_an_inline_script_is_refused(browser, live_server, world):
    """The policy is enforced, not just sent: a script injected into the page does not run."""
    context, page, console = _watched(browser)
    try:
        page.goto(f"{live_server}/login")
        page.evaluate("""() => { const s = document.createElement('script');
                                 s.textContent = 'window.__ran = true'; document.body.appendChild(s); }""")
        assert page.evaluate("() => window.__ran === true") is False
        assert any("script-src" in v for v in _violations(page, console))
    finally:
        context.close()
