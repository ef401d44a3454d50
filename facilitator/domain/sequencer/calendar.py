"""Layer 1 of the sequencer: a group's weekly pattern, rotation, holidays and cancellations
turned into dated meetings, each with the module it delivers.

Pure data in, pure data out. The same function serves the what-if simulator (everything
planned) and the web app (recorded history first, then the plan); the calendar can be
extended past its last day with the same pattern, which is how completion is projected.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property, lru_cache

from ..curriculum import WEEKDAYS, PatternSlot
from .model import (
    MODES,
    POLICIES,
    WEEKDAY_INDEX,
    Cancellation,
    GroupSpec,
    Meeting,
    RecordedMeeting,
    TopicPick,
    TrackPlan,
)


class Timeline:
    """A track's held meetings as parallel lists (dates as ordinals): what progress walks fast."""

    __slots__ = ("meetings", "ords", "times", "positions", "minutes", "weeks", "credits")

    def __init__(self) -> None:
        self.meetings: list[Meeting] = []
        self.ords: list[int] = []
        self.times: list[str] = []
        self.positions: list[int] = []  # index of the module in the track; -1 if none
        self.minutes: list[int] = []
        self.weeks: list[str] = []  # ISO week labels
        # The credit that attending each meeting gives is the same value for every attendee, so
        # progress builds it once per meeting and shares it (filled lazily, None until needed).
        self.credits: list[object] = []

    def add(self, meeting: Meeting, plan: TrackPlan) -> None:
        """Append a held meeting (in date and time order)."""
        ordinal = meeting.date.toordinal()
        self.meetings.append(meeting)
        self.ords.append(ordinal)
        self.times.append(meeting.time)
        self.positions.append(plan.position.get(meeting.module, -1) if meeting.module else -1)
        self.minutes.append(meeting.minutes)
        self.weeks.append(week_label(ordinal))
        self.credits.append(None)

    def __len__(self) -> int:
        return len(self.ords)


@lru_cache(maxsize=16384)
def week_label(ordinal: int) -> str:
    """The ISO week label ("2027-W06") of a date given as an ordinal."""
    year, week, _ = date.fromordinal(ordinal).isocalendar()
    return f"{year}-W{week:02d}"


@dataclass(frozen=True)
class Calendar:
    """A group's meetings from its start through `until`, and where each rotation stands after."""

    group: GroupSpec
    until: date
    meetings: tuple[Meeting, ...]  # in date, time, pattern order
    next_positions: tuple[tuple[str, int], ...]  # track -> index of the module its next meeting delivers
    # Timelines (known and extended) are memoised per track: every participant's walk reads them.
    _memo: dict[tuple[str, str], Timeline] = field(default_factory=dict, compare=False, repr=False)

    @cached_property
    def plans(self) -> dict[str, TrackPlan]:
        """Track code -> plan."""
        return {plan.code: plan for plan in self.group.tracks}

    @cached_property
    def plan_of_module(self) -> dict[str, TrackPlan]:
        """Module code -> the plan of its track."""
        return {code: plan for plan in self.group.tracks for code in plan.modules}

    def timeline(self, track: str) -> Timeline:
        """The track's held meetings from the start through `until`."""
        found = self._memo.get(("known", track))
        if found is None:
            found = self._memo[("known", track)] = Timeline()
            plan = self.group.track(track)
            for meeting in self.meetings:
                if meeting.track == track and meeting.held:
                    found.add(meeting, plan)
        return found

    def extension(self, track: str, count: int) -> Timeline:
        """The track's meetings after `until` (same pattern, nothing cancelled), at least `count`
        of them unless the group ends first; the timeline grows on demand and is shared."""
        have = self._memo.setdefault(("extended", track), Timeline())
        if len(have) < count:
            plan = self.group.track(track)
            target = max(count, 2 * len(have), 16)  # grow by doubling: few restarts of the generator
            for meeting in _extension(self, track, have.meetings[-1] if have.meetings else None):
                have.add(meeting, plan)
                if len(have) >= target:
                    break
        return have

    def extended(self, track: str, count: int) -> list[Meeting]:
        """The first `count` meetings of a track after `until` (same pattern, nothing cancelled)."""
        return self.extension(track, count).meetings[:count]

    @cached_property
    def deliveries(self) -> dict[str, tuple[list[date], list[Meeting]]]:
        """Module code -> (dates, meetings) of the held meetings that deliver it."""
        out: dict[str, tuple[list[date], list[Meeting]]] = {}
        for meeting in self.meetings:
            if meeting.held and meeting.module is not None:
                dates, items = out.setdefault(meeting.module, ([], []))
                dates.append(meeting.date)
                items.append(meeting)
        return out

    def next_deliveries(self, module: str, after: date, limit: int = 3) -> list[Meeting]:
        """The first `limit` held meetings after `after` that deliver `module`."""
        dates, items = self.deliveries.get(module, ([], []))
        start = bisect_right(dates, after)
        return items[start:start + limit]


def _sorted_slots(slots: Iterable[PatternSlot]) -> list[tuple[int, PatternSlot]]:
    """Slots with their pattern index, in weekday and time order (ties keep pattern order)."""
    indexed = list(enumerate(slots))
    return sorted(indexed, key=lambda pair: (WEEKDAY_INDEX[pair[1].weekday], pair[1].time, pair[0]))


def _start_positions(group: GroupSpec) -> dict[str, int]:
    positions = {plan.code: 0 for plan in group.tracks}
    if group.mode == "cohort":
        return positions  # a cohort starts every track at module 1
    for track, module in group.start_modules:
        positions[track] = group.track(track).position[module]
    return positions


def check_group(group: GroupSpec) -> None:
    """Raise ValueError if the group spec cannot be sequenced (unknown names, bad values)."""
    codes = {plan.code: plan for plan in group.tracks}
    if group.mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {group.mode!r}")
    for slot in group.slots:
        if slot.weekday not in WEEKDAY_INDEX:
            raise ValueError(f"unknown weekday {slot.weekday!r}")
        if slot.track not in codes or not codes[slot.track].scheduled:
            raise ValueError(f"track {slot.track!r} cannot have slots")
        if slot.minutes <= 0:
            raise ValueError(f"slot minutes must be positive, not {slot.minutes}")
    if group.mode == "cohort" and group.start_modules:
        raise ValueError("a cohort group starts every track at module 1")
    for track, module in group.start_modules:
        if track not in codes or module not in codes[track].position:
            raise ValueError(f"unknown starting module {module!r} for track {track!r}")


def build_calendar(
    group: GroupSpec,
    until: date,
    holidays: Iterable[date] = (),
    cancellations: Iterable[Cancellation] = (),
    policy: str = "postpone",
    picks: Iterable[TopicPick] = (),
    recorded: Iterable[RecordedMeeting] = (),
) -> Calendar:
    """Every meeting of the group from its start through `until`, with the module each delivers."""
    check_group(group)
    if policy not in POLICIES:
        raise ValueError(f"policy must be one of {', '.join(POLICIES)}, not {policy!r}")
    last = min(until, group.end) if group.end else until
    holiday_set = set(holidays)
    cancelled_all: set[date] = set()
    cancelled_track: set[tuple[date, str]] = set()
    for c in cancellations:
        if c.track is not None and c.track not in {plan.code for plan in group.tracks}:
            raise ValueError(f"cancellation on {c.date} names unknown track {c.track!r}")
        if c.track is None:
            cancelled_all.add(c.date)
        else:
            cancelled_track.add((c.date, c.track))
    pick_by_key = _index_picks(group, picks)
    history = {(r.date, r.time, r.track): r for r in recorded}

    # The planned keys of the pattern, then recorded meetings the pattern does not have
    # (moved or extra meetings); all of them are walked in date and time order.
    keyed: list[tuple[date, str, int, PatternSlot | None, RecordedMeeting | None]] = []
    by_weekday: dict[int, list[tuple[int, PatternSlot]]] = {}
    for index, slot in _sorted_slots(group.slots):
        by_weekday.setdefault(WEEKDAY_INDEX[slot.weekday], []).append((index, slot))
    day = group.start
    while day <= last:
        for index, slot in by_weekday.get(day.weekday(), ()):
            keyed.append((day, slot.time, index, slot, history.pop((day, slot.time, slot.track), None)))
        day += timedelta(days=1)
    for (day, time, _track), record in history.items():
        if group.start <= day <= last:
            keyed.append((day, time, len(group.slots), None, record))
    keyed.sort(key=lambda item: (item[0], item[1], item[2]))

    positions = _start_positions(group)
    plans = {plan.code: plan for plan in group.tracks}
    meetings = []
    for day, time, _index, slot, record in keyed:
        track = slot.track if slot else record.track  # type: ignore[union-attr]
        if track not in plans:
            raise ValueError(f"recorded meeting on {day} names unknown track {track!r}")
        plan = plans[track]
        if record is not None and record.minutes:
            minutes = record.minutes
        elif slot is not None:
            minutes = slot.minutes
        else:
            minutes = _usual_minutes(group, plan)
        if record is not None:
            meeting, positions[track] = _recorded(group.id, plan, record, minutes, positions[track], policy)
        else:
            if day in holiday_set:
                reason = "holiday"
            elif day in cancelled_all or (day, track) in cancelled_track:
                reason = "cancelled"
            else:
                reason = ""
            pick = pick_by_key.get((day, time, track)) or pick_by_key.get((day, None, track))
            meeting, positions[track] = _planned(group.id, plan, day, time, minutes, positions[track],
                                                 reason, policy, pick)
        meetings.append(meeting)
    return Calendar(group, until, tuple(meetings), tuple(sorted(positions.items())))


def _index_picks(group: GroupSpec, picks: Iterable[TopicPick]) -> dict[tuple[date, str | None, str], str]:
    out = {}
    for pick in picks:
        plan = group.track(pick.track)
        if plan.ordering != "pool":
            raise ValueError(f"topic picks are for pool tracks; {pick.track} rotates")
        if pick.module not in plan.position:
            raise ValueError(f"{pick.module!r} is not a module of {pick.track}")
        out[(pick.date, pick.time, pick.track)] = pick.module
    return out


def _usual_minutes(group: GroupSpec, plan: TrackPlan) -> int:
    """A track's slot length, for a recorded extra meeting that does not say its own."""
    for slot in group.slots:
        if slot.track == plan.code:
            return slot.minutes
    return plan.module_minutes[0] if plan.module_minutes else 0


def _advance(plan: TrackPlan, position: int) -> int:
    return (position + 1) % len(plan.modules) if plan.modules else 0


def _planned(group_id: str, plan: TrackPlan, day: date, time: str, minutes: int, position: int,
             reason: str, policy: str, pick: str | None) -> tuple[Meeting, int]:
    due = plan.modules[position] if plan.modules else None
    if reason:
        # postpone: the module waits for the next meeting; skip: the rotation moves past it.
        after = _advance(plan, position) if policy == "skip" else position
        return Meeting(group_id, day, time, plan.code, minutes, due, "cancelled", reason), after
    if pick is not None and pick != due:
        # A picked topic displaces the planned one, which then comes next: nothing is lost.
        return Meeting(group_id, day, time, plan.code, minutes, pick, "held"), position
    return Meeting(group_id, day, time, plan.code, minutes, due, "held"), _advance(plan, position)


def _recorded(group_id: str, plan: TrackPlan, record: RecordedMeeting, minutes: int, position: int,
              policy: str) -> tuple[Meeting, int]:
    due = plan.modules[position] if plan.modules else None
    if record.status == "cancelled":
        after = _advance(plan, position) if policy == "skip" else position
        return Meeting(group_id, record.date, record.time, plan.code, minutes, record.module or due,
                       "cancelled", "recorded", True), after
    module = record.module or due
    meeting = Meeting(group_id, record.date, record.time, plan.code, minutes, module, "held", "", True)
    if plan.ordering == "pool" and module != due:
        return meeting, position  # a picked pool topic, as in _planned
    if module in plan.position:
        # What was actually delivered decides what comes next, even if it was off-plan.
        return meeting, _advance(plan, plan.position[module])
    return meeting, _advance(plan, position)


def _extension(calendar: Calendar, track: str, last: Meeting | None) -> Iterator[Meeting]:
    """The track's meetings after `last` (or after the calendar's end): no holidays, no picks."""
    group = calendar.group
    plan = group.track(track)
    slots = [slot for _index, slot in _sorted_slots(group.slots) if slot.track == track]
    if not slots:
        return
    if last is None:
        after_day, after_time = calendar.until, "99:99"
        position = dict(calendar.next_positions)[track]
    else:
        after_day, after_time = last.date, last.time
        position = _advance(plan, plan.position[last.module]) if last.module in plan.position else 0
    # Meetings before the start do not exist, whatever `until` says.
    if after_day < group.start:
        after_day, after_time = group.start - timedelta(days=1), "99:99"
    monday = after_day - timedelta(days=after_day.weekday())
    while True:
        for slot in slots:
            day = monday + timedelta(days=WEEKDAY_INDEX[slot.weekday])
            if group.end and day > group.end:
                return
            if (day, slot.time) > (after_day, after_time):
                module = plan.modules[position] if plan.modules else None
                yield Meeting(group.id, day, slot.time, track, slot.minutes, module, "held")
                position = _advance(plan, position)
        monday += timedelta(days=7)


def extend_calendar(calendar: Calendar, until: date) -> tuple[Meeting, ...]:
    """The meetings after the calendar's end through `until`, as the pattern would give them."""
    out: list[Meeting] = []
    for track in sorted({slot.track for slot in calendar.group.slots}):
        count = 8
        while True:
            batch = calendar.extended(track, count)
            if len(batch) < count or batch[-1].date > until:
                break
            count *= 2
        out.extend(m for m in batch if m.date <= until)
    order = {(s.weekday, s.time, s.track): index for index, s in enumerate(calendar.group.slots)}
    return tuple(sorted(out, key=lambda m: (m.date, m.time, order[(WEEKDAYS[m.date.weekday()], m.time, m.track)])))
