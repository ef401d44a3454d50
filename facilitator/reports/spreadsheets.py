"""The exports as .xlsx workbooks (openpyxl, write-only: rows stream into the file).

The first sheet holds the same table as the CSV, `notice` column included, so pandas.read_excel
and a spreadsheet read it with their default options; the second sheet, "Notice", holds the 42 CFR
2.32 notice with what the file holds, and the document properties carry it too. Cells keep their
types: dates are date cells, times are time cells, counts and hours are numbers, and every text
(codes such as revenue code 0906, record numbers, initials) is a text cell formatted "@", so no
leading zero is lost. A text cell is never evaluated, so text that looks like a formula
("=HYPERLINK(...)") is stored as it is, without the apostrophe the CSV needs; openpyxl would take
such text for a formula, so each text cell's type is set after its value.
"""

from __future__ import annotations

import io
from datetime import date, datetime, time
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from .. import clock
from .exports import NOTICE, NOTICE_COLUMN, Export
from .services import Period

MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
WIDEST = 48  # characters: a long title or reason wraps to this width instead of stretching the sheet
NOTICE_WIDTH = 24  # the notice column: its text is the same on every row; the Notice sheet shows it whole
BOLD = Font(bold=True)
WRAP = Alignment(wrap_text=True, vertical="top")


def to_xlsx(export: Export, period: Period) -> bytes:
    """The export as an .xlsx workbook: the table (header frozen, filters on), then the Notice sheet."""
    header, rows = export.with_notice()
    book = Workbook(write_only=True)
    book.properties.title = f"{export.title}, {period.start.isoformat()} to {period.end.isoformat()}"
    book.properties.subject = "Confidential substance use treatment records (42 CFR part 2)"
    book.properties.description = NOTICE
    book.properties.keywords = "42 CFR part 2; confidential"
    book.properties.creator = "facilitator"
    book.properties.created = book.properties.modified = clock.naive_utc_now().replace(microsecond=0)
    table = book.create_sheet(export.title[:31])  # Excel's limit on a sheet name
    table.freeze_panes = "A2"
    table.auto_filter.ref = f"A1:{get_column_letter(len(header))}{len(rows) + 1}"
    for number, width in enumerate(_widths(header, rows), start=1):
        table.column_dimensions[get_column_letter(number)].width = width
    table.append([_cell(table, name, BOLD) for name in header])
    for row in rows:
        table.append([_cell(table, value) for value in row])
    notice = book.create_sheet("Notice")
    notice.column_dimensions["A"].width = 20
    notice.column_dimensions["B"].width = 90
    for label, value in (("Notice", NOTICE), ("Export", export.title), ("From", period.start),
                         ("To", period.end), ("Rows", len(rows))):
        notice.append([_cell(notice, label, BOLD), _cell(notice, value, wrap=True)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cell(sheet: WriteOnlyWorksheet, value: object, font: Font | None = None, wrap: bool = False) -> WriteOnlyCell:
    """One typed cell: text stays text (never a formula), dates and times get their formats."""
    if isinstance(value, bool):
        value = "yes" if value else "no"  # as in the CSV
    if isinstance(value, str):
        cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("\ufffd", value))
        cell.data_type = "s"  # openpyxl marks text starting with "=" as a formula: it is data
        cell.number_format = "@"
    else:
        cell = WriteOnlyCell(sheet, value=value)
        if isinstance(value, time):
            cell.number_format = "hh:mm"
        elif isinstance(value, date) and not isinstance(value, datetime):
            cell.number_format = "yyyy-mm-dd"
        elif isinstance(value, Decimal):
            places = -value.as_tuple().exponent
            cell.number_format = "0." + "0" * places if places > 0 else "0"
    if font is not None:
        cell.font = font
    if wrap:
        cell.alignment = WRAP
    return cell


def _widths(header: tuple[str, ...], rows: list[tuple]) -> list[float]:
    """Column widths from the header and the first rows' text, between 8 and WIDEST characters."""
    widths = []
    for column, name in enumerate(header):
        if name == NOTICE_COLUMN:
            widths.append(NOTICE_WIDTH)
            continue
        longest = max([len(name)] + [len(_shown(row[column])) for row in rows[:200]])
        widths.append(min(max(longest + 2, 8), WIDEST))
    return widths


def _shown(value: object) -> str:
    """About what a spreadsheet shows for a value, to size its column."""
    if value is None:
        return ""
    if isinstance(value, time):
        return "00:00"
    if isinstance(value, date):
        return "0000-00-00"
    return str(value)
