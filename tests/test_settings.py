"""The program settings page: thresholds, hours floor, printing, billing codes, attendance statuses
(add, rename, flags, default, reorder, retire without breaking history) and holidays. Every bad input
is refused next to its field and changes nothing; only the program's directors may change anything;
another program's ids answer 404."""

from __future__ import annotations

import re
from datetime import date, time
from html import unescape

import pytest
from sqlalchemy import select

from facilitator.attendance.models import Attendance
from facilitator.audit.models import AuditEvent
from facilitator.extensions import db
from facilitator.groups.calendars import module_ids
from facilitator.groups.models import Meeting
from facilitator.programs import services, views
from facilitator.programs.models import AttendanceStatus, Holiday

from .conftest import csrf_token, login

TODAY = date(2027, 3, 10)
GOOD = {"absence_alert_consecutive": "3", "attendance_alert_rate": "80", "hours_floor": "6", "billable_minimum": "2.5",
        "service_code": "s9480", "revenue_code": "0905", "page_size": "a4", "signin_naming": "initials"}


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setattr(views, "_today", lambda: TODAY)


@pytest.fixture
def setup(session, make_program, make_user, make_group):
    program = make_program()
    director = make_user("director", program)
    return program, director, make_group(program, start=date(2027, 1, 4))


def post(client, url: str, data: dict):
    """POST a form of the settings page with its CSRF token."""
    token = csrf_token(client.get("/programs/").text)
    return client.post(url, data={**data, "csrf_token": token})


def error_of(html: str, field_id: str) -> str:
    """The message shown next to a field."""
    match = re.search(rf'id="{re.escape(field_id)}-error">([^<]*)<', html)
    assert match, f"no error next to {field_id}"
    return unescape(match.group(1))


def statuses(program) -> dict[str, AttendanceStatus]:
    """The program's statuses by code."""
    return {s.code: s for s in db.session.scalars(select(AttendanceStatus).where(
        AttendanceStatus.program_id == program.id))}


def test_the_page_shows_the_current_settings(client, setup):
    login(client, setup[1].email)
    page = client.get("/programs/")
    assert page.status_code == 200
    assert 'name="hours_floor" type="text" value="9"' in page.text
    assert 'name="billable_minimum" type="text" value="3"' in page.text
    assert 'value="H0015"' in page.text and 'value="0906"' in page.text
    assert "1. Present" in page.text and "default" in page.text and "Add a status" in page.text


def test_good_settings_are_saved_and_audited(client, setup):
    program, director, _ = setup
    login(client, director.email)
    response = post(client, "/programs/settings", GOOD)
    assert response.status_code == 302
    db.session.refresh(program)
    assert (program.absence_alert_consecutive, program.attendance_alert_rate, program.hours_floor_minutes,
            program.billable_minimum_minutes, program.service_code, program.revenue_code, program.page_size,
            program.signin_naming) == (3, 0.8, 360, 150, "S9480", "0905", "a4", "initials")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "program.settings"))
    assert set(event.detail["fields"]) == {"absence_alert_consecutive", "attendance_alert_rate",
                                           "hours_floor_minutes", "billable_minimum_minutes", "service_code",
                                           "revenue_code", "page_size", "signin_naming"}
    assert "Settings saved." in client.get("/programs/").text


BAD = [
    ("absence_alert_consecutive", "0", "Enter a whole number of absences from 1 to 20."),
    ("absence_alert_consecutive", "21", "Enter a whole number of absences from 1 to 20."),
    ("absence_alert_consecutive", "-1", "Enter a whole number of absences, for example 2."),
    ("absence_alert_consecutive", "2.5", "Enter a whole number of absences, for example 2."),
    ("absence_alert_consecutive", "", "Enter a whole number of absences, for example 2."),
    ("attendance_alert_rate", "101", "Enter a percentage from 0 to 100."),
    ("attendance_alert_rate", "-5", "Enter a percentage as a number, for example 75."),
    ("attendance_alert_rate", "most", "Enter a percentage as a number, for example 75."),
    ("hours_floor", "0", "Enter the weekly floor in hours, from 1 to 40"),
    ("hours_floor", "41", "Enter the weekly floor in hours, from 1 to 40"),
    ("hours_floor", "99999", "Enter a number of hours, for example 9."),
    ("hours_floor", "nine", "Enter a number of hours, for example 9."),
    ("billable_minimum", "13", "Enter the daily billable minimum in hours, from 0 to 12."),
    ("billable_minimum", "-3", "Enter a number of hours, for example 3."),
    ("billable_minimum", "3h", "Enter a number of hours, for example 3."),
    ("service_code", "", "Enter a HCPCS code"),
    ("service_code", "H001", "Enter a HCPCS code"),
    ("service_code", "HH015", "Enter a HCPCS code"),
    ("service_code", "H0015=1", "Enter a HCPCS code"),
    ("revenue_code", "906", "Enter a 4-digit revenue code, like 0906."),
    ("revenue_code", "09066", "Enter a 4-digit revenue code, like 0906."),
    ("revenue_code", "09a6", "Enter a 4-digit revenue code, like 0906."),
    ("page_size", "legal", "Choose Letter or A4."),
    ("page_size", "", "Choose Letter or A4."),
    ("signin_naming", "full_name", "Choose preferred names or initials."),
]


@pytest.mark.parametrize("field, value, message", BAD)
def test_every_bad_setting_is_refused_next_to_its_field_and_changes_nothing(client, setup, field, value, message):
    program, director, _ = setup
    login(client, director.email)
    before = services.settings_of(program)
    response = post(client, "/programs/settings", {**GOOD, field: value})
    assert response.status_code == 422
    assert error_of(response.text, field).startswith(message)
    assert 'aria-invalid="true"' in response.text or field in ("page_size", "signin_naming")
    db.session.refresh(program)
    assert services.settings_of(program) == before
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "program.settings")) is None


def test_a_status_is_added_at_the_end_with_a_code_from_its_name(client, setup):
    program, director, _ = setup
    login(client, director.email)
    response = post(client, "/programs/statuses", {"new-label": "Telehealth", "new-counts_attended": "y",
                                                   "new-counts_hours": "y", "new-billable": "y"})
    assert response.status_code == 302
    added = statuses(program)["telehealth"]
    assert (added.label, added.counts_attended, added.counts_hours, added.billable, added.excused) == (
        "Telehealth", True, True, True, False)
    assert added.position == 5 and not services.is_retired(added)
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "status.add"))


@pytest.mark.parametrize("data, field, message", [
    ({"new-label": ""}, "new-label", "Name the status"),
    ({"new-label": "  "}, "new-label", "Name the status"),
    ({"new-label": "x" * 41}, "new-label", "Keep the name to 40 characters or fewer."),
    ({"new-label": "present"}, "new-label", "There is already a status called present."),
    ({"new-label": "Both", "new-counts_attended": "y", "new-excused": "y"}, "new-excused",
     "A status is either attended or an excused absence, not both."),
    ({"new-label": "Hours", "new-counts_hours": "y"}, "new-counts_hours",
     "Only a status that counts as attended can count toward hours or be billable."),
    ({"new-label": "Bill", "new-billable": "y"}, "new-billable",
     "Only a status that counts as attended can count toward hours or be billable."),
])
def test_a_bad_new_status_is_refused_next_to_its_field(client, setup, data, field, message):
    program, director, _ = setup
    login(client, director.email)
    response = post(client, "/programs/statuses", data)
    assert response.status_code == 422
    assert error_of(response.text, field).startswith(message)
    assert len(statuses(program)) == 5


def test_no_more_than_twenty_statuses(client, setup):
    program, director, _ = setup
    for n in range(15):
        db.session.add(AttendanceStatus(program_id=program.id, code=f"extra{n}", label=f"Extra {n}", position=5 + n))
    db.session.flush()
    login(client, director.email)
    response = post(client, "/programs/statuses", {"new-label": "One too many"})
    assert response.status_code == 422 and "at most 20 statuses" in error_of(response.text, "new-label")


def test_renaming_keeps_the_code_and_the_attendance_that_uses_it(client, setup, make_participant):
    program, director, group = setup
    late = statuses(program)["late"]
    person = make_participant(program, group)
    meeting = Meeting(group_id=group.id, date=date(2027, 1, 4), start_time=time(18, 30), track_code="RP", minutes=90,
                      status="held", module_id=module_ids(group.version_id)["RP 1"])
    db.session.add(meeting)
    db.session.flush()
    db.session.add(Attendance(meeting_id=meeting.id, participant_id=person.id, status_id=late.id, minutes=70,
                              recorded_by_id=director.id))
    db.session.flush()
    login(client, director.email)
    prefix = f"status-{late.id}"
    response = post(client, f"/programs/statuses/{late.id}", {f"{prefix}-label": "Arrived late",
                                                              f"{prefix}-counts_attended": "y",
                                                              f"{prefix}-counts_hours": "y"})
    assert response.status_code == 302
    db.session.refresh(late)
    assert (late.code, late.label, late.billable) == ("late", "Arrived late", False)
    assert db.session.scalar(select(Attendance.status_id).where(Attendance.participant_id == person.id)) == late.id


def test_the_default_moves_and_cannot_be_left_empty(client, setup):
    program, director, _ = setup
    login(client, director.email)
    found = statuses(program)
    present, absent = found["present"], found["absent"]
    prefix = f"status-{present.id}"
    response = post(client, f"/programs/statuses/{present.id}", {f"{prefix}-label": "Present",
                                                                 f"{prefix}-counts_attended": "y"})
    assert response.status_code == 422
    assert error_of(response.text, f"{prefix}-is_default").startswith("One status must be the default.")
    prefix = f"status-{absent.id}"
    assert post(client, f"/programs/statuses/{absent.id}", {f"{prefix}-label": "Absent",
                                                            f"{prefix}-is_default": "y"}).status_code == 302
    db.session.refresh(present)
    db.session.refresh(absent)
    assert absent.is_default and not present.is_default


def test_at_least_one_offered_status_counts_as_attended(setup):
    program, director, _ = setup
    found = statuses(program)
    for code in ("late", "left_early"):
        services.update_status(program, found[code], services.StatusFlags(found[code].label), director)
    with pytest.raises(services.SettingsRefused) as refused:
        services.update_status(program, found["present"], services.StatusFlags("Present", is_default=True), director)
    assert refused.value.problems == {"counts_attended": "At least one offered status must count as attended."}


def test_statuses_move_up_and_down(client, setup):
    program, director, _ = setup
    login(client, director.email)
    found = statuses(program)
    assert post(client, f"/programs/statuses/{found['absent'].id}/up", {}).status_code == 302
    assert post(client, f"/programs/statuses/{found['present'].id}/down", {}).status_code == 302
    order = [s.code for s in services.active_statuses(program.id)]
    assert order == ["late", "present", "left_early", "absent", "excused"]
    assert post(client, f"/programs/statuses/{found['late'].id}/up", {}).status_code == 302  # already first
    assert [s.code for s in services.active_statuses(program.id)] == order
    assert post(client, f"/programs/statuses/{found['late'].id}/sideways", {}).status_code == 404


def test_a_status_in_use_is_retired_never_deleted_and_can_be_offered_again(client, setup, make_participant):
    program, director, group = setup
    found = statuses(program)
    person = make_participant(program, group)
    meeting = Meeting(group_id=group.id, date=date(2027, 1, 4), start_time=time(18, 30), track_code="RP", minutes=90,
                      status="held", module_id=module_ids(group.version_id)["RP 1"])
    db.session.add(meeting)
    db.session.flush()
    db.session.add(Attendance(meeting_id=meeting.id, participant_id=person.id, status_id=found["left_early"].id,
                              minutes=60, recorded_by_id=director.id))
    db.session.flush()
    login(client, director.email)
    assert post(client, f"/programs/statuses/{found['left_early'].id}/retire", {}).status_code == 302
    assert post(client, f"/programs/statuses/{found['excused'].id}/retire", {}).status_code == 302
    now = statuses(program)
    assert "excused" not in now  # never used: removed
    assert services.is_retired(now["left_early"])  # used: kept for the record, not offered
    assert [s.code for s in services.active_statuses(program.id)] == ["present", "late", "absent"]
    assert db.session.scalar(select(Attendance.status_id).where(Attendance.participant_id == person.id)) == \
        found["left_early"].id
    page = client.get("/programs/").text
    assert "Retired statuses" in page and "Offer again" in page
    assert {e.action for e in db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("status.%")))} == {
        "status.retire", "status.delete"}
    assert post(client, f"/programs/statuses/{found['left_early'].id}/restore", {}).status_code == 302
    assert [s.code for s in services.active_statuses(program.id)] == ["present", "late", "absent", "left_early"]


def test_the_default_and_the_last_attended_status_cannot_be_retired(client, setup):
    program, director, _ = setup
    found = statuses(program)
    login(client, director.email)
    response = post(client, f"/programs/statuses/{found['present'].id}/retire", {})
    assert response.status_code == 422 and "is the default" in response.text
    for code in ("late", "left_early"):
        services.retire_status(program, found[code], director)
    services.update_status(program, found["absent"], services.StatusFlags("Absent", is_default=True), director)
    response = post(client, f"/programs/statuses/{found['present'].id}/retire", {})
    assert response.status_code == 422 and "At least one offered status must count as attended." in response.text
    assert not services.is_retired(found["present"])


def test_holidays_are_added_and_removed(client, setup):
    program, director, _ = setup
    login(client, director.email)
    response = post(client, "/programs/holidays", {"date": "2027-05-31", "name": "Memorial Day"})
    assert response.status_code == 302
    holiday = db.session.scalar(select(Holiday).where(Holiday.program_id == program.id))
    assert (holiday.date, holiday.name) == (date(2027, 5, 31), "Memorial Day")
    page = client.get("/programs/").text
    assert "Memorial Day on Mon May 31, 2027 is a holiday for the whole program." in page
    assert post(client, f"/programs/holidays/{holiday.id}/remove", {}).status_code == 302
    assert db.session.scalar(select(Holiday).where(Holiday.program_id == program.id)) is None


@pytest.mark.parametrize("data, field, message", [
    ({"date": "05/31/27", "name": "Memorial Day"}, "date", "Enter the date as YYYY-MM-DD"),
    ({"date": "", "name": "Memorial Day"}, "date", "Enter the date as YYYY-MM-DD"),
    ({"date": "2027-03-01", "name": "Too late"}, "date", "Pick today or a later day"),
    ({"date": "2031-01-01", "name": "Far away"}, "date", "Pick a day within the next three years."),
    ({"date": "2027-05-31", "name": ""}, "name", "Name the holiday"),
    ({"date": "2027-05-31", "name": "x" * 81}, "name", "Keep the name to 80 characters or fewer."),
    ({"date": "2027-12-25", "name": "Christmas again"}, "date", "Sat Dec 25, 2027 is already a holiday (Christmas)."),
])
def test_a_bad_holiday_is_refused_next_to_its_field(client, setup, data, field, message):
    program, director, _ = setup
    db.session.add(Holiday(program_id=program.id, date=date(2027, 12, 25), name="Christmas"))
    db.session.flush()
    login(client, director.email)
    response = post(client, "/programs/holidays", data)
    assert response.status_code == 422
    assert error_of(response.text, field).startswith(message)
    assert db.session.scalar(select(Holiday.id).where(Holiday.program_id == program.id, Holiday.name != "Christmas")) \
        is None


def test_a_past_holiday_stays(client, setup):
    program, director, _ = setup
    past = Holiday(program_id=program.id, date=date(2027, 1, 18), name="Martin Luther King Jr. Day")
    db.session.add(past)
    db.session.flush()
    login(client, director.email)
    response = post(client, f"/programs/holidays/{past.id}/remove", {})
    assert response.status_code == 302
    assert "A past holiday is part of the record and stays." in client.get("/programs/").text
    assert db.session.get(Holiday, past.id) is not None


def test_facilitators_may_not_see_or_change_settings(client, setup, make_user):
    program, director, _ = setup
    facilitator = make_user("facilitator", program)
    present = statuses(program)["present"]
    login(client, facilitator.email)
    assert client.get("/programs/").status_code == 403
    token = csrf_token(client.get("/groups/").text)  # the sign-out form of any page carries one
    for url, data in (("/programs/settings", GOOD), ("/programs/statuses", {"new-label": "X"}),
                      (f"/programs/statuses/{present.id}", {}), (f"/programs/statuses/{present.id}/retire", {}),
                      ("/programs/holidays", {"date": "2027-05-31", "name": "Memorial Day"})):
        assert client.post(url, data={**data, "csrf_token": token}).status_code == 403
    db.session.refresh(program)
    assert program.hours_floor_minutes == 540 and len(statuses(program)) == 5


def test_another_programs_statuses_and_holidays_answer_404(client, setup, make_program):
    program, director, _ = setup
    other = make_program()
    theirs = statuses(other)["late"]
    holiday = Holiday(program_id=other.id, date=date(2027, 5, 31), name="Memorial Day")
    db.session.add(holiday)
    db.session.flush()
    login(client, director.email)
    for url, data in ((f"/programs/statuses/{theirs.id}", {f"status-{theirs.id}-label": "Mine now"}),
                      (f"/programs/statuses/{theirs.id}/up", {}), (f"/programs/statuses/{theirs.id}/retire", {}),
                      (f"/programs/statuses/{theirs.id}/restore", {}), (f"/programs/holidays/{holiday.id}/remove", {})):
        assert post(client, url, data).status_code == 404, url
    db.session.refresh(theirs)
    assert theirs.label == "Late" and db.session.get(Holiday, holiday.id) is not None
