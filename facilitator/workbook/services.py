"""The workbook: which worksheets a participant may answer, saving and submitting answers, the
counselor's review, and the plain data the workbook panels show (each in a fixed number of queries).

An answer points at the worksheet of the version it was answered on. Published versions never
change, so the questions an answer was given to are always the ones shown beside it; when the
group moves to a new version, an existing answer keeps its old worksheet.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..auth.models import User
from ..clock import DEFAULT_ZONE
from ..curricula.models import CurriculumVersion, Module, Track, Worksheet
from ..domain import curriculum as dom
from ..domain.curriculum_files import field_from_dict
from ..domain.curriculum_languages import answers_between
from ..extensions import db
from ..groups.models import Group
from ..models_base import utcnow
from ..participants.models import Enrollment, Participant
from ..web.forms import has_control_character
from ..web.i18n import current_language, format_clock, format_when
from .models import WorksheetAnswer

COMMENT_MAX = 2000
STATUS_LABELS = {"none": _l("Not started"), "draft": _l("Draft"), "submitted": _l("Submitted"),
                 "reviewed": _l("Reviewed")}


def in_language(translations: dict | None, key: str, own: str) -> str:
    """A stored curriculum name or title (a track's name, a module's or a worksheet's title) as the page's
    reader reads it: the twin's words in their language when the curriculum has them (Track, Module and
    Worksheet .translations), else the version's own. Only names and titles: a worksheet's fields stay
    the version's own, since a checklist's answers are stored as the words of its items."""
    twin = (translations or {}).get(current_language())
    return (twin or {}).get(key) or own


class WorkbookError(ValueError):
    """A change the workbook refuses, with the message to show."""


def stamp(moment: datetime | None, zone: str | None) -> str:
    """A stored UTC time as staff pages show times, in the program's zone and the page's language:
    "Dec 2, 2026, 5:30 PM" ("2 dic 2026, 5:30 p. m.")."""
    if moment is None:
        return ""
    local = moment.replace(tzinfo=UTC).astimezone(ZoneInfo(zone or DEFAULT_ZONE))
    return _("%(day)s, %(time)s", day=format_when(local, "year"), time=format_clock(local))


# --- which worksheet a code means for a participant ---------------------------------------------------------

def version_ids(participant: Participant) -> list[int]:
    """The curriculum versions of the participant's groups, current stay first, then newest first (one query)."""
    rows = db.session.execute(
        select(Group.version_id, Enrollment.discharged_on).join(Group, Group.id == Enrollment.group_id)
        .where(Enrollment.participant_id == participant.id)
        .order_by(Enrollment.admitted_on.desc(), Enrollment.id.desc())).all()
    ordered = [v for v, gone in rows if gone is None] + [v for v, gone in rows if gone is not None]
    return list(dict.fromkeys(ordered))


def find_sheet(participant: Participant, code: str) -> tuple[Worksheet, WorksheetAnswer | None] | None:
    """The worksheet a code means for this participant and their answer to it, or None (404).

    An answer already given wins (it keeps the version it was answered on); otherwise the worksheet
    of that code in the version of their current group, else of an earlier group. Never another
    program's curriculum: only the versions of the participant's own groups are looked in.
    """
    wanted = dom.normalize_code(code)
    answer = db.session.scalars(
        select(WorksheetAnswer).join(Worksheet, Worksheet.id == WorksheetAnswer.worksheet_id)
        .where(WorksheetAnswer.participant_id == participant.id, Worksheet.code == wanted)
        .order_by(WorksheetAnswer.updated_at.desc(), WorksheetAnswer.id.desc())).first()
    if answer is not None:
        return answer.worksheet, answer
    versions = version_ids(participant)
    if not versions:
        return None
    rows = {row.version_id: row for row in db.session.scalars(
        select(Worksheet).where(Worksheet.version_id.in_(versions), Worksheet.code == wanted))}
    chosen = next((rows[v] for v in versions if v in rows), None)
    return (chosen, None) if chosen is not None else None


_SHEETS: dict[int, dom.Worksheet] = {}  # worksheets of published versions never change


def sheet_of(row: Worksheet) -> dom.Worksheet:
    """A stored worksheet as the domain Worksheet the form and the printed sheet are built from."""
    if row.id in _SHEETS:
        return _SHEETS[row.id]
    sheet = dom.Worksheet(code=row.code, title=row.title, intro=row.intro, pages=row.pages, language=row.language,
                          fields=tuple(field_from_dict(f) for f in row.fields))
    if db.session.get(CurriculumVersion, row.version_id).is_published:
        _SHEETS[row.id] = sheet
    return sheet


_TWINS: dict[tuple[int, str], dom.Worksheet] = {}


def sheet_in(row: Worksheet, language: str) -> dom.Worksheet:
    """The worksheet in a reader's language: its twin's words and fields (same ids) when the curriculum
    has them, else the version's own."""
    text = (row.translations or {}).get(language)
    if language == row.language or not text:
        return sheet_of(row)
    if (row.id, language) not in _TWINS:
        _TWINS[row.id, language] = dom.Worksheet(code=row.code, title=text["title"], intro=text["intro"], pages=row.pages,
                                                 language=language, fields=tuple(field_from_dict(f) for f in text["fields"]))
    return _TWINS[row.id, language]


def shown_answers(row: Worksheet, shown: dom.Worksheet, answers: dict[str, Any] | None) -> dict[str, Any]:
    """Stored answers (a checklist's items in the version's own words) as they read on the sheet shown."""
    return answers_between(sheet_of(row), shown, answers or {})


def stored_answers(row: Worksheet, shown: dom.Worksheet, answers: dict[str, Any]) -> dict[str, Any]:
    """Answers read from the sheet shown, as they are stored (a checklist's items in the version's own words)."""
    return answers_between(shown, sheet_of(row), answers)


def find_answer_to(participant: Participant, row: Worksheet) -> WorksheetAnswer | None:
    """The participant's answer to this very worksheet, if any."""
    return db.session.scalars(select(WorksheetAnswer).where(WorksheetAnswer.participant_id == participant.id,
                                                            WorksheetAnswer.worksheet_id == row.id)).first()


def find_answer(participant: Participant, answer_id: int) -> WorksheetAnswer | None:
    """The participant's answer with this id (None if it is someone else's)."""
    answer = db.session.get(WorksheetAnswer, answer_id)
    return answer if answer is not None and answer.participant_id == participant.id else None


# --- changes --------------------------------------------------------------------------------------------------

def save(participant: Participant, row: Worksheet, answer: WorksheetAnswer | None, sheet: dom.Worksheet,
         answers: dict[str, Any], user: User, submit: bool = False) -> tuple[WorksheetAnswer | None, list[str]]:
    """Store the participant's answers (a draft, or submitted to the counselor); refused once reviewed.

    Returns the answer row (None while a worksheet never answered is still empty) and the ids of the
    fields that changed. Empty answers are not stored."""
    if user.participant_id != participant.id:
        raise WorkbookError(_("Only the participant can write in their own workbook."))
    if answer is not None and answer.status == "reviewed":
        raise WorkbookError(_("Your counselor has reviewed this worksheet, so it can no longer be changed."))
    if set(answers) - {f.id for f in sheet.fields}:
        raise WorkbookError(_("These answers are not for this worksheet. Nothing was saved."))
    before = dict(answer.answers or {}) if answer is not None else {}
    after = {k: v for k, v in answers.items() if v not in ("", None, [], {})}
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    if submit and not after:
        raise WorkbookError(_("Write at least one answer before you send the worksheet to your counselor."))
    now = utcnow()
    if answer is None:
        if not after:
            return None, []  # nothing written yet: no row until there is
        answer = WorksheetAnswer(participant_id=participant.id, worksheet_id=row.id, status="draft", answers={},
                                 created_at=now, updated_at=now)
        db.session.add(answer)
    if changed:
        answer.answers = after
        answer.updated_at = now
    if submit:
        answer.status, answer.submitted_at = "submitted", now
    db.session.flush()
    return answer, changed


def review(answer: WorksheetAnswer, comment: str, user: User) -> None:
    """A counselor marks a submitted worksheet reviewed, with a comment the participant then sees."""
    if not user.is_staff:
        raise WorkbookError(_("Only a counselor can mark a worksheet reviewed."))
    if answer.status == "reviewed":
        raise WorkbookError(_("This worksheet was already reviewed."))
    if answer.status != "submitted":
        raise WorkbookError(_("The participant has not sent this worksheet yet, so it cannot be reviewed."))
    comment = (comment or "").replace("\r\n", "\n").strip()
    if has_control_character(comment, multiline=True):
        raise WorkbookError(_("The comment contains an invisible control character (such as NUL or Escape) that "
                              "cannot be saved. Delete it, or type the text again."))
    if len(comment) > COMMENT_MAX:
        raise WorkbookError(_("Keep the comment to %(most)s characters or fewer (it has %(has)s).", most=COMMENT_MAX,
                              has=len(comment)))
    answer.status, answer.comment = "reviewed", comment
    answer.reviewed_at, answer.reviewed_by_id = utcnow(), user.id
    db.session.flush()


# --- what the pages show ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Entry:
    """One worksheet in a workbook list: where it belongs, and the participant's answer if any."""

    code: str
    title: str
    module_code: str
    module_title: str
    status: str  # none | draft | submitted | reviewed
    answer_id: int | None = None
    updated_at: datetime | None = None
    submitted_at: datetime | None = None
    reviewed_at: datetime | None = None
    reviewer: str = ""
    comment: str = ""
    earlier_version: bool = False  # answered on a version the participant's group no longer runs

    @property
    def status_label(self) -> str:
        """The status in words."""
        return str(STATUS_LABELS[self.status])


@dataclass(frozen=True)
class ModuleEntries:
    """A module of the workbook with its worksheets in order."""

    code: str
    title: str
    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class TrackEntries:
    """A track of the workbook with its modules in order."""

    code: str
    name: str
    modules: tuple[ModuleEntries, ...]

    @property
    def entries(self) -> tuple[Entry, ...]:
        """Every worksheet of the track."""
        return tuple(e for m in self.modules for e in m.entries)


def _answers(participant_id: int) -> list[tuple[WorksheetAnswer, Worksheet, Module, str]]:
    """Every answer of a participant with its worksheet, module and reviewer's name (one query)."""
    return [tuple(r) for r in db.session.execute(
        select(WorksheetAnswer, Worksheet, Module, User.display_name)
        .join(Worksheet, Worksheet.id == WorksheetAnswer.worksheet_id)
        .join(Module, Module.id == Worksheet.module_id)
        .outerjoin(User, User.id == WorksheetAnswer.reviewed_by_id)
        .where(WorksheetAnswer.participant_id == participant_id)
        .order_by(WorksheetAnswer.updated_at.desc())).all()]


def _entry(sheet: Worksheet, module: Module, answer: WorksheetAnswer | None, reviewer: str | None,
           earlier: bool = False) -> Entry:
    title = in_language(sheet.translations, "title", sheet.title)
    module_title = in_language(module.translations, "title", module.title)
    if answer is None:
        return Entry(sheet.code, title, module.code, module_title, "none")
    return Entry(sheet.code, title, module.code, module_title, answer.status, answer.id, answer.updated_at,
                 answer.submitted_at, answer.reviewed_at, reviewer or "", answer.comment, earlier)


def workbook(participant: Participant) -> tuple[list[TrackEntries], list[Entry]]:
    """The participant's workbook: every worksheet of their current version by track and module, each
    with its status; and answers given on worksheets that version does not have (four queries)."""
    versions = version_ids(participant)
    answered = _answers(participant.id)
    by_code = {}
    for answer, sheet, module, reviewer in answered:
        by_code.setdefault(sheet.code, (answer, sheet, module, reviewer))  # newest first
    tracks: list[TrackEntries] = []
    if versions:
        rows = db.session.execute(
            select(Track.code, Track.name, Track.translations, Module, Worksheet).join(Module, Module.track_id == Track.id)
            .join(Worksheet, Worksheet.module_id == Module.id)
            .where(Track.version_id == versions[0], Module.retired.is_(False))
            .order_by(Track.position, Module.position, Worksheet.position)).all()
        current: dict[str, tuple[str, dict[str, tuple[str, list[Entry]]]]] = {}
        for track_code, track_name, track_words, module, sheet in rows:
            found = by_code.pop(sheet.code, None)
            entry = (_entry(sheet, module, None, None) if found is None else
                     _entry(found[1], found[2], found[0], found[3], earlier=found[1].version_id != versions[0]))
            modules = current.setdefault(track_code, (in_language(track_words, "name", track_name), {}))[1]
            modules.setdefault(module.code, (in_language(module.translations, "title", module.title), []))[1].append(entry)
        tracks = [TrackEntries(code, name, tuple(ModuleEntries(m, title, tuple(entries))
                                                 for m, (title, entries) in modules.items()))
                  for code, (name, modules) in current.items()]
    others = [_entry(sheet, module, answer, reviewer, earlier=True) for answer, sheet, module, reviewer in by_code.values()]
    return tracks, others


@dataclass(frozen=True)
class StaffPanel:
    """The workbook panel of the participant page: sent worksheets, newest first, and unsent drafts."""

    participant_id: int
    sent: tuple[Entry, ...]
    drafts: int
    zone: str | None = None

    @property
    def waiting(self) -> int:
        """Worksheets sent and not yet reviewed."""
        return sum(1 for e in self.sent if e.status == "submitted")

    def when(self, moment: datetime | None) -> str:
        """A time as staff pages show it, in the program's zone."""
        return stamp(moment, self.zone)


def staff_panel(participant_id: int, zone: str | None) -> StaffPanel:
    """What the participant has sent to their counselor, waiting ones first (drafts are theirs until
    sent; one query)."""
    answered = _answers(participant_id)
    sent = [_entry(sheet, module, answer, reviewer) for answer, sheet, module, reviewer in answered
            if answer.status != "draft"]
    sent.sort(key=lambda e: (e.status != "submitted", -(e.submitted_at or datetime.min).timestamp()))
    return StaffPanel(participant_id, tuple(sent), sum(1 for a, *_ in answered if a.status == "draft"), zone)


def reviewer_name(answer: WorksheetAnswer) -> str:
    """The display name of the counselor who reviewed an answer ("" if not reviewed)."""
    if answer.reviewed_by_id is None:
        return ""
    return db.session.scalar(select(User.display_name).where(User.id == answer.reviewed_by_id)) or ""


@dataclass(frozen=True)
class Submission:
    """Who of a meeting's roster has sent (or had reviewed) a worksheet of the module taught."""

    participant_id: int
    code: str
    status: str
    answer_id: int


@dataclass(frozen=True)
class SentBy:
    """One person of a meeting's roster and the worksheets of the module they have sent."""

    participant_id: int
    name: str
    sent: tuple[Submission, ...]


@dataclass(frozen=True)
class MeetingPanel:
    """The meeting page's list of who has sent the worksheets of the module taught."""

    module_code: str
    codes: tuple[str, ...]  # the module's worksheets (none: nothing to send, no panel)
    roster: int
    rows: tuple[SentBy, ...]


def meeting_panel(module_code: str | None, codes: Iterable[str], roster: Iterable[tuple[int, str]]) -> MeetingPanel | None:
    """Who of the roster (participant id, name) has sent a worksheet of the module (one query)."""
    if not module_code:
        return None
    people = list(roster)
    sent = submissions_for(module_code, [pid for pid, _ in people])
    rows = tuple(SentBy(pid, name, tuple(sent[pid])) for pid, name in people if pid in sent)
    return MeetingPanel(module_code, tuple(codes), len(people), rows)


def submissions_for(module_code: str, participant_ids: Iterable[int]) -> dict[int, list[Submission]]:
    """Per participant of a roster, their sent worksheets of the module with this code, on any version
    (one query, however long the roster)."""
    ids = list(participant_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(WorksheetAnswer.participant_id, Worksheet.code, WorksheetAnswer.status, WorksheetAnswer.id)
        .join(Worksheet, Worksheet.id == WorksheetAnswer.worksheet_id)
        .join(Module, Module.id == Worksheet.module_id)
        .where(Module.code == module_code, WorksheetAnswer.participant_id.in_(ids),
               WorksheetAnswer.status != "draft")
        .order_by(Worksheet.code)).all()
    out: dict[int, list[Submission]] = {}
    for pid, code, status, answer_id in rows:
        out.setdefault(pid, []).append(Submission(pid, code, status, answer_id))
    return out
