"""The program itself (name, time zone, the address and phone printed on its documents) and its
sign-in rules (automatic sign-out, two-factor sign-in for staff, portal access after discharge).
Directors change them; services check plain values, change nothing on a refusal, and flush."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from flask_babel import gettext as _

from ..extensions import db
from .models import Program
from .services import SettingsRefused, _director_of

NAME_MAX, ADDRESS_MAX, PHONE_MAX = 120, 200, 40
IDLE_RANGE = (5, 60)  # minutes; HIPAA 164.312(a)(2)(iii) automatic logoff
PORTAL_DAYS_RANGE = (0, 365)
PHONE = re.compile(r"^[0-9+()./\- ]+(?:\s*(?:x|ext\.?)\s*\d{1,6})?$", re.IGNORECASE)
REGIONS = ("Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe", "Indian",
           "Pacific")


@cache
def time_zones() -> frozenset[str]:
    """Every IANA time zone name this system knows (aliases such as US/Pacific included)."""
    return frozenset(available_timezones())


@cache
def offered_time_zones() -> tuple[str, ...]:
    """The canonical Area/City names, sorted, for the time zone list."""
    return tuple(sorted(z for z in time_zones() if z.split("/")[0] in REGIONS and "/" in z))


@dataclass(frozen=True)
class ProgramDetails:
    """What the program is called, where it is, and how to reach it."""

    name: str
    timezone: str
    address: str
    phone: str


@dataclass(frozen=True)
class SignInRules:
    """Automatic sign-out, two-factor sign-in for staff, and how long portal access outlives a discharge."""

    idle_minutes_staff: int
    idle_minutes_participant: int
    require_mfa_staff: bool
    portal_days_after_discharge: int


def details_of(program: Program) -> ProgramDetails:
    """The program's current name, zone, address and phone."""
    return ProgramDetails(**{f.name: getattr(program, f.name) or "" for f in fields(ProgramDetails)})


def rules_of(program: Program) -> SignInRules:
    """The program's current sign-in rules."""
    return SignInRules(**{f.name: getattr(program, f.name) for f in fields(SignInRules)})


def check_details(details: ProgramDetails) -> dict[str, str]:
    """What is wrong with these details (empty if nothing); keys are the fields' names."""
    problems = {}
    if not details.name.strip():
        problems["name"] = _("Name the program, for example Harbour Outpatient IOP.")
    elif len(details.name.strip()) > NAME_MAX:
        problems["name"] = _("Keep the name to %(most)s characters or fewer.", most=NAME_MAX)
    if details.timezone not in time_zones():
        problems["timezone"] = _("Choose the program's time zone from the list: an IANA name such as "
                                  "America/Chicago or Europe/Madrid.")
    if len(details.address.strip()) > ADDRESS_MAX:
        problems["address"] = _("Keep the address to %(most)s characters or fewer.", most=ADDRESS_MAX)
    phone = details.phone.strip()
    if len(phone) > PHONE_MAX:
        problems["phone"] = _("Keep the phone number to %(most)s characters or fewer.", most=PHONE_MAX)
    elif phone and (not PHONE.match(phone) or sum(c.isdigit() for c in phone) < 7):
        problems["phone"] = _("Enter a phone number with at least 7 digits, for example (541) 555-0100.")
    return problems


def check_rules(rules: SignInRules) -> dict[str, str]:
    """What is wrong with these sign-in rules (empty if nothing); keys are the fields' names."""
    problems = {}
    low, high = IDLE_RANGE
    for name in ("idle_minutes_staff", "idle_minutes_participant"):
        if not low <= getattr(rules, name) <= high:
            problems[name] = _("Enter a whole number of minutes from %(low)s to %(high)s.", low=low, high=high)
    low, high = PORTAL_DAYS_RANGE
    if not low <= rules.portal_days_after_discharge <= high:
        problems["portal_days_after_discharge"] = _("Enter a whole number of days from %(low)s to %(high)s.", low=low,
                                                     high=high)
    return problems


def _apply(program: Program, values: Any) -> list[str]:
    changed = [f.name for f in fields(values) if getattr(program, f.name) != getattr(values, f.name)]
    for name in changed:
        setattr(program, name, getattr(values, name))
    db.session.flush()
    return changed


def update_details(program: Program, details: ProgramDetails, user) -> list[str]:
    """Save name, zone, address and phone if all are valid (else SettingsRefused); the names changed."""
    _director_of(program, user)
    details = ProgramDetails(name=details.name.strip(), timezone=details.timezone.strip(),
                             address=details.address.strip(), phone=details.phone.strip())
    problems = check_details(details)
    if problems:
        raise SettingsRefused(problems)
    return _apply(program, details)


def update_rules(program: Program, rules: SignInRules, user) -> list[str]:
    """Save the sign-in rules if all are valid (else SettingsRefused); the names changed."""
    _director_of(program, user)
    problems = check_rules(rules)
    if problems:
        raise SettingsRefused(problems)
    return _apply(program, rules)
