"""The groups list and the group page: pattern in words, where each track stands, the calendar with
holidays, cancellations and postponed modules, the roster with progress and alerts; roles; audit;
a fixed number of queries whatever the roster size."""

from __future__ import annotations

import re
from datetime import date, time

import pytest
from sqlalchemy import select

from facilitator.attendance.models import Attendance
from facilitator.audit.models import AuditEvent
from facilitator.clinical.models import DrugTest
from facilitator.extensions import db
from facilitator.groups import calendars, views
from facilitator.groups.models import Cancellation, Meeting
from facilitator.participants.models import Enrollment
from facilitator.programs.models import AttendanceStatus, Holiday

from .conftest import login

START = date(2027, 1, 4)  # a Monday: ERS 1 and RP 1; Wed FE 1 and SS 1; Fri ERS 2 and RP 2
TODAY = date(2027, 1, 20)  # a Wednesday, in the group's third week


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setattr(views, "_today", lambda: TODAY)


@pytest.fixture
def setup(session, make_program, make_user, make_group, make_participant):
    program = make_program()
    group = make_group(program, start=START)
    director = make_user("director", program)
    facilitator = make_user("facilitator", program)
    return program, group, director, facilitator


def test_the_list_shows_pattern_version_members_and_where_each_track_stands(client, setup, make_participant):
    program, group, director, facilitator = setup
    for i in range(3):
        make_participant(program, group, admitted=date(2027, 1, 4 + i))
    gone = make_participant(program, group)
    db.session.execute(Enrollment.__table__.update().where(Enrollment.participant_id == gone.id)
                       .values(discharged_on=date(2027, 1, 8), discharge_reason="dropped_out"))
    login(client, facilitator.email)
    page = client.get("/groups/")
    assert page.status_code == 200
    assert ("Mon 5:30 PM ERS 50 min, Mon 6:30 PM RP 90 min, Wed 6:30 PM FE 90 min, Wed 6:30 PM SS 90 min, "
            "Fri 5:30 PM ERS 50 min, Fri 6:30 PM RP 90 min") in page.text
    assert "Stimulant IOP, 16 weeks" in page.text
    assert re.search(r"Active members</dt><dd>3</dd>", page.text)
    # Wed Jan 20, the third week: ERS and RP have met 5 times each (ERS 6 and RP 6 come on Fri Jan 22),
    # FE twice (FE 3 is tonight).
    assert "<strong>ERS 6</strong>" in page.text and "<strong>RP 6</strong>" in page.text
    assert "<strong>FE 3</strong>" in page.text and "Today, 6:30 PM" in page.text
    assert "New group" not in page.text  # facilitators do not create groups


def test_the_list_offers_directors_a_new_group(client, setup):
    login(client, setup[2].email)
    assert 'href="/groups/new"' in client.get("/groups/").text


def _row(text: str, needle: str) -> str:
    """The table row that contains `needle`."""
    at = text.index(needle)
    return text[text.rindex("<tr", 0, at):text.index("</tr>", at)]


def test_the_group_page_shows_the_calendar_with_links_holidays_and_postponed_modules(client, setup):
    program, group, director, facilitator = setup
    db.session.add(Holiday(program_id=program.id, date=date(2027, 1, 25), name="Staff retreat"))
    db.session.add(Cancellation(group_id=group.id, date=date(2027, 1, 27), track_code="FE", reason="Room flooded"))
    db.session.add(Meeting(group_id=group.id, date=date(2027, 1, 18), start_time=time(18, 30), track_code="RP",
                           minutes=90, status="held", module_id=calendars.module_ids(group.version_id)["RP 5"]))
    db.session.flush()
    login(client, facilitator.email)
    page = client.get(f"/groups/{group.id}")
    assert page.status_code == 200
    text = page.text
    assert "Mon 5:30 PM ERS 50 min" in text and "version 2027.2" in text
    # every meeting links to its meeting page
    link = f'href="/groups/{group.id}/meetings/2027-01-22/1830/RP"'
    assert link in text and "RP 6" in _row(text, link)
    # the holiday is marked on its week, and its modules move to the next meeting of each track
    assert "Holiday: Staff retreat, Mon Jan 25" in text
    rp = _row(text, f'href="/groups/{group.id}/meetings/2027-01-25/1830/RP"')
    assert "Cancelled" in rp and "Holiday: Staff retreat." in rp and "RP 7 moves to Fri Jan 29." in rp
    ers = _row(text, f'href="/groups/{group.id}/meetings/2027-01-25/1730/ERS"')
    assert "ERS 7 moves to Fri Jan 29." in ers
    # the cancelled FE meeting shows its reason and where FE 4 goes
    fe = _row(text, f'href="/groups/{group.id}/meetings/2027-01-27/1830/FE"')
    assert "Room flooded." in fe and "FE 4 moves to Wed Feb 3." in fe
    assert "FE 4" in _row(text, f'href="/groups/{group.id}/meetings/2027-02-03/1830/FE"')
    # statuses in words: held (recorded), not recorded (past, nothing stored), coming; today marked
    assert "Held" in _row(text, f'href="/groups/{group.id}/meetings/2027-01-18/1830/RP"')
    assert "Not recorded" in _row(text, f'href="/groups/{group.id}/meetings/2027-01-18/1730/ERS"')
    today = _row(text, f'href="/groups/{group.id}/meetings/2027-01-20/1830/FE"')
    assert "Coming" in today and "Today" in today
    # the past 4 weeks (before this Monday) are folded; the window ends 8 weeks ahead
    assert re.search(r"The past 4 weeks: 0 held,\s+0 cancelled,\s+12 not recorded", text)
    assert "2027-03-17" in text and "2027-03-19" not in text


def test_the_roster_shows_week_progress_projection_alerts_and_marks_the_newest(client, setup, make_participant):
    program, group, director, facilitator = setup
    veteran = make_participant(program, group, admitted=START, name="Veteran")
    make_participant(program, group, admitted=date(2027, 1, 18), name="Newcomer")
    db.session.add(DrugTest(participant_id=veteran.id, collected_on=date(2027, 1, 15), kind="urine",
                            result="positive", recorded_by_id=facilitator.id))
    _attend(program, group, veteran, facilitator, date(2027, 1, 4), "18:30", "RP", "RP 1")
    login(client, facilitator.email)
    text = client.get(f"/groups/{group.id}").text
    veteran_row, newcomer_row = _row(text, "Veteran ("), _row(text, "Newcomer (")
    assert "Week 3" in veteran_row and "RP 1/32" in veteran_row and "ERS 0/8" in veteran_row
    assert "IC 0/3" in veteran_row and "FE 0/12" in veteran_row
    assert "SS 0/" not in veteran_row  # SS is not required for completion
    assert "Projected" in veteran_row
    assert "positive test on Jan 15 has no relapse analysis" in veteran_row and "Urgent" in veteran_row
    assert "New this week" in newcomer_row and "Week 1" in newcomer_row
    assert "New this week" not in veteran_row
    assert text.index("Newcomer (") < text.index("Veteran (")  # the newest come first: greet them


def test_reading_the_roster_is_audited_for_each_member(client, setup, make_participant):
    program, group, director, facilitator = setup
    people = [make_participant(program, group) for _ in range(3)]
    login(client, facilitator.email)
    client.get(f"/groups/{group.id}")
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "group.roster_view")).all()
    assert sorted(e.participant_id for e in events) == sorted(p.id for p in people)
    assert all(e.entity == "group" and e.entity_id == group.id and e.user_id == facilitator.id for e in events)
    assert all(e.detail == {} for e in events)  # ids only, never names or values


@pytest.mark.parametrize("path", ["/groups/", "/groups/{gid}"])
def test_participants_may_not_see_groups(client, setup, make_participant, make_user, path):
    program, group, *_ = setup
    person = make_participant(program, group)
    account = make_user("participant", program, participant=person)
    login(client, account.email)
    assert client.get(path.format(gid=group.id)).status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(client, setup):
    assert client.get(f"/groups/{setup[1].id}").status_code == 302


def test_another_programs_group_is_not_found(client, setup, make_program, make_user, make_group):
    other = make_group(make_program(), name="Elsewhere")
    login(client, setup[2].email)
    assert client.get(f"/groups/{other.id}").status_code == 404
    assert client.get(f"/groups/{other.id}/edit").status_code == 404
    assert client.get("/groups/999999").status_code == 404
    assert "Elsewhere" not in client.get("/groups/").text


def _attend(program, group, person, user, day, at, track, module, status="present"):
    status_id = db.session.scalar(select(AttendanceStatus.id).where(AttendanceStatus.program_id == program.id,
                                                                    AttendanceStatus.code == status))
    meeting = db.session.scalar(select(Meeting).where(Meeting.group_id == group.id, Meeting.date == day,
                                                      Meeting.track_code == track))
    if meeting is None:
        meeting = Meeting(group_id=group.id, date=day, start_time=time.fromisoformat(at), track_code=track,
                          minutes=90 if track != "ERS" else 50, status="held",
                          module_id=calendars.module_ids(group.version_id)[module])
        db.session.add(meeting)
        db.session.flush()
    db.session.add(Attendance(meeting_id=meeting.id, participant_id=person.id, status_id=status_id,
                              minutes=meeting.minutes if status == "present" else 0, recorded_by_id=user.id))
    db.session.flush()


def _group_with(program, make_group, make_participant, user, size, name):
    group = make_group(program, name=name, start=START)
    for i in range(size):
        person = make_participant(program, group, admitted=date(2027, 1, 4 + i % 14))
        _attend(program, group, person, user, date(2027, 1, 4), "18:30", "RP", "RP 1",
                "present" if i % 3 else "absent")
        db.session.add(DrugTest(participant_id=person.id, collected_on=date(2027, 1, 12), kind="urine",
                                result="positive" if i % 4 == 0 else "negative", recorded_by_id=user.id))
    db.session.flush()
    return group


def test_the_group_page_takes_the_same_number_of_queries_for_5_and_40_members(
        client, setup, make_group, make_participant, count_queries):
    program, _, director, facilitator = setup
    small = _group_with(program, make_group, make_participant, facilitator, 5, "Small group")
    large = _group_with(program, make_group, make_participant, facilitator, 40, "Large group")
    login(client, facilitator.email)
    for group in (small, large):  # warm the version cache, the session and each one's members' progress
        client.get(f"/groups/{group.id}")
    counts = {}
    for group in (small, large):
        with count_queries() as counter:
            page = client.get(f"/groups/{group.id}")
        assert page.status_code == 200
        counts[group.name] = counter.count
    assert counts["Small group"] == counts["Large group"], counts
    assert counts["Large group"] <= 40, counts


def test_the_groups_list_takes_the_same_number_of_queries_for_2_and_12_groups(
        client, setup, make_group, make_participant, count_queries):
    program, _, director, facilitator = setup
    login(client, facilitator.email)
    client.get("/groups/")
    with count_queries() as few:
        client.get("/groups/")
    for i in range(10):
        group = make_group(program, name=f"Extra {i}", start=START)
        make_participant(program, group)
    with count_queries() as many:
        assert client.get("/groups/").status_code == 200
    assert few.count == many.count, (few.count, many.count)
