"""Make-up suggestions: for each module a participant is missing, the next meetings that deliver
it in any group of the program (another group at a different rotation point is often days
away, not a whole rotation), or an individual session.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from .calendar import Calendar
from .model import Meeting
from .progress import Progress


@dataclass(frozen=True)
class MakeupSuggestion:
    """Ways to cover one missing module: the next meetings that deliver it, or an individual session."""

    module: str
    missed: bool  # delivered while they were expected (not just not reached yet)
    meetings: tuple[Meeting, ...]
    individual: bool = True  # an individual make-up is always possible


class Deliveries:
    """The held meetings of several calendars by module, in date order: where to make a module up."""

    def __init__(self, calendars: Iterable[Calendar]):
        by_module: dict[str, list[Meeting]] = {}
        for calendar in calendars:
            for module, (_dates, meetings) in calendar.deliveries.items():
                by_module.setdefault(module, []).extend(meetings)
        self._meetings = {m: sorted(ms, key=lambda x: (x.date, x.time, x.group)) for m, ms in by_module.items()}
        self._dates = {m: [x.date for x in ms] for m, ms in self._meetings.items()}
        # Participants of a program share as_of and miss the same modules: answers are reused.
        self._memo: dict[tuple[str, date, int, bool], MakeupSuggestion] = {}

    def after(self, module: str, day: date, limit: int) -> tuple[Meeting, ...]:
        """The first `limit` meetings after `day` that deliver `module`, in any of the calendars."""
        dates = self._dates.get(module)
        if not dates:
            return ()
        start = bisect_right(dates, day)
        return tuple(self._meetings[module][start:start + limit])

    def suggestion(self, module: str, day: date, limit: int, missed: bool) -> MakeupSuggestion:
        """The make-up suggestion for a module missing on `day` (an immutable, shared value)."""
        key = (module, day, limit, missed)
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = MakeupSuggestion(module, missed, self.after(module, day, limit))
        return found


def makeup_suggestions(progress: Progress, where: Deliveries | Iterable[Calendar],
                       limit: int = 3) -> tuple[MakeupSuggestion, ...]:
    """For each missing group module, the next meetings after as_of that deliver it in any group."""
    index = where if isinstance(where, Deliveries) else Deliveries(where)
    out = []
    for track in progress.tracks:
        if not track.scheduled:
            continue
        missed = set(track.missed)
        for module in track.missing:
            out.append(index.suggestion(module, progress.as_of, limit, module in missed))
    return tuple(out)
