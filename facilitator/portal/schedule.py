"""The meetings on a participant's own page with the worksheets of each: the next two weeks, the past four,
and the make-ups still planned. Built from the page's data plus three queries, whatever the history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from ..attendance.models import Attendance
from ..curricula.models import Curriculum, CurriculumVersion, Module, Worksheet
from ..extensions import db
from ..groups.models import Meeting
from ..participants.pages import ParticipantPage
from ..programs.models import AttendanceStatus
from ..web.i18n import current_language, format_clock
from ..workbook.models import WorksheetAnswer

PAST_DAYS = 28  # the past four weeks: the worksheets of a meeting just attended or missed


@dataclass(frozen=True)
class Sheet:
    """One worksheet of a meeting's module and where the participant's answers stand."""

    code: str
    title: str
    answer: str  # "" (not started), draft, submitted or reviewed


@dataclass(frozen=True)
class Session:
    """A meeting (or a planned make-up) and its module's worksheets, ready to show."""

    day: date | None
    time: str  # in the page's language: "5:30 PM", "5:30 p. m." ("" when there is no set time)
    track: str
    module: str | None
    title: str
    state: str  # coming | today | cancelled | attended | missed | unrecorded | makeup
    note: str  # why it is optional, the attendance status, or how the make-up is done
    curriculum: str  # the curriculum name and version number the worksheets print from
    version: int | None
    sheets: tuple[Sheet, ...]


@dataclass(frozen=True)
class MySessions:
    """What the worksheets panel of /me shows."""

    upcoming: tuple[Session, ...]
    makeups: tuple[Session, ...]
    past: tuple[Session, ...]


@dataclass(frozen=True)
class _Version:
    curriculum: str
    number: int
    sheets: dict[str, tuple[tuple[int, str, str], ...]]  # module code -> (worksheet id, code, title)
    titles: dict[str, str]  # module code -> title


def _attended(participant_id: int, first: date, last: date) -> list[tuple]:
    """The participant's attendance rows of meetings in [first, last) with status and module (one query)."""
    return list(db.session.execute(
        select(Meeting.group_id, Meeting.date, Meeting.start_time, Meeting.track_code, Module.code,
               Module.version_id, AttendanceStatus.label, AttendanceStatus.counts_attended)
        .join(Attendance, Attendance.meeting_id == Meeting.id)
        .join(AttendanceStatus, AttendanceStatus.id == Attendance.status_id)
        .outerjoin(Module, Module.id == Meeting.module_id)
        .where(Attendance.participant_id == participant_id, Meeting.date >= first, Meeting.date < last)
    ).all())


def _versions(version_ids: set[int], module_ids: set[int]) -> tuple[dict[int, _Version], dict[int, tuple[int, str]]]:
    """Worksheets of the given versions and modules, with each version's curriculum name and number
    (one query); and module id -> (version id, module code) for the modules asked for by id."""
    if not version_ids and not module_ids:
        return {}, {}
    language = current_language()  # titles in the reader's language where the curriculum has its twin
    rows = db.session.execute(
        select(CurriculumVersion.id, Curriculum.name, CurriculumVersion.number, Module.id, Module.code,
               func.coalesce(Module.translations[(language, "title")].as_string(), Module.title),
               Worksheet.id, Worksheet.code,
               func.coalesce(Worksheet.translations[(language, "title")].as_string(), Worksheet.title))
        .join(Curriculum, Curriculum.id == CurriculumVersion.curriculum_id)
        .join(Module, Module.version_id == CurriculumVersion.id)
        .outerjoin(Worksheet, Worksheet.module_id == Module.id)
        .where(or_(CurriculumVersion.id.in_(version_ids), Module.id.in_(module_ids)))
        .order_by(Module.id, Worksheet.position)
    ).all()
    names: dict[int, tuple[str, int]] = {}
    sheets: dict[int, dict[str, list[tuple[int, str, str]]]] = {}
    modules: dict[int, tuple[int, str]] = {}
    titles: dict[int, dict[str, str]] = {}
    for version_id, name, number, module_id, module_code, module_title, sheet_id, code, title in rows:
        names[version_id] = (name, number)
        titles.setdefault(version_id, {})[module_code] = module_title
        modules[module_id] = (version_id, module_code)
        found = sheets.setdefault(version_id, {}).setdefault(module_code, [])
        if sheet_id is not None:
            found.append((sheet_id, code, title))
    versions = {vid: _Version(name, number, {code: tuple(found) for code, found in sheets.get(vid, {}).items()},
                              titles.get(vid, {}))
                for vid, (name, number) in names.items()}
    return versions, {mid: found for mid, found in modules.items() if mid in module_ids}


def _answers(participant_id: int) -> dict[int, str]:
    """Worksheet id -> the status of the participant's answers (one query)."""
    return dict(db.session.execute(select(WorksheetAnswer.worksheet_id, WorksheetAnswer.status)
                                   .where(WorksheetAnswer.participant_id == participant_id)).all())


def my_sessions(page: ParticipantPage) -> MySessions:
    """The panel's meetings: upcoming (the page's two weeks), planned make-ups, and the past four weeks of
    the participant's group plus any other group's meeting they were recorded at, newest first."""
    plan, today = page.plan, page.today
    person = page.participant
    group = plan.group
    first = today - timedelta(days=PAST_DAYS)
    rows = _attended(person.id, first, today) if plan.enrollments else []
    planned = [m for m in page.makeups if m.makeup.status == "planned"]
    version_ids = {group.version_id} if group else set()
    version_ids |= {version_id for *_, version_id, _, _ in rows if version_id is not None}
    versions, modules = _versions(version_ids, {m.makeup.module_id for m in planned})
    answers = _answers(person.id) if versions else {}

    def session(day, time, track, module, title, state, note, version_id) -> Session:
        version = versions.get(version_id) if version_id is not None else None
        shown = () if version is None or module is None or state == "cancelled" else tuple(
            Sheet(code, sheet_title, answers.get(sheet_id, "")) for sheet_id, code, sheet_title in
            version.sheets.get(module, ()))
        return Session(day, time, track, module, title, state, note, version.curriculum if version else "",
                       version.number if version else None, shown)

    own_version = group.version_id if group else None
    upcoming = tuple(
        session(m.day, format_clock(m.time), m.track, m.module, m.title,
                "cancelled" if m.cancelled else "today" if m.day == today else "coming", m.not_needed, own_version)
        for m in page.upcoming)
    makeups = tuple(
        session(m.makeup.planned_on, "", m.code.split(" ", 1)[0], m.code, m.title, "makeup",
                _("%(method)s at %(group)s", method=m.method, group=m.group) if m.group else m.method,
                modules.get(m.makeup.module_id, (None,))[0])
        for m in planned)
    recorded = {(gid, day, start.strftime("%H:%M"), track): (code, vid, label, counted)
                for gid, day, start, track, code, vid, label, counted in rows}
    past: list[tuple[date, str, Session]] = []  # with the day and "HH:MM" to order them by
    if group is not None and plan.calendar is not None and plan.progress is not None:
        stay = plan.progress.stay
        since = max(first, stay.joined or stay.admitted)
        until = min(today, stay.discharged + timedelta(days=1)) if stay.discharged else today
        for m in plan.calendar.meetings:
            if not since <= m.date < until:
                continue
            found = recorded.pop((group.id, m.date, m.time, m.track), None)
            if found is None and m.held and m.recorded:
                continue  # attendance was taken without them: not a meeting of theirs
            state, note = ("cancelled", "") if not m.held else ("unrecorded", "") if found is None else \
                ("attended" if found[3] else "missed", found[2])
            past.append((m.date, m.time, session(m.date, format_clock(m.time), m.track, m.module,
                                                 page.titles.get(m.module or "", ""), state, note, own_version)))
    for (gid, day, time, track), (code, vid, label, counted) in recorded.items():
        name = page.groups[gid].name if gid in page.groups else ""
        title = versions[vid].titles.get(code or "", "") if vid in versions else ""
        past.append((day, time, session(day, format_clock(time), track, code, title, "attended" if counted else "missed",
                                        _("%(method)s at %(group)s", method=label, group=name) if name else label,
                                        vid)))
    past.sort(key=lambda entry: entry[:2], reverse=True)
    return MySessions(upcoming, makeups, tuple(entry[2] for entry in past))

