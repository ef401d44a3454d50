"""Column helpers shared by every area's models."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint

from . import clock


def utcnow() -> datetime:
    """The current time in UTC without tzinfo: the form every timestamp column stores."""
    return clock.naive_utc_now()


def one_of(column: str, values: tuple[str, ...], name: str | None = None) -> CheckConstraint:
    """A check constraint limiting a text column to a fixed list of values."""
    listed = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({listed})", name=name or f"{column}_allowed")
