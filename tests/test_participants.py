"""Participant screens: list, create with admission, profile, admit, transfer, discharge, the
participant page, /me; refusals of bad input; program boundaries; audit; fixed query counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from facilitator import clock
from facilitator.attendance.models import Attendance
from facilitator.audit.models import AuditEvent
from facilitator.curricula.models import Module
from facilitator.extensions import db
from facilitator.participants.models import Enrollment, Participant
from facilitator.progress.models import MakeUp
from facilitator.progress.services import progress_for

from .conftest import csrf_token, login
from .test_participants_support import audit_actions, hold_meetings, monday_weeks_ago, post_form, world_fixture  # noqa: F401

TODAY = clock.today()


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _new_data(world, **changes) -> dict:
    data = {"preferred_name": "Robin", "initials": "RB", "record_number": "MRN-77", "language": "en",
            "group_id": str(world.evening.id), "admitted_on": TODAY.isoformat()}
    data.update(changes)
    return data


# --- the list -------------------------------------------------------------------------------------

def test_list_shows_group_week_progress_projection_and_alerts(client, world, make_participant):
    person = make_participant(world.program, world.evening, admitted=monday_weeks_ago(3), name="Avery")
    hold_meetings(world.evening, world.facilitator, [person], TODAY - timedelta(days=1),
                  absent=lambda p, m: m.date >= TODAY - timedelta(days=8))
    login(client, world.facilitator.email)
    page = client.get("/participants/")
    assert page.status_code == 200
    text = page.text
    assert "Avery" in text and "Evening group" in text
    assert "Week</span> 4" in text  # program week
    assert "RP</span> " in text and "/32" in text  # progress summary such as "RP 5/32"
    assert "absences in a row" in text and "Urgent" in text  # alerts from alerts_for
    projected = progress_for([person], TODAY)[person.id].progress.projected_completion
    assert f"Projected to complete</span> {projected:%b %-d, %Y}" in text


def test_list_filters_by_group_status_and_search(client, world, make_participant, session):
    ava = make_participant(world.program, world.evening, admitted=monday_weeks_ago(2), name="Ava Stone")
    ben = make_participant(world.program, world.morning, admitted=monday_weeks_ago(2), name="Ben Ray")
    cal = make_participant(world.program, world.evening, admitted=monday_weeks_ago(4), name="Cal Moss")
    stay = session.scalar(select(Enrollment).where(Enrollment.participant_id == cal.id))
    stay.discharged_on, stay.discharge_reason = TODAY - timedelta(days=2), "completed"
    session.flush()
    login(client, world.facilitator.email)
    active = client.get("/participants/").text
    assert "Ava Stone" in active and "Ben Ray" in active and "Cal Moss" not in active
    evening = client.get(f"/participants/?group={world.evening.id}").text
    assert "Ava Stone" in evening and "Ben Ray" not in evening
    discharged = client.get("/participants/?status=discharged").text
    assert "Cal Moss" in discharged and "Ava Stone" not in discharged
    everyone = client.get("/participants/?status=all").text
    assert all(name in everyone for name in ("Ava Stone", "Ben Ray", "Cal Moss"))
    assert "Ben Ray" in client.get("/participants/?q=ray").text
    assert "Ava Stone" not in client.get("/participants/?q=ray").text
    assert "Ben Ray" in client.get(f"/participants/?q={ben.record_number.lower()}").text
    assert "Ava Stone" in client.get(f"/participants/?q={ava.initials}").text
    assert "No participants match" in client.get("/participants/?q=%25_nobody").text  # wildcards are literal


# --- create, profile, admit, transfer, discharge --------------------------------------------------

def test_create_participant_with_admission(client, world):
    login(client, world.facilitator.email)
    response = post_form(client, "/participants/new", _new_data(world, initials="rb"))
    assert response.status_code == 302
    person = db.session.scalar(select(Participant).where(Participant.record_number == "MRN-77"))
    assert person.program_id == world.program.id and person.initials == "RB"
    assert [(e.group_id, e.admitted_on, e.discharged_on) for e in person.enrollments] == [
        (world.evening.id, TODAY, None)]
    assert audit_actions(person.id) == ["participant.create", "enrollment.admit"]
    assert client.get(response.headers["Location"]).status_code == 200


@pytest.mark.parametrize(("changes", "message"), [
    ({"initials": "ABCDE"}, "Initials are at most 4 letters."),
    ({"initials": "1A"}, "Initials start with a letter; use letters and digits only."),
    ({"preferred_name": "  "}, "Enter the name the person wants to be called."),
    ({"group_id": "999999"}, "Choose one of this program&#39;s groups."),
    ({"group_id": "junk"}, "Choose one of this program&#39;s groups."),
    ({"admitted_on": (TODAY + timedelta(days=31)).isoformat()}, "can be at most 30 days ahead"),
    ({"admitted_on": (monday_weeks_ago(12) - timedelta(days=1)).isoformat()}, "the admission cannot be earlier"),
    ({"admitted_on": "14/03/2026"}, "Enter a date like 2026-03-14."),
    ({"language": "fr"}, "Choose English or Spanish."),
])
def test_create_refuses_bad_input_next_to_the_field(client, world, changes, message):
    login(client, world.facilitator.email)
    before = (_count(Participant), _count(Enrollment))
    response = post_form(client, "/participants/new", _new_data(world, **changes))
    assert response.status_code == 422
    assert message in response.text
    assert 'class="error"' in response.text and 'aria-invalid="true"' in response.text
    assert (_count(Participant), _count(Enrollment)) == before


def test_create_refuses_another_programs_group_and_a_duplicate_record_number(client, world, make_program,
                                                                            make_group, make_participant):
    other_group = make_group(make_program(), start=monday_weeks_ago(12))
    make_participant(world.program, world.evening, admitted=monday_weeks_ago(1)).record_number = "MRN-77"
    db.session.flush()
    login(client, world.facilitator.email)
    before = _count(Participant)
    response = post_form(client, "/participants/new", _new_data(world, group_id=str(other_group.id),
                                                                  record_number="MRN-78"))
    assert response.status_code == 422 and "Choose one of this program&#39;s groups." in response.text
    response = post_form(client, "/participants/new", _new_data(world, record_number="mrn-77"))
    assert response.status_code == 422
    assert "Record number mrn-77 is already used by another participant." in response.text
    assert _count(Participant) == before


def test_the_same_record_number_is_fine_in_another_program(client, world, make_program, make_participant):
    make_participant(make_program()).record_number = "MRN-77"
    db.session.flush()
    login(client, world.facilitator.email)
    assert post_form(client, "/participants/new", _new_data(world)).status_code == 302


def test_profile_edit_audits_the_changed_field_names(client, world, make_participant):
    person = make_participant(world.program, world.evening, admitted=monday_weeks_ago(1))
    other = make_participant(world.program, world.evening, admitted=monday_weeks_ago(1))
    login(client, world.facilitator.email)
    url = f"/participants/{person.id}/profile"
    data = {"preferred_name": "Sunny", "initials": person.initials, "record_number": person.record_number,
            "language": "es"}
    assert post_form(client, url, data).status_code == 302
    assert (person.preferred_name, person.language) == ("Sunny", "es")
    response = post_form(client, url, {**data, "record_number": other.record_number})
    assert response.status_code == 422 and "is already used by another participant" in response.text
    response = post_form(client, url, {**data, "initials": "TOOLONG"})
    assert response.status_code == 422 and "Initials are at most 4 letters." in response.text
    db.session.refresh(person)
    assert person.record_number != other.record_number
    update = db.session.scalar(select(AuditEvent).where(AuditEvent.participant_id == person.id,
                                                        AuditEvent.action == "participant.update"))
    assert update.detail == {"fields": ["preferred_name", "language"]}  # names only, never values


def test_admit_refuses_a_second_open_admission(client, world, make_participant):
    person = make_participant(world.program, world.evening, admitted=monday_weeks_ago(1))
    login(client, world.facilitator.email)
    response = post_form(client, f"/participants/{person.id}/admit",
                         {"group_id": str(world.morning.id), "admitted_on": TODAY.isoformat()})
    assert response.status_code == 422
    assert "Already admitted to Evening group since" in response.text
    assert len(db.session.scalars(select(Enrollment).where(Enrollment.participant_id == person.id)).all()) == 1


def test_readmission_after_a_discharge(client, world, make_participant, session):
    person = make_participant(world.program, world.evening, admitted=monday_weeks_ago(6))
    stay = person.enrollments[0]
    stay.discharged_on, stay.discharge_reason = TODAY - timedelta(days=10), "dropped_out"
    session.flush()
    login(client, world.facilitator.email)
    url = f"/participants/{person.id}/admit"
    response = post_form(client, url, {"group_id": str(world.morning.id),
                                       "admitted_on": (TODAY - timedelta(days=10)).isoformat()})
    assert response.status_code == 422 and "readmit after that date" in response.text
    response = post_form(client, url, {"group_id": str(world.morning.id), "admitted_on": TODAY.isoformat()})
    assert response.status_code == 302
    assert audit_actions(person.id)[-1] == "enrollment.admit"
    assert [e.discharge_reason for e in session.scalars(select(Enrollment).where(
        Enrollment.participant_id == person.id).order_by(Enrollment.admitted_on))] == ["dropped_out", None]


@pytest.mark.parametrize(("data", "field_message"), [
    ({"discharged_on": "ADMIT-1", "reason": "completed"}, "The discharge cannot be before the admission on"),
    ({"discharged_on": "TOMORROW", "reason": "completed"}, "The discharge date cannot be in the future."),
    ({"discharged_on": "TODAY", "reason": "graduated"}, "Choose one of the listed reasons."),
    ({"discharged_on": "TODAY", "reason": ""}, "Choose one of the listed reasons."),
    ({"discharged_on": "", "reason": "completed"}, "Enter the discharge date."),
])
def test_discharge_refuses_bad_input(client, world, make_participant, data, field_message):
    admitted = monday_weeks_ago(2)
    person = make_participant(world.program, world.evening, admitted=admitted)
    days = {"ADMIT-1": admitted - timedelta(days=1), "TOMORROW": TODAY + timedelta(days=1), "TODAY": TODAY}
    data = {**data, "discharged_on": days[data["discharged_on"]].isoformat() if data["discharged_on"] else ""}
    login(client, world.facilitator.email)
    response = post_form(client, f"/participants/{person.id}/discharge", data)
    assert response.status_code == 422
    assert field_message in response.text
    db.session.refresh(person.enrollments[0])
    assert person.enrollments[0].discharged_on is None


def test_discharge_with_a_national_reason(client, world, make_participant):
    person = make_participant(world.program, world.evening, admitted=monday_weeks_ago(2))
    login(client, world.facilitator.email)
    response = post_form(client, f"/participants/{person.id}/discharge",
                         {"discharged_on": TODAY.isoformat(), "reason": "incarcerated", "note": "Court date."})
    assert response.status_code == 302
    stay = person.enrollments[0]
    assert (stay.discharged_on, stay.discharge_reason, stay.discharge_note) == (TODAY, "incarcerated", "Court date.")
    assert "enrollment.discharge" in audit_actions(person.id)
    page = client.get(f"/participants/{person.id}").text
    assert "Incarcerated" in page and "Discharged" in page
    # Nothing open any more: a second discharge is refused.
    response = post_form(client, f"/participants/{person.id}/discharge",
                         {"discharged_on": TODAY.isoformat(), "reason": "completed"})
    assert response.status_code == 422 and "no open stay to discharge" in response.text


def test_transfer_keeps_history_and_leaves_attendance_alone(client, world, make_participant):
    person = make_participant(world.program, world.evening, admitted=monday_weeks_ago(4))
    hold_meetings(world.evening, world.facilitator, [person], TODAY - timedelta(days=1))
    before = sorted(db.session.execute(select(Attendance.id, Attendance.meeting_id, Attendance.status_id,
                                              Attendance.minutes).where(Attendance.participant_id == person.id)))
    login(client, world.facilitator.email)
    response = post_form(client, f"/participants/{person.id}/transfer",
                         {"group_id": str(world.morning.id), "first_day": TODAY.isoformat(), "note": "New job hours"})
    assert response.status_code == 302
    stays = db.session.scalars(select(Enrollment).where(Enrollment.participant_id == person.id)
                               .order_by(Enrollment.admitted_on)).all()
    assert [(s.group_id, s.discharged_on, s.discharge_reason) for s in stays] == [
        (world.evening.id, TODAY - timedelta(days=1), "transferred"), (world.morning.id, None, None)]
    after = sorted(db.session.execute(select(Attendance.id, Attendance.meeting_id, Attendance.status_id,
                                             Attendance.minutes).where(Attendance.participant_id == person.id)))
    assert after == before and before
    assert "enrollment.transfer" in audit_actions(person.id)
    page = client.get(f"/participants/{person.id}").text
    assert "Morning group" in page and "Transferred to another program or group" in page
    # Every evening meeting was attended; the morning group's meetings before today were never theirs.
    plan = progress_for([person], TODAY)[person.id].progress
    assert plan.stay.joined == TODAY and not any(t.missed for t in plan.tracks)


def test_transfer_refuses_the_same_group_and_a_day_before_the_stay(client, world, make_participant):
    person = make_participant(world.program, world.evening, admitted=monday_weeks_ago(1))
    login(client, world.facilitator.email)
    url = f"/participants/{person.id}/transfer"
    response = post_form(client, url, {"group_id": str(world.evening.id), "first_day": TODAY.isoformat()})
    assert response.status_code == 422 and "Already in Evening group. Choose another group." in response.text
    response = post_form(client, url, {"group_id": str(world.morning.id),
                                       "first_day": (monday_weeks_ago(1) - timedelta(days=1)).isoformat()})
    assert response.status_code == 422 and "the move cannot be earlier" in response.text
    assert len(db.session.scalars(select(Enrollment).where(Enrollment.participant_id == person.id)).all()) == 1


# --- the participant page --------------------------------------------------------------------------

def test_participant_page_shows_grid_hours_absences_and_alerts(client, world, make_participant):
    person = make_participant(world.program, world.evening, admitted=monday_weeks_ago(4), name="Dana")
    missed = []

    def absent(p, meeting):
        if meeting.track == "RP" and len(missed) < 2 and meeting.date > monday_weeks_ago(2):
            missed.append(meeting)
            return True
        return False

    hold_meetings(world.evening, world.facilitator, [person], TODAY - timedelta(days=1), absent)
    login(client, world.facilitator.email)
    response = client.get(f"/participants/{person.id}")
    assert response.status_code == 200
    text = response.text
    assert "Dana" in text and "program week 5" in text
    assert "Credited" in text and "Attended" in text
    assert "Missed" in text and "Coming" in text and "Projected to complete" in text
    for meeting in missed:  # the absences list, with dates and modules
        assert meeting.date.strftime("%a %b %-d, %Y") in text and meeting.module in text
    assert "<svg" in text and "floor" in text and "Hours as a table" in text
    assert "missed with no make-up planned" in text  # alerts_for on the page
    assert "plan it at:" in text  # make-up suggestions for the missed modules
    assert audit_actions(person.id) == ["participant.view"]


def test_cross_program_ids_answer_404(client, world, make_program, make_group, make_participant, make_user):
    other = make_program()
    stranger = make_participant(other, make_group(other, start=monday_weeks_ago(4)), admitted=monday_weeks_ago(1))
    plan = MakeUp(participant_id=stranger.id, module_id=_module_id(world, "RP 1"), method="homework",
                  assigned_by_id=make_user("facilitator", other).id)
    db.session.add(plan)
    db.session.flush()
    login(client, world.director.email)
    base = f"/participants/{stranger.id}"
    for url in (base, f"{base}/profile", f"{base}/admit", f"{base}/transfer", f"{base}/discharge",
                f"{base}/makeups/new", f"{base}/makeups/{plan.id}/complete"):
        assert client.get(url).status_code == 404, url
    token_page = client.get("/participants/new").text
    for url in (f"{base}/discharge", f"{base}/makeups/{plan.id}/cancel", f"{base}/makeups/new"):
        response = client.post(url, data={"csrf_token": csrf_token(token_page), "reason": "completed",
                                          "discharged_on": TODAY.isoformat()})
        assert response.status_code == 404, url
    assert stranger.enrollments[0].discharged_on is None and plan.status == "planned"
    assert "There is no such page" in client.get(base).text and stranger.preferred_name not in client.get(base).text
    assert audit_actions(stranger.id) == []


def test_participants_see_only_themselves(client, world, make_participant, make_user, session):
    me = make_participant(world.program, world.evening, admitted=monday_weeks_ago(3), name="Jordan")
    other = make_participant(world.program, world.evening, admitted=monday_weeks_ago(3), name="Casey")
    hold_meetings(world.evening, world.facilitator, [me, other], TODAY - timedelta(days=1))
    stay = other.enrollments[0]
    session.add(MakeUp(participant_id=me.id, module_id=_module_id(world, "RP 1"), method="homework",
                       note="STAFF-ONLY-NOTE", assigned_by_id=world.facilitator.id))
    stay.discharge_note = "OTHER-PERSON-NOTE"
    session.flush()
    account = make_user("participant", world.program, participant=me)
    login(client, account.email)
    page = client.get("/me")
    assert page.status_code == 200
    assert "Hello, Jordan" in page.text and "My schedule" in page.text and "My make-ups" in page.text
    assert "Casey" not in page.text and "STAFF-ONLY-NOTE" not in page.text and "OTHER-PERSON-NOTE" not in page.text
    assert "RP 1" in page.text and "Homework" in page.text
    for url in ("/participants/", f"/participants/{me.id}", f"/participants/{other.id}", "/participants/new",
                f"/participants/{other.id}/makeups/new"):
        assert client.get(url).status_code == 403, url
    assert audit_actions(me.id) == ["participant.view"]
    assert audit_actions(other.id) == []


def _module_id(world, code: str) -> int:
    return db.session.scalar(select(Module.id).where(Module.version_id == world.evening.version_id,
                                                     Module.code == code))


def test_staff_opening_me_go_to_the_list(client, world):
    login(client, world.facilitator.email)
    response = client.get("/me")
    assert response.status_code == 302 and response.headers["Location"].endswith("/participants/")


def test_list_writes_one_audit_event_per_listed_participant(client, world, make_participant):
    people = [make_participant(world.program, world.evening, admitted=monday_weeks_ago(1)) for _ in range(3)]
    login(client, world.facilitator.email)
    client.get("/participants/")
    assert all(audit_actions(p.id) == ["participant.list"] for p in people)


# --- fixed query counts ---------------------------------------------------------------------------

def test_participant_page_queries_do_not_grow_with_attendance(client, world, make_participant, count_queries):
    newcomer = make_participant(world.program, world.evening, admitted=TODAY - timedelta(days=4))
    veteran = make_participant(world.program, world.evening, admitted=monday_weeks_ago(10))
    hold_meetings(world.evening, world.facilitator, [newcomer, veteran], TODAY - timedelta(days=1),
                  absent=lambda p, m: m.date.day % 5 == 0)
    rows = {p.id: db.session.scalar(select(func.count()).where(Attendance.participant_id == p.id))
            for p in (newcomer, veteran)}
    assert rows[newcomer.id] <= 5 and rows[veteran.id] >= 60
    login(client, world.facilitator.email)
    for person in (newcomer, veteran):  # warm the per-process caches (published version, each one's progress)
        client.get(f"/participants/{person.id}")
    counts = {}
    for person in (newcomer, veteran):
        db.session.expire_all()
        with count_queries() as counter:
            assert client.get(f"/participants/{person.id}").status_code == 200
        counts[person.id] = counter.count
    print(f"participant page queries: {rows[newcomer.id]} rows {counts[newcomer.id]}, "
          f"{rows[veteran.id]} rows {counts[veteran.id]}")
    assert counts[veteran.id] == counts[newcomer.id], counts
    assert counts[veteran.id] <= 30, counts


def test_list_queries_do_not_grow_with_participants(client, world, count_queries, session):
    def add(n: int, prefix: str) -> None:
        people = [Participant(program_id=world.program.id, preferred_name=f"{prefix} {i}", initials="AB",
                              record_number=f"{prefix}-{i}") for i in range(n)]
        session.add_all(people)
        session.flush()
        session.add_all([Enrollment(participant_id=p.id, group_id=(world.evening, world.morning)[i % 2].id,
                                    admitted_on=monday_weeks_ago(i % 8)) for i, p in enumerate(people)])
        session.commit()  # before the page, as in use: both pages are built at a committed state

    login(client, world.facilitator.email)
    add(20, "small")
    client.get("/participants/")
    session.expire_all()  # both measurements start from the same state of the identity map
    with count_queries() as small:
        assert client.get("/participants/").status_code == 200
    add(480, "large")
    session.expire_all()
    with count_queries() as large:
        response = client.get("/participants/")
    assert response.status_code == 200 and response.text.count('<th scope="row">') == 500
    print(f"participant list queries: 20 people {small.count}, 500 people {large.count}")
    assert large.count == small.count, (small.count, large.count)


def test_pages_of_a_never_admitted_and_a_discharged_participant(client, world, make_participant, session):
    waiting = make_participant(world.program, name="Wren")
    gone = make_participant(world.program, world.evening, admitted=monday_weeks_ago(5), name="Gale")
    gone.enrollments[0].discharged_on, gone.enrollments[0].discharge_reason = TODAY - timedelta(days=3), "dropped_out"
    session.flush()
    login(client, world.facilitator.email)
    page = client.get(f"/participants/{waiting.id}").text
    assert "Not admitted to a group" in page and "Admit to a group" in page
    page = client.get(f"/participants/{gone.id}").text
    assert "Dropped out (left against advice)" in page and "Admit to a group" in page
    assert "Missed, with no make-up planned" not in page  # no new plans after the stay ended
    everyone = client.get("/participants/?status=all").text
    assert "Not admitted" in everyone and "Gale" in everyone
