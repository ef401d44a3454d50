"""Drug and breath tests: recording, the rules that refuse bad input, the relapse analysis a positive
result opens, the sobriety date, who may see what, audit events and query counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from facilitator.alerts.services import alerts_for
from facilitator.audit.models import AuditEvent
from facilitator.clinical import services
from facilitator.clinical.models import DrugTest, RelapseAnalysis
from facilitator.participants.models import Enrollment
from facilitator.progress.services import progress_for

from .conftest import csrf_token, login


@pytest.fixture
def setup(session, make_program, make_user, make_group, make_participant):
    """A program with a group that started ten weeks ago and a participant admitted four weeks ago."""
    program = make_program()
    today = services.program_today(program.id)
    group = make_group(program, start=today - timedelta(weeks=10))
    person = make_participant(program, group, admitted=today - timedelta(weeks=4), name="Robin")
    user = make_user("facilitator", program)
    return program, group, person, user, today


def _url(person, tail="tests"):
    return f"/participants/{person.id}/{tail}"


def _post_test(client, person, **fields):
    page = client.get(_url(person))
    data = {"csrf_token": csrf_token(page.text), "collected_on": "", "kind": "urine", "result": "negative"}
    data.update({k: v for k, v in fields.items() if v is not None})
    return client.post(_url(person), data=data)


def _count(session, model, person):
    return session.scalar(select(func.count()).select_from(model).where(model.participant_id == person.id))


def _events(session, action, person=None):
    query = select(AuditEvent).where(AuditEvent.action == action)
    if person is not None:
        query = query.where(AuditEvent.participant_id == person.id)
    return list(session.scalars(query))


# --- recording ---------------------------------------------------------------------------------------------

def test_a_negative_test_is_listed_and_opens_nothing(client, setup, session):
    _, _, person, user, today = setup
    login(client, user.email)
    day = today - timedelta(days=2)
    response = _post_test(client, person, collected_on=day.isoformat(), kind="breath", observed="y")
    assert response.status_code == 303
    page = client.get(response.headers["Location"])
    assert "Negative breath test on" in page.text
    test = session.scalar(select(DrugTest).where(DrugTest.participant_id == person.id))
    assert (test.collected_on, test.kind, test.result, test.substances, test.observed) == (day, "breath", "negative", [], True)
    assert test.recorded_by_id == user.id
    assert _count(session, RelapseAnalysis, person) == 0
    assert person.sobriety_date is None
    [event] = _events(session, "drug_test.create", person)
    assert event.entity == "drug_test" and event.entity_id == test.id and event.user_id == user.id


def test_a_positive_test_opens_a_relapse_analysis_and_offers_to_fill_it(client, setup, session):
    program, _, person, user, today = setup
    login(client, user.email)
    day = today - timedelta(days=1)
    response = _post_test(client, person, collected_on=day.isoformat(), result="positive",
                          substances=["methamphetamine", "alcohol"])
    assert response.status_code == 303
    analysis = session.scalar(select(RelapseAnalysis).where(RelapseAnalysis.participant_id == person.id))
    assert (analysis.opened_by, analysis.status, analysis.occurred_on) == ("positive_test", "open", day)
    assert analysis.drug_test.substances == ["methamphetamine", "alcohol"]
    page = client.get(response.headers["Location"])
    assert "A relapse analysis is open" in page.text
    assert f'href="/participants/{person.id}/relapse-analyses/{analysis.id}"' in page.text
    assert "Fill in the relapse analysis now" in page.text
    assert person.sobriety_date == day + timedelta(days=1)
    assert _events(session, "relapse_analysis.open", person)[0].entity_id == analysis.id
    assert _events(session, "participant.update", person)[0].detail == {"fields": ["sobriety_date"]}
    # The alert "positive test without a relapse analysis" does not fire: the analysis exists.
    plans = progress_for([person], today)
    assert all(a.kind != "positive_test" for a in alerts_for(program, plans, today).get(person.id, []))


def test_the_alert_fires_for_a_positive_test_stored_without_an_analysis(setup, session):
    program, _, person, user, today = setup
    session.add(DrugTest(participant_id=person.id, collected_on=today - timedelta(days=3), kind="urine",
                         result="positive", substances=["cocaine"], recorded_by_id=user.id))
    session.flush()
    found = alerts_for(program, progress_for([person], today), today)[person.id]
    assert "positive_test" in [a.kind for a in found]


@pytest.mark.parametrize("before,expected", [
    (None, 1),  # no sobriety date yet: the day after the test
    (-30, 1),  # a sobriety date before the test: moved to the day after
    (0, 1),  # the same day: used that day, so the day after
    (+2, 2),  # a later date (a newer positive already moved it): kept
])
def test_the_sobriety_date_moves_to_the_day_after_a_positive_test(setup, session, before, expected):
    _, _, person, user, today = setup
    day = today - timedelta(days=5)
    person.sobriety_date = None if before is None else day + timedelta(days=before)
    services.record_test(person, collected_on=day, kind="urine", result="positive", substances=["cocaine"],
                         observed=False, user=user, today=today)
    assert person.sobriety_date == day + timedelta(days=expected)


def test_a_reported_use_opens_an_analysis_and_a_later_positive_test_joins_it(setup, session):
    _, _, person, user, today = setup
    used = today - timedelta(days=6)
    first = services.record_report(person, occurred_on=used, opened_by="reported_use", user=user, today=today)
    assert first.analysis.opened_by == "reported_use" and person.sobriety_date == used + timedelta(days=1)
    second = services.record_test(person, collected_on=today - timedelta(days=2), kind="urine", result="positive",
                                  substances=["methamphetamine"], observed=True, user=user, today=today)
    assert second.analysis.id == first.analysis.id
    assert second.analysis.drug_test_id == second.test.id
    assert _count(session, RelapseAnalysis, person) == 1


def test_a_craving_opens_an_analysis_but_keeps_the_sobriety_date(setup, session):
    _, _, person, user, today = setup
    person.sobriety_date = today - timedelta(days=40)
    recorded = services.record_report(person, occurred_on=today, opened_by="craving", user=user, today=today)
    assert recorded.analysis.opened_by == "craving" and recorded.sobriety_date is None
    assert person.sobriety_date == today - timedelta(days=40)


def test_a_reported_use_through_the_page(client, setup, session):
    _, _, person, user, today = setup
    login(client, user.email)
    page = client.get(_url(person))
    response = client.post(_url(person, "relapse-analyses"), data={
        "csrf_token": csrf_token(page.text), "occurred_on": today.isoformat(), "opened_by": "craving"})
    assert response.status_code == 303 and "opened=" in response.headers["Location"]
    assert session.scalar(select(RelapseAnalysis.opened_by).where(RelapseAnalysis.participant_id == person.id)) == "craving"


# --- bad input ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fields,message", [
    ({"collected_on": "+3"}, "The date cannot be in the future"),
    ({"collected_on": "-40"}, "The date is before admission on"),
    ({"collected_on": ""}, "Enter a date like 2027-01-05."),
    ({"collected_on": "2027-02-30"}, "Enter a date like 2027-01-05."),
    ({"kind": "blood"}, "Choose the kind of test: urine, breath, oral fluid or other."),
    ({"result": "dirty"}, "Choose the result: negative, positive, dilute, invalid or refused."),
    ({"result": ""}, "Choose the result."),
    ({"result": "positive"}, "A positive result needs at least one substance."),
    ({"result": "negative", "substances": ["cocaine"]}, "Substances are recorded only for a positive result"),
    ({"result": "dilute", "substances": ["alcohol"]}, "not a dilute one"),
    ({"result": "positive", "substances": ["sugar"]}, "Choose substances from the list"),
])
def test_bad_input_is_refused_next_to_the_field_and_changes_nothing(client, setup, session, fields, message):
    _, _, person, user, today = setup
    login(client, user.email)
    day = fields.get("collected_on", "-1")
    if day and day[0] in "+-":
        day = (today + timedelta(days=int(day))).isoformat()
    response = _post_test(client, person, **{**fields, "collected_on": day})
    assert response.status_code == 422
    assert message in response.text
    assert 'class="error"' in response.text
    assert _count(session, DrugTest, person) == 0
    assert _count(session, RelapseAnalysis, person) == 0
    assert person.sobriety_date is None


def test_a_test_after_discharge_or_without_admission_is_refused(setup, session, make_participant):
    program, _, person, user, today = setup
    stay = session.scalar(select(Enrollment).where(Enrollment.participant_id == person.id))
    stay.discharged_on, stay.discharge_reason = today - timedelta(days=3), "completed"
    with pytest.raises(services.ClinicalError, match="after discharge"):
        services.record_test(person, collected_on=today - timedelta(days=1), kind="urine", result="negative",
                             substances=[], observed=False, user=user, today=today)
    never = make_participant(program)
    with pytest.raises(services.ClinicalError, match="no admission yet"):
        services.record_report(never, occurred_on=today, opened_by="craving", user=user, today=today)


def test_a_second_test_of_the_same_kind_that_day_is_refused_unless_a_retest(setup, session):
    _, _, person, user, today = setup
    day = today - timedelta(days=1)
    args = {"collected_on": day, "kind": "urine", "substances": [], "observed": False, "user": user, "today": today}
    services.record_test(person, result="dilute", **args)
    services.record_test(person, result="negative", **args)  # the retest after a dilute sample
    with pytest.raises(services.ClinicalError, match="already recorded") as refused:
        services.record_test(person, result="negative", **args)
    assert refused.value.field == "collected_on"
    services.record_test(person, result="negative", **{**args, "kind": "breath"})  # another kind is fine


def test_a_reported_use_with_bad_input_is_refused(client, setup, session):
    _, _, person, user, today = setup
    login(client, user.email)
    page = client.get(_url(person))
    token = csrf_token(page.text)
    for data, message in (
        ({"occurred_on": (today + timedelta(days=2)).isoformat(), "opened_by": "reported_use"}, "in the future"),
        ({"occurred_on": today.isoformat(), "opened_by": "positive_test"}, "a use or a strong craving"),
        ({"occurred_on": today.isoformat()}, "Choose a use or a strong craving."),
    ):
        response = client.post(_url(person, "relapse-analyses"), data={"csrf_token": token, **data})
        assert response.status_code == 422 and message in response.text
    assert _count(session, RelapseAnalysis, person) == 0
    services.record_report(person, occurred_on=today, opened_by="craving", user=user, today=today)
    with pytest.raises(services.ClinicalError, match="already open"):
        services.record_report(person, occurred_on=today, opened_by="craving", user=user, today=today)


# --- who may see what --------------------------------------------------------------------------------------

def test_another_programs_participant_is_not_found(client, setup, make_user, session):
    _, _, person, user, today = setup
    services.record_report(person, occurred_on=today, opened_by="craving", user=user, today=today)
    analysis = services.analyses_of(person)[0]
    stranger = make_user("director")  # a director of another program
    login(client, stranger.email)
    assert client.get(_url(person)).status_code == 404
    assert client.get(_url(person, f"relapse-analyses/{analysis.id}")).status_code == 404
    # The POST is refused before it can change anything (CSRF token from the stranger's own session).
    token = csrf_token(client.get("/today").text)
    response = client.post(_url(person), data={"csrf_token": token, "collected_on": today.isoformat(),
                                               "kind": "urine", "result": "negative"})
    assert response.status_code == 404
    assert _count(session, DrugTest, person) == 0


def test_a_participant_sees_their_own_tests_read_only(client, setup, make_user, make_participant, session):
    program, group, person, user, today = setup
    services.record_test(person, collected_on=today - timedelta(days=1), kind="urine", result="positive",
                         substances=["cocaine"], observed=False, user=user, today=today)
    account = make_user("participant", program, participant=person)
    other = make_participant(program, group, admitted=today - timedelta(weeks=2))
    login(client, account.email)
    page = client.get(_url(person))
    assert page.status_code == 200 and "Cocaine" in page.text
    assert "Record a test" not in page.text and f'action="/participants/{person.id}/tests"' not in page.text
    assert client.get(_url(other)).status_code == 404
    token = csrf_token(client.get(_url(person)).text)
    response = client.post(_url(person), data={"csrf_token": token, "collected_on": today.isoformat(),
                                               "kind": "urine", "result": "negative"})
    assert response.status_code == 403
    assert _count(session, DrugTest, person) == 1


def test_reading_the_page_is_audited_without_health_values(client, setup, session):
    _, _, person, user, today = setup
    services.record_test(person, collected_on=today - timedelta(days=1), kind="urine", result="positive",
                         substances=["fentanyl"], observed=False, user=user, today=today)
    login(client, user.email)
    client.get(_url(person))
    [event] = _events(session, "clinical.tests.view", person)
    assert event.user_id == user.id and event.detail == {"tests": 1, "analyses": 1}
    every = " ".join(str(e.detail) for e in session.scalars(select(AuditEvent)))
    assert "fentanyl" not in every and "positive" not in every and "Robin" not in every


# --- query counts ------------------------------------------------------------------------------------------

def _page_queries(client, person, count_queries) -> int:
    client.get(_url(person))  # warm caches (curriculum structure) like a running server
    with count_queries() as counter:
        assert client.get(_url(person)).status_code == 200
    return counter.count


def test_the_tests_page_builds_in_a_fixed_number_of_queries(client, setup, make_participant, make_user,
                                                            count_queries, session):
    program, group, person, user, today = setup
    other = make_participant(program, group, admitted=today - timedelta(weeks=8))
    staff = [make_user("facilitator", program) for _ in range(3)]

    def fill(who, n):
        for i in range(n):
            day = today - timedelta(days=i + 1)
            services.record_test(who, collected_on=day, kind="urine", result="positive" if i % 4 == 0 else "negative",
                                 substances=["cocaine"] if i % 4 == 0 else [], observed=bool(i % 2),
                                 user=staff[i % 3], today=today)
        session.flush()

    fill(person, 5)
    fill(other, 40)
    login(client, user.email)
    small, large = _page_queries(client, person, count_queries), _page_queries(client, other, count_queries)
    assert small == large
    assert small <= 12
