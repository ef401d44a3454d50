"""A worksheet answer in words, for the records download: each field's answer as the participant would read
it back (checked items, a rating out of its range, a table row by row), whatever shape the form stored."""

from __future__ import annotations

from typing import Any

from ..clinical.forms import WorksheetForm
from ..domain.curriculum import Field, Worksheet
from ..domain.curriculum_files import field_from_dict


def plain(value: Any) -> str:
    """Any stored value as text (the fallback for a shape this module does not know)."""
    if value is None or value == "" or value == [] or value == {}:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, dict):
        return "; ".join(f"{key}: {text}" for key, item in value.items() if (text := plain(item)))
    if isinstance(value, list | tuple):
        return "; ".join(text for item in value if (text := plain(item)))
    return str(value).strip()


def _grid(form: WorksheetForm, f: Field, value: dict) -> str:
    """A table, schedule or calendar: each row that has an answer, "row: column answer, column answer"."""
    grid = form.grid(f)
    headers = [text for _, text, _ in grid.headers[1:]]
    rows = []
    for _, label, cells in grid.rows:
        parts = []
        for header, cell in zip(headers, cells, strict=False):
            given = value.get(cell.key)
            if given is True:
                parts.append(f"{header} ✓")
            elif given:
                parts.append(f"{header}: {given}")
        if parts:
            rows.append(f"{label}: " + ", ".join(parts))
    return "\n".join(rows)


def field_answer(form: WorksheetForm, f: Field, value: Any) -> str:
    """One field's answer in words ("" when it has none)."""
    if value is None or value == "" or value == {} or value == []:
        return ""
    try:
        if f.type == "checklist" and isinstance(value, dict):
            words = list(value.get("checked", []))
            if value.get("other"):
                words.append(f"Other: {value['other']}")
            return "; ".join(words)
        if f.type == "scale" and isinstance(value, int):
            return f"{value} (on a scale from {f.min} to {f.max})"
        if f.type == "signature" and isinstance(value, dict):
            return ", ".join(part for part in (value.get("name", ""), value.get("date", "")) if part)
        if f.type == "sequence" and isinstance(value, dict):
            return "\n".join(f"{step}: {value[f's{n}']}" for n, step in enumerate(f.steps, start=1)
                             if value.get(f"s{n}"))
        if f.type in ("table", "schedule", "calendar") and isinstance(value, dict):
            return _grid(form, f, value)
    except (KeyError, TypeError, ValueError):
        pass  # an answer stored in an older shape: shown as stored
    return plain(value)


def answered_fields(fields: list[dict[str, Any]] | tuple[Field, ...], answers: dict[str, Any] | None
                    ) -> list[dict[str, str]]:
    """Each fillable field of a worksheet with its question and the answer in words."""
    parsed = tuple(f if isinstance(f, Field) else field_from_dict(f) for f in fields or ())
    form = WorksheetForm(Worksheet(code="", title="", fields=parsed), answers or {})
    given = answers or {}
    return [{"field": f.id, "question": f.label or f.text[:120], "answer": field_answer(form, f, given.get(f.id))}
            for f in parsed if f.type != "note"]
