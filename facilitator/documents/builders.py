"""Turn curriculum objects and plain identity data into print HTML through the Jinja templates.

Nothing here touches the database, Flask or WeasyPrint, so a render worker can build the
per-copy frames of a personalized packet itself. Curriculum text comes from directors and is
treated as untrusted: Jinja escapes every string, and the Markdown key points go through nh3.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import nh3

from ..domain.curriculum import Curriculum, Field, Module, Worksheet
from ..web.markdown import markdown_html

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "templates" / "documents"

# The 42 CFR 2.32 notice, in plain words. It goes on every page that carries participant data.
REDISCLOSURE_NOTICE = (
    "Confidential (42 CFR 2.32). This record is from a substance use treatment program. Federal law 42 CFR "
    "part 2 prohibits further disclosure of it without the written consent of the person it is about, or as "
    "the regulation otherwise permits. A general release of medical information is not enough, and the record "
    "may not be used against this person in a legal case."
)

# Words printed by the templates themselves, per document language. Only English ships today;
# a curriculum in another language needs its row here before it can be printed.
CHROME: dict[str, dict[str, str]] = {
    "en": {
        "name": "Name", "group": "Group", "date": "Date", "page": "Page", "of": "of", "other": "Other",
        "initials": "Initials", "signature": "signature", "month": "Month", "time": "Time",
        "plan": "What I will do", "circle_one": "Circle one number.", "tick": "Check",
        "guide": "Facilitator guide", "handbook": "Participant handbook", "contents": "Contents",
        "belongs_to": "This handbook belongs to", "goals": "Goals", "outline": "Timed outline",
        "clock": "Clock", "minutes": "Min", "activity": "Activity", "key_points": "Key points",
        "questions": "Discussion questions", "considerations": "Considerations", "when": "If this happens",
        "what_to_do": "What to do",
        "handouts": "Handouts used", "pages": "pages", "one_page": "page", "minutes_long": "minutes",
        "weekdays": "Sun Mon Tue Wed Thu Fri Sat", "week": "week", "row": "row",
        "packet_title": "Meeting packet: {module}, {group}, {when}",
        "my_answer": "My answer",
    },
}

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



def safe_markdown(text: str) -> str:
    """Markdown from a curriculum file as sanitized HTML (headings shifted below the page's own)."""
    html = markdown_html(text, drop_heading="Key points")  # the guide prints its own heading
    html = re.sub(r"<(/?)h[12]\b", r"<\1h3", html)  # the guide owns h1/h2
    return _CLEANER.clean(html)


def slug(code: str) -> str:
    """A code as a form-field and anchor prefix: "RP 3A" -> "rp3a"."""
    return re.sub(r"[^a-z0-9]", "", code.lower())


def chrome(lang: str) -> dict[str, str]:
    """The template's own words in a language; UnknownLanguage if there are none."""
    if lang not in CHROME:
        raise UnknownLanguage(f"no print wording for language {lang!r} (available: {', '.join(sorted(CHROME))})")
    return CHROME[lang]


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
    """24-hour clock to a printed hour: 7 -> "7 AM", 12 -> "Noon", 0 -> "Midnight"."""
    if hour % 24 == 0:
        return "Midnight"
    if hour == 12:
        return "Noon"
    return f"{hour % 12} {'AM' if hour % 24 < 12 else 'PM'}"


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
)
_env.globals.update(table_columns=table_columns, table_rows=table_rows, hour_label=hour_label,
                    checklist_columns=checklist_columns, slug=slug, outline_rows=outline_rows,
                    notice_text=REDISCLOSURE_NOTICE)


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
    return _env.get_template("worksheets.html").render(
        sheets=sheets, title=title, t=chrome(lang), lang=lang, fillable=fillable, identity=identity, answers=answers)


def frame_html(pages: list[tuple[str, Sheet | None]], *, heading: str, lang: str,
               copies: tuple[dict[str, str] | None, ...], notice: bool, with_identity: bool = True) -> str:
    """The page headers and footers of every copy: an empty page per (page name, sheet) of the body,
    once per copy. A copy's identity=None prints blank Name / Group / Date lines; notice adds the
    42 CFR 2.32 notice to every page."""
    return _env.get_template("frame.html").render(
        pages=pages, heading=heading, t=chrome(lang), lang=lang, copies=copies, notice=notice,
        with_identity=with_identity)


def guide_html(module: Module, *, heading: str, track_name: str, lang: str) -> str:
    """The facilitator guide of a module."""
    return _env.get_template("guide.html").render(
        module=module, heading=heading, track_name=track_name, t=chrome(lang), lang=lang,
        key_points=safe_markdown(module.key_points))


def handbook_html(curriculum: Curriculum, sheets: list[Sheet], *, heading: str, lang: str) -> str:
    """The handbook body: cover, contents with page numbers, then the sheets (headers come from a frame)."""
    tracks = [{"name": t.name, "code": t.code, "sheets": [s for s in sheets if s.module_code.split(" ")[0] == t.code]}
              for t in curriculum.tracks]
    return _env.get_template("handbook.html").render(
        curriculum=curriculum, tracks=[t for t in tracks if t["sheets"]], sheets=sheets, heading=heading,
        t=chrome(lang), lang=lang, fillable=False, identity=None)


def template_files() -> list[Path]:
    """Every template and stylesheet file (their contents are part of each cache key)."""
    return sorted(p for p in TEMPLATE_DIR.rglob("*") if p.is_file())
