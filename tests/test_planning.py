"""The weekly-pattern editor: what a pattern implies for a newcomer (length by day of admission,
hours per week per phase against the program's floor, the 12-20 week warning), bad input next to
its field, roles, and a fixed number of queries whatever the number of groups."""

from __future__ import annotations

import re
from datetime import date

import pytest

from facilitator.domain.curriculum import PatternSlot
from facilitator.groups.calendars import version_structure
from facilitator.planning import services

from .conftest import csrf_token, login

DEFAULT = (  # matrix-16's suggested pattern
    ("mon", "17:30", "ERS", 50), ("mon", "18:30", "RP", 90), ("wed", "18:30", "FE", 90),
    ("wed", "18:30", "SS", 90), ("fri", "17:30", "ERS", 50), ("fri", "18:30", "RP", 90))
TUESDAY_RP = ("tue", "18:30", "RP", 90)


def pattern(*rows) -> tuple[PatternSlot, ...]:
    return tuple(PatternSlot(*row) for row in rows)


def form_data(page_html: str, rows, source: str | None = None, button: str = "show", **extra) -> dict:
    """What the editor's form sends with these meeting rows."""
    data = {"csrf_token": csrf_token(page_html), button: "1", **extra}
    data["source"] = source or re.search(r'<option selected value="([^"]+)"', page_html).group(1)
    for i, (weekday, at, track, minutes) in enumerate(rows):
        data.update({f"slots-{i}-weekday": weekday, f"slots-{i}-time": at, f"slots-{i}-track": track,
                     f"slots-{i}-minutes": str(minutes)})
    return data


@pytest.fixture
def director(session, make_program, make_user):
    return make_user("director", make_program())


# --- The rules, straight from the service -------------------------------------------------------


def test_the_default_pattern_takes_15_to_16_weeks_with_370_then_270_minutes_a_week(matrix16):
    structure = version_structure(matrix16.id)
    result = services.implications(pattern(*DEFAULT), structure, 540)
    # Admitted on a Monday: RP (32 modules, twice a week) is the last to finish, on the Friday of
    # week 16 (109 days); admitted on a Tuesday it ends on the Monday of week 17 of the calendar (111 days).
    days = {n.day_name: n.days for n in result.lengths}
    assert days == {"Monday": 109, "Tuesday": 111, "Wednesday": 110, "Thursday": 109, "Friday": 108,
                    "Saturday": 111, "Sunday": 110}
    assert result.length_words == "15.4 to 15.9 weeks"
    assert result.outside_range == "" and result.blocked == ()
    # Weeks 1-4: ERS 2 x 50 + RP 2 x 90 + FE 90 = 370 min. ERS (8 modules) is done in week 4, so
    # weeks 5-12 have RP 180 + FE 90 = 270; FE (12 modules) is done in week 12 and SS starts in week 13
    # (its first week), so weeks 13-16 have RP 180 + SS 90 = 270.
    phases = [(p.weeks_words, p.tracks, p.minutes, p.under_floor) for p in result.phases]
    assert phases == [("Weeks 1-4", ("ERS", "RP", "FE"), 370, True), ("Weeks 5-12", ("RP", "FE"), 270, True),
                      ("Weeks 13-16", ("RP", "SS"), 270, True)]
    assert [services.hours(p.minutes) for p in result.phases] == ["6.2", "4.5", "4.5"]
    assert result.phases[0].gap_minutes == 170


def test_rp_once_a_week_is_longer_than_20_weeks(matrix16):
    structure = version_structure(matrix16.id)
    once = [row for row in DEFAULT if row[:3] != ("fri", "18:30", "RP")]
    result = services.implications(pattern(*once), structure, 540)
    assert result.shortest > 30 and result.outside_range == "longer"


def test_a_tuesday_rp_meeting_makes_family_education_the_last_to_finish(matrix16):
    structure = version_structure(matrix16.id)
    result = services.implications(pattern(*DEFAULT, TUESDAY_RP), structure, 540)
    # RP three times a week is done in week 11; FE (weekly, 12 modules) ends the program in week 12.
    assert result.longest < 12 and result.outside_range == "shorter"
    assert [(p.weeks_words, p.minutes) for p in result.phases] == [
        ("Weeks 1-4", 460), ("Weeks 5-11", 360), ("Week 12", 90)]


def test_a_missing_or_too_short_required_track_cannot_complete(matrix16):
    structure = version_structure(matrix16.id)
    no_fe = services.implications(pattern(*(r for r in DEFAULT if r[2] != "FE")), structure, 540)
    assert no_fe.length_words == "" and no_fe.outside_range == ""
    assert "No FE meeting on the pattern" in no_fe.blocked[0]
    assert no_fe.phases[-1].last_week is None  # open-ended: the program never ends
    short = services.implications(pattern(*(r if r[2] != "RP" else (*r[:3], 60) for r in DEFAULT)), structure, 540)
    assert "RP meetings are too short" in short.blocked[0] and "68 minutes" in short.blocked[0]


def test_the_floor_comes_from_the_program_setting(matrix16):
    structure = version_structure(matrix16.id)
    result = services.implications(pattern(*DEFAULT), structure, 360)  # adolescents: 6 h
    assert [p.under_floor for p in result.phases] == [False, True, True]


# --- The page ---------------------------------------------------------------------------------


def test_a_director_sees_the_default_patterns_implications(client, director):
    login(client, director.email)
    page = client.get("/planning/")
    assert page.status_code == 200
    text = page.text
    assert "15.4 to 15.9 weeks" in text
    assert "Weeks 1-4" in text and "6.2 h</strong> (370 min)" in text
    assert "Weeks 5-12" in text and "4.5 h</strong> (270 min)" in text
    assert "Under the 9 h floor by 2.8 h" in text and "Under the 9 h floor by 4.5 h" in text
    assert "Warning" not in text
    assert text.count('class="pl-slot"') == 6


def test_adding_a_tuesday_rp_meeting_shortens_the_program(client, director):
    login(client, director.email)
    page = client.get("/planning/")
    response = client.post("/planning/", data=form_data(page.text, (*DEFAULT, TUESDAY_RP)))
    assert response.status_code == 200
    assert "11.1 to 11.9 weeks" in response.text or re.search(r"1\d\.\d to 1\d\.\d weeks", response.text)
    assert "Warning: shorter than 12 weeks" in response.text


def test_rp_once_a_week_shows_the_warning(client, director):
    login(client, director.email)
    page = client.get("/planning/")
    once = [row for row in DEFAULT if row[:3] != ("fri", "18:30", "RP")]
    response = client.post("/planning/", data=form_data(page.text, once))
    assert response.status_code == 200
    assert "Warning: longer than 20 weeks" in response.text
    weeks = re.search(r'class="pl-big">([\d.]+) to ([\d.]+) weeks', response.text)
    assert float(weeks.group(1)) > 20


PATTERN_BAD_INPUTS = [
    ("no meetings", (), None, "Add at least one meeting to the weekly pattern."),
    ("zero minutes", (("mon", "18:30", "RP", 0),), "slots-0-minutes", "Enter between 1 and 480 minutes, not 0."),
    ("too many minutes", (("mon", "18:30", "RP", 600),), "slots-0-minutes", "Enter between 1 and 480 minutes"),
    ("unknown track", (("mon", "18:30", "XX", 90),), "slots-0-track", "Choose a track of Stimulant IOP"),
    ("no day", (("", "18:30", "RP", 90),), "slots-0-weekday", "Choose a day."),
]


@pytest.mark.parametrize(("what", "rows", "field", "words"), PATTERN_BAD_INPUTS, ids=[b[0] for b in PATTERN_BAD_INPUTS])
def test_a_bad_pattern_is_refused_next_to_its_field(client, director, what, rows, field, words):
    login(client, director.email)
    page = client.get("/planning/")
    response = client.post("/planning/", data=form_data(page.text, rows))
    assert response.status_code == 422
    assert "What this pattern implies" not in response.text and "Nothing was worked out yet." in response.text
    if field is None:
        assert f'<p class="error">{words}</p>' in response.text
    else:
        assert re.search(rf'<p class="error" id="{field}-error">{re.escape(words)}', response.text), response.text


def test_rows_are_added_and_removed(client, director):
    login(client, director.email)
    page = client.get("/planning/")
    more = client.post("/planning/", data=form_data(page.text, DEFAULT, button="add_row"))
    assert more.status_code == 200 and more.text.count('class="pl-slot"') == 7
    assert 'id="last-meeting"' in more.text
    data = form_data(page.text, DEFAULT, button="slots-3-remove")  # the SS row's Remove button
    fewer = client.post("/planning/", data=data)
    assert fewer.status_code == 200 and fewer.text.count('class="pl-slot"') == 5
    assert "SS Social Support</option>" in fewer.text  # still offered as a choice...
    assert '<option selected value="SS">' not in fewer.text  # ...but no longer chosen in any row


def test_a_groups_pattern_is_loaded_and_linked_to_its_settings(client, director, make_group):
    group = make_group(director.program, name="Evening IOP", start=date(2027, 1, 4))
    group.slots = [s for s in group.slots if not (s.track_code == "RP" and s.weekday == 4)]  # RP on Mondays only
    login(client, director.email)
    page = client.get(f"/planning/?start=group-{group.id}")
    assert page.status_code == 200
    assert page.text.count('class="pl-slot"') == 5
    assert "Warning: longer than 20 weeks" in page.text
    assert f'<a href="/groups/{group.id}/edit">Evening IOP\'s settings page</a>' in page.text
    # Loading the suggested pattern instead puts the six meetings back.
    suggested = re.search(r'<option value="(version-\d+)">Suggested pattern of Stimulant IOP', page.text).group(1)
    loaded = client.post("/planning/", data=form_data(page.text, (), suggested, button="load"))
    assert loaded.status_code == 200 and loaded.text.count('class="pl-slot"') == 6
    assert "15.4 to 15.9 weeks" in loaded.text and "settings page" not in loaded.text


def test_the_floor_on_the_page_is_the_programs(client, director):
    director.program.hours_floor_minutes = 360
    login(client, director.email)
    page = client.get("/planning/")
    assert "against the program's floor of 6 h" in page.text
    assert "Meets the 6 h floor" in page.text and "Under the 6 h floor by 1.5 h" in page.text


def test_the_editor_takes_the_same_queries_for_1_and_25_groups(client, director, make_group, count_queries):
    make_group(director.program, name="Group 0")
    login(client, director.email)
    client.get("/planning/")  # warm the version cache
    with count_queries() as few:
        assert client.get("/planning/").status_code == 200
    for i in range(1, 25):
        make_group(director.program, name=f"Group {i}")
    with count_queries() as many:
        page = client.get("/planning/")
    assert page.text.count("its current pattern") == 25
    assert few.count == many.count and many.count <= 8, (few.count, many.count)


def test_every_problem_of_the_pattern_shows_at_once(client, director):
    login(client, director.email)
    page = client.get("/planning/")
    rows = (("mon", "18:30", "RP", 0), ("mon", "17:30", "", 50), ("wed", "18:30", "FE", 90))
    response = client.post("/planning/", data=form_data(page.text, rows))
    assert response.status_code == 422
    assert 'id="slots-0-minutes-error">Enter between 1 and 480 minutes' in response.text  # a rule
    assert 'id="slots-1-track-error">Choose a track.' in response.text  # a problem of shape
    assert "Add at least one meeting" not in response.text


def test_a_group_without_meetings_says_so_instead_of_implying_anything(client, director, make_group):
    group = make_group(director.program, name="Not started")
    group.slots = []
    login(client, director.email)
    page = client.get(f"/planning/?start=group-{group.id}")
    assert page.status_code == 200
    assert '<p class="error">Add at least one meeting to the weekly pattern.</p>' in page.text
    assert "What this pattern implies" not in page.text


def test_without_a_group_settings_screen_the_link_is_left_out(app, client, director, make_group, monkeypatch):
    group = make_group(director.program, name="Evening IOP")
    monkeypatch.delitem(app.view_functions, "groups.edit")
    login(client, director.email)
    page = client.get(f"/planning/?start=group-{group.id}")
    assert page.status_code == 200 and "settings page" not in page.text
