"""Editing a draft's worksheets: adding and deleting them, the editor's typed field rows turned into
file-format fields (with a plain message per bad setting), saving, and the print preview of unsaved values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from ..domain import curriculum as dom
from ..domain.curriculum_files import field_to_dict
from ..extensions import db
from .drafts import (
    EditRefused,
    clean_text,
    clean_title,
    flag_translations_for_review,
    lines_of,
    require_draft,
    require_in_draft,
    whole,
)
from .models import CurriculumVersion, Module, Worksheet
from .services import field_from_dict


def add_worksheet(draft: CurriculumVersion, module: Module, user: Any, *, title: str) -> Worksheet:
    """A new worksheet for a module, coded after it ("RP 33A", then "RP 33B")."""
    require_draft(draft, user)
    require_in_draft(draft, module)
    problems: dict[str, str] = {}
    title = clean_title(title, "title", problems)
    if problems:
        raise EditRefused(problems)
    taken = set(db.session.scalars(select(Worksheet.code).where(Worksheet.version_id == draft.id)))
    letter = next((c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if f"{module.code}{c}" not in taken), None)
    if letter is None:
        raise EditRefused({"title": _("%(code)s already has 26 worksheets.", code=module.code)})
    sheet = Worksheet(version_id=draft.id, position=len(module.worksheets), code=f"{module.code}{letter}",
                      title=title, intro="", pages=1, language=draft.language, fields=[])
    module.worksheets.append(sheet)
    flag_translations_for_review(module)
    db.session.flush()
    return sheet


def delete_worksheet(draft: CurriculumVersion, sheet: Worksheet, user: Any) -> None:
    """Remove a worksheet from a draft's module."""
    require_draft(draft, user)
    require_in_draft(draft, sheet)
    module = sheet.module
    module.worksheets.remove(sheet)
    for position, other in enumerate(module.worksheets):
        other.position = position
    flag_translations_for_review(module)
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
            problems[key + "type"] = _("Choose a field type.")
            continue
        keep = TYPE_SETTINGS[row.type]
        ident = row.id.strip()
        if not ident:
            ident = _field_id(row.label, row.type, taken)
            taken.add(ident)
        elif not re.fullmatch(r"[a-z][a-z0-9_]{0,39}", ident):
            problems[key + "id"] = _("Use lower-case letters, digits and _ (up to 40), starting with a letter.")
        elif any(o.id.strip() == ident for o in rows[:i]):
            problems[key + "id"] = _("Another field of this worksheet is already named %(name)s.", name=ident)
        values: dict[str, Any] = {"id": ident, "type": row.type}
        label = " ".join(row.label.split())
        if "label" in keep:
            if len(label) > 200:
                problems[key + "label"] = _("Keep the label to 200 characters (it has %(count)s).", count=len(label))
            values["label"] = label
        if "text" in keep:
            values["text"] = clean_text(row.text)
        for name, low, high, what in (("lines", 1, 20, _("the number of lines")),
                                      ("rows", 0, 24, _("the number of rows")),
                                      ("min", -10, 100, _("the lowest number")), ("max", -10, 100, _("the highest number")),
                                      ("start_hour", 0, 23, _("the first hour")), ("end_hour", 1, 24, _("the last hour"))):
            if name in keep:
                raw = getattr(row, name).strip()
                values[name] = whole(raw, key + name, low, high, problems, what) if raw else 0
        too_many = {"items": _("Keep to %(most)s items (there are %(count)s)."),
                    "columns": _("Keep to %(most)s columns (there are %(count)s)."),
                    "row_labels": _("Keep to %(most)s row labels (there are %(count)s)."),
                    "steps": _("Keep to %(most)s steps (there are %(count)s).")}
        for name, most in (("items", 30), ("columns", 8), ("row_labels", 24), ("steps", 6)):
            if name in keep:
                values[name] = tuple(lines_of(getattr(row, name)))
                if len(values[name]) > most:
                    problems[key + name] = too_many[name] % {"most": most, "count": len(values[name])}
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
            problems[key + "max"] = _("The highest number must be above the lowest.")
        if row.type == "schedule" and isinstance(values.get("start_hour"), int) \
                and isinstance(values.get("end_hour"), int) and values["start_hour"] >= values["end_hour"]:
            problems[key + "end_hour"] = _("The last hour must be after the first.")
        if not problems:
            out.append(field_to_dict(dom.Field(**values)))
    return out, problems


def field_action(rows: list[FieldInput], action: str) -> list[FieldInput]:
    """Apply an editor button to the rows: "add:<type>", "up:<i>", "down:<i>" or "remove:<i>"."""
    verb, _sep, arg = action.partition(":")
    rows = list(rows)
    if verb == "add":
        if arg not in TYPE_SETTINGS:
            raise EditRefused({"new_type": _("Choose the type of the new field.")})
        if len(rows) >= 40:
            raise EditRefused({"new_type": _("A worksheet holds at most 40 fields.")})
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
    require_draft(draft, user)
    require_in_draft(draft, sheet)
    problems: dict[str, str] = {}
    title = clean_title(title, "title", problems)
    pages = whole(pages, "pages", 1, 4, problems, _("the number of pages"))
    fields, field_problems = build_fields(rows)
    problems.update(field_problems)
    if problems:
        raise EditRefused(problems)
    sheet.title, sheet.intro, sheet.pages, sheet.fields = title, clean_text(intro), pages, fields
    flag_translations_for_review(sheet.module)
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
