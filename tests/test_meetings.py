"""The meeting page: guide, expected roster, attendance that credits at once, cancel, sign, guests."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from facilitator import clock
from facilitator.attendance.models import Attendance
from facilitator.audit.models import AuditEvent
from facilitator.groups.models import Meeting
from facilitator.meetings import services
from facilitator.programs.services import program_today
from facilitator.progress.services import progress_for

from .conftest import csrf_token, login

MONDAY = date(2026, 10, 5)  # the group's first day: RP 1 at 18:30, ERS 1 at 17:30
URL = "/groups/{gid}/meetings/{day}/{at}/{track}"


@pytest.fixture
def setup(session, make_program, make_user, make_group, make_participant):
    program = make_program()
    group = make_group(program, start=MONDAY)
    people = [make_participant(program, group, admitted=date(2026, 9, 27 + i), name=f"Member {i}") for i in range(4)]
    newest = make_participant(program, group, admitted=MONDAY, name="Newest")
    user = make_user("facilitator", program)
    return program, group, people + [newest], user


def _url(group, day=MONDAY, at="1830", track="RP", action=""):
    return URL.format(gid=group.id, day=day.isoformat(), at=at, track=track) + action


def attendance_version(html: str) -> str:
    """The attendance version a meeting page's form carries, as a browser would send it back."""
    match = re.search(r'id="version" name="version" type="hidden" value="(\d+)"', html)
    assert match, "no attendance version in the page"
    return match.group(1)


def _post_attendance(client, group, people, statuses=None, minutes=None, note="Good group.", **extra):
    page = client.get(_url(group))
    version = extra.pop("version", None) or attendance_version(page.text)
    data = {"csrf_token": csrf_token(page.text), "version": version, "note": note, "handout": "y"}
    for i, person in enumerate(people):
        data[f"rows-{i}-participant_id"] = str(person.id)
        data[f"rows-{i}-status"] = (statuses or {}).get(person.id, "present")
        data[f"rows-{i}-minutes"] = str((minutes or {}).get(person.id, 90))
        data[f"rows-{i}-note"] = ""
    data.update(extra)
    return client.post(_url(group, action="/attendance"), data=data)


def _rows(session, group):
    return session.scalar(select(func.count()).select_from(Attendance).join(Meeting).where(Meeting.group_id == group.id))


def test_the_page_shows_the_guide_and_the_expected_roster(client, setup):
    _, group, people, user = setup
    login(client, user.email)
    page = client.get(_url(group))
    assert page.status_code == 200
    assert "RP 1 Alcohol" in page.text
    assert "Facilitator guide" in page.text and "Goals" in page.text
    for person in people:
        assert person.preferred_name in page.text
    assert page.text.count("New this week") == 3  # admitted Sept 29, Sept 30 and Oct 5: week 1 on Oct 5
    assert 'aria-label="Status for Newest"' in page.text


@pytest.mark.parametrize("day,at,track", [
    (date(2026, 10, 6), "1830", "RP"),  # a Tuesday: no meeting
    (date(2026, 9, 28), "1830", "RP"),  # before the group started
    (MONDAY, "1900", "RP"),  # wrong time
    (MONDAY, "1830", "XX"),  # unknown track
    (MONDAY, "18h3", "RP"),  # malformed time
])
def test_a_date_outside_the_group_is_not_found(client, setup, day, at, track):
    _, group, _, user = setup
    login(client, user.email)
    assert client.get(_url(group, day, at, track)).status_code == 404


def test_bad_date_text_is_not_found(client, setup):
    _, group, _, user = setup
    login(client, user.email)
    assert client.get(f"/groups/{group.id}/meetings/2026-13-45/1830/RP").status_code == 404


def test_saving_attendance_credits_modules_at_once(client, session, setup):
    program, group, people, user = setup
    login(client, user.email)
    absent, late = people[0], people[1]
    response = _post_attendance(client, group, people, statuses={absent.id: "absent", late.id: "late"},
                                minutes={absent.id: 90, late.id: 70})
    assert response.status_code == 302
    plans = progress_for(people, date(2026, 10, 6))
    assert plans[late.id].progress.track("RP").credited == ("RP 1",), "70 of 90 minutes is over 75%"
    assert plans[people[2].id].progress.track("RP").credited == ("RP 1",)
    assert plans[absent.id].progress.track("RP").missed == ("RP 1",)
    row = session.scalar(select(Attendance).where(Attendance.participant_id == absent.id))
    assert row.minutes == 0, "an absence never counts minutes, whatever the form said"
    meeting = session.scalar(select(Meeting).where(Meeting.group_id == group.id, Meeting.track_code == "RP"))
    assert meeting.status == "held" and meeting.module.code == "RP 1" and meeting.fidelity["handout"] is True


def test_too_few_minutes_attend_but_do_not_credit(client, setup):
    _, group, people, user = setup
    login(client, user.email)
    _post_attendance(client, group, people, statuses={people[0].id: "left_early"}, minutes={people[0].id: 40})
    plans = progress_for(people, date(2026, 10, 6))
    assert plans[people[0].id].progress.track("RP").credited == ()


@pytest.mark.parametrize("statuses,minutes,message", [
    ("bogus", 90, "Not a valid choice"),
    ("present", -5, "Minutes cannot be negative."),
    ("present", 9000, "At most 150 minutes for this meeting."),
    ("present", "ninety", "Not a valid integer value."),
])
def test_bad_attendance_input_is_explained_and_changes_nothing(client, session, setup, statuses, minutes, message):
    _, group, people, user = setup
    login(client, user.email)
    response = _post_attendance(client, group, people, statuses={people[0].id: statuses},
                                minutes={people[0].id: minutes})
    assert response.status_code == 422
    assert message in response.text
    assert _rows(session, group) == 0


def test_the_forms_own_messages_follow_the_readers_language(client, session, setup):
    _, group, people, user = setup
    login(client, user.email)
    user.language = "es"
    session.flush()
    for _turn in range(2):  # the second from the catalog the process has read
        response = _post_attendance(client, group, people, minutes={people[0].id: "ninety"})
        assert response.status_code == 422 and "No es un valor entero válido." in response.text
        assert "no pueden ser negativos" not in response.text  # nothing about the empty value it left
    user.language = "en"
    session.flush()
    assert "Not a valid integer value." in _post_attendance(client, group, people, minutes={people[0].id: "ninety"}).text
    assert _rows(session, group) == 0


def test_someone_not_on_the_roster_is_refused(client, session, setup, make_participant):
    program, group, people, user = setup
    stranger = make_participant(program)  # same program, not in this group
    login(client, user.email)
    response = _post_attendance(client, group, people + [stranger])
    assert response.status_code == 422
    assert "not on this meeting&#39;s roster" in response.text
    assert _rows(session, group) == 0


def test_a_locked_note_cannot_be_edited_only_amended(client, session, setup):
    _, group, people, user = setup
    login(client, user.email)
    _post_attendance(client, group, people)
    page = client.get(_url(group))
    assert client.post(_url(group, action="/lock"), data={"csrf_token": csrf_token(page.text)}).status_code == 302
    # from a page opened before the note was signed (the signed page has no attendance form)
    response = _post_attendance(client, group, people, statuses={people[0].id: "absent"}, version="1")
    assert response.status_code == 422
    assert "signed and locked" in response.text
    row = session.scalar(select(Attendance).where(Attendance.participant_id == people[0].id))
    assert row.status.code == "present"
    page = client.get(_url(group))
    assert "Add addendum" in page.text
    client.post(_url(group, action="/addendum"), data={"csrf_token": csrf_token(page.text), "text": "Late arrival fixed."})
    assert "Late arrival fixed." in client.get(_url(group)).text


def test_signing_needs_attendance_and_a_note(client, setup):
    _, group, people, user = setup
    login(client, user.email)
    _post_attendance(client, group, people, note="")
    page = client.get(_url(group))
    response = client.post(_url(group, action="/lock"), data={"csrf_token": csrf_token(page.text)},
                           follow_redirects=True)
    assert "Write the group note before signing it." in response.text


def test_cancelling_moves_the_module_to_the_next_meeting(client, session, setup):
    _, group, _, user = setup
    login(client, user.email)
    page = client.get(_url(group))
    response = client.post(_url(group, action="/cancel"), data={"csrf_token": csrf_token(page.text),
                                                                "reason": "Power cut"}, follow_redirects=True)
    assert "RP 1 moves to the next RP meeting" in response.text
    friday = services.find_planned(group, date(2026, 10, 9), "18:30", "RP")
    assert friday.module == "RP 1"


def test_cancelling_needs_a_reason_and_no_attendance(client, session, setup):
    _, group, people, user = setup
    login(client, user.email)
    page = client.get(_url(group))
    response = client.post(_url(group, action="/cancel"), data={"csrf_token": csrf_token(page.text), "reason": ""})
    assert response.status_code == 422 and "Say why the meeting is cancelled." in response.text
    _post_attendance(client, group, people)
    page = client.get(_url(group))
    response = client.post(_url(group, action="/cancel"), data={"csrf_token": csrf_token(page.text), "reason": "x"})
    assert response.status_code == 422 and "cannot be cancelled" in response.text


def test_family_guests_are_recorded_without_becoming_participants(client, session, setup):
    program, group, people, user = setup
    login(client, user.email)
    fe = _url(group, date(2026, 10, 7), "1830", "FE")
    page = client.get(fe)
    assert "Family and friends" in page.text
    response = client.post(fe + "/guests", data={"csrf_token": csrf_token(page.text), "name": "Maria",
                                                 "relationship": "mother", "participant_id": people[0].id,
                                                 "minutes": 90}, follow_redirects=True)
    assert "Maria (mother), supporting Member 0" in response.text
    guest_rows = session.scalar(select(func.count()).select_from(Attendance).where(Attendance.guest_id.is_not(None)))
    assert guest_rows == 1


def test_saving_twice_keeps_one_row_per_person(client, session, setup):
    _, group, people, user = setup
    planned = services.find_planned(group, MONDAY, "18:30", "RP")
    lines = [services.AttendanceLine(p.id, "present", 90) for p in people]
    services.save_attendance(group, planned, lines, "", {}, user)
    lines[0] = services.AttendanceLine(people[0].id, "absent", 0)
    services.save_attendance(group, planned, lines, "", {}, user)
    assert _rows(session, group) == len(people)
    row = session.scalar(select(Attendance).where(Attendance.participant_id == people[0].id))
    assert row.status.code == "absent"


def test_another_programs_meeting_is_not_found(client, setup, make_user):
    _, group, _, _ = setup
    outsider = make_user("director")
    login(client, outsider.email)
    assert client.get(_url(group)).status_code == 404
    page = client.get("/today")
    response = client.post(_url(group, action="/attendance"), data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 404


def test_participants_cannot_open_meetings(client, setup, make_user):
    program, group, people, _ = setup
    account = make_user("participant", program, participant=people[0])
    login(client, account.email)
    assert client.get(_url(group)).status_code == 403


def test_viewing_and_saving_are_audited(client, session, setup):
    _, group, people, user = setup
    login(client, user.email)
    _post_attendance(client, group, people)
    actions = session.execute(select(AuditEvent.action, AuditEvent.participant_id)
                              .where(AuditEvent.user_id == user.id)).all()
    viewed = {pid for action, pid in actions if action == "meeting.roster_view"}
    saved = {pid for action, pid in actions if action == "attendance.save"}
    assert viewed == saved == {p.id for p in people}


def test_the_meeting_page_takes_a_fixed_number_of_queries(client, session, setup, make_participant,
                                                         count_queries):
    program, group, people, user = setup
    login(client, user.email)
    client.get(_url(group))  # warm caches that are per process (published curriculum structure)
    with count_queries() as small:
        assert client.get(_url(group)).status_code == 200
    for i in range(35):
        make_participant(program, group, admitted=date(2026, 9, 20), name=f"Extra {i}")
    with count_queries() as large:
        page = client.get(_url(group))
    assert "Extra 34" in page.text
    assert large.count <= small.count, (small.count, large.count)


def test_today_lists_my_meetings_with_expected_counts(client, session, make_program, make_user, make_group,
                                                      make_participant):
    program = make_program()
    user = make_user("facilitator", program)
    group = make_group(program, start=clock.today().replace(day=1))
    group.facilitator_id = user.id
    make_participant(program, group, admitted=group.start_date)
    session.flush()
    login(client, user.email)
    page = client.get("/today")
    assert page.status_code == 200
    assert group.name in page.text and "Meetings, today and the next 7 days" in page.text
    assert "1 person" in page.text


def test_a_retired_status_is_not_offered_or_accepted(client, session, setup, make_user):
    from facilitator.programs.models import AttendanceStatus
    from facilitator.programs.services import retire_status

    program, group, people, user = setup
    excused = session.scalar(select(AttendanceStatus).where(AttendanceStatus.program_id == program.id,
                                                             AttendanceStatus.code == "excused"))
    retire_status(program, excused, make_user("director", program))
    login(client, user.email)
    assert 'value="excused"' not in client.get(_url(group)).text
    response = _post_attendance(client, group, people, statuses={people[0].id: "excused"})
    assert response.status_code == 422
    assert _rows(session, group) == 0


def test_today_is_the_program_s_day_not_the_server_s(client, session, make_program, make_user):
    """Kiritimati (UTC+14) and Pago Pago (UTC-11) are never on the same date: each program's Today
    page shows its own date, whatever the server's clock says."""
    for zone in ("Pacific/Kiritimati", "Pacific/Pago_Pago"):
        program = make_program()
        program.timezone = zone
        session.flush()
        there = datetime.now(ZoneInfo(zone)).date()
        assert program_today(program) == there
        login(client, make_user("director", program).email)
        page = client.get("/today").text
        assert f"Today, {there:%A, %B} {there.day}" in page, zone
        client.post("/logout", data={"csrf_token": csrf_token(page)})
