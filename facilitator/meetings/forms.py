"""Forms of the meeting page: attendance for everyone at once, cancel, sign, addendum, guests."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from ..web.forms import AppForm, RowForm
from .services import FIDELITY_ITEMS, MAX_EXTRA_MINUTES

OUT_OF_DATE = _l("This page is out of date. Reload it and enter the attendance again.")


class AttendanceRowForm(RowForm):
    """One person's line: status, minutes, a short note (no CSRF of its own: the outer form has it)."""

    participant_id = HiddenField(validators=[DataRequired()])
    status = SelectField(_l("Status"), validators=[InputRequired(_l("Choose a status."))])
    minutes = IntegerField(_l("Minutes"), validators=[InputRequired(_l("Enter the minutes attended (0 if absent).")),
                                                      NumberRange(min=0, message=_l("Minutes cannot be negative."))])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500, message=_l("Keep the note under 500 characters."))])


class AttendanceForm(AppForm):
    """Attendance for the whole roster, the shared group note and the fidelity checklist."""

    # The meeting's attendance version this page was built from: a save from an older page is refused.
    version = IntegerField(widget=HiddenInput(), validators=[
        InputRequired(OUT_OF_DATE), NumberRange(min=0, message=OUT_OF_DATE)])
    rows = FieldList(FormField(AttendanceRowForm))
    note = TextAreaField(_l("Group note (shared part, written once for everyone)"),
                         validators=[Optional(), Length(max=5000, message=_l("Keep the note under 5,000 characters."))])
    handout = BooleanField(FIDELITY_ITEMS[0][1])
    open_discussion = BooleanField(FIDELITY_ITEMS[1][1])
    tests_collected = BooleanField(FIDELITY_ITEMS[2][1])
    save = SubmitField(_l("Save attendance"))

    def limit_minutes(self, meeting_minutes: int) -> None:
        """Refuse minutes well beyond the meeting's length (a typing mistake, not a long group)."""
        top = meeting_minutes + MAX_EXTRA_MINUTES
        for row in self.rows:
            row.minutes.validators = [*row.minutes.validators,
                                      NumberRange(max=top, message=_("At most %(top)s minutes for this meeting.", top=top))]


class CancelForm(AppForm):
    """Cancel a meeting; its module moves to the next meeting of the track."""

    reason = StringField(_l("Reason"), validators=[DataRequired(_l("Say why the meeting is cancelled.")), Length(max=200)])
    cancel = SubmitField(_l("Cancel this meeting"))


class ReopenForm(AppForm):
    """Undo a cancellation."""

    reopen = SubmitField(_l("Reopen this meeting"))


class LockForm(AppForm):
    """Sign and lock the note."""

    lock = SubmitField(_l("Sign and lock the note"))


class AddendumForm(AppForm):
    """An addendum to a signed note."""

    text = TextAreaField(_l("Addendum"), validators=[DataRequired(_l("Write the addendum first.")), Length(max=2000)])
    add = SubmitField(_l("Add addendum"))


class GuestForm(AppForm):
    """A family member or friend at family education."""

    name = StringField(_l("Guest's first name"), validators=[DataRequired(_l("Enter the guest's first name.")),
                                                             Length(max=60)])
    relationship = StringField(_l("Relationship (optional)"), validators=[Optional(), Length(max=40)])
    participant_id = SelectField(_l("Supports"), coerce=int, validators=[InputRequired(_l("Choose who they support."))])
    minutes = IntegerField(_l("Minutes"), validators=[InputRequired(), NumberRange(min=1, max=240)])
    add_guest = SubmitField(_l("Add guest"))
