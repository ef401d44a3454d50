"""Turn curriculum objects and plain identity data into print HTML through the Jinja templates.

The templates' own words are marked with gettext (Flask-Babel) and rendered in the document's
language inside `in_language(lang)` (flask_babel.force_locale: a web request, the command line and
the worker all have an app context); the curriculum's words come from its twin in that language.
Nothing here touches the database or WeasyPrint, and the frame (frame_html, built by a render
worker) takes its few words as data (FrameWords), so a worker needs no locale. Curriculum text
comes from directors and is treated as untrusted: Jinja escapes every string, and the Markdown key
points go through nh3.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, time
from pathlib import Path
from typing import Any

import jinja2
import nh3
from flask_babel import force_locale, get_translations
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..domain.curriculum import Curriculum, Field, Module, Worksheet
from ..web.i18n import LANGUAGE_NAMES, LANGUAGES, current_language, format_clock, format_when
from ..web.markdown import markdown_html

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "templates" / "documents"

# The 42 CFR 2.32 notice, in plain words. It goes on every page that carries participant data.
REDISCLOSURE_NOTICE = _l(
    "Confidential (42 CFR 2.32). This record is from a substance use treatment program. Federal law 42 CFR "
    "part 2 prohibits further disclosure of it without the written consent of the person it is about, or as "
    "the regulation otherwise permits. A general release of medical information is not enough, and the record "
    "may not be used against this person in a legal case."
)

# Answer keys of a calendar field ("w1_sun"): English day codes whatever the language printed.
WEEKDAY_KEYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_A_SUNDAY = date(2027, 1, 3)


@dataclass(frozen=True)
class FrameWords:
    """The words of the per-copy headers and footers, in the document's language, as plain data: the
    frame is laid out by whoever renders (a worker too), after the body."""

    name: str = "Name"
    group: str = "Group"
    date: str = "Date"
    page_of: str = "Page %(n)s of %(total)s"  # "%(n)s" and "%(total)s" are the page number and count
    notice: str = ""  # the 42 CFR 2.32 notice

    def page_css(self) -> str:
        """The page counter as a CSS content value: "Page " counter(page) " of " counter(pages)."""
        text = self.page_of.replace('"', "").replace("\\", "")
        text = text.replace("%(n)s", '" counter(page) "').replace("%(total)s", '" counter(pages) "')
        return f'"{text}"'


_CLEANER = nh3.Cleaner(
    tags={"p", "ul", "ol", "li", "strong", "em", "b", "i", "code", "blockquote", "br", "h2", "h3", "h4",
          "a", "img", "table", "thead", "tbody", "tr", "th", "td", "hr"},
    attributes={"a": {"href"}, "img": {"src", "alt"}, "th": {"scope"}},
    # Images stay so a director's diagram can print from a data: URL; the sandboxed fetcher refuses
    # every other source. Relative URLs would resolve against nothing, so they are dropped.
    url_schemes={"http", "https", "data", "mailto"},
    url_relative="deny",
    link_rel=None,
)


class UnknownLanguage(LookupError):
    """The document cannot be printed in the requested language."""


def check_language(lang: str) -> str:
    """The language if the printed documents have words in it; UnknownLanguage otherwise."""
    if lang not in LANGUAGES:
        raise UnknownLanguage(f"the documents are not printed in {lang!r} (available: {', '.join(LANGUAGES)})")
    return lang


def language_name(lang: str) -> str:
    """A language by its own name (English, Español), or its code."""
    return LANGUAGE_NAMES.get(lang, lang)


@contextmanager
def in_language(lang: str) -> Iterator[None]:
    """Templates, gettext and the date filters in this language for the duration (force_locale)."""
    with force_locale(check_language(lang)):
        yield


def frame_words(lang: str) -> FrameWords:
    """The frame's words in a language."""
    with in_language(lang):
        return FrameWords(name=_("Name"), group=_("Group"), date=_("Date"),
                          page_of=_("Page %(n)s of %(total)s"), notice=str(REDISCLOSURE_NOTICE))


def translated(text: Any) -> str:
    """A label another module marked (a lazy string or its English) in the current language."""
    return _(str(text)) if text else ""


def safe_markdown(text: str) -> str:
    """Markdown from a curriculum file as sanitized HTML (headings shifted below the page's own)."""
    html = markdown_html(text, drop_heading="Key points")  # the guide prints its own heading
    html = re.sub(r"<(/?)h[12]\b", r"<\1h3", html)  # the guide owns h1/h2
    return _CLEANER.clean(html)


def slug(code: str) -> str:
    """A code as a form-field and anchor prefix: "RP 3A" -> "rp3a"."""
    return re.sub(r"[^a-z0-9]", "", code.lower())


def weekday_labels() -> list[tuple[str, str]]:
    """The calendar field's columns, Sunday first: (answer key, printed short name) in the current language."""
    return [(key, format_when(date.fromordinal(_A_SUNDAY.toordinal() + n), "weekday_short"))
            for n, key in enumerate(WEEKDAY_KEYS)]


# --- layout helpers the templates call -----------------------------------------------------

@dataclass(frozen=True)
class Column:
    """One printed column of a table field."""

    header: str
    kind: str  # label (printed row labels), text (write-in), name (a write-in naming the row), check (a box)
    width: float  # percent of the table width


def table_columns(field: Field) -> list[Column]:
    """The printed columns of a table field with widths that leave room to write."""
    cols: list[tuple[str, str]] = []
    answers = list(field.columns)
    if field.row_labels:
        cols.append((field.row_header, "label"))
    elif field.cells == "check" and answers:
        # Blank rows of check cells need somewhere to say what the row is ("Habit"): the first
        # column is written in, the rest are boxes.
        cols.append((answers.pop(0), "name"))
    cols += [(header, field.cells) for header in answers]
    # A write-in column gets room by what its header asks for: "Week 1" or "Time" wants a mark or a
    # number, "My anchor (a recovery behavior)" a phrase; everything between, equal shares. Row
    # labels are printed text and need about two answers' room.
    weights = [(2.4 if len(answers) < 4 else 1.8) if kind == "label" else 3.0 if kind == "name" else
               1.0 if kind == "check" or len(h) <= 6 else 3.0 if len(h) > 24 else 2.0 for h, kind in cols]
    total = sum(weights)
    return [Column(h, kind, round(100 * w / total, 2)) for (h, kind), w in zip(cols, weights, strict=True)]


def table_rows(field: Field) -> list[str]:
    """Row labels of a table field, or empty strings for its blank rows."""
    return list(field.row_labels) if field.row_labels else [""] * field.rows


def hour_label(hour: int) -> str:
    """24-hour clock to a printed hour: 7 -> "7 AM", 12 -> "Noon", 0 -> "Midnight" (Spanish: "7 a. m.")."""
    if hour % 24 == 0:
        return _("Midnight")
    if hour == 12:
        return _("Noon")
    if current_language() == "en":
        return f"{hour % 12} {'AM' if hour % 24 < 12 else 'PM'}"
    return format_clock(time(hour % 24)).replace(":00", "")


def checklist_columns(field: Field) -> list[list[tuple[int, str]]]:
    """The items of a checklist as (number, text), in two columns when none wraps past two lines.

    Two columns halve the height of a list of short items; lists of full sentences (a service
    agreement) stay in one column so each line reads as one line. The columns are two lists side by
    side (not CSS columns, which WeasyPrint lays out several times to balance them).
    """
    items = list(enumerate(field.items, start=1))
    if len(items) < 4 or max(len(i) for i in field.items) > 56:
        return [items]
    left = (len(items) + field.other + 1) // 2  # "Other" ends the right column
    return [items[:left], items[left:]]


def clock(minutes: int) -> str:
    """Elapsed minutes as a running clock: 75 -> "1:15"."""
    return f"{minutes // 60}:{minutes % 60:02d}"


def outline_rows(module: Module) -> list[dict[str, Any]]:
    """The timed outline with each step's start and end on a running clock."""
    rows, elapsed = [], 0
    for step in module.outline:
        rows.append({"start": clock(elapsed), "end": clock(elapsed + step.minutes), "minutes": step.minutes,
                     "activity": step.activity})
        elapsed += step.minutes
    return rows


_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    extensions=["jinja2.ext.i18n"],
)
# gettext as the app's templates have it (newstyle: values are escaped), in the locale forced around a render.
_env.install_gettext_callables(gettext=lambda s: get_translations().ugettext(s),
                               ngettext=lambda s, p, n: get_translations().ungettext(s, p, n), newstyle=True,
                               pgettext=lambda c, s: get_translations().upgettext(c, s))
_env.filters.update(when=format_when, clock=format_clock)
_env.globals.update(table_columns=table_columns, table_rows=table_rows, hour_label=hour_label,
                    checklist_columns=checklist_columns, slug=slug, outline_rows=outline_rows,
                    notice_text=REDISCLOSURE_NOTICE, weekday_labels=weekday_labels, tr=translated,
                    current_language=current_language)


# --- documents -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Sheet:
    """A worksheet with what its page header needs."""

    worksheet: Worksheet
    module_code: str
    module_title: str

    @property
    def anchor(self) -> str:
        """The id of the sheet's first element (finds its pages after layout)."""
        return "sheet-" + slug(self.worksheet.code)


def sheets_of(curriculum: Curriculum, modules: list[Module] | None = None) -> list[Sheet]:
    """Every worksheet of the given modules (default: every module that is not retired), in order."""
    chosen = modules if modules is not None else [m for m in curriculum.modules() if not m.retired]
    return [Sheet(w, m.code, m.title) for m in chosen for w in m.worksheets]


def worksheets_html(sheets: list[Sheet], *, title: str, lang: str, fillable: bool = False,
                    identity: dict[str, str] | None = None, answers: dict[str, dict[str, Any]] | None = None) -> str:
    """The body of a worksheet document: each sheet from a new page, without page headers and footers.

    The headers and footers come from a frame document laid out separately (see frame_html and
    service.render): running elements in the body would make WeasyPrint lay out every page twice.
    A fillable body carries the Name / Group / Date row itself (identity=None leaves it blank).
    answers (worksheet code -> the workbook's answers keyed by field id) prints each answer in its place.
    """
    with in_language(lang):
        return _env.get_template("worksheets.html").render(
            sheets=sheets, title=title, lang=lang, fillable=fillable, identity=identity, answers=answers)


def frame_html(pages: list[tuple[str, Sheet | None]], *, heading: str, lang: str, words: FrameWords,
               copies: tuple[dict[str, str] | None, ...], notice: bool, with_identity: bool = True) -> str:
    """The page headers and footers of every copy: an empty page per (page name, sheet) of the body,
    once per copy. A copy's identity=None prints blank Name / Group / Date lines; notice adds the
    42 CFR 2.32 notice to every page. The words are data: a worker lays the frame out without a locale."""
    return _env.get_template("frame.html").render(
        pages=pages, heading=heading, words=words, lang=lang, copies=copies, notice=notice,
        with_identity=with_identity)


def guide_html(module: Module, *, heading: str, track_name: str, lang: str) -> str:
    """The facilitator guide of a module."""
    with in_language(lang):
        return _env.get_template("guide.html").render(
            module=module, heading=heading, track_name=track_name, lang=lang,
            key_points=safe_markdown(module.key_points))


def handbook_html(curriculum: Curriculum, sheets: list[Sheet], *, heading: str, lang: str) -> str:
    """The handbook body: cover, contents with page numbers, then the sheets (headers come from a frame)."""
    tracks = [{"name": t.name, "code": t.code, "sheets": [s for s in sheets if s.module_code.split(" ")[0] == t.code]}
              for t in curriculum.tracks]
    with in_language(lang):
        return _env.get_template("handbook.html").render(
            curriculum=curriculum, tracks=[t for t in tracks if t["sheets"]], sheets=sheets, heading=heading,
            lang=lang, fillable=False, identity=None)


def template_files() -> list[Path]:
    """Every template and stylesheet file (their contents are part of each cache key)."""
    return sorted(p for p in TEMPLATE_DIR.rglob("*") if p.is_file())
