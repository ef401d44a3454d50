"""Forms of the planning screens: the weekly-pattern editor and the what-if simulator.

Times, minutes and dates are text fields parsed here, so that a wrong value gets a plain message
next to it ("Enter the minutes as a whole number") instead of WTForms' generic one. Ranges, tracks,
windows and counts are business rules: the services check them and their messages come back keyed
by field name.
"""

from __future__ import annotations

import re
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import FieldList, FormField, SelectChoice, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import Length

from ..domain import curriculum as dom
from ..domain.curriculum import WEEKDAYS
from ..groups.forms import parse_date, parse_time
from ..web.forms import AppForm, RowForm
from ..web.i18n import curriculum_text
from .services import DAY_NAMES, MAX_SLOTS, Admission

DAY_CHOICES = [SelectChoice("", _l("Choose a day")),
               *(SelectChoice(code, name) for code, name in zip(WEEKDAYS, DAY_NAMES, strict=True))]
DATE_HINT = _l("Write dates as YYYY-MM-DD, for example 2027-01-04.")
MAX_ROWS = MAX_SLOTS + 5  # a few blank rows beyond the most meetings a pattern may have
MAX_TEXT = 20_000  # characters in a list field: 200 admissions with a few absences each fit easily


class SlotRow(RowForm):
    """One meeting of the weekly pattern (the outer form carries the CSRF token)."""

    weekday = SelectField(_l("Day"), choices=DAY_CHOICES, validate_choice=False)
    time = StringField(_l("Starts at"), render_kw={"type": "time"})
    track = SelectField(_l("Track"), choices=[], validate_choice=False)
    minutes = StringField(_l("Minutes"), render_kw={"inputmode": "numeric"})
    remove = SubmitField(_l("Remove"))

    def is_blank(self) -> bool:
        """Nothing typed in the row: it is ignored."""
        return not any((self.weekday.data or "", (self.time.data or "").strip(), self.track.data or "",
                        (self.minutes.data or "").strip()))


class PatternRows:
    """The repeatable meeting rows, shared by both planning forms."""

    slots: FieldList
    pattern_errors: list[str]

    def fill(self, slots: tuple[dom.PatternSlot, ...]) -> None:
        """Replace the rows with a pattern's meetings."""
        while self.slots.entries:
            self.slots.pop_entry()
        for slot in slots:
            self.slots.append_entry({"weekday": slot.weekday, "time": slot.time, "track": slot.track,
                                     "minutes": str(slot.minutes)})

    def set_tracks(self, tracks: list[dom.Track]) -> None:
        """Offer the tracks of the chosen curriculum version in every row."""
        choices = [SelectChoice("", _("Choose a track")),
                   *(SelectChoice(t.code, f"{t.code} {curriculum_text(t.name)}") for t in tracks)]
        for row in self.slots:
            row.form.track.choices = choices

    def add_blank_row(self) -> None:
        """One more empty row at the end (unless the form already holds as many as it can)."""
        if len(self.slots.entries) >= MAX_ROWS:
            self.pattern_errors.append(_("A weekly pattern can have at most %(most)s meetings.", most=MAX_SLOTS))
            return
        self.slots.append_entry()

    def drop_removed(self) -> bool:
        """Drop the row whose Remove button was pressed; True if there was one."""
        for entry in list(self.slots.entries):
            if entry.form.remove.data:
                self.slots.entries.remove(entry)
                return True
        return False

    def read_slots(self) -> tuple[tuple[dom.PatternSlot, ...], list, dict[str, str]]:
        """The meetings typed in, the row of each, and the problems of shape keyed by field name."""
        problems: dict[str, str] = {}
        slots, rows = [], []
        for row in self.slots:
            sub = row.form
            if sub.is_blank():
                continue
            at = parse_time(sub.time.data)
            minutes = (sub.minutes.data or "").strip()
            before = len(problems)
            if sub.weekday.data not in WEEKDAYS:
                problems[sub.weekday.name] = _("Choose a day.")
            if at is None:
                problems[sub.time.name] = _("Enter a time like 18:30.")
            if not sub.track.data:
                problems[sub.track.name] = _("Choose a track.")
            if not re.fullmatch(r"-?\d{1,6}", minutes):
                problems[sub.minutes.name] = _("Enter the minutes as a whole number, for example 90.")
            if len(problems) == before:
                slots.append(dom.PatternSlot(sub.weekday.data, at, sub.track.data, int(minutes)))  # type: ignore[arg-type]
                rows.append(row)
        return tuple(slots), rows, problems

    def has_problems(self) -> bool:
        """True if any field or the pattern as a whole has a message (Form.errors may be cached)."""
        rows = (sub for row in self.slots for sub in row.form)
        tops = (f for f in self if f.type != "FieldList")  # type: ignore[attr-defined]
        return bool(self.pattern_errors) or any(f.errors for f in (*tops, *rows))

    def show_problems(self, problems: dict[str, str], rows: list | None = None) -> None:
        """Put each problem next to its field; service keys "slots-2-minutes" name the third meeting read."""
        for key, message in problems.items():
            field = None
            match = re.fullmatch(r"slots-(\d+)-(\w+)", key)
            if match and rows is not None and int(match.group(1)) < len(rows):
                field = rows[int(match.group(1))].form[match.group(2)]
            elif key in self:  # type: ignore[operator]
                field = self[key]  # type: ignore[index]
            else:
                field = next((sub for row in self.slots for sub in row.form if sub.name == key), None)
            if field is None or key == "slots":
                self.pattern_errors.append(message)
            else:
                field.errors = [*field.errors, message]


class PatternForm(AppForm, PatternRows):
    """The weekly-pattern editor: where to start from, and the meetings."""

    source = SelectField(_l("Start from"), choices=[], validate_choice=False)
    slots = FieldList(FormField(SlotRow), min_entries=0, max_entries=MAX_ROWS)
    load = SubmitField(_l("Load this pattern"))
    add_row = SubmitField(_l("Add a meeting"))
    show = SubmitField(_l("Show what it implies"))
    to_what_if = SubmitField(_l("Compare in the what-if simulator"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.pattern_errors = []


class WhatIfForm(AppForm, PatternRows):
    """The what-if simulator: scenario A (a source), scenario B (edited meetings), days and admissions."""

    source = SelectField(_l("Pattern A"), choices=[], validate_choice=False)
    slots = FieldList(FormField(SlotRow), min_entries=0, max_entries=MAX_ROWS)
    start = StringField(_l("First day simulated"), render_kw={"type": "date"})
    until = StringField(_l("Last day simulated"), render_kw={"type": "date"})
    holidays = TextAreaField(_l("Holidays"), validators=[Length(max=MAX_TEXT, message=_l("This list is too long."))],
                             render_kw={"rows": 4})
    admissions = TextAreaField(_l("Admissions"), validators=[Length(max=MAX_TEXT, message=_l("This list is too long."))],
                               render_kw={"rows": 6})
    load = SubmitField(_l("Copy scenario A into B"))
    add_row = SubmitField(_l("Add a meeting"))
    run = SubmitField(_l("Compare A and B"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.pattern_errors = []

    def read_days(self) -> tuple[date | None, date | None, dict[str, str]]:
        """The first and last day simulated, and the problems of shape."""
        problems = {}
        start, until = parse_date(self.start.data), parse_date(self.until.data)
        if start is None:
            problems["start"] = _("Enter the first day.") + " " + str(DATE_HINT)
        if until is None:
            problems["until"] = _("Enter the last day.") + " " + str(DATE_HINT)
        return start, until, problems

    def read_holidays(self) -> tuple[tuple[date, ...], dict[str, str]]:
        """One holiday per line: a date, then a name if you like; duplicates are refused."""
        days: list[date] = []
        messages = []
        seen: dict[date, int] = {}
        for number, line in _lines(self.holidays.data):
            token = line.split()[0].rstrip(",;")
            day = parse_date(token)
            if day is None:
                messages.append(_("Line %(line)s: '%(text)s' is not a date.", line=number, text=token[:20]))
            elif day in seen:
                messages.append(_("Line %(line)s: %(day)s is already on line %(other)s.", line=number,
                                  day=f"{day:%Y-%m-%d}", other=seen[day]))
            else:
                seen[day] = number
                days.append(day)
        if messages:
            return (), {"holidays": _join(messages) + " " + str(DATE_HINT)}
        return tuple(days), {}

    def read_admissions(self) -> tuple[tuple[Admission, ...], dict[str, str]]:
        """One admission per line: the admission date, then any absence dates ("absent" is optional)."""
        out = []
        messages = []
        for number, line in _lines(self.admissions.data):
            tokens = [t for t in re.split(r"[\s,;]+", line) if t and not re.fullmatch(r"(?i)absen(t|ces?):?", t)]
            days = [parse_date(t) for t in tokens]
            bad = [t for t, d in zip(tokens, days, strict=True) if d is None]
            if not tokens:
                messages.append(_("Line %(line)s: start the line with the admission date.", line=number))
            elif bad:
                messages.append(_("Line %(line)s: '%(text)s' is not a date.", line=number, text=bad[0][:20]))
            else:
                out.append(Admission(days[0], tuple(days[1:]), number))  # type: ignore[arg-type]
        if messages:
            return (), {"admissions": _join(messages) + " " + str(DATE_HINT)}
        return tuple(out), {}


def _lines(text: str | None) -> list[tuple[int, str]]:
    """The non-empty lines of a text field, numbered from 1 as a person counts them."""
    return [(n, line.strip()) for n, line in enumerate((text or "").splitlines(), start=1) if line.strip()]


def _join(messages: list[str]) -> str:
    more = (" " + _("(%(count)s more lines need fixing.)", count=len(messages) - 3)) if len(messages) > 3 else ""
    return " ".join(messages[:3]) + more


def holidays_text(holidays: list[tuple[date, str]]) -> str:
    """The holidays field's text: one "YYYY-MM-DD Name" per line."""
    return "\n".join(f"{day:%Y-%m-%d} {name}".strip() for day, name in holidays)


def admissions_text(admissions: list[date]) -> str:
    """The admissions field's text: one date per line."""
    return "\n".join(f"{day:%Y-%m-%d}" for day in admissions)
