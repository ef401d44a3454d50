"""CSV exports and the group calendar feed: every export carrying participant data has its header
first and the 42 CFR 2.32 notice on every row, and is audited once with its row count and participant ids; cells are safe
against formula injection; the billing export adds up to the attendance it comes from and flags the
days under the billable minimum; the iCalendar feed has each meeting's module and no participant data."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import date

import pytest
from icalendar import Calendar
from sqlalchemy import select

from facilitator.audit.models import AuditEvent
from facilitator.clinical.models import DrugTest
from facilitator.extensions import db
from facilitator.groups.calendars import module_ids
from facilitator.groups.models import Group
from facilitator.programs.models import Holiday
from facilitator.progress.models import Credit
from facilitator.reports import exports, views

from .conftest import login
from .test_reports import TODAY, add_meeting, attend, build_ten, status_ids

QUERY = "start=2027-06-01&end=2027-06-30"


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setattr(views, "_today", lambda: TODAY)


def first_group(program) -> Group:
    """The program's first group by name (Group A)."""
    return db.session.scalars(select(Group).where(Group.program_id == program.id).order_by(Group.name)).first()


def parse(text: str) -> list[dict[str, str]]:
    """The rows of an export, read as any CSV reader reads them."""
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def june(session, make_program, make_group, make_participant, make_user):
    """The ten-participant program with two weeks of June attendance for P8 and P9, a test and a credit."""
    return build_june(make_program, make_group, make_participant, make_user)


def build_june(make_program, make_group, make_participant, make_user):
    """The `june` fixture's program, people and director (other export tests build it too)."""
    program, group_a, group_b, people, director = build_ten(make_program, make_group, make_participant, make_user)
    program.billable_minimum_minutes = 120
    ids = status_ids(program)
    p8, p9 = people["P8"], people["P9"]
    plan = [  # group, day, time, track, minutes, module, [(person, status, minutes)]
        (group_a, date(2027, 6, 7), "17:30", "ERS", 50, "ERS 1", [(p9, "present", 50)]),
        (group_a, date(2027, 6, 7), "18:30", "RP", 90, "RP 1", [(p9, "late", 75)]),  # Jun 7: 125 min
        (group_a, date(2027, 6, 9), "18:30", "FE", 90, "FE 1", [(p9, "left_early", 65)]),  # Jun 9: 65, under
        (group_a, date(2027, 6, 11), "18:30", "RP", 90, "RP 2", [(p9, "absent", 0)]),  # not a billable day
        (group_b, date(2027, 6, 8), "18:30", "RP", 90, "RP 3", [(p8, "present", 90)]),
        (group_b, date(2027, 6, 8), "20:00", "SS", 90, "SS 1", [(p8, "present", 90)]),  # Jun 8: 180 min
        (group_b, date(2027, 6, 10), "18:30", "RP", 90, "RP 4", [(p8, "excused", 0)]),
        (group_b, date(2027, 5, 28), "18:30", "RP", 90, "RP 2", [(p8, "present", 90)]),  # before the period
    ]
    for group, day, at, track, minutes, module, rows in plan:
        meeting = add_meeting(group, day, at, track, minutes, module)
        for person, code, got in rows:
            attend(meeting, person, ids[code], got, director)
    db.session.add(DrugTest(participant_id=p9.id, collected_on=date(2027, 6, 9), kind="urine", result="positive",
                            substances=["methamphetamine", "=cmd|' /C calc'!A0"], recorded_by_id=director.id))
    db.session.add(Credit(participant_id=p8.id, module_id=module_ids(group_b.version_id)["IC 1"], source="override",
                          reason="Orientation done by phone", credited_on=date(2027, 6, 2), created_by_id=director.id))
    db.session.flush()
    return program, people, director


def test_every_participant_export_has_its_header_first_the_notice_on_every_row_and_is_audited_once(client, june):
    program, people, director = june
    login(client, director.email)
    for kind in exports.EXPORTS:
        response = client.get(f"/reports/exports/{kind}.csv?start=2027-01-01&end=2027-06-30")
        assert response.status_code == 200, kind
        assert response.mimetype == "text/csv" and response.headers["Cache-Control"] == "no-store"
        assert (f'filename="{kind}-2027-01-01-to-2027-06-30-confidential-42-CFR-part-2.csv"'
                in response.headers["Content-Disposition"])
        header = next(csv.reader(io.StringIO(response.text)))
        assert header[-1] == "notice" and header[0] in ("meeting_date", "service_date", "participant_id", "collected_on")
        rows = parse(response.text)
        assert rows, kind
        for row in rows:
            notice = row["notice"]
            # the statement 42 CFR 2.32(a)(2) allows in place of the full notice
            assert notice == "42 CFR part 2 prohibits unauthorized use or disclosure of these records."
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == f"export.{kind}")).all()
        assert len(events) == 1, kind
        detail = events[0].detail
        assert detail["rows"] == len(rows) and events[0].user_id == director.id and detail["format"] == "csv"
        assert detail["participant_ids"] == sorted({int(r["participant_id"]) for r in rows})
        assert (detail["start"], detail["end"]) == ("2027-01-01", "2027-06-30")
        assert "P9" not in str(detail) and "P8" not in str(detail)  # ids only, never names


def test_the_billing_export_adds_up_to_the_attendance_and_flags_short_days(client, june):
    program, people, director = june
    login(client, director.email)
    attendance = parse(client.get(f"/reports/exports/attendance.csv?{QUERY}").text)
    billing = parse(client.get(f"/reports/exports/billing.csv?{QUERY}").text)
    assert len(attendance) == 7  # May 28 is outside the period
    expected: dict[tuple[str, str], int] = defaultdict(int)
    for row in attendance:
        if row["billable"] == "yes":
            expected[(row["participant_id"], row["meeting_date"])] += int(row["minutes_attended"])
    assert {(r["participant_id"], r["service_date"]): int(r["minutes"]) for r in billing} == expected
    by_day = {(r["record_number"], r["service_date"]): r for r in billing}
    p8, p9 = people["P8"].record_number, people["P9"].record_number
    assert set(by_day) == {(p9, "2027-06-07"), (p9, "2027-06-09"), (p8, "2027-06-08")}
    assert by_day[(p9, "2027-06-07")]["minutes"] == "125" and by_day[(p9, "2027-06-07")]["under_minimum"] == "no"
    assert by_day[(p9, "2027-06-09")]["under_minimum"] == "yes" and by_day[(p9, "2027-06-09")]["units"] == "0"
    assert by_day[(p8, "2027-06-08")]["meetings"] == "2" and by_day[(p8, "2027-06-08")]["hours"] == "3.00"
    assert {(r["service_code"], r["revenue_code"], r["billable_minimum_minutes"]) for r in billing} == {
        ("H0015", "0906", "120")}


def test_the_billing_export_uses_the_programs_codes(client, june):
    program, people, director = june
    program.service_code, program.revenue_code, program.billable_minimum_minutes = "S9480", "0905", 60
    login(client, director.email)
    billing = parse(client.get(f"/reports/exports/billing.csv?{QUERY}").text)
    assert {(r["service_code"], r["revenue_code"]) for r in billing} == {("S9480", "0905")}
    assert {r["under_minimum"] for r in billing} == {"no"}


def test_the_attendance_export_has_minutes_statuses_and_modules(client, june):
    program, people, director = june
    login(client, director.email)
    rows = parse(client.get(f"/reports/exports/attendance.csv?{QUERY}").text)
    first = rows[0]
    assert (first["meeting_date"], first["start_time"], first["group"], first["track"], first["module"]) == (
        "2027-06-07", "17:30", "Group A", "ERS", "ERS 1")
    assert (first["status"], first["counts_as_attended"], first["minutes_attended"], first["meeting_minutes"]) == (
        "Present", "yes", "50", "50")
    assert {r["status"] for r in rows} == {"Present", "Late", "Left early", "Absent", "Excused"}
    assert "preferred_name" not in first and "name" not in first  # minimum necessary: record number and initials


def test_cells_that_a_spreadsheet_would_run_get_an_apostrophe(client, june):
    program, people, director = june
    people["P9"].record_number = "=HYPERLINK(\"http://x\")"
    people["P9"].initials = "@A"
    people["P8"].record_number = "+1-555"
    db.session.flush()
    login(client, director.email)
    rows = parse(client.get(f"/reports/exports/attendance.csv?{QUERY}").text)
    assert {r["record_number"] for r in rows} == {"'=HYPERLINK(\"http://x\")", "'+1-555"}
    assert "'@A" in {r["initials"] for r in rows}
    tests = parse(client.get(f"/reports/exports/drug-tests.csv?{QUERY}").text)
    assert tests[0]["substances"] == "methamphetamine; =cmd|' /C calc'!A0"  # not at the start: harmless
    assert [exports.safe_cell(v) for v in ("-2", "\tx", "\rx", "a=b", 5, True, None)] == [
        "'-2", "'\tx", "'\rx", "a=b", "5", "yes", ""]


def test_discharges_export_matches_the_dashboard(client, june):
    program, people, director = june
    login(client, director.email)
    rows = parse(client.get("/reports/exports/discharges.csv?start=2027-01-01&end=2027-06-30").text)
    assert len(rows) == 8 and sum(r["reason"] == "completed" for r in rows) == 3
    p1 = next(r for r in rows if r["record_number"] == people["P1"].record_number)
    assert (p1["admitted_on"], p1["discharged_on"], p1["days_in_treatment"], p1["weeks_in_treatment"],
            p1["program_week_at_discharge"], p1["reason_label"]) == (
        "2027-01-04", "2027-04-26", "112", "16.0", "17", "Completed treatment")
    assert people["P8"].record_number not in {r["record_number"] for r in rows}  # a transfer is not a discharge


def test_drug_tests_and_credits_exports(client, june):
    program, people, director = june
    login(client, director.email)
    tests = parse(client.get(f"/reports/exports/drug-tests.csv?{QUERY}").text)
    assert [(t["collected_on"], t["result"], t["relapse_analysis"]) for t in tests] == [
        ("2027-06-09", "positive", "none")]
    credits = parse(client.get(f"/reports/exports/credits.csv?{QUERY}").text)
    mine = {(c["record_number"], c["module"]): c for c in credits}
    p8, p9 = people["P8"].record_number, people["P9"].record_number
    assert mine[(p9, "ERS 1")]["source"] == "attendance" and mine[(p9, "ERS 1")]["meeting_group"] == "Group A"
    assert mine[(p9, "RP 1")]["credited_on"] == "2027-06-07"  # 75 of 90 minutes earns the credit
    assert (p9, "FE 1") not in mine  # 65 of 90 minutes does not
    assert mine[(p8, "IC 1")]["source"] == "override" and mine[(p8, "IC 1")]["reason"] == "Orientation done by phone"
    assert mine[(p8, "RP 3")]["meeting_group"] == "Group B"


def test_facilitators_may_not_export(client, june, make_user):
    facilitator = make_user("facilitator", june[0])
    login(client, facilitator.email)
    assert client.get("/reports/exports/billing.csv").status_code == 403
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action.like("export.%"))) is None


def test_an_unknown_export_is_404_with_a_message_that_names_the_exports(client, june):
    login(client, june[2].email)
    for url in ("/reports/exports/everything.csv", "/reports/exports/everything.xlsx", "/reports/exports/billing.pdf"):
        response = client.get(url)
        assert response.status_code == 404
        if url != "/reports/exports/billing.pdf":  # no such route: the general message
            assert "There is no such export." in response.text
            assert all(kind in response.text for kind in exports.EXPORTS)
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action.like("export.%"))) is None


def test_the_group_calendar_feed_has_modules_and_no_participant_data(client, june, make_user, make_program,
                                                                    make_group):
    program, people, director = june
    group = first_group(program)
    facilitator = make_user("facilitator", program)
    login(client, facilitator.email)  # staff may use the feed
    response = client.get(f"/reports/groups/{group.id}/meetings.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    cal = Calendar.from_ical(response.data)
    events = list(cal.walk("VEVENT"))
    assert events and all(str(e["SUMMARY"]).split()[0] in ("ERS", "RP", "FE", "SS") for e in events)
    first = min(events, key=lambda e: e["DTSTART"].dt)
    assert first["DTSTART"].dt.date() >= date(2027, 5, 5)  # 8 weeks back from Jun 30
    assert str(first["DTSTART"].dt.tzinfo) == "America/Los_Angeles"
    body = response.data.decode()
    for person in people.values():
        assert person.preferred_name not in body and person.record_number not in body
    other = make_group(make_program(), "Elsewhere")
    assert client.get(f"/reports/groups/{other.id}/meetings.ics").status_code == 404


def test_the_feed_marks_holidays_cancelled(client, june):
    program, people, director = june
    db.session.add(Holiday(program_id=program.id, date=date(2027, 7, 5), name="Independence Day (observed)"))
    db.session.flush()
    group = first_group(program)
    login(client, director.email)
    cal = Calendar.from_ical(client.get(f"/reports/groups/{group.id}/meetings.ics").data)
    on_holiday = [e for e in cal.walk("VEVENT") if e["DTSTART"].dt.date() == date(2027, 7, 5)]
    assert on_holiday and all(str(e["STATUS"]) == "CANCELLED" for e in on_holiday)


def test_a_participant_cannot_read_the_feed(client, june, make_user):
    program, people, director = june
    user = make_user("participant", program, participant=people["P9"])
    login(client, user.email)
    assert client.get(f"/reports/groups/{first_group(program).id}/meetings.ics").status_code == 403
