"""Make-ups: suggestions from every group's calendar, planning one, completing it (which credits the
module with who and when), cancelling, and every refusal."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pypdf
import pytest
from sqlalchemy import select
from sqlalchemy.orm.attributes import set_committed_value

from facilitator import clock
from facilitator.extensions import db
from facilitator.groups.calendars import group_calendars
from facilitator.progress import services as progress
from facilitator.progress.models import Credit, MakeUp

from .conftest import csrf_token, login
from .test_participants_support import audit_actions, hold_meetings, monday_weeks_ago, post_form, world_fixture  # noqa: F401

TODAY = clock.today()


@pytest.fixture
def missed(world, make_participant):
    """A participant of the evening group who missed their first RP meeting, and that meeting."""
    person = make_participant(world.program, world.evening, admitted=monday_weeks_ago(4), name="Morgan")
    first_rp = []

    def absent(p, meeting):
        if meeting.track == "RP" and not first_rp:
            first_rp.append(meeting)
            return True
        return False

    hold_meetings(world.evening, world.facilitator, [person], TODAY - timedelta(days=1), absent)
    return person, first_rp[0]


def _next_delivery(world, module: str):
    """The first meeting after today delivering the module, in any group of the program."""
    calendars = group_calendars([world.evening, world.morning], TODAY + timedelta(weeks=20))
    found = [m for c in calendars.values() for m in c.meetings if m.held and m.module == module and m.date > TODAY]
    return min(found, key=lambda m: (m.date, m.time))


def _plan(client, person, **data):
    page = client.get(f"/participants/{person.id}")
    return client.post(f"/participants/{person.id}/makeups/new", data={"csrf_token": csrf_token(page.text), **data})


def _complete(client, person, makeup_id: int, day: date):
    return post_form(client, f"/participants/{person.id}/makeups/{makeup_id}/complete",
                     {"completed_on": day.isoformat()})


def test_the_page_suggests_the_next_meetings_delivering_a_missed_module(client, world, missed):
    person, meeting = missed
    nearest = _next_delivery(world, meeting.module)
    assert nearest.group == str(world.morning.id)  # the other group is at another rotation point
    login(client, world.facilitator.email)
    text = client.get(f"/participants/{person.id}").text
    section = text.split('id="makeups"')[1]
    assert meeting.module in section and "Morning group" in section
    assert f'name="planned_on" value="{nearest.date.isoformat()}"' in section
    assert "Individual session" in section and "Homework" in section


def test_plan_from_a_suggestion_then_complete_credits_the_module(client, world, missed):
    person, meeting = missed
    nearest = _next_delivery(world, meeting.module)
    login(client, world.facilitator.email)
    response = _plan(client, person, module=meeting.module, method="other_group", group_id=str(world.morning.id),
                     planned_on=nearest.date.isoformat())
    assert response.status_code == 302
    plan = db.session.scalar(select(MakeUp).where(MakeUp.participant_id == person.id))
    assert (plan.method, plan.meeting_group_id, plan.planned_on, plan.status) == (
        "other_group", world.morning.id, nearest.date, "planned")
    assert plan.assigned_by_id == world.facilitator.id and plan.module.code == meeting.module
    page = client.get(f"/participants/{person.id}").text
    assert "Make-up planned" in page and "Complete and credit" in page

    response = _complete(client, person, plan.id, TODAY)
    assert response.status_code == 302
    credit = db.session.scalar(select(Credit).where(Credit.participant_id == person.id, Credit.source == "make-up"))
    assert (credit.makeup_id, credit.credited_on, credit.created_by_id, credit.module_id) == (
        plan.id, TODAY, world.facilitator.id, plan.module_id)
    db.session.refresh(plan)
    assert plan.status == "completed" and plan.completed_by_id == world.facilitator.id and plan.completed_at
    page = client.get(f"/participants/{person.id}").text
    cell = page.split(f'<span class="pt-code">{meeting.module}</span>')[1].split("</li>")[0]
    assert "Credited" in cell and "Make-up: another group&#39;s meeting" in cell
    assert "recorded by Facilitator" in cell
    actions = audit_actions(person.id)
    assert actions.index("makeup.assign") < actions.index("makeup.complete")


def test_their_own_groups_meeting_is_the_next_rotation(client, world, missed):
    person, meeting = missed
    calendars = group_calendars([world.evening], TODAY + timedelta(weeks=20))
    own = next(m for m in calendars[world.evening.id].meetings if m.module == meeting.module and m.date > TODAY)
    login(client, world.facilitator.email)
    assert _plan(client, person, module=meeting.module, method="other_group", group_id=str(world.evening.id),
                 planned_on=own.date.isoformat()).status_code == 302
    plan = db.session.scalar(select(MakeUp).where(MakeUp.participant_id == person.id))
    assert plan.method == "next_rotation" and plan.meeting_group_id == world.evening.id


@pytest.mark.parametrize("method", ["individual", "homework"])
def test_individual_session_or_homework_needs_no_group(client, world, missed, method):
    person, meeting = missed
    login(client, world.facilitator.email)
    assert _plan(client, person, module=meeting.module, method=method).status_code == 302
    plan = db.session.scalar(select(MakeUp).where(MakeUp.participant_id == person.id))
    assert (plan.method, plan.meeting_group_id, plan.planned_on) == (method, None, None)


@pytest.mark.parametrize(("data", "message"), [
    ({"module": "RP 99", "method": "homework"}, "Choose a group module of their curriculum."),
    ({"module": "IC 2", "method": "homework"}, "Choose a group module of their curriculum."),
    ({"module": "MISSED", "method": "teleport"}, "Choose how the module will be made up."),
    ({"module": "MISSED", "method": "other_group"}, "Choose the group whose meeting they will attend."),
    ({"module": "MISSED", "method": "other_group", "group_id": "MORNING"}, "Enter the date of that group"),
    ({"module": "MISSED", "method": "other_group", "group_id": "MORNING", "planned_on": "TOMORROW"},
     "does not deliver"),
    ({"module": "MISSED", "method": "homework", "planned_on": "YESTERDAY"}, "The planned date has passed."),
    ({"module": "MISSED", "method": "homework", "note": "x" * 501}, "Keep the note to 500 characters or fewer."),
    ({"module": "CREDITED", "method": "homework"}, "is already credited (attended on"),
])
def test_planning_refuses_bad_input(client, world, missed, data, message):
    person, meeting = missed
    credited = next(c for t in progress.progress_for([person], TODAY)[person.id].progress.tracks
                    for c in t.credits if c.source == "attendance")
    words = {"MISSED": meeting.module, "CREDITED": credited.module, "MORNING": str(world.morning.id),
             "TOMORROW": (TODAY + timedelta(days=1)).isoformat(), "YESTERDAY": (TODAY - timedelta(days=1)).isoformat()}
    data = {key: words.get(value, value) for key, value in data.items()}
    if data.get("planned_on") == words["TOMORROW"]:  # a day the morning group delivers something else
        nearest = _next_delivery(world, meeting.module)
        data["planned_on"] = (nearest.date - timedelta(days=1)).isoformat()
    login(client, world.facilitator.email)
    response = _plan(client, person, **data)
    assert response.status_code == 422
    assert message.replace("'", "&#39;") in response.text
    assert db.session.scalar(select(MakeUp).where(MakeUp.participant_id == person.id)) is None


def test_a_module_gets_one_planned_make_up(client, world, missed):
    person, meeting = missed
    login(client, world.facilitator.email)
    assert _plan(client, person, module=meeting.module, method="homework").status_code == 302
    response = _plan(client, person, module=meeting.module, method="individual")
    assert response.status_code == 422 and f"A make-up for {meeting.module} is already planned (homework)." in response.text


def test_completing_twice_is_refused_and_credits_once(client, world, missed):
    person, meeting = missed
    login(client, world.facilitator.email)
    _plan(client, person, module=meeting.module, method="homework")
    plan = db.session.scalar(select(MakeUp).where(MakeUp.participant_id == person.id))
    page = client.get(f"/participants/{person.id}/makeups/{plan.id}/complete")
    token = csrf_token(page.text)
    url = f"/participants/{person.id}/makeups/{plan.id}/complete"
    assert client.post(url, data={"csrf_token": token, "completed_on": TODAY.isoformat()}).status_code == 302
    again = client.post(url, data={"csrf_token": token, "completed_on": TODAY.isoformat()})
    assert again.status_code == 422 and "This make-up was already completed on" in again.text
    assert len(db.session.scalars(select(Credit).where(Credit.makeup_id == plan.id)).all()) == 1


@pytest.mark.parametrize(("day", "message"), [
    ("TOMORROW", "The date it was done cannot be in the future."),
    ("BEFORE", "The date it was done is before the admission."),
    ("", "Enter the date it was done."),
    ("nonsense", "Enter a date like 2026-03-14."),
])
def test_completion_refuses_bad_dates(client, world, missed, day, message):
    person, meeting = missed
    login(client, world.facilitator.email)
    _plan(client, person, module=meeting.module, method="homework")
    plan = db.session.scalar(select(MakeUp).where(MakeUp.participant_id == person.id))
    days = {"TOMORROW": (TODAY + timedelta(days=1)).isoformat(),
            "BEFORE": (monday_weeks_ago(4) - timedelta(days=1)).isoformat()}
    response = post_form(client, f"/participants/{person.id}/makeups/{plan.id}/complete",
                         {"completed_on": days.get(day, day)})
    assert response.status_code == 422 and message in response.text
    db.session.refresh(plan)
    assert plan.status == "planned" and db.session.scalar(select(Credit).where(Credit.makeup_id == plan.id)) is None


def test_completion_is_refused_when_the_module_was_credited_meanwhile(client, world, missed, session):
    person, meeting = missed
    login(client, world.facilitator.email)
    _plan(client, person, module=meeting.module, method="homework")
    plan = db.session.scalar(select(MakeUp).where(MakeUp.participant_id == person.id))
    session.add(Credit(participant_id=person.id, module_id=plan.module_id, source="override",
                       reason="Covered in an individual session", credited_on=TODAY - timedelta(days=1),
                       created_by_id=world.director.id))
    session.flush()
    response = _complete(client, person, plan.id, TODAY)
    assert response.status_code == 422 and "is already credited" in response.text
    assert "Cancel this make-up instead." in response.text


def test_cancel_a_plan_then_it_cannot_be_completed(client, world, missed):
    person, meeting = missed
    login(client, world.facilitator.email)
    _plan(client, person, module=meeting.module, method="homework")
    plan = db.session.scalar(select(MakeUp).where(MakeUp.participant_id == person.id))
    page = client.get(f"/participants/{person.id}")
    response = client.post(f"/participants/{person.id}/makeups/{plan.id}/cancel",
                           data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 302
    db.session.refresh(plan)
    assert plan.status == "cancelled" and "makeup.cancel" in audit_actions(person.id)
    response = _complete(client, person, plan.id, TODAY)
    assert response.status_code == 422 and "This make-up was cancelled." in response.text
    # A cancelled plan no longer blocks a new one.
    assert _plan(client, person, module=meeting.module, method="individual").status_code == 302


def test_a_discharged_participant_gets_no_new_make_up(client, world, missed, session):
    person, meeting = missed
    person.enrollments[0].discharged_on, person.enrollments[0].discharge_reason = TODAY, "completed"
    session.flush()
    login(client, world.facilitator.email)
    response = _plan(client, person, module=meeting.module, method="homework")
    assert response.status_code == 422 and "currently admitted" in response.text


def test_another_participants_make_up_is_not_found(client, world, missed, make_participant):
    person, meeting = missed
    other = make_participant(world.program, world.evening, admitted=monday_weeks_ago(1))
    login(client, world.facilitator.email)
    _plan(client, person, module=meeting.module, method="homework")
    plan = db.session.scalar(select(MakeUp).where(MakeUp.participant_id == person.id))
    assert client.get(f"/participants/{other.id}/makeups/{plan.id}/complete").status_code == 404
    page = client.get(f"/participants/{other.id}")
    response = client.post(f"/participants/{other.id}/makeups/{plan.id}/cancel",
                           data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 404
    db.session.refresh(plan)
    assert plan.status == "planned"


def test_the_service_completes_a_plan_once_even_from_a_stale_copy(world, missed):
    person, meeting = missed
    plan = progress.assign_makeup(person, meeting.module, "homework", None, None, "", world.facilitator, TODAY)
    progress.complete_makeup(plan, TODAY, world.facilitator, TODAY)
    set_committed_value(plan, "status", "planned")  # what a request loaded before the first commit sees
    with pytest.raises(progress.MakeUpError, match="already"):
        progress.complete_makeup(plan, TODAY, world.director, TODAY)
    assert len(db.session.scalars(select(Credit).where(Credit.makeup_id == plan.id)).all()) == 1


def test_participant_sees_their_make_ups_without_staff_notes(client, world, missed, make_user):
    person, meeting = missed
    progress.assign_makeup(person, meeting.module, "homework", None, None, "Private staff note", world.facilitator,
                           TODAY)
    account = make_user("participant", world.program, participant=person)
    login(client, account.email)
    page = client.get("/me").text
    assert meeting.module in page and "Homework" in page and "To do" in page
    assert "Private staff note" not in page and world.facilitator.display_name not in page


def test_an_individual_make_up_s_time_counts_toward_hours_and_homework_s_does_not(world, missed):
    person, meeting = missed
    homework = progress.assign_makeup(person, meeting.module, "homework", None, None, "", world.facilitator, TODAY)
    with pytest.raises(progress.MakeUpError, match="leave the minutes at 0"):
        progress.complete_makeup(homework, TODAY, world.facilitator, TODAY, minutes=30)
    progress.cancel_makeup(homework, world.facilitator)
    week = TODAY - timedelta(days=TODAY.weekday())

    def attended() -> int:
        plan = progress.progress_for([person], TODAY)[person.id]
        return next(w.attended for w in plan.progress.weeks if w.monday == week)

    before = attended()
    session_plan = progress.assign_makeup(person, meeting.module, "individual", None, TODAY, "", world.facilitator,
                                          TODAY)
    with pytest.raises(progress.MakeUpError, match="from 0 to 480"):
        progress.complete_makeup(session_plan, TODAY, world.facilitator, TODAY, minutes=481)
    assert session_plan.status == "planned", "a refused completion changes nothing"
    credit = progress.complete_makeup(session_plan, TODAY, world.facilitator, TODAY, minutes=40)
    assert credit.minutes == 40 and attended() == before + 40


def test_a_planned_make_up_prints_its_worksheets_with_the_name_and_fillable_for_the_participant(
        client, world, missed, make_user):
    person, meeting = missed
    progress.assign_makeup(person, meeting.module, "homework", None, None, "", world.facilitator, TODAY)
    login(client, world.facilitator.email)
    staff_link = f"/documents/worksheet/{meeting.module.replace(' ', '%20')}.pdf?participant={person.id}"
    assert staff_link in client.get(f"/participants/{person.id}").text
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/today").text)})
    login(client, make_user("participant", world.program, participant=person).email)
    page = client.get("/me").text
    assert staff_link in page and f"{staff_link}&amp;fillable=1" in page
    fillable = client.get(f"{staff_link}&fillable=1")
    assert fillable.status_code == 200 and pypdf.PdfReader(io.BytesIO(fillable.data)).get_fields()
