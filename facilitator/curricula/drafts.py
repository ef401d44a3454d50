"""Drafts of a curriculum: what every edit shares, and a draft's life from fork to discard.

Every edit (here and in editing, worksheets and publishing) takes the acting user, checks that it is a
director of the draft's program and that the version is still a draft, changes rows, flushes and
returns; the request commits. Published versions never change: the models' before_flush guard refuses
it even if a check here were missed. This module holds those checks, the errors they raise, the
parsing of plain form input, and forking, starting, retitling and discarding a draft.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from ..extensions import db
from .models import Curriculum, CurriculumVersion, Module, Track, Worksheet
from .services import import_curriculum, load_version, to_domain


class EditRefused(ValueError):
    """The input is refused; `problems` maps a form field name to a plain message. Nothing changed."""

    def __init__(self, problems: dict[str, str]):
        super().__init__("; ".join(problems.values()))
        self.problems = problems


class VersionPublished(RuntimeError):
    """The version is published: it never changes. Start a new draft from it instead."""


class NotInVersion(LookupError):
    """A track, module or worksheet was asked for through a version it does not belong to."""


# --- access -----------------------------------------------------------------------------------

def require_director(user: Any, program_id: int | None) -> None:
    """PermissionError unless the user is a director of that program."""
    if getattr(user, "role", None) != "director" or program_id is None or user.program_id != program_id:
        raise PermissionError("only the program's directors edit its curricula")


def require_draft(version: CurriculumVersion, user: Any) -> None:
    """VersionPublished unless the version is a draft; PermissionError unless the user directs its program."""
    if version.is_published:
        raise VersionPublished(_("version %(label)s of %(title)s is published and cannot change",
                                 label=version.label, title=version.curriculum.title))
    require_director(user, version.curriculum.program_id)


def require_in_draft(version: CurriculumVersion, *rows: Track | Module | Worksheet) -> None:
    """NotInVersion unless every row (track, module, worksheet) belongs to the version."""
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


def whole(raw: Any, name: str, low: int, high: int, problems: dict[str, str], what: str = "") -> int | None:
    """A whole number within [low, high], or None with a plain message under `name`."""
    what = what or _("a number")
    text = str(raw if raw is not None else "").strip()
    if not re.fullmatch(r"-?\d{1,6}", text):
        problems[name] = _("Enter %(what)s as a whole number from %(low)s to %(high)s.", what=what, low=low, high=high)
        return None
    value = int(text)
    if not low <= value <= high:
        problems[name] = _("Enter %(what)s from %(low)s to %(high)s, not %(value)s.", what=what, low=low, high=high,
                            value=value)
        return None
    return value


def clean_title(raw: str, name: str, problems: dict[str, str], longest: int = 100) -> str:
    """A title with its blank space collapsed; a plain message under `name` if it is too short or long."""
    text = " ".join((raw or "").split())
    if len(text) < 3:
        problems[name] = _("Enter a title of at least 3 characters.")
    elif len(text) > longest:
        problems[name] = _("Keep the title to %(longest)s characters or fewer (it has %(count)s).", longest=longest,
                            count=len(text))
    return text


# --- a draft from fork to discard ------------------------------------------------------------------

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
        raise EditRefused({"title": _("An identical version already exists; give the new one another title.")})
    draft.parent_id = source.id
    draft.content_hash = ""  # a draft's content is not final; the hash is set when it is published
    db.session.flush()
    return draft


def fork(source: CurriculumVersion, user: Any, title: str) -> CurriculumVersion:
    """A new curriculum of the director's program whose first version is a draft copy of `source`."""
    require_director(user, user.program_id)
    if not source.is_published or source.curriculum.program_id not in (None, user.program_id):
        raise PermissionError("only a published version of a shipped or own curriculum can be forked")
    problems: dict[str, str] = {}
    title = clean_title(title, "title", problems, longest=120)
    if problems:
        raise EditRefused(problems)
    return _copy(source, _unique_name(title, user.program_id), title, "1", user.program_id)


def new_draft(source: CurriculumVersion, user: Any) -> CurriculumVersion:
    """The next version of one of the program's own curricula, as a draft copy of `source`."""
    require_director(user, source.curriculum.program_id)
    if not source.is_published:
        raise VersionPublished("start a new draft from a published version")
    number = (db.session.scalar(select(func.max(CurriculumVersion.number))
                                .where(CurriculumVersion.curriculum_id == source.curriculum_id)) or 0) + 1
    return _copy(source, source.curriculum.name, source.title, str(number), user.program_id)


def discard(draft: CurriculumVersion, user: Any) -> None:
    """Delete a draft (and its curriculum, if the draft was all it had)."""
    require_draft(draft, user)
    curriculum = draft.curriculum
    db.session.delete(draft)
    db.session.flush()
    if db.session.scalar(select(func.count(CurriculumVersion.id))
                         .where(CurriculumVersion.curriculum_id == curriculum.id)) == 0:
        db.session.delete(curriculum)
        db.session.flush()


def update_settings(draft: CurriculumVersion, user: Any, *, title: str, label: str, description: str) -> None:
    """The draft's title, version label and description."""
    require_draft(draft, user)
    problems: dict[str, str] = {}
    title = clean_title(title, "title", problems, longest=120)
    label = " ".join((label or "").split())
    if not label or len(label) > 40:
        problems["label"] = _("Enter a version label of 1 to 40 characters, for example 2027.1.")
    if problems:
        raise EditRefused(problems)
    draft.title, draft.label, draft.description = title, label, clean_text(description)
    db.session.flush()

def flag_translations_for_review(module: Module) -> None:
    """The English changed: the module's other languages await review (they print in English until then)."""
    if module.translations:
        module.translations = {language: {**text, "needs_review": True} for language, text in module.translations.items()}
