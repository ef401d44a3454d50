"""Creating and editing groups (directors): the form, Preview then Save, refusals of bad input next to
the field, and a pattern change of a running group that leaves recorded history as it was."""

from __future__ import annotations

import re
from datetime import date, datetime, time

import pytest
from sqlalchemy import func, select

from facilitator.attendance.models import Attendance
from facilitator.audit.models import AuditEvent
from facilitator.curricula.models import Curriculum, CurriculumVersion
from facilitator.extensions import db
from facilitator.groups import calendars, services, views
from facilitator.groups.models import Group, Meeting
from facilitator.programs.models import AttendanceStatus
from facilitator.progress.services import progress_for

from .conftest import csrf_token, login

TODAY = date(2027, 1, 20)  # a Wednesday
MWF = [("mon", "17:30", "ERS", "50"), ("mon", "18:30", "RP", "90"), ("wed", "18:30", "FE", "90"),
       ("wed", "18:30", "SS", "90"), ("fri", "17:30", "ERS", "50"), ("fri", "18:30", "RP", "90")]


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setattr(views, "_today", lambda: TODAY)


@pytest.fixture
def setup(session, make_program, make_user, matrix16):
    program = make_program()
    return program, make_user("director", program), make_user("facilitator", program), matrix16


def _data(stored_version, slots=MWF, **fields) -> dict:
    data = {"name": "Tuesday evening", "version": str(stored_version.id), "mode": "open", "start_date": "2027-02-01",
            "cancellation_policy": "postpone", "facilitator": "", "start_ERS": "ERS 1", "start_RP": "RP 1",
            "start_FE": "FE 1"}
    for i, (day, at, track, minutes) in enumerate(slots):
        data.update({f"slots-{i}-weekday": day, f"slots-{i}-time": at, f"slots-{i}-track": track,
                     f"slots-{i}-minutes": minutes})
    data.update(fields)
    return data


def _post(client, url, data, button="save"):
    token = csrf_token(client.get(url).text)
    return client.post(url, data={**data, "csrf_token": token, button: "x"})


def _groups() -> int:
    return db.session.scalar(select(func.count()).select_from(Group))


def test_the_new_group_form_starts_from_the_versions_suggested_pattern(client, setup):
    program, director, facilitator, version = setup
    login(client, director.email)
    page = client.get("/groups/new")
    assert page.status_code == 200
    assert '<option selected value="mon">Monday</option>' in page.text
    assert 'name="slots-5-time" type="time" value="18:30"' in page.text
    assert 'name="slots-7-weekday"' in page.text and 'name="slots-8-weekday"' not in page.text  # two blank rows
    assert '<option value="IC' not in page.text and '<option value="RA' not in page.text  # not on a pattern
    assert "Relapse Prevention (RP) starts at" in page.text
    assert "Add another meeting" in page.text


def test_preview_shows_the_next_four_weeks_and_saves_nothing(client, setup):
    program, director, facilitator, version = setup
    login(client, director.email)
    response = _post(client, "/groups/new", _data(version, start_date="2027-01-25"), button="preview")
    assert response.status_code == 200
    text = response.text
    assert "Preview: the next 4 weeks under these settings" in text
    assert "Mon Jan 25" in text and "<strong>ERS 1</strong> Stop the Cycle" in text
    assert "Wed Feb 17" in text and "Wed Feb 24" not in text  # four weeks from today
    assert "Save these settings" in text
    assert _groups() == 0


def test_a_director_creates_a_group(client, setup):
    program, director, facilitator, version = setup
    login(client, director.email)
    data = _data(version, start_RP="RP 12", facilitator=str(facilitator.id))
    response = _post(client, "/groups/new", data)
    assert response.status_code == 302
    group = db.session.scalar(select(Group).where(Group.program_id == program.id))
    assert response.headers["Location"].endswith(f"/groups/{group.id}")
    assert (group.name, group.mode, group.start_date, group.facilitator_id) == (
        "Tuesday evening", "open", date(2027, 2, 1), facilitator.id)
    assert group.starting_modules == {"RP": "RP 12"}  # module 1 is the default and is not stored
    assert services.pattern_words(calendars.group_spec(group).slots).startswith("Mon 5:30 PM ERS 50 min")
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.entity_id == group.id,
                                                             AuditEvent.entity == "group")) == "group.create"
    page = client.get(response.headers["Location"])
    assert "Tuesday evening created." in page.text


def test_a_cohort_starts_every_track_at_module_one(client, setup):
    program, director, facilitator, version = setup
    login(client, director.email)
    assert _post(client, "/groups/new", _data(version, mode="cohort", start_RP="RP 12")).status_code == 302
    assert db.session.scalar(select(Group.starting_modules).where(Group.program_id == program.id)) == {}


def test_add_another_meeting_adds_a_row_and_saves_nothing(client, setup):
    program, director, facilitator, version = setup
    login(client, director.email)
    response = _post(client, "/groups/new", _data(version), button="add_row")
    assert response.status_code == 200 and 'name="slots-7-weekday"' in response.text
    assert _groups() == 0


def _blank(slots):
    return [("", "", "", "")] * len(slots)


BAD_INPUT = [
    ({"slots": _blank(MWF)}, "pattern", "Add at least one meeting to the weekly pattern."),
    ({"slots": [("mon", "17:30", "ERS", "0")]}, "slots-0-minutes", "Enter between 1 and 480 minutes."),
    ({"slots": [("mon", "17:30", "ERS", "-5")]}, "slots-0-minutes", "Enter between 1 and 480 minutes."),
    ({"slots": [("mon", "17:30", "ERS", "481")]}, "slots-0-minutes", "Enter between 1 and 480 minutes."),
    ({"slots": [("mon", "17:30", "ERS", "ninety")]}, "slots-0-minutes", "Enter the minutes as a whole number"),
    ({"slots": [("mon", "17:30", "IC", "50")]}, "slots-0-track", "IC sessions are booked one by one"),
    ({"slots": [("mon", "17:30", "RA", "50")]}, "slots-0-track", "RA sessions are booked one by one"),
    ({"slots": [("mon", "17:30", "XX", "50")]}, "slots-0-track", "Choose a track of"),
    ({"slots": [("mon", "17:30", "ERS", "50"), ("mon", "17:30", "ERS", "60")]}, "slots-1-track",
     "Meeting 1 is already ERS at this day and time."),
    ({"slots": [("someday", "17:30", "ERS", "50")]}, "slots-0-weekday", "Choose a day."),
    ({"slots": [("mon", "25:99", "ERS", "50")]}, "slots-0-time", "Enter a time like 18:30."),
    ({"slots": [("mon", "17:30", "", "50")]}, "slots-0-track", "Choose a track."),
    ({"start_date": "2027-02-30"}, "start_date", "Enter the date as YYYY-MM-DD"),
    ({"start_date": "next monday"}, "start_date", "Enter the date as YYYY-MM-DD"),
    ({"start_date": "2024-01-01"}, "start_date", "more than a year ago"),
    ({"start_date": "2031-01-06"}, "start_date", "within the next two years"),
    ({"start_RP": "RP 40"}, "start_RP", "RP 40 is not a module of RP (RP 1 to RP 32)."),
    ({"start_FE": "RP 3"}, "start_FE", "RP 3 is not a module of FE"),
    ({"name": "  "}, "name", "Give the group a name"),
    ({"name": "x" * 81}, "name", "under 80 characters"),
    ({"mode": "sometimes"}, "mode", "Choose open or cohort."),
    ({"cancellation_policy": "ignore"}, "cancellation_policy", "Choose what happens"),
    ({"version": "abc"}, "version", "Choose a curriculum version."),
]


@pytest.mark.parametrize("changes, field, message", BAD_INPUT)
def test_bad_input_is_refused_next_to_the_field(client, setup, changes, field, message):
    program, director, facilitator, version = setup
    login(client, director.email)
    changes = dict(changes)
    slots = changes.pop("slots", MWF)
    response = _post(client, "/groups/new", _data(version, slots=slots, **changes))
    assert response.status_code == 422
    assert message in response.text
    if field != "pattern":
        assert f'id="{field}-error"' in response.text
        assert re.search(f'aria-describedby="([^"]* )?{field}-error"', response.text) and 'aria-invalid="true"' in response.text
    assert "Nothing was saved" in response.text
    assert _groups() == 0


def test_a_duplicate_name_in_the_program_is_refused_but_another_program_may_use_it(
        client, setup, make_group, make_program):
    program, director, facilitator, version = setup
    make_group(program, name="Evening IOP")
    make_group(make_program(), name="Morning IOP")
    login(client, director.email)
    response = _post(client, "/groups/new", _data(version, name="evening iop"))
    assert response.status_code == 422 and "Another group of this program is already called evening iop." in response.text
    assert _post(client, "/groups/new", _data(version, name="Morning IOP")).status_code == 302


def test_versions_and_facilitators_of_other_programs_and_drafts_are_refused(client, setup, make_program, make_user):
    program, director, facilitator, version = setup
    other = make_program()
    stranger = make_user("facilitator", other)
    theirs = Curriculum(program_id=other.id, name="theirs", title="Their curriculum")
    draft = Curriculum(program_id=program.id, name="ours", title="Our draft")
    db.session.add_all([theirs, draft])
    db.session.flush()
    versions = [CurriculumVersion(curriculum_id=theirs.id, number=1, label="1", title="Theirs", status="published",
                                  published_at=datetime(2026, 1, 1), content_hash="a"),
                CurriculumVersion(curriculum_id=draft.id, number=1, label="1", title="Ours", status="draft",
                                  content_hash="b")]
    db.session.add_all(versions)
    db.session.flush()
    login(client, director.email)
    page = client.get("/groups/new").text
    assert "Their curriculum" not in page and "Ours (version" not in page
    for refused in versions:
        response = _post(client, "/groups/new", _data(version, version=str(refused.id)))
        assert response.status_code == 422 and "Choose a published curriculum version." in response.text
    response = _post(client, "/groups/new", _data(version, facilitator=str(stranger.id)))
    assert response.status_code == 422 and "Choose a director or facilitator of this program." in response.text
    assert _groups() == 0


@pytest.mark.parametrize("method", ["get", "post"])
def test_facilitators_may_not_create_or_edit_groups(client, setup, make_group, method):
    program, director, facilitator, version = setup
    group = make_group(program)
    login(client, facilitator.email)
    token = csrf_token(client.get(f"/groups/{group.id}").text)
    for url in ("/groups/new", f"/groups/{group.id}/edit"):
        if method == "get":
            assert client.get(url).status_code == 403
        else:
            assert client.post(url, data={**_data(version), "csrf_token": token, "save": "x"}).status_code == 403
    assert _groups() == 1
    assert "Edit group" not in client.get(f"/groups/{group.id}").text


def test_another_programs_group_cannot_be_edited(client, setup, make_group, make_program):
    program, director, facilitator, version = setup
    theirs = make_group(make_program(), name="Theirs")
    login(client, director.email)
    token = csrf_token(client.get("/groups/new").text)
    response = client.post(f"/groups/{theirs.id}/edit", data={**_data(version, name="Mine now"),
                                                              "csrf_token": token, "save": "x"})
    assert response.status_code == 404
    assert db.session.get(Group, theirs.id).name == "Theirs"


# --- A running group: only the future is re-planned ----------------------------------------------

START = date(2027, 1, 4)
THU = [row if row[2] != "FE" else ("thu", "18:30", "FE", "90") for row in MWF]


def _record(group, person, user, day, at, track, module, status):
    status_id = db.session.scalar(select(AttendanceStatus.id).where(
        AttendanceStatus.program_id == group.program_id, AttendanceStatus.code == status))
    meeting = Meeting(group_id=group.id, date=day, start_time=time.fromisoformat(at), track_code=track,
                      minutes=90, status="held", module_id=calendars.module_ids(group.version_id)[module])
    db.session.add(meeting)
    db.session.flush()
    db.session.add(Attendance(meeting_id=meeting.id, participant_id=person.id, status_id=status_id,
                              minutes=90 if status == "present" else 0, recorded_by_id=user.id))
    db.session.flush()
    return meeting


@pytest.fixture
def running(setup, make_group, make_participant):
    program, director, facilitator, version = setup
    group = make_group(program, name="Evening IOP", start=START)
    person = make_participant(program, group, admitted=START)
    _record(group, person, facilitator, date(2027, 1, 4), "18:30", "RP", "RP 1", "present")
    _record(group, person, facilitator, date(2027, 1, 6), "18:30", "FE", "FE 1", "present")
    _record(group, person, facilitator, date(2027, 1, 13), "18:30", "FE", "FE 2", "absent")
    return group, person


def _progress(person, as_of):
    db.session.expire_all()
    progress = progress_for([person], as_of)[person.id].progress
    return ({t.track: (t.credited, t.missed) for t in progress.tracks},
            [(w.week, w.expected, w.attended) for w in progress.weeks])


def test_preview_of_a_running_group_shows_which_upcoming_meetings_change(client, setup, running):
    program, director, facilitator, version = setup
    group, _ = running
    login(client, director.email)
    response = _post(client, f"/groups/{group.id}/edit", _data(version, slots=THU, name=group.name,
                                                               start_date="2027-01-04"), button="preview")
    assert response.status_code == 200
    text = response.text
    assert "What changes" in text
    # tonight's FE 3 moves to tomorrow; nothing else changes
    assert "Wed Jan 20" in text and "Thu Jan 21" in text and "No FE meeting" in text
    changes = text[text.index("What changes"):text.index("All meetings, next 4 weeks")]
    assert "ERS" not in changes and "RP" not in changes
    assert "<strong>FE 3</strong>" in changes


def test_changing_the_pattern_of_a_running_group_keeps_its_history(client, setup, running):
    program, director, facilitator, version = setup
    group, person = running
    recorded = {(m.id, m.date, m.status, m.module_id) for m in db.session.scalars(select(Meeting))}
    before = _progress(person, date(2027, 1, 19))
    login(client, director.email)
    response = _post(client, f"/groups/{group.id}/edit", _data(version, slots=THU, name=group.name,
                                                               start_date="2027-01-04"))
    assert response.status_code == 302
    # recorded meetings are untouched
    assert recorded <= {(m.id, m.date, m.status, m.module_id) for m in db.session.scalars(select(Meeting))}
    # the past reads exactly as before: same credits, same missed modules, same expected hours
    assert _progress(person, date(2027, 1, 19)) == before
    # the future follows the new pattern: FE 3 tomorrow, Thursday
    calendar = calendars.group_calendar(group, date(2027, 1, 28))
    fe = [(m.date, m.module, m.status) for m in calendar.meetings if m.track == "FE"]
    assert (date(2027, 1, 21), "FE 3", "held") in fe and (date(2027, 1, 28), "FE 4", "held") in fe
    assert not [m for m in calendar.meetings if m.track == "FE" and m.date >= TODAY and m.date.weekday() == 2]
    # past Thursdays were not meetings: the group page does not list them
    page = client.get(f"/groups/{group.id}").text
    assert f"/groups/{group.id}/meetings/2027-01-14/1830/FE" not in page
    assert f"/groups/{group.id}/meetings/2027-01-13/1830/FE" in page


def test_a_running_group_keeps_its_start_date_and_version(client, setup, running):
    program, director, facilitator, version = setup
    group, _ = running
    login(client, director.email)
    moved = _post(client, f"/groups/{group.id}/edit", _data(version, name=group.name, start_date="2027-01-11"))
    assert moved.status_code == 422 and "its start date is part of the record and stays" in moved.text
    other = _post(client, f"/groups/{group.id}/edit", _data(version, name=group.name, start_date="2027-01-04",
                                                             version="999999"))
    assert other.status_code == 422 and "keeps its curriculum version" in other.text
    db.session.refresh(group)
    assert group.start_date == START


def test_a_director_renames_a_group_and_keeps_its_name_free_for_itself(client, setup, running):
    program, director, facilitator, version = setup
    group, _ = running
    login(client, director.email)
    page = client.get(f"/groups/{group.id}/edit")
    assert page.status_code == 200 and 'value="Evening IOP"' in page.text and "readonly" in page.text
    same = _post(client, f"/groups/{group.id}/edit", _data(version, name="Evening IOP", start_date="2027-01-04"))
    assert same.status_code == 302
    renamed = _post(client, f"/groups/{group.id}/edit", _data(version, name="Evening IOP (Mon/Wed/Fri)",
                                                              start_date="2027-01-04"))
    assert renamed.status_code == 302 and db.session.get(Group, group.id).name == "Evening IOP (Mon/Wed/Fri)"
    # nothing in the pattern changed, so nothing was stored for the past
    assert db.session.scalar(select(func.count()).select_from(Meeting).where(Meeting.group_id == group.id)) == 3


def test_preview_warns_when_the_pattern_cannot_complete_a_required_track(client, setup):
    program, director, facilitator, version = setup
    login(client, director.email)
    no_fe = [row for row in MWF if row[2] != "FE"]
    short_rp = [row if row[2] != "RP" else (row[0], row[1], "RP", "45") for row in MWF]
    text = _post(client, "/groups/new", _data(version, slots=no_fe), button="preview").text
    assert "No meeting for FE: members of this group cannot complete FE, which is required." in text
    text = _post(client, "/groups/new", _data(version, slots=short_rp), button="preview").text
    assert "RP meetings of 45 minutes are shorter than the 68 minutes some RP modules need for credit." in text
    assert _groups() == 0
