"""Documents of one meeting: the sign-in sheet and the meeting packet (guide, sign-in sheet and a
personalized copy of the module's worksheets for each person expected, each in that person's language).

The sign-in sheet is read by everyone in the room: every label on it is printed in English and Spanish.

A meeting is named by its stored id or, before anyone opened it, by where the calendar puts it:
"GROUP_ID/2027-03-02/1800/RP" (the same parts as the meeting page's address).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..curricula.models import CurriculumVersion
from ..domain import curriculum as dom
from ..domain import sequencer as seq
from ..extensions import db
from ..groups.models import Group, Meeting
from ..meetings import services as meetings
from ..participants.models import Participant
from ..programs.models import Program
from ..web.i18n import LANGUAGES, format_clock, format_when
from . import builders, catalog
from .catalog import DocumentNotFound, NotPrintable, Order
from .service import RenderInput, cache_key

WALK_IN_COPIES = 2  # blank worksheet copies at the end of a packet, for walk-ins and guests
WALK_IN_ROWS = 4  # at least this many blank rows: walk-ins, make-up visitors, family guests
# Sign-in rows that fit on the first page (under the heading, with the closing line) and on later pages;
# a short roster is topped up with blank rows to a full first page.
# (The heading, help text and 42 CFR notice are printed in two languages: two rows fewer than one would take.)
ROWS_PER_PAGE = {"letter": (14, 17), "a4": (15, 18)}
REFERENCE = re.compile(r"(?P<group>\d+)/(?P<day>\d{4}-\d{2}-\d{2})/(?P<at>\d{4})/(?P<track>[A-Za-z]{1,4})")
SIGNIN_LANGUAGES = ("en", "es")  # every label of the sign-in sheet, in these languages side by side
SIGNIN_WORDS = {
    "title": _l("Sign-in sheet"), "name": _l("Name"), "signature": _l("Signature"), "time_in": _l("Time in"),
    "time_out": _l("Time out"), "facilitator": _l("Facilitator"), "present": _l("Number present"),
    "help": _l("Please sign next to your name and write the time you arrive and the time you leave. "
               "If your name is not on the list, write it on a blank line."),
}


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
    curriculum: dom.Curriculum | None = None  # the group's version (its text in other languages)

    @property
    def when(self) -> str:
        """The meeting's date and time in words: "Tuesday, March 2, 2027, 6:00 PM"."""
        return self.when_in("en")

    def when_in(self, lang: str, style: str = "long") -> str:
        """The date and time in a language: "martes, 2 de marzo de 2027, 6:00 p.m."."""
        with builders.in_language(lang):
            return f"{format_when(self.planned.date, style)}, {format_clock(time.fromisoformat(self.planned.time))}"

    def module_title_in(self, lang: str) -> str:
        """The module's title in a language (its own where the curriculum has no text there)."""
        if not self.module_code or self.curriculum is None or lang not in self.curriculum.languages:
            return self.module_title
        return catalog.lookup(self.curriculum, self.module_code)[0].in_language(lang).title

    def track_name_in(self, lang: str) -> str:
        """The track's name in a language."""
        if self.curriculum is None or lang not in self.curriculum.languages:
            return self.track_name
        return next((t.name_in(lang) for t in self.curriculum.tracks if t.code == self.planned.track), self.track_name)


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
    return MeetingContext(group, program, planned, row, code, title, track, people, curriculum)


def signin_name(person: Participant, naming: str) -> str:
    """How a person appears on a sign-in sheet others can read: preferred name or initials (a program setting)."""
    return person.initials if naming == "initials" else person.preferred_name


def bilingual(text: object) -> tuple[str, ...]:
    """A marked text in each sign-in language: ("Name", "Nombre")."""
    out = []
    for lang in SIGNIN_LANGUAGES:
        with builders.in_language(lang):
            out.append(str(text))
    return tuple(out)


def _distinct(texts: tuple[str, ...]) -> tuple[str, ...]:
    """The texts without repeats, in order (a name the same in both languages prints once)."""
    return tuple(dict.fromkeys(t for t in texts if t))


def signin_order(ctx: MeetingContext, *, page_size: str | None = None) -> Order:
    """The sign-in sheet: the expected roster, signature and time in / out, blank rows for walk-ins; every
    label in English and Spanish."""
    size = catalog.page_size_for(ctx.program, page_size)
    names = [signin_name(p, ctx.program.signin_naming) for p in ctx.people]
    first, later = ROWS_PER_PAGE[size]
    blanks = max(WALK_IN_ROWS, first - len(names))
    heading = catalog.program_heading(ctx.program)
    shown = {"group": ctx.group.name, "when": _distinct(tuple(ctx.when_in(lang, "day_year") for lang in SIGNIN_LANGUAGES)),
             "track": _distinct(tuple(ctx.track_name_in(lang) for lang in SIGNIN_LANGUAGES)),
             "module": ctx.module_code, "title": _distinct(tuple(ctx.module_title_in(lang) for lang in SIGNIN_LANGUAGES)),
             "names": names, "blanks": blanks, "size": size, "heading": heading, "languages": SIGNIN_LANGUAGES,
             "words": {key: bilingual(text) for key, text in SIGNIN_WORDS.items()},
             "notice": bilingual(builders.REDISCLOSURE_NOTICE)}
    key = cache_key("signin", shown)

    def build() -> RenderInput:
        with builders.in_language(SIGNIN_LANGUAGES[0]):
            html = builders._env.get_template("signin.html").render(lang=SIGNIN_LANGUAGES[0], **shown)
        words = [builders.frame_words(lang) for lang in SIGNIN_LANGUAGES]
        page_of = " / ".join(dict.fromkeys(w.page_of for w in words))  # "Page 1 of 2 / Página 1 de 2"
        return RenderInput(html, size, SIGNIN_LANGUAGES[0], stylesheets=("signin.css",),
                           words=builders.FrameWords(page_of=page_of))

    pages = 1 + -(-max(0, len(names) + blanks - first) // later)
    return Order("signin", key, f"signin-{_slug(ctx)}.pdf", pages, build, tuple(p.id for p in ctx.people),
                 ctx.program.id, {"meeting": _reference(ctx), "page_size": size, "rows": len(names)})


def packet_order(ctx: MeetingContext, *, page_size: str | None = None, lang: str | None = None,
                 preferred: str | None = None) -> Order:
    """One click before group: the guide, the sign-in sheet, a personalized copy of the module's
    worksheets for each person expected and two blank ones, merged into one PDF (one font subset).

    The guide and the blank copies print in `lang` (else `preferred`, the page's language, where the
    curriculum has it); each person's copy in their own language (the curriculum's where it has no text
    in theirs): a worksheet part per language, the packet's own first, its blank copies at its end."""
    if not ctx.module_code:
        raise NotPrintable(f"the {ctx.planned.track} meeting on {ctx.planned.date.isoformat()} has no module to print")
    size = catalog.page_size_for(ctx.program, page_size)
    version = db.session.get(CurriculumVersion, ctx.group.version_id)
    curriculum = catalog.domain_of(version)
    language = catalog.language_for(curriculum, lang, preferred)
    parts = [catalog.guide_order(ctx.module_code, version=version, program=ctx.program, page_size=size,
                                 lang=language),
             signin_order(ctx, page_size=size)]
    module, sheets = catalog.lookup(curriculum, ctx.module_code)
    if sheets:
        by_language: dict[str, list[Participant]] = {language: []}
        for person in ctx.people:
            by_language.setdefault(catalog.language_for(curriculum, None, person.language), []).append(person)
        for copy_language in sorted(by_language, key=lambda code: (code != language, LANGUAGES.index(code))):
            people = by_language[copy_language]
            parts.append(catalog.worksheet_order(
                module.code, version=version, program=ctx.program, people=people, enrollments={}, page_size=size,
                on=ctx.planned.date, group_name=ctx.group.name, lang=copy_language,
                blank_copies=WALK_IN_COPIES if copy_language == language else 0))
    key = cache_key("packet", {"parts": [p.key for p in parts]})

    # The PDF's title names the packet, not its first part (the guide).
    named = " ".join(part for part in (ctx.module_code, ctx.module_title_in(language)) if part)
    with builders.in_language(language):
        title = _("Meeting packet: %(module)s, %(group)s, %(when)s", module=named, group=ctx.group.name,
                  when=ctx.when_in(language))

    def build() -> RenderInput:
        return RenderInput("", size, language, parts=tuple(p.build() for p in parts), title=title)

    return Order("packet", key, f"packet-{_slug(ctx)}.pdf", sum(p.pages for p in parts), build,
                 tuple(p.id for p in ctx.people), ctx.program.id,
                 {"meeting": _reference(ctx), "module": ctx.module_code, "page_size": size, "copies": len(ctx.people),
                  "lang": language})


def _reference(ctx: MeetingContext) -> str:
    return f"{ctx.group.id}/{ctx.planned.date.isoformat()}/{ctx.planned.time.replace(':', '')}/{ctx.planned.track}"


def _slug(ctx: MeetingContext) -> str:
    return f"group{ctx.group.id}-{ctx.planned.date.isoformat()}-{ctx.planned.time.replace(':', '')}-{ctx.planned.track}"
