"""The what-if simulator page: scenario A (a group's or a curriculum's pattern) against an edited
scenario B over the same admissions and holidays; every bad input refused next to its field with
nothing run; roles and other programs' groups; a fixed number of queries for 5 or 200 admissions."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from facilitator.groups.calendars import version_structure
from facilitator.planning import services, views

from .conftest import csrf_token, login
from .test_planning import DEFAULT, TUESDAY_RP, form_data, pattern

TODAY = date(2027, 1, 1)
START = date(2027, 1, 4)  # a Monday


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setattr(views, "_today", lambda: TODAY)


@pytest.fixture
def director(session, make_program, make_user):
    return make_user("director", make_program())


def what_if_data(html: str, rows=(*DEFAULT, TUESDAY_RP), *, start="2027-01-04", until="2027-06-30",
                 holidays="", admissions="2027-01-04\n2027-01-05\n2027-01-06\n2027-01-07\n2027-01-08",
                 source=None, button="run") -> dict:
    return form_data(html, rows, source, button, start=start, until=until, holidays=holidays, admissions=admissions)


def _source(program_id: int, key: str | None = None) -> services.Source:
    return services.pick_source(services.sources(program_id), key)


# --- The service --------------------------------------------------------------------------------


def test_a_tuesday_rp_meeting_brings_every_completion_forward(director, matrix16):
    structure = version_structure(matrix16.id)
    source = _source(director.program_id)
    admissions = tuple(services.Admission(START + timedelta(days=i), (), i + 1) for i in range(5))
    absent = services.Admission(START, (date(2027, 1, 8),), 6)  # misses ERS 2 and RP 2 on Friday
    inputs = services.WhatIfInput(source, pattern(*DEFAULT, TUESDAY_RP), START, date(2027, 6, 30), (),
                                  (*admissions, absent))
    result = services.run_what_if(inputs, structure, 540, TODAY)
    # Admitted Monday Jan 4: the 32nd RP meeting is Friday Apr 23 (109 days) on Mon/Fri; with a Tuesday
    # RP as well, RP is done in week 11 and FE's 12th Wednesday (Mar 24) ends the program.
    assert (result.rows[0].a, result.rows[0].b) == (date(2027, 4, 23), date(2027, 3, 24))
    assert result.rows[0].difference == -30
    assert all(row.difference < 0 for row in result.rows)
    assert result.count(-1) == 6 and result.count(1) == 0
    # Missing RP 2 means waiting for it to come round again after RP 32: two meetings later under A
    # (Fri Apr 30). Under B, RP comes round again before FE is done, so the absence costs nothing.
    assert (result.rows[5].a, result.rows[5].b) == (date(2027, 4, 30), date(2027, 3, 24))
    assert [p.minutes for p in result.a.phases] == [370, 270, 270]
    assert [p.minutes for p in result.b.phases] == [460, 360, 90]


def test_holidays_postpone_completion_in_both_scenarios(director, matrix16):
    structure = version_structure(matrix16.id)
    source = _source(director.program_id)
    base = services.WhatIfInput(source, pattern(*DEFAULT), START, date(2027, 6, 30), (),
                                (services.Admission(START, (), 1),))
    plain = services.run_what_if(base, structure, 540, TODAY)
    closed = services.run_what_if(base.__class__(**{**base.__dict__, "holidays": (date(2027, 1, 18),)}),
                                  structure, 540, TODAY)
    # Monday Jan 18 closed: ERS 5 and RP 5 move to Friday, so the last RP is a meeting later (Mon Apr 26).
    assert plain.rows[0].a == date(2027, 4, 23) and closed.rows[0].a == date(2027, 4, 26)
    assert closed.rows[0].difference == 0  # A and B are the same pattern here


def test_a_group_scenario_goes_on_from_where_its_rotations_stand(director, make_group, matrix16):
    group = make_group(director.program, start=START)
    source = _source(director.program_id, f"group-{group.id}")
    assert source.group == group and source.slots == pattern(*DEFAULT)
    # Two weeks in: ERS and RP met 4 times (ERS 5, RP 5 next), FE and SS twice.
    assert services.rotation_start(source, date(2027, 1, 18)) == {"ERS": "ERS 5", "RP": "RP 5", "FE": "FE 3",
                                                                  "SS": "SS 3"}
    suggested = _source(director.program_id)
    assert suggested.group is None and services.rotation_start(suggested, date(2027, 1, 18)) == {}


# --- The page -----------------------------------------------------------------------------------


def test_the_page_starts_from_the_suggested_pattern_with_a_week_of_admissions(client, director):
    login(client, director.email)
    page = client.get("/planning/what-if")
    assert page.status_code == 200
    assert "Mon 5:30 PM: ERS, 50 min" in page.text
    assert page.text.count('class="pl-slot"') == 6
    assert 'value="2027-01-04"' in page.text and 'value="2027-07-04"' in page.text  # 26 weeks from Monday
    assert "2027-01-04\n2027-01-05\n2027-01-06\n2027-01-07\n2027-01-08" in page.text
    assert "Projected completion" not in page.text


def test_the_comparison_table_shows_a_and_b_and_the_difference(client, director):
    login(client, director.email)
    page = client.get("/planning/what-if")
    response = client.post("/planning/what-if", data=what_if_data(page.text))
    assert response.status_code == 200, response.text
    text = response.text
    assert "Scenario B completes <strong>earlier for 5</strong> of 5 admissions" in text
    row = re.search(r"<th scope=\"row\">Mon Jan 4, 2027</th>(.*?)</tr>", text, re.S).group(1)
    assert "Fri Apr 23, 2027" in row and "Wed Mar 24, 2027" in row and "30 days earlier (4.3 weeks)" in row
    assert text.count("days earlier") == 5
    assert "6.2 h</strong> (370 min)" in text and "7.7 h</strong> (460 min)" in text  # hours under A and B


def test_the_pattern_editor_hands_its_pattern_to_the_what_if(client, director):
    login(client, director.email)
    page = client.get("/planning/")
    data = form_data(page.text, (*DEFAULT, TUESDAY_RP), button="to_what_if")
    response = client.post("/planning/what-if", data=data)
    assert response.status_code == 200
    assert response.text.count('class="pl-slot"') == 7
    assert '<option selected value="tue">' in response.text
    assert 'value="2027-01-04"' in response.text  # the defaults fill the days and admissions
    assert "Projected completion" not in response.text


def test_a_group_as_scenario_a_links_to_its_settings_page(client, director, make_group):
    group = make_group(director.program, name="Evening IOP", start=START)
    login(client, director.email)
    page = client.get(f"/planning/what-if?start=group-{group.id}")
    assert page.status_code == 200
    response = client.post("/planning/what-if", data=what_if_data(page.text, start="2027-01-18",
                                                                  admissions="2027-01-18"))
    assert response.status_code == 200, response.text
    assert f'href="/groups/{group.id}/edit"' in response.text
    assert "Evening IOP's settings page" in response.text


BAD_INPUTS = [
    # (what is wrong, changes to the form, the field that says so, words of the message)
    ("no meetings", {"rows": ()}, "pattern", "Add at least one meeting"),
    ("zero minutes", {"rows": (("mon", "18:30", "RP", 0),)}, "slots-0-minutes", "between 1 and 480 minutes"),
    ("negative minutes", {"rows": (("mon", "18:30", "RP", -90),)}, "slots-0-minutes", "between 1 and 480"),
    ("words for minutes", {"rows": (("mon", "18:30", "RP", "ninety"),)}, "slots-0-minutes", "whole number"),
    ("unknown track", {"rows": (("mon", "18:30", "XX", 90),)}, "slots-0-track", "Choose a track of"),
    ("individual track", {"rows": (("mon", "18:30", "IC", 50),)}, "slots-0-track", "booked one by one"),
    ("unreadable time", {"rows": (("mon", "6ish", "RP", 90),)}, "slots-0-time", "Enter a time like 18:30"),
    ("the same meeting twice", {"rows": (("mon", "18:30", "RP", 90), ("mon", "18:30", "RP", 60))},
     "slots-1-track", "Meeting 1 is already RP"),
    ("unparseable start", {"start": "2027-02-30"}, "start", "YYYY-MM-DD"),
    ("unparseable until", {"until": "next summer"}, "until", "YYYY-MM-DD"),
    ("until before start", {"until": "2027-01-01"}, "until", "is before the first day"),
    ("over three years", {"until": "2030-01-05"}, "until", "at most 3 years"),
    ("start far ahead", {"start": "2031-01-06", "until": "2031-06-30"}, "start", "within a year before"),
    ("no admissions", {"admissions": "\n\n"}, "admissions", "Add at least one admission"),
    ("201 admissions", {"admissions": "\n".join(["2027-01-04"] * 201)}, "admissions", "At most 200 admissions"),
    ("unparseable admission", {"admissions": "2027-01-04\n2027-02-30"}, "admissions", "Line 2: '2027-02-30' is not a date"),
    ("unparseable absence", {"admissions": "2027-01-04 absent 2027-01-0x"}, "admissions", "'2027-01-0x' is not a date"),
    ("admission outside", {"admissions": "2027-07-05"}, "admissions", "outside the days simulated"),
    ("absence before admission", {"admissions": "2027-01-11 absent 2027-01-08"}, "admissions",
     "is before the admission"),
    ("absence twice", {"admissions": "2027-01-11 absent 2027-01-13, 2027-01-13"}, "admissions", "listed twice"),
    ("unparseable holiday", {"holidays": "2027-13-01 Typo Day"}, "holidays", "'2027-13-01' is not a date"),
    ("holiday twice", {"holidays": "2027-01-18\n2027-01-18 MLK Day"}, "holidays", "already on line 1"),
    ("holiday outside", {"holidays": "2026-12-25 Christmas Day"}, "holidays", "outside the days simulated"),
]


@pytest.mark.parametrize(("what", "change", "field", "words"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_is_refused_next_to_its_field_and_runs_nothing(client, director, what, change, field, words):
    login(client, director.email)
    page = client.get("/planning/what-if")
    change = dict(change)
    rows = change.pop("rows", (*DEFAULT, TUESDAY_RP))
    response = client.post("/planning/what-if", data=what_if_data(page.text, rows, **change))
    assert response.status_code == 422
    text = response.text
    assert "Projected completion" not in text and "Nothing was run." in text
    if field == "pattern":
        assert re.search(r'<legend>Scenario B: the pattern to try</legend>\s*<p class="hint">[^<]*</p>\s*'
                         rf'<p class="error">[^<]*{words}', text)
    else:
        error = re.search(rf'<p class="error" id="{field}-error">([^<]*)</p>', text)
        assert error, f"no message next to {field}"
        assert words in error.group(1).replace("&#39;", "'"), error.group(1)
        assert re.search(f'aria-describedby="([^"]* )?{field}-error"', text)


def test_rows_are_added_and_removed_without_running(client, director):
    login(client, director.email)
    page = client.get("/planning/what-if")
    more = client.post("/planning/what-if", data=what_if_data(page.text, button="add_row"))
    assert more.status_code == 200 and more.text.count('class="pl-slot"') == 8
    data = what_if_data(page.text)
    del data["run"]
    data["slots-6-remove"] = "Remove"  # the Tuesday RP row
    fewer = client.post("/planning/what-if", data=data)
    assert fewer.status_code == 200 and fewer.text.count('class="pl-slot"') == 6
    assert '<option selected value="tue">' not in fewer.text and "Projected completion" not in fewer.text


def test_copying_scenario_a_into_b_restores_the_pattern(client, director, make_group):
    group = make_group(director.program, name="Evening IOP", start=START)
    group.slots = [s for s in group.slots if s.track_code != "SS"]
    login(client, director.email)
    page = client.get("/planning/what-if")
    response = client.post("/planning/what-if", data=what_if_data(page.text, source=f"group-{group.id}",
                                                                  button="load"))
    assert response.status_code == 200
    assert response.text.count('class="pl-slot"') == 5


# --- Who may use it ----------------------------------------------------------------------------


def test_another_programs_group_is_not_found(client, director, make_program, make_group):
    other = make_group(make_program(), name="Elsewhere", start=START)
    login(client, director.email)
    assert client.get(f"/planning/what-if?start=group-{other.id}").status_code == 404
    assert client.get(f"/planning/?start=group-{other.id}").status_code == 404
    page = client.get("/planning/what-if")
    assert client.post("/planning/what-if", data=what_if_data(page.text, source=f"group-{other.id}")).status_code == 404
    assert client.post("/planning/", data=form_data(page.text, DEFAULT, f"group-{other.id}")).status_code == 404
    assert "Elsewhere" not in page.text


def test_only_directors_plan(client, session, make_program, make_user, make_participant):
    program = make_program()
    facilitator = make_user("facilitator", program)
    participant = make_user("participant", program, participant=make_participant(program))
    for path in ("/planning/", "/planning/what-if"):
        assert client.get(path).status_code == 302  # to the sign-in page
    for user in (facilitator, participant):
        login(client, user.email)
        token = csrf_token(client.get("/", follow_redirects=True).text)  # the sign-out form's token
        for path in ("/planning/", "/planning/what-if"):
            assert client.get(path).status_code == 403
            assert client.post(path, data={"csrf_token": token, "show": "1", "run": "1"}).status_code == 403
        client.post("/logout", data={"csrf_token": token})


# --- Queries -------------------------------------------------------------------------------------


def test_the_comparison_takes_the_same_queries_for_5_and_200_admissions(client, director, count_queries):
    login(client, director.email)
    page = client.get("/planning/what-if")
    client.post("/planning/what-if", data=what_if_data(page.text))  # warm the version cache
    counts = {}
    for n in (5, 200):
        admissions = "\n".join(f"{START + timedelta(days=i % 120):%Y-%m-%d}" for i in range(n))
        with count_queries() as counter:
            response = client.post("/planning/what-if", data=what_if_data(page.text, admissions=admissions))
        assert response.status_code == 200, response.text
        assert response.text.count("days earlier") == n
        counts[n] = counter.count
    assert counts[5] == counts[200] and counts[200] <= 10, counts
