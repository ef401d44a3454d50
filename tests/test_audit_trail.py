"""The audit trail a director reads: /audit filtered by person, participant, action and days (in the
program's zone), newest first, 50 a page, CSV and .xlsx downloads with the 42 CFR 2.32 notice (the
download audited); "Who opened this record" on the participant page; and rows that cannot change."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from facilitator import clock
from facilitator.audit.models import AuditEvent
from facilitator.extensions import db
from facilitator.programs.services import program_today
from facilitator.reports.exports import NOTICE, SHORT_NOTICE

from .conftest import login

ZONE = "Pacific/Auckland"  # far from UTC: a day filter that used UTC days would be off by half a day


def _event(program, action, *, user=None, participant=None, at=None, entity="participant", entity_id=None,
           address="10.0.0.1"):
    event = AuditEvent(action=action, entity=entity, entity_id=entity_id if entity_id is not None else
                       (participant.id if participant else None), user_id=user.id if user else None,
                       program_id=program.id, participant_id=participant.id if participant else None,
                       remote_addr=address, detail={}, at=at or clock.naive_utc_now())
    db.session.add(event)
    db.session.flush()
    return event


def _utc(local: datetime) -> datetime:
    return local.replace(tzinfo=ZoneInfo(ZONE)).astimezone(UTC).replace(tzinfo=None)


@pytest.fixture
def world(session, make_program, make_user, make_participant):
    """A program in Auckland with a director, two facilitators, two participants and events in it; and
    another program whose events must never show."""
    program = make_program("Harbour IOP")
    program.timezone = ZONE
    director = make_user("director", program)
    fay = make_user("facilitator", program)
    sam = make_user("facilitator", program)
    ana, ben = make_participant(program, name="Ana Secret"), make_participant(program, name="Ben Secret")
    elsewhere = make_program("Elsewhere")
    stranger = make_user("director", elsewhere)
    _event(elsewhere, "participant.view", user=stranger, participant=make_participant(elsewhere))
    db.session.flush()
    return {"program": program, "director": director, "fay": fay, "sam": sam, "ana": ana, "ben": ben,
            "today": program_today(program)}


def _trail(client, **query):
    return client.get("/audit", query_string=query)


def _actions(html: str) -> list[str]:
    return re.findall(r"<code>([^<]+)</code>", html)


def test_the_director_reads_the_trail_newest_first_with_record_numbers_not_names(client, world):
    w = world
    now = clock.naive_utc_now()
    _event(w["program"], "participant.view", user=w["fay"], participant=w["ana"], at=now - timedelta(hours=2))
    _event(w["program"], "attendance.save", user=w["sam"], participant=w["ben"], at=now - timedelta(hours=1),
           address="192.0.2.7")
    login(client, w["director"].email)
    page = _trail(client)
    assert page.status_code == 200
    html = page.text
    # Newest first: the director's own sign-in, then Sam's save, then Fay's view.
    assert _actions(html)[:3] == ["auth.login", "attendance.save", "participant.view"]
    assert w["ana"].record_number in html and w["ben"].record_number in html
    assert "Secret" not in html  # participants appear by record number only
    assert "192.0.2.7" in html and w["sam"].display_name in html
    assert "Elsewhere" not in html and _actions(html).count("participant.view") == 1  # no other program's events
    local = (now - timedelta(hours=1)).replace(tzinfo=UTC).astimezone(ZoneInfo(ZONE))
    assert local.strftime("%b %-d, %Y %-I:%M") in html  # shown on the program's clock


def test_only_directors_read_the_trail(client, world):
    login(client, world["fay"].email)
    assert client.get("/audit").status_code == 403
    assert client.get("/audit/export.csv").status_code == 403
    assert client.get("/audit/export.xlsx").status_code == 403


def test_filters_by_person_participant_action_and_days_in_the_programs_zone(client, world):
    w = world
    yesterday = w["today"] - timedelta(days=1)
    late_yesterday = _utc(datetime.combine(yesterday, datetime.min.time()) + timedelta(hours=23, minutes=30))
    early_today = _utc(datetime.combine(w["today"], datetime.min.time()) + timedelta(minutes=30))
    _event(w["program"], "participant.view", user=w["fay"], participant=w["ana"], at=late_yesterday)
    _event(w["program"], "participant.view", user=w["sam"], participant=w["ana"], at=early_today)
    _event(w["program"], "participant.update", user=w["fay"], participant=w["ben"], at=early_today)
    login(client, w["director"].email)

    by_fay = _trail(client, person=w["fay"].id)
    assert _actions(by_fay.text) == ["participant.update", "participant.view"]
    about_ana = _trail(client, participant=w["ana"].record_number)
    assert _actions(about_ana.text) == ["participant.view", "participant.view"]
    updates = _trail(client, action="participant.update")
    assert _actions(updates.text) == ["participant.update"]
    # 23:30 yesterday in Auckland is yesterday, though in UTC it is another day.
    day_before = _trail(client, start=yesterday.isoformat(), end=yesterday.isoformat(), participant=w["ana"].record_number)
    assert _actions(day_before.text) == ["participant.view"] and w["fay"].display_name in day_before.text
    assert w["sam"].display_name not in day_before.text.split("<tbody>")[1]
    both = _trail(client, person=w["sam"].id, participant=w["ana"].record_number, start=w["today"].isoformat())
    assert _actions(both.text) == ["participant.view"]
    assert "1 event" in both.text


@pytest.mark.parametrize("query, message", [
    ({"person": "999999"}, "Choose a person from the list."),
    ({"person": "abc"}, "Choose a person from the list."),
    ({"participant": "NOPE-1"}, "No participant of your program has the record number NOPE-1."),
    ({"action": "participant.delete_everything"}, "Choose an action from the list."),
    ({"start": "31/12/2026"}, "Enter the date as YYYY-MM-DD, for example 2026-01-01."),
    ({"end": "tomorrow"}, "Enter the date as YYYY-MM-DD, for example 2026-12-31."),
    ({"start": "2026-12-10", "end": "2026-12-01"}, "The last day comes before the first day."),
    ({"page": "0"}, "The page is a whole number from 1."),
    ({"page": "two"}, "The page is a whole number from 1."),
    ({"participant": "x" * 31}, "Field cannot be longer than 30 characters."),
])
def test_a_wrong_filter_gets_a_message_and_no_rows(client, world, query, message):
    w = world
    _event(w["program"], "participant.view", user=w["fay"], participant=w["ana"])
    login(client, w["director"].email)
    page = _trail(client, **query)
    assert page.status_code == 422
    assert message in page.text
    assert _actions(page.text) == []
    assert client.get("/audit/export.csv", query_string=query).status_code == 422


def test_another_programs_people_and_records_are_not_filters_here(client, world, make_program, make_user,
                                                                 make_participant):
    other = make_program("Other")
    outsider, theirs = make_user("facilitator", other), make_participant(other)
    login(client, world["director"].email)
    assert _trail(client, person=outsider.id).status_code == 422
    page = _trail(client, participant=theirs.record_number)
    assert page.status_code == 422 and "No participant of your program" in page.text


def test_fifty_a_page_newest_first(client, world):
    w = world
    start = clock.naive_utc_now() - timedelta(hours=3)
    for n in range(120):
        _event(w["program"], "participant.view", user=w["fay"], participant=w["ana"], entity="participant",
               entity_id=n, at=start + timedelta(seconds=n))
    login(client, w["director"].email)
    first = _trail(client, person=w["fay"].id)
    assert "120 events" in first.text and "page 1 of 3" in first.text
    assert first.text.count("<code>participant.view</code>") == 50
    assert re.findall(r"participant (\d+)</td>", first.text)[:2] == ["119", "118"]
    assert f'page=2&amp;person={w["fay"].id}' in first.text and "Newer events" not in first.text
    last = _trail(client, person=w["fay"].id, page=3)
    assert re.findall(r"participant (\d+)</td>", last.text) == [str(n) for n in range(19, -1, -1)]
    assert "Older events" not in last.text
    beyond = _trail(client, person=w["fay"].id, page=9)
    assert beyond.status_code == 200 and _actions(beyond.text) == []


def test_csv_download_of_the_filtered_trail_carries_the_notice_and_is_audited(client, world):
    w = world
    _event(w["program"], "participant.view", user=w["fay"], participant=w["ana"], address="198.51.100.4")
    _event(w["program"], "participant.view", user=w["sam"], participant=w["ben"])
    login(client, w["director"].email)
    response = client.get("/audit/export.csv", query_string={"person": w["fay"].id})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "confidential-42-CFR-part-2.csv" in response.headers["Content-Disposition"]
    table = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["person"], r["action"], r["record_number"], r["address"]) for r in table] == [
        (w["fay"].display_name, "participant.view", w["ana"].record_number, "198.51.100.4")]
    assert table[0]["notice"] == SHORT_NOTICE and table[0]["time_zone"] == ZONE
    assert "Secret" not in response.text
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "audit.export")).one()
    assert event.user_id == w["director"].id and event.program_id == w["program"].id
    assert event.detail["rows"] == 1 and event.detail["participant_ids"] == [w["ana"].id]
    assert event.detail["user_id"] == w["fay"].id and event.detail["format"] == "csv"


def test_xlsx_download_has_typed_times_and_the_notice_sheet(client, world):
    w = world
    _event(w["program"], "participant.view", user=w["fay"], participant=w["ana"])
    login(client, w["director"].email)
    response = client.get("/audit/export.xlsx", query_string={"participant": w["ana"].record_number})
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["when", "time_zone", "person"] and header[-1] == "notice"
    row = [c.value for c in sheet[2]]
    assert isinstance(row[0], datetime) and row[header.index("record_number")] == w["ana"].record_number
    notice = {r[0].value: r[1].value for r in book["Notice"].iter_rows()}
    assert notice["Notice"] == NOTICE and notice["Export"] == "Audit trail"
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "audit.export")) == 1


def test_who_opened_this_record_lists_the_last_90_days(client, world):
    w = world
    now = clock.naive_utc_now()
    for hours in (5, 3):
        _event(w["program"], "participant.view", user=w["fay"], participant=w["ana"], at=now - timedelta(hours=hours))
    _event(w["program"], "participant.view", user=w["sam"], participant=w["ana"], at=now - timedelta(days=120))
    _event(w["program"], "participant.view", user=w["sam"], participant=w["ben"], at=now - timedelta(hours=1))
    _event(w["program"], "meeting.roster_view", user=w["sam"], participant=w["ana"], at=now - timedelta(hours=1))
    login(client, w["director"].email)
    page = client.get(f"/participants/{w['ana'].id}")
    section = page.text.split('id="opened-heading"')[1]
    rows = re.findall(r"<tr><th scope=\"row\">(.*?) <span.*?<td>(.*?)</td>\s*<td>(\d+)</td>", section, re.S)
    # The director's own opening (this request) first, then Fay's two; Sam's is too old, or of Ben, or a roster.
    assert rows == [(w["director"].display_name, "Opened the participant page", "1"),
                    (w["fay"].display_name, "Opened the participant page", "2")]
    assert "Everything in the audit trail about" in section


def test_a_record_nobody_else_opened_says_so_to_a_facilitator(client, world):
    login(client, world["fay"].email)
    page = client.get(f"/participants/{world['ben'].id}")
    section = page.text.split('id="opened-heading"')[1]
    assert world["fay"].display_name in section  # this very opening
    assert "Everything in the audit trail" not in section  # the trail itself is for directors


def test_no_route_changes_an_audit_event(app):
    audit_routes = [r for r in app.url_map.iter_rules() if r.rule.startswith("/audit")]
    assert audit_routes and all(r.methods <= {"GET", "HEAD", "OPTIONS"} for r in audit_routes)


@pytest.mark.parametrize("statement", ["UPDATE audit_event SET action = 'x' WHERE id = :id",
                                       "DELETE FROM audit_event WHERE id = :id"])
def test_postgresql_refuses_to_change_or_delete_an_audit_row(session, world, statement):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the append-only trigger is PostgreSQL's (migration 0006); SQLite has no such trigger")
    event = _event(world["program"], "participant.view", user=world["fay"], participant=world["ana"])
    nested = session.begin_nested()
    with pytest.raises(DBAPIError, match="append-only|audit"):
        session.execute(text(statement), {"id": event.id})
    nested.rollback()
    assert session.get(AuditEvent, event.id).action == "participant.view"
