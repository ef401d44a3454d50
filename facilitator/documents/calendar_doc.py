"""The group calendar for the wall: one landscape page per month, each meeting's module on its day.

It carries no participant data, so it is cacheable by browsers and needs no redisclosure notice. It
prints in the language asked for (month and day names, times, module titles from the curriculum's twin).
Everything the page shows is gathered into plain data first; the cache key hashes exactly that data,
so any change to what would be printed (a cancelled meeting, a renamed group, a new holiday) makes a
new file, and a repeat request costs the calendar's queries and a file lookup, never a layout.
"""

from __future__ import annotations

import calendar as stdcal
import re
from dataclasses import asdict, dataclass, replace
from datetime import date, time, timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from ..domain import curriculum as dom
from ..domain import sequencer as seq
from ..extensions import db
from ..groups.calendars import group_calendar, group_spec, version_structure
from ..groups.models import Group, Meeting
from ..groups.services import NOT_IN_PATTERN, titles_of
from ..programs.models import Holiday, Program
from ..web.i18n import format_clock, format_when
from . import builders
from .catalog import DocumentNotFound, Order, domain_of, language_for, page_size_for, version_digest
from .service import RenderInput, cache_key

MAX_MONTHS = 12
# US clinics hang Sunday-first calendars.
SUNDAY_FIRST = (6, 0, 1, 2, 3, 4, 5)  # date.weekday() values in printed column order
A_SUNDAY = date(2027, 1, 3)  # day names come from the dates of a Sunday-first week, in the language printed


def weekday_names(style: str = "weekday") -> tuple[str, ...]:
    """The day names Sunday first, in the current language ("Sunday", "domingo"; "weekday_short": "Sun")."""
    return tuple(format_when(A_SUNDAY + timedelta(days=n), style) for n in range(7))

# The room of the month grid, in points. Its height is the landscape page height less what
# calendar.css fixes: the page margins (0.4in + 0.55in; the legend is in the bottom margin), the
# 52pt title block, the 20pt weekday row, and about 7pt of row borders. Every day cell gets a fixed
# share of it, so a busy day can never push the grid onto a second page. A cell's text width is a
# seventh of the page width inside the side margins, less the cell's padding and border.
GRID_HEIGHT = {"letter": 8.5 * 72 - 147, "a4": 8.27 * 72 - 147}
CELL_WIDTH = {"letter": (11 - 0.9) * 72 / 7 - 9, "a4": (11.69 - 0.9) * 72 / 7 - 9}

# Day-cell densities, roomiest first: (name, meeting line, title font, title line, most title
# lines, gap between meetings) in points. calendar.css sets the same sizes per density class. The
# title line also holds a meeting's "Cancelled"; the smallest density prints no titles at all.
DENSITIES = (
    ("roomy", 12.5, 9.0, 10.0, 2, 3.0),
    ("compact", 11.0, 8.5, 9.5, 2, 2.5),
    ("tight", 10.5, 7.5, 8.5, 1, 2.0),
    ("minimal", 9.5, 7.0, 8.0, 0, 1.0),
)
CELL_PADDING = 6.0  # top and bottom padding of a day cell together
DAY_NUMBER = 15.0  # the day's number line
LABEL_FONT, LABEL_LINE, LABEL_GAP = 8.0, 10.0, 2.0  # a day's "Closed: <holiday>" or "Cancelled", up to 2 lines
MORE_LINE = 9.0  # "+2 more" when not even the smallest density lists every meeting
CHAR_EM = 0.58  # DejaVu Sans averages about 0.55 em a character in titles; a little more for word wrap
# The page title "<group> — <Month YYYY>" on one line: the font shrinks for a long group name, and
# a name too long even then is cut short, never the month. Bold DejaVu Sans takes up to 0.7 em a
# character in names in capitals, so these lengths fit the narrower (Letter) page.
TITLE_SIZES = ((35, "title-large"), (48, "title-medium"), (63, "title-small"))
LONG_PATTERN = 118  # a weekly pattern longer than this prints smaller to stay on one line


@dataclass(frozen=True)
class Entry:
    """One meeting in a day cell, and how many lines it prints below its time and code."""

    time: str  # "5:30 PM"
    code: str  # the module code ("RP 3"), or the track code when the meeting has no module
    title: str
    cancelled: bool
    lines: int = 0  # lines below the time and code: the title's (at most 2), or 1 for "Cancelled"


@dataclass(frozen=True)
class Day:
    """One cell of the month grid; days of the neighbouring months are blank."""

    date: date
    in_month: bool
    label: str = ""  # "Closed: <holiday>", or "Cancelled" when every meeting of the day is
    closed: bool = False
    entries: tuple[Entry, ...] = ()
    density: str = "roomy"
    more: int = 0  # meetings left out for want of room


@dataclass(frozen=True)
class MonthPage:
    """One printed month: its title, Sunday-first weeks, and the height of each day cell in points."""

    first: date
    title: str
    weeks: tuple[tuple[Day, ...], ...]
    cell_height: float


def calendar_order(group: Group, *, program: Program, month: date, months: int = 1,
                   page_size: str | None = None, lang: str | None = None, preferred: str | None = None) -> Order:
    """The wall calendar of a group: `months` landscape pages from the month of `month`, in `lang` (else
    `preferred`, the page's language, where the curriculum has it; else the curriculum's own)."""
    if group.program_id != program.id:
        raise DocumentNotFound(f"no group with id {group.id} in {program.name}")
    if not 1 <= months <= MAX_MONTHS:
        raise DocumentNotFound(f"a calendar prints 1 to {MAX_MONTHS} months at a time, not {months}")
    size = page_size_for(program, page_size)
    curriculum = domain_of(group.version)
    language = language_for(curriculum, lang, preferred)
    with builders.in_language(language):
        return _calendar_order(group, program, month, months, size, curriculum, language)


def _calendar_order(group: Group, program: Program, month: date, months: int, size: str,
                    curriculum: dom.Curriculum, language: str) -> Order:
    first = month.replace(day=1)
    firsts = [add_months(first, n) for n in range(months)]
    last = add_months(first, months) - timedelta(days=1)

    structure = version_structure(group.version_id)
    spec = group_spec(group, structure)
    shown = meetings_between(group, first, last)
    holidays = holiday_names(program.id, first, last)
    text = curriculum.in_language(language)
    titles = titles_of(structure)
    if language != curriculum.language:
        titles = {**titles, **{m.code: m.title for m in text.modules()}}
    track_names = {t.code: t.name for t in text.tracks}
    pages = tuple(month_page(f, size, shown, holidays, titles) for f in firsts)
    tracks = {s.track for s in spec.slots} | {m.track for m in shown}
    pattern = pattern_line(spec.slots)
    page_data = {
        "group": group.name, "heading": heading(group.name), "program": program.name,
        "location": group.location or "", "pattern": pattern, "long_pattern": len(pattern) > LONG_PATTERN,
        "version": f"{text.title if language != curriculum.language else structure.title} ({structure.version})",
        "size": size, "lang": language, "weekday_names": weekday_names(),
        "legend": tuple((t.code, track_names.get(t.code, t.name)) for t in structure.tracks if t.code in tracks),
    }
    key = cache_key("calendar", {"version_digest": version_digest(group.version, curriculum),
                                 "pages": [asdict(p) for p in pages], **page_data})

    def build() -> RenderInput:
        # The print templates' own environment: the same loader, autoescaping and strict undefined.
        with builders.in_language(language):
            html = builders._env.get_template("calendar.html").render(pages=pages, **page_data)
            return RenderInput(html, size, language, stylesheets=("calendar.css",))

    span = f"{first:%Y-%m}" + (f"-to-{firsts[-1]:%Y-%m}" if months > 1 else "")
    suffix = "" if language == "en" else f"-{language}"
    return Order("calendar", key, f"{slug(group.name)}-calendar-{span}{suffix}.pdf", months, build,
                 program_id=program.id,
                 detail={"group": group.id, "month": f"{first:%Y-%m}", "months": months, "lang": language})


# --- the data shown ------------------------------------------------------------------------------

def add_months(first: date, n: int) -> date:
    """The first day of the month n months after the month of `first`."""
    index = first.year * 12 + first.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def meetings_between(group: Group, first: date, last: date) -> list[seq.Meeting]:
    """The group's meetings from first to last, as the group page lists them."""
    calendar = group_calendar(group, last)
    # Past days a later weekly pattern would have had are stored as cancelled so the past stays as
    # it was; the group never met then, so they are no meetings at all (as on the group page).
    never = set(db.session.execute(
        select(Meeting.date, Meeting.start_time, Meeting.track_code)
        .where(Meeting.group_id == group.id, Meeting.cancel_reason == NOT_IN_PATTERN,
               Meeting.date >= first, Meeting.date <= last)).all())
    end = min(last, group.end_date) if group.end_date else last
    return [m for m in calendar.meetings
            if max(first, group.start_date) <= m.date <= end
            and (m.date, time.fromisoformat(m.time), m.track) not in never]


def holiday_names(program_id: int, first: date, last: date) -> dict[date, str]:
    """The program's closed days between first and last, with their names."""
    return dict(db.session.execute(
        select(Holiday.date, Holiday.name)
        .where(Holiday.program_id == program_id, Holiday.date >= first, Holiday.date <= last)).all())


def month_page(first: date, size: str, meetings: list[seq.Meeting], holidays: dict[date, str],
               titles: dict[str, str]) -> MonthPage:
    """One month as printed: Sunday-first weeks of day cells, each fitted to the grid's share."""
    weeks = stdcal.Calendar(firstweekday=6).monthdatescalendar(first.year, first.month)
    height = round(GRID_HEIGHT[size] / len(weeks), 1)
    by_day: dict[date, list[Entry]] = {}
    for m in meetings:
        if (m.date.year, m.date.month) == (first.year, first.month):
            by_day.setdefault(m.date, []).append(entry(m, titles))

    def cell(day: date) -> Day:
        if day.month != first.month:
            return Day(day, False)  # blank: the neighbouring month's page shows it
        entries = by_day.get(day, [])
        if day in holidays:
            label = _("Closed: %(holiday)s", holiday=holidays[day])
        else:
            label = _("Cancelled") if entries and all(e.cancelled for e in entries) else ""
        density, fitted, more = fit(entries, label, height, CELL_WIDTH[size])
        return Day(day, True, label, day in holidays, fitted, density, more)

    title = format_when(first, "month_year")
    return MonthPage(first, title, tuple(tuple(cell(d) for d in week) for week in weeks), height)


def entry(meeting: seq.Meeting, titles: dict[str, str]) -> Entry:
    """A meeting as its day cell lists it."""
    return Entry(format_clock(meeting.time), meeting.module or meeting.track, titles.get(meeting.module or "", ""),
                 not meeting.held)


def fit(entries: list[Entry], label: str, height: float, width: float) -> tuple[str, tuple[Entry, ...], int]:
    """The roomiest density at which a day's meetings fit its cell, each meeting's lines, and how
    many meetings are left out (only when not even the smallest density lists them all).

    Fonts shrink only for busy days: a density fits if every meeting fits with one line below its
    time and code; spare room then lets long titles wrap to a second line, in order. Title lengths
    are estimated; calendar.css clamps each title to its lines and clips the cell, so an estimate a
    little off costs a line of text, never the layout.
    """
    room = height - CELL_PADDING - DAY_NUMBER - label_height(label, width)
    for name, line, title_font, title_line, most_lines, gap in DENSITIES:
        # Under a day's label the meetings are listed struck through and nothing more; otherwise a
        # cancelled meeting prints "Cancelled" where its title would be.
        first_lines = [0 if label else 1 if e.cancelled or (e.title and most_lines) else 0 for e in entries]
        spare = room + gap - sum(line + gap + title_line * n for n in first_lines)  # no gap after the last
        if spare < 0:
            continue
        fitted = []
        for e, lines in zip(entries, first_lines, strict=True):
            long_title = lines and not e.cancelled and wrapped_lines(e.title, width, title_font) > 1
            if long_title and most_lines > 1 and spare >= title_line:
                lines, spare = 2, spare - title_line
            fitted.append(replace(e, lines=lines))
        return name, tuple(fitted), 0
    name, line, _, _, _, gap = DENSITIES[-1]
    shown = max(0, int((room - MORE_LINE) // (line + gap)))
    return name, tuple(replace(e, lines=0) for e in entries[:shown]), len(entries) - shown


def label_height(label: str, width: float) -> float:
    """The height of a day's label: up to two lines (calendar.css clamps it there)."""
    return min(2, wrapped_lines(label, width, LABEL_FONT)) * LABEL_LINE + LABEL_GAP if label else 0.0


def wrapped_lines(text: str, width: float, font: float) -> int:
    """About how many lines a text wraps to in a width, at a font size (points)."""
    per_line = max(1, int(width / (CHAR_EM * font)))
    return -(-len(text) // per_line)


def heading(name: str) -> tuple[str, str]:
    """The group name as the page title prints it, and the title's size class."""
    for longest, size_class in TITLE_SIZES:
        if len(name) <= longest:
            return name, size_class
    longest, size_class = TITLE_SIZES[-1]
    return name[:longest - 1].rstrip() + "…", size_class


def pattern_line(slots: tuple[dom.PatternSlot, ...]) -> str:
    """The weekly times, Sunday first: "Mon 5:30 PM ERS, 6:30 PM RP · Wed 6:30 PM FE / SS"."""
    days = []
    short_names = weekday_names("weekday_short")
    for weekday in SUNDAY_FIRST:
        todays = sorted((s for s in slots if dom.WEEKDAYS.index(s.weekday) == weekday), key=lambda s: (s.time, s.track))
        times: dict[str, list[str]] = {}
        for s in todays:
            times.setdefault(s.time, []).append(s.track)
        if times:
            words = ", ".join(f"{format_clock(at)} {' / '.join(tracks)}" for at, tracks in times.items())
            days.append(f"{short_names[(weekday + 1) % 7]} {words}")
    return " · ".join(days) or _("No weekly pattern yet")


def slug(name: str) -> str:
    """A group name for a file name: "Evening IOP (Mon/Wed/Fri)" -> "evening-iop-mon-wed-fri"."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "group"
