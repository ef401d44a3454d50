"""Bad input that used to get through: control characters (NUL is a 500 on PostgreSQL, accepted on
SQLite) in any form, address or JSON body, and attendance for a meeting whose day has not come.

Each form is filled as a browser would send it (every control of the page's form with its shown
value), with one field changed; the same post with plain text is accepted, so the refusal is the
control character's doing. Nothing in the database changes on a refusal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time, timedelta
from html.parser import HTMLParser

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from facilitator.attendance.models import Attendance
from facilitator.clinical import services as clinical
from facilitator.extensions import db
from facilitator.groups.models import Group, Meeting, Slot
from facilitator.meetings import services as meetings
from facilitator.programs.services import program_today

from .conftest import login

CONTROL_MESSAGE = "contains an invisible control character"
UNCHANGED_SKIP = {"audit_event", "user_account"}  # page views are audited; sign-in stamps the account


class _Forms(HTMLParser):
    """The controls of every form of a page, with the values a browser would send unchanged."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms: dict[str, list[list]] = {}
        self._fields: list[list] | None = None
        self._select: list | None = None
        self._textarea: list | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":  # keyed by where it posts: its action without the fragment, or the page itself
            self._fields = self.forms.setdefault((a.get("action") or self.page).partition("#")[0], [])
        elif self._fields is None or "name" not in a and tag != "option":
            return
        elif tag == "input" and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") not in ("checkbox", "radio") or "checked" in a:
                self._fields.append([a["name"], a.get("value", "")])
        elif tag == "select":
            self._select = [a["name"], None]
            self._fields.append(self._select)
        elif tag == "option" and self._select is not None:
            if self._select[1] is None or "selected" in a:
                self._select[1] = a.get("value", "")
        elif tag == "textarea":
            self._textarea = [a["name"], ""]
            self._fields.append(self._textarea)

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._fields = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            if self._textarea[1].startswith("\n"):
                self._textarea[1] = self._textarea[1][1:]  # HTML drops a textarea's first line break
            self._textarea = None


def page_forms(html: str, page: str) -> dict[str, list[list[str]]]:
    """The forms of a page by where they post, each as the (name, value) pairs a browser would send."""
    parser = _Forms(page)
    parser.feed(html)
    return parser.forms


def browser_post(client, page: str, action: str, changes: dict[str, str], submit: str | None = None, html=None):
    """Post the form of `page` (or of its `html` as already shown) whose action is `action` as a browser
    would, with some fields changed."""
    forms = page_forms(html if html is not None else client.get(page).text, page)
    assert action in forms, f"no form posting to {action} on {page}: {list(forms)}"
    data = MultiDict([(name, value) for name, value in forms[action] if name not in changes])
    for name, value in changes.items():
        data.add(name, value)
    if submit:
        data.add(submit, "1")
    return client.post(action, data=data)


def snapshot(session) -> dict[str, list]:
    """Every row of every table a form could change."""
    return {t.name: session.execute(select(t).order_by(*t.primary_key.columns)).all()
            for t in db.metadata.sorted_tables if t.name not in UNCHANGED_SKIP}


@dataclass
class World:
    """A program with a daily group that started two weeks ago, a participant with an open relapse
    analysis, a draft curriculum, and its director signed in."""

    program: object
    director: object
    group: object
    person: object
    analysis: object
    draft: object
    today: object
    extra: dict = field(default_factory=dict)


@pytest.fixture
def world(client, session, make_program, make_user, make_participant, matrix16):
    from facilitator.curricula.drafts import fork
    from facilitator.curricula.services import find_version

    program = make_program()
    today = program_today(program)
    director = make_user("director", program)
    group = Group(program_id=program.id, name="Daily group", version_id=matrix16.id, start_date=today - timedelta(14),
                  facilitator_id=director.id)
    # RP every day, FE every day: any date has a meeting of each
    group.slots = [Slot(weekday=d, start_time=time(18, 30), track_code=t, minutes=90)
                   for d in range(7) for t in ("RP", "FE")]
    session.add(group)
    session.flush()
    person = make_participant(program, group, admitted=today - timedelta(14), name="Robin")
    analysis = clinical.record_test(person, collected_on=today - timedelta(1), kind="urine", result="positive",
                                    substances=["methamphetamine"], observed=True, user=director,
                                    today=today).analysis
    draft = fork(find_version("matrix-16"), director, "Our IOP")
    session.flush()
    login(client, director.email)
    return World(program, director, group, person, analysis, draft, today)


def _meeting(w: World, day, track="RP") -> str:
    return f"/groups/{w.group.id}/meetings/{day.isoformat()}/1830/{track}"


def _module(w: World) -> str:
    from facilitator.curricula.models import Module

    rp5 = db.session.scalar(select(Module).where(Module.version_id == w.draft.id, Module.code == "RP 5"))
    return f"/curricula/versions/{w.draft.id}/modules/{rp5.id}"


# (case, page, action, field, its label, submit button, other fields a valid post needs) as functions of the world
FORMS = {
    "participant new": lambda w: ("/participants/new", "/participants/new", "preferred_name", "Preferred name", None,
                                  {"initials": "AB", "record_number": "R-NEW-1", "group_id": str(w.group.id)}),
    "participant profile": lambda w: (f"/participants/{w.person.id}/profile", f"/participants/{w.person.id}/profile",
                                      "preferred_name", "Preferred name", None, {}),
    "discharge note": lambda w: (f"/participants/{w.person.id}/discharge", f"/participants/{w.person.id}/discharge",
                                 "note", "Note (optional)", None, {"reason": "completed"}),
    "group edit": lambda w: (f"/groups/{w.group.id}/edit", f"/groups/{w.group.id}/edit", "name", "Name", "save", {}),
    "group cancellation reason": lambda w: (
        f"/groups/{w.group.id}", f"/groups/{w.group.id}/cancellations", "cancel-reason", "Reason", "cancel-cancel_meetings",
        {"cancel-date": (w.today + timedelta(3)).isoformat(), "cancel-track": "RP"}),
    "meeting cancellation reason": lambda w: (
        _meeting(w, w.today + timedelta(2)), _meeting(w, w.today + timedelta(2)) + "/cancel", "reason", "Reason",
        None, {}),
    "group note": lambda w: (_meeting(w, w.today), _meeting(w, w.today) + "/attendance", "note",
                             "Group note (shared part, written once for everyone)", None, {}),
    "attendance row note": lambda w: (_meeting(w, w.today), _meeting(w, w.today) + "/attendance", "rows-0-note",
                                      "Note", None, {}),
    "family guest name": lambda w: (_meeting(w, w.today, "FE"), _meeting(w, w.today, "FE") + "/guests", "name",
                                    "Guest&#39;s first name", None, {"relationship": "sister"}),
    "curriculum module title": lambda w: (_module(w), _module(w), "title", "Title", None, {}),
    "curriculum outline row": lambda w: (_module(w), _module(w), "outline-0-activity", "What happens", None, {}),
    "program settings": lambda w: ("/programs/", "/programs/settings", "service_code", "Service code", None, {}),
    "program holiday": lambda w: ("/programs/", "/programs/holidays", "name", "Holiday", None,
                                  {"date": (w.today + timedelta(40)).isoformat()}),
    "drug test kind": lambda w: (f"/participants/{w.person.id}/tests", f"/participants/{w.person.id}/tests", "kind",
                                 "Kind of test", None, {"result": "negative"}),
    "status name": lambda w: ("/programs/", "/programs/statuses", "new-label", "Name", None, {}),
}
PLAIN = {"kind": "breath", "service_code": "H0016"}  # fields whose plain value is a choice or a code


@pytest.mark.parametrize("case", FORMS)
def test_the_plain_form_is_accepted(client, session, world, case):
    page, action, name, _label, submit, needed = FORMS[case](world)
    reply = browser_post(client, page, action, {**needed, name: PLAIN.get(name, "Plain text")}, submit)
    assert reply.status_code in (302, 303), (case, reply.status_code, reply.text[-3000:])


@pytest.mark.parametrize("char", ["\x00", "\x1b"], ids=["NUL", "ESC"])
@pytest.mark.parametrize("case", FORMS)
def test_a_control_character_in_any_form_field_is_refused_and_changes_nothing(client, session, world, case, char):
    page, action, name, label, submit, needed = FORMS[case](world)
    client.get(page)
    before = snapshot(session)
    reply = browser_post(client, page, action, {**needed, name: PLAIN.get(name, "Plain") + char + "text"}, submit)
    assert reply.status_code == 422, (case, reply.status_code)
    assert f"{label} {CONTROL_MESSAGE}" in reply.text, case
    assert snapshot(session) == before, case


def test_multi_line_text_keeps_tabs_and_line_breaks(client, session, world):
    url = _meeting(world, world.today)
    reply = browser_post(client, url, url + "/attendance", {"note": "Opened late.\r\n\tCheck-in went well."})
    assert reply.status_code == 302
    stored = session.scalar(select(Meeting.note).where(Meeting.group_id == world.group.id))
    assert stored == "Opened late.\r\n\tCheck-in went well."


def test_a_relapse_analysis_answer_with_a_control_character_is_refused(client, session, world):
    url = f"/participants/{world.person.id}/relapse-analyses/{world.analysis.id}"
    text_field = next(name for name, value in page_forms(client.get(url).text, url)[url] if name.startswith("ws-") and value == "")
    before = snapshot(session)
    reply = browser_post(client, url, url, {text_field: "I felt\x00 tired"}, "save")
    assert reply.status_code == 422
    assert "This answer contains an invisible control character" in reply.text
    assert snapshot(session) == before


@pytest.mark.parametrize("address,code", [
    ("/participants/?q=Rob\x00in", 400),  # the list's search: a NUL would reach the database as text
    ("/participants/?q=Rob\x1bin", 400),
    ("/participants/?status=active&q%00=x", 400),
    ("/reports/?start=2026-01-01\x00", 400),
    ("/api/groups/{gid}/calendar?from=2026-01-01%00", 400),
    ("/groups/{gid}/meetings/{day}/1830/RP%00", 404),
    ("/curricula/versions/{vid}/tracks/RP%1B", 404),
])
def test_a_control_character_in_an_address_is_a_clear_4xx(client, session, world, address, code):
    reply = client.get(address.format(gid=world.group.id, day=world.today.isoformat(), vid=world.draft.id))
    assert reply.status_code == code
    assert "invisible control character" in reply.text


def test_a_control_character_in_a_json_body_is_a_400_naming_the_key(client, world):
    reply = client.get(f"/api/groups/{world.group.id}/calendar", json={"note": "a\udc80b"})
    assert reply.status_code == 400
    assert reply.json["error"].startswith("The request contains an invisible control character")
    assert "\u201cnote\u201d" in reply.json["error"]


def test_signing_in_with_a_nul_in_the_email_is_refused(app, session):
    stranger = app.test_client()  # not signed in
    reply = browser_post(stranger, "/login", "/login", {"email": "someone\x00@example.org", "password": "x"})
    assert 400 <= reply.status_code < 500 and "Email " + CONTROL_MESSAGE in reply.text


# --- attendance before the meeting's day -------------------------------------------------------------

def _attendance_rows(session, group) -> int:
    return len(session.execute(select(Attendance.id).join(Meeting).where(Meeting.group_id == group.id)).all())


def test_the_page_of_a_future_meeting_says_when_attendance_opens_and_has_no_form(client, world):
    tomorrow = world.today + timedelta(1)
    page = client.get(_meeting(world, tomorrow)).text
    assert f"Attendance opens on {tomorrow:%A, %B} {tomorrow.day}, the day of the meeting." in page
    assert 'id="attendance-form"' not in page and "Robin" in page
    fe = client.get(_meeting(world, tomorrow, "FE")).text
    assert "Guests can be recorded from" in fe and "/guests" not in fe


def test_attendance_for_tomorrow_is_refused_and_changes_nothing(client, session, world):
    tomorrow = world.today + timedelta(1)
    today_page = _meeting(world, world.today)
    # A form from today's page, sent to tomorrow's meeting (the page of tomorrow has none to send).
    data = MultiDict(page_forms(client.get(today_page).text, today_page)[today_page + "/attendance"])
    before = snapshot(session)
    reply = client.post(_meeting(world, tomorrow) + "/attendance", data=data)
    assert reply.status_code == 422
    assert f"Attendance for this meeting opens on {tomorrow:%A, %B} {tomorrow.day}" in reply.text
    assert snapshot(session) == before
    assert session.scalar(select(Meeting.id).where(Meeting.group_id == world.group.id)) is None, "not marked held"


def test_a_guest_for_tomorrow_is_refused(client, session, world):
    tomorrow = world.today + timedelta(1)
    page = _meeting(world, world.today, "FE")
    data = MultiDict(page_forms(client.get(page).text, page)[page + "/guests"])
    data["name"] = "Maria"
    before = snapshot(session)
    reply = client.post(_meeting(world, tomorrow, "FE") + "/guests", data=data)
    assert reply.status_code == 422 and "Guests can be recorded from" in reply.text
    assert snapshot(session) == before


def test_the_service_refuses_a_future_meeting_whatever_calls_it(session, world):
    planned = meetings.find_planned(world.group, world.today + timedelta(1), "18:30", "RP")
    with pytest.raises(meetings.MeetingError, match="opens on"):
        meetings.save_attendance(world.group, planned, [meetings.AttendanceLine(world.person.id, "present", 90)],
                                 "", {}, world.director)
    assert _attendance_rows(session, world.group) == 0


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_the_day_is_the_program_s_own(client, session, world, zone):
    """UTC+14 and UTC-11 are never on the same date: each program records its own today and not its tomorrow."""
    world.program.timezone = zone
    session.flush()
    today = program_today(world.program)
    for day, accepted in ((today, True), (today + timedelta(1), False)):
        planned = meetings.find_planned(world.group, day, "18:30", "RP")
        lines = [meetings.AttendanceLine(world.person.id, "present", 90)]
        if accepted:
            meetings.save_attendance(world.group, planned, lines, "", {}, world.director)
        else:
            with pytest.raises(meetings.MeetingError, match="opens on"):
                meetings.save_attendance(world.group, planned, lines, "", {}, world.director)
    assert _attendance_rows(session, world.group) == 1
