"""Forms of the curricula screens. Numbers are text fields parsed by the draft services (drafts, editing,
worksheets), so a wrong value gets a plain message ("Enter the minutes from 5 to 480") next to its field;
the rules live there.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, FieldList, FormField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import Length

from ..domain.curriculum import FIELD_TYPES
from ..web.forms import AppForm, RowForm
from .editing import ModuleInput
from .models import Module, Worksheet
from .worksheets import TYPE_SETTINGS, FieldInput

FIELD_TYPE_NAMES = {
    "note": _l("Note (instructions, nothing to fill in)"), "text": _l("Text (one answer line)"),
    "lines": _l("Lines (several answer lines)"), "date": _l("Date"), "checklist": _l("Checklist"), "table": _l("Table"),
    "scale": _l("Scale (rate a number)"), "calendar": _l("Calendar (a month)"),
    "schedule": _l("Schedule (hour by hour)"), "sequence": _l("Sequence (boxes joined by arrows)"),
    "signature": _l("Signature and date"),
}
TYPE_CHOICES = [SelectChoice(t, FIELD_TYPE_NAMES[t]) for t in FIELD_TYPES]
BLANK_OUTLINE_ROWS = 2  # empty rows offered to add steps...
BLANK_CONSIDERATION_ROWS = 1
MIN_CONSIDERATIONS = 2  # ...and at least as many rows as the file format asks for
NUMBER = {"inputmode": "numeric", "autocomplete": "off"}


def options(pairs) -> list[SelectChoice]:
    """(value, label) pairs as select options."""
    return [SelectChoice(str(value), label) for value, label in pairs]


class ButtonForm(AppForm):
    """A form that is only a button (publish, retire, discard): it carries the CSRF token."""


class ForkForm(AppForm):
    """Fork a published version into a new curriculum of the program."""

    title = StringField(_l("Title of the new curriculum"), validators=[Length(max=400)])


class SettingsForm(AppForm):
    """A draft's title, version label and description."""

    title = StringField(_l("Title"), validators=[Length(max=400)])
    label = StringField(_l("Version label"), validators=[Length(max=200)])
    description = TextAreaField(_l("Description"), render_kw={"rows": 3})


class TrackForm(AppForm):
    """A track's settings."""

    minutes = StringField(_l("Usual minutes of a module"), render_kw=NUMBER)
    required = BooleanField(_l("Required for completion"))
    first_week = StringField(_l("First program week"), render_kw=NUMBER)
    last_week = StringField(_l("Planned last week (optional)"), render_kw=NUMBER)


class MoveBeforeForm(AppForm):
    """Move one module of a track right before another."""

    module = SelectField(_l("Move"), choices=[], validate_choice=False)
    before = SelectField(_l("before"), choices=[], validate_choice=False)


class NewModuleForm(AppForm):
    """A local module added at the end of a track."""

    title = StringField(_l("Title of the new module"), validators=[Length(max=400)])
    minutes = StringField(_l("Minutes"), render_kw=NUMBER)


class OutlineStepForm(RowForm):
    """One timed step of the guide's outline (the outer form carries the CSRF token)."""

    minutes = StringField(_l("Minutes"), render_kw=NUMBER)
    activity = TextAreaField(_l("What happens"), render_kw={"rows": 3})


class ConsiderationForm(RowForm):
    """A situation a facilitator may meet and what to do."""

    when = TextAreaField(_l("If this happens"), render_kw={"rows": 2})
    do = TextAreaField(_l("What to do"), render_kw={"rows": 2})


class ModuleForm(AppForm):
    """A module's title, minutes and facilitator guide."""

    title = StringField(_l("Title"), validators=[Length(max=400)])
    minutes = StringField(_l("Minutes"), render_kw=NUMBER)
    goals = TextAreaField(_l("Goals, one per line"), render_kw={"rows": 5})
    outline = FieldList(FormField(OutlineStepForm))
    key_points = TextAreaField(_l("Key points (Markdown)"), render_kw={"rows": 12})
    questions = TextAreaField(_l("Discussion questions, one per line"), render_kw={"rows": 6})
    considerations = FieldList(FormField(ConsiderationForm))

    def to_input(self) -> ModuleInput:
        """The typed values, blank outline and consideration rows left out."""
        return ModuleInput(
            title=self.title.data or "", minutes=self.minutes.data or "",
            goals=_lines(self.goals.data), key_points=self.key_points.data or "", questions=_lines(self.questions.data),
            outline=[(r.minutes.data or "", r.activity.data or "") for r in self.outline
                     if (r.minutes.data or "").strip() or (r.activity.data or "").strip()],
            considerations=[(r.when.data or "", r.do.data or "") for r in self.considerations
                            if (r.when.data or "").strip() or (r.do.data or "").strip()])


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").replace("\r", "").split("\n") if line.strip()]


def module_form(module: Module, formdata: Any = None) -> ModuleForm:
    """The module form filled from the stored module (or from a post), with blank rows to add steps."""
    if formdata is not None:
        return ModuleForm(formdata=formdata)
    form = ModuleForm(formdata=None, data={
        "title": module.title, "minutes": str(module.minutes), "goals": "\n".join(module.goals),
        "key_points": module.key_points, "questions": "\n".join(module.questions),
        "outline": [{"minutes": str(s["minutes"]), "activity": s["activity"]} for s in module.outline]
        + [{}] * BLANK_OUTLINE_ROWS,
        "considerations": [dict(c) for c in module.considerations]
        + [{}] * max(BLANK_CONSIDERATION_ROWS, MIN_CONSIDERATIONS - len(module.considerations)),
    })
    return form


class NewWorksheetForm(AppForm):
    """A worksheet added to a module."""

    title = StringField(_l("Title of the new worksheet"), validators=[Length(max=400)])


class FieldRowForm(RowForm):
    """One field of a worksheet: its type, label and the settings of that type (no JSON)."""

    type = SelectField(_l("Type"), choices=TYPE_CHOICES, validate_choice=False, render_kw={"class": "cu-type"})
    label = StringField(_l("Label (what a screen reader announces)"))
    id = StringField(_l("Form-field name"), render_kw={"autocomplete": "off", "spellcheck": "false"})
    text = TextAreaField(_l("Text or help printed with it"), render_kw={"rows": 2})
    lines = StringField(_l("Answer lines"), render_kw=NUMBER)
    items = TextAreaField(_l("Items, one per line"), render_kw={"rows": 4})
    other = BooleanField(_l("End with an \u201cOther:\u201d blank"))
    mark = SelectField(_l("Mark"), choices=options([("check", _l("A check mark")), ("initials", _l("Initials"))]), validate_choice=False)
    columns = TextAreaField(_l("Column headers, one per line"), render_kw={"rows": 4})
    rows = StringField(_l("Blank rows"), render_kw=NUMBER)
    row_labels = TextAreaField(_l("Row labels, one per line (instead of blank rows)"), render_kw={"rows": 3})
    row_header = StringField(_l("Header over the row labels"))
    cells = SelectField(_l("Cells"), choices=options([("text", _l("Write in")), ("check", _l("Check boxes"))]), validate_choice=False)
    min = StringField(_l("Lowest number"), render_kw=NUMBER)
    max = StringField(_l("Highest number"), render_kw=NUMBER)
    low_label = StringField(_l("Words at the low end"))
    high_label = StringField(_l("Words at the high end"))
    start_hour = StringField(_l("First hour (0-23)"), render_kw=NUMBER)
    end_hour = StringField(_l("Last hour (1-24)"), render_kw=NUMBER)
    steps = TextAreaField(_l("Steps, one per line"), render_kw={"rows": 4})


# Which editor settings show for which field types (the others are hidden, and dropped on save).
SETTING_TYPES = {name: tuple(t for t, keep in TYPE_SETTINGS.items() if name in keep)
                 for name in ("label", "text", "lines", "items", "other", "mark", "columns", "rows", "row_labels",
                              "row_header", "cells", "min", "max", "low_label", "high_label", "start_hour",
                              "end_hour", "steps")}


class WorksheetForm(AppForm):
    """A worksheet's title, introduction, pages and field rows."""

    title = StringField(_l("Title"), validators=[Length(max=400)])
    intro = TextAreaField(_l("Introduction"), render_kw={"rows": 3})
    pages = StringField(_l("Pages (1-4)"), render_kw=NUMBER)
    fields = FieldList(FormField(FieldRowForm))
    new_type = SelectField(_l("Type of the new field"), choices=TYPE_CHOICES, validate_choice=False)

    def rows(self) -> list[FieldInput]:
        """The field rows as typed."""
        return [FieldInput(**{name: (row.form[name].data if name == "other" else (row.form[name].data or ""))
                              for name in FieldInput.__dataclass_fields__}) for row in self.fields]


def worksheet_form(sheet: Worksheet, rows: list[FieldInput] | None = None, formdata: Any = None) -> WorksheetForm:
    """The worksheet form from the stored sheet, from a post, or from rows an editor button changed."""
    if formdata is not None and rows is None:
        return WorksheetForm(formdata=formdata)
    if rows is None:
        rows = [FieldInput.from_stored(f) for f in sheet.fields]
        head = {"title": sheet.title, "intro": sheet.intro, "pages": str(sheet.pages)}
    else:
        posted = WorksheetForm(formdata=formdata)
        head = {"title": posted.title.data, "intro": posted.intro.data, "pages": posted.pages.data}
    return WorksheetForm(formdata=None, data={**head, "fields": [vars(r) for r in rows]})


class ImportForm(AppForm):
    """Upload a curriculum in the file format, zipped."""

    file = FileField(_l("Curriculum zip file"), render_kw={"accept": ".zip,application/zip"})


class GroupVersionForm(AppForm):
    """Choose the published version a group moves to."""

    version = SelectField(_l("Move to"), choices=[], validate_choice=False)
