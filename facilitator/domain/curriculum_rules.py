"""The rules a curriculum must meet before it can be imported or published.

Structure rules (codes, references, minutes that add up) and content rules (plain language,
person-first wording, no placeholders, no repeated prompts, a page's worth of fields).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from statistics import mean
from typing import Any

import textstat

from .curriculum import Curriculum, Field, Module, Worksheet
from .problems import N_, Problem

MAX_WORKSHEET_GRADE = 10.0  # no single worksheet above this US grade level
MAX_MEAN_GRADE = 8.0  # the mean over a track's worksheets
LINES_PER_PAGE = 40  # answer-line units that fit on one Letter/A4 page under the header

# Words that label people by their use; say "a person who uses drugs", "a positive test".
STIGMA = re.compile(r"\b(addicts?|abusers?|junkies|junkie|dirty|druggies|druggy|clean test)\b", re.I)
PLACEHOLDER = re.compile(r"lorem|ipsum|\bTODO\b|\bTBD\b|\bFIXME\b|\bXXX\b|\.\.\.|…", re.I)

LineOf = Callable[[tuple[Any, ...]], int | None]


def _module_problem(module: Module, field: str, message: str, severity: str = "error", **params: Any) -> Problem:
    return Problem(module.source or module.code, message, None, field, severity, tuple(params.items()))


def check_structure(curriculum: Curriculum, manifest_line: LineOf = lambda path: None) -> list[Problem]:
    """Codes, references and arithmetic that make a curriculum usable by the sequencer."""
    problems: list[Problem] = []
    seen_tracks: set[str] = set()
    module_codes: dict[str, Module] = {}
    sheet_codes: dict[str, Module] = {}
    for t_index, track in enumerate(curriculum.tracks):
        where = ("tracks", t_index)
        if track.code in seen_tracks:
            problems.append(Problem("curriculum.yaml", N_("track %(track)s appears twice"), manifest_line(where), "code",
                                    params=(("track", track.code),)))
        seen_tracks.add(track.code)
        if track.last_week is not None and track.last_week < track.first_week:
            problems.append(Problem("curriculum.yaml", N_("last_week is before first_week"),
                                    manifest_line((*where, "last_week")), "last_week"))
        for module in track.modules:
            if module.track_code != track.code:
                problems.append(_module_problem(module, "code", N_("%(code)s is listed under track %(track)s"),
                                                code=module.code, track=track.code))
            if module.code in module_codes:
                problems.append(_module_problem(module, "code", N_("%(code)s is also defined in %(file)s"),
                                                code=module.code, file=module_codes[module.code].source))
            module_codes[module.code] = module
            problems.extend(_check_module(module, track.closing_discussion_minutes))
            for s_index, sheet in enumerate(module.worksheets):
                if sheet.code in sheet_codes:
                    problems.append(_module_problem(module, f"worksheets[{s_index}].code",
                                                    N_("worksheet %(worksheet)s is also defined in %(file)s"),
                                                    worksheet=sheet.code, file=sheet_codes[sheet.code].source))
                sheet_codes[sheet.code] = module
    for s_index, slot in enumerate(curriculum.pattern):
        if slot.track not in seen_tracks:
            problems.append(Problem("curriculum.yaml", N_("pattern names unknown track %(track)s"),
                                    manifest_line(("pattern", s_index, "track")), f"pattern[{s_index}].track",
                                    params=(("track", slot.track),)))
    return problems


def _check_module(module: Module, closing_minutes: int) -> list[Problem]:
    problems = []
    total = sum(step.minutes for step in module.outline)
    if total != module.minutes:
        problems.append(_module_problem(module, "outline", N_("outline minutes add up to %(total)s, not %(minutes)s"),
                                        total=total, minutes=module.minutes))
    if closing_minutes and module.outline and module.outline[-1].minutes != closing_minutes:
        problems.append(_module_problem(module, "outline", N_("the last step must be %(minutes)s minutes of open discussion"),
                                        minutes=closing_minutes))
    if not module.key_points.strip():
        problems.append(_module_problem(module, "body", N_("the key points (the Markdown body) are empty")))
    if not module.worksheets and not module.retired:
        problems.append(_module_problem(module, "worksheets", N_("every module needs at least one worksheet")))
    for s_index, sheet in enumerate(module.worksheets):
        ids: set[str] = set()
        for f_index, field in enumerate(sheet.fields):
            where = f"worksheets[{s_index}].fields[{f_index}]"
            if field.id in ids:
                problems.append(_module_problem(module, f"{where}.id", N_("field id %(id)s is used twice"), id=field.id))
            ids.add(field.id)
            message = _field_shape_problem(field)
            if message:
                problems.append(_module_problem(module, where, message))
        used = sum(field_lines(f) for f in sheet.fields) + (len(sheet.intro) // 90 + 1 if sheet.intro else 0)
        if used > LINES_PER_PAGE * sheet.pages:
            problems.append(_module_problem(
                module, f"worksheets[{s_index}]",
                N_("%(worksheet)s needs about %(lines)s lines, more than %(pages)s page(s) hold (%(per_page)s each)"),
                worksheet=sheet.code, lines=used, pages=sheet.pages, per_page=LINES_PER_PAGE))
    return problems


def _field_shape_problem(field: Field) -> str:
    if field.type == "table" and not field.rows and not field.row_labels:
        return N_("a table needs blank rows or row_labels")
    if field.type == "scale" and field.min >= field.max:
        return N_("a scale's min must be below its max")
    if field.type == "schedule" and field.start_hour >= field.end_hour:
        return N_("a schedule's start_hour must be before its end_hour")
    if field.type == "table" and any(not c.strip() for c in field.columns):
        return N_("every table column needs a header")
    return ""


def field_lines(field: Field) -> float:
    """An estimate of the vertical space a field takes, in answer-line units."""
    label = len(field.label) // 80 + 1 if field.label else 0
    sizes = {
        "note": len(field.text) // 90 + 1,
        "text": label + 1,
        "date": 1.5,
        "lines": label + field.lines,
        "checklist": label + (len(field.items) + field.other + 1) // 2,
        "table": label + 1.5 + 1.4 * (field.rows or len(field.row_labels)),
        "scale": label + 1.5,
        "calendar": label + 13,
        "schedule": label + 1 + (field.end_hour - field.start_hour) * 1.1,
        "sequence": label + 4,
        "signature": 2,
    }
    return sizes.get(field.type, 2)


def participant_text(sheet: Worksheet) -> list[str]:
    """Every sentence a participant reads on a worksheet, one per item."""
    parts = [sheet.title, sheet.intro]
    for f in sheet.fields:
        parts += [f.label, f.text, *f.items, *f.columns, f.row_header, *f.row_labels, *f.steps, f.low_label,
                  f.high_label]
    return [p.strip() for p in parts if p and p.strip()]


def reading_grade(sentences: Iterable[str]) -> float:
    """The Flesch-Kincaid US grade of the text, each item read as its own sentence."""
    text = " ".join(s if s[-1] in ".?!:" else s + "." for s in sentences if s)
    return max(0.0, float(textstat.flesch_kincaid_grade(text))) if text else 0.0


def _module_texts(module: Module) -> list[tuple[str, str]]:
    """(field path, text) for every piece of writing in a module."""
    out = [("title", module.title), ("body", module.key_points)]
    out += [(f"goals[{i}]", g) for i, g in enumerate(module.goals)]
    out += [(f"outline[{i}]", s.activity) for i, s in enumerate(module.outline)]
    out += [(f"questions[{i}]", q) for i, q in enumerate(module.questions)]
    out += [(f"considerations[{i}]", c.when + " " + c.do) for i, c in enumerate(module.considerations)]
    for s_index, sheet in enumerate(module.worksheets):
        for text in participant_text(sheet):
            out.append((f"worksheets[{s_index}]", text))
    return out


def check_content(curriculum: Curriculum) -> list[Problem]:
    """Plain language, person-first wording, no placeholders and no repeated prompts."""
    problems: list[Problem] = []
    prompts: dict[str, str] = {}
    for module in curriculum.modules():
        for where, text in _module_texts(module):
            if match := STIGMA.search(text):
                problems.append(_module_problem(module, where, N_("use person-first wording instead of %(word)s"),
                                                word=repr(match.group(0))))
            if match := PLACEHOLDER.search(text):
                problems.append(_module_problem(module, where, N_("placeholder text %(word)s"), word=repr(match.group(0))))
        for s_index, sheet in enumerate(module.worksheets):
            grade = reading_grade(participant_text(sheet))
            if grade > MAX_WORKSHEET_GRADE:
                problems.append(_module_problem(module, f"worksheets[{s_index}]",
                                                N_("%(worksheet)s reads at grade %(grade)s, above %(limit)s"),
                                                worksheet=sheet.code, grade=f"{grade:.1f}", limit=f"{MAX_WORKSHEET_GRADE:.0f}"))
            for f_index, field in enumerate(sheet.fields):
                if field.type not in ("text", "lines", "table", "sequence", "scale"):
                    continue
                key = " ".join(field.label.lower().split())
                if key in prompts and prompts[key] != sheet.code:
                    problems.append(_module_problem(module, f"worksheets[{s_index}].fields[{f_index}].label",
                                                    N_("prompt repeats %(worksheet)s word for word"),
                                                    worksheet=prompts[key]))
                prompts.setdefault(key, sheet.code)
    for row in track_report(curriculum):
        if row.worksheets and row.mean_grade > MAX_MEAN_GRADE:
            problems.append(Problem("curriculum.yaml", N_("track %(track)s worksheets average grade %(grade)s, above %(limit)s"),
                                    None, "tracks", params=(("track", row.code), ("grade", f"{row.mean_grade:.1f}"),
                                                            ("limit", f"{MAX_MEAN_GRADE:.0f}"))))
    return problems


@dataclass(frozen=True)
class TrackReport:
    """Counts and reading level of one track, as the validator prints them."""

    code: str
    modules: int
    worksheets: int
    mean_grade: float
    max_grade: float


def track_report(curriculum: Curriculum) -> list[TrackReport]:
    """Per track: modules, worksheets, mean and max worksheet reading grade."""
    rows = []
    for track in curriculum.tracks:
        grades = [reading_grade(participant_text(w)) for m in track.modules for w in m.worksheets]
        rows.append(TrackReport(track.code, len(track.modules), len(grades),
                                round(mean(grades), 1) if grades else 0.0,
                                round(max(grades), 1) if grades else 0.0))
    return rows


def validate(curriculum: Curriculum) -> list[Problem]:
    """Every rule: structure and content (the loader already ran the schema)."""
    return check_structure(curriculum) + check_content(curriculum)
