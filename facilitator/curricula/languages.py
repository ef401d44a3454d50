"""A stored module's words in its other languages (Module.translations, Worksheet.translations): as
they are stored from a curriculum's twin files, and the twin built back from them."""

from __future__ import annotations

from ..domain import curriculum as dom
from ..domain.curriculum_files import field_from_dict, field_to_dict
from .models import Module


def module_text(module: dom.Module) -> dict:
    """A module's words as stored for a language (Module.translations): what a twin file holds but the shape."""
    return {"title": module.title, "goals": list(module.goals), "outline": [s.activity for s in module.outline],
            "key_points": module.key_points, "questions": list(module.questions),
            "considerations": [{"when": c.when, "do": c.do} for c in module.considerations]}


def worksheet_text(sheet: dom.Worksheet) -> dict:
    """A worksheet's words as stored for a language (Worksheet.translations)."""
    return {"title": sheet.title, "intro": sheet.intro, "fields": [field_to_dict(f) for f in sheet.fields]}


def stored_twin(m: Module, language: str, text: dict) -> dom.Module:
    """The stored module's twin in a language: the English shape (minutes, codes) with the stored words
    (a twin awaiting review after an edit of the English may no longer match it: the words as stored)."""
    if len(text["outline"]) != len(m.outline):
        text = {**text, "outline": (text["outline"] + [""] * len(m.outline))[:len(m.outline)]}
    return dom.Module(
        code=m.code, title=text["title"], minutes=m.minutes, goals=tuple(text["goals"]),
        outline=tuple(dom.OutlineStep(minutes=s["minutes"], activity=activity)
                      for s, activity in zip(m.outline, text["outline"], strict=True)),
        key_points=text["key_points"], questions=tuple(text["questions"]),
        considerations=tuple(dom.Consideration(**c) for c in text["considerations"]), retired=m.retired,
        source=m.source_file[:-3] + f".{language}.md" if m.source_file.endswith(".md") else m.source_file,
        worksheets=tuple(
            dom.Worksheet(code=w.code, title=w.translations[language]["title"], intro=w.translations[language]["intro"],
                          pages=w.pages, language=language,
                          fields=tuple(field_from_dict(f) for f in w.translations[language]["fields"]))
            for w in m.worksheets if language in (w.translations or {})))
