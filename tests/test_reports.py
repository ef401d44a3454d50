"""The directors' dashboard on a hand-built program of 10 participants with known admissions and
discharges: census, admissions and discharges per month, completion rate, retention curve, median
weeks to completion, attendance by group, hours-floor compliance, open alerts; the printable report;
who may see it; and a refused period."""

from __future__ import annotations

import io
from datetime import date, time

import pytest
from sqlalchemy import update

from facilitator.attendance.models import Attendance
from facilitator.extensions import db
from facilitator.groups.calendars import module_ids
from facilitator.groups.models import Meeting
from facilitator.participants.models import Enrollment
from facilitator.programs.models import AttendanceStatus
from facilitator.reports import services, views
from facilitator.reports.services import Period

from .conftest import login

TODAY = date(2027, 6, 30)
PERIOD = Period(date(2027, 1, 1), date(2027, 6, 30))

# name: (admitted, discharged, reason); P8 moves from group A to group B (one episode, not a discharge).
STAYS = {
    "P1": (date(2027, 1, 4), date(2027, 4, 26), "completed"),  # 16.0 weeks
    "P2": (date(2027, 1, 11), date(2027, 5, 10), "completed"),  # 17.0 weeks
    "P3": (date(2027, 2, 1), date(2027, 5, 31), "completed"),  # 17.0 weeks
    "P4": (date(2027, 1, 4), date(2027, 1, 25), "dropped_out"),
    "P5": (date(2027, 1, 18), date(2027, 3, 1), "dropped_out"),
    "P6": (date(2027, 2, 15), date(2027, 2, 22), "terminated"),
    "P7": (date(2027, 3, 1), date(2027, 4, 12), "incarcerated"),
    "P8": (date(2027, 3, 1), date(2027, 3, 19), "transferred"),
    "P9": (date(2027, 5, 3), None, None),
    "P10": (date(2026, 12, 7), date(2027, 1, 15), "dropped_out"),  # admitted before the period
}


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setattr(views, "_today", lambda: TODAY)


def build_ten(make_program, make_group, make_participant, make_user):
    """The hand-built program: groups A and B, the ten stays above, P8 readmitted to B three days after its transfer."""
    program = make_program()
    group_a = make_group(program, "Group A", start=date(2026, 12, 7))
    group_b = make_group(program, "Group B", start=date(2027, 1, 4))
    people = {}
    for name, (admitted, discharged, reason) in STAYS.items():
        person = make_participant(program, group_a, admitted=admitted, name=name)
        if discharged:
            db.session.execute(update(Enrollment).where(Enrollment.participant_id == person.id)
                               .values(discharged_on=discharged, discharge_reason=reason))
        people[name] = person
    db.session.add(Enrollment(participant_id=people["P8"].id, group_id=group_b.id, admitted_on=date(2027, 3, 22)))
    db.session.flush()
    director = make_user("director", program)
    return program, group_a, group_b, people, director


def status_ids(program) -> dict[str, int]:
    """Status code -> id of a program."""
    return {s.code: s.id for s in db.session.query(AttendanceStatus).filter_by(program_id=program.id)}


def add_meeting(group, day: date, at: str, track: str, minutes: int, module: str) -> Meeting:
    """A held meeting of a group."""
    row = Meeting(group_id=group.id, date=day, start_time=time.fromisoformat(at), track_code=track, minutes=minutes,
                  status="held", module_id=module_ids(group.version_id)[module])
    db.session.add(row)
    db.session.flush()
    return row


def attend(meeting: Meeting, person, status_id: int, minutes: int, recorder) -> None:
    """One attendance row."""
    db.session.add(Attendance(meeting_id=meeting.id, participant_id=person.id, status_id=status_id,
                              minutes=minutes, recorded_by_id=recorder.id))
    db.session.flush()


@pytest.fixture
def ten(session, make_program, make_group, make_participant, make_user):
    return build_ten(make_program, make_group, make_participant, make_user)


def test_completion_rate_reasons_and_median_weeks_on_the_hand_built_program(ten):
    program = ten[0]
    d = services.dashboard(program, PERIOD, TODAY)
    o = d.outcomes
    # Eight discharges in the period (P8's transfer continues its stay; P10 was admitted before but left in January).
    assert o.discharges == 8 and o.completions == 3
    assert o.completion_rate == 3 / 8 and o.against_national == "within"  # 37.5% against 33-38%
    assert {r.reason: r.count for r in o.by_reason} == {
        "completed": 3, "transferred": 0, "dropped_out": 3, "terminated": 1, "incarcerated": 1, "died": 0, "other": 0}
    assert o.median_weeks_to_completion == 17.0  # 16.0, 17.0, 17.0


def test_retention_curve_on_the_hand_built_program(ten):
    d = services.dashboard(ten[0], PERIOD, TODAY)
    # (week, followed through the week, left during it) for P1-P9, admitted in the period. P6 leaves in
    # week 2, P4 in week 4, P5 and P7 in week 7; P9 (admitted May 3) is followed to week 8 and P7, P8
    # to week 17; P1 leaves in week 17, P2 and P3 in week 18 (the last ones followed).
    followed = [9, 9, 9, 8, 8, 7, 7, 7, 5, 4, 4, 4, 4, 4, 4, 4, 4, 4, 2, 0, 0]
    left = [0, 0, 1, 0, 1, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0]
    assert [(p.week, p.followed, p.left) for p in d.retention] == list(zip(range(21), followed, left, strict=True))
    shares = [1, 1, 8 / 9, 8 / 9, 7 / 9, 7 / 9, 7 / 9, *[5 / 9] * 10, 5 / 12, 0]
    assert [p.share for p in d.retention[:19]] == pytest.approx(shares)
    assert d.retention[19].share is None and d.retention[20].share is None  # nobody followed that far


def test_census_and_monthly_admissions_and_discharges(ten):
    d = services.dashboard(ten[0], PERIOD, TODAY)
    assert d.census.active == 2
    assert [(c.label, c.value) for c in d.census.by_group] == [("Group A", 1), ("Group B", 1)]
    weeks = {c.label: c.value for c in d.census.by_week}
    assert weeks["9"] == 1 and weeks["17+"] == 1 and sum(weeks.values()) == 2  # P9 in week 9, P8 in week 18
    assert [(f.month.month, f.admissions, f.discharges, f.completions) for f in d.flows] == [
        (1, 4, 2, 0), (2, 2, 1, 0), (3, 2, 1, 0), (4, 0, 2, 1), (5, 1, 2, 2), (6, 0, 0, 0)]
    assert d.admissions == 9


def test_a_past_period_sees_later_discharges_as_still_enrolled(ten):
    d = services.dashboard(ten[0], Period(date(2027, 1, 1), date(2027, 3, 31)), TODAY)
    # On Mar 31: P1, P2, P3, P7, P8 enrolled (P7 leaves Apr 12, the completions later still).
    assert d.census.active == 5
    assert d.outcomes.discharges == 4 and d.outcomes.completion_rate == 0.0


def test_attendance_by_group_counts_held_meetings_of_the_period(ten):
    program, group_a, group_b, people, director = ten
    ids = status_ids(program)
    erm = add_meeting(group_a, date(2027, 6, 7), "17:30", "ERS", 50, "ERS 1")
    rp = add_meeting(group_a, date(2027, 6, 7), "18:30", "RP", 90, "RP 1")
    attend(erm, people["P9"], ids["present"], 50, director)
    attend(rp, people["P9"], ids["late"], 75, director)
    attend(add_meeting(group_a, date(2027, 6, 9), "18:30", "FE", 90, "FE 1"), people["P9"], ids["absent"], 0, director)
    attend(add_meeting(group_b, date(2027, 6, 8), "18:30", "RP", 90, "RP 1"), people["P8"], ids["excused"], 0, director)
    attend(add_meeting(group_b, date(2026, 12, 30), "18:30", "RP", 90, "RP 2"), people["P8"], ids["present"], 90,
           director)  # before the period
    d = services.dashboard(program, PERIOD, TODAY)
    by_group = {g.group: (g.recorded, g.attended, g.excused) for g in d.attendance}
    assert by_group == {"Group A": (3, 2, 0), "Group B": (1, 0, 1)}
    assert d.attendance[0].rate == 2 / 3


def test_hours_floor_compliance_counts_whole_weeks_of_each_stay(session, make_program, make_group, make_participant,
                                                                 make_user):
    program = make_program()
    program.hours_floor_minutes = 180
    group = make_group(program, start=date(2027, 5, 31))
    person = make_participant(program, group, admitted=date(2027, 6, 7))  # a Monday
    director = make_user("director", program)
    ids = status_ids(program)
    extra = AttendanceStatus(program_id=program.id, code="phone", label="Phone check-in", counts_attended=True,
                             counts_hours=False, position=9)
    db.session.add(extra)
    db.session.flush()
    # Week of Jun 7: 140 + 90 = 230 min (at the floor). Week of Jun 14: 90 min plus a phone check-in that
    # does not count toward hours. Week of Jun 21: nothing recorded. Week of Jun 28: not whole by Jun 30.
    attend(add_meeting(group, date(2027, 6, 7), "18:30", "RP", 90, "RP 1"), person, ids["present"], 90, director)
    attend(add_meeting(group, date(2027, 6, 9), "18:30", "FE", 90, "FE 1"), person, ids["late"], 70, director)
    attend(add_meeting(group, date(2027, 6, 11), "17:30", "ERS", 50, "ERS 1"), person, ids["present"], 70, director)
    attend(add_meeting(group, date(2027, 6, 14), "18:30", "RP", 90, "RP 2"), person, ids["present"], 90, director)
    attend(add_meeting(group, date(2027, 6, 16), "18:30", "FE", 90, "FE 2"), person, extra.id, 120, director)
    attend(add_meeting(group, date(2027, 6, 28), "18:30", "RP", 90, "RP 3"), person, ids["present"], 300, director)
    d = services.dashboard(program, Period(date(2027, 6, 1), TODAY), TODAY)
    assert (d.hours.weeks, d.hours.at_floor, d.hours.floor_minutes) == (3, 1, 180)
    assert d.hours.rate == 1 / 3


def test_open_alerts_are_those_of_active_participants(ten):
    program, group_a, group_b, people, director = ten
    ids = status_ids(program)
    for day in (date(2027, 6, 21), date(2027, 6, 25)):
        attend(add_meeting(group_a, day, "18:30", "RP", 90, "RP 1" if day.day == 21 else "RP 2"), people["P9"],
               ids["absent"], 0, director)
    d = services.dashboard(program, PERIOD, TODAY)
    assert d.alerts.checked == 2  # P8 and P9: the discharged are not looked at
    kinds = {c.label: c.value for c in d.alerts.by_kind}
    assert kinds["Absences in a row"] == 1 and d.alerts.participants >= 1


def test_transfers_continue_an_episode_but_a_late_readmission_starts_a_new_one(session, make_program, make_group,
                                                                                make_participant):
    program = make_program()
    group = make_group(program)
    person = make_participant(program, group, admitted=date(2027, 1, 4))
    db.session.execute(update(Enrollment).where(Enrollment.participant_id == person.id)
                       .values(discharged_on=date(2027, 2, 1), discharge_reason="transferred"))
    db.session.add(Enrollment(participant_id=person.id, group_id=group.id, admitted_on=date(2027, 3, 1)))
    db.session.flush()
    found = services.episodes(program.id, TODAY)
    assert [(e.admitted, e.discharged, e.reason) for e in found] == [
        (date(2027, 1, 4), date(2027, 2, 1), "transferred"), (date(2027, 3, 1), None, None)]


def test_the_dashboard_page_shows_figures_charts_and_tables(client, ten):
    login(client, ten[4].email)
    page = client.get("/reports/?start=2027-01-01&end=2027-06-30")
    assert page.status_code == 200
    text = page.text
    assert "38%" in text and "3 of 8 discharges" in text and "within the national 33%–38%" in text
    for chart in ("rp-flows", "rp-weeks", "rp-completion", "rp-reasons", "rp-retention", "rp-attendance"):
        # Each chart names itself and describes its figures, for those who cannot see it.
        assert f'aria-labelledby="{chart}-title {chart}-desc"' in text and f'<desc id="{chart}-desc">' in text
    assert 'url(#rp-flows-hatch)' in text  # discharges differ from admissions by pattern, not colour alone
    assert "<caption>Retention of the participants admitted in the period</caption>" in text
    assert '/reports/exports/attendance.csv?start=2027-01-01&amp;end=2027-06-30' in text


def test_the_printable_report_is_a_pdf_from_the_document_service(client, ten, app, tmp_path, monkeypatch):
    import pypdf

    monkeypatch.setitem(app.config, "DOCUMENT_CACHE_DIR", str(tmp_path))
    login(client, ten[4].email)
    response = client.get("/reports/report.pdf?start=2027-01-01&end=2027-06-30")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    text = " ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(response.data)).pages)
    assert "Program report" in text and "Completion rate" in text and "38%" in text
    assert "Retention of the participants admitted in the period" in text


@pytest.mark.parametrize("query, field, message", [
    ("start=2027-02-30&end=2027-06-30", "start", "Enter the first day as a date"),
    ("start=2027-01-01&end=tomorrow", "end", "Enter the last day as a date"),
    ("start=2027-06-30&end=2027-01-01", "start", "The first day must be on or before the last day."),
    ("start=2027-01-01&end=2027-07-15", "end", "The period cannot end after today."),
    ("start=2020-01-01&end=2027-06-30", "start", "Choose a period of at most three years."),
])
def test_a_bad_period_is_refused_next_to_its_field(client, ten, query, field, message):
    login(client, ten[4].email)
    for url in ("/reports/", "/reports/exports/attendance.csv", "/reports/report.pdf"):
        page = client.get(f"{url}?{query}")
        assert page.status_code == 422
        assert f'id="{field}-error">{message}' in page.text
        assert "Census" not in page.text


def test_only_directors_see_the_numbers(client, ten, make_user):
    assert client.get("/reports/").status_code == 302  # signed out: to the sign-in page
    facilitator = make_user("facilitator", ten[0])
    login(client, facilitator.email)
    for url in ("/reports/", "/reports/report.pdf", "/reports/exports/attendance.csv"):
        assert client.get(url).status_code == 403
