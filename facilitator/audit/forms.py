"""The audit trail's filters (a GET form: nothing changes, so no CSRF token). Every value is checked
against the director's own program; a wrong one gets a message next to its field and no rows."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField
from wtforms.validators import Length, Optional

from ..web.forms import AppForm
from ..web.i18n import role_name
from . import trail

DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y")


def _day(text: str) -> date | None:
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


class TrailFilterForm(AppForm):
    """Person, participant (record number), action, first and last day, page."""

    class Meta:
        csrf = False

    person = SelectField(_l("Person"), validate_choice=False)
    participant = StringField(_l("Participant"), validators=[Optional(), Length(max=30)],
                              render_kw={"autocomplete": "off", "spellcheck": "false"})
    action = SelectField(_l("Action"), validate_choice=False)
    start = StringField(_l("From"), render_kw={"type": "date"})
    end = StringField(_l("To"), render_kw={"type": "date"})
    page = StringField(_l("Page"), render_kw={"inputmode": "numeric"})

    def offer(self, program_id: int) -> None:
        """The choices: the program's staff and the actions its trail holds."""
        self.person.choices = [("", _("Anyone"))] + [
            (str(u.id), _("%(name)s (%(role)s)", name=u.display_name, role=role_name(u.role)) if u.active
             else _("%(name)s (%(role)s, deactivated)", name=u.display_name, role=role_name(u.role)))
            for u in trail.people(program_id)]
        self.action.choices = [("", _("Any action"))] + [(a, a) for a in trail.actions(program_id)]

    def filters(self, program_id: int) -> tuple[trail.Filters, int] | None:
        """The checked filters and page number, or None with a message on each wrong field."""
        person = (self.person.data or "").strip()
        people = {value for value, _ in self.person.choices}
        if person and person not in people:
            self.person.errors = [_("Choose a person from the list.")]
        action = (self.action.data or "").strip()
        if action and action not in {value for value, _ in self.action.choices}:
            self.action.errors = [_("Choose an action from the list.")]
        record = (self.participant.data or "").strip()
        found = trail.participant_by_record(program_id, record) if record and not self.participant.errors else None
        if record and found is None and not self.participant.errors:
            self.participant.errors = [_("No participant of your program has the record number %(number)s.",
                                           number=record)]
        start, end = (self._date(f, example) for f, example in ((self.start, "2026-01-01"), (self.end, "2026-12-31")))
        if start and end and start > end:
            self.end.errors = [_("The last day comes before the first day. Swap them or change one.")]
        page_text = (self.page.data or "1").strip()
        if not page_text.isdigit() or not 1 <= int(page_text) <= 1_000_000:
            self.page.errors = [_("The page is a whole number from 1.")]
        if any(f.errors for f in self):
            return None
        return trail.Filters(user_id=int(person) if person else None, participant_id=found.id if found else None,
                             action=action or None, start=start, end=end), int(page_text)

    def _date(self, field: StringField, example: str) -> date | None:
        text = (field.data or "").strip()
        if not text:
            return None
        day = _day(text)
        if day is None:
            field.errors = [_("Enter the date as YYYY-MM-DD, for example %(example)s.", example=example)]
        return day
