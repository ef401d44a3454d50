"""The relapse analysis as a web form: the RA worksheet's fields, drafts, review, read-only after
review, who may do what, audit events and query counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from facilitator.audit.models import AuditEvent
from facilitator.clinical import services
from facilitator.clinical.models import RelapseAnalysis

from .conftest import csrf_token, login


@pytest.fixture
def setup(session, make_program, make_user, make_group, make_participant):
    """A participant with a positive test, so an open relapse analysis, and a facilitator."""
    program = make_program()
    today = services.program_today(program.id)
    group = make_group(program, start=today - timedelta(weeks=10))
    person = make_participant(program, group, admitted=today - timedelta(weeks=4), name="Robin")
    user = make_user("facilitator", program)
    recorded = services.record_test(person, collected_on=today - timedelta(days=1), kind="urine", result="positive",
                                    substances=["methamphetamine"], observed=True, user=user, today=today)
    return program, person, user, recorded.analysis


def _url(person, analysis):
    return f"/participants/{person.id}/relapse-analyses/{analysis.id}"


def _post(client, person, analysis, review=False, **fields):
    page = client.get(_url(person, analysis))
    data = {"csrf_token": csrf_token(page.text), **fields}
    data["review" if review else "save"] = "1"
    return client.post(_url(person, analysis), data=data)


def test_the_form_is_built_from_the_ra_worksheet_fields(client, setup):
    _, person, user, analysis = setup
    login(client, user.email)
    page = client.get(_url(person, analysis))
    assert page.status_code == 200
    text = page.text
    assert "RA 1A" in text and "Looking Back at a Use or Craving" in text
    assert '<label for="ws-what_happened" class="ws-label">' in text  # text -> input
    assert '<input type="date" name="ws-when_happened"' in text  # date -> date input
    assert '<textarea name="ws-differently" id="ws-differently" rows="4"' in text  # lines -> textarea
    assert "Start with the day of, then work back week by week." in text  # note -> paragraph
    # table -> a grid of textareas, each labelled by its visible row and column headers
    assert '<th scope="col" id="ws-weeks_before-rh" class="ws-col-label">Area of life</th>' in text
    assert '<th scope="row" id="ws-weeks_before-r1-th">Money</th>' in text
    assert ('<textarea name="ws-weeks_before-r1-c1" id="ws-weeks_before-r1-c1" rows="2" '
            'aria-labelledby="ws-weeks_before-r1-th ws-weeks_before-c1">') in text
    assert text.count('name="ws-weeks_before-r') == 6 * 5
    # signature -> typed name and date
    assert '<label for="ws-participant_signature-name">Typed name</label>' in text
    assert '<input type="date" name="ws-counselor_signature-date"' in text
    assert "Save draft" in text and "Save and mark reviewed" in text


def test_a_draft_is_saved_keyed_by_field_id_and_audited_by_field_name(client, setup, session):
    _, person, user, analysis = setup
    login(client, user.email)
    response = _post(client, person, analysis, **{
        "ws-what_happened": "Used after payday", "ws-when_happened": "2026-01-05",
        "ws-weeks_before-r1-c4": "Cash in my pocket", "ws-weeks_before-r6-c5": "Bored, angry",
        "ws-differently": "Given my card to my sister\r\non payday", "ws-participant_signature-name": "Robin",
    })
    assert response.status_code == 303
    session.refresh(analysis)
    assert analysis.answers == {
        "what_happened": "Used after payday", "when_happened": "2026-01-05",
        "weeks_before": {"r1_c4": "Cash in my pocket", "r6_c5": "Bored, angry"},
        "differently": "Given my card to my sister\non payday", "participant_signature": {"name": "Robin"},
    }
    assert analysis.status == "open"
    page = client.get(response.headers["Location"])
    assert "Draft saved." in page.text and ">Cash in my pocket</textarea>" in page.text
    [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "relapse_analysis.save")).all()
    assert event.detail == {"fields": ["differently", "participant_signature", "weeks_before", "what_happened",
                                       "when_happened"]}
    assert "payday" not in str(event.detail)


def test_clearing_an_answer_removes_it_and_keeps_other_versions_keys(client, setup, session):
    _, person, user, analysis = setup
    analysis.answers = {"differently": "Old text", "could_have_gone_differently": "from an older sheet"}
    session.flush()
    login(client, user.email)
    assert _post(client, person, analysis, **{"ws-differently": "  "}).status_code == 303
    session.refresh(analysis)
    assert analysis.answers == {"could_have_gone_differently": "from an older sheet"}


@pytest.mark.parametrize("fields,message", [
    ({"ws-when_happened": "last tuesday"}, "Enter a date like 2027-01-05."),
    ({"ws-what_happened": "x" * 301}, "Keep this to 300 characters or fewer (it has 301)."),
    ({"ws-counselor_signature-date": "2026-13-01"}, "Enter a date like 2027-01-05."),
])
def test_bad_answers_are_refused_next_to_the_field_and_keep_what_was_typed(client, setup, session, fields, message):
    _, person, user, analysis = setup
    login(client, user.email)
    response = _post(client, person, analysis, **{"ws-differently": "Kept in the form", **fields})
    assert response.status_code == 422
    assert message in response.text and 'aria-invalid="true"' in response.text
    assert ">Kept in the form</textarea>" in response.text
    session.refresh(analysis)
    assert analysis.answers == {}


def test_a_counselor_marks_it_reviewed_and_then_it_is_read_only(client, setup, session):
    _, person, user, analysis = setup
    login(client, user.email)
    response = _post(client, person, analysis, review=True, **{"ws-weeks_before-r2-c3": "Argued with my partner"})
    assert response.status_code == 303
    session.refresh(analysis)
    assert analysis.status == "reviewed" and analysis.reviewed_by_id == user.id and analysis.reviewed_at is not None
    assert analysis.answers == {"weeks_before": {"r2_c3": "Argued with my partner"}}
    page = client.get(_url(person, analysis))
    assert "It is read-only." in page.text and "Argued with my partner" in page.text
    assert "<textarea" not in page.text and "Save draft" not in page.text
    actions = set(session.scalars(select(AuditEvent.action).where(AuditEvent.entity_id == analysis.id)))
    assert {"relapse_analysis.save", "relapse_analysis.review", "relapse_analysis.view"} <= actions
    # Editing a reviewed analysis is refused and changes nothing (the form is posted anyway).
    token = csrf_token(page.text)
    for button in ("save", "review"):
        response = client.post(_url(person, analysis), data={"csrf_token": token, button: "1",
                                                             "ws-weeks_before-r2-c3": "Changed"})
        assert response.status_code == 422
        assert "This relapse analysis was reviewed and is now read-only." in response.text
    session.refresh(analysis)
    assert analysis.answers == {"weeks_before": {"r2_c3": "Argued with my partner"}}


def test_an_empty_analysis_cannot_be_marked_reviewed(client, setup, session):
    _, person, user, analysis = setup
    login(client, user.email)
    response = _post(client, person, analysis, review=True)
    assert response.status_code == 422 and "Fill in the worksheet before marking it reviewed." in response.text
    session.refresh(analysis)
    assert analysis.status == "open"


def test_a_participant_fills_their_own_draft_but_cannot_review_it(client, setup, make_user, session):
    program, person, _, analysis = setup
    account = make_user("participant", program, participant=person)
    login(client, account.email)
    page = client.get(_url(person, analysis))
    assert page.status_code == 200 and "Save draft" in page.text and "Save and mark reviewed" not in page.text
    assert _post(client, person, analysis, **{"ws-what_happened": "A craving at work"}).status_code == 303
    session.refresh(analysis)
    assert analysis.answers == {"what_happened": "A craving at work"}
    response = _post(client, person, analysis, review=True, **{"ws-what_happened": "Changed"})
    assert response.status_code == 403
    assert "Only a counselor can mark a relapse analysis reviewed." in response.text
    session.refresh(analysis)
    assert (analysis.status, analysis.answers) == ("open", {"what_happened": "A craving at work"})


def test_only_the_participants_own_analyses_are_found(client, setup, make_user, make_participant, session):
    program, person, user, analysis = setup
    today = services.program_today(program.id)
    other = make_participant(program)
    # Another participant's analysis id under this participant's URL, and the reverse: 404.
    login(client, user.email)
    assert client.get(f"/participants/{other.id}/relapse-analyses/{analysis.id}").status_code == 404
    assert client.get(f"/participants/{person.id}/relapse-analyses/999999").status_code == 404
    # A participant account cannot reach someone else's analysis, nor staff of another program.
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/today").text)})
    someone = make_participant(program, None)
    login(client, make_user("participant", program, participant=someone).email)
    assert client.get(_url(person, analysis)).status_code == 404
    client.post("/logout", data={"csrf_token": csrf_token(client.get(f"/participants/{someone.id}/tests").text)})
    login(client, make_user("director").email)
    assert client.get(_url(person, analysis)).status_code == 404
    assert session.get(RelapseAnalysis, analysis.id).answers == {}
    assert today  # the program's today was computed for this program


def test_the_analysis_page_builds_in_a_fixed_number_of_queries(client, setup, count_queries, session):
    _, person, user, analysis = setup
    login(client, user.email)
    client.get(_url(person, analysis))  # the worksheet is cached per published version, as on a server
    with count_queries() as empty:
        client.get(_url(person, analysis))
    analysis.answers = {"weeks_before": {f"r{r}_c{c}": "x" for r in range(1, 7) for c in range(1, 6)},
                        "differently": "y" * 200}
    session.commit()
    client.get(_url(person, analysis))
    with count_queries() as full:
        client.get(_url(person, analysis))
    assert empty.count == full.count <= 10
