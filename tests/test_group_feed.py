"""Subscribing to a group's calendar from a phone: a secret address that needs no sign-in, shows
meetings and topics and never a participant, and stops working once replaced."""

from __future__ import annotations

from sqlalchemy import select

from facilitator.audit.models import AuditEvent
from facilitator.groups.models import Group

from .conftest import csrf_token, login


def _share(client, group, replace: bool = False):
    page = client.get(f"/groups/{group.id}")
    data = {"csrf_token": csrf_token(page.text), **({"replace": "1"} if replace else {})}
    return client.post(f"/groups/{group.id}/feed", data=data)


def test_staff_share_a_feed_that_calendar_apps_read_without_signing_in(app, client, session, make_program,
                                                                      make_group, make_participant, make_user):
    program = make_program()
    group = make_group(program)
    make_participant(program, group, name="Jordan Avery")
    staff = make_user("facilitator", program)
    login(client, staff.email)
    assert "Make a subscription address" in client.get(f"/groups/{group.id}").text
    assert _share(client, group).status_code == 302
    token = session.get(Group, group.id).feed_token
    assert token and len(token) == 43
    page = client.get(f"/groups/{group.id}").text
    assert f"/calendars/{token}.ics" in page and "webcal://" in page
    feed = app.test_client().get(f"/calendars/{token}.ics")  # a calendar app: no cookies
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    assert "BEGIN:VEVENT" in feed.text and "SUMMARY:RP " in feed.text
    assert "Jordan" not in feed.text
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "group.feed_share")).one()
    assert event.entity_id == group.id and event.user_id == staff.id


def test_replacing_the_address_stops_the_old_one(app, client, session, make_program, make_group, make_user):
    program = make_program()
    group = make_group(program)
    login(client, make_user("director", program).email)
    _share(client, group)
    old = session.get(Group, group.id).feed_token
    _share(client, group, replace=True)
    new = session.get(Group, group.id).feed_token
    anonymous = app.test_client()
    assert new != old
    assert anonymous.get(f"/calendars/{old}.ics").status_code == 404
    assert anonymous.get(f"/calendars/{new}.ics").status_code == 200
    assert anonymous.get("/calendars/short.ics").status_code == 404
    assert anonymous.get(f"/calendars/{'x' * 43}.ics").status_code == 404


def test_only_staff_of_the_program_share_and_members_see_the_link_on_their_page(
        client, session, make_program, make_group, make_participant, make_user):
    program = make_program()
    group = make_group(program)
    person = make_participant(program, group)
    login(client, make_user("participant", program, participant=person).email)
    page = client.get("/me")
    assert "to my phone's calendar" not in page.text
    denied = client.post(f"/groups/{group.id}/feed", data={"csrf_token": csrf_token(page.text)})
    assert denied.status_code == 403 and session.get(Group, group.id).feed_token is None
    group.feed_token = "t" * 43
    session.flush()
    assert f"webcal://localhost/calendars/{'t' * 43}.ics" in client.get("/me").text


def test_another_program_s_staff_cannot_share_a_group(client, session, make_program, make_group, make_user):
    group = make_group(make_program())
    other = make_user("director", make_program())
    login(client, other.email)
    page = client.get("/today")
    assert client.post(f"/groups/{group.id}/feed", data={"csrf_token": csrf_token(page.text)}).status_code == 404
