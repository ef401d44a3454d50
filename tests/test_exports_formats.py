"""The exports as other programs read them: pandas and the csv module take every CSV with their
default options (header first, the notice on every row, the right number of rows); openpyxl and
pandas.read_excel take every .xlsx with theirs (typed cells, codes as text, the notice on its own
sheet and in the properties, a frozen header and filters); text that looks like a formula stays text."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime, time

import openpyxl
import pandas
import pytest
from sqlalchemy import select

from facilitator.audit.models import AuditEvent
from facilitator.extensions import db
from facilitator.progress.models import Credit
from facilitator.reports import exports, views
from facilitator.reports.services import Period

from .conftest import login
from .test_exports import QUERY, build_june
from .test_reports import TODAY

YEAR = "start=2027-01-01&end=2027-06-30"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setattr(views, "_today", lambda: TODAY)


@pytest.fixture
def june(session, make_program, make_group, make_participant, make_user):
    """The export tests' program: two weeks of June attendance for P8 and P9, a drug test and a credit."""
    return build_june(make_program, make_group, make_participant, make_user)


def expected_table(program, query: str) -> dict[str, exports.Export]:
    """Each export of the period as the app builds it, before any file is written."""
    start, end = (date.fromisoformat(part.split("=")[1]) for part in query.split("&"))
    return {kind: found.build(program, Period(start, end)) for kind, found in exports.EXPORTS.items()}


def test_pandas_and_the_csv_module_read_every_export_with_default_options(client, june, tmp_path):
    program, people, director = june
    login(client, director.email)
    built = expected_table(program, YEAR)
    for kind, export in built.items():
        path = tmp_path / f"{kind}.csv"
        path.write_bytes(client.get(f"/reports/exports/{kind}.csv?{YEAR}").data)
        frame = pandas.read_csv(path)
        assert list(frame.columns) == [*export.header, "notice"], kind
        assert len(frame) == len(export.rows) > 0, kind
        assert set(frame["notice"]) == {exports.SHORT_NOTICE}
        with path.open(newline="") as f:
            rows = list(csv.DictReader(f))
        assert len(rows) == len(export.rows) and all(r["notice"] == exports.SHORT_NOTICE for r in rows)
        assert list(rows[0]) == [*export.header, "notice"]
    # A CSV file has no types: pandas guesses, and "0906" looks like the number 906. Read as text
    # (dtype=str), the code arrives as written; the .xlsx variant stores it as text for spreadsheets.
    billing = pandas.read_csv(tmp_path / "billing.csv", dtype=str)
    assert set(billing["revenue_code"]) == {"0906"} and set(billing["service_code"]) == {"H0015"}


def test_an_empty_export_is_a_header_that_readers_accept(client, june, tmp_path):
    login(client, june[2].email)
    path = tmp_path / "drug-tests.csv"
    path.write_bytes(client.get("/reports/exports/drug-tests.csv?start=2027-01-01&end=2027-01-31").data)
    assert list(pandas.read_csv(path).columns)[-1] == "notice" and len(pandas.read_csv(path)) == 0
    book = openpyxl.load_workbook(io.BytesIO(client.get(
        "/reports/exports/drug-tests.xlsx?start=2027-01-01&end=2027-01-31").data))
    assert book["Notice"]["B1"].value == exports.NOTICE and book.worksheets[0].max_row == 1


def test_every_export_as_a_workbook_that_openpyxl_and_pandas_read(client, june):
    program, people, director = june
    login(client, director.email)
    built = expected_table(program, YEAR)
    for kind, export in built.items():
        response = client.get(f"/reports/exports/{kind}.xlsx?{YEAR}")
        assert response.status_code == 200 and response.mimetype == XLSX, kind
        assert response.headers["Cache-Control"] == "no-store"
        assert (f'filename="{kind}-2027-01-01-to-2027-06-30-confidential-42-CFR-part-2.xlsx"'
                in response.headers["Content-Disposition"])
        book = openpyxl.load_workbook(io.BytesIO(response.data))
        assert book.sheetnames == [export.title, "Notice"]
        table, notice = book.worksheets
        header = [c.value for c in table[1]]
        assert header == [*export.header, "notice"] and all(c.font.bold for c in table[1])
        assert table.max_row == len(export.rows) + 1
        assert table.freeze_panes == "A2"  # the header stays in view while scrolling
        assert table.auto_filter.ref == f"A1:{table.cell(1, len(header)).column_letter}{len(export.rows) + 1}"
        assert all(8 <= table.column_dimensions[c.column_letter].width <= 48 for c in table[1])
        assert {table.cell(r, len(header)).value for r in range(2, table.max_row + 1)} == {exports.SHORT_NOTICE}
        assert (notice["A1"].value, notice["B1"].value) == ("Notice", exports.NOTICE)
        assert book.properties.description == exports.NOTICE and "42 CFR part 2" in book.properties.subject
        frame = pandas.read_excel(io.BytesIO(response.data))  # default options: the first sheet, header row 1
        assert list(frame.columns) == header and len(frame) == len(export.rows)
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == f"export.{kind}")).one()
        assert event.detail["format"] == "xlsx" and event.detail["rows"] == len(export.rows)


def test_workbook_cells_keep_their_types(client, june):
    program, people, director = june
    people["P9"].record_number = "000123"
    db.session.flush()
    login(client, director.email)
    table = openpyxl.load_workbook(io.BytesIO(client.get(f"/reports/exports/attendance.xlsx?{QUERY}").data)).active
    columns = {c.value: c.column for c in table[1]}
    first = {name: table.cell(2, column) for name, column in columns.items()}
    assert first["meeting_date"].is_date and first["meeting_date"].value == datetime(2027, 6, 7)
    assert first["meeting_date"].number_format == "yyyy-mm-dd"
    assert first["start_time"].value == time(17, 30) and first["start_time"].number_format == "hh:mm"
    assert first["record_number"].value == "000123" and first["record_number"].data_type == "s"
    assert first["record_number"].number_format == "@"  # a cell typed into later stays text too
    assert first["minutes_attended"].value == 50 and first["minutes_attended"].data_type == "n"
    assert first["counts_as_attended"].value == "yes"  # as in the CSV
    billing = client.get(f"/reports/exports/billing.xlsx?{QUERY}").data
    sheet = openpyxl.load_workbook(io.BytesIO(billing)).active
    codes = [c for c in next(sheet.iter_cols(min_col=6, max_col=6))]
    assert codes[0].value == "revenue_code" and {(c.value, c.data_type) for c in codes[1:]} == {("0906", "s")}
    # A spreadsheet shows a text cell as written. pandas re-guesses the type of every column, text
    # cells included, so it needs dtype=object to keep "0906" (as with CSV); its numbers stay numbers.
    assert set(pandas.read_excel(io.BytesIO(billing), dtype=object)["revenue_code"]) == {"0906"}
    assert sorted(pandas.read_excel(io.BytesIO(billing))["hours"]) == [1.08, 2.08, 3.0]  # for sums and charts
    discharges = pandas.read_excel(io.BytesIO(client.get(f"/reports/exports/discharges.xlsx?{YEAR}").data))
    assert pandas.api.types.is_datetime64_any_dtype(discharges["discharged_on"])


def test_formula_looking_text_stays_text_in_the_workbook(client, june):
    program, people, director = june
    people["P9"].record_number = '=HYPERLINK("http://x.io","go")'
    people["P8"].initials = "=A1"
    db.session.flush()
    credit = db.session.scalars(select(Credit).where(Credit.participant_id == people["P8"].id)).one()
    credit.reason = "=1+1 done by phone"
    db.session.flush()
    login(client, director.email)
    for kind, column, value in (("attendance", "record_number", '=HYPERLINK("http://x.io","go")'),
                                ("attendance", "initials", "=A1"),
                                ("credits", "reason", "=1+1 done by phone")):
        data = client.get(f"/reports/exports/{kind}.xlsx?{QUERY}").data
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            assert "<f>" not in package.read("xl/worksheets/sheet1.xml").decode()  # no formula anywhere
        table = openpyxl.load_workbook(io.BytesIO(data)).active
        index = [c.value for c in table[1]].index(column) + 1
        cells = [table.cell(r, index) for r in range(2, table.max_row + 1)]
        hits = [c for c in cells if c.value == value]  # stored as written: a text cell needs no apostrophe
        assert hits and all(c.data_type == "s" for c in hits), (kind, column)
        assert value in set(pandas.read_excel(io.BytesIO(data))[column])


def test_control_characters_cannot_break_a_workbook(client, june):
    program, people, director = june
    people["P9"].initials = "A\x07B"
    db.session.flush()
    login(client, director.email)
    response = client.get(f"/reports/exports/attendance.xlsx?{QUERY}")
    assert response.status_code == 200
    table = openpyxl.load_workbook(io.BytesIO(response.data)).active
    assert "A\ufffdB" in {row[7] for row in table.iter_rows(min_row=2, values_only=True)}


@pytest.mark.parametrize("query, message", [
    ("start=2027-02-30&end=2027-06-30", "Enter the first day as a date"),
    ("start=2027-01-01&end=2027-07-15", "The period cannot end after today."),
])
def test_a_workbook_for_a_bad_period_is_refused_as_the_csv_is(client, june, query, message):
    login(client, june[2].email)
    for extension in ("csv", "xlsx"):
        page = client.get(f"/reports/exports/attendance.{extension}?{query}")
        assert page.status_code == 422 and message in page.text
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action.like("export.%"))) is None


def test_facilitators_may_not_download_workbooks(client, june, make_user):
    login(client, make_user("facilitator", june[0]).email)
    assert client.get("/reports/exports/billing.xlsx").status_code == 403
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action.like("export.%"))) is None


def test_the_reports_page_offers_each_export_in_both_formats_with_the_notice(client, june):
    login(client, june[2].email)
    page = client.get(f"/reports/?{YEAR}").text
    for kind in exports.EXPORTS:
        assert f"/reports/exports/{kind}.csv?start=2027-01-01&amp;end=2027-06-30" in page
        assert f"/reports/exports/{kind}.xlsx?start=2027-01-01&amp;end=2027-06-30" in page
    assert "prohibits any further disclosure of these records" in page
