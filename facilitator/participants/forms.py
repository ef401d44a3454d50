"""Forms of the participant screens: create with admission, profile, admit, transfer, discharge, list filters.

Forms check shape (present, length, a real date); the services check the rules (dates inside a stay,
duplicates, groups of this program) and name the field a refusal belongs to.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from wtforms import DateField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..web.forms import AppForm
from .services import DISCHARGE_TEXT, LANGUAGES


def options(pairs) -> list[SelectChoice]:
    """Select options from (value, label) pairs."""
    return [SelectChoice(str(value), label) for value, label in pairs]


def optional_id(value: Any) -> int | None:
    """A select's value as an id; anything else (empty, junk) as None, which the service refuses."""
    if isinstance(value, int):
        return value
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) < 12 else None


class PlainDateField(DateField):
    """A date field whose parse error says what to type."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        """Parse YYYY-MM-DD; an empty value is None (the service says it is needed)."""
        text = " ".join(str(v) for v in valuelist).strip() if valuelist else ""
        if not text:
            self.data = None
            return
        try:
            self.data = date.fromisoformat(text)
        except ValueError:
            self.data = None
            raise ValueError(_l("Enter a date like 2026-03-14.")) from None


def group_field(label: str = _l("Group")) -> SelectField:
    """A select of the program's groups (choices set by the view; the service checks the id)."""
    return SelectField(label, coerce=optional_id, validate_choice=False)


class ProfileForm(AppForm):
    """Preferred name, initials, record number and language: the minimum the program keeps."""

    preferred_name = StringField(_l("Preferred name"), validators=[
        DataRequired(_l("Enter the name the person wants to be called.")),
        Length(max=60, message=_l("Keep the preferred name to 60 characters or fewer."))])
    initials = StringField(_l("Initials"), validators=[
        DataRequired(_l("Enter initials (1 to 4 letters).")), Length(max=4, message=_l("Initials are at most 4 letters."))])
    record_number = StringField(_l("Record number"), validators=[
        DataRequired(_l("Enter the record number.")),
        Length(max=30, message=_l("Keep the record number to 30 characters or fewer."))])
    language = SelectField(_l("Language for handouts"), choices=options(LANGUAGES.items()), validate_choice=False)


class NewParticipantForm(ProfileForm):
    """A new participant and their admission to a group, in one form."""

    group_id = group_field(_l("Admit to group"))
    admitted_on = PlainDateField(_l("Admission date"))


class AdmitForm(AppForm):
    """Admit (or readmit) into a group."""

    group_id = group_field(_l("Group"))
    admitted_on = PlainDateField(_l("Admission date"))


class TransferForm(AppForm):
    """Move to another group; the history stays."""

    group_id = group_field(_l("New group"))
    first_day = PlainDateField(_l("First day in the new group"))
    note = TextAreaField(_l("Why (optional)"), validators=[Optional(), Length(
        max=1000, message=_l("Keep the note to 1,000 characters or fewer."))])


class DischargeForm(AppForm):
    """Close the open stay with a national reason category."""

    discharged_on = PlainDateField(_l("Discharge date"))
    reason = SelectField(_l("Reason"), choices=options([("", _l("Choose a reason")), *DISCHARGE_TEXT.items()]),
                         validate_choice=False)
    note = TextAreaField(_l("Note (optional)"), validators=[Optional(), Length(
        max=1000, message=_l("Keep the note to 1,000 characters or fewer."))])


class ListFilterForm(AppForm):
    """The participant list's filters (a GET form: nothing changes, so no CSRF token)."""

    class Meta:
        csrf = False

    q = StringField(_l("Search"), validators=[Optional(), Length(max=60)])
    group = group_field(_l("Group"))
    status = SelectField(_l("Show"), choices=options([("active", lazy_pgettext("participants", "Active")), ("discharged", _l("Discharged")),
                                                     ("all", _l("Everyone"))]),
                         validate_choice=False)
