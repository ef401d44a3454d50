"""A group runs one curriculum version on a weekly pattern; meetings are its dated occurrences."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..curricula.models import CurriculumVersion, Module
from ..extensions import db
from ..models_base import one_of, utcnow
from ..programs.models import Program

GROUP_MODES = ("open", "cohort")
CANCELLATION_POLICIES = ("postpone", "skip")
MEETING_STATUSES = ("scheduled", "held", "cancelled")


class Group(db.Model):
    """An ongoing (open) or cohort group that runs a curriculum version on a weekly pattern."""

    __tablename__ = "care_group"  # "group" is an SQL keyword
    __table_args__ = (
        UniqueConstraint("program_id", "name"),
        one_of("mode", GROUP_MODES),
        one_of("cancellation_policy", CANCELLATION_POLICIES),
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="dates_in_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    version_id: Mapped[int] = mapped_column(ForeignKey("curriculum_version.id"), index=True)
    mode: Mapped[str] = mapped_column(String(8), default="open")
    start_date: Mapped[date]
    end_date: Mapped[date | None]
    cancellation_policy: Mapped[str] = mapped_column(String(10), default="postpone")
    # Track code -> module code each rotation starts at (a group joining a program mid-rotation).
    starting_modules: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    facilitator_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    location: Mapped[str] = mapped_column(String(80), default="")
    active: Mapped[bool] = mapped_column(default=True)
    # The secret in the group's calendar subscription address (calendar apps cannot sign in); None
    # until staff make one; replacing it stops the old address. The feed carries no participant data.
    feed_token: Mapped[str | None] = mapped_column(String(43), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    program: Mapped[Program] = relationship()
    version: Mapped[CurriculumVersion] = relationship()
    slots: Mapped[list[Slot]] = relationship(
        back_populates="group", order_by=lambda: (Slot.weekday, Slot.start_time), cascade="all, delete-orphan"
    )


class Slot(db.Model):
    """One entry of a group's weekly pattern: weekday (0 = Monday), start time, track, minutes."""

    __tablename__ = "slot"
    __table_args__ = (
        UniqueConstraint("group_id", "weekday", "start_time", "track_code"),
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("minutes > 0 AND minutes <= 480", name="minutes_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("care_group.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int]
    start_time: Mapped[time]
    track_code: Mapped[str] = mapped_column(String(4))
    minutes: Mapped[int]

    group: Mapped[Group] = relationship(back_populates="slots")


class Cancellation(db.Model):
    """A group's meetings cancelled on one date (all tracks, or one), decided ahead of time."""

    __tablename__ = "cancellation"
    __table_args__ = (UniqueConstraint("group_id", "date", "track_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("care_group.id", ondelete="CASCADE"), index=True)
    date: Mapped[date]
    track_code: Mapped[str | None] = mapped_column(String(4))
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Meeting(db.Model):
    """One dated occurrence of a slot, delivering one module; a row exists once it is opened or recorded."""

    __tablename__ = "meeting"
    __table_args__ = (
        UniqueConstraint("group_id", "date", "start_time", "track_code"),
        one_of("status", MEETING_STATUSES),
        CheckConstraint("minutes > 0 AND minutes <= 480", name="minutes_range"),
        CheckConstraint("status <> 'held' OR module_id IS NOT NULL", name="held_has_module"),
        CheckConstraint("(locked_at IS NULL) = (locked_by_id IS NULL)", name="lock_has_signer"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("care_group.id"), index=True)
    date: Mapped[date] = mapped_column(index=True)
    start_time: Mapped[time]
    track_code: Mapped[str] = mapped_column(String(4))
    minutes: Mapped[int]
    module_id: Mapped[int | None] = mapped_column(ForeignKey("module.id"), index=True)
    topic_picked: Mapped[bool] = mapped_column(default=False)  # a facilitator chose the pool topic
    status: Mapped[str] = mapped_column(String(10), default="scheduled")
    cancel_reason: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")  # the shared part of the group note
    fidelity: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # One more at every attendance save; the form carries the number it was built from, so a save
    # based on an older page is refused instead of overwriting what someone saved meanwhile.
    attendance_version: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_at: Mapped[datetime | None]
    locked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    group: Mapped[Group] = relationship()
    module: Mapped[Module | None] = relationship()
    addenda: Mapped[list[MeetingAddendum]] = relationship(
        back_populates="meeting", order_by="MeetingAddendum.created_at", cascade="all, delete-orphan"
    )


class MeetingAddendum(db.Model):
    """A signed addition to a locked group note; the note itself never changes after the lock."""

    __tablename__ = "meeting_addendum"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    meeting: Mapped[Meeting] = relationship(back_populates="addenda")
