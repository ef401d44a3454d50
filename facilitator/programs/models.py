"""A program owns users, groups, participants, holidays and settings."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..models_base import one_of, utcnow

PAGE_SIZES = ("letter", "a4")
SIGNIN_NAMING = ("preferred", "initials")


class Program(db.Model):
    """A clinic or site, with the settings its directors control."""

    __tablename__ = "program"
    __table_args__ = (
        one_of("page_size", PAGE_SIZES),
        one_of("signin_naming", SIGNIN_NAMING),
        CheckConstraint("hours_floor_minutes BETWEEN 0 AND 3000", name="hours_floor_range"),
        CheckConstraint("absence_alert_consecutive BETWEEN 1 AND 20", name="absence_alert_range"),
        CheckConstraint("attendance_alert_rate BETWEEN 0 AND 1", name="attendance_rate_range"),
        CheckConstraint("billable_minimum_minutes BETWEEN 0 AND 1440", name="billable_minimum_range"),
        CheckConstraint("idle_minutes_staff BETWEEN 5 AND 60", name="idle_staff_range"),
        CheckConstraint("idle_minutes_participant BETWEEN 5 AND 60", name="idle_participant_range"),
        CheckConstraint("portal_days_after_discharge BETWEEN 0 AND 365", name="portal_days_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    timezone: Mapped[str] = mapped_column(String(60), default="America/Los_Angeles")
    hours_floor_minutes: Mapped[int] = mapped_column(default=540)  # ASAM 2.1 adults: 9 h a week
    absence_alert_consecutive: Mapped[int] = mapped_column(default=2)
    attendance_alert_rate: Mapped[float] = mapped_column(default=0.75)
    page_size: Mapped[str] = mapped_column(String(10), default="letter")
    signin_naming: Mapped[str] = mapped_column(String(12), default="preferred")
    billable_minimum_minutes: Mapped[int] = mapped_column(default=180)
    service_code: Mapped[str] = mapped_column(String(12), default="H0015")
    revenue_code: Mapped[str] = mapped_column(String(8), default="0906")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Printed on documents (worksheets, reports, handouts).
    address: Mapped[str] = mapped_column(String(200), default="", server_default="")
    phone: Mapped[str] = mapped_column(String(40), default="", server_default="")
    # Automatic logoff (HIPAA 164.312(a)(2)(iii)): minutes without a request before a session ends.
    idle_minutes_staff: Mapped[int] = mapped_column(default=15, server_default="15")
    idle_minutes_participant: Mapped[int] = mapped_column(default=15, server_default="15")
    require_mfa_staff: Mapped[bool] = mapped_column(default=False, server_default=false())
    # A participant's portal sign-in ends this many days after their discharge.
    portal_days_after_discharge: Mapped[int] = mapped_column(default=30, server_default="30")

    statuses: Mapped[list[AttendanceStatus]] = relationship(
        back_populates="program", order_by="AttendanceStatus.position", cascade="all, delete-orphan"
    )
    holidays: Mapped[list[Holiday]] = relationship(
        back_populates="program", order_by="Holiday.date", cascade="all, delete-orphan"
    )


class AttendanceStatus(db.Model):
    """One entry of a program's configurable list of attendance statuses, with its flags."""

    __tablename__ = "attendance_status"
    __table_args__ = (UniqueConstraint("program_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(20))
    label: Mapped[str] = mapped_column(String(40))
    counts_attended: Mapped[bool] = mapped_column(default=False)
    counts_hours: Mapped[bool] = mapped_column(default=False)
    excused: Mapped[bool] = mapped_column(default=False)
    billable: Mapped[bool] = mapped_column(default=False)
    is_default: Mapped[bool] = mapped_column(default=False)  # pre-selected on the attendance form
    position: Mapped[int] = mapped_column(default=0)
    # No longer offered on the attendance form, kept because rows use it (history keeps its meaning).
    retired: Mapped[bool] = mapped_column(default=False, server_default=false())

    program: Mapped[Program] = relationship(back_populates="statuses")


class Holiday(db.Model):
    """A day the whole program is closed: every meeting that day is cancelled."""

    __tablename__ = "holiday"
    __table_args__ = (UniqueConstraint("program_id", "date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id", ondelete="CASCADE"), index=True)
    date: Mapped[date]
    name: Mapped[str] = mapped_column(String(80))

    program: Mapped[Program] = relationship(back_populates="holidays")


# code, label, counts_attended, counts_hours, excused, billable, is_default
DEFAULT_STATUSES = (
    ("present", "Present", True, True, False, True, True),
    ("late", "Late", True, True, False, True, False),
    ("left_early", "Left early", True, True, False, True, False),
    ("excused", "Excused", False, False, True, False, False),
    ("absent", "Absent", False, False, False, False, False),
)
