"""Individual sessions (IC, RA) are booked one to one: recording one credits the module."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from facilitator import clock
from facilitator.progress.models import Credit
from facilitator.progress.services import progress_for

from .conftest import csrf_token, login


@pytest.fixture
def person(session, make_program, make_user, make_group, make_participant):
    program = make_program()
    group = make_group(program, start=clock.today() - timedelta(weeks=3))
    user = make_user("facilitator", program)
    return make_participant(program, group, admitted=clock.today() - timedelta(weeks=2)), user


def _post(client, person, **data):
    url = f"/participants/{person.id}/sessions/new"
    page = client.get(url)
    return client.post(url, data={"csrf_token": csrf_token(page.text), **data})


def test_recording_ic_2_credits_it(client, session, person):
    participant, user = person
    login(client, user.email)
    page = client.get(f"/participants/{participant.id}")
    assert "Record an individual session (IC or RA)" in page.text
    held = clock.today() - timedelta(days=1)
    response = _post(client, participant, module="IC 2", held_on=held.isoformat(), note="Goals reviewed")
    assert response.status_code == 302
    plan = progress_for([participant], clock.today())[participant.id]
    credits = plan.progress.track("IC").credits
    assert [(c.module, c.date) for c in credits] == [("IC 2", held)]
    row = session.scalar(select(Credit).where(Credit.participant_id == participant.id))
    assert row.source == "individual" and row.created_by_id == user.id


@pytest.mark.parametrize("data,message", [
    ({"module": "RP 3", "held_on": clock.today().isoformat()}, "Choose an individual session they still need."),
    ({"module": "IC 2", "held_on": (clock.today() + timedelta(days=2)).isoformat()}, "cannot be in the future"),
    ({"module": "IC 2", "held_on": (clock.today() - timedelta(weeks=5)).isoformat()}, "inside the participant"),
    ({"module": "IC 2", "held_on": ""}, "date"),
    ({"module": "IC 2", "held_on": clock.today().isoformat(), "minutes": "600"}, "from 0 to 480"),
    ({"module": "IC 2", "held_on": clock.today().isoformat(), "minutes": "-5"}, "from 0 to 480"),
])
def test_bad_sessions_are_refused_and_change_nothing(client, session, person, data, message):
    participant, user = person
    login(client, user.email)
    response = _post(client, participant, **data)
    assert response.status_code == 422
    assert message in response.text
    assert session.scalar(select(Credit).where(Credit.participant_id == participant.id)) is None


def test_a_credited_session_is_not_offered_again(client, session, person):
    participant, user = person
    login(client, user.email)
    _post(client, participant, module="IC 1", held_on=clock.today().isoformat())
    page = client.get(f"/participants/{participant.id}/sessions/new")
    assert "IC 2" in page.text and 'value="IC 1"' not in page.text


def test_another_programs_participant_is_not_found(client, person, make_user):
    participant, _ = person
    login(client, make_user("facilitator").email)
    assert client.get(f"/participants/{participant.id}/sessions/new").status_code == 404


def test_the_session_s_minutes_count_toward_that_week_s_hours(client, session, person):
    participant, user = person
    login(client, user.email)
    held = clock.today() - timedelta(days=1)
    week_of = held - timedelta(days=held.weekday())

    def attended_that_week() -> int:
        plan = progress_for([participant], clock.today())[participant.id]
        return next(w.attended for w in plan.progress.weeks if w.monday == week_of)

    before = attended_that_week()
    assert _post(client, participant, module="IC 2", held_on=held.isoformat(), minutes="45").status_code == 302
    assert attended_that_week() == before + 45
    blank = _post(client, participant, module="IC 3", held_on=held.isoformat(), minutes="")
    assert blank.status_code == 302
    ic3 = session.scalar(select(Credit).where(Credit.participant_id == participant.id, Credit.minutes != 45))
    assert ic3.minutes == ic3.module.minutes > 0, "blank means the session's usual length"
