"""The read-only JSON API: payloads, who may read what, JSON errors, audit events and query counts."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from facilitator.audit.models import AuditEvent
from facilitator.clinical.services import program_today
from facilitator.curricula.models import Module
from facilitator.groups.calendars import group_calendar
from facilitator.meetings import services as meetings
from facilitator.progress.models import Credit, MakeUp

from .conftest import csrf_token, login


@pytest.fixture
def setup(session, make_program, make_user, make_group, make_participant):
    """A group that started six weeks ago; Robin came to the first RP meeting and missed the second."""
    program = make_program()
    today = program_today(program.id)
    group = make_group(program, start=today - timedelta(weeks=6))
    admitted = today - timedelta(weeks=4)
    person = make_participant(program, group, admitted=admitted, name="Robin")
    user = make_user("facilitator", program)
    rp = [m for m in group_calendar(group, today).meetings if m.track == "RP" and admitted <= m.date < today]
    meetings.save_attendance(group, rp[0], [meetings.AttendanceLine(person.id, "present", 90)], "Note.", {}, user)
    meetings.save_attendance(group, rp[1], [meetings.AttendanceLine(person.id, "absent", 0)], "Note.", {}, user)
    session.flush()
    return program, group, person, user, today, rp


def _events(session, action):
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


# --- progress and plan -------------------------------------------------------------------------------------

def test_progress_lists_credits_with_dates_and_sources_and_the_weeks(client, setup, session):
    _, group, person, user, today, rp = setup
    login(client, user.email)
    response = client.get(f"/api/participants/{person.id}/progress")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    body = response.json
    assert body["participant"] == {"id": person.id, "preferred_name": "Robin", "initials": person.initials}
    assert body["group"] == {"id": group.id, "name": group.name}
    assert body["as_of"] == today.isoformat() and body["program_week"] == 5
    assert body["stay"] == {"admitted": (today - timedelta(weeks=4)).isoformat(), "discharged": None}
    track = next(t for t in body["tracks"] if t["track"] == "RP")
    assert track["name"] and track["required"] is True and track["scheduled"] is True
    assert track["credited"][0] == {
        "module": rp[0].module, "title": session.scalar(select(Module.title).where(
            Module.version_id == group.version_id, Module.code == rp[0].module)),
        "date": rp[0].date.isoformat(), "source": "attendance",
        "meeting": {"group_id": group.id, "date": rp[0].date.isoformat(), "time": "18:30"}, "reason": None}
    assert rp[1].module in track["missed"] and rp[1].module in track["missing"]
    assert track["completed_on"] is None and track["projected_completion"] > today.isoformat()
    week = body["weeks"][0]
    assert set(week) == {"week", "monday", "expected_minutes", "attended_minutes", "whole", "under_floor"}
    assert sum(w["attended_minutes"] for w in body["weeks"]) == 90
    assert body["hours_floor_minutes"] == 540 and body["completed_on"] is None
    assert body["projected_completion"] is not None
    [event] = _events(session, "api.progress.view")
    assert event.participant_id == person.id and event.user_id == user.id


def test_plan_suggests_where_to_make_up_a_missed_module_and_lists_planned_makeups(client, setup, session):
    _, group, person, user, today, rp = setup
    module = session.scalar(select(Module).where(Module.version_id == group.version_id, Module.code == rp[1].module))
    session.add(MakeUp(participant_id=person.id, module_id=module.id, method="homework",
                       planned_on=today + timedelta(days=2), assigned_by_id=user.id, note="Worksheet at home."))
    session.flush()
    login(client, user.email)
    body = client.get(f"/api/participants/{person.id}/plan").json
    missed = next(s for s in body["suggestions"] if s["module"] == rp[1].module)
    assert missed["missed"] is True and missed["individual"] is True and missed["track"] == "RP"
    assert missed["title"] == module.title
    assert missed["meetings"] and all(m["date"] > today.isoformat() for m in missed["meetings"])
    assert missed["meetings"][0]["group_id"] == group.id and missed["meetings"][0]["group"] == group.name
    assert body["planned_makeups"] == [{
        "id": session.scalar(select(MakeUp.id).where(MakeUp.participant_id == person.id)), "module": module.code,
        "title": module.title, "method": "homework", "group_id": None,
        "planned_on": (today + timedelta(days=2)).isoformat(), "note": "Worksheet at home."}]
    assert len(_events(session, "api.plan.view")) == 1


def test_a_participant_reads_only_their_own_progress_and_plan(client, setup, make_user, make_participant):
    program, group, person, _, today, _ = setup
    other = make_participant(program, group, admitted=today - timedelta(weeks=1))
    login(client, make_user("participant", program, participant=person).email)
    assert client.get(f"/api/participants/{person.id}/progress").status_code == 200
    assert client.get(f"/api/participants/{person.id}/plan").status_code == 200
    for url in (f"/api/participants/{other.id}/progress", f"/api/participants/{other.id}/plan"):
        response = client.get(url)
        assert response.status_code == 404
        assert response.json == {"error": "There is no such page, or it is not part of your program.", "status": 404}


def test_another_program_gets_404_and_no_data(client, setup, make_user, session):
    _, group, person, _, today, rp = setup
    login(client, make_user("director").email)
    for url in (f"/api/participants/{person.id}/progress", f"/api/participants/{person.id}/plan",
                f"/api/groups/{group.id}/calendar",
                f"/api/groups/{group.id}/meetings/{rp[0].date.isoformat()}/1830/RP/roster"):
        response = client.get(url)
        assert response.status_code == 404 and response.json["status"] == 404
        assert "Robin" not in response.text
    assert session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action.like("api.%"))) == 0


def test_without_a_session_the_api_answers_401_in_json(client, setup):
    _, _, person, _, _, _ = setup
    response = client.get(f"/api/participants/{person.id}/progress")
    assert response.status_code == 401
    assert response.json == {"error": "Sign in first: the API uses the same session as the web pages.", "status": 401}


def test_the_api_is_read_only(client, setup):
    _, group, person, user, _, _ = setup
    login(client, user.email)
    token = csrf_token(client.get("/today").text)
    for url in (f"/api/participants/{person.id}/progress", f"/api/groups/{group.id}/calendar"):
        response = client.post(url, data={"csrf_token": token})
        assert response.status_code == 405 and response.json["status"] == 405


def test_a_participant_never_admitted_has_an_empty_progress(client, setup, make_participant):
    program, _, _, user, _, _ = setup
    newcomer = make_participant(program)
    login(client, user.email)
    body = client.get(f"/api/participants/{newcomer.id}/progress").json
    assert body["stay"] is None and body["tracks"] == [] and body["group"] is None
    assert client.get(f"/api/participants/{newcomer.id}/plan").json["suggestions"] == []


# --- calendar ----------------------------------------------------------------------------------------------

def test_the_calendar_lists_meetings_with_status(client, setup):
    _, group, _, user, today, rp = setup
    login(client, user.email)
    start, end = rp[0].date, today + timedelta(days=6)
    body = client.get(f"/api/groups/{group.id}/calendar?from={start}&to={end}").json
    assert body["group"] == {"id": group.id, "name": group.name}
    assert (body["from"], body["to"]) == (start.isoformat(), end.isoformat())
    first = body["meetings"][0]
    assert set(first) == {"date", "time", "track", "module", "title", "minutes", "status", "reason"}
    held = [m for m in body["meetings"] if m["status"] == "held"]
    assert [(m["date"], m["track"]) for m in held] == [(rp[0].date.isoformat(), "RP"), (rp[1].date.isoformat(), "RP")]
    future = [m for m in body["meetings"] if m["date"] > today.isoformat()]
    assert future and all(m["status"] == "scheduled" for m in future)
    assert all(start.isoformat() <= m["date"] <= end.isoformat() for m in body["meetings"])


def test_the_calendar_defaults_to_the_next_four_weeks(client, setup):
    _, group, _, user, today, _ = setup
    login(client, user.email)
    body = client.get(f"/api/groups/{group.id}/calendar").json
    assert (body["from"], body["to"]) == (today.isoformat(), (today + timedelta(days=27)).isoformat())


@pytest.mark.parametrize("query,message", [
    ("from=2027-02-30", "from: not a date (YYYY-MM-DD): '2027-02-30'"),
    ("from=tomorrow", "from: not a date (YYYY-MM-DD): 'tomorrow'"),
    ("to=2027-1-5", "to: not a date (YYYY-MM-DD): '2027-1-5'"),
    ("from={today}&to={yesterday}", "to: {yesterday} is before from {today}"),
    ("from={today}&to={year_on}", "to: the range is 367 days; ask for at most 366"),
    ("from=1999-01-01&to=1999-01-31", "from: must be within 10 years of today"),
])
def test_bad_calendar_dates_answer_400_naming_the_parameter(client, setup, query, message):
    _, group, _, user, today, _ = setup
    values = {"today": today, "yesterday": today - timedelta(days=1), "year_on": today + timedelta(days=366)}
    login(client, user.email)
    response = client.get(f"/api/groups/{group.id}/calendar?{query.format(**values)}")
    assert response.status_code == 400
    assert response.json["status"] == 400 and response.json["error"].startswith(message.format(**values))


def test_a_participant_sees_only_their_own_groups_calendar(client, setup, make_user, make_group):
    program, group, person, _, today, _ = setup
    other_group = make_group(program, name="Morning group", start=today - timedelta(weeks=2))
    login(client, make_user("participant", program, participant=person).email)
    assert client.get(f"/api/groups/{group.id}/calendar").status_code == 200
    assert client.get(f"/api/groups/{other_group.id}/calendar").status_code == 404


# --- roster ------------------------------------------------------------------------------------------------

def _roster_url(group, day: date, at="1830", track="RP"):
    return f"/api/groups/{group.id}/meetings/{day.isoformat()}/{at}/{track}/roster"


def test_the_roster_lists_expected_people_with_week_and_repeat(client, setup, make_participant, session):
    program, group, person, user, today, _ = setup
    upcoming = [m for m in group_calendar(group, today + timedelta(weeks=4)).meetings
                if m.track == "RP" and m.date > today]
    newcomer = make_participant(program, group, admitted=upcoming[0].date, name="Sky")
    login(client, user.email)
    body = client.get(_roster_url(group, upcoming[0].date)).json
    assert body["meeting"]["track"] == "RP" and body["meeting"]["module"] == upcoming[0].module
    assert body["meeting"]["status"] == "scheduled" and body["meeting"]["title"]
    by_name = {e["preferred_name"]: e for e in body["expected"]}
    assert by_name["Sky"] == {"participant_id": newcomer.id, "preferred_name": "Sky", "initials": newcomer.initials,
                              "program_week": 1, "first_week": True, "repeat": False}
    assert by_name["Robin"]["program_week"] > 4 and by_name["Robin"]["first_week"] is False
    events = _events(session, "api.roster.view")
    assert {e.participant_id for e in events} == {person.id, newcomer.id}
    assert all(e.entity == "group" and e.entity_id == group.id for e in events)


def test_the_roster_says_when_the_module_is_a_repeat(client, setup, session):
    _, group, person, user, today, rp = setup
    # The next time the rotation delivers the module Robin was credited with, it is a repeat for Robin.
    later = [m for m in group_calendar(group, today + timedelta(weeks=40)).meetings
             if m.track == "RP" and m.module == rp[0].module and m.date > today]
    login(client, user.email)
    body = client.get(_roster_url(group, later[0].date)).json
    assert [e["repeat"] for e in body["expected"] if e["participant_id"] == person.id] == [True]


@pytest.mark.parametrize("day,at,track,status,message", [
    ("2027-02-30", "1830", "RP", 400, "date: not a date"),
    ("{monday}", "18h3", "RP", 400, "time: not a time (HHMM, e.g. 1830)"),
    ("{monday}", "2561", "RP", 400, "time: not a time"),
    ("{monday}", "1900", "RP", 404, "There is no such page"),
    ("{monday}", "1830", "XX", 404, "There is no such page"),
    ("2090-01-02", "1830", "RP", 400, "date: must be within 10 years of today"),
])
def test_a_bad_meeting_answers_with_a_json_error(client, setup, day, at, track, status, message):
    _, group, _, user, _, rp = setup
    login(client, user.email)
    day = day.format(monday=rp[0].date.isoformat())
    response = client.get(f"/api/groups/{group.id}/meetings/{day}/{at}/{track}/roster")
    assert response.status_code == status
    assert response.json["status"] == status and response.json["error"].startswith(message)


def test_a_participant_may_not_read_a_roster(client, setup, make_user):
    program, group, person, _, _, rp = setup
    login(client, make_user("participant", program, participant=person).email)
    response = client.get(_roster_url(group, rp[0].date))
    assert response.status_code == 403 and response.json["status"] == 403


# --- query counts ------------------------------------------------------------------------------------------

def test_the_roster_and_calendar_build_in_a_fixed_number_of_queries(client, setup, make_group, make_participant,
                                                                   make_user, count_queries):
    program, _, _, user, today, _ = setup
    counts = []
    login(client, user.email)
    for size in (5, 40):
        group = make_group(program, name=f"Group of {size}", start=today - timedelta(weeks=6))
        for i in range(size):
            make_participant(program, group, admitted=today - timedelta(days=3 * i % 40))
        upcoming = next(m for m in group_calendar(group, today + timedelta(weeks=2)).meetings
                        if m.track == "RP" and m.date > today)
        client.get(_roster_url(group, upcoming.date))  # warm the curriculum caches, as on a running server
        with count_queries() as roster:
            body = client.get(_roster_url(group, upcoming.date)).json
        assert len(body["expected"]) >= size - 2
        client.get(f"/api/groups/{group.id}/calendar")
        with count_queries() as calendar:
            client.get(f"/api/groups/{group.id}/calendar")
        counts.append((roster.count, calendar.count))
    assert counts[0] == counts[1], counts


def test_progress_builds_in_a_fixed_number_of_queries(client, setup, make_participant, count_queries):
    program, group, person, user, today, rp = setup
    login(client, user.email)
    client.get(f"/api/participants/{person.id}/progress")
    with count_queries() as few:
        client.get(f"/api/participants/{person.id}/progress")
    busy = make_participant(program, group, admitted=today - timedelta(weeks=4))
    lines = [meetings.AttendanceLine(busy.id, "present", 90)]
    for meeting in [m for m in group_calendar(group, today).meetings
                    if rp[0].date <= m.date < today and m.track in ("ERS", "RP")][:12]:
        meetings.save_attendance(group, meeting, lines, "Note.", {}, user)
    client.get(f"/api/participants/{busy.id}/progress")  # each request starts from a fresh session, as here
    with count_queries() as many:
        client.get(f"/api/participants/{busy.id}/progress")
    with count_queries() as plan:
        client.get(f"/api/participants/{busy.id}/plan")
    assert few.count == many.count and plan.count <= few.count + 6


def test_an_individual_session_credit_is_named_individual(client, setup, session):
    _, group, person, user, today, _ = setup
    ic1 = session.scalar(select(Module).where(Module.version_id == group.version_id, Module.code == "IC 1"))
    session.add(Credit(participant_id=person.id, module_id=ic1.id, source="individual", reason="Orientation",
                       credited_on=today - timedelta(days=20), created_by_id=user.id))
    session.flush()
    login(client, user.email)
    track = next(t for t in client.get(f"/api/participants/{person.id}/progress").json["tracks"] if t["track"] == "IC")
    assert track["scheduled"] is False
    assert [(c["module"], c["source"], c["meeting"], c["reason"]) for c in track["credited"]] == [
        ("IC 1", "individual", None, "Orientation")]
