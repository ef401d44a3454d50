"""Forms of the participant screens: create with admission, profile, admit, transfer, discharge, list filters.

Forms check shape (present, length, a real date); the services check the rules (dates inside a stay,
duplicates, groups of this program) and name the field a refusal belongs to.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from wtforms import DateField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..web.forms import AppForm
from .models import DISCHARGE_LABELS
from .services import LANGUAGES


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
            raise ValueError("Enter a date like 2026-03-14.") from None


def group_field(label: str = "Group") -> SelectField:
    """A select of the program's groups (choices set by the view; the service checks the id)."""
    return SelectField(label, coerce=optional_id, validate_choice=False)


class ProfileForm(AppForm):
    """Preferred name, initials, record number and language: the minimum the program keeps."""

    preferred_name = StringField("Preferred name", validators=[
        DataRequired("Enter the name the person wants to be called."),
        Length(max=60, message="Keep the preferred name to 60 characters or fewer.")])
    initials = StringField("Initials", validators=[
        DataRequired("Enter initials (1 to 4 letters)."), Length(max=4, message="Initials are at most 4 letters.")])
    record_number = StringField("Record number", validators=[
        DataRequired("Enter the record number."),
        Length(max=30, message="Keep the record number to 30 characters or fewer.")])
    language = SelectField("Language for handouts", choices=options(LANGUAGES.items()), validate_choice=False)


class NewParticipantForm(ProfileForm):
    """A new participant and their admission to a group, in one form."""

    group_id = group_field("Admit to group")
    admitted_on = PlainDateField("Admission date")


class AdmitForm(AppForm):
    """Admit (or readmit) into a group."""

    group_id = group_field("Group")
    admitted_on = PlainDateField("Admission date")


class TransferForm(AppForm):
    """Move to another group; the history stays."""

    group_id = group_field("New group")
    first_day = PlainDateField("First day in the new group")
    note = TextAreaField("Why (optional)", validators=[Optional(), Length(
        max=1000, message="Keep the note to 1,000 characters or fewer.")])


class DischargeForm(AppForm):
    """Close the open stay with a national reason category."""

    discharged_on = PlainDateField("Discharge date")
    reason = SelectField("Reason", choices=options([("", "Choose a reason"), *DISCHARGE_LABELS.items()]),
                         validate_choice=False)
    note = TextAreaField("Note (optional)", validators=[Optional(), Length(
        max=1000, message="Keep the note to 1,000 characters or fewer.")])


class ListFilterForm(AppForm):
    """The participant list's filters (a GET form: nothing changes, so no CSRF token)."""

    class Meta:
        csrf = False

    q = StringField("Search", validators=[Optional(), Length(max=60)])
    group = group_field("Group")
    status = SelectField("Show", choices=options([("active", "Active"), ("discharged", "Discharged"),
                                                 ("all", "Everyone")]),
                         validate_choice=False)
