"""Two facilitators saving the same meeting's attendance from pages opened at the same time: the
later save is refused (409) and shows what the first one saved, instead of silently replacing it."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from facilitator.attendance.models import Attendance
from facilitator.groups.models import Meeting
from facilitator.meetings import services

from .conftest import login
from .test_bad_input import browser_post

MONDAY = date(2026, 10, 5)  # a past day whatever date the run is frozen at


@pytest.fixture
def setup(app, client, session, make_program, make_user, make_group, make_participant):
    """A group with three members, and two facilitators of the program signed in on two browsers."""
    program = make_program()
    group = make_group(program, start=MONDAY)
    people = [make_participant(program, group, admitted=date(2026, 9, 20), name=n) for n in ("Ana", "Ben", "Cy")]
    first, second = make_user("facilitator", program), make_user("facilitator", program)
    # Two people: each request starts with an empty g (tests/conftest.py `client`), so each client is its own.
    one, other = client, app.test_client()
    login(one, first.email)
    login(other, second.email)
    return group, people, (one, first), (other, second)


def _url(group) -> str:
    return f"/groups/{group.id}/meetings/{MONDAY.isoformat()}/1830/RP"


def _lines(people, statuses: dict[str, tuple[str, int, str]]) -> dict[str, str]:
    """Form fields for each person's (status, minutes, note), in the page's row order (Ana, Ben, Cy)."""
    fields = {}
    for i, person in enumerate(people):
        status, minutes, note = statuses.get(person.preferred_name, ("present", 90, ""))
        fields |= {f"rows-{i}-status": status, f"rows-{i}-minutes": str(minutes), f"rows-{i}-note": note}
    return fields


def _stored(session, group):
    """Everything a save writes: each attendance row and the meeting's note and version."""
    rows = session.execute(select(Attendance.participant_id, Attendance.status_id, Attendance.minutes,
                                  Attendance.note, Attendance.recorded_by_id, Attendance.recorded_at)
                           .join(Meeting).where(Meeting.group_id == group.id).order_by(Attendance.participant_id)).all()
    meeting = session.execute(select(Meeting.note, Meeting.attendance_version, Meeting.fidelity)
                              .where(Meeting.group_id == group.id)).one()
    return rows, tuple(meeting)


def test_the_later_save_is_refused_and_shows_what_changed(session, setup):
    group, people, (first_client, first), (second_client, _second) = setup
    url = _url(group)
    first_page, second_page = first_client.get(url).text, second_client.get(url).text  # both open the page
    saved = browser_post(first_client, url, url + "/attendance", {
        **_lines(people, {"Ben": ("late", 70, "Bus was late")}), "note": "Relapse triggers, good energy."},
        html=first_page)
    assert saved.status_code == 302
    before = _stored(session, group)

    refused = browser_post(second_client, url, url + "/attendance", {
        **_lines(people, {"Ana": ("absent", 0, ""), "Ben": ("present", 90, "")}), "note": "Quiet group."},
        html=second_page)

    assert refused.status_code == 409
    text = refused.text
    assert "Someone saved attendance for this meeting after you opened the page. Nothing you entered was saved" in text
    assert f"{first.display_name} saved attendance for this meeting at" in text
    table = text[text.index("People whose attendance differs"):text.index("</table>", text.index("conflict-table"))]
    assert "<th scope=\"row\">Ana</th>" in table and "Present, 90 min" in table and "Absent, 0 min" in table
    assert "Late, 70 min. Note: Bus was late" in table, "Ben: what is stored, with its note"
    assert "Cy" not in table, "Cy is the same in both: not a difference"
    assert "Relapse triggers, good energy." in text and "Quiet group." in text
    assert _stored(session, group) == before, "nothing changed"


def test_the_refused_form_keeps_what_was_typed_and_saving_it_again_applies_it(session, setup):
    group, people, (first_client, _first), (second_client, second) = setup
    url = _url(group)
    first_page, second_page = first_client.get(url).text, second_client.get(url).text
    assert browser_post(first_client, url, url + "/attendance", _lines(people, {}), html=first_page).status_code == 302
    mine = _lines(people, {"Ana": ("absent", 0, "")})
    refused = browser_post(second_client, url, url + "/attendance", mine, html=second_page)
    assert refused.status_code == 409
    again = browser_post(second_client, url, url + "/attendance", {}, html=refused.text)  # re-apply as shown
    assert again.status_code == 302
    ana = session.execute(select(Attendance).where(Attendance.participant_id == people[0].id)).scalar_one()
    assert (ana.status.code, ana.minutes, ana.recorded_by_id) == ("absent", 0, second.id)
    assert session.scalar(select(Meeting.attendance_version).where(Meeting.group_id == group.id)) == 2


def test_a_form_without_a_version_is_out_of_date_and_changes_nothing(session, setup):
    group, people, (client, _), _ = setup
    url = _url(group)
    reply = browser_post(client, url, url + "/attendance", {**_lines(people, {}), "version": ""})
    assert reply.status_code == 422
    assert "This page is out of date. Reload it and enter the attendance again." in reply.text
    assert session.scalar(select(Attendance.id).join(Meeting).where(Meeting.group_id == group.id)) is None


def test_two_saves_from_the_same_version_let_exactly_one_through(session, setup):
    group, people, (_, first), (_, second) = setup
    planned = services.find_planned(group, MONDAY, "18:30", "RP")
    services.save_attendance(group, planned, [services.AttendanceLine(people[0].id, "present", 90)], "", {}, first,
                             version=0)
    before = _stored(session, group)
    with pytest.raises(services.StaleAttendance):
        services.save_attendance(group, planned, [services.AttendanceLine(people[0].id, "absent", 0)], "", {},
                                 second, version=0)
    assert _stored(session, group) == before


def test_a_save_that_leaves_the_lines_as_they_were_keeps_their_recorder_and_is_still_named_as_the_last_save(
        session, setup):
    group, people, (first_client, _first), (second_client, second) = setup
    url = _url(group)
    assert browser_post(first_client, url, url + "/attendance", _lines(people, {}), html=first_client.get(url).text
                        ).status_code == 302

    def recorders():
        session.expire_all()
        return {row.participant_id: (row.recorded_by_id, row.recorded_at) for row in session.scalars(
            select(Attendance).join(Meeting).where(Meeting.group_id == group.id))}

    before = recorders()
    stale_page = first_client.get(url).text  # the first facilitator's page, opened before the second saves

    # The second facilitator adds the group note; every person's line is as it was.
    saved = browser_post(second_client, url, url + "/attendance", {**_lines(people, {}), "note": "Second look."},
                         html=second_client.get(url).text)
    assert saved.status_code == 302
    assert recorders() == before, "unchanged lines keep who recorded them, and when"

    refused = browser_post(first_client, url, url + "/attendance", _lines(people, {"Cy": ("absent", 0, "")}),
                           html=stale_page)
    assert refused.status_code == 409
    assert f"{second.display_name} saved attendance for this meeting at" in refused.text, \
        "the last save is named, though it changed no one's line"
