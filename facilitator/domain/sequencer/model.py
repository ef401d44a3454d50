"""The sequencer's plain data: tracks as the sequencer sees them, a group's definition, the
things that change a calendar (cancellations, topic picks, recorded meetings), and meetings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cached_property

from ..curriculum import WEEKDAYS, Curriculum, PatternSlot

POLICIES = ("postpone", "skip")
MODES = ("open", "cohort")
SCHEDULED_KINDS = ("group", "family")  # individual tracks are booked one by one, not by slots
SCHEDULED_ORDERINGS = ("rotating", "pool")
WEEKDAY_INDEX = {name: index for index, name in enumerate(WEEKDAYS)}


@dataclass(frozen=True)
class TrackPlan:
    """A track as the sequencer sees it: codes in curriculum order, minutes, and the rules."""

    code: str
    kind: str
    ordering: str
    modules: tuple[str, ...]
    module_minutes: tuple[int, ...]  # same length as modules
    required: bool = True
    first_week: int = 1

    @property
    def scheduled(self) -> bool:
        """True if meetings of this track come from a group's weekly pattern."""
        return self.kind in SCHEDULED_KINDS and self.ordering in SCHEDULED_ORDERINGS

    @cached_property
    def position(self) -> dict[str, int]:
        """Module code -> index in the rotation."""
        return {code: index for index, code in enumerate(self.modules)}


def track_plans(curriculum: Curriculum) -> tuple[TrackPlan, ...]:
    """The sequencer's view of a curriculum's tracks (retired modules are not delivered)."""
    plans = []
    for track in curriculum.tracks:
        live = [m for m in track.modules if not m.retired]
        plans.append(TrackPlan(
            code=track.code, kind=track.kind, ordering=track.ordering,
            modules=tuple(m.code for m in live), module_minutes=tuple(m.minutes for m in live),
            required=track.required, first_week=track.first_week,
        ))
    return tuple(plans)


@dataclass(frozen=True)
class GroupSpec:
    """What defines a group's calendar: start, weekly pattern, tracks, starting modules, mode."""

    id: str
    start: date
    slots: tuple[PatternSlot, ...]
    tracks: tuple[TrackPlan, ...]
    start_modules: tuple[tuple[str, str], ...] = ()  # (track code, module code); open mode only
    mode: str = "open"
    end: date | None = None  # a group that closes delivers nothing after this date

    def track(self, code: str) -> TrackPlan:
        """The track plan with this code; KeyError if there is none."""
        for plan in self.tracks:
            if plan.code == code:
                return plan
        raise KeyError(code)


@dataclass(frozen=True)
class Cancellation:
    """Meetings cancelled on one date: every track, or only the one named."""

    date: date
    track: str | None = None


@dataclass(frozen=True)
class TopicPick:
    """A facilitator's choice of pool topic for one meeting (time only if the day has two)."""

    date: date
    track: str
    module: str
    time: str | None = None


@dataclass(frozen=True)
class RecordedMeeting:
    """A meeting as it was actually recorded; it replaces the planned meeting with the same key."""

    date: date
    time: str
    track: str
    status: str  # held | cancelled | scheduled (a row opened ahead, e.g. with a picked topic)
    module: str | None
    minutes: int | None = None  # None: the slot's minutes


@dataclass(frozen=True)
class Meeting:
    """One dated occurrence of a track's slot and the module it delivers (or would have)."""

    group: str
    date: date
    time: str
    track: str
    minutes: int
    module: str | None  # for a cancelled meeting: the module it would have delivered
    status: str  # held | cancelled (future meetings are projected as held)
    reason: str = ""  # why it was cancelled: holiday | cancelled | recorded
    recorded: bool = False

    @property
    def key(self) -> tuple[str, date, str, str]:
        """What identifies a meeting across calendars: group, date, time, track."""
        return (self.group, self.date, self.time, self.track)

    @property
    def held(self) -> bool:
        """True if the meeting takes place."""
        return self.status == "held"
