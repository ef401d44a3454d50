"""Forms of the clinical area: a test, a reported use or craving, and a worksheet answered on the web.

The worksheet form is built from the worksheet's structured fields (the same ones the printed
sheet uses), so any worksheet can be filled on the web: `WorksheetForm` names every control and
reads the answers back; templates/clinical/_worksheet_form.html draws the controls.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, RadioField, SelectChoice, SelectField, SelectMultipleField, SubmitField
from wtforms.validators import InputRequired
from wtforms.widgets import CheckboxInput, ListWidget

from ..domain.curriculum import WEEKDAYS, Field, Worksheet
from ..web.forms import ANSWER_MESSAGE, AppForm, has_control_character
from ..web.i18n import format_when
from .services import KIND_LABELS, RESULT_LABELS, SUBSTANCES

DATE_REQUIRED = _l("Enter a date like 2027-01-05.")
MAX_SHORT = 300  # a text blank, a signature name, a table cell
MAX_LONG = 4000  # a lines field or a sequence box


def labelled(pairs) -> list[SelectChoice]:
    """(value, label) pairs as choices; the labels may be lazy (translated when the page is drawn)."""
    return [SelectChoice(value, label) for value, label in pairs]


class MultiCheckboxField(SelectMultipleField):
    """Several choices as checkboxes (the substances); unknown values are checked by the service."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form: Any) -> None:
        """Leave unknown values to the service, which names the rule in plain words."""


class DrugTestForm(AppForm):
    """One test: date, kind, result, substances found, whether collection was observed."""

    collected_on = DateField(_l("Date collected"), validators=[InputRequired(DATE_REQUIRED)],
                             invalid_value_message=DATE_REQUIRED)
    kind = SelectField(_l("Kind of test"), choices=labelled(KIND_LABELS.items()), default="urine", validate_choice=False)
    result = RadioField(_l("Result"), choices=labelled(RESULT_LABELS.items()), validate_choice=False,
                        validators=[InputRequired(_l("Choose the result."))])
    substances = MultiCheckboxField(_l("Substances found (positive result only)"), choices=labelled(SUBSTANCES.items()))
    observed = BooleanField(_l("Collection was observed"))
    submit = SubmitField(_l("Record test"))


class ReportForm(AppForm):
    """A use or strong craving the participant reports: opens a relapse analysis."""

    occurred_on = DateField(_l("Date it happened"), validators=[InputRequired(DATE_REQUIRED)],
                            invalid_value_message=DATE_REQUIRED)
    opened_by = RadioField(_l("What the participant reported"), validate_choice=False,
                           choices=labelled([("reported_use", _l("A use")), ("craving", _l("A strong craving"))]),
                           validators=[InputRequired(_l("Choose a use or a strong craving."))])
    submit = SubmitField(_l("Open a relapse analysis"))


class AnalysisForm(AppForm):
    """The buttons of the analysis page (the worksheet's own controls come from WorksheetForm)."""

    save = SubmitField(_l("Save draft"))
    review = SubmitField(_l("Save and mark reviewed"))


# --- A worksheet as a web form ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Cell:
    """One answer control in a grid (table, schedule or calendar): its name, answer key and headers."""

    name: str
    key: str
    kind: str  # text | check
    header_ids: str  # ids of the visible row and column headers that label it


@dataclass(frozen=True)
class Grid:
    """A table-like field laid out: column headers, then rows of a header and cells."""

    headers: tuple[tuple[str, str, str], ...]  # (id, text, kind: label|text|check)
    rows: tuple[tuple[str, str, tuple[Cell, ...]], ...]  # (row header id, row header text, cells)


def _hour(hour: int) -> str:
    if hour % 24 == 0:
        return _("Midnight")
    if hour == 12:
        return _("Noon")
    return _("%(hour)s AM", hour=hour % 12) if hour % 24 < 12 else _("%(hour)s PM", hour=hour % 12)


def _weekday(code: str) -> str:
    """ "mon" -> "Mon" ("lun" in Spanish): a calendar column."""
    return format_when(date(2024, 1, 1 + WEEKDAYS.index(code)), "weekday_short")


class WorksheetForm:
    """A worksheet's fields as named web controls, their current values and errors, and the parser."""

    prefix = "ws"

    def __init__(self, sheet: Worksheet, answers: Mapping[str, Any] | None = None,
                 errors: Mapping[str, str] | None = None):
        self.sheet = sheet
        self.answers = dict(answers or {})
        self.errors = dict(errors or {})

    # names and values, used by the template
    def name(self, f: Field, *parts: object) -> str:
        """The control's name and id: ws-<field>[-<part>...] (ids in the files are snake_case)."""
        return "-".join([self.prefix, f.id, *(str(p) for p in parts)])

    def value(self, f: Field, key: str | None = None) -> Any:
        """The stored (or just submitted) answer of a field, or of one part of it."""
        answer = self.answers.get(f.id)
        if key is None:
            return answer if answer is not None else ""
        return (answer or {}).get(key, "") if isinstance(answer, dict) else ""

    def grid(self, f: Field) -> Grid:
        """Headers and cells of a table, schedule or calendar field."""
        base = self.name(f)
        if f.type == "schedule":
            headers = ((f"{base}-ht", _("Time"), "label"), (f"{base}-hp", _("Plan"), "text"))
            rows = tuple((f"{base}-h{h}-th", _hour(h), (Cell(self.name(f, f"h{h}"), str(h), "text",
                                                             f"{base}-h{h}-th {base}-hp"),))
                         for h in range(f.start_hour, f.end_hour))
            return Grid(headers, rows)
        if f.type == "calendar":
            headers = ((f"{base}-wk", _("Week"), "label"),) + tuple((f"{base}-{d}", _weekday(d), "check") for d in WEEKDAYS)
            rows = tuple((f"{base}-w{w}-th", _("Week %(n)s", n=w), tuple(
                Cell(self.name(f, f"w{w}", d), f"w{w}_{d}", "check", f"{base}-w{w}-th {base}-{d}")
                for d in WEEKDAYS)) for w in range(1, 7))
            return Grid(headers, rows)
        columns = list(f.columns)
        kinds = [f.cells] * len(columns)
        if not f.row_labels and f.cells == "check" and columns:
            kinds[0] = "text"  # blank rows of boxes: the first column says what the row is
        headers = tuple((f"{base}-c{c}", text, kind) for c, (text, kind) in enumerate(zip(columns, kinds, strict=True), start=1))
        labels = list(f.row_labels) or [_("Row %(n)s", n=r) for r in range(1, f.rows + 1)]
        headers = ((f"{base}-rh", (f.row_header or _("Area")) if f.row_labels else _("Row"), "label"),) + headers
        rows = tuple((f"{base}-r{r}-th", label, tuple(
            Cell(self.name(f, f"r{r}", f"c{c}"), f"r{r}_c{c}", kinds[c - 1], f"{base}-r{r}-th {base}-c{c}")
            for c in range(1, len(columns) + 1))) for r, label in enumerate(labels, start=1))
        return Grid(headers, rows)

    # reading a submitted form back
    def read(self, form: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        """The answers in a submitted form, keyed by field id, and a message per field that is wrong."""
        answers: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for f in self.sheet.fields:
            if f.type == "note":
                continue
            try:
                answers[f.id] = self._read_field(f, form, errors)
            except ValueError as problem:
                errors[f.id] = str(problem)
        self.answers, self.errors = {**self.answers, **answers}, errors
        return answers, errors

    def _text(self, form: Mapping[str, Any], name: str, limit: int) -> str:
        text = (form.get(name) or "").replace("\r\n", "\n").strip()
        if has_control_character(text, multiline=True):
            raise ValueError(ANSWER_MESSAGE)
        if len(text) > limit:
            raise ValueError(_("Keep this to %(limit)s characters or fewer (it has %(n)s).", limit=limit, n=len(text)))
        return text

    def _date(self, form: Mapping[str, Any], name: str) -> str:
        raw = (form.get(name) or "").strip()
        if raw:
            try:
                date.fromisoformat(raw)
            except ValueError:
                raise ValueError(str(DATE_REQUIRED)) from None
        return raw

    def _read_field(self, f: Field, form: Mapping[str, Any], errors: dict[str, str]) -> Any:
        name = self.name(f)
        if f.type == "text":
            return self._text(form, name, MAX_SHORT)
        if f.type == "lines":
            return self._text(form, name, MAX_LONG)
        if f.type == "date":
            return self._date(form, name)
        if f.type == "checklist":
            chosen = set(form.getlist(name)) if hasattr(form, "getlist") else set()
            items = [item for n, item in enumerate(f.items, start=1) if str(n) in chosen]
            if chosen - {str(n) for n in range(1, len(f.items) + 1)}:
                raise ValueError(_("Choose from the items on the list; write anything else under Other."))
            other = self._text(form, self.name(f, "other"), MAX_SHORT) if f.other else ""
            return {k: v for k, v in (("checked", items), ("other", other)) if v}
        if f.type == "scale":
            raw = (form.get(name) or "").strip()
            if not raw:
                return None
            if not raw.lstrip("-").isdigit() or not f.min <= int(raw) <= f.max:
                raise ValueError(_("Choose a number from %(min)s to %(max)s.", min=f.min, max=f.max))
            return int(raw)
        if f.type == "signature":
            signed = {"name": self._text(form, self.name(f, "name"), MAX_SHORT),
                      "date": self._date(form, self.name(f, "date"))}
            return {k: v for k, v in signed.items() if v}
        if f.type == "sequence":
            steps = {f"s{n}": self._text(form, self.name(f, f"s{n}"), MAX_LONG) for n in range(1, len(f.steps) + 1)}
            return {k: v for k, v in steps.items() if v}
        if f.type in ("table", "schedule", "calendar"):
            out: dict[str, Any] = {}
            for _row_id, _row_text, cells in self.grid(f).rows:
                for cell in cells:
                    if cell.kind == "check":
                        if form.get(cell.name):
                            out[cell.key] = True
                    elif text := self._text(form, cell.name, MAX_SHORT if f.type != "table" else MAX_LONG):
                        out[cell.key] = text
            return out
        raise ValueError(_("This kind of field (%(type)s) cannot be filled on the web yet.", type=f.type))
