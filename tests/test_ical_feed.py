"""The group calendar as another program reads it: vobject (a parser the app does not use) must put
every meeting at the instant the app means, across daylight-saving changes, in a zone without them
and in the southern hemisphere; the VTIMEZONE is in the RRULE form calendar apps expect; the
calendar's name survives commas and semicolons; the time stamp comes from the app's clock."""

from __future__ import annotations

import calendar as month_calendar
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
import vobject
from dateutil.tz.tz import _tzicalvtz
from icalendar import Calendar

from facilitator import clock
from facilitator.groups.calendars import group_calendar
from facilitator.reports import ical

from .conftest import login

SYDNEY, PHOENIX, LOS_ANGELES = "Australia/Sydney", "America/Phoenix", "America/Los_Angeles"


def sunday(year: int, month: int, n: int) -> date:
    """The nth Sunday of a month (n = -1: the last), by plain calendar arithmetic."""
    sundays = [week[6] for week in month_calendar.monthcalendar(year, month) if week[6]]
    return date(year, month, sundays[n if n < 0 else n - 1])


def vobject_starts(body: bytes) -> list[datetime]:
    """Each event's start as vobject reads it, in UTC, sorted.

    vobject keeps the first VTIMEZONE it meets for a TZID for the rest of the process (and would
    fall back to pytz for one it has not met): empty its registry so this file's VTIMEZONE is used,
    and check that it was."""
    registry = vars(vobject.icalendar)["__tzidMap"]
    kept = dict(registry)
    registry.clear()
    registry["UTC"] = kept["UTC"]
    try:
        parsed = vobject.readOne(body.decode())
        starts = [event.dtstart.value for event in parsed.vevent_list]
    finally:
        registry.clear()
        registry.update(kept)
    assert starts and all(isinstance(s.tzinfo, _tzicalvtz) for s in starts)  # read through the file's VTIMEZONE
    return sorted(s.astimezone(UTC) for s in starts)


def app_starts(group, zone: str, today: date) -> list[datetime]:
    """The instants the app means for the group's meetings in the feed's window, sorted."""
    meetings = group_calendar(group, today + ical.CALENDAR_AHEAD).meetings
    return sorted(datetime.combine(m.date, time.fromisoformat(m.time), ZoneInfo(zone)).astimezone(UTC)
                  for m in meetings if m.date >= today - ical.CALENDAR_PAST)


@pytest.fixture
def group_in(make_program, make_group):
    """Factory: a group of a program in a zone, started ten weeks before a day (so the window is full)."""

    def make(zone: str, today: date, name: str = "Evening group"):
        program = make_program()
        program.timezone = zone
        return make_group(program, name, start=today - timedelta(weeks=10, days=today.weekday())), program

    return make


def check_feed(group, program, today: date) -> list[timedelta]:
    """Build the feed for `today`, check vobject agrees with the app on every start, and return the
    UTC offsets the events fall on."""
    body = ical.group_calendar_ics(group, program, today)
    expected = app_starts(group, program.timezone, today)
    assert len(expected) > 50  # about 24 weeks of meetings
    assert vobject_starts(body) == expected
    zone = ZoneInfo(program.timezone)
    return [start.astimezone(zone).utcoffset() for start in expected]


def test_vobject_agrees_across_both_us_changes(session, group_in):
    year = clock.today(LOS_ANGELES).year
    fall = sunday(year, 11, 1)
    today = fall + timedelta(weeks=7)  # the window runs from a week before fall to April: spring is inside
    assert today - ical.CALENDAR_PAST < fall and sunday(year + 1, 3, 2) < today + ical.CALENDAR_AHEAD
    group, program = group_in(LOS_ANGELES, today)
    offsets = check_feed(group, program, today)
    pdt, pst = timedelta(hours=-7), timedelta(hours=-8)
    # Daylight time before fall, standard time through winter, daylight time again after spring.
    assert offsets[0] == pdt and offsets[-1] == pdt and pst in offsets
    assert [o for i, o in enumerate(offsets) if i == 0 or o != offsets[i - 1]] == [pdt, pst, pdt]


@pytest.mark.parametrize("month", [4, 10])
def test_vobject_agrees_across_a_southern_hemisphere_change(session, group_in, month):
    change = sunday(clock.today(SYDNEY).year, month, 1)  # Sydney: first Sunday of April and of October
    today = change + timedelta(weeks=4)
    group, program = group_in(SYDNEY, today)
    offsets = check_feed(group, program, today)
    before, after = (timedelta(hours=11), timedelta(hours=10)) if month == 4 else (
        timedelta(hours=10), timedelta(hours=11))
    assert offsets[0] == before and offsets[-1] == after


def test_vobject_agrees_in_a_zone_without_daylight_saving(session, group_in):
    today = clock.today(PHOENIX)
    group, program = group_in(PHOENIX, today)
    assert set(check_feed(group, program, today)) == {timedelta(hours=-7)}
    zone = Calendar.from_ical(ical.group_calendar_ics(group, program, today)).walk("VTIMEZONE")[0]
    assert [part.name for part in zone.subcomponents] == ["STANDARD"] and "RRULE" not in zone.subcomponents[0]


@pytest.mark.parametrize("zone", [LOS_ANGELES, PHOENIX, SYDNEY])
def test_both_feed_addresses_agree_with_the_app_on_todays_window(app, client, group_in, make_user, zone):
    today = clock.today(zone)
    group, program = group_in(zone, today)
    group.feed_token = "f" * 43
    login(client, make_user("facilitator", program).email)
    for body in (client.get(f"/reports/groups/{group.id}/meetings.ics").data,
                 app.test_client().get(f"/calendars/{'f' * 43}.ics").data):
        assert vobject_starts(body) == app_starts(group, zone, today)
        timezones = Calendar.from_ical(body).walk("VTIMEZONE")
        assert [str(t["TZID"]) for t in timezones] == [zone]  # one, for the one zone the events use
        assert b"RDATE" not in body


def test_the_timezone_is_written_in_the_yearly_rule_form():
    parts = {p.name: p for p in ical.vtimezone(LOS_ANGELES, date(2027, 1, 1), date(2027, 2, 1)).subcomponents}
    assert parts["DAYLIGHT"]["RRULE"].to_ical() == b"FREQ=YEARLY;BYDAY=2SU;BYMONTH=3"
    assert parts["STANDARD"]["RRULE"].to_ical() == b"FREQ=YEARLY;BYDAY=1SU;BYMONTH=11"
    assert parts["DAYLIGHT"]["DTSTART"].dt == datetime(1970, 3, 8, 2)  # the rule's first day, local time
    assert parts["STANDARD"]["DTSTART"].dt == datetime(1970, 11, 1, 2)
    berlin = {p.name: p["RRULE"].to_ical() for p in ical.vtimezone("Europe/Berlin", date(2027, 1, 1),
                                                                   date(2027, 2, 1)).subcomponents}
    assert berlin == {"DAYLIGHT": b"FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3", "STANDARD": b"FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10"}


# Zones with unusual rules: half-hour and 45-minute offsets and changes, Friday changes, midnight
# changes, "negative" daylight saving (Dublin), and Casablanca, whose changes follow Ramadan.
ZONES = [LOS_ANGELES, PHOENIX, SYDNEY, "America/St_Johns", "Europe/Berlin", "Europe/Dublin", "Asia/Jerusalem",
         "Africa/Cairo", "America/Santiago", "America/Havana", "Australia/Lord_Howe", "Pacific/Chatham",
         "Pacific/Auckland", "Asia/Kolkata", "Africa/Casablanca"]


@pytest.mark.parametrize("zone", ZONES)
def test_vobject_reads_the_window_s_years_at_the_right_offsets(zone):
    """From the year before to the year after the window, every seventh hour and every hour of the
    day either side of each change: vobject's reading of the VTIMEZONE gives zoneinfo's offset
    (hours that do not exist or happen twice excepted)."""
    today = clock.today(zone)
    first, last = today - ical.CALENDAR_PAST, today + ical.CALENDAR_AHEAD
    body = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
            + ical.vtimezone(zone, first, last).to_ical().decode() + "END:VCALENDAR\r\n")
    read, real = vobject.readOne(body).vtimezone.gettzinfo(), ZoneInfo(zone)

    def check(moment: datetime) -> int:
        aware = moment.replace(tzinfo=real)
        if aware.astimezone(UTC).astimezone(real).replace(tzinfo=None) != moment:
            return 0  # skipped by a change
        if aware.replace(fold=1).utcoffset() != aware.utcoffset():
            return 0  # happens twice
        assert moment.replace(tzinfo=read).utcoffset() == aware.utcoffset(), moment
        return 1

    checked, changes = 0, 0
    moment, end = datetime(first.year - 1, 1, 1), datetime(last.year + 2, 1, 1)
    while moment < end:
        step = moment + timedelta(hours=7)
        if step.replace(tzinfo=real).utcoffset() != moment.replace(tzinfo=real).utcoffset():
            changes += 1
            checked += sum(check(moment - timedelta(hours=24) + timedelta(hours=h)) for h in range(56))
        checked += check(moment)
        moment = step
    assert checked > 3 * 365 * 3 and (changes >= 6 or zone in (PHOENIX, "Asia/Kolkata"))


def test_the_name_keeps_its_commas_and_semicolons_and_the_stamp_comes_from_the_clock(session, group_in):
    today = clock.today(LOS_ANGELES)
    group, program = group_in(LOS_ANGELES, today, name="Smith, Jones; Evening")
    with time_machine.travel(datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC), tick=False):
        body = ical.group_calendar_ics(group, program, today)
    assert b"X-WR-CALNAME:Smith\\, Jones\\; Evening" in body
    assert vobject.readOne(body.decode()).x_wr_calname.value == "Smith, Jones; Evening"
    stamps = {e["DTSTAMP"].dt for e in Calendar.from_ical(body).walk("VEVENT")}
    assert stamps == {datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)}
