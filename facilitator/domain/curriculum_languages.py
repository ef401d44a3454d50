"""A curriculum in more than one language: every module's twin has the same shape as the English,
reads plainly, and labels no one.

A twin (``rp-07.es.md`` beside ``rp-07.md``) keeps the codes, minutes, field ids and types, and the
number of goals, steps, questions, items, columns and lines; only the words change. So a Spanish
worksheet prints on the same pages and an answer given in one language reads back in the other.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from statistics import mean
from typing import Any

from textstat.textstat import textstatistics

from .curriculum import Curriculum, Field, Module, Worksheet
from .curriculum_rules import participant_text
from .problems import N_, Problem

LANGUAGE_NAMES = {"en": N_("English"), "es": N_("Spanish")}  # a problem's `language` param
# Words that label people by their use, in Spanish: say "persona que consume", "resultado positivo".
STIGMA = {
    # "Limpio"/"sucio" only of a person or a test ("ropa limpia" is fine).
    "es": re.compile(r"\b(adict[oa]s?|drogadict[oa]s?|toxic[oó]man[oa]s?|viciosos?|vicios?|(?:estar|est[aá]s?|estoy|"
                     r"est[aá]n|estaba|mantenerse|sigo|seguir|prueba|pruebas|resultados?|orina|muestras?)\s+"
                     r"(?:limpi|suci)[oa]s?)\b", re.I),
}
MIN_EASE = 60.0  # Fernández-Huerta below this ("somewhat difficult") is flagged for rewriting
_FIELD_SHAPE = ("id", "type", "lines", "rows", "other", "mark", "cells", "min", "max", "start_hour", "end_hour")
_FIELD_LISTS = ("items", "columns", "row_labels", "steps")
_READERS: dict[str, textstatistics] = {}
# A difference found by twin_problems: (English message template, its params), as a Problem takes them.
Difference = tuple[str, tuple[tuple[str, Any], ...]]
_DIFFERS = N_("%(name)s: %(twin)s, the English has %(english)s")


def _reader(language: str) -> textstatistics:
    """A textstat instance for one language (its own, so English readings elsewhere are unaffected)."""
    if language not in _READERS:
        reader = textstatistics()
        reader.set_lang(language)
        _READERS[language] = reader
    return _READERS[language]


def reading_ease(sentences: Iterable[str], language: str = "es") -> tuple[float, float]:
    """(Fernández-Huerta, Szigriszt-Pazos) of a text, each item read as its own sentence (0-100, higher is easier)."""
    text = " ".join(s if s[-1] in ".?!:" else s + "." for s in sentences if s)
    if not text:
        return 0.0, 0.0
    reader = _reader(language)
    return float(reader.fernandez_huerta(text)), float(reader.szigriszt_pazos(text))


def _differs(name: str, twin: Any, english: Any) -> Difference:
    return _DIFFERS, (("name", name), ("twin", twin), ("english", english))


def _shape_problems(where: str, en: Field, twin: Field) -> list[Difference]:
    out = [_differs(f"{where}.{name}", repr(getattr(twin, name)), repr(getattr(en, name)))
           for name in _FIELD_SHAPE if getattr(en, name) != getattr(twin, name)]
    out += [(N_("%(name)s: %(twin)s entries, the English has %(english)s"),
             (("name", f"{where}.{name}"), ("twin", len(getattr(twin, name))), ("english", len(getattr(en, name)))))
            for name in _FIELD_LISTS if len(getattr(en, name)) != len(getattr(twin, name))]
    return out


def twin_problems(en: Module, twin: Module) -> list[Difference]:
    """How a module's twin differs in shape from the English (empty when they match): each a message
    template and its params."""
    out = []
    for name in ("code", "minutes", "retired"):
        if getattr(en, name) != getattr(twin, name):
            out.append(_differs(name, repr(getattr(twin, name)), repr(getattr(en, name))))
    for name in ("goals", "outline", "questions", "considerations", "worksheets"):
        if len(getattr(en, name)) != len(getattr(twin, name)):
            out.append(_differs(name, len(getattr(twin, name)), len(getattr(en, name))))
    if [s.minutes for s in en.outline] != [s.minutes for s in twin.outline]:
        out.append((N_("outline: the steps' minutes differ from the English"), ()))
    if bool(en.key_points.strip()) != bool(twin.key_points.strip()):
        out.append((N_("body: key points in one language only"), ()))
    for index, (sheet, other) in enumerate(zip(en.worksheets, twin.worksheets, strict=False)):
        where = f"worksheets[{index}]"
        if (sheet.code, sheet.pages) != (other.code, other.pages):
            out.append((N_("%(name)s: %(code)s on %(pages)s page(s), the English is %(english_code)s on %(english_pages)s"),
                        (("name", where), ("code", other.code), ("pages", other.pages), ("english_code", sheet.code),
                         ("english_pages", sheet.pages))))
        if len(sheet.fields) != len(other.fields):
            out.append(_differs(f"{where}.fields", len(other.fields), len(sheet.fields)))
        for f_index, (field, twin_field) in enumerate(zip(sheet.fields, other.fields, strict=False)):
            out += _shape_problems(f"{where}.fields[{f_index}]", field, twin_field)
    empty = [where for where, text in _texts(twin) if not text.strip()]
    out += [(N_("%(name)s: no text"), (("name", where),)) for where in empty if where != "body"]
    return out


def _texts(module: Module) -> list[tuple[str, str]]:
    out = [("title", module.title), ("body", module.key_points)]
    out += [(f"goals[{i}]", g) for i, g in enumerate(module.goals)]
    out += [(f"outline[{i}]", s.activity) for i, s in enumerate(module.outline)]
    out += [(f"questions[{i}]", q) for i, q in enumerate(module.questions)]
    out += [(f"considerations[{i}]", f"{c.when} {c.do}") for i, c in enumerate(module.considerations)]
    out += [(f"worksheets[{i}]", text) for i, sheet in enumerate(module.worksheets) for text in participant_text(sheet)]
    return out


def check_languages(curriculum: Curriculum) -> list[Problem]:
    """Every module has a twin in each of the curriculum's other languages, of the same shape, with
    person-first wording; twins that read hard are flagged as warnings."""
    problems: list[Problem] = []
    languages = [code for code, _ in curriculum.translations]
    names = {code for track in curriculum.tracks for code, _ in track.names}
    for language in languages:
        for track in curriculum.tracks:
            if language not in dict(track.names):
                problems.append(Problem("curriculum.yaml", N_("track %(track)s has no name in %(language)s"),
                                        None, f"translations.{language}.tracks",
                                        params=(("track", track.code), ("language", _name(language)))))
        for module in curriculum.modules():
            twin = dict(module.translations).get(language)
            file = module.source or module.code
            if twin is None:
                problems.append(Problem(file, N_("%(code)s has no %(language)s twin (%(file)s)"),
                                        params=(("code", module.code), ("language", _name(language)),
                                                ("file", _twin_file(file, language)))))
                continue
            twin_file = twin.source or _twin_file(file, language)
            if language in module.needs_review:
                problems.append(Problem(twin_file, N_("%(code)s changed after its %(language)s text was written: "
                                                      "review the %(language)s text (until then it prints as it is)"),
                                        None, "", "warning", (("code", module.code), ("language", _name(language)))))
                continue
            problems += [Problem(twin_file, message, params=params) for message, params in twin_problems(module, twin)]
            pattern = STIGMA.get(language)
            for where, text in _texts(twin):
                if pattern and (match := pattern.search(text)):
                    problems.append(Problem(twin_file, N_("use person-first wording instead of %(word)s"),
                                            None, where, params=(("word", repr(match.group(0))),)))
            for index, sheet in enumerate(twin.worksheets):
                ease, _ = reading_ease(participant_text(sheet), language)
                if ease < MIN_EASE:
                    problems.append(Problem(twin_file, N_("%(worksheet)s reads hard in %(language)s (Fernández-Huerta "
                                                          "%(ease)s, under %(limit)s): shorter words and sentences"),
                                            None, f"worksheets[{index}]", "warning",
                                            (("worksheet", sheet.code), ("language", _name(language)),
                                             ("ease", f"{ease:.0f}"), ("limit", f"{MIN_EASE:.0f}"))))
    for language in sorted(names - set(languages)):
        problems.append(Problem("curriculum.yaml", N_("track names in %(language)s but no translations.%(code)s"),
                                None, "translations", params=(("language", _name(language)), ("code", language))))
    return problems


def _name(language: str) -> str:
    return LANGUAGE_NAMES.get(language, language)


def _twin_file(file: str, language: str) -> str:
    return file[:-3] + f".{language}.md" if file.endswith(".md") else f"{file} ({language})"


@dataclass(frozen=True)
class LanguageReport:
    """One track in one language: worksheets and their reading ease (Spanish) as the validator prints them."""

    code: str
    language: str
    worksheets: int
    mean_ease: float
    min_ease: float
    mean_szigriszt: float


def language_report(curriculum: Curriculum) -> list[LanguageReport]:
    """Per track and other language: the twins' worksheets and their Fernández-Huerta and Szigriszt-Pazos scores."""
    rows = []
    for language, _ in curriculum.translations:
        for track in curriculum.tracks:
            scores = [reading_ease(participant_text(w), language)
                      for m in track.modules for w in m.in_language(language).worksheets]
            ease = [s[0] for s in scores]
            rows.append(LanguageReport(track.code, language, len(scores), round(mean(ease), 1) if ease else 0.0,
                                       round(min(ease), 1) if ease else 0.0,
                                       round(mean(s[1] for s in scores), 1) if scores else 0.0))
    return rows


def answers_between(source: Worksheet, target: Worksheet, answers: dict[str, Any]) -> dict[str, Any]:
    """Answers given on a worksheet in one language, as they read on its twin in another.

    Answers are stored by field id, and written answers stay as the person wrote them; only a
    checklist's checked items are words of the sheet, so they are carried over by their place on
    the list (twins have the same items in the same order). An item the source does not have (an
    answer kept from another version) is left as it was."""
    fields = {f.id: (f, t) for f, t in zip(source.fields, target.fields, strict=False) if f.id == t.id}
    out = dict(answers)
    for field_id, value in answers.items():
        pair = fields.get(field_id)
        if pair is None or pair[0].type != "checklist" or not isinstance(value, dict):
            continue
        places = {item: n for n, item in enumerate(pair[0].items)}
        checked = [pair[1].items[places[item]] if item in places and places[item] < len(pair[1].items) else item
                   for item in value.get("checked", [])]
        out[field_id] = {**value, "checked": checked} if "checked" in value else value
    return out
