"""A participant's own corner: /me lists each meeting's worksheets with three ways in (print blank, print
with my name, fill in on screen) and shows times as staff pages do; a private calendar feed of their own
meetings at a replaceable secret address; and the download of their records as PDF and JSON, audited."""

from __future__ import annotations

import io
import json
import re
import subprocess
from datetime import timedelta
from urllib.parse import quote

import pypdf
import pytest
from sqlalchemy import select

from facilitator import clock
from facilitator.audit.models import AuditEvent
from facilitator.auth.models import User
from facilitator.clinical import services as clinical
from facilitator.curricula.models import Worksheet
from facilitator.extensions import db
from facilitator.groups.calendars import group_calendar
from facilitator.participants.models import Participant
from facilitator.progress import services as progress
from facilitator.workbook.models import WorksheetAnswer

from .conftest import csrf_token, login
from .test_participants_support import hold_meetings, monday_weeks_ago, world_fixture  # noqa: F401

TODAY = clock.today()


@pytest.fixture
def pair(world, make_participant, make_user):
    """Two participants of one program in different groups, each with a portal sign-in; three weeks of
    held meetings in each group (one absence for the first), so both have a past and a schedule."""
    jordan = make_participant(world.program, world.evening, admitted=monday_weeks_ago(3), name="Jordan Avery")
    casey = make_participant(world.program, world.morning, admitted=monday_weeks_ago(3), name="Casey Lindqvist")
    yesterday = TODAY - timedelta(days=1)
    first_missed = []

    def absent(person, meeting):
        if person.id == jordan.id and not first_missed and meeting.date >= TODAY - timedelta(days=6):
            first_missed.append(meeting)
            return True
        return False

    hold_meetings(world.evening, world.facilitator, [jordan], yesterday, absent)
    hold_meetings(world.morning, world.facilitator, [casey], yesterday)
    accounts = (make_user("participant", world.program, participant=jordan),
                make_user("participant", world.program, participant=casey))
    return jordan, casey, accounts, first_missed[0] if first_missed else None


def _me(client, account) -> str:
    login(client, account.email)
    page = client.get("/me")
    assert page.status_code == 200
    return page.text


# --- /me: worksheets of every meeting, three actions, times as on staff pages ---------------------------------

def test_me_lists_each_meeting_s_worksheets_with_three_actions(client, world, pair):
    jordan, _, (account, _), missed = pair
    text = _me(client, account)
    upcoming = [m for m in group_calendar(world.evening, TODAY + timedelta(days=14)).meetings
                if TODAY <= m.date and m.held and m.module]
    module = next(m.module for m in upcoming if db.session.scalar(
        select(Worksheet.id).join(Worksheet.module).where(Worksheet.version_id == world.evening.version_id,
                                                          Worksheet.module.has(code=m.module))))
    sheet = db.session.scalars(select(Worksheet).where(Worksheet.version_id == world.evening.version_id)
                               .join(Worksheet.module).where(Worksheet.module.has(code=module))
                               .order_by(Worksheet.position)).first()
    path = f"/documents/worksheet/{quote(sheet.code)}.pdf"
    assert re.search(rf'href="{re.escape(path)}\?[^"]*curriculum=matrix-16', text), "print blank"
    named = re.search(rf'href="({re.escape(path)}\?[^"]*participant={jordan.id}[^"]*)"', text)
    assert named, "print with my name"
    assert f'href="/me/worksheets/{quote(sheet.code)}"' in text, "fill in on screen"
    assert "Print blank" in text and "Print with my name" in text and "Fill in on screen" in text
    # The past four weeks are there too, with the missed meeting marked and its worksheets offered.
    assert "My meetings, the past four weeks" in text and "Absent" in text
    if missed is not None and missed.module:
        assert f"<span class=\"track\">{missed.module}</span>" in text
    # Both links print: blank, and with the participant's name on it.
    blank_url = re.search(rf'href="({re.escape(path)}\?[^"]*)"', text).group(1).replace("&amp;", "&")
    blank = client.get(blank_url)
    assert blank.status_code == 200 and blank.mimetype == "application/pdf"
    mine = client.get(named.group(1).replace("&amp;", "&"))
    assert mine.status_code == 200 and "Jordan" in pypdf.PdfReader(io.BytesIO(mine.data)).pages[0].extract_text()


def test_me_shows_times_as_staff_pages_do(client, world, pair):
    _, _, (account, _), _ = pair
    text = _me(client, account)
    main = text.split("<main", 1)[1]
    assert re.search(r"\d{1,2}:\d\d [AP]M", main), "5:30 PM, as on the group pages"
    assert not re.search(r"\b(1[3-9]|2[0-3]):[0-5]\d\b", main), "no 24-hour clock times such as 17:30"


def test_me_shows_where_my_answers_stand(client, world, pair):
    jordan, _, (account, _), _ = pair
    module = next(m.module for m in group_calendar(world.evening, TODAY + timedelta(days=14)).meetings
                  if TODAY <= m.date and m.held and m.module)
    sheet = db.session.scalars(select(Worksheet).where(Worksheet.version_id == world.evening.version_id,
                                                       Worksheet.module.has(code=module))).first()
    if sheet is None:
        pytest.skip("the next module has no worksheet")
    db.session.add(WorksheetAnswer(participant_id=jordan.id, worksheet_id=sheet.id, status="draft",
                                   answers={"x": "y"}, comment=""))
    db.session.flush()
    text = _me(client, account)
    assert "Draft saved" in text and "Go on filling in" in text


def test_me_costs_the_same_queries_with_a_long_history(client, world, make_group, make_participant, make_user,
                                                      count_queries):
    counts = []
    for weeks in (1, 11):
        group = make_group(world.program, f"Group of {weeks} weeks", start=monday_weeks_ago(weeks))
        person = make_participant(world.program, group, admitted=monday_weeks_ago(weeks))
        hold_meetings(group, world.facilitator, [person], TODAY - timedelta(days=1),
                      absent=lambda p, m: m.date.day % 3 == 0)
        login(client, make_user("participant", world.program, participant=person).email)
        assert client.get("/me").status_code == 200
        db.session.expire_all()
        with count_queries() as counter:
            page = client.get("/me")
        assert page.status_code == 200 and "My meetings, the past four weeks" in page.text
        counts.append(counter.count)
        client.post("/logout", data={"csrf_token": csrf_token(page.text)})
    assert abs(counts[1] - counts[0]) <= 1, counts


# --- the private calendar feed ------------------------------------------------------------------------------

def _make_feed(client, replace: bool = False):
    page = client.get("/me")
    data = {"csrf_token": csrf_token(page.text), **({"replace": "1"} if replace else {})}
    return client.post("/me/calendar", data=data)


def test_the_private_feed_holds_only_my_own_meetings_and_no_one_s_name(app, client, session, world, pair):
    jordan, casey, (account, _), _ = pair
    login(client, account.email)
    assert "Make my calendar address" in client.get("/me").text
    assert _make_feed(client).status_code == 302
    token = session.get(Participant, jordan.id).feed_token
    assert token and len(token) == 43
    assert f"webcal://localhost/calendars/mine/{token}.ics" in client.get("/me").text
    feed = app.test_client().get(f"/calendars/mine/{token}.ics")  # a calendar app: no cookies
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    body = feed.text
    assert body.count("BEGIN:VEVENT") > 10 and "SUMMARY:RP " in body
    assert f"me-{world.evening.id}-" in body and f"me-{world.morning.id}-" not in body
    assert "Morning group" not in body, "another participant's group meetings are absent"
    for name in ("Jordan", "Avery", "Casey", "Lindqvist", world.facilitator.display_name,
                 world.director.display_name):
        assert name not in body
    # Only meetings from the day Jordan joined: none of the group's earlier weeks.
    starts = re.findall(r"DTSTART;TZID=[^:]+:(\d{8})", body)
    assert min(starts) >= monday_weeks_ago(3).strftime("%Y%m%d")
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "participant.feed_share")).one()
    assert event.participant_id == jordan.id and event.user_id == account.id
    read = session.scalars(select(AuditEvent).where(AuditEvent.action == "participant.feed_read")).all()
    assert [r.participant_id for r in read] == [jordan.id] and read[0].user_id is None


def test_a_make_up_at_another_group_is_in_my_feed(app, client, session, world, pair):
    jordan, _, (account, _), _ = pair
    meeting = next(m for m in group_calendar(world.morning, TODAY + timedelta(days=14)).meetings
                   if m.date > TODAY and m.held and m.module and m.track == "RP")
    progress.assign_makeup(jordan, meeting.module, "other_group", world.morning.id, meeting.date, "", world.facilitator,
                           TODAY)
    login(client, account.email)
    _make_feed(client)
    body = app.test_client().get(f"/calendars/mine/{session.get(Participant, jordan.id).feed_token}.ics").text
    assert f"SUMMARY:Make-up: {meeting.module}" in body
    assert f"DTSTART;TZID={world.program.timezone}:{meeting.date:%Y%m%d}T{meeting.time.replace(':', '')}00" in body
    # One to one: a whole-day entry on the planned day (no time is set for it).
    plan = progress.progress_for([jordan], TODAY)[jordan.id].progress
    later = next(code for track in plan.tracks if track.scheduled for code in track.missing if code != meeting.module)
    progress.assign_makeup(jordan, later, "individual", None, TODAY + timedelta(days=3), "", world.facilitator,
                           TODAY)
    body = app.test_client().get(f"/calendars/mine/{session.get(Participant, jordan.id).feed_token}.ics").text
    assert f"DTSTART;VALUE=DATE:{TODAY + timedelta(days=3):%Y%m%d}" in body
    assert f"SUMMARY:Make-up: {later}" in body


def test_replacing_my_address_stops_the_old_one_and_bad_addresses_are_404(app, client, session, pair):
    jordan, _, (account, _), _ = pair
    login(client, account.email)
    _make_feed(client)
    old = session.get(Participant, jordan.id).feed_token
    assert _make_feed(client, replace=True).status_code == 302
    new = session.get(Participant, jordan.id).feed_token
    anonymous = app.test_client()
    assert new != old
    assert anonymous.get(f"/calendars/mine/{old}.ics").status_code == 404
    assert anonymous.get(f"/calendars/mine/{new}.ics").status_code == 200
    for bad in ("short", "x" * 43, "x" * 44, new[:-1], new.upper() if new.upper() != new else new.lower()):
        assert anonymous.get(f"/calendars/mine/{bad}.ics").status_code == 404, bad
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.participant_id == jordan.id,
                                                             AuditEvent.action.like("participant.feed_%"))
                              .order_by(AuditEvent.id)).all()
    assert actions[:2] == ["participant.feed_share", "participant.feed_replace"]
    # Portal access removed: the address stops too.
    session.get(User, account.id).active = False
    session.flush()
    assert anonymous.get(f"/calendars/mine/{new}.ics").status_code == 404


def test_staff_stop_a_participant_s_address(app, client, session, world, pair, make_program, make_user):
    jordan, _, (account, _), _ = pair
    login(client, account.email)
    _make_feed(client)
    token = session.get(Participant, jordan.id).feed_token
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/me").text)})
    stranger = make_user("director", make_program())
    login(client, stranger.email)
    page = client.get("/today")
    assert client.post(f"/participants/{jordan.id}/calendar/remove",
                       data={"csrf_token": csrf_token(page.text)}).status_code == 404
    client.post("/logout", data={"csrf_token": csrf_token(page.text)})
    login(client, world.facilitator.email)
    page = client.get(f"/participants/{jordan.id}")
    assert "Stop the calendar address" in page.text
    done = client.post(f"/participants/{jordan.id}/calendar/remove", data={"csrf_token": csrf_token(page.text)})
    assert done.status_code == 303
    assert session.get(Participant, jordan.id).feed_token is None
    assert app.test_client().get(f"/calendars/mine/{token}.ics").status_code == 404
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "participant.feed_remove")).one()
    assert event.participant_id == jordan.id and event.user_id == world.facilitator.id
    assert "Stop the calendar address" not in client.get(f"/participants/{jordan.id}").text


def test_only_the_participant_makes_their_address(client, session, world, pair):
    jordan, _, _, _ = pair
    login(client, world.facilitator.email)
    page = client.get("/today")
    assert client.post("/me/calendar", data={"csrf_token": csrf_token(page.text)}).status_code == 404
    assert session.get(Participant, jordan.id).feed_token is None


# --- download my records ------------------------------------------------------------------------------------

@pytest.fixture
def records_world(world, pair):
    """Jordan's records: attendance (from the pair), a test, a make-up and a reviewed worksheet."""
    jordan, casey, accounts, missed = pair
    clinical.record_test(jordan, collected_on=TODAY - timedelta(days=2), kind="urine", result="negative",
                         substances=[], observed=True, user=world.facilitator, today=TODAY)
    clinical.record_test(casey, collected_on=TODAY - timedelta(days=2), kind="breath", result="dilute",
                         substances=[], observed=False, user=world.facilitator, today=TODAY)
    recorded = clinical.record_report(jordan, occurred_on=TODAY - timedelta(days=4), opened_by="craving",
                                      user=world.facilitator, today=TODAY)
    sheet_ra = clinical.analysis_worksheet(world.evening.version_id)
    first_field = next(f for f in sheet_ra.fields if f.type in ("text", "lines"))
    recorded.analysis.answers = {first_field.id: "Payday and old friends"}
    if missed is not None and missed.module:
        progress.assign_makeup(jordan, missed.module, "homework", None, None, "Private staff note",
                               world.facilitator, TODAY)
    sheet = db.session.scalars(select(Worksheet).where(Worksheet.version_id == world.evening.version_id)
                               .order_by(Worksheet.id)).first()
    field = next(f for f in sheet.fields if f["type"] in ("text", "lines"))
    now = clock.utc_now().replace(tzinfo=None)
    db.session.add(WorksheetAnswer(participant_id=jordan.id, worksheet_id=sheet.id, status="reviewed",
                                   answers={field["id"]: "I call my sponsor at six"}, submitted_at=now,
                                   reviewed_at=now, reviewed_by_id=world.facilitator.id,
                                   comment="Good plan, keep it up"))
    db.session.flush()
    return jordan, casey, accounts, sheet


def test_my_records_as_json(client, session, world, records_world):
    jordan, casey, (account, _), sheet = records_world
    login(client, account.email)
    response = client.get("/me/records.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    assert "confidential-42-CFR-part-2" in response.headers["Content-Disposition"]
    data = json.loads(response.data)
    assert list(data)[0] == "notice" and "42 CFR" in data["notice"]
    assert data["participant"]["preferred_name"] == "Jordan Avery"
    assert data["stays"][0]["group"] == "Evening group"
    tracks = {t["code"]: t for t in data["progress"]["tracks"]}
    assert tracks["RP"]["credited"] > 0 and tracks["RP"]["total"] == len(tracks["RP"]["modules"])
    assert data["attendance"] and {a["group"] for a in data["attendance"]} == {"Evening group"}
    assert any(a["status"] == "Absent" for a in data["attendance"])
    assert re.fullmatch(r"\d{1,2}:\d\d [AP]M", data["attendance"][0]["time"])
    assert [(t["kind"], t["result"], t["observed"]) for t in data["drug_tests"]] == [("Urine", "Negative", True)]
    assert all("note" not in m for m in data["makeups"])
    analysis = data["relapse_analyses"][0]
    assert analysis["opened_by"] == "Strong craving" and analysis["status"] == "Open"
    assert "Payday and old friends" in [a["answer"] for a in analysis["answers"]]
    answered = data["worksheets"][0]
    assert answered["code"] == sheet.code and answered["status"] == "Reviewed"
    assert answered["counselor_comment"] == "Good plan, keep it up"
    assert "I call my sponsor at six" in [a["answer"] for a in answered["answers"]]
    text = response.data.decode()
    for other in ("Casey", "Lindqvist", "Dilute", "Private staff note", "Morning group"):
        assert other not in text
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "participant.records_download")).one()
    assert event.participant_id == jordan.id and event.user_id == account.id and event.detail == {"format": "json"}


def test_my_records_as_a_pdf(client, session, tmp_path, world, records_world):
    jordan, _, (account, _), sheet = records_world
    login(client, account.email)
    response = client.get("/me/records.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    pdf = tmp_path / "records.pdf"
    pdf.write_bytes(response.data)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    flat = " ".join(text.split())
    assert "My records" in flat and "Jordan Avery" in flat
    assert "42 CFR part 2 prohibits further disclosure" in flat
    assert flat.count("Confidential (42 CFR 2.32)") >= len(pypdf.PdfReader(io.BytesIO(response.data)).pages)
    assert "Evening group" in flat and "Negative" in flat and "Absent" in flat
    assert "I call my sponsor at six" in flat and "Good plan, keep it up" in flat and sheet.code in flat
    assert "My relapse analyses" in flat and "Payday and old friends" in flat
    assert "Casey" not in flat and "Private staff note" not in flat
    reader = pypdf.PdfReader(io.BytesIO(response.data))
    assert "/StructTreeRoot" in reader.trailer["/Root"], "tagged for screen readers"
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "participant.records_download")).one()
    assert event.participant_id == jordan.id and event.detail == {"format": "pdf"}


def test_records_are_only_ever_my_own(client, session, world, records_world):
    jordan, casey, (_, casey_account), _ = records_world
    login(client, casey_account.email)
    data = json.loads(client.get("/me/records.json").data)
    assert data["participant"]["preferred_name"] == "Casey Lindqvist"
    assert "Jordan" not in json.dumps(data) and data["worksheets"] == []
    assert client.get(f"/me/records.json?participant={jordan.id}").status_code == 200  # no way to ask for another
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/me").text)})
    login(client, world.facilitator.email)
    assert client.get("/me/records.json").status_code == 404
    assert client.get("/me/records.pdf").status_code == 404
    assert not session.scalars(select(AuditEvent).where(AuditEvent.action == "participant.records_download",
                                                        AuditEvent.participant_id == jordan.id)).all()


def test_answers_read_back_in_words():
    from facilitator.domain.curriculum import Field
    from facilitator.portal.answers import answered_fields

    fields = (Field(id="intro", type="note", text="Read this first."),
              Field(id="when", type="checklist", label="When I feel bored", items=("Evenings", "Weekends"), other=True),
              Field(id="rate", type="scale", label="How bored", min=0, max=10),
              Field(id="plan", type="table", label="New things", columns=("Activity", "Cost"), rows=2),
              Field(id="steps", type="sequence", label="What happened", steps=("Trigger", "Thought")))
    answers = {"when": {"checked": ["Evenings"], "other": "Sundays"}, "rate": 7,
               "plan": {"r2_c1": "Basketball", "r2_c2": "Free"}, "steps": {"s2": "Just one"}}
    got = {a["field"]: a["answer"] for a in answered_fields(fields, answers)}
    assert got == {"when": "Evenings; Other: Sundays", "rate": "7 (on a scale from 0 to 10)",
                   "plan": "Row 2: Activity: Basketball, Cost: Free", "steps": "Thought: Just one"}
