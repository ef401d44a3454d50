"""Documents of one meeting: the sign-in sheet and the meeting packet (guide, sign-in sheet and a
personalized copy of the module's worksheets for each person expected).

A meeting is named by its stored id or, before anyone opened it, by where the calendar puts it:
"GROUP_ID/2027-03-02/1800/RP" (the same parts as the meeting page's address).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from ..curricula.models import CurriculumVersion
from ..domain import sequencer as seq
from ..extensions import db
from ..groups.models import Group, Meeting
from ..groups.services import clock
from ..meetings import services as meetings
from ..participants.models import Participant
from ..programs.models import Program
from . import builders, catalog
from .catalog import DocumentNotFound, NotPrintable, Order
from .service import RenderInput, cache_key

WALK_IN_COPIES = 2  # blank worksheet copies at the end of a packet, for walk-ins and guests
WALK_IN_ROWS = 4  # at least this many blank rows: walk-ins, make-up visitors, family guests
# Sign-in rows that fit on the first page (under the heading, with the closing line) and on later pages;
# a short roster is topped up with blank rows to a full first page.
ROWS_PER_PAGE = {"letter": (16, 19), "a4": (17, 20)}
REFERENCE = re.compile(r"(?P<group>\d+)/(?P<day>\d{4}-\d{2}-\d{2})/(?P<at>\d{4})/(?P<track>[A-Za-z]{1,4})")


@dataclass(frozen=True)
class MeetingContext:
    """A meeting as its documents need it: group, program, calendar entry, stored row, module, roster."""

    group: Group
    program: Program
    planned: seq.Meeting
    row: Meeting | None
    module_code: str | None
    module_title: str
    track_name: str
    people: tuple[Participant, ...]  # expected (or already recorded), by preferred name

    @property
    def when(self) -> str:
        """The meeting's date and time in words: "Tuesday, March 2, 2027, 6:00 PM"."""
        day = self.planned.date
        return f"{day:%A, %B} {day.day}, {day.year}, {clock(self.planned.time)}"


def find_meeting(reference: str, program_id: int | None = None) -> tuple[Group, seq.Meeting, Meeting | None]:
    """A meeting by stored id ("42") or calendar place ("3/2027-03-02/1800/RP"); DocumentNotFound if none."""
    text = reference.strip()
    if text.isdigit():
        row = db.session.get(Meeting, int(text))
        if row is None:
            raise DocumentNotFound(f"no meeting with id {text}")
        group = db.session.get(Group, row.group_id)
        day, at, track = row.date, row.start_time.strftime("%H:%M"), row.track_code
    else:
        match = REFERENCE.fullmatch(text)
        if match is None:
            raise DocumentNotFound(f"{reference!r} is not a meeting: give its id (42) or GROUP_ID/DATE/HHMM/TRACK "
                                   "(3/2027-03-02/1800/RP)")
        group = db.session.get(Group, int(match["group"]))
        try:
            day = date.fromisoformat(match["day"])
        except ValueError as exc:
            raise DocumentNotFound(f"{match['day']!r} is not a date") from exc
        at, track = f"{match['at'][:2]}:{match['at'][2:]}", match["track"].upper()
        if group is None:
            raise DocumentNotFound(f"no group with id {match['group']}")
        row = None
    if group is None or (program_id is not None and group.program_id != program_id):
        raise DocumentNotFound(f"no meeting {reference!r}")
    planned = meetings.find_planned(group, day, at, track)
    if planned is None:
        raise DocumentNotFound(f"{group.name} has no {track} meeting on {day.isoformat()} at {at}")
    return group, planned, row if row is not None else meetings.stored_meeting(group, day, at, track)


def meeting_context(group: Group, planned: seq.Meeting, row: Meeting | None) -> MeetingContext:
    """Everything the meeting's documents show; NotPrintable for a cancelled meeting."""
    if planned.status == "cancelled" or (row is not None and row.status == "cancelled"):
        raise NotPrintable(f"the {planned.track} meeting of {group.name} on {planned.date.isoformat()} is cancelled")
    program = db.session.get(Program, group.program_id)
    code = row.module.code if row is not None and row.module is not None else planned.module
    curriculum = catalog.domain_of(db.session.get(CurriculumVersion, group.version_id))
    title = ""
    if code:
        title = catalog.lookup(curriculum, code)[0].title
    entries = meetings.roster(group, planned, row)
    people = tuple(sorted((e.participant for e in entries), key=lambda p: (p.preferred_name.lower(), p.id)))
    track = next((t.name for t in curriculum.tracks if t.code == planned.track), planned.track)
    return MeetingContext(group, program, planned, row, code, title, track, people)


def signin_name(person: Participant, naming: str) -> str:
    """How a person appears on a sign-in sheet others can read: preferred name or initials (a program setting)."""
    return person.initials if naming == "initials" else person.preferred_name


def signin_order(ctx: MeetingContext, *, page_size: str | None = None) -> Order:
    """The sign-in sheet: the expected roster, signature and time in / out, blank rows for walk-ins."""
    size = catalog.page_size_for(ctx.program, page_size)
    names = [signin_name(p, ctx.program.signin_naming) for p in ctx.people]
    first, later = ROWS_PER_PAGE[size]
    blanks = max(WALK_IN_ROWS, first - len(names))
    heading = catalog.program_heading(ctx.program)
    shown = {"group": ctx.group.name, "when": ctx.when, "track": ctx.track_name, "module": ctx.module_code,
             "title": ctx.module_title, "names": names, "blanks": blanks, "size": size, "heading": heading}
    key = cache_key("signin", shown)

    def build() -> RenderInput:
        html = builders._env.get_template("signin.html").render(
            t=builders.chrome("en"), lang="en", notice_text=builders.REDISCLOSURE_NOTICE, **shown)
        return RenderInput(html, size, "en", stylesheets=("signin.css",))

    pages = 1 + -(-max(0, len(names) + blanks - first) // later)
    return Order("signin", key, f"signin-{_slug(ctx)}.pdf", pages, build, tuple(p.id for p in ctx.people),
                 ctx.program.id, {"meeting": _reference(ctx), "page_size": size, "rows": len(names)})


def packet_order(ctx: MeetingContext, *, page_size: str | None = None) -> Order:
    """One click before group: the guide, the sign-in sheet, a personalized copy of the module's
    worksheets for each person expected and two blank ones, merged into one PDF (one font subset)."""
    if not ctx.module_code:
        raise NotPrintable(f"the {ctx.planned.track} meeting on {ctx.planned.date.isoformat()} has no module to print")
    size = catalog.page_size_for(ctx.program, page_size)
    version = db.session.get(CurriculumVersion, ctx.group.version_id)
    parts = [catalog.guide_order(ctx.module_code, version=version, program=ctx.program, page_size=size),
             signin_order(ctx, page_size=size)]
    module, sheets = catalog.lookup(catalog.domain_of(version), ctx.module_code)
    if sheets:
        parts.append(catalog.worksheet_order(module.code, version=version, program=ctx.program, people=ctx.people,
                                             enrollments={}, page_size=size, on=ctx.planned.date,
                                             group_name=ctx.group.name, blank_copies=WALK_IN_COPIES))
    key = cache_key("packet", {"parts": [p.key for p in parts]})

    # The PDF's title names the packet, not its first part (the guide).
    title = builders.chrome("en")["packet_title"].format(module=f"{ctx.module_code} {ctx.module_title}".strip(),
                                                         group=ctx.group.name, when=ctx.when)

    def build() -> RenderInput:
        return RenderInput("", size, "en", parts=tuple(p.build() for p in parts), title=title)

    return Order("packet", key, f"packet-{_slug(ctx)}.pdf", sum(p.pages for p in parts), build,
                 tuple(p.id for p in ctx.people), ctx.program.id,
                 {"meeting": _reference(ctx), "module": ctx.module_code, "page_size": size, "copies": len(ctx.people)})


def _reference(ctx: MeetingContext) -> str:
    return f"{ctx.group.id}/{ctx.planned.date.isoformat()}/{ctx.planned.time.replace(':', '')}/{ctx.planned.track}"


def _slug(ctx: MeetingContext) -> str:
    return f"group{ctx.group.id}-{ctx.planned.date.isoformat()}-{ctx.planned.time.replace(':', '')}-{ctx.planned.track}"
