"""The iCalendar file of a group's meetings (8 weeks back, 16 ahead), with one VTIMEZONE per time
zone its events use.

The VTIMEZONE is written the way zoneinfo-based generators (vzic, tzurl.org's Outlook variant) write
it and calendar programs expect it: a STANDARD and a DAYLIGHT sub-component, each repeating on a
yearly rule (RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU), or a single STANDARD for a zone without daylight
saving time. icalendar 7 offers only Timezone.from_tzinfo (behind add_missing_timezones), which lists
every change as an RDATE, and vobject and Outlook read the events of daylight-saving dates an hour off
in that form. So the rule is derived here from zoneinfo: find each year's offset changes, name the
day of each as "the nth (or last) weekday of the month" or "the first weekday on or after day d",
and keep the rule only if it gives every change of the years around the feed. A zone whose changes
follow no yearly rule there (a country changing its rules that year; Morocco's breaks for Ramadan)
gets its changes listed one by one instead (icalendar's RDATE form drops some of Morocco's changes).
"""

from __future__ import annotations

import calendar as month_calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from icalendar import Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard, vRecur, vText

from .. import clock
from ..groups.calendars import group_calendar, version_structure
from ..groups.models import Group
from ..groups.services import titles_of
from ..programs.models import Program

CALENDAR_PAST = timedelta(weeks=8)  # the feed shows recent meetings and the coming ones
CALENDAR_AHEAD = timedelta(weeks=16)
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
RULE_EPOCH = 1970  # the year the yearly rules start from, as in the zoneinfo-based generators


def group_calendar_ics(group: Group, program: Program, today: date) -> bytes:
    """A group's meetings from 8 weeks ago to 16 weeks ahead as iCalendar: each meeting's module as
    its summary; cancelled meetings marked cancelled. No participant data."""
    first, last = today - CALENDAR_PAST, today + CALENDAR_AHEAD
    meetings = group_calendar(group, last)
    structure = version_structure(group.version_id)
    titles = titles_of(structure)
    track_names = {t.code: t.name for t in structure.tracks}
    zone = ZoneInfo(program.timezone)
    stamp = clock.utc_now().replace(microsecond=0)
    cal = Calendar()
    cal.add("prodid", "-//facilitator//group meetings//EN")
    cal.add("version", "2.0")
    # X- properties are untyped to icalendar: say they are text so commas and semicolons get escaped.
    cal.add("x-wr-calname", vText(group.name))
    cal.add("x-wr-timezone", vText(program.timezone))
    events = []
    for m in meetings.meetings:
        if m.date < first:
            continue
        start = datetime.combine(m.date, time.fromisoformat(m.time), tzinfo=zone)
        event = Event()
        event.add("uid", f"group-{group.id}-{m.date:%Y%m%d}-{m.time.replace(':', '')}-{m.track}@facilitator")
        event.add("dtstamp", stamp)
        event.add("dtstart", start)
        event.add("dtend", start + timedelta(minutes=m.minutes))
        summary = f"{m.module} {titles.get(m.module, '')}".strip() if m.module else track_names.get(m.track, m.track)
        event.add("summary", summary)
        event.add("description", f"{group.name}: {track_names.get(m.track, m.track)}")
        if group.location:
            event.add("location", group.location)
        if not m.held:
            event.add("status", "CANCELLED")
        events.append(event)
    if events:  # a VTIMEZONE for the zone the events use (RFC 5545: one per TZID referenced)
        cal.add_component(vtimezone(program.timezone, first, last))
    for event in events:
        cal.add_component(event)
    return cal.to_ical()


@dataclass(frozen=True)
class Change:
    """One change of a zone's UTC offset."""

    wall: datetime  # the local time just before it (what DTSTART and RRULE count in), naive
    before: timedelta
    after: timedelta
    name: str  # the abbreviation in force after it ("PDT")


def offset_changes(zone: ZoneInfo, year: int) -> list[Change]:
    """The zone's offset changes in a year: found a day at a time, then to the second."""
    out = []
    day, end = datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    offset = day.astimezone(zone).utcoffset()
    while day < end:
        after = (day + timedelta(days=1)).astimezone(zone).utcoffset()
        if after != offset:
            low, high = 0, 86_400  # seconds into the day: the old offset at low, the new one at high
            while high - low > 1:
                middle = (low + high) // 2
                if (day + timedelta(seconds=middle)).astimezone(zone).utcoffset() == offset:
                    low = middle
                else:
                    high = middle
            instant = day + timedelta(seconds=high)
            out.append(Change((instant + offset).replace(tzinfo=None), offset, after,
                              instant.astimezone(zone).tzname() or ""))
            offset = after
        day += timedelta(days=1)
    return out


def day_rules(wall: datetime) -> list[str]:
    """The yearly rules (RRULE parts after FREQ) that fall on this day, the usual forms first: the
    last weekday of the month, the nth weekday, the first weekday on or after a day of the month."""
    weekday, day, month = WEEKDAYS[wall.weekday()], wall.day, wall.month
    rules = []
    if day + 7 > month_calendar.monthrange(wall.year, wall.month)[1]:
        rules.append(f"BYMONTH={month};BYDAY=-1{weekday}")
    rules.append(f"BYMONTH={month};BYDAY={(day - 1) // 7 + 1}{weekday}")
    for first in range(max(1, day - 6), min(day, 22) + 1):  # up to the 22nd: seven days in every month
        days = ",".join(str(d) for d in range(first, first + 7))
        rules.append(f"BYMONTH={month};BYDAY={weekday};BYMONTHDAY={days}")
    return rules


def _subcomponent(changes: list[Change], rule: str) -> TimezoneStandard | TimezoneDaylight:
    """A STANDARD or DAYLIGHT part repeating one change every year from 1970 on."""
    change = changes[0]
    part = TimezoneDaylight() if change.after > change.before else TimezoneStandard()
    start = rrulestr(f"FREQ=YEARLY;{rule}", dtstart=datetime.combine(date(RULE_EPOCH, 1, 1), change.wall.time()))[0]
    part.add("tzname", change.name)
    part.add("tzoffsetfrom", change.before)
    part.add("tzoffsetto", change.after)
    part.add("dtstart", start)
    part.add("rrule", vRecur.from_ical(f"FREQ=YEARLY;{rule}"))
    return part


def vtimezone(key: str, first: date, last: date) -> Timezone:
    """The zone's VTIMEZONE in the RRULE form, right for every change from the year before `first`
    to the year after `last`; its changes listed one by one if they follow no yearly rule there."""
    zone = ZoneInfo(key)
    years = range(first.year - 1, last.year + 2)
    by_year = [offset_changes(zone, year) for year in years]
    tz = Timezone()
    tz.add("tzid", key)
    if not any(by_year):
        probe = datetime(first.year, first.month, first.day, 12, tzinfo=zone)
        part = TimezoneStandard()
        part.add("tzname", probe.tzname() or key)
        part.add("tzoffsetfrom", probe.utcoffset())
        part.add("tzoffsetto", probe.utcoffset())
        part.add("dtstart", datetime(RULE_EPOCH, 1, 1))
        tz.add_component(part)
        return tz
    counts = {len(changes) for changes in by_year}
    if counts == {2}:
        parts = []
        for n in range(2):
            same = [changes[n] for changes in by_year]
            kinds = {(c.wall.month, c.wall.time(), c.before, c.after, c.name) for c in same}
            rules = [r for r in day_rules(same[0].wall) if all(r in day_rules(c.wall) for c in same[1:])]
            if len(kinds) != 1 or not rules:
                break
            parts.append(_subcomponent(same, rules[0]))
        else:
            for part in parts:
                tz.add_component(part)
            return tz
    return _listed(tz, zone, years[0], [c for changes in by_year for c in changes])


def _listed(tz: Timezone, zone: ZoneInfo, year: int, changes: list[Change]) -> Timezone:
    """The zone's changes one by one (a sub-component each, its DTSTART the change), after the offset
    in force on the first of January of `year`: exact for those years, where no yearly rule is."""
    start = datetime(year, 1, 1, tzinfo=zone)
    first = TimezoneDaylight() if start.dst() else TimezoneStandard()
    first.add("tzname", start.tzname() or str(zone))
    first.add("tzoffsetfrom", start.utcoffset())
    first.add("tzoffsetto", start.utcoffset())
    first.add("dtstart", datetime(year, 1, 1))
    tz.add_component(first)
    for change in changes:
        part = TimezoneDaylight() if change.after > change.before else TimezoneStandard()
        part.add("tzname", change.name)
        part.add("tzoffsetfrom", change.before)
        part.add("tzoffsetto", change.after)
        part.add("dtstart", change.wall)
        tz.add_component(part)
    return tz
