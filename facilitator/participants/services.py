"""Participants: create with an admission, edit the profile, admit, transfer and discharge.

Enrollments are history rows: a transfer closes one stay and opens another, a discharge closes the
open one; nothing is overwritten and no attendance is touched. Services check everything first,
then change rows, flush and return; the view commits. Bad input raises InputError naming the form
field it belongs to, so the message appears next to that field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..auth.models import User
from ..extensions import db
from ..groups.models import Group
from ..web.i18n import format_when
from .models import DISCHARGE_REASONS, Enrollment, Participant

ADMISSION_LEAD_DAYS = 30  # an admission may be booked up to a month ahead, not further
LANGUAGES = {"en": _l("English"), "es": _l("Spanish")}
# The discharge categories as people read them (models.DISCHARGE_LABELS stays English: exports use it).
DISCHARGE_TEXT = {
    "completed": _l("Completed treatment"),
    "transferred": _l("Transferred to another program or group"),
    "dropped_out": _l("Dropped out (left against advice)"),
    "terminated": _l("Terminated by the facility"),
    "incarcerated": _l("Incarcerated"),
    "died": _l("Died"),
    "other": _l("Other"),
}


class InputError(ValueError):
    """Bad input for one form field; the message says what to do, in plain words."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Profile:
    """What the program stores about a person: the minimum necessary."""

    preferred_name: str
    initials: str
    record_number: str
    language: str = "en"


def clean_profile(program_id: int, profile: Profile, participant_id: int | None = None) -> Profile:
    """The profile trimmed and checked; a record number must be unique in the program."""
    name = " ".join(profile.preferred_name.split())
    initials = profile.initials.strip().upper()
    record = profile.record_number.strip()
    if not name:
        raise InputError("preferred_name", _("Enter the name the person wants to be called."))
    if len(name) > 60:
        raise InputError("preferred_name", _("Keep the preferred name to 60 characters or fewer."))
    if not initials:
        raise InputError("initials", _("Enter initials (1 to 4 letters)."))
    if len(initials) > 4:
        raise InputError("initials", _("Initials are at most 4 letters."))
    if not (initials[0].isalpha() and initials.isalnum()):
        # A digit may tell apart two people with the same initials on a sign-in sheet (JS, JS2).
        raise InputError("initials", _("Initials start with a letter; use letters and digits only."))
    if not record:
        raise InputError("record_number", _("Enter the record number."))
    if len(record) > 30:
        raise InputError("record_number", _("Keep the record number to 30 characters or fewer."))
    if profile.language not in LANGUAGES:
        raise InputError("language", _("Choose English or Spanish."))
    taken = select(Participant.id).where(Participant.program_id == program_id,
                                         func.lower(Participant.record_number) == record.lower())
    if participant_id is not None:
        taken = taken.where(Participant.id != participant_id)
    if db.session.scalar(taken) is not None:
        raise InputError("record_number", _("Record number %(number)s is already used by another participant.",
                                             number=record))
    return Profile(name, initials, record, profile.language)


def program_group(program_id: int, group_id: int | None, field: str = "group_id") -> Group:
    """An active group of the program, or InputError on the named field."""
    group = db.session.get(Group, group_id) if group_id else None
    if group is None or group.program_id != program_id:
        raise InputError(field, _("Choose one of this program's groups."))
    if not group.active:
        raise InputError(field, _("%(group)s is closed. Choose an open group.", group=group.name))
    return group


def check_admission_date(group: Group, day: date | None, today: date, field: str = "admitted_on") -> date:
    """An admission date inside the group's life and at most 30 days ahead."""
    if day is None:
        raise InputError(field, _("Enter the admission date."))
    if day > today + timedelta(days=ADMISSION_LEAD_DAYS):
        raise InputError(field, _("The admission date can be at most %(days)s days ahead (by %(day)s).",
                                  days=ADMISSION_LEAD_DAYS,
                                  day=format_when(today + timedelta(days=ADMISSION_LEAD_DAYS), "year")))
    if day < group.start_date:
        raise InputError(field, _("%(group)s started on %(day)s; the admission cannot be earlier.",
                                  group=group.name, day=format_when(group.start_date, "year")))
    if group.end_date is not None and day > group.end_date:
        raise InputError(field, _("%(group)s ends on %(day)s.", group=group.name, day=format_when(group.end_date, "year")))
    return day


def open_enrollment(participant: Participant) -> Enrollment | None:
    """The participant's open stay, if any."""
    return db.session.scalar(select(Enrollment).where(Enrollment.participant_id == participant.id,
                                                      Enrollment.discharged_on.is_(None)))


def _last_discharge(participant: Participant) -> date | None:
    return db.session.scalar(select(func.max(Enrollment.discharged_on))
                             .where(Enrollment.participant_id == participant.id))


def create_participant(program_id: int, profile: Profile, group_id: int | None, admitted_on: date | None,
                       user: User, today: date) -> Participant:
    """A new participant admitted to a group (the profile and the admission in one step)."""
    profile = clean_profile(program_id, profile)
    group = program_group(program_id, group_id)
    check_admission_date(group, admitted_on, today)
    person = Participant(program_id=program_id, preferred_name=profile.preferred_name, initials=profile.initials,
                         record_number=profile.record_number, language=profile.language)
    db.session.add(person)
    db.session.flush()
    db.session.add(Enrollment(participant_id=person.id, group_id=group.id, admitted_on=admitted_on,
                              created_by_id=user.id))
    db.session.flush()
    return person


def update_profile(participant: Participant, profile: Profile, user: User) -> list[str]:
    """Change the profile; return the names of the fields that changed (for the audit trail)."""
    profile = clean_profile(participant.program_id, profile, participant.id)
    changed = [name for name in ("preferred_name", "initials", "record_number", "language")
               if getattr(participant, name) != getattr(profile, name)]
    for name in changed:
        setattr(participant, name, getattr(profile, name))
    db.session.flush()
    return changed


def admit(participant: Participant, group_id: int | None, admitted_on: date | None, user: User,
          today: date) -> Enrollment:
    """Admit (or readmit) a participant with no open stay into a group."""
    current = open_enrollment(participant)
    if current is not None:
        raise InputError("group_id", _("Already admitted to %(group)s since %(day)s. Transfer or discharge first.",
                                       group=current.group.name, day=format_when(current.admitted_on, "year")))
    group = program_group(participant.program_id, group_id)
    check_admission_date(group, admitted_on, today)
    last = _last_discharge(participant)
    if last is not None and admitted_on <= last:  # type: ignore[operator]
        raise InputError("admitted_on", _("The last stay ended on %(day)s; readmit after that date.",
                                          day=format_when(last, "year")))
    enrollment = Enrollment(participant_id=participant.id, group_id=group.id, admitted_on=admitted_on,
                            created_by_id=user.id)
    db.session.add(enrollment)
    db.session.flush()
    return enrollment


def discharge(participant: Participant, discharged_on: date | None, reason: str, note: str, user: User,
              today: date) -> Enrollment:
    """Close the open stay with a national (TEDS) reason category."""
    current = open_enrollment(participant)
    if current is None:
        raise InputError("discharged_on", _("This participant has no open stay to discharge."))
    if discharged_on is None:
        raise InputError("discharged_on", _("Enter the discharge date."))
    if discharged_on < current.admitted_on:
        raise InputError("discharged_on", _("The discharge cannot be before the admission on %(day)s.",
                                            day=format_when(current.admitted_on, "year")))
    if discharged_on > today:
        raise InputError("discharged_on", _("The discharge date cannot be in the future."))
    if reason not in DISCHARGE_REASONS:
        raise InputError("reason", _("Choose one of the listed reasons."))
    note = note.strip()
    if len(note) > 1000:
        raise InputError("note", _("Keep the note to 1,000 characters or fewer."))
    current.discharged_on = discharged_on
    current.discharge_reason = reason
    current.discharge_note = note
    db.session.flush()
    return current


def transfer(participant: Participant, group_id: int | None, first_day: date | None, note: str, user: User,
             today: date) -> Enrollment:
    """Move to another group: the open stay ends the day before `first_day` (reason 'transferred')
    and a new one starts; attendance already recorded stays where it was."""
    current = open_enrollment(participant)
    if current is None:
        raise InputError("group_id", _("This participant has no open stay; admit them instead."))
    group = program_group(participant.program_id, group_id)
    if group.id == current.group_id:
        raise InputError("group_id", _("Already in %(group)s. Choose another group.", group=group.name))
    check_admission_date(group, first_day, today, field="first_day")
    if first_day < current.admitted_on:  # type: ignore[operator]
        raise InputError("first_day", _("The current stay began on %(day)s; the move cannot be earlier.",
                                        day=format_when(current.admitted_on, "year")))
    note = note.strip()
    if len(note) > 1000:
        raise InputError("note", _("Keep the note to 1,000 characters or fewer."))
    # The last day in the old group is the day before; a same-day correction ends it that day.
    current.discharged_on = max(first_day - timedelta(days=1), current.admitted_on)  # type: ignore[operator]
    current.discharge_reason = "transferred"
    current.discharge_note = note
    moved = Enrollment(participant_id=participant.id, group_id=group.id, admitted_on=first_day,
                       created_by_id=user.id)
    db.session.add(moved)
    db.session.flush()
    return moved


def reason_label(reason: str | None) -> str:
    """The plain label of a discharge reason, in the current language."""
    return str(DISCHARGE_TEXT.get(reason or "", ""))


def reason_labels() -> dict[str, str]:
    """Every discharge reason's label, in the current language."""
    return {code: str(text) for code, text in DISCHARGE_TEXT.items()}
