"""Forms of the workbook: the participant's worksheet (its controls come from clinical.forms.WorksheetForm,
the same field definitions the printed sheet uses), and the counselor's review."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import SubmitField, TextAreaField
from wtforms.validators import Length

from ..clinical.forms import WorksheetForm
from ..domain.curriculum import Field
from ..web.forms import AppForm
from .services import COMMENT_MAX

UNKNOWN_FIELD = _l("This form has an answer box that is not on this worksheet. Nothing was saved. "
                   "Reload the page and try again.")
# Names a form may carry besides the worksheet's own controls.
FORM_NAMES = {"csrf_token", "save", "submit"}


class SheetForm(AppForm):
    """The buttons of a worksheet page (the answer controls come from WorksheetForm)."""

    save = SubmitField(_l("Save draft"))
    submit = SubmitField(_l("Submit to my counselor"))


class ReviewForm(AppForm):
    """A counselor's comment on a submitted worksheet, and marking it reviewed."""

    comment = TextAreaField(_l("Comment for the participant (optional)"),
                            validators=[Length(max=COMMENT_MAX, message=_l("Keep the comment to %(most)s characters "
                                                                           "or fewer.", most=COMMENT_MAX))])
    review = SubmitField(_l("Mark reviewed"))


def control_names(ws: WorksheetForm) -> set[str]:
    """Every control name the worksheet's web form has (any other name is not one of its answers)."""
    names: set[str] = set()
    for f in ws.sheet.fields:
        names |= _names_of(ws, f)
    return names


def _names_of(ws: WorksheetForm, f: Field) -> set[str]:
    if f.type in ("text", "lines", "date", "scale"):
        return {ws.name(f)}
    if f.type == "checklist":
        return {ws.name(f), ws.name(f, "other")}
    if f.type == "signature":
        return {ws.name(f, "name"), ws.name(f, "date")}
    if f.type == "sequence":
        return {ws.name(f, f"s{n}") for n in range(1, len(f.steps) + 1)}
    if f.type in ("table", "schedule", "calendar"):
        return {cell.name for _, _, cells in ws.grid(f).rows for cell in cells}
    return set()


def read_answers(ws: WorksheetForm, form: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str], str]:
    """The answers of a submitted worksheet, a message per wrong field, and a message for the whole form
    (an answer box the worksheet does not have)."""
    unknown = set(form.keys()) - control_names(ws) - FORM_NAMES
    if unknown:
        return {}, {}, str(UNKNOWN_FIELD)
    answers, errors = ws.read(form)
    return answers, errors, ""
