"""A participant's own records, for their right of access (HIPAA, 45 CFR 164.524): their stays, progress
(credits by track), attendance, drug and alcohol test results and relapse analyses, make-ups and worksheet
answers, as one plain-data dictionary that becomes JSON or, through the document service, a tagged PDF.
Both carry the 42 CFR 2.32 notice.

Staff notes (a make-up's planning note, the per-person line of a group note) are not part of it: they
are the counselors' working notes, which /me never shows either.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from ..attendance.models import Attendance
from ..clinical.models import DrugTest, RelapseAnalysis
from ..clinical.services import TRIGGER_LABELS, analysis_worksheet
from ..curricula.models import CurriculumVersion, Module, Worksheet
from ..documents.builders import REDISCLOSURE_NOTICE, _env
from ..documents.catalog import DocumentNotFound, Order, page_size_for
from ..documents.participant_docs import TEST_KIND_LABELS, TEST_RESULT_LABELS, day
from ..documents.service import RenderInput, cache_key
from ..extensions import db
from ..groups.models import Group, Meeting
from ..groups.services import clock
from ..participants.models import DISCHARGE_LABELS, Participant
from ..participants.pages import STATE_LABELS, participant_page
from ..programs.models import AttendanceStatus, Program
from ..reports.exports import NOTICE
from ..web.i18n import current_language
from ..workbook.models import WorksheetAnswer
from ..workbook.services import sheet_in, shown_answers
from .answers import answered_fields

ANSWER_LABELS = {"draft": "Draft", "submitted": "Submitted", "reviewed": "Reviewed"}


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _attendance(participant_id: int, groups: dict[int, Group]) -> list[dict[str, Any]]:
    """Every attendance row of the participant, oldest first, with the meeting and its module (one query)."""
    rows = db.session.execute(
        select(Meeting.date, Meeting.start_time, Meeting.group_id, Meeting.track_code, Meeting.minutes,
               Meeting.status, Module.code, Module.title, AttendanceStatus.label, AttendanceStatus.counts_attended,
               AttendanceStatus.excused, Attendance.minutes)
        .join(Attendance, Attendance.meeting_id == Meeting.id)
        .join(AttendanceStatus, AttendanceStatus.id == Attendance.status_id)
        .outerjoin(Module, Module.id == Meeting.module_id)
        .where(Attendance.participant_id == participant_id)
        .order_by(Meeting.date, Meeting.start_time)
    ).all()
    return [{"date": d.isoformat(), "time": clock(start.strftime("%H:%M")),
             "group": groups[gid].name if gid in groups else "", "track": track, "module": code, "title": title or "",
             "status": label, "counts_as_attended": attended, "excused": excused, "minutes_attended": minutes,
             "meeting_minutes": length, "meeting_cancelled": status == "cancelled"}
            for d, start, gid, track, length, status, code, title, label, attended, excused, minutes in rows]


def _clock_words(text: str) -> str:
    """A cell's words with its time as staff pages show it ("at 18:00" -> "at 6:00 PM")."""
    return re.sub(r"\b(\d{2}:\d{2})\b", lambda match: clock(match.group(1)), text)


def _tests(participant_id: int) -> list[dict[str, Any]]:
    """Every drug and alcohol test, newest first (one query)."""
    tests = db.session.scalars(select(DrugTest).where(DrugTest.participant_id == participant_id)
                               .order_by(DrugTest.collected_on.desc(), DrugTest.id.desc()))
    return [{"collected_on": t.collected_on.isoformat(), "kind": TEST_KIND_LABELS.get(t.kind, t.kind),
             "result": TEST_RESULT_LABELS.get(t.result, t.result), "substances": list(t.substances or []),
             "observed": t.observed} for t in tests]


def _worksheets(participant_id: int) -> list[dict[str, Any]]:
    """Every worksheet the participant has answered, with each question and answer (one query)."""
    language = current_language()
    rows = db.session.execute(
        select(WorksheetAnswer, Worksheet, CurriculumVersion.title, CurriculumVersion.label)
        .join(Worksheet, Worksheet.id == WorksheetAnswer.worksheet_id)
        .join(CurriculumVersion, CurriculumVersion.id == Worksheet.version_id)
        .where(WorksheetAnswer.participant_id == participant_id)
        .order_by(Worksheet.code, WorksheetAnswer.id)
    ).all()
    out = []
    for answer, row, version_title, version_label in rows:
        # In the reader's language when the curriculum has it: its questions, and checked items in its words.
        shown = sheet_in(row, language)
        fields = row.translations[language]["fields"] if shown.language == language != row.language else row.fields
        items = answered_fields(fields, shown_answers(row, shown, answer.answers))
        out.append({"code": row.code, "title": shown.title, "curriculum": f"{version_title} ({version_label})",
                    "status": ANSWER_LABELS.get(answer.status, answer.status), "updated_at": _iso(answer.updated_at),
                    "submitted_at": _iso(answer.submitted_at), "reviewed_at": _iso(answer.reviewed_at),
                    "counselor_comment": answer.comment or "", "answers": items})
    return out


def _analyses(participant_id: int, version_id: int | None) -> list[dict[str, Any]]:
    """Every relapse analysis, oldest first, with each question of the group's analysis worksheet and the
    answer given (one query, and one for the worksheet unless it is cached)."""
    rows = list(db.session.scalars(select(RelapseAnalysis).where(RelapseAnalysis.participant_id == participant_id)
                                   .order_by(RelapseAnalysis.occurred_on, RelapseAnalysis.id)))
    sheet = analysis_worksheet(version_id, language=current_language()) if rows else None
    return [{"occurred_on": a.occurred_on.isoformat(), "opened_by": TRIGGER_LABELS.get(a.opened_by, a.opened_by),
             "status": "Reviewed" if a.status == "reviewed" else "Open",
             "answers": answered_fields(sheet.fields, a.answers) if sheet else []} for a in rows]


def gather(person: Participant, today: date) -> dict[str, Any]:
    """The participant's records as plain data (dates as ISO text), the notice first."""
    page = participant_page(person, today, for_staff=False)
    plan, progress = page.plan, page.plan.progress
    stays = [{"group": page.groups[e.group_id].name if e.group_id in page.groups else "",
              "admitted_on": e.admitted_on.isoformat(), "discharged_on": _iso(e.discharged_on),
              "discharge_reason": DISCHARGE_LABELS.get(e.discharge_reason or "", "") if e.discharged_on else ""}
             for e in plan.enrollments]
    tracks = [{"code": t.code, "name": t.name, "required": t.required, "credited": t.credited,
               "total": len(t.cells), "completed_on": _iso(t.completed_on),
               "modules": [{"code": c.code, "title": c.title, "state": STATE_LABELS[c.state], "date": _iso(c.day),
                            "detail": _clock_words(c.detail)} for c in t.cells]}
              for t in page.tracks]
    makeups = [{"module": m.code, "title": m.title, "how": m.method, "group": m.group,
                "planned_on": _iso(m.makeup.planned_on), "status": m.makeup.status.capitalize(),
                "credited_on": _iso(m.credited_on)} for m in page.makeups]
    return {
        "notice": NOTICE,
        "program": page.program.name,
        "created_on": today.isoformat(),
        "participant": {"preferred_name": person.preferred_name, "initials": person.initials,
                        "record_number": person.record_number, "language": person.language,
                        "sobriety_date": _iso(person.sobriety_date)},
        "stays": stays,
        "progress": {"group_program_completed_on": _iso(progress.group_completed_on) if progress else None,
                     "projected_completion": _iso(progress.projected_completion)
                     if progress and plan.current else None,
                     "tracks": tracks},
        "attendance": _attendance(person.id, page.groups),
        "drug_tests": _tests(person.id),
        "relapse_analyses": _analyses(person.id, plan.group.version_id if plan.group else None),
        "makeups": makeups,
        "worksheets": _worksheets(person.id),
    }


def records_html(records: dict[str, Any]) -> str:
    """The records as print HTML (no time of day in it: the cache key is its hash)."""
    return _env.get_template("records.html").render(r=records, day=lambda text: day(date.fromisoformat(text))
                                                   if text else "", notice=REDISCLOSURE_NOTICE)


def records_order(person: Participant, *, program: Program, today: date, page_size: str | None = None) -> Order:
    """The participant's records as one PDF (the 42 CFR 2.32 notice on every page)."""
    if person.program_id != program.id:
        raise DocumentNotFound(f"no participant with id {person.id}")
    size = page_size_for(program, page_size)
    records = gather(person, today)
    html = records_html(records)
    key = cache_key("records", {"html": hashlib.sha256(html.encode("utf-8")).hexdigest(), "size": size,
                                "lang": current_language(),
                                "program": program.id, "participant": person.id})

    language = current_language()

    def build() -> RenderInput:
        return RenderInput(html, size, language, stylesheets=("progress.css", "records.css"))

    rows = len(records["attendance"]) + len(records["drug_tests"]) + len(records["makeups"]) + sum(
        len(w["answers"]) for w in records["worksheets"])
    return Order("records", key, f"my-records-{today.isoformat()}.pdf", 2 + rows // 35, build, (person.id,),
                 program.id, {"page_size": size})
