"""Drafts of a curriculum: fork a published version, edit tracks, modules and worksheets, reorder,
add local modules, retire; publish with a change summary (or from an uploaded zip).

Every function takes the acting user, checks that it is a director of the draft's program and that
the version is still a draft, changes rows, flushes and returns; the request commits. Published
versions never change: the models' before_flush guard refuses it even if a check here were missed.
Last, moving a group to another published version: its effect on each member first, then the move.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, time, timedelta
from typing import Any

from sqlalchemy import func, select

from ..audit import services as audit
from ..domain import curriculum as dom
from ..domain import sequencer as seq
from ..domain.curriculum_files import MANIFEST, errors_only, field_to_dict, parse_curriculum
from ..domain.problems import Problem
from ..extensions import db
from ..groups.models import Cancellation, Group, Meeting
from ..groups.services import allowed_versions, group_calendar, module_ids, titles_of, version_structure
from ..models_base import utcnow
from ..participants.models import Enrollment, Participant
from ..progress.models import Credit, MakeUp
from ..progress.services import progress_for
from .models import Curriculum, CurriculumVersion, Module, Track, Worksheet
from .services import (
    ZipRefused,
    check_curriculum,
    content_hash,
    curriculum_named,
    field_from_dict,
    import_curriculum,
    latest_published,
    load_version,
    module_file,
    read_zip,
    to_domain,
)

MAX_MINUTES = 480
MAX_STEP_MINUTES = 240
MAX_WEEK = 104


class EditRefused(ValueError):
    """The input is refused; `problems` maps a form field name to a plain message. Nothing changed."""

    def __init__(self, problems: dict[str, str]):
        super().__init__("; ".join(problems.values()))
        self.problems = problems


class VersionPublished(RuntimeError):
    """The version is published: it never changes. Start a new draft from it instead."""


class NotInVersion(LookupError):
    """A track, module or worksheet was asked for through a version it does not belong to."""


class PublishRefused(ValueError):
    """The draft does not pass the checks; `problems` are the validator's, each naming its module."""

    def __init__(self, problems: list[Problem]):
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


# --- access -----------------------------------------------------------------------------------

def _director_of(user: Any, program_id: int | None) -> None:
    if getattr(user, "role", None) != "director" or program_id is None or user.program_id != program_id:
        raise PermissionError("only the program's directors edit its curricula")


def _draft(version: CurriculumVersion, user: Any) -> None:
    if version.is_published:
        raise VersionPublished(f"version {version.label} of {version.curriculum.title} is published and cannot change")
    _director_of(user, version.curriculum.program_id)


def _of_draft(version: CurriculumVersion, *rows: Track | Module | Worksheet) -> None:
    for row in rows:
        if row.version_id != version.id:
            raise NotInVersion(f"{type(row).__name__} {row.id} is not part of version {version.id}")


# --- plain input --------------------------------------------------------------------------------

def clean_text(text: str | None) -> str:
    """Text from a form: Windows line ends made plain, outer blank space removed."""
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def lines_of(text: str | None) -> list[str]:
    """One item per non-blank line."""
    return [line.strip() for line in clean_text(text).split("\n") if line.strip()]


def whole(raw: Any, name: str, low: int, high: int, problems: dict[str, str], what: str = "a number") -> int | None:
    """A whole number within [low, high], or None with a plain message under `name`."""
    text = str(raw if raw is not None else "").strip()
    if not re.fullmatch(r"-?\d{1,6}", text):
        problems[name] = f"Enter {what} as a whole number from {low} to {high}."
        return None
    value = int(text)
    if not low <= value <= high:
        problems[name] = f"Enter {what} from {low} to {high}, not {value}."
        return None
    return value


def _title(raw: str, name: str, problems: dict[str, str], longest: int = 100) -> str:
    text = " ".join((raw or "").split())
    if len(text) < 3:
        problems[name] = "Enter a title of at least 3 characters."
    elif len(text) > longest:
        problems[name] = f"Keep the title to {longest} characters or fewer (it has {len(text)})."
    return text


# --- fork ---------------------------------------------------------------------------------------

def _slug(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:50].strip("-")
    return slug if len(slug) >= 2 and slug[0].isalnum() else "curriculum"


def _unique_name(title: str, program_id: int) -> str:
    """A machine name from the title, unused by the program and by the shipped curricula."""
    base = _slug(title)
    taken = set(db.session.scalars(select(Curriculum.name).where(
        Curriculum.program_id.is_(None) | (Curriculum.program_id == program_id))))
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    return name


def _copy(source: CurriculumVersion, name: str, title: str, label: str, program_id: int) -> CurriculumVersion:
    """A draft copy of a version (tracks, modules, worksheets) in the program's curriculum `name`."""
    content = replace(to_domain(load_version(source.id)), name=name, title=title, version=label)
    draft, created = import_curriculum(content, program_id=program_id, publish=False)
    if not created:
        raise EditRefused({"title": "An identical version already exists; give the new one another title."})
    draft.parent_id = source.id
    draft.content_hash = ""  # a draft's content is not final; the hash is set when it is published
    db.session.flush()
    return draft


def fork(source: CurriculumVersion, user: Any, title: str) -> CurriculumVersion:
    """A new curriculum of the director's program whose first version is a draft copy of `source`."""
    _director_of(user, user.program_id)
    if not source.is_published or source.curriculum.program_id not in (None, user.program_id):
        raise PermissionError("only a published version of a shipped or own curriculum can be forked")
    problems: dict[str, str] = {}
    title = _title(title, "title", problems, longest=120)
    if problems:
        raise EditRefused(problems)
    return _copy(source, _unique_name(title, user.program_id), title, "1", user.program_id)


def new_draft(source: CurriculumVersion, user: Any) -> CurriculumVersion:
    """The next version of one of the program's own curricula, as a draft copy of `source`."""
    _director_of(user, source.curriculum.program_id)
    if not source.is_published:
        raise VersionPublished("start a new draft from a published version")
    number = (db.session.scalar(select(func.max(CurriculumVersion.number))
                                .where(CurriculumVersion.curriculum_id == source.curriculum_id)) or 0) + 1
    return _copy(source, source.curriculum.name, source.title, str(number), user.program_id)


def discard(draft: CurriculumVersion, user: Any) -> None:
    """Delete a draft (and its curriculum, if the draft was all it had)."""
    _draft(draft, user)
    curriculum = draft.curriculum
    db.session.delete(draft)
    db.session.flush()
    if db.session.scalar(select(func.count(CurriculumVersion.id))
                         .where(CurriculumVersion.curriculum_id == curriculum.id)) == 0:
        db.session.delete(curriculum)
        db.session.flush()


# --- editing ------------------------------------------------------------------------------------

def update_settings(draft: CurriculumVersion, user: Any, *, title: str, label: str, description: str) -> None:
    """The draft's title, version label and description."""
    _draft(draft, user)
    problems: dict[str, str] = {}
    title = _title(title, "title", problems, longest=120)
    label = " ".join((label or "").split())
    if not label or len(label) > 40:
        problems["label"] = "Enter a version label of 1 to 40 characters, for example 2027.1."
    if problems:
        raise EditRefused(problems)
    draft.title, draft.label, draft.description = title, label, clean_text(description)
    db.session.flush()


def update_track(draft: CurriculumVersion, track: Track, user: Any, *, minutes: Any, required: bool,
                 first_week: Any, last_week: Any = "") -> None:
    """A track's usual minutes, whether it is required for completion, and its week window."""
    _draft(draft, user)
    _of_draft(draft, track)
    problems: dict[str, str] = {}
    minutes = whole(minutes, "minutes", 5, MAX_MINUTES, problems, "the minutes")
    first = whole(first_week, "first_week", 1, MAX_WEEK, problems, "the first week")
    last = None
    if str(last_week or "").strip():
        last = whole(last_week, "last_week", 1, MAX_WEEK, problems, "the last week")
        if last is not None and first is not None and last < first:
            problems["last_week"] = f"The last week ({last}) is before the first week ({first})."
    if problems:
        raise EditRefused(problems)
    track.minutes, track.required, track.first_week, track.last_week = minutes, bool(required), first, last
    db.session.flush()


@dataclass
class ModuleInput:
    """A module's guide as typed: numbers still text, lists one item per entry."""

    title: str
    minutes: Any
    goals: list[str] = field(default_factory=list)
    outline: list[tuple[Any, str]] = field(default_factory=list)  # (minutes, activity); blank rows dropped
    key_points: str = ""
    questions: list[str] = field(default_factory=list)
    considerations: list[tuple[str, str]] = field(default_factory=list)  # (when, do); blank rows dropped


def update_module(draft: CurriculumVersion, module: Module, user: Any, data: ModuleInput) -> None:
    """A module's title, minutes and facilitator guide (goals, timed outline, key points in
    Markdown, questions, considerations). Whether the guide is complete is checked at publishing."""
    _draft(draft, user)
    _of_draft(draft, module)
    problems: dict[str, str] = {}
    title = _title(data.title, "title", problems)
    minutes = whole(data.minutes, "minutes", 5, MAX_MINUTES, problems, "the minutes")
    for index, goal in enumerate(data.goals):
        if len(goal) > 160:
            problems["goals"] = f"Goal {index + 1} is {len(goal)} characters; keep each goal to 160."
    outline = []
    for index, (step_minutes, activity) in enumerate(data.outline):
        value = whole(step_minutes, f"outline-{index}-minutes", 1, MAX_STEP_MINUTES, problems, "the step's minutes")
        if not clean_text(activity):
            problems[f"outline-{index}-activity"] = "Say what happens in this step, or clear its minutes."
        outline.append({"minutes": value, "activity": clean_text(activity)})
    considerations = []
    for index, (when, do) in enumerate(data.considerations):
        if not clean_text(when):
            problems[f"considerations-{index}-when"] = "Describe the situation, or clear what to do."
        if not clean_text(do):
            problems[f"considerations-{index}-do"] = "Say what to do, or clear the situation."
        considerations.append({"when": clean_text(when), "do": clean_text(do)})
    if problems:
        raise EditRefused(problems)
    key_points = clean_text(data.key_points)
    module.title, module.minutes = title, minutes
    module.goals, module.questions = [g for g in data.goals if g], [q for q in data.questions if q]
    module.outline, module.considerations = outline, considerations
    # Stored as the file format reads it back (a final newline), so export and import hash alike.
    module.key_points = key_points + "\n" if key_points else ""
    db.session.flush()


def _renumber(track: Track, order: list[Module]) -> None:
    for position, module in enumerate(order):
        if module.position != position:
            module.position = position
    track.modules.sort(key=lambda m: m.position)
    db.session.flush()


def move_module(draft: CurriculumVersion, module: Module, user: Any, direction: str) -> None:
    """Move a module one place up or down in its track's order."""
    _draft(draft, user)
    _of_draft(draft, module)
    order = list(module.track.modules)
    index = order.index(module)
    target = index - 1 if direction == "up" else index + 1 if direction == "down" else None
    if target is None:
        raise EditRefused({"direction": "Choose up or down."})
    if not 0 <= target < len(order):
        raise EditRefused({"direction": f"{module.code} is already {'first' if target < 0 else 'last'}."})
    order[index], order[target] = order[target], order[index]
    _renumber(module.track, order)


def move_before(draft: CurriculumVersion, module: Module, before: Module | None, user: Any) -> None:
    """Put a module right before another of the same track (None: at the end)."""
    _draft(draft, user)
    _of_draft(draft, module, *([before] if before else []))
    if before is not None and before.track_id != module.track_id:
        raise EditRefused({"before": f"{before.code} is in another track."})
    if before is module:
        raise EditRefused({"before": "Choose another module to move it before."})
    order = [m for m in module.track.modules if m is not module]
    order.insert(order.index(before) if before is not None else len(order), module)
    _renumber(module.track, order)


def _lineage_codes(version: CurriculumVersion) -> set[str]:
    """Module codes used by this version and every version it descends from."""
    ids, seen = [], set()
    current: CurriculumVersion | None = version
    while current is not None and current.id not in seen:
        seen.add(current.id)
        ids.append(current.id)
        current = db.session.get(CurriculumVersion, current.parent_id) if current.parent_id else None
    return set(db.session.scalars(select(Module.code).where(Module.version_id.in_(ids))))


def next_module_code(draft: CurriculumVersion, track: Track) -> str:
    """The track's prefix with the next free number ("RP 33"); numbers used by earlier versions are
    never reused, since progress matches modules across versions by code."""
    used = [dom.Module(code=c, title="", minutes=1) for c in _lineage_codes(draft) if c.split(" ")[0] == track.code]
    return f"{track.code} {max((m.number or 0 for m in used), default=0) + 1}"


def add_module(draft: CurriculumVersion, track: Track, user: Any, *, title: str, minutes: Any = "") -> Module:
    """A local module at the end of a track, coded in the track's prefix with a new number."""
    _draft(draft, user)
    _of_draft(draft, track)
    problems: dict[str, str] = {}
    title = _title(title, "title", problems)
    minutes = whole(minutes if str(minutes or "").strip() else track.minutes, "minutes", 5, MAX_MINUTES, problems,
                    "the minutes")
    if problems:
        raise EditRefused(problems)
    module = Module(version_id=draft.id, position=len(track.modules), code=next_module_code(draft, track),
                    title=title, minutes=minutes, goals=[], outline=[], key_points="", questions=[],
                    considerations=[], retired=False, source_file="")
    track.modules.append(module)
    db.session.flush()
    return module


def is_local(draft: CurriculumVersion, module: Module) -> bool:
    """True if the module was added in this draft (no earlier version has its code)."""
    parent = db.session.get(CurriculumVersion, draft.parent_id) if draft.parent_id else None
    return parent is None or module.code not in _lineage_codes(parent)


def delete_module(draft: CurriculumVersion, module: Module, user: Any) -> None:
    """Remove a module added in this draft; modules that earlier versions delivered are retired instead."""
    _draft(draft, user)
    _of_draft(draft, module)
    if not is_local(draft, module):
        raise EditRefused({"module": f"{module.code} was delivered by an earlier version; retire it instead, "
                                     "so that history stays true."})
    track = module.track
    track.modules.remove(module)
    db.session.flush()
    _renumber(track, list(track.modules))


def set_retired(draft: CurriculumVersion, module: Module, user: Any, retired: bool) -> None:
    """Retire a module (it stays in the version and in history, but is no longer delivered) or restore it."""
    _draft(draft, user)
    _of_draft(draft, module)
    if retired and not any(not m.retired for m in module.track.modules if m is not module):
        raise EditRefused({"module": f"{module.track.code} needs at least one module that is delivered."})
    module.retired = retired
    db.session.flush()


def add_worksheet(draft: CurriculumVersion, module: Module, user: Any, *, title: str) -> Worksheet:
    """A new worksheet for a module, coded after it ("RP 33A", then "RP 33B")."""
    _draft(draft, user)
    _of_draft(draft, module)
    problems: dict[str, str] = {}
    title = _title(title, "title", problems)
    if problems:
        raise EditRefused(problems)
    taken = set(db.session.scalars(select(Worksheet.code).where(Worksheet.version_id == draft.id)))
    letter = next((c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if f"{module.code}{c}" not in taken), None)
    if letter is None:
        raise EditRefused({"title": f"{module.code} already has 26 worksheets."})
    sheet = Worksheet(version_id=draft.id, position=len(module.worksheets), code=f"{module.code}{letter}",
                      title=title, intro="", pages=1, language=draft.language, fields=[])
    module.worksheets.append(sheet)
    db.session.flush()
    return sheet


def delete_worksheet(draft: CurriculumVersion, sheet: Worksheet, user: Any) -> None:
    """Remove a worksheet from a draft's module."""
    _draft(draft, user)
    _of_draft(draft, sheet)
    module = sheet.module
    module.worksheets.remove(sheet)
    for position, other in enumerate(module.worksheets):
        other.position = position
    db.session.flush()


# --- worksheet fields: typed rows in, file-format field dicts out ---------------------------------

# The settings each field type keeps; changing a field's type drops the settings of the old type.
TYPE_SETTINGS: dict[str, tuple[str, ...]] = {
    "note": ("text",),
    "text": ("label", "text"),
    "lines": ("label", "text", "lines"),
    "date": ("label",),
    "checklist": ("label", "items", "other", "mark"),
    "table": ("label", "columns", "rows", "row_labels", "row_header", "cells"),
    "scale": ("label", "min", "max", "low_label", "high_label"),
    "calendar": ("label",),
    "schedule": ("label", "start_hour", "end_hour"),
    "sequence": ("label", "steps"),
    "signature": ("label",),
}
NEW_FIELD = {"lines": {"lines": "3"}, "table": {"rows": "3"}, "scale": {"min": "0", "max": "10"},
             "schedule": {"start_hour": "8", "end_hour": "20"}}


@dataclass
class FieldInput:
    """One worksheet field as typed in the editor: numbers as text, lists one item per line."""

    type: str
    id: str = ""
    label: str = ""
    text: str = ""
    lines: str = ""
    items: str = ""
    other: bool = False
    mark: str = "check"
    columns: str = ""
    rows: str = ""
    row_labels: str = ""
    row_header: str = ""
    cells: str = "text"
    min: str = ""
    max: str = ""
    low_label: str = ""
    high_label: str = ""
    start_hour: str = ""
    end_hour: str = ""
    steps: str = ""

    @classmethod
    def from_stored(cls, raw: dict[str, Any]) -> FieldInput:
        """A stored field (file-format dict) as editor input."""
        values = {k: ("\n".join(v) if isinstance(v, list) else v if isinstance(v, bool) else str(v))
                  for k, v in raw.items() if k in cls.__dataclass_fields__}
        return cls(**values)


def _field_id(label: str, type_: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")[:32].strip("_")
    base = base if base[:1].isalpha() else type_
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    return name


def build_fields(rows: list[FieldInput]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Editor rows as file-format field dicts, and plain messages keyed "fields-<i>-<setting>"."""
    problems: dict[str, str] = {}
    out: list[dict[str, Any]] = []
    taken: set[str] = {r.id.strip() for r in rows if r.id.strip()}
    for i, row in enumerate(rows):
        key = f"fields-{i}-"
        if row.type not in TYPE_SETTINGS:
            problems[key + "type"] = "Choose a field type."
            continue
        keep = TYPE_SETTINGS[row.type]
        ident = row.id.strip()
        if not ident:
            ident = _field_id(row.label, row.type, taken)
            taken.add(ident)
        elif not re.fullmatch(r"[a-z][a-z0-9_]{0,39}", ident):
            problems[key + "id"] = "Use lower-case letters, digits and _ (up to 40), starting with a letter."
        elif any(o.id.strip() == ident for o in rows[:i]):
            problems[key + "id"] = f"Another field of this worksheet is already named {ident}."
        values: dict[str, Any] = {"id": ident, "type": row.type}
        label = " ".join(row.label.split())
        if "label" in keep:
            if len(label) > 200:
                problems[key + "label"] = f"Keep the label to 200 characters (it has {len(label)})."
            values["label"] = label
        if "text" in keep:
            values["text"] = clean_text(row.text)
        for name, low, high, what in (("lines", 1, 20, "the number of lines"), ("rows", 0, 24, "the number of rows"),
                                      ("min", -10, 100, "the lowest number"), ("max", -10, 100, "the highest number"),
                                      ("start_hour", 0, 23, "the first hour"), ("end_hour", 1, 24, "the last hour")):
            if name in keep:
                raw = getattr(row, name).strip()
                values[name] = whole(raw, key + name, low, high, problems, what) if raw else 0
        for name, most, what in (("items", 30, "items"), ("columns", 8, "columns"), ("row_labels", 24, "row labels"),
                                 ("steps", 6, "steps")):
            if name in keep:
                values[name] = tuple(lines_of(getattr(row, name)))
                if len(values[name]) > most:
                    problems[key + name] = f"Keep to {most} {what} (there are {len(values[name])})."
        if "other" in keep:
            values["other"] = bool(row.other)
        if "mark" in keep:
            values["mark"] = row.mark if row.mark in ("check", "initials") else "check"
        if "cells" in keep:
            values["cells"] = row.cells if row.cells in ("text", "check") else "text"
        if "row_header" in keep:
            values["row_header"] = " ".join(row.row_header.split())[:40]
        for name in ("low_label", "high_label"):
            if name in keep:
                values[name] = " ".join(getattr(row, name).split())
        if row.type == "scale" and isinstance(values.get("min"), int) and isinstance(values.get("max"), int) \
                and values["min"] >= values["max"] and key + "max" not in problems:
            problems[key + "max"] = "The highest number must be above the lowest."
        if row.type == "schedule" and isinstance(values.get("start_hour"), int) \
                and isinstance(values.get("end_hour"), int) and values["start_hour"] >= values["end_hour"]:
            problems[key + "end_hour"] = "The last hour must be after the first."
        if not problems:
            out.append(field_to_dict(dom.Field(**values)))
    return out, problems


def field_action(rows: list[FieldInput], action: str) -> list[FieldInput]:
    """Apply an editor button to the rows: "add:<type>", "up:<i>", "down:<i>" or "remove:<i>"."""
    verb, _, arg = action.partition(":")
    rows = list(rows)
    if verb == "add":
        if arg not in TYPE_SETTINGS:
            raise EditRefused({"new_type": "Choose the type of the new field."})
        if len(rows) >= 40:
            raise EditRefused({"new_type": "A worksheet holds at most 40 fields."})
        return rows + [FieldInput(type=arg, **NEW_FIELD.get(arg, {}))]
    if not arg.isdigit() or int(arg) >= len(rows):
        return rows
    i = int(arg)
    if verb == "remove":
        del rows[i]
    elif verb == "up" and i > 0:
        rows[i - 1], rows[i] = rows[i], rows[i - 1]
    elif verb == "down" and i + 1 < len(rows):
        rows[i + 1], rows[i] = rows[i], rows[i + 1]
    return rows


def update_worksheet(draft: CurriculumVersion, sheet: Worksheet, user: Any, *, title: str, intro: str,
                     pages: Any, rows: list[FieldInput]) -> None:
    """A worksheet's title, introduction, page count and fields (added, removed, reordered, retyped)."""
    _draft(draft, user)
    _of_draft(draft, sheet)
    problems: dict[str, str] = {}
    title = _title(title, "title", problems)
    pages = whole(pages, "pages", 1, 4, problems, "the number of pages")
    fields, field_problems = build_fields(rows)
    problems.update(field_problems)
    if problems:
        raise EditRefused(problems)
    sheet.title, sheet.intro, sheet.pages, sheet.fields = title, clean_text(intro), pages, fields
    db.session.flush()


def preview_worksheet(sheet: Worksheet, *, title: str, intro: str, pages: Any,
                      rows: list[FieldInput]) -> dom.Worksheet:
    """The worksheet as it would print with these (unsaved) values; settings in error are left out."""
    fields, problems = build_fields(rows)
    if problems:  # preview what can be built: each row on its own
        fields = [f for row in rows for f in build_fields([row])[0]]
    count = int(pages) if str(pages).strip().isdigit() and 1 <= int(pages) <= 4 else sheet.pages
    return dom.Worksheet(code=sheet.code, title=" ".join(title.split()) or sheet.title, intro=clean_text(intro),
                         pages=count, language=sheet.language, fields=tuple(field_from_dict(f) for f in fields))


# --- checking, change summary, publishing ---------------------------------------------------------

def problems_by_module(curriculum: dom.Curriculum, problems: list[Problem]) -> dict[str, list[Problem]]:
    """Problems grouped by module code; those of the whole curriculum under ""."""
    owner = {module_file(m): m.code for m in curriculum.modules()}
    found: dict[str, list[Problem]] = {}
    for problem in problems:
        found.setdefault(owner.get(problem.file, ""), []).append(problem)
    order = ["", *(m.code for m in curriculum.modules())]  # the curriculum's own order
    return {code: sorted(found[code], key=section_rank) for code in order if code in found}


_SECTIONS = ("code", "title", "minutes", "goals", "outline", "body", "questions", "considerations", "worksheets")


def section_rank(problem: Problem) -> int:
    """Problems in the order of the module page (goals before outline before worksheets)."""
    head = re.split(r"[.\[]", problem.field, maxsplit=1)[0]
    return _SECTIONS.index(head) if head in _SECTIONS else len(_SECTIONS)


def _moved(before: list[str], after: list[str]) -> list[str]:
    """Codes whose relative order changed: those outside a longest run kept in order."""
    shared = set(before) & set(after)
    common = [c for c in before if c in shared]
    rank = {c: i for i, c in enumerate(c for c in after if c in shared)}
    ranks = [rank[c] for c in common]
    best: list[list[int]] = []
    for i, value in enumerate(ranks):  # longest increasing subsequence, O(n^2): a track has < 100 modules
        chain = max((best[j] for j in range(i) if ranks[j] < value), key=len, default=[])
        best.append(chain + [i])
    keep = {common[i] for i in max(best, key=len, default=[])}
    return [c for c in after if c in shared and c not in keep]


def _words(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "none" if value is None else str(value)


def _guide(m: dom.Module) -> tuple:
    return (m.goals, m.outline, m.key_points.strip(), m.questions, m.considerations)


def change_lines(parent: dom.Curriculum | None, draft: dom.Curriculum) -> list[str]:
    """What changed from the parent version, one plain sentence per change."""
    if parent is None:
        return ["First version."]
    lines: list[str] = []
    if parent.title != draft.title:
        lines.append(f"Title: {parent.title} → {draft.title}.")
    old_tracks = {t.code: t for t in parent.tracks}
    for track in draft.tracks:
        old = old_tracks.get(track.code)
        if old is None:
            lines.append(f"Added track {track.code} {track.name}.")
            continue
        for name, words in (("minutes", "minutes"), ("required", "required"), ("first_week", "first week"),
                            ("last_week", "last week")):
            if getattr(old, name) != getattr(track, name):
                lines.append(f"Track {track.code}: {words} {_words(getattr(old, name))} → {_words(getattr(track, name))}.")
        before = {m.code: m for m in old.modules}
        after = {m.code: m for m in track.modules}
        order = [m.code for m in track.modules]
        for m in track.modules:
            if m.code not in before:
                lines.append(f"Added {m.code} {m.title}.")
        for m in old.modules:
            if m.code not in after:
                lines.append(f"Removed {m.code} {m.title}.")
        for code in _moved([m.code for m in old.modules], order):
            at = order.index(code)
            where = f"now after {order[at - 1]}" if at else f"now first in {track.code}"
            lines.append(f"Moved {code} {after[code].title}: {where}.")
        for m in track.modules:
            o = before.get(m.code)
            if o is None:
                continue
            if m.retired != o.retired:
                lines.append(f"{'Retired' if m.retired else 'Restored'} {m.code} {m.title}.")
            if m.title != o.title:
                lines.append(f"Retitled {m.code}: {o.title} → {m.title}.")
            if m.minutes != o.minutes:
                lines.append(f"{m.code} minutes: {o.minutes} → {m.minutes}.")
            if _guide(m) != _guide(o):
                lines.append(f"Edited the guide of {m.code}.")
            lines += _worksheet_lines(o, m)
    for code in sorted(old_tracks.keys() - {t.code for t in draft.tracks}):
        lines.append(f"Removed track {code}.")
    return lines


def _worksheet_lines(old: dom.Module, new: dom.Module) -> list[str]:
    before = {w.code: w for w in old.worksheets}
    after = {w.code: w for w in new.worksheets}
    out = [f"Added worksheet {w.code} {w.title}." for w in new.worksheets if w.code not in before]
    out += [f"Removed worksheet {w.code} {w.title}." for w in old.worksheets if w.code not in after]
    for w in new.worksheets:
        o = before.get(w.code)
        if o is not None and o != w:
            parts = [words for name, words in (("title", "title"), ("intro", "introduction"), ("pages", "pages"),
                                               ("fields", "fields")) if getattr(o, name) != getattr(w, name)]
            out.append(f"Changed worksheet {w.code} ({', '.join(parts)}).")
    return out


def summary_text(parent: CurriculumVersion | None, version: CurriculumVersion) -> str:
    """The stored change summary of `version` against `parent`, one change per line."""
    before = to_domain(load_version(parent.id)) if parent is not None else None
    return "\n".join(change_lines(before, to_domain(load_version(version.id))))


@dataclass(frozen=True)
class DraftReview:
    """A draft's check before publishing: every problem by module, and what changed."""

    problems: dict[str, list[Problem]] = field(default_factory=dict)
    changes: tuple[str, ...] = ()

    @property
    def count(self) -> int:
        """How many problems block publishing."""
        return sum(len(v) for v in self.problems.values())


def review(draft: CurriculumVersion, problems: list[Problem] | None = None) -> DraftReview:
    """Run the publishing checks on a draft (or take the problems publishing found) and list the changes."""
    content = to_domain(load_version(draft.id))
    parent = to_domain(load_version(draft.parent_id)) if draft.parent_id else None
    if problems is None:
        problems = errors_only(check_curriculum(content))
    return DraftReview(problems_by_module(content, problems), tuple(change_lines(parent, content)))


def publish(draft: CurriculumVersion, user: Any) -> CurriculumVersion:
    """Validate the draft (the CLI's rules) and make it an immutable version with a change summary."""
    _draft(draft, user)
    content = to_domain(load_version(draft.id))
    problems = errors_only(check_curriculum(content))
    if problems:
        raise PublishRefused(problems)
    parent = load_version(draft.parent_id) if draft.parent_id else None
    lines = change_lines(to_domain(parent) if parent else None, content)
    if not lines:
        raise PublishRefused([Problem(MANIFEST, f"nothing changed since version {parent.label}; "  # type: ignore[union-attr]
                                                "change something before publishing")])
    digest = content_hash(content)
    clash = db.session.scalar(select(CurriculumVersion.number).where(
        CurriculumVersion.curriculum_id == draft.curriculum_id, CurriculumVersion.content_hash == digest))
    if clash is not None:
        raise PublishRefused([Problem(MANIFEST, f"version {clash} already has exactly this content")])
    draft.content_hash, draft.change_summary = digest, "\n".join(lines)
    draft.status, draft.published_at, draft.published_by_id = "published", utcnow(), user.id
    db.session.flush()
    return draft


# --- the file format from the web -------------------------------------------------------------------

def _manifest_line(text: str, key: str) -> int | None:
    return next((n for n, line in enumerate(text.splitlines(), start=1) if line.startswith(f"{key}:")), None)


def import_zip(data: bytes, user: Any) -> tuple[CurriculumVersion, bool]:
    """Validate an uploaded zip and store it as a published version of the program's curriculum of
    that name (a new one if there is none); ZipRefused with every problem, and nothing written,
    otherwise. The same content twice is a no-op: (the existing version, False)."""
    _director_of(user, user.program_id)
    files = read_zip(data)
    curriculum, problems = parse_curriculum(files)
    errors = errors_only(problems)
    if curriculum is None or errors:
        raise ZipRefused(errors or [Problem(MANIFEST, "the curriculum could not be read")])
    shipped = curriculum_named(curriculum.name, None)
    if shipped is not None and curriculum_named(curriculum.name, user.program_id) is None:
        same = db.session.scalar(select(CurriculumVersion).where(
            CurriculumVersion.curriculum_id == shipped.id, CurriculumVersion.content_hash == content_hash(curriculum)))
        if same is not None:
            return same, False
        raise ZipRefused([Problem(MANIFEST, f"{curriculum.name} is the name of a curriculum that ships with "
                                            f"facilitator; give yours its own name, for example {curriculum.name}-local",
                                  _manifest_line(files[MANIFEST], "name"), "name")])
    version, created = import_curriculum(curriculum, program_id=user.program_id, user=user, publish=False)
    if not created:
        return version, False
    parent = latest_published(version.curriculum_id, version.number)
    version.parent_id = parent.id if parent else None
    version.change_summary = summary_text(parent, version) if parent else "Imported from a curriculum file."
    version.status, version.published_at, version.published_by_id = "published", utcnow(), user.id
    db.session.flush()
    return version, True


# --- moving a group to another published version ------------------------------------------------

EFFECT_AHEAD = timedelta(weeks=4)  # the effect page compares the next 4 weeks of meetings


@dataclass(frozen=True)
class MemberEffect:
    """What a move means for one member's progress (module codes)."""

    participant: Participant
    carried: tuple[str, ...]  # credited before, and credited in the new version too
    new_missing: tuple[str, ...]  # modules the old version did not deliver, still to do
    unmatched: tuple[str, ...]  # credited before, but the new version does not deliver them


@dataclass(frozen=True)
class MeetingShift:
    """One coming meeting before and after the move."""

    date: date
    time: str
    track: str
    before: str | None
    after: str | None
    title: str  # of the module after the move

    @property
    def changed(self) -> bool:
        """True if the meeting delivers another module after the move."""
        return self.before != self.after


@dataclass(frozen=True)
class MoveEffect:
    """The effect of moving a group: per member, on the coming meetings, and notes."""

    target: CurriculumVersion
    members: tuple[MemberEffect, ...]
    meetings: tuple[MeetingShift, ...]
    notes: tuple[str, ...]


def move_targets(group: Group) -> list[CurriculumVersion]:
    """The published versions (shipped or the program's own) a group can move to."""
    return [v for v in allowed_versions(group.program_id) if v.id != group.version_id]


def _live_codes(version_id: int) -> set[str]:
    return {code for plan in seq.track_plans(version_structure(version_id)) for code in plan.modules}


def _followers(group: Group) -> list[int]:
    """Participants whose progress is counted against this group: their latest stay is in it."""
    latest: dict[int, int] = {}
    rows = db.session.execute(
        select(Enrollment.participant_id, Enrollment.group_id)
        .where(Enrollment.participant_id.in_(select(Enrollment.participant_id).where(Enrollment.group_id == group.id)))
        .order_by(Enrollment.admitted_on, Enrollment.id)).all()
    for pid, group_id in rows:
        latest[pid] = group_id
    return [pid for pid, group_id in latest.items() if group_id == group.id]


def move_problems(group: Group, target: CurriculumVersion) -> dict[str, str]:
    """Why the group cannot move to `target` (empty if it can), keyed "version"."""
    if target.id == group.version_id:
        return {"version": "The group already runs this version."}
    if not target.is_published or target.curriculum.program_id not in (None, group.program_id):
        return {"version": "Choose a published version of a shipped curriculum or of your program's own."}
    plans = {p.code: p for p in seq.track_plans(version_structure(target.id))}
    name = f"{target.title} (version {target.label})"
    for slot in group.slots:
        plan = plans.get(slot.track_code)
        if plan is None or not plan.scheduled or not plan.modules:
            return {"version": f"The group meets for {slot.track_code}, and {name} has no {slot.track_code} modules "
                               "to deliver on a weekly pattern."}
    used = set(db.session.scalars(select(Meeting.track_code).where(Meeting.group_id == group.id).distinct()))
    used |= {t for t in db.session.scalars(select(Cancellation.track_code).where(Cancellation.group_id == group.id))
             if t}
    if missing := sorted(used - plans.keys()):
        return {"version": f"The group's records name {', '.join(missing)}, which {name} does not have."}
    live = {code for plan in plans.values() for code in plan.modules}
    people = _followers(group)
    credited = set(db.session.scalars(select(Module.code).join(Credit, Credit.module_id == Module.id).where(
        Credit.participant_id.in_(people), Credit.revoked_at.is_(None))))
    planned = set(db.session.scalars(select(Module.code).join(MakeUp, MakeUp.module_id == Module.id).where(
        MakeUp.participant_id.in_(people), MakeUp.status == "planned")))
    # Progress counts explicit credits by module code in the group's version; one it does not
    # deliver cannot be placed (see the report to the lead), so such a move waits.
    if orphans := sorted((credited | planned) - live):
        return {"version": f"Members have make-up, individual or override credits (or planned make-ups) for "
                           f"{', '.join(orphans)}, which {name} does not deliver. Choose a version that still "
                           "delivers them, or complete or cancel those make-ups first."}
    return {}


def _freeze_past(group: Group, today: date) -> int:
    """Store the past meetings nobody recorded as they were planned (old modules), so the new version
    re-plans only from today on; return how many."""
    if group.start_date >= today:
        return 0
    ids = module_ids(group.version_id)
    count = 0
    for m in group_calendar(group, today - timedelta(days=1)).meetings:
        if m.recorded or not m.held:
            continue  # cancelled days follow from holidays and cancellations, which do not change
        db.session.add(Meeting(group_id=group.id, date=m.date, start_time=time.fromisoformat(m.time),
                               track_code=m.track, minutes=m.minutes, status="scheduled",
                               module_id=ids.get(m.module or "")))
        count += 1
    return count


def _apply_move(group: Group, target: CurriculumVersion, today: date) -> list[str]:
    notes = []
    frozen = _freeze_past(group, today)
    if frozen:
        notes.append(f"{frozen} past meeting(s) nobody recorded keep the modules they were planned with.")
    plans = {p.code: p for p in seq.track_plans(version_structure(target.id))}
    kept = {}
    for track, code in sorted((group.starting_modules or {}).items()):
        plan = plans.get(track)
        if plan is not None and code in plan.position:
            kept[track] = code
        elif plan is not None and plan.modules:
            notes.append(f"{track} started at {code}, which the new version does not deliver; "
                         f"it starts at {plan.modules[0]}.")
    group.version = target
    group.starting_modules = kept
    db.session.flush()
    return notes


def active_members(group: Group) -> list[Participant]:
    """The group's members who are not discharged, by preferred name."""
    return list(db.session.scalars(
        select(Participant).join(Enrollment, Enrollment.participant_id == Participant.id)
        .where(Enrollment.group_id == group.id, Enrollment.discharged_on.is_(None))
        .order_by(Participant.preferred_name, Participant.id)))


def _credited(plan) -> list[str]:
    return [c for t in (plan.progress.tracks if plan.progress else ()) for c in t.credited]


def move_effect(group: Group, target: CurriculumVersion, today: date,
                members: list[Participant] | None = None) -> MoveEffect:
    """What moving the group would do, computed by making the move in a savepoint and rolling it back:
    per member, credits that carry over by code, new modules now missing, and credits the new version
    cannot match; and the coming meetings before and after. Nothing is kept."""
    problems = move_problems(group, target)
    if problems:
        raise EditRefused(problems)
    members = active_members(group) if members is None else members
    old_live = _live_codes(group.version_id)
    before = progress_for(members, today)
    old_meetings = {(m.date, m.time, m.track): m.module for m in group_calendar(group, today + EFFECT_AHEAD).meetings
                    if m.date >= today and m.held}
    savepoint = db.session.begin_nested()
    try:
        notes = _apply_move(group, target, today)
        after = {pid: (set(_credited(p)), [c for t in (p.progress.tracks if p.progress else ()) for c in t.missing])
                 for pid, p in progress_for(members, today).items()}
        new_meetings = [m for m in group_calendar(group, today + EFFECT_AHEAD).meetings if m.date >= today and m.held]
    finally:
        savepoint.rollback()
    titles = titles_of(version_structure(target.id))
    rank: dict[str, int] = {}
    for structure in (version_structure(target.id), version_structure(group.version_id)):
        for code in (m.code for t in structure.tracks for m in t.modules):
            rank.setdefault(code, len(rank))  # codes in curriculum order, not in the order they were credited
    rows = []
    for person in members:
        credited_after, missing_after = after[person.id]
        had = sorted(_credited(before[person.id]), key=lambda code: rank.get(code, len(rank)))
        rows.append(MemberEffect(
            person, tuple(c for c in had if c in credited_after),
            tuple(c for c in missing_after if c not in old_live),
            tuple(c for c in had if c not in credited_after)))
    shifts = tuple(MeetingShift(m.date, m.time, m.track, old_meetings.get((m.date, m.time, m.track)), m.module,
                                titles.get(m.module or "", "")) for m in new_meetings)
    return MoveEffect(target, tuple(rows), shifts, tuple(notes))


def move_group(group: Group, target: CurriculumVersion, user: Any, today: date) -> list[str]:
    """Move a group to another published version (directors). Meetings and credits keep pointing at
    the modules that were taught; the coming meetings follow the new version, matched by code."""
    _director_of(user, group.program_id)
    problems = move_problems(group, target)
    if problems:
        raise EditRefused(problems)
    old = group.version_id
    notes = _apply_move(group, target, today)
    audit.record("group.version_move", "group", group.id, user=user, detail={"from": old, "to": target.id})
    db.session.flush()
    return notes
