"""Editing a draft's tracks and modules: a track's settings, a module's facilitator guide, the order
of a track's modules, local modules (coded with numbers no earlier version used), deleting those and
retiring the ones earlier versions delivered. The checks every edit makes are in drafts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from ..domain import curriculum as dom
from ..extensions import db
from .drafts import (
    EditRefused,
    clean_text,
    clean_title,
    flag_translations_for_review,
    require_draft,
    require_in_draft,
    whole,
)
from .models import CurriculumVersion, Module, Track

MAX_MINUTES = 480
MAX_STEP_MINUTES = 240
MAX_WEEK = 104


def update_track(draft: CurriculumVersion, track: Track, user: Any, *, minutes: Any, required: bool,
                 first_week: Any, last_week: Any = "") -> None:
    """A track's usual minutes, whether it is required for completion, and its week window."""
    require_draft(draft, user)
    require_in_draft(draft, track)
    problems: dict[str, str] = {}
    minutes = whole(minutes, "minutes", 5, MAX_MINUTES, problems, _("the minutes"))
    first = whole(first_week, "first_week", 1, MAX_WEEK, problems, _("the first week"))
    last = None
    if str(last_week or "").strip():
        last = whole(last_week, "last_week", 1, MAX_WEEK, problems, _("the last week"))
        if last is not None and first is not None and last < first:
            problems["last_week"] = _("The last week (%(last)s) is before the first week (%(first)s).", last=last,
                                        first=first)
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
    require_draft(draft, user)
    require_in_draft(draft, module)
    problems: dict[str, str] = {}
    title = clean_title(data.title, "title", problems)
    minutes = whole(data.minutes, "minutes", 5, MAX_MINUTES, problems, _("the minutes"))
    for index, goal in enumerate(data.goals):
        if len(goal) > 160:
            problems["goals"] = _("Goal %(number)s is %(count)s characters; keep each goal to 160.", number=index + 1,
                                   count=len(goal))
    outline = []
    for index, (step_minutes, activity) in enumerate(data.outline):
        value = whole(step_minutes, f"outline-{index}-minutes", 1, MAX_STEP_MINUTES, problems,
                      _("the step's minutes"))
        if not clean_text(activity):
            problems[f"outline-{index}-activity"] = _("Say what happens in this step, or clear its minutes.")
        outline.append({"minutes": value, "activity": clean_text(activity)})
    considerations = []
    for index, (when, do) in enumerate(data.considerations):
        if not clean_text(when):
            problems[f"considerations-{index}-when"] = _("Describe the situation, or clear what to do.")
        if not clean_text(do):
            problems[f"considerations-{index}-do"] = _("Say what to do, or clear the situation.")
        considerations.append({"when": clean_text(when), "do": clean_text(do)})
    if problems:
        raise EditRefused(problems)
    key_points = clean_text(data.key_points)
    module.title, module.minutes = title, minutes
    module.goals, module.questions = [g for g in data.goals if g], [q for q in data.questions if q]
    module.outline, module.considerations = outline, considerations
    # Stored as the file format reads it back (a final newline), so export and import hash alike.
    module.key_points = key_points + "\n" if key_points else ""
    flag_translations_for_review(module)
    db.session.flush()



def _renumber(track: Track, order: list[Module]) -> None:
    for position, module in enumerate(order):
        if module.position != position:
            module.position = position
    track.modules.sort(key=lambda m: m.position)
    db.session.flush()


def move_module(draft: CurriculumVersion, module: Module, user: Any, direction: str) -> None:
    """Move a module one place up or down in its track's order."""
    require_draft(draft, user)
    require_in_draft(draft, module)
    order = list(module.track.modules)
    index = order.index(module)
    target = index - 1 if direction == "up" else index + 1 if direction == "down" else None
    if target is None:
        raise EditRefused({"direction": _("Choose up or down.")})
    if not 0 <= target < len(order):
        raise EditRefused({"direction": _("%(code)s is already first.", code=module.code) if target < 0
                           else _("%(code)s is already last.", code=module.code)})
    order[index], order[target] = order[target], order[index]
    _renumber(module.track, order)


def move_before(draft: CurriculumVersion, module: Module, before: Module | None, user: Any) -> None:
    """Put a module right before another of the same track (None: at the end)."""
    require_draft(draft, user)
    require_in_draft(draft, module, *([before] if before else []))
    if before is not None and before.track_id != module.track_id:
        raise EditRefused({"before": _("%(code)s is in another track.", code=before.code)})
    if before is module:
        raise EditRefused({"before": _("Choose another module to move it before.")})
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
    require_draft(draft, user)
    require_in_draft(draft, track)
    problems: dict[str, str] = {}
    title = clean_title(title, "title", problems)
    minutes = whole(minutes if str(minutes or "").strip() else track.minutes, "minutes", 5, MAX_MINUTES, problems,
                    _("the minutes"))
    if problems:
        raise EditRefused(problems)
    module = Module(version_id=draft.id, position=len(track.modules), code=next_module_code(draft, track),
                    title=title, minutes=minutes, goals=[], outline=[], key_points="", questions=[],
                    considerations=[], retired=False, source_file="")
    # A new module has no words in the version's other languages yet: each awaits its translation.
    module.translations = {language: {"title": title, "goals": [], "outline": [], "key_points": "", "questions": [],
                                      "considerations": [], "needs_review": True} for language in draft.translations or {}}
    track.modules.append(module)
    db.session.flush()
    return module


def is_local(draft: CurriculumVersion, module: Module) -> bool:
    """True if the module was added in this draft (no earlier version has its code)."""
    parent = db.session.get(CurriculumVersion, draft.parent_id) if draft.parent_id else None
    return parent is None or module.code not in _lineage_codes(parent)


def delete_module(draft: CurriculumVersion, module: Module, user: Any) -> None:
    """Remove a module added in this draft; modules that earlier versions delivered are retired instead."""
    require_draft(draft, user)
    require_in_draft(draft, module)
    if not is_local(draft, module):
        raise EditRefused({"module": _("%(code)s was delivered by an earlier version; retire it instead, "
                                       "so that history stays true.", code=module.code)})
    track = module.track
    track.modules.remove(module)
    db.session.flush()
    _renumber(track, list(track.modules))


def set_retired(draft: CurriculumVersion, module: Module, user: Any, retired: bool) -> None:
    """Retire a module (it stays in the version and in history, but is no longer delivered) or restore it."""
    require_draft(draft, user)
    require_in_draft(draft, module)
    if retired and not any(not m.retired for m in module.track.modules if m is not module):
        raise EditRefused({"module": _("%(code)s needs at least one module that is delivered.", code=module.track.code)})
    module.retired = retired
    db.session.flush()
