"""Cancellations (one group, a day, one track or all) and program holidays from the group page:
the effect shown before saving, the modules that move, refusals of bad input, who may do what."""

from __future__ import annotations

import re
from datetime import date, time

import pytest
from sqlalchemy import func, select

from facilitator.extensions import db
from facilitator.groups import calendars, views
from facilitator.groups.models import Cancellation, Meeting
from facilitator.programs.models import Holiday

from .conftest import csrf_token, login

START = date(2027, 1, 4)  # Mon: ERS 1, RP 1; Wed: FE 1, SS 1; Fri: ERS 2, RP 2; ...
TODAY = date(2027, 1, 20)  # Wednesday of the third week: FE 3 tonight, FE 4 next Wednesday


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setattr(views, "_today", lambda: TODAY)


@pytest.fixture
def setup(session, make_program, make_user, make_group):
    program = make_program()
    group = make_group(program, start=START)
    return program, group, make_user("director", program), make_user("facilitator", program)


def _cancel(client, group, day="2027-01-27", track="FE", reason="Staff training", button="cancel_meetings"):
    page = client.get(f"/groups/{group.id}")
    return client.post(f"/groups/{group.id}/cancellations", data={
        "cancel-csrf_token": csrf_token(page.text), "cancel-date": day, "cancel-track": track,
        "cancel-reason": reason, f"cancel-{button}": "x"})


def _holiday(client, group, day="2027-02-15", name="Presidents' Day", button="add_holiday"):
    page = client.get(f"/groups/{group.id}")
    return client.post(f"/groups/{group.id}/holidays", data={
        "holiday-csrf_token": csrf_token(page.text), "holiday-date": day, "holiday-name": name,
        f"holiday-{button}": "x"})


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_effect_of_a_cancellation_is_shown_before_anything_is_saved(client, setup):
    program, group, director, facilitator = setup
    login(client, facilitator.email)
    before = _count(Cancellation)
    page = _cancel(client, group, reason="", button="show_effect")
    assert page.status_code == 200
    assert "What this cancellation would change" in page.text
    assert "FE 4" in page.text and "moves to Wed Feb 3, 6:30 PM" in page.text
    assert "Nothing is saved yet" in page.text
    assert _count(Cancellation) == before


def test_a_facilitator_cancels_a_wednesday_fe_meeting_and_fe_moves_to_the_next_wednesday(client, setup):
    program, group, director, facilitator = setup
    login(client, facilitator.email)
    response = _cancel(client, group)
    assert response.status_code == 302
    row = db.session.scalar(select(Cancellation).where(Cancellation.group_id == group.id))
    assert (row.date, row.track_code, row.reason, row.created_by_id) == (date(2027, 1, 27), "FE", "Staff training",
                                                                          facilitator.id)
    page = client.get(response.headers["Location"])
    assert "Cancelled the FE meeting on Wed Jan 27. FE 4 moves to Wed Feb 3." in page.text
    assert "FE 4 moves to Wed Feb 3." in page.text and "Staff training" in page.text
    # SS meets at the same time on Wednesdays and is not touched
    calendar = calendars.group_calendar(group, date(2027, 2, 3))
    by_key = {(m.date, m.track): m for m in calendar.meetings}
    assert by_key[(date(2027, 1, 27), "FE")].status == "cancelled"
    assert by_key[(date(2027, 1, 27), "SS")].status == "held"
    assert by_key[(date(2027, 2, 3), "FE")].module == "FE 4"


def test_cancelling_every_track_of_a_day_moves_each_module(client, setup):
    program, group, director, facilitator = setup
    login(client, facilitator.email)
    page = _cancel(client, group, day="2027-01-25", track="", button="show_effect")
    assert "ERS 7" in page.text and "RP 7" in page.text
    assert _cancel(client, group, day="2027-01-25", track="").status_code == 302
    assert db.session.scalar(select(Cancellation.track_code).where(Cancellation.group_id == group.id)) is None


BAD_CANCELLATIONS = [
    ({"day": "27/01/2027x"}, "date", "Enter the date as YYYY-MM-DD"),
    ({"day": ""}, "date", "Enter the date as YYYY-MM-DD"),
    ({"day": "2026-12-30"}, "date", "The group starts on Mon Jan 4, 2027"),
    ({"day": "2027-01-18", "track": "RP"}, "date", "That day has passed"),
    ({"day": "2027-01-26"}, "date", "The group does not meet on Tuesdays. It meets on Mon, Wed and Fri."),
    ({"day": "2027-01-25", "track": "FE"}, "track", "The group has no FE meeting on Mondays."),
    ({"track": "IC"}, "track", "Choose a track this group meets for"),
    ({"track": "ZZ"}, "track", "Choose a track this group meets for"),
    ({"reason": ""}, "reason", "Say why"),
    ({"reason": "x" * 201}, "reason", "under 200 characters"),
]


@pytest.mark.parametrize("changes, field, message", BAD_CANCELLATIONS)
def test_bad_cancellations_are_refused_next_to_the_field(client, setup, changes, field, message):
    program, group, director, facilitator = setup
    login(client, facilitator.email)
    response = _cancel(client, group, **changes)
    assert response.status_code == 422
    assert f'id="cancel-{field}-error"' in response.text and message in response.text
    assert re.search(f'aria-describedby="([^"]* )?cancel-{field}-error"', response.text)
    assert _count(Cancellation) == 0


def test_a_cancellation_after_the_group_ends_is_refused(client, setup):
    program, group, director, facilitator = setup
    group.end_date = date(2027, 2, 26)
    login(client, facilitator.email)
    response = _cancel(client, group, day="2027-03-03")
    assert response.status_code == 422 and "The group ends on Fri Feb 26, 2027" in response.text


def test_a_day_already_cancelled_or_a_holiday_or_already_recorded_is_refused(client, setup):
    program, group, director, facilitator = setup
    login(client, facilitator.email)
    assert _cancel(client, group).status_code == 302
    again = _cancel(client, group)
    assert again.status_code == 422 and "The FE meeting on Wed Jan 27 is already cancelled." in again.text
    assert _cancel(client, group, day="2027-02-03", track="").status_code == 302
    covered = _cancel(client, group, day="2027-02-03", track="SS")
    assert covered.status_code == 422 and "Every meeting on Wed Feb 3 is already cancelled." in covered.text
    db.session.add(Holiday(program_id=program.id, date=date(2027, 2, 15), name="Presidents' Day"))
    holiday = _cancel(client, group, day="2027-02-15", track="")
    assert holiday.status_code == 422 and "is a program holiday (Presidents&#39; Day)" in holiday.text
    db.session.add(Meeting(group_id=group.id, date=TODAY, start_time=time(18, 30), track_code="FE", minutes=90,
                           status="held", module_id=calendars.module_ids(group.version_id)["FE 3"]))
    recorded = _cancel(client, group, day=TODAY.isoformat())
    assert recorded.status_code == 422 and "Attendance is already recorded for the FE meeting" in recorded.text
    assert _count(Cancellation) == 2


def test_a_cancellation_is_removed_and_the_module_comes_back(client, setup):
    program, group, director, facilitator = setup
    login(client, facilitator.email)
    _cancel(client, group)
    row = db.session.scalar(select(Cancellation))
    page = client.get(f"/groups/{group.id}")
    response = client.post(f"/groups/{group.id}/cancellations/{row.id}/remove", data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 302 and _count(Cancellation) == 0
    calendar = calendars.group_calendar(group, date(2027, 1, 27))
    assert [m.module for m in calendar.meetings if m.date == date(2027, 1, 27) and m.track == "FE"] == ["FE 4"]


def test_a_past_cancellation_stays_and_another_groups_is_not_found(client, setup, make_program, make_group):
    program, group, director, facilitator = setup
    past = Cancellation(group_id=group.id, date=date(2027, 1, 11), track_code=None, reason="Snow")
    other_group = make_group(make_program(), name="Elsewhere")
    theirs = Cancellation(group_id=other_group.id, date=date(2027, 1, 27), track_code=None, reason="x")
    db.session.add_all([past, theirs])
    db.session.flush()
    login(client, facilitator.email)
    token = csrf_token(client.get(f"/groups/{group.id}").text)
    kept = client.post(f"/groups/{group.id}/cancellations/{past.id}/remove", data={"csrf_token": token},
                       follow_redirects=True)
    assert "That day has passed; the cancellation is part of the record." in kept.text
    assert client.post(f"/groups/{group.id}/cancellations/{theirs.id}/remove",
                       data={"csrf_token": token}).status_code == 404
    assert client.post(f"/groups/{other_group.id}/cancellations", data={
        "cancel-csrf_token": token, "cancel-date": "2027-01-27", "cancel-cancel_meetings": "x"}).status_code == 404
    assert _count(Cancellation) == 2


def test_a_director_sees_which_modules_a_holiday_moves_in_every_group_then_adds_it(client, setup, make_group):
    program, group, director, facilitator = setup
    make_group(program, name="Second group", start=START)
    login(client, director.email)
    preview = _holiday(client, group, name="", button="show_effect")
    assert preview.status_code == 200 and "What this holiday would change" in preview.text
    assert preview.text.count("Second group") >= 2 and "ERS 5" in preview.text  # Mon Feb 15: ERS 13th -> ERS 5
    assert _count(Holiday) == 0
    response = _holiday(client, group)
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    assert "Presidents&#39; Day on Mon Feb 15 is a holiday for the whole program. 4 meetings cancelled." in page.text
    calendar = calendars.group_calendar(group, date(2027, 2, 15))
    assert {m.status for m in calendar.meetings if m.date == date(2027, 2, 15)} == {"cancelled"}


BAD_HOLIDAYS = [
    ({"day": "Feb 15"}, "date", "Enter the date as YYYY-MM-DD"),
    ({"day": "2027-01-19"}, "date", "Pick today or a later day"),
    ({"day": "2035-01-01"}, "date", "within the next three years"),
    ({"name": ""}, "name", "Name the holiday"),
    ({"name": "x" * 81}, "name", "under 80 characters"),
]


@pytest.mark.parametrize("changes, field, message", BAD_HOLIDAYS)
def test_bad_holidays_are_refused_next_to_the_field(client, setup, changes, field, message):
    program, group, director, facilitator = setup
    login(client, director.email)
    response = _holiday(client, group, **changes)
    assert response.status_code == 422
    assert f'id="holiday-{field}-error"' in response.text and message in response.text
    assert _count(Holiday) == 0


def test_a_second_holiday_on_the_same_day_is_refused(client, setup):
    program, group, director, facilitator = setup
    login(client, director.email)
    assert _holiday(client, group).status_code == 302
    again = _holiday(client, group, name="Another")
    assert again.status_code == 422 and "Mon Feb 15, 2027 is already a holiday (Presidents&#39; Day)." in again.text


def test_facilitators_cannot_edit_holidays(client, setup):
    program, group, director, facilitator = setup
    holiday = Holiday(program_id=program.id, date=date(2027, 2, 15), name="Presidents' Day")
    db.session.add(holiday)
    db.session.flush()
    login(client, facilitator.email)
    page = client.get(f"/groups/{group.id}")
    assert "Presidents&#39; Day" in page.text and "Add holiday" not in page.text
    assert _holiday(client, group, day="2027-05-31").status_code == 403
    token = csrf_token(page.text)
    assert client.post(f"/groups/{group.id}/holidays/{holiday.id}/remove", data={"csrf_token": token}).status_code == 403
    assert _count(Holiday) == 1


def test_a_director_removes_an_upcoming_holiday_but_not_a_past_one_or_another_programs(
        client, setup, make_program):
    program, group, director, facilitator = setup
    coming = Holiday(program_id=program.id, date=date(2027, 2, 15), name="Presidents' Day")
    past = Holiday(program_id=program.id, date=date(2027, 1, 18), name="MLK Day")
    theirs = Holiday(program_id=make_program().id, date=date(2027, 2, 15), name="Elsewhere")
    db.session.add_all([coming, past, theirs])
    db.session.flush()
    login(client, director.email)
    token = csrf_token(client.get(f"/groups/{group.id}").text)
    url = f"/groups/{group.id}/holidays/{{}}/remove"
    assert client.post(url.format(coming.id), data={"csrf_token": token}).status_code == 302
    kept = client.post(url.format(past.id), data={"csrf_token": token}, follow_redirects=True)
    assert "A past holiday is part of the record and stays." in kept.text
    assert client.post(url.format(theirs.id), data={"csrf_token": token}).status_code == 404
    assert sorted(h.name for h in db.session.scalars(select(Holiday))) == ["Elsewhere", "MLK Day"]


def test_changes_need_the_csrf_token(client, setup):
    program, group, director, facilitator = setup
    login(client, director.email)
    response = client.post(f"/groups/{group.id}/cancellations", data={
        "cancel-date": "2027-01-27", "cancel-track": "FE", "cancel-reason": "x", "cancel-cancel_meetings": "x"})
    assert response.status_code in (400, 422) and _count(Cancellation) == 0


def test_under_the_skip_policy_the_module_waits_for_its_next_turn(client, setup):
    program, group, director, facilitator = setup
    group.cancellation_policy = "skip"
    login(client, facilitator.email)
    preview = _cancel(client, group, button="show_effect")
    assert "FE 4" in preview.text and "is skipped; it comes round again on Wed Apr 21." in preview.text
    response = _cancel(client, group)
    page = client.get(response.headers["Location"])
    assert "FE 4 is skipped; it comes round again on Wed Apr 21." in page.text
    assert "FE 5" in _row_of(page.text, f'href="/groups/{group.id}/meetings/2027-02-03/1830/FE"')


def _row_of(text: str, needle: str) -> str:
    at = text.index(needle)
    return text[text.rindex("<tr", 0, at):text.index("</tr>", at)]
