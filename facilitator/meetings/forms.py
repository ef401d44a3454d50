"""Forms of the meeting page: attendance for everyone at once, cancel, sign, addendum, guests."""

from __future__ import annotations

from wtforms import (
    BooleanField,
    FieldList,
    Form,
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

from ..web.forms import AppForm
from .services import FIDELITY_ITEMS, MAX_EXTRA_MINUTES

OUT_OF_DATE = "This page is out of date. Reload it and enter the attendance again."


class AttendanceRowForm(Form):
    """One person's line: status, minutes, a short note (no CSRF of its own: the outer form has it)."""

    participant_id = HiddenField(validators=[DataRequired()])
    status = SelectField("Status", validators=[InputRequired("Choose a status.")])
    minutes = IntegerField("Minutes", validators=[InputRequired("Enter the minutes attended (0 if absent)."),
                                                  NumberRange(min=0, message="Minutes cannot be negative.")])
    note = StringField("Note", validators=[Optional(), Length(max=500, message="Keep the note under 500 characters.")])


class AttendanceForm(AppForm):
    """Attendance for the whole roster, the shared group note and the fidelity checklist."""

    # The meeting's attendance version this page was built from: a save from an older page is refused.
    version = IntegerField(widget=HiddenInput(), validators=[
        InputRequired(OUT_OF_DATE), NumberRange(min=0, message=OUT_OF_DATE)])
    rows = FieldList(FormField(AttendanceRowForm))
    note = TextAreaField("Group note (shared part, written once for everyone)",
                         validators=[Optional(), Length(max=5000, message="Keep the note under 5,000 characters.")])
    handout = BooleanField(FIDELITY_ITEMS[0][1])
    open_discussion = BooleanField(FIDELITY_ITEMS[1][1])
    tests_collected = BooleanField(FIDELITY_ITEMS[2][1])
    save = SubmitField("Save attendance")

    def limit_minutes(self, meeting_minutes: int) -> None:
        """Refuse minutes well beyond the meeting's length (a typing mistake, not a long group)."""
        top = meeting_minutes + MAX_EXTRA_MINUTES
        for row in self.rows:
            row.minutes.validators = [*row.minutes.validators,
                                      NumberRange(max=top, message=f"At most {top} minutes for this meeting.")]


class CancelForm(AppForm):
    """Cancel a meeting; its module moves to the next meeting of the track."""

    reason = StringField("Reason", validators=[DataRequired("Say why the meeting is cancelled."), Length(max=200)])
    cancel = SubmitField("Cancel this meeting")


class ReopenForm(AppForm):
    """Undo a cancellation."""

    reopen = SubmitField("Reopen this meeting")


class LockForm(AppForm):
    """Sign and lock the note."""

    lock = SubmitField("Sign and lock the note")


class AddendumForm(AppForm):
    """An addendum to a signed note."""

    text = TextAreaField("Addendum", validators=[DataRequired("Write the addendum first."), Length(max=2000)])
    add = SubmitField("Add addendum")


class GuestForm(AppForm):
    """A family member or friend at family education."""

    name = StringField("Guest's first name", validators=[DataRequired("Enter the guest's first name."),
                                                         Length(max=60)])
    relationship = StringField("Relationship (optional)", validators=[Optional(), Length(max=40)])
    participant_id = SelectField("Supports", coerce=int, validators=[InputRequired("Choose who they support.")])
    minutes = IntegerField("Minutes", validators=[InputRequired(), NumberRange(min=1, max=240)])
    add_guest = SubmitField("Add guest")
