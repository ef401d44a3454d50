"""CSV exports (attendance, credits, discharges, drug tests, per-diem billing); spreadsheets.py
writes the same tables as .xlsx workbooks.

Readers take the files with their default options: the header is the first row (pandas.read_csv,
csv.DictReader and a spreadsheet's import all take the first row for the header), and the 42 CFR
2.32 notice travels in the last column, `notice`, on every row. Why every row: a row copied, sorted
or filtered out of the file keeps the notice, and no reader has to skip anything (comment rows above
the header broke pandas and made spreadsheets take the notice for the header; a notice on the first
row only is lost to a sort; a trailing row is read as data). The column holds the short statement
that 42 CFR 2.32(a)(2) allows (about 70 bytes a row; the full notice would cost 330), and the .xlsx
Notice sheet and the reports page carry the full notice. An
export with no rows names nobody and holds the header only. A file name cannot hold the notice, so
it says the file is confidential under 42 CFR part 2, and the reports page shows the notice in full
beside the links. CSV has no types: a spreadsheet opening one turns revenue code 0906 into 906 and
a record number 00123 into 123; the .xlsx variant stores codes and record numbers as text cells.

Participants are named by id, record number and initials only (minimum necessary). CSV cells are
made safe against formula injection. Each export is built in a fixed number of queries; the view
audits it.

Attendance queries select by the program's groups and meeting dates and reach participants by their
primary key, never by filtering participants by program as well: without table statistics (a fresh
bulk load) PostgreSQL would otherwise plan a cross join of meetings and participants.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal
from itertools import repeat

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..attendance.models import Attendance
from ..clinical.models import DrugTest, RelapseAnalysis
from ..curricula.models import Module
from ..domain.sequencer import program_week
from ..extensions import db
from ..groups.calendars import version_structure
from ..groups.models import Group, Meeting
from ..groups.services import titles_of
from ..participants.models import DISCHARGE_LABELS, Participant
from ..programs.models import AttendanceStatus, Program
from ..progress.services import progress_for
from .services import Period, episodes, program_groups

# The 42 CFR 2.32 notice in plain words: the reports page and the .xlsx Notice sheet.
NOTICE = ("NOTICE: Confidential substance use treatment records (42 CFR 2.32). Federal law (42 CFR part 2) "
          "prohibits any further disclosure of these records without the written consent of the person they are "
          "about or as the regulation otherwise permits. A general authorization to release medical information "
          "is not enough.")
# The short statement 42 CFR 2.32(a)(2) permits in place of the full notice: every row of every export.
SHORT_NOTICE = "42 CFR part 2 prohibits unauthorized use or disclosure of these records."
NOTICE_COLUMN = "notice"
HUNDREDTHS, TENTHS = Decimal("0.01"), Decimal("0.1")  # hours and weeks, as the CSV has always shown them
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet would run these as formulas


@dataclass(frozen=True)
class Export:
    """A table ready to be written as CSV or .xlsx, with the participants it names (for the audit).
    Cells keep their types (dates, times, numbers, text) until a writer formats them."""

    kind: str
    title: str
    header: tuple[str, ...]
    rows: list[tuple]
    participant_ids: tuple[int, ...]

    def with_notice(self) -> tuple[tuple[str, ...], list[tuple]]:
        """The header and rows as written: the short notice as the last column of every row."""
        return (*self.header, NOTICE_COLUMN), [(*row, SHORT_NOTICE) for row in self.rows]


def filename(kind: str, period: Period, extension: str) -> str:
    """The download's file name: what, when, and that it is confidential (the notice is too long)."""
    return f"{kind}-{period.start.isoformat()}-to-{period.end.isoformat()}-confidential-42-CFR-part-2.{extension}"


def safe_cell(value: object) -> str:
    """A cell as text: yes/no for flags, ISO dates, and a leading apostrophe before anything a
    spreadsheet would read as a formula (=, +, -, @, tab, carriage return)."""
    kind = type(value)  # exact types first: a million cells in a year's export
    if kind is int:  # most cells: minutes and ids (a negative number would start with "-")
        return str(value) if value >= 0 else f"'{value}"
    if kind is str:
        text = value
    elif kind is date:
        return value.isoformat()  # starts with a digit
    elif value is None:
        return ""
    elif isinstance(value, bool):
        return "yes" if value else "no"
    elif isinstance(value, time):
        return value.strftime("%H:%M")
    elif isinstance(value, date):
        text = value.isoformat()
    else:
        text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def to_csv(export: Export) -> str:
    """The export as CSV text: the header first, then the rows, each ending with the notice."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow((*export.header, NOTICE_COLUMN))
    if export.rows:
        # Column by column (a year's export has a million cells): most columns hold one kind of value
        # that the csv module already writes as safe_cell would, and are passed through untouched.
        columns = [_safe_column([row[i] for row in export.rows]) for i in range(len(export.header))]
        writer.writerows(zip(*columns, repeat(safe_cell(SHORT_NOTICE), len(export.rows)), strict=True))
    return out.getvalue()


_AS_WRITTEN = {date, int, type(None)}  # csv writes these as safe_cell does (None empty, ISO dates) when not negative
_BY_VALUE = {str, bool, time, date, type(None)}  # equal values of these types always make the same cell


def _safe_column(values: list) -> list:
    """One column's cells as safe_cell writes them. A column holds few distinct values of one type:
    each distinct value is converted once, and a column the csv module already writes as safe_cell
    would (numbers that are not negative, dates, text that cannot start a formula) is passed as it is."""
    kinds = set(map(type, values))
    if kinds <= _AS_WRITTEN and (int not in kinds or min(v for v in values if type(v) is int) >= 0):
        return values
    if not kinds <= _BY_VALUE:
        return [safe_cell(v) for v in values]
    cells = {v: safe_cell(v) for v in set(values)}
    if kinds <= {str, type(None)} and all(v is None or cell is v for v, cell in cells.items()):
        return values  # no text that a spreadsheet would run as a formula
    return [cells[v] for v in values]


def _ids(rows: Iterable[tuple], column: int) -> tuple[int, ...]:
    return tuple(sorted({row[column] for row in rows}))


# --- the exports --------------------------------------------------------------------------------

def attendance_export(program: Program, period: Period) -> Export:
    """One row per participant per held meeting of the period, with status, flags and minutes."""
    rows = db.session.execute(
        select(Meeting.date, Meeting.start_time, Group.name, Meeting.track_code, Module.code,
               Attendance.participant_id, Participant.record_number, Participant.initials, AttendanceStatus.label,
               AttendanceStatus.counts_attended, AttendanceStatus.excused, AttendanceStatus.billable,
               Attendance.minutes, Meeting.minutes)
        .select_from(Attendance)
        .join(Meeting, Meeting.id == Attendance.meeting_id)
        .join(Group, Group.id == Meeting.group_id)
        .join(Participant, Participant.id == Attendance.participant_id)
        .join(AttendanceStatus, AttendanceStatus.id == Attendance.status_id)
        .outerjoin(Module, Module.id == Meeting.module_id)
        .where(Group.program_id == program.id, Meeting.status == "held", Meeting.date >= period.start,
               Meeting.date <= period.end)
        .order_by(Meeting.date, Meeting.start_time, Group.name, Meeting.track_code, Participant.record_number)
    ).all()
    rows = [tuple(r) for r in rows]
    return Export("attendance", "Attendance", (
        "meeting_date", "start_time", "group", "track", "module", "participant_id", "record_number", "initials",
        "status", "counts_as_attended", "excused", "billable", "minutes_attended", "meeting_minutes"),
        rows, _ids(rows, 5))


def billing_export(program: Program, period: Period) -> Export:
    """Per-diem billing: one row per participant per day with billable attendance, its total minutes,
    the program's service and revenue codes, and days under the billable minimum flagged (0 units)."""
    total = func.sum(Attendance.minutes)
    rows = db.session.execute(
        select(Meeting.date, Attendance.participant_id, Participant.record_number, Participant.initials, total,
               func.count(Attendance.id))
        .select_from(Attendance)
        .join(Meeting, Meeting.id == Attendance.meeting_id)
        .join(Group, Group.id == Meeting.group_id)
        .join(Participant, Participant.id == Attendance.participant_id)
        .join(AttendanceStatus, AttendanceStatus.id == Attendance.status_id)
        .where(Group.program_id == program.id, Meeting.status == "held", AttendanceStatus.billable,
               Meeting.date >= period.start, Meeting.date <= period.end)
        .group_by(Meeting.date, Attendance.participant_id, Participant.record_number, Participant.initials)
        .order_by(Meeting.date, Participant.record_number)
    ).all()
    minimum = program.billable_minimum_minutes
    out = []
    for day, pid, record, initials, minutes, meetings in rows:
        minutes = int(minutes or 0)
        under = minutes < minimum
        out.append((day, pid, record, initials, program.service_code, program.revenue_code, meetings, minutes,
                    (Decimal(minutes) / 60).quantize(HUNDREDTHS), minimum, under, 0 if under else 1))
    return Export("billing", "Per-diem billing", (
        "service_date", "participant_id", "record_number", "initials", "service_code", "revenue_code", "meetings",
        "minutes", "hours", "billable_minimum_minutes", "under_minimum", "units"), out, _ids(out, 1))


def discharges_export(program: Program, period: Period) -> Export:
    """One row per episode that ended in the period (a transfer inside the program is not a discharge)."""
    ended = [e for e in episodes(program.id, period.end) if period.contains(e.discharged)]
    people = _people({e.participant_id for e in ended})
    groups = {g.id: g.name for g in program_groups(program.id)}
    rows = []
    for e in sorted(ended, key=lambda e: (e.discharged, people[e.participant_id][0])):
        record, initials = people[e.participant_id]
        days = (e.discharged - e.admitted).days
        rows.append((e.participant_id, record, initials, groups.get(e.group_id, ""), e.admitted, e.discharged,
                     e.reason, DISCHARGE_LABELS.get(e.reason or "", ""), days, (Decimal(days) / 7).quantize(TENTHS),
                     program_week(e.stay, e.discharged)))
    return Export("discharges", "Discharges", (
        "participant_id", "record_number", "initials", "last_group", "admitted_on", "discharged_on", "reason",
        "reason_label", "days_in_treatment", "weeks_in_treatment", "program_week_at_discharge"), rows, _ids(rows, 0))


def _people(ids: set[int]) -> dict[int, tuple[str, str]]:
    """Record number and initials of these participants, in one query."""
    if not ids:
        return {}
    return {pid: (record, initials) for pid, record, initials in db.session.execute(
        select(Participant.id, Participant.record_number, Participant.initials).where(Participant.id.in_(ids)))}


def drug_tests_export(program: Program, period: Period) -> Export:
    """One row per drug or breath test collected in the period, with whether a relapse analysis followed."""
    rows = db.session.execute(
        select(DrugTest.collected_on, DrugTest.participant_id, Participant.record_number, Participant.initials,
               DrugTest.kind, DrugTest.result, DrugTest.substances, DrugTest.observed, RelapseAnalysis.status)
        .join(Participant, Participant.id == DrugTest.participant_id)
        .outerjoin(RelapseAnalysis, RelapseAnalysis.drug_test_id == DrugTest.id)
        .where(Participant.program_id == program.id, DrugTest.collected_on >= period.start,
               DrugTest.collected_on <= period.end)
        .order_by(DrugTest.collected_on, Participant.record_number, DrugTest.id)
    ).all()
    out = [(day, pid, record, initials, kind, result, "; ".join(substances or []), observed, analysis or "none")
           for day, pid, record, initials, kind, result, substances, observed, analysis in rows]
    return Export("drug-tests", "Drug tests", (
        "collected_on", "participant_id", "record_number", "initials", "kind", "result", "substances", "observed",
        "relapse_analysis"), out, _ids(out, 1))


def credits_export(program: Program, period: Period) -> Export:
    """Every module credited in the period (from attendance, make-ups, overrides and individual
    sessions), derived by the sequencer for everyone whose stay overlaps the period."""
    overlapping = {e.participant_id for e in episodes(program.id, period.end)
                   if e.discharged is None or e.discharged >= period.start}
    people = list(db.session.scalars(select(Participant).where(Participant.id.in_(overlapping)))) if overlapping else []
    plans = progress_for(people, period.end)
    groups = {str(g.id): g.name for g in program_groups(program.id)}
    titles: dict[int, dict[str, str]] = {}
    rows = []
    start, end = period.start, period.end
    for plan in plans.values():
        if plan.progress is None or plan.group is None:
            continue
        version = plan.group.version_id
        if version not in titles:
            titles[version] = titles_of(version_structure(version))
        person = plan.participant  # its columns read once, not once per credit (ORM attribute access)
        who, title_of = (person.id, person.record_number, person.initials), titles[version].get
        for track in plan.progress.tracks:
            for credit in track.credits:
                day = credit.date
                if day is None or not start <= day <= end:
                    continue
                meeting = credit.meeting
                rows.append((*who, track.track, credit.module, title_of(credit.module, ""), day, credit.source,
                             groups.get(meeting.group, "") if meeting else "", meeting.date if meeting else None,
                             credit.reason))
    rows.sort(key=lambda r: (r[1], r[6], r[4]))
    return Export("credits", "Credits", (
        "participant_id", "record_number", "initials", "track", "module", "title", "credited_on", "source",
        "meeting_group", "meeting_date", "reason"), rows, _ids(rows, 0))


@dataclass(frozen=True)
class ExportKind:
    """One downloadable export (CSV and .xlsx): what it is called, what it holds, and how it is built."""

    kind: str
    title: str
    description: str
    build: Callable[[Program, Period], Export]


EXPORTS = {e.kind: e for e in (
    ExportKind("attendance", _l("Attendance"), _l("One row per participant per meeting: status and minutes attended."),
               attendance_export),
    ExportKind("billing", _l("Per-diem billing"), _l("One row per participant per day attended, with total minutes; "
               "days under the billable minimum are flagged."), billing_export),
    ExportKind("credits", _l("Credits"), _l("Modules credited: from attendance, make-ups, overrides and individual "
               "sessions."), credits_export),
    ExportKind("discharges", _l("Discharges"), _l("Stays that ended, with the reason and the weeks in treatment."),
               discharges_export),
    ExportKind("drug-tests", _l("Drug tests"), _l("Tests collected, results, and whether a relapse analysis followed."),
               drug_tests_export),
)}
