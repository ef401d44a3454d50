"""Creating programs with sensible defaults."""

from __future__ import annotations

import re

from sqlalchemy import select

from ..extensions import db
from .models import DEFAULT_STATUSES, AttendanceStatus, Program


def slugify(name: str) -> str:
    """A URL-safe short name from a program name."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60] or "program"


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
