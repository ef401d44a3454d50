"""Forms of the group screens: the group settings with its weekly pattern, cancellations, holidays.

Fields that hold dates, times and numbers are text fields parsed here, so that a wrong value gets
a plain message ("Enter the date as YYYY-MM-DD") instead of WTForms' generic one. Business rules
(ranges, tracks, duplicates) are checked by the services; their messages come back keyed by field.
"""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, FieldList, FormField, SelectChoice, SelectField, StringField, SubmitField
from wtforms.validators import Length

from ..domain import curriculum as dom
from ..domain.curriculum import WEEKDAYS
from ..web.forms import AppForm, RowForm
from .editing import GroupSettings
from .services import rotating_tracks


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as select options."""
    return [SelectChoice(str(value), label) for value, label in pairs]


DAY_CHOICES = choices([("", _l("Choose a day")), *zip(WEEKDAYS, (_l("Monday"), _l("Tuesday"), _l("Wednesday"), _l("Thursday"),
                                                                 _l("Friday"), _l("Saturday"), _l("Sunday")), strict=True)])
MODE_CHOICES = choices([("open", _l("Open (rolling admission)")), ("cohort", _l("Cohort (everyone starts together)"))])
POLICY_CHOICES = choices([("postpone", _l("Postpone its module")), ("skip", _l("Skip its module"))])
BLANK_ROWS = 2  # empty pattern rows offered at the end of the form


def parse_date(raw: str | None) -> date | None:
    """A date typed as YYYY-MM-DD (what date inputs send) or MM/DD/YYYY; None if unreadable."""
    text = (raw or "").strip()
    for fmt in ("%Y-%m-%d", "%m/%d/%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def parse_time(raw: str | None) -> str | None:
    """A time typed as 18:30 (what time inputs send) or 6:30 PM, as "HH:MM"; None if unreadable."""
    text = (raw or "").strip().upper().replace(".", "")
    for fmt in ("%H:%M", "%H:%M:%S", "%I:%M %p", "%I:%M%p", "%I %p"):
        try:
            return datetime.strptime(text, fmt).strftime("%H:%M")
        except ValueError:
            continue
    return None


class SlotForm(RowForm):
    """One row of the weekly pattern (the outer form carries the CSRF token)."""

    weekday = SelectField(_l("Day"), choices=DAY_CHOICES, validate_choice=False)
    time = StringField(_l("Starts at"), render_kw={"type": "time"})
    track = SelectField(_l("Track"), choices=[], validate_choice=False)
    minutes = StringField(_l("Minutes"), render_kw={"inputmode": "numeric"})
    remove = BooleanField(_l("Remove this meeting"))

    def is_blank(self) -> bool:
        """Nothing typed in the row: it is ignored."""
        return not any((self.weekday.data or "", (self.time.data or "").strip(), self.track.data or "",
                        (self.minutes.data or "").strip()))


class GroupForm(AppForm):
    """A group's settings and weekly pattern; starting-module fields are added per version (group_form)."""

    name = StringField(_l("Name"), validators=[Length(max=80, message=_l("Keep the name under 80 characters."))])
    version = SelectField(_l("Curriculum version"), choices=[], validate_choice=False)
    mode = SelectField(_l("Mode"), choices=MODE_CHOICES, validate_choice=False)
    start_date = StringField(_l("Start date"), render_kw={"type": "date"})
    cancellation_policy = SelectField(_l("When a meeting is cancelled"), choices=POLICY_CHOICES, validate_choice=False)
    facilitator = SelectField(_l("Facilitator"), choices=[], validate_choice=False)
    slots = FieldList(FormField(SlotForm), min_entries=1)
    add_row = SubmitField(_l("Add another meeting"))
    preview = SubmitField(_l("Preview"))
    save = SubmitField(_l("Save"))

    pattern_errors: list[str]
    start_fields: list[tuple[str, str]]  # (field name, track code) of the starting-module fields

    def start_field(self, track: str):
        """The starting-module field of a track."""
        return self[f"start_{track}"]

    def add_blank_rows(self) -> None:
        """Offer a couple of empty rows after the filled ones."""
        blanks = sum(1 for row in self.slots if row.form.is_blank())
        for _row in range(max(0, BLANK_ROWS - blanks)):
            self.slots.append_entry()

    def read(self, structure: dom.Curriculum) -> tuple[GroupSettings | None, dict[str, str], list[int]]:
        """The settings typed in, the problems of shape (keyed by field name), and the form row of each slot."""
        problems: dict[str, str] = {}
        slots, rows = [], []
        for index, row in enumerate(self.slots):
            sub = row.form
            if sub.remove.data or sub.is_blank():
                continue
            prefix = f"slots-{index}-"
            at = parse_time(sub.time.data)
            minutes = (sub.minutes.data or "").strip()
            if sub.weekday.data not in WEEKDAYS:
                problems[prefix + "weekday"] = _("Choose a day.")
            if at is None:
                problems[prefix + "time"] = _("Enter a time like 18:30.")
            if not sub.track.data:
                problems[prefix + "track"] = _("Choose a track.")
            if not minutes.lstrip("-").isdigit():
                problems[prefix + "minutes"] = _("Enter the minutes as a whole number, for example 90.")
            if not any(key.startswith(prefix) for key in problems):
                slots.append(dom.PatternSlot(sub.weekday.data, at, sub.track.data, int(minutes)))
                rows.append(index)
        start = parse_date(self.start_date.data)
        if start is None:
            problems["start_date"] = _("Enter the date as YYYY-MM-DD, for example 2027-01-04.")
        raw_version = self.version.data or ""
        if not raw_version.isdigit():
            problems["version"] = _("Choose a curriculum version.")
        raw_facilitator = self.facilitator.data or ""
        if raw_facilitator and not raw_facilitator.isdigit():
            problems["facilitator"] = _("Choose a director or facilitator of this program.")
        if problems:
            return None, problems, rows
        starts = tuple((track, self[name].data) for name, track in self.start_fields if self[name].data)
        settings = GroupSettings(
            name=self.name.data or "", version_id=int(raw_version), mode=self.mode.data or "",
            start_date=start, cancellation_policy=self.cancellation_policy.data or "",
            facilitator_id=int(raw_facilitator) if raw_facilitator else None, slots=tuple(slots),
            start_modules=starts)
        return settings, {}, rows

    def show_problems(self, problems: dict[str, str]) -> None:
        """Put each problem next to its field ("slots-3-minutes" is row 3 of the form)."""
        for key, message in problems.items():
            if key.startswith("slots-"):
                _part, index, name = key.split("-", 2)
                field = self.slots[int(index)].form[name]
                field.errors = [*field.errors, message]
            elif key != "slots" and key in self:
                self[key].errors = [*self[key].errors, message]
            else:
                self.pattern_errors.append(message)


def rows_of(problems: dict[str, str], rows: list[int]) -> dict[str, str]:
    """Service problems name slots by their place in the settings; the form names them by row."""
    out = {}
    for key, message in problems.items():
        if key.startswith("slots-"):
            _part, index, name = key.split("-", 2)
            key = f"slots-{rows[int(index)]}-{name}"
        out[key] = message
    return out


def group_form(structure: dom.Curriculum, titles: dict[str, str] | None = None, **kwargs) -> GroupForm:
    """A GroupForm with one starting-module choice per rotating track of the version (module titles as
    given, else the curriculum's)."""
    attrs = {}
    fields = []
    titles = titles or {}
    for track in rotating_tracks(structure):
        options = choices((m.code, f"{m.code} {titles.get(m.code, m.title)}") for m in track.modules if not m.retired)
        attrs[f"start_{track.code}"] = SelectField(_("%(track)s (%(code)s) starts at", track=track.name, code=track.code), choices=options,
                                                   validate_choice=False)
        fields.append((f"start_{track.code}", track.code))
    form_class = type("GroupFormForVersion", (GroupForm,), attrs)
    form = form_class(**kwargs)
    form.start_fields = fields
    form.pattern_errors = []
    return form


class CancellationForm(AppForm):
    """Cancel one group's meetings on a day: every track or one."""

    date = StringField(_l("Date"), render_kw={"type": "date"})
    track = SelectField(_l("Which meetings"), choices=[], validate_choice=False)
    reason = StringField(_l("Reason"), validators=[Length(max=200, message=_l("Keep the reason under 200 characters."))])
    show_effect = SubmitField(_l("Show the effect"))
    cancel_meetings = SubmitField(_l("Cancel these meetings"))


class HolidayForm(AppForm):
    """Close the whole program on a day."""

    date = StringField(_l("Date"), render_kw={"type": "date"})
    name = StringField(_l("Holiday"), validators=[Length(max=80, message=_l("Keep the name under 80 characters."))])
    show_effect = SubmitField(_l("Show the effect"))
    add_holiday = SubmitField(_l("Add holiday"))


class RemoveForm(AppForm):
    """A confirmed removal (a POST with a CSRF token)."""

    remove = SubmitField(_l("Remove"))
