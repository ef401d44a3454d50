"""The app's one clock. Every "today" and "now" comes from here, in the program's time zone; nothing
else asks the system for the date. Tests freeze it (time-machine moves this process's clock, the
live test server's thread included).

File ages are not this clock's business: a file's time is the file system's, so code that ages files
compares them with another file's time (see documents.service), never with "now" from here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

DEFAULT_ZONE = "America/Los_Angeles"  # a program's zone until its director sets one


def utc_now() -> datetime:
    """The current instant, aware, in UTC."""
    return datetime.now(UTC)


def naive_utc_now() -> datetime:
    """The current instant in UTC without tzinfo: the form every timestamp column stores."""
    return utc_now().replace(tzinfo=None)


def now(zone: str | None = None) -> datetime:
    """The current instant as a wall-clock time in the zone (the program's; default zone if None)."""
    return utc_now().astimezone(ZoneInfo(zone or DEFAULT_ZONE))


def today(zone: str | None = None) -> date:
    """Today's date in the zone: an evening group at 7 pm in California is still today there,
    though the server (UTC) says tomorrow."""
    return now(zone).date()
