"""Forms of the program settings page: settings, attendance statuses, holidays.

Numbers are text fields parsed here, so a wrong value gets a plain message ("Enter a number of hours,
for example 9") instead of WTForms' generic one. Ranges, codes and the rules of statuses are checked
by the services (facilitator/programs/services.py); their messages come back keyed by field.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, RadioField, SelectChoice, SelectField, StringField
from wtforms.validators import Length

from ..web.forms import AppForm
from .details import ProgramDetails, SignInRules, offered_time_zones, time_zones
from .services import ProgramSettings, StatusFlags

WHOLE = re.compile(r"^\d{1,4}$")
NUMBER = re.compile(r"^\d{1,4}(?:[.,]\d{1,2})?$")
# The services name the settings in stored units; the form asks for hours and percentages.
FIELD_FOR = {"hours_floor_minutes": "hours_floor", "billable_minimum_minutes": "billable_minimum"}


def _number(raw: str | None) -> float | None:
    text = (raw or "").strip()
    return float(text.replace(",", ".")) if NUMBER.match(text) else None


def _hours(minutes: int) -> str:
    return f"{minutes / 60:g}"


class SettingsForm(AppForm):
    """Alert thresholds, the hours floor, printing and billing."""

    absence_alert_consecutive = StringField(_l("Absences in a row before an alert"), render_kw={"inputmode": "numeric"})
    attendance_alert_rate = StringField(_l("Alert when attendance over the last 2 weeks is under (%)"),
                                        render_kw={"inputmode": "decimal"})
    hours_floor = StringField(_l("Weekly hours floor (hours)"), render_kw={"inputmode": "decimal"})
    billable_minimum = StringField(_l("Billable minimum a day (hours)"), render_kw={"inputmode": "decimal"})
    service_code = StringField(_l("Service code"), render_kw={"autocapitalize": "characters", "spellcheck": "false"})
    revenue_code = StringField(_l("Revenue code"), render_kw={"inputmode": "numeric"})
    page_size = RadioField(_l("Paper size"), choices=[SelectChoice("letter", _l("Letter (8.5 × 11 in)")),
                                                  SelectChoice("a4", _l("A4 (210 × 297 mm)"))], validate_choice=False)
    signin_naming = RadioField(_l("Names on sign-in sheets"), choices=[SelectChoice("preferred", _l("Preferred name")),
                                                                   SelectChoice("initials", _l("Initials only"))],
                               validate_choice=False)

    @classmethod
    def of(cls, settings: ProgramSettings) -> SettingsForm:
        """The form filled with the program's current settings."""
        return cls(formdata=None, data={
            "absence_alert_consecutive": str(settings.absence_alert_consecutive),
            "attendance_alert_rate": f"{settings.attendance_alert_rate * 100:g}",
            "hours_floor": _hours(settings.hours_floor_minutes),
            "billable_minimum": _hours(settings.billable_minimum_minutes),
            "service_code": settings.service_code, "revenue_code": settings.revenue_code,
            "page_size": settings.page_size, "signin_naming": settings.signin_naming})

    def to_settings(self) -> ProgramSettings | None:
        """The settings typed, or None with a message on each field that is not a number."""
        absences = (self.absence_alert_consecutive.data or "").strip()
        rate, floor, minimum = (_number(f.data) for f in (self.attendance_alert_rate, self.hours_floor,
                                                           self.billable_minimum))
        if not WHOLE.match(absences):
            self.absence_alert_consecutive.errors = [_("Enter a whole number of absences, for example 2.")]
        if rate is None:
            self.attendance_alert_rate.errors = [_("Enter a percentage as a number, for example 75.")]
        if floor is None:
            self.hours_floor.errors = [_("Enter a number of hours, for example 9.")]
        if minimum is None:
            self.billable_minimum.errors = [_("Enter a number of hours, for example 3.")]
        if any(f.errors for f in self):
            return None
        return ProgramSettings(
            absence_alert_consecutive=int(absences), attendance_alert_rate=round(rate / 100, 4),
            hours_floor_minutes=round(floor * 60), page_size=self.page_size.data or "",
            signin_naming=self.signin_naming.data or "", billable_minimum_minutes=round(minimum * 60),
            service_code=(self.service_code.data or "").strip().upper(),
            revenue_code=(self.revenue_code.data or "").strip())

    def refuse(self, problems: dict[str, str]) -> None:
        """Put the service's messages next to their fields."""
        for name, message in problems.items():
            self[FIELD_FOR.get(name, name)].errors = [message]


class StatusForm(AppForm):
    """A status's name and what it means (one form per status, told apart by a prefix)."""

    label = StringField(_l("Name"), validators=[Length(max=200)])
    counts_attended = BooleanField(_l("Counts as attended"))
    counts_hours = BooleanField(_l("Counts toward hours"))
    excused = BooleanField(_l("Excused absence"))
    billable = BooleanField(_l("Billable"))
    is_default = BooleanField(_l("Default choice on the attendance form"))

    def flags(self) -> StatusFlags:
        """The typed status as plain data."""
        return StatusFlags(label=(self.label.data or "").strip(), counts_attended=self.counts_attended.data,
                           counts_hours=self.counts_hours.data, excused=self.excused.data,
                           billable=self.billable.data, is_default=self.is_default.data)


class ActionForm(AppForm):
    """A button that changes something (move, retire, restore, remove): only the CSRF token."""


class HolidayForm(AppForm):
    """Close the whole program on a day."""

    date = StringField(_l("Date"), render_kw={"type": "date"})
    name = StringField(_l("Holiday"), validators=[Length(max=80, message=_l("Keep the name to 80 characters or fewer."))])

    def day(self) -> date | None:
        """The date typed (YYYY-MM-DD, or MM/DD/YYYY), or None with a message on the field."""
        text = (self.date.data or "").strip()
        for fmt in ("%Y-%m-%d", "%m/%d/%Y"):
            try:
                return datetime.strptime(text, fmt).date()
            except ValueError:
                continue
        self.date.errors = [_("Enter the date as YYYY-MM-DD, for example 2027-11-25.")]
        return None


class DetailsForm(AppForm):
    """The program's name, time zone, and the address and phone printed on its documents."""

    name = StringField(_l("Program name"), render_kw={"autocomplete": "organization"})
    timezone = SelectField(_l("Time zone"), validate_choice=False)
    address = StringField(_l("Address"), render_kw={"autocomplete": "street-address"})
    phone = StringField(_l("Phone"), render_kw={"type": "tel", "autocomplete": "tel"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The IANA names; a zone set earlier under another name (an alias such as US/Pacific) stays offered.
        zones = offered_time_zones()
        current = self.timezone.data
        self.timezone.choices = [(z, z.replace("_", " ")) for z in zones] + (
            [(current, current)] if current in time_zones() and current not in zones else [])

    @classmethod
    def of(cls, details: ProgramDetails) -> DetailsForm:
        """The form filled with the program's current details."""
        return cls(formdata=None, prefix="program", data={"name": details.name, "timezone": details.timezone,
                                                          "address": details.address, "phone": details.phone})

    def refuse(self, problems: dict[str, str]) -> None:
        """Put the service's messages next to their fields."""
        for name, message in problems.items():
            self[name].errors = [message]

    def to_details(self) -> ProgramDetails:
        """The details typed, as plain values (the service checks them)."""
        return ProgramDetails(name=self.name.data or "", timezone=self.timezone.data or "",
                              address=self.address.data or "", phone=self.phone.data or "")


class SignInRulesForm(AppForm):
    """Automatic sign-out, two-factor sign-in for staff, portal access after discharge."""

    idle_minutes_staff = StringField(_l("Sign staff out after (minutes without activity)"),
                                     render_kw={"inputmode": "numeric"})
    idle_minutes_participant = StringField(_l("Sign participants out after (minutes without activity)"),
                                           render_kw={"inputmode": "numeric"})
    require_mfa_staff = BooleanField(_l("Require two-factor sign-in for staff"))
    portal_days_after_discharge = StringField(_l("Portal access ends this many days after discharge"),
                                              render_kw={"inputmode": "numeric"})

    @classmethod
    def of(cls, rules: SignInRules) -> SignInRulesForm:
        """The form filled with the program's current rules."""
        return cls(formdata=None, data={
            "idle_minutes_staff": str(rules.idle_minutes_staff),
            "idle_minutes_participant": str(rules.idle_minutes_participant),
            "require_mfa_staff": rules.require_mfa_staff,
            "portal_days_after_discharge": str(rules.portal_days_after_discharge)})

    def to_rules(self) -> SignInRules | None:
        """The rules typed, or None with a message on each field that is not a whole number."""
        numbers = {}
        for field, message in ((self.idle_minutes_staff, _("Enter a whole number of minutes, for example 15.")),
                               (self.idle_minutes_participant, _("Enter a whole number of minutes, for example 15.")),
                               (self.portal_days_after_discharge, _("Enter a whole number of days, for example 30."))):
            text = (field.data or "").strip()
            if WHOLE.match(text):
                numbers[field.name] = int(text)
            else:
                field.errors = [message]
        if any(f.errors for f in self):
            return None
        return SignInRules(require_mfa_staff=bool(self.require_mfa_staff.data), **numbers)

    def refuse(self, problems: dict[str, str]) -> None:
        """Put the service's messages next to their fields."""
        for name, message in problems.items():
            self[name].errors = [message]
