"""Programs: creating them with sensible defaults; their settings and attendance statuses (directors)."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select

from .. import clock
from ..attendance.models import Attendance
from ..extensions import db
from .models import DEFAULT_STATUSES, PAGE_SIZES, SIGNIN_NAMING, AttendanceStatus, Program


def slugify(name: str) -> str:
    """A URL-safe short name from a program name."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60] or "program"


def program_today(program: Program | None) -> date:
    """Today where the program is: an evening group at 7 pm in California is still today there,
    though the server's clock (UTC) says tomorrow."""
    return clock.today(program.timezone if program is not None else None)


def create_program(name: str, slug: str | None = None, timezone: str = "America/Los_Angeles") -> Program:
    """A program with the default attendance statuses (present, late, left early, excused, absent)."""
    program = Program(name=name.strip(), slug=slug or slugify(name), timezone=timezone)
    program.statuses = [
        AttendanceStatus(code=code, label=label, counts_attended=attended, counts_hours=hours, excused=excused,
                         billable=billable, is_default=default, position=pos)
        for pos, (code, label, attended, hours, excused, billable, default) in enumerate(DEFAULT_STATUSES)
    ]
    db.session.add(program)
    db.session.flush()
    return program


def find_program(slug: str) -> Program | None:
    """The program with this short name."""
    return db.session.scalar(select(Program).where(Program.slug == slug))


def first_program() -> Program | None:
    """The oldest program (a single-site install has only one)."""
    return db.session.scalars(select(Program).order_by(Program.id).limit(1)).first()


# --- Program settings: thresholds, hours, printing, billing (directors) --------------------------

SERVICE_CODE = re.compile(r"^(?:[A-Z]\d{4}|\d{5})$")  # HCPCS level II (H0015) or CPT (90853)
REVENUE_CODE = re.compile(r"^\d{4}$")  # UB-04 revenue code (0906)
HOURS_FLOOR_RANGE = (60, 40 * 60)  # 1 to 40 hours a week
BILLABLE_MINIMUM_RANGE = (0, 12 * 60)  # 0 (every attended day) to 12 hours a day
MAX_STATUSES = 20


class SettingsRefused(ValueError):
    """The service refuses the input; `problems` maps a form field name to a plain message."""

    def __init__(self, problems: dict[str, str]):
        super().__init__("; ".join(problems.values()))
        self.problems = problems


@dataclass(frozen=True)
class ProgramSettings:
    """The settings a director edits, as plain values (minutes, a 0-1 rate, codes)."""

    absence_alert_consecutive: int
    attendance_alert_rate: float
    hours_floor_minutes: int
    page_size: str
    signin_naming: str
    billable_minimum_minutes: int
    service_code: str
    revenue_code: str


def settings_of(program: Program) -> ProgramSettings:
    """The program's current settings."""
    return ProgramSettings(**{f.name: getattr(program, f.name) for f in fields(ProgramSettings)})


def check_settings(settings: ProgramSettings) -> dict[str, str]:
    """What is wrong with these settings (empty if nothing); keys are the settings' names."""
    problems = {}
    if not 1 <= settings.absence_alert_consecutive <= 20:
        problems["absence_alert_consecutive"] = _("Enter a whole number of absences from 1 to 20.")
    if not 0 <= settings.attendance_alert_rate <= 1:
        problems["attendance_alert_rate"] = _("Enter a percentage from 0 to 100.")
    low, high = HOURS_FLOOR_RANGE
    if not low <= settings.hours_floor_minutes <= high:
        problems["hours_floor_minutes"] = _(
            "Enter the weekly floor in hours, from 1 to 40 (ASAM 2.1: 9 for adults, 6 for adolescents).")
    if settings.page_size not in PAGE_SIZES:
        problems["page_size"] = _("Choose Letter or A4.")
    if settings.signin_naming not in SIGNIN_NAMING:
        problems["signin_naming"] = _("Choose preferred names or initials.")
    low, high = BILLABLE_MINIMUM_RANGE
    if not low <= settings.billable_minimum_minutes <= high:
        problems["billable_minimum_minutes"] = _("Enter the daily billable minimum in hours, from 0 to 12.")
    if not SERVICE_CODE.match(settings.service_code):
        problems["service_code"] = _(
            "Enter a HCPCS code (a letter and 4 digits, like H0015) or a 5-digit CPT code.")
    if not REVENUE_CODE.match(settings.revenue_code):
        problems["revenue_code"] = _("Enter a 4-digit revenue code, like 0906.")
    return problems


def _director_of(program: Program, user) -> None:
    if user.role != "director" or user.program_id != program.id:
        raise PermissionError("only the program's directors change its settings")


def update_settings(program: Program, settings: ProgramSettings, user) -> list[str]:
    """Save the settings if they are all valid (else SettingsRefused, nothing changed); the names changed."""
    _director_of(program, user)
    problems = check_settings(settings)
    if problems:
        raise SettingsRefused(problems)
    changed = [f.name for f in fields(ProgramSettings) if getattr(program, f.name) != getattr(settings, f.name)]
    for name in changed:
        setattr(program, name, getattr(settings, name))
    db.session.flush()
    return changed


# --- Attendance statuses: add, rename, flag, reorder, retire (history stays true) ---------------

@dataclass(frozen=True)
class StatusFlags:
    """A status as the director edits it: its label and what it means."""

    label: str
    counts_attended: bool = False
    counts_hours: bool = False
    excused: bool = False
    billable: bool = False
    is_default: bool = False


def is_retired(status: AttendanceStatus) -> bool:
    """A retired status stays on the rows that use it but is no longer offered."""
    return status.retired


def program_statuses(program_id: int) -> list[AttendanceStatus]:
    """Every status of the program, the offered ones first in their order, then the retired ones."""
    return list(db.session.scalars(select(AttendanceStatus).where(AttendanceStatus.program_id == program_id)
                                   .order_by(AttendanceStatus.retired, AttendanceStatus.position,
                                             AttendanceStatus.id)))


def active_statuses(program_id: int) -> list[AttendanceStatus]:
    """The statuses offered on the attendance form, in order."""
    return [s for s in program_statuses(program_id) if not is_retired(s)]


def statuses_in_use(program_id: int) -> dict[int, int]:
    """How many attendance rows use each status of the program (one GROUP BY)."""
    return dict(db.session.execute(
        select(Attendance.status_id, func.count(Attendance.id))
        .join(AttendanceStatus, AttendanceStatus.id == Attendance.status_id)
        .where(AttendanceStatus.program_id == program_id).group_by(Attendance.status_id)).all())


def check_status(program: Program, flags: StatusFlags, status: AttendanceStatus | None = None) -> dict[str, str]:
    """What is wrong with a new or edited status (empty if nothing); keys are the form's field names."""
    problems = {}
    label = flags.label.strip()
    others = [s for s in program_statuses(program.id) if status is None or s.id != status.id]
    if not label:
        problems["label"] = _("Name the status, for example Present or Telehealth.")
    elif len(label) > 40:
        problems["label"] = _("Keep the name to 40 characters or fewer.")
    elif any(s.label.strip().lower() == label.lower() for s in others):
        problems["label"] = _("There is already a status called %(label)s.", label=label)
    if flags.counts_attended and flags.excused:
        problems["excused"] = _("A status is either attended or an excused absence, not both.")
    if (flags.counts_hours or flags.billable) and not flags.counts_attended:
        problems["counts_hours" if flags.counts_hours else "billable"] = (
            _("Only a status that counts as attended can count toward hours or be billable."))
    if status is not None and is_retired(status) and flags.is_default:
        problems["is_default"] = _("A retired status cannot be the default. Restore it first.")
    if status is not None and status.is_default and not flags.is_default:
        problems["is_default"] = _("One status must be the default. Make another status the default instead.")
    active = [s for s in others if not is_retired(s)]
    if status is not None and not is_retired(status) and not flags.counts_attended \
            and not any(s.counts_attended for s in active):
        problems["counts_attended"] = _("At least one offered status must count as attended.")
    if status is None and len(others) >= MAX_STATUSES:
        problems["label"] = _("A program can have at most %(most)s statuses. Retire one you no longer use.",
                               most=MAX_STATUSES)
    return problems


def _new_code(program_id: int, label: str) -> str:
    """A short unique code from the label (codes never change, so history keeps its meaning)."""
    base = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")[:16] or "status"
    taken = set(db.session.scalars(select(AttendanceStatus.code).where(AttendanceStatus.program_id == program_id)))
    code, n = base, 2
    while code in taken:
        code, n = f"{base[:16]}_{n}", n + 1
    return code


def _renumber(program_id: int) -> None:
    """Positions 0.. for the offered statuses and, apart, 0.. for the retired ones, keeping their order."""
    rows = program_statuses(program_id)
    for retired in (False, True):
        for i, s in enumerate([s for s in rows if s.retired == retired]):
            s.position = i


def _apply(program: Program, status: AttendanceStatus, flags: StatusFlags) -> None:
    if flags.is_default and not status.is_default:
        for other in program_statuses(program.id):
            other.is_default = False
    status.label = flags.label.strip()
    for name in ("counts_attended", "counts_hours", "excused", "billable", "is_default"):
        setattr(status, name, getattr(flags, name))


def add_status(program: Program, flags: StatusFlags, user) -> AttendanceStatus:
    """Add a status at the end of the offered list (SettingsRefused if the input is wrong)."""
    _director_of(program, user)
    problems = check_status(program, flags)
    if problems:
        raise SettingsRefused(problems)
    offered = active_statuses(program.id)
    status = AttendanceStatus(program_id=program.id, code=_new_code(program.id, flags.label), label="",
                              position=len(offered))
    db.session.add(status)
    _apply(program, status, flags)
    _renumber(program.id)
    db.session.flush()
    return status


def update_status(program: Program, status: AttendanceStatus, flags: StatusFlags, user) -> AttendanceStatus:
    """Rename a status or change its flags; its code and the rows that use it stay as they are."""
    _director_of(program, user)
    problems = check_status(program, flags, status)
    if problems:
        raise SettingsRefused(problems)
    _apply(program, status, flags)
    db.session.flush()
    return status


def move_status(program: Program, status: AttendanceStatus, direction: str, user) -> None:
    """Move an offered status one place up or down the list."""
    _director_of(program, user)
    offered = active_statuses(program.id)
    if status not in offered or direction not in ("up", "down"):
        raise SettingsRefused({"status": _("Only an offered status can be moved up or down.")})
    i = offered.index(status)
    j = i - 1 if direction == "up" else i + 1
    if 0 <= j < len(offered):
        offered[i], offered[j] = offered[j], offered[i]
        for position, s in enumerate(offered):
            s.position = position
    db.session.flush()


def retire_status(program: Program, status: AttendanceStatus, user) -> str:
    """Stop offering a status: deleted if no row uses it, else kept as retired ("deleted" or "retired")."""
    _director_of(program, user)
    if is_retired(status):
        raise SettingsRefused({"status": _("%(label)s is already retired.", label=status.label)})
    if status.is_default:
        raise SettingsRefused({"status": _("%(label)s is the default. Make another status the default first.",
                                                label=status.label)})
    rest = [s for s in active_statuses(program.id) if s.id != status.id]
    if not any(s.counts_attended for s in rest):
        raise SettingsRefused({"status": _("At least one offered status must count as attended.")})
    if statuses_in_use(program.id).get(status.id):
        status.retired = True
        status.position = 10 * MAX_STATUSES  # renumbered just below, after the other retired ones
        outcome = "retired"
    else:
        db.session.delete(status)
        outcome = "deleted"
    db.session.flush()
    _renumber(program.id)
    db.session.flush()
    return outcome


def restore_status(program: Program, status: AttendanceStatus, user) -> None:
    """Offer a retired status again, at the end of the list."""
    _director_of(program, user)
    if not is_retired(status):
        raise SettingsRefused({"status": _("%(label)s is already offered.", label=status.label)})
    status.position = len(active_statuses(program.id))
    status.retired = False
    db.session.flush()
    _renumber(program.id)
    db.session.flush()
