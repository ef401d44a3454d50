"""What can be printed: resolve codes, curriculum versions and participants into document orders.

An order knows its cache key before anything is laid out, so a repeat request costs a few queries
and a file lookup. The web views and the command line both go through here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..curricula import services as curricula
from ..curricula.models import CurriculumVersion
from ..domain import curriculum as dom
from ..extensions import db
from ..participants.models import Enrollment, Participant
from ..programs import services as programs
from ..programs.models import Program
from ..web.i18n import LANGUAGES, format_when
from . import builders
from .service import PAGE_SIZES, RenderInput, cache_key

DEFAULT_CURRICULUM = "matrix-16"


class DocumentNotFound(LookupError):
    """No such code, curriculum, participant or language: nothing to print."""


class NotPrintable(DocumentNotFound):
    """The record exists but the document does not apply to it yet (a certificate before completion)."""


class LanguageMissing(DocumentNotFound):
    """The document cannot be printed in the language asked for (the curriculum has no text in it, or
    the app no words): its message says which languages there are."""


@dataclass(frozen=True)
class Order:
    """A document to deliver: its cache key, file name, expected pages and how to build it."""

    kind: str  # worksheet, guide, handbook
    key: str
    filename: str
    pages: int
    build: Callable[[], RenderInput]
    participant_ids: tuple[int, ...] = ()
    program_id: int | None = None
    detail: dict | None = None  # for the audit trail: codes and options, never names

    @property
    def personal(self) -> bool:
        """Carries participant data (audited, never cached by browsers)."""
        return bool(self.participant_ids)


# --- curriculum --------------------------------------------------------------------------------

_published: dict[tuple[int, str], dom.Curriculum] = {}  # published versions never change


def domain_of(version: CurriculumVersion) -> dom.Curriculum:
    """The version as a domain Curriculum; published versions are loaded once per process."""
    memo_key = (version.id, version.content_hash)
    if version.is_published and memo_key in _published:
        return _published[memo_key]
    curriculum = curricula.to_domain(curricula.load_version(version.id))
    if version.is_published:
        if len(_published) >= 16:  # a handful of versions are in use at once; keep memory bounded
            _published.pop(next(iter(_published)))
        _published[memo_key] = curriculum
    return curriculum


def version_digest(version: CurriculumVersion, curriculum: dom.Curriculum) -> str:
    """A version's content hash for cache keys: stored once published; a draft's is computed (it changes)."""
    if version.is_published and version.content_hash:
        return version.content_hash
    return curricula.content_hash(curriculum)


def find_version(name: str | None = None, program_id: int | None = None, number: str | None = None
                 ) -> CurriculumVersion:
    """A version of a curriculum the program can see (default matrix-16): the newest published, or by number."""
    if number is not None and not number.isdigit():
        raise DocumentNotFound(f"{number!r} is not a version number")
    try:
        return curricula.find_version(name or DEFAULT_CURRICULUM, number, program_id=program_id)
    except curricula.CurriculumNotFound as exc:
        raise DocumentNotFound(str(exc)) from exc


def lookup(curriculum: dom.Curriculum, code: str) -> tuple[dom.Module, list[dom.Worksheet]]:
    """A module code ("rp3") gives the module and all its worksheets; a worksheet code ("RP 3A") one."""
    wanted = dom.normalize_code(code)
    for module in curriculum.modules():
        if module.code == wanted:
            return module, list(module.worksheets)
        for sheet in module.worksheets:
            if sheet.code == wanted:
                return module, [sheet]
    raise DocumentNotFound(f"{code!r} is not a module or worksheet code of {curriculum.name} {curriculum.version}")


# --- participants ------------------------------------------------------------------------------

def participants_by_id(ids: Sequence[int], program_id: int | None = None) -> list[Participant]:
    """Participants in the order given; DocumentNotFound if one is missing or in another program."""
    found = {p.id: p for p in db.session.scalars(select(Participant).where(Participant.id.in_(ids)))}
    out = []
    for pid in ids:
        person = found.get(pid)
        if person is None or (program_id is not None and person.program_id != program_id):
            raise DocumentNotFound(f"no participant with id {pid}")
        out.append(person)
    if len({p.program_id for p in out}) > 1:
        raise DocumentNotFound("the participants belong to different programs; print them separately")
    return out


def current_enrollments(people: Sequence[Participant]) -> dict[int, Enrollment]:
    """Each participant's newest open enrollment, with its group (one query for all)."""
    rows = db.session.scalars(
        select(Enrollment).where(Enrollment.participant_id.in_([p.id for p in people]),
                                 Enrollment.discharged_on.is_(None))
        .options(selectinload(Enrollment.group)).order_by(Enrollment.admitted_on)
    ).all()
    return {row.participant_id: row for row in rows}  # later admissions win


def version_for(people: Sequence[Participant], enrollments: dict[int, Enrollment], name: str | None,
                program_id: int | None, number: str | None = None) -> CurriculumVersion:
    """The version the participants' groups run, or the named/default curriculum if they have none."""
    version_ids = {enrollments[p.id].group.version_id for p in people if p.id in enrollments}
    if len(version_ids) > 1:
        raise DocumentNotFound("the participants' groups run different curriculum versions; print them separately")
    if version_ids and name is None:
        return db.session.get(CurriculumVersion, version_ids.pop())
    return find_version(name, program_id, number)


def identity(person: Participant, enrollment: Enrollment | None, on: date, group_name: str | None = None,
             lang: str = "en") -> dict[str, str]:
    """What a personalized copy shows: preferred name, group and date (the minimum necessary), the date
    in the copy's language ("Mar 2, 2027", "2 mar 2027")."""
    if group_name is None:
        group_name = enrollment.group.name if enrollment else ""
    with builders.in_language(lang):
        return {"name": person.preferred_name, "group": group_name, "date": format_when(on, "year")}


def program_today(program: Program | None) -> date:
    """Today in the program's time zone (a sheet printed at 11 pm is dated that evening)."""
    return programs.program_today(program)


def parse_month(text: str) -> date | None:
    """"2027-03" as the first day of that month; None if it is not a month."""
    try:
        year, month = (int(part) for part in text.strip().split("-"))
        return date(year, month, 1) if len(text.strip()) == 7 else None
    except ValueError:
        return None


# --- orders ------------------------------------------------------------------------------------

def page_size_for(program: Program | None, page_size: str | None) -> str:
    """The page size asked for, else the program's setting, else Letter; DocumentNotFound if unknown."""
    size = page_size or (program.page_size if program else "letter")
    if size not in PAGE_SIZES:
        raise DocumentNotFound(f"unknown page size {size!r} (use letter or a4)")
    return size


def language_for(curriculum: dom.Curriculum, lang: str | None = None, preferred: str | None = None) -> str:
    """The language to print the curriculum in: `lang` if given (LanguageMissing if the curriculum or the
    app has no text in it), else `preferred` (the page's or the person's language) where the curriculum
    has it, else the curriculum's own."""
    if lang:
        lang = lang.strip().lower()
        if lang not in LANGUAGES:
            raise LanguageMissing(f"there are no printed documents in {lang!r}: use "
                                  + " or ".join(f"{code} ({builders.language_name(code)})" for code in LANGUAGES))
        if lang not in curriculum.languages:
            raise LanguageMissing(
                f"{curriculum.name} {curriculum.version} has no {builders.language_name(lang)} text ({lang}); "
                f"it can be printed in " + ", ".join(f"{code} ({builders.language_name(code)})"
                                                     for code in curriculum.languages if code in LANGUAGES))
        return lang
    if preferred in LANGUAGES and preferred in curriculum.languages:
        return preferred
    return curriculum.language if curriculum.language in LANGUAGES else "en"


def _settings(program: Program | None, page_size: str | None, lang: str | None, curriculum: dom.Curriculum,
              preferred: str | None = None) -> tuple[str, str, str]:
    size = page_size_for(program, page_size)
    language = language_for(curriculum, lang, preferred)
    return size, language, program_heading(program) if program else ""


def program_heading(program: Program) -> str:
    """The program as printed at the top of its documents: its name, then its address and phone if set
    (the phone number never broken across lines)."""
    phone = (program.phone or "").strip().replace(" ", "\u00a0").replace("-", "\u2011")
    return " · ".join(part for part in (program.name, (program.address or "").strip(), phone) if part)


def worksheet_order(code: str, *, version: CurriculumVersion, program: Program | None = None,
                    people: Sequence[Participant] = (), enrollments: dict[int, Enrollment] | None = None,
                    fillable: bool = False, lang: str | None = None, page_size: str | None = None,
                    on: date | None = None, group_name: str | None = None, blank_copies: int = 0,
                    preferred: str | None = None) -> Order:
    """Worksheets of a module or one worksheet: blank, personalized (a copy per person) or fillable.

    A copy shows the person's current group, or group_name when given (a packet names its meeting's group);
    blank_copies adds copies with blank Name / Group / Date lines after the named ones. The language is
    `lang` if given; else personalized copies print in their people's language (all of them the same:
    a packet orders a document per language) and blank ones in `preferred` (the page's), where the
    curriculum has it."""
    curriculum = domain_of(version)
    module, worksheets = lookup(curriculum, code)
    if not worksheets:
        raise DocumentNotFound(f"{module.code} {module.title} has no worksheets")
    if fillable and len(people) > 1:
        raise DocumentNotFound("a fillable copy is for one participant at a time")
    if people and len({p.language for p in people}) == 1:
        preferred = people[0].language
    size, language, heading = _settings(program, page_size, lang, curriculum, preferred)
    module = module.in_language(language)
    worksheets = [next((t for t in module.worksheets if t.code == w.code), w) for w in worksheets]
    heading = heading or curriculum.in_language(language).title
    on = on or program_today(program)
    enrollments = enrollments if enrollments is not None else (current_enrollments(people) if people else {})
    named = tuple(identity(p, enrollments.get(p.id), on, group_name, language) for p in people)
    copies = (named + (None,) * blank_copies) or (None,)
    sheets = tuple(builders.Sheet(w, module.code, module.title) for w in worksheets)
    codes = [w.code for w in worksheets]
    key = cache_key("worksheet", {"version": version_digest(version, curriculum), "codes": codes, "size": size,
                                  "lang": language, "fillable": fillable, "heading": heading, "copies": copies})

    def build() -> RenderInput:
        with builders.in_language(language):
            title = (f"{codes[0]} {worksheets[0].title}" if len(codes) == 1 else
                     _("%(code)s %(title)s: worksheets", code=module.code, title=module.title))
            html = builders.worksheets_html(list(sheets), title=title, lang=language, fillable=fillable,
                                            identity=copies[0] if fillable else None)
            return RenderInput(html, size, language, fillable, sheets, copies, heading, notice=bool(people))

    variant = "fillable" if fillable else ("personalized" if people else "blank")
    name = (codes[0] if len(codes) == 1 else module.code).replace(" ", "-")
    suffix = "" if language == "en" else f"-{language}"
    return Order("worksheet", key, f"{name}-{variant}{suffix}.pdf", sum(w.pages for w in worksheets) * len(copies),
                 build, tuple(p.id for p in people), program.id if program else None,
                 {"codes": codes, "variant": variant, "page_size": size, "copies": len(copies), "lang": language})


def guide_order(code: str, *, version: CurriculumVersion, program: Program | None = None,
                lang: str | None = None, page_size: str | None = None, preferred: str | None = None) -> Order:
    """The facilitator guide of a module (a worksheet code gives its module's guide)."""
    curriculum = domain_of(version)
    module, _sheets = lookup(curriculum, code)
    size, language, heading = _settings(program, page_size, lang, curriculum, preferred)
    heading = heading or curriculum.in_language(language).title
    module = module.in_language(language)
    track = curriculum.in_language(language).track(module.track_code)
    key = cache_key("guide", {"version": version_digest(version, curriculum), "module": module.code, "size": size,
                              "lang": language, "heading": heading})

    def build() -> RenderInput:
        return RenderInput(builders.guide_html(module, heading=heading, track_name=track.name, lang=language),
                           size, language)

    suffix = "" if language == "en" else f"-{language}"
    return Order("guide", key, f"{module.code.replace(' ', '-')}-guide{suffix}.pdf", 3, build,
                 program_id=program.id if program else None,
                 detail={"module": module.code, "page_size": size, "lang": language})


def handbook_order(*, version: CurriculumVersion, program: Program | None = None, lang: str | None = None,
                   page_size: str | None = None, preferred: str | None = None) -> Order:
    """The participant handbook: cover, contents, every worksheet of the curriculum in order."""
    source = domain_of(version)
    size, language, heading = _settings(program, page_size, lang, source, preferred)
    curriculum = source.in_language(language)
    heading = heading or curriculum.title
    sheets = tuple(builders.sheets_of(curriculum))
    key = cache_key("handbook", {"version": version_digest(version, source), "size": size, "lang": language,
                                 "heading": heading})

    def build() -> RenderInput:
        html = builders.handbook_html(curriculum, list(sheets), heading=heading, lang=language)
        return RenderInput(html, size, language, False, sheets, (None,), heading)

    pages = sum(s.worksheet.pages for s in sheets) + 1 + (len(sheets) + len(curriculum.tracks) * 3) // 45 + 1
    suffix = "" if language == "en" else f"-{language}"
    return Order("handbook", key, f"{curriculum.name}-handbook-{size}{suffix}.pdf", pages, build,
                 program_id=program.id if program else None,
                 detail={"curriculum": curriculum.name, "page_size": size, "lang": language})
