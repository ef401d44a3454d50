"""Publishing a draft: the checks (problems grouped by module, in page order), the change summary
against the parent version, and making the draft an immutable version; or publishing an uploaded zip
in the file format directly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from ..domain import curriculum as dom
from ..domain.curriculum_files import MANIFEST, errors_only, parse_curriculum
from ..domain.curriculum_languages import LANGUAGE_NAMES
from ..domain.problems import Problem
from ..extensions import db
from ..models_base import utcnow
from .drafts import require_director, require_draft
from .models import CurriculumVersion
from .services import (
    ZipRefused,
    check_curriculum,
    content_hash,
    curriculum_named,
    domain_module,
    import_curriculum,
    latest_published,
    load_version,
    module_file,
    read_zip,
    to_domain,
)


class PublishRefused(ValueError):
    """The draft does not pass the checks; `problems` are the validator's, each naming its module."""

    def __init__(self, problems: list[Problem]):
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


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
            lines += _language_lines(o, m)
    for code in sorted(old_tracks.keys() - {t.code for t in draft.tracks}):
        lines.append(f"Removed track {code}.")
    return lines


def _language_lines(old: dom.Module, new: dom.Module) -> list[str]:
    """What changed in a module's other languages, and which language now awaits review."""
    out = []
    for language, twin in new.translations:
        before = dict(old.translations).get(language)
        name = LANGUAGE_NAMES.get(language, language)
        if language in new.needs_review and language not in old.needs_review:
            out.append(f"{new.code}: the English changed; its {name} text awaits review and prints in English until then.")
        elif before is not None and language not in new.needs_review and _text_of(before) != _text_of(twin):
            if _text_of(old) == _text_of(new):
                out.append(f"Edited the {name} text of {new.code}; its English did not change: have a bilingual "
                           f"reader check that both still say the same.")
            else:
                out.append(f"Edited the {name} text of {new.code}.")
    return out


def _text_of(m: dom.Module) -> tuple:
    return (m.title, *_guide(m), tuple((w.title, w.intro, w.fields) for w in m.worksheets))


def mark_unchanged_twins_for_review(parent: CurriculumVersion, version: CurriculumVersion) -> None:
    """An imported file whose English changed while a module's other language did not: that language
    awaits review, as after an edit in the app (curricula.drafts.flag_translations_for_review)."""
    before = {m.code: m for m in to_domain(load_version(parent.id)).modules()}
    for track in version.tracks:
        for module in track.modules:
            old, new = before.get(module.code), domain_module(module)
            if old is None or _text_of(old) == _text_of(new):
                continue
            stale = {language for language, twin in new.translations
                     if dict(old.translations).get(language) is not None
                     and _text_of(dict(old.translations)[language]) == _text_of(twin)}
            if stale:
                module.translations = {language: {**text, "needs_review": True} if language in stale else text
                                       for language, text in module.translations.items()}
    db.session.flush()


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
    require_draft(draft, user)
    content = to_domain(load_version(draft.id))
    problems = errors_only(check_curriculum(content))
    if problems:
        raise PublishRefused(problems)
    parent = load_version(draft.parent_id) if draft.parent_id else None
    lines = change_lines(to_domain(parent) if parent else None, content)
    if not lines:
        raise PublishRefused([Problem(MANIFEST, _("nothing changed since version %(label)s; "
                                                  "change something before publishing",
                                                  label=parent.label))])  # type: ignore[union-attr]
    digest = content_hash(content)
    clash = db.session.scalar(select(CurriculumVersion.number).where(
        CurriculumVersion.curriculum_id == draft.curriculum_id, CurriculumVersion.content_hash == digest))
    if clash is not None:
        raise PublishRefused([Problem(MANIFEST, _("version %(number)s already has exactly this content",
                                                  number=clash))])
    draft.content_hash, draft.change_summary = digest, "\n".join(lines)
    draft.status, draft.published_at, draft.published_by_id = "published", utcnow(), user.id
    db.session.flush()
    return draft


# --- publishing an uploaded zip in the file format -------------------------------------------------

def _manifest_line(text: str, key: str) -> int | None:
    return next((n for n, line in enumerate(text.splitlines(), start=1) if line.startswith(f"{key}:")), None)


def import_zip(data: bytes, user: Any) -> tuple[CurriculumVersion, bool]:
    """Validate an uploaded zip and store it as a published version of the program's curriculum of
    that name (a new one if there is none); ZipRefused with every problem, and nothing written,
    otherwise. The same content twice is a no-op: (the existing version, False)."""
    require_director(user, user.program_id)
    files = read_zip(data)
    curriculum, problems = parse_curriculum(files)
    errors = errors_only(problems)
    if curriculum is None or errors:
        raise ZipRefused(errors or [Problem(MANIFEST, _("the curriculum could not be read"))])
    shipped = curriculum_named(curriculum.name, None)
    if shipped is not None and curriculum_named(curriculum.name, user.program_id) is None:
        same = db.session.scalar(select(CurriculumVersion).where(
            CurriculumVersion.curriculum_id == shipped.id, CurriculumVersion.content_hash == content_hash(curriculum)))
        if same is not None:
            return same, False
        raise ZipRefused([Problem(MANIFEST, _("%(name)s is the name of a curriculum that ships with "
                                              "facilitator; give yours its own name, for example %(name)s-local",
                                              name=curriculum.name),
                                  _manifest_line(files[MANIFEST], "name"), "name")])
    version, created = import_curriculum(curriculum, program_id=user.program_id, user=user, publish=False)
    if not created:
        return version, False
    parent = latest_published(version.curriculum_id, version.number)
    version.parent_id = parent.id if parent else None
    if parent is not None:
        # The stored hash stays the file's, so importing the same file again is still "nothing new".
        mark_unchanged_twins_for_review(parent, version)
    version.change_summary = summary_text(parent, version) if parent else "Imported from a curriculum file."
    version.status, version.published_at, version.published_by_id = "published", utcnow(), user.id
    db.session.flush()
    return version, True
