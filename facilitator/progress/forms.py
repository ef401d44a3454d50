"""Make-up forms: plan a make-up for a missing module, complete it (which credits it), or cancel it."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, SelectField, TextAreaField
from wtforms.validators import Length, NumberRange, Optional

from ..participants.forms import PlainDateField, group_field, options
from ..web.forms import AppForm

METHOD_CHOICES = (
    ("other_group", _l("A group meeting (their group's next rotation or another group)")),
    ("individual", _l("Individual session")),
    ("homework", _l("Homework")),
)


class MakeUpForm(AppForm):
    """Which module, how, where and when (choices set by the view; the service checks them)."""

    module = SelectField(_l("Module"), validate_choice=False)
    method = SelectField(_l("How"), choices=options(METHOD_CHOICES), validate_choice=False)
    group_id = group_field(_l("Group (for a group meeting)"))
    planned_on = PlainDateField(_l("Planned date"))
    note = TextAreaField(_l("Note for staff (optional)"), validators=[Optional(), Length(
        max=500, message=_l("Keep the note to 500 characters or fewer."))])


def minutes_field(label: str) -> IntegerField:
    """Minutes spent with the participant (blank: the module's usual length)."""
    return IntegerField(label, validators=[Optional(), NumberRange(
        min=0, max=480, message=_l("Enter the minutes spent, from 0 to 480."))])


class CompleteMakeUpForm(AppForm):
    """The date the make-up was done and the time it took; completing it credits the module."""

    completed_on = PlainDateField(_l("Date done"))
    minutes = minutes_field(_l("Minutes spent"))


class CancelMakeUpForm(AppForm):
    """Cancel a planned make-up (only the CSRF token)."""


class IndividualSessionForm(AppForm):
    """An individual or conjoint session (IC) or a relapse analysis session (RA) that was held."""

    module = SelectField(_l("Session"), validate_choice=False)
    held_on = PlainDateField(_l("Date held"))
    minutes = minutes_field(_l("Minutes"))
    note = TextAreaField(_l("Note for staff (optional)"), validators=[Optional(), Length(
        max=500, message=_l("Keep the note to 500 characters or fewer."))])
