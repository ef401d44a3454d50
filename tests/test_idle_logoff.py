"""Automatic logoff (HIPAA 164.312(a)(2)(iii)) on a frozen clock: the program's idle limit, the
12-hour limit, requests that are not activity, "stay signed in", and sessions ended at the next
request after deactivation."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlalchemy import select

from facilitator import clock
from facilitator.audit.models import AuditEvent

from .conftest import csrf_token, login


def timeouts(session, user) -> list[dict]:
    """The account's audited automatic logoffs (their detail)."""
    return list(session.scalars(select(AuditEvent.detail).where(AuditEvent.entity_id == user.id,
                                                                AuditEvent.action == "auth.timeout")))


def test_a_staff_session_survives_14_idle_minutes_and_ends_after_16(client, make_user, session):
    user = make_user("facilitator")
    with time_machine.travel(clock.utc_now(), tick=False) as traveller:
        login(client, user.email)
        page = client.get("/today")
        assert 'data-remaining-seconds="900"' in page.text  # the page's timer starts at 15 minutes
        traveller.shift(timedelta(minutes=14))
        assert client.get("/today").status_code == 200
        traveller.shift(timedelta(minutes=16))
        ended = client.get("/groups/")
        # read within the travel: a session cookie signed "in the future" is refused once the clock goes back
        assert "You were signed out after 15 minutes without activity." in client.get("/login").text
    assert ended.status_code == 302 and ended.headers["Location"].startswith("/login?next=/groups/")
    assert timeouts(session, user) == [{"limit": "idle", "minutes": 15}]
    assert client.get("/today").status_code == 302  # and it stays ended


def test_participants_follow_their_own_idle_setting(client, make_user, make_program, make_participant, session):
    program = make_program()
    program.idle_minutes_participant = 5
    user = make_user("participant", program=program, participant=make_participant(program))
    with time_machine.travel(clock.utc_now(), tick=False) as traveller:
        login(client, user.email)
        assert client.get("/me").status_code == 200
        traveller.shift(timedelta(minutes=6))
        assert client.get("/me").status_code == 302
        assert "You were signed out after 5 minutes without activity." in client.get("/login").text


def test_the_status_check_and_static_files_are_not_activity_but_stay_signed_in_is(client, make_user, session):
    user = make_user("facilitator")
    with time_machine.travel(clock.utc_now(), tick=False) as traveller:
        login(client, user.email)
        token = csrf_token(client.get("/today").text)  # what the page's script sends with "stay"
        traveller.shift(timedelta(minutes=10))
        status = client.get("/session/status", headers={"Accept": "application/json"})
        assert status.json == {"signed_in": True, "remaining": 300, "warn": 60}
        with client.get("/static/app.css") as stylesheet:
            assert stylesheet.status_code == 200
        stay_page = client.get("/session/status")
        assert stay_page.json["remaining"] == 300  # neither the check nor the stylesheet moved the limit

        traveller.shift(timedelta(minutes=4))
        stayed = client.post("/session/stay", headers={"X-CSRFToken": token, "Accept": "application/json"})
        assert stayed.status_code == 200 and stayed.json["remaining"] == 900

        traveller.shift(timedelta(minutes=14))  # 28 minutes after the last page, 14 after "stay"
        assert client.get("/session/status").json["remaining"] == 60
        traveller.shift(timedelta(minutes=2))
        expired = client.get("/session/status", headers={"Accept": "application/json"})
        assert "You were signed out after 15 minutes without activity." in client.get("/login").text
    assert expired.status_code == 401 and expired.json == {"signed_in": False, "login_url": "/login"}


def test_a_session_ends_after_12_hours_however_active(client, make_user, session):
    user = make_user("director")
    user.program.idle_minutes_staff = 60
    session.flush()
    with time_machine.travel(clock.utc_now(), tick=False) as traveller:
        login(client, user.email)
        for _ in range(14):  # a page every 50 minutes: 11 h 40 min
            traveller.shift(timedelta(minutes=50))
            assert client.get("/today").status_code == 200
        traveller.shift(timedelta(minutes=25))  # 12 h 5 min after signing in
        ended = client.get("/today")
        assert "you had been signed in for 12 hours" in client.get("/login").text
    assert ended.status_code == 302
    assert timeouts(session, user) == [{"limit": "absolute", "hours": 12}]


def test_deactivation_ends_an_open_session_at_the_next_request(client, make_user, session):
    user = make_user("facilitator")
    login(client, user.email)
    assert client.get("/today").status_code == 200
    user.active = False
    session.flush()
    ended = client.get("/today")
    assert ended.status_code == 302 and "/login" in ended.headers["Location"]
    assert "this account can no longer sign in" in client.get("/login").text
    user.active = True  # reactivated: the old session does not come back
    session.flush()
    assert client.get("/today").status_code == 302


def test_a_raised_epoch_ends_the_session_at_the_next_request(client, make_user, session):
    user = make_user("facilitator")
    login(client, user.email)
    user.session_epoch += 1  # what a director's "end sessions" or a password reset does
    session.flush()
    assert client.get("/today").status_code == 302
