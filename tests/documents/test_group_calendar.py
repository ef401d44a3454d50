"""The group calendar for the wall: a landscape page per month, each meeting's module on its day,
cancelled meetings and closed days marked, and a cache key that changes with anything shown."""

from __future__ import annotations

import calendar as stdcal
import subprocess
from datetime import date, time
from pathlib import Path

import pytest

from facilitator.documents import calendar_doc, catalog, service
from facilitator.extensions import db
from facilitator.groups.calendars import group_calendar, version_structure
from facilitator.groups.models import Cancellation, Slot
from facilitator.groups.services import titles_of
from facilitator.programs.models import Holiday

from ..conftest import csrf_token, login
from .conftest import fonts, qpdf_clean, reader, text

MARCH = date(2027, 3, 1)
PAGE_POINTS = {"letter": (792.0, 612.0), "a4": (841.89, 595.28)}


def cell_text(pdf: Path, page: int, size: str, day: date) -> str:
    """The text inside one day's cell of a month page, cropped by the grid's geometry.

    The numbers are calendar.css's: side and top page margins, the 52pt title block and the 20pt
    weekday row; each week row is the cell height calendar_doc computes plus its 0.8pt border.
    """
    weeks = stdcal.Calendar(firstweekday=6).monthdatescalendar(day.year, day.month)
    row = next(n for n, week in enumerate(weeks) if day in week)
    col = weeks[row].index(day)
    width, _ = PAGE_POINTS[size]
    col_width = (width - 0.9 * 72) / 7
    row_height = round(calendar_doc.GRID_HEIGHT[size] / len(weeks), 1) + 0.8
    x, y = 0.45 * 72 + col * col_width + 2, 0.4 * 72 + 52 + 20 + row * row_height + 2
    args = ["pdftotext", "-f", str(page), "-l", str(page), "-x", str(int(x)), "-y", str(int(y)),
            "-W", str(int(col_width - 4)), "-H", str(int(row_height - 4)), str(pdf), "-"]
    return " ".join(subprocess.run(args, capture_output=True, text=True, check=True).stdout.split())


@pytest.fixture
def program(make_program):
    return make_program("Riverside IOP")


@pytest.fixture
def group(program, make_group):
    return make_group(program, name="Evening group", start=date(2027, 1, 4))


def produce(order, cache):
    """Render through the service's cache; the file's path."""
    path, _ = service.produce(order.key, order.build, cache)
    return path


def test_a_month_per_landscape_letter_page_with_each_module_on_its_day(
        session, program, group, document_cache):
    db.session.add(Cancellation(group_id=group.id, date=date(2027, 3, 12), track_code="RP", reason="Staff training"))
    db.session.add(Holiday(program_id=program.id, date=date(2027, 3, 17), name="Staff Retreat"))
    db.session.flush()
    order = calendar_doc.calendar_order(group, program=program, month=MARCH, months=2)
    path = produce(order, document_cache)

    pdf = reader(path)
    assert len(pdf.pages) == 2 == order.pages
    assert all(float(p.mediabox.width) > float(p.mediabox.height) for p in pdf.pages), "landscape"
    assert (float(pdf.pages[0].mediabox.width), float(pdf.pages[0].mediabox.height)) == PAGE_POINTS["letter"]
    assert qpdf_clean(path)
    assert all(f["emb"] == "yes" for f in fonts(path))
    assert "Evening group — March 2027" in text(path, 1) and "Evening group — April 2027" in text(path, 2)
    assert "Riverside IOP" in text(path, 1) and "Mon 5:30 PM ERS, 6:30 PM RP" in text(path, 1)
    assert "RP = Relapse Prevention" in " ".join(text(path, 1).split())

    # The module of each meeting of a day, with its title, in that day's cell.
    titles = titles_of(version_structure(group.version_id))
    monday = [m for m in group_calendar(group, date(2027, 3, 8)).meetings if m.date == date(2027, 3, 8)]
    cell = cell_text(path, 1, "letter", date(2027, 3, 8))
    assert cell.startswith("8 ")
    for meeting in monday:
        assert f"{meeting.module}" in cell and titles[meeting.module].split()[0] in cell
    assert "ERS" not in cell_text(path, 1, "letter", date(2027, 3, 9)), "the group does not meet on Tuesdays"

    friday = cell_text(path, 1, "letter", date(2027, 3, 12))
    assert "CANCELLED" in friday.upper() and "ERS" in friday
    closed = cell_text(path, 1, "letter", date(2027, 3, 17))
    assert "Closed: Staff Retreat" in closed and "FE" in closed

    assert produce(order, document_cache) == path  # a repeat comes from the cache


def test_a4_pages_hold_six_week_months_and_busy_closed_days(session, program, group, document_cache):
    # Four meetings every Monday, and a holiday on one: more than a 6-week month's cell can list.
    group.slots += [Slot(weekday=0, start_time=time(9), track_code="FE", minutes=90),
                    Slot(weekday=0, start_time=time(10, 30), track_code="SS", minutes=90)]
    db.session.add(Holiday(program_id=program.id, date=date(2027, 1, 18), name="Martin Luther King Jr. Day"))
    db.session.flush()
    order = calendar_doc.calendar_order(group, program=program, month=date(2027, 1, 1), months=2, page_size="a4")
    path = produce(order, document_cache)

    pdf = reader(path)
    assert len(pdf.pages) == 2, "January 2027 spans six weeks and still fits its page"
    width, height = float(pdf.pages[0].mediabox.width), float(pdf.pages[0].mediabox.height)
    assert width > height and (round(width), round(height)) == (842, 595)
    assert qpdf_clean(path)
    busy = cell_text(path, 1, "a4", date(2027, 1, 11))
    assert all(f"{track} " in busy for track in ("ERS", "RP", "FE", "SS")), "every meeting of a busy day"
    closed = cell_text(path, 1, "a4", date(2027, 1, 18))
    assert "Closed: Martin Luther King Jr. Day" in closed and "more" in closed


def test_meetings_before_the_start_or_after_the_close_are_not_shown(session, program, make_group):
    group = make_group(program, start=date(2027, 3, 10))
    group.end_date = date(2027, 3, 24)
    db.session.flush()
    shown = calendar_doc.meetings_between(group, MARCH, date(2027, 3, 31))
    assert min(m.date for m in shown) == date(2027, 3, 10)
    assert max(m.date for m in shown) == date(2027, 3, 24)


def test_months_page_size_and_program_are_checked(session, program, group, make_program):
    for months in (0, 13):
        with pytest.raises(catalog.DocumentNotFound, match=f"1 to 12 months at a time, not {months}"):
            calendar_doc.calendar_order(group, program=program, month=MARCH, months=months)
    with pytest.raises(catalog.DocumentNotFound, match="unknown page size 'legal'"):
        calendar_doc.calendar_order(group, program=program, month=MARCH, page_size="legal")
    with pytest.raises(catalog.DocumentNotFound, match=f"no group with id {group.id}"):
        calendar_doc.calendar_order(group, program=make_program(), month=MARCH)


def test_the_order_is_cacheable_and_its_key_follows_what_is_shown(session, program, group):
    def key(**options):
        return calendar_doc.calendar_order(group, program=program, month=MARCH, **options).key

    order = calendar_doc.calendar_order(group, program=program, month=date(2027, 3, 15), months=3)
    assert (order.kind, order.pages, order.program_id, order.personal) == ("calendar", 3, program.id, False)
    assert order.filename == "evening-group-calendar-2027-03-to-2027-05.pdf"
    assert order.detail == {"group": group.id, "month": "2027-03", "months": 3, "lang": "en"}
    assert calendar_doc.calendar_order(group, program=program, month=MARCH).filename == \
        "evening-group-calendar-2027-03.pdf"

    first = key()
    assert key() == first == key(page_size="letter"), "the same inputs, the same key"
    assert key(page_size="a4") != first
    assert key(months=2) != first
    db.session.add(Cancellation(group_id=group.id, date=date(2027, 3, 12), track_code="RP", reason=""))
    db.session.flush()
    cancelled = key()
    assert cancelled != first
    group.name = "Evening group (Room 4)"
    db.session.flush()
    renamed = key()
    assert renamed != cancelled
    db.session.add(Holiday(program_id=program.id, date=date(2027, 3, 17), name="Staff Retreat"))
    db.session.flush()
    assert key() != renamed
    assert len({first, cancelled, renamed, key()}) == 4


def test_busy_days_shrink_and_what_does_not_fit_is_counted():
    def entries(n: int, title: str = "Stop the Cycle") -> list[calendar_doc.Entry]:
        return [calendar_doc.Entry("6:30 PM", f"RP {i}", title, False) for i in range(n)]

    width = calendar_doc.CELL_WIDTH["letter"]
    assert calendar_doc.fit(entries(2), "", 90, width)[0] == "roomy"
    density, fitted, more = calendar_doc.fit(entries(2, "Identifying External Triggers"), "", 90, width)
    assert (density, [e.lines for e in fitted], more) == ("roomy", [2, 2], 0), "long titles wrap to two lines"
    assert calendar_doc.fit(entries(4), "", 75, width)[0] == "minimal"
    density, fitted, more = calendar_doc.fit(entries(6), "Closed: Martin Luther King Jr. Day", 75, width)
    assert more > 0 and len(fitted) + more == 6
    assert all(e.lines == 0 for e in fitted), "under a day's label the meetings are listed struck, nothing more"


def test_staff_and_members_print_the_wall_calendar_from_their_pages(client, session, program, group, make_group,
                                                                   make_participant, make_user, make_program):
    member = make_participant(program, group, name="Robin")
    login(client, make_user("facilitator", program).email)
    page = client.get(f"/groups/{group.id}")
    assert f'action="/documents/groups/{group.id}/calendar.pdf"' in page.text and 'name="month"' in page.text
    wall = client.get(f"/documents/groups/{group.id}/calendar.pdf", query_string={"month": "2027-03", "months": "2"})
    assert wall.status_code == 200 and wall.headers["Cache-Control"] == "private, max-age=3600"
    assert len(reader(wall.data).pages) == 2 and "March 2027" in text(wall.data, page=1)
    for bad in ({"month": "2027-13"}, {"month": "March"}, {"month": "2027-03", "months": "13"},
                {"month": "2027-03", "months": "x"}):
        refused = client.get(f"/documents/groups/{group.id}/calendar.pdf", query_string=bad)
        assert refused.status_code == 400 and ("YYYY-MM" in refused.text or "1 to 12 months" in refused.text)
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/today").text)})
    login(client, make_user("participant", program, participant=member).email)
    assert client.get(f"/documents/groups/{group.id}/calendar.pdf?month=2027-03").status_code == 200
    other_group = make_group(program, "Morning group")
    assert client.get(f"/documents/groups/{other_group.id}/calendar.pdf").status_code == 404
    elsewhere = make_group(make_program(), "Elsewhere")
    assert client.get(f"/documents/groups/{elsewhere.id}/calendar.pdf").status_code == 404


def test_cli_prints_a_calendar_and_refuses_bad_months(runner, group, tmp_path):
    out = tmp_path / "calendar.pdf"
    result = runner.invoke(args=["print", "calendar", str(group.id), "--month", "2027-03", "--page-size", "a4",
                                 "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert [round(float(v)) for v in reader(out).pages[0].mediabox[2:]] == [842, 595]
    for args, message in ((["--month", "2027-3x"], "is not a month"), (["--month", "2027-03", "--months", "0"],
                                                                        "1 to 12 months")):
        bad = tmp_path / "bad.pdf"
        result = runner.invoke(args=["print", "calendar", str(group.id), *args, "-o", str(bad)])
        assert result.exit_code != 0 and message in result.output and not bad.exists()
    missing = runner.invoke(args=["print", "calendar", "999999", "--month", "2027-03", "-o", str(out)])
    assert missing.exit_code != 0 and "no group with id 999999" in missing.output
