"""The curriculum as plain, immutable data: tracks, modules, worksheets and their fields.

Nothing here knows about files, Flask or the database; the loader in
``curriculum_files`` builds these objects and the persistence layer stores them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

TRACK_KINDS = ("group", "family", "individual")
TRACK_ORDERINGS = ("rotating", "pool", "as-needed")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
FIELD_TYPES = (
    "note",  # instructions printed on the sheet; nothing to fill in
    "text",  # one answer line
    "lines",  # several answer lines
    "date",  # a date blank
    "checklist",  # items to check (or initial), optionally with an "Other:" blank
    "table",  # column headers, labelled or blank rows, text or check cells
    "scale",  # rate from min to max with end labels
    "calendar",  # a month grid, one mark per day
    "schedule",  # an hour-by-hour plan for one day
    "sequence",  # boxes joined by arrows (trigger -> thought -> craving -> use)
    "signature",  # a signature line with a date
)


@dataclass(frozen=True)
class Field:
    """One fillable element of a worksheet."""

    id: str
    type: str
    label: str = ""
    text: str = ""  # note text, or help printed under the label
    lines: int = 0  # answer lines for "lines"
    items: tuple[str, ...] = ()  # checklist items
    other: bool = False  # checklist ends with an "Other:" blank
    mark: str = "check"  # checklist mark: check or initials
    columns: tuple[str, ...] = ()  # table column headers
    rows: int = 0  # blank table rows
    row_labels: tuple[str, ...] = ()  # printed row headers, in a first column headed by row_header
    row_header: str = ""  # header over the row labels ("Day", "Area"); columns are the answer columns
    cells: str = "text"  # table cells: text or check
    min: int = 0  # scale
    max: int = 0
    low_label: str = ""
    high_label: str = ""
    steps: tuple[str, ...] = ()  # sequence box labels
    start_hour: int = 0  # schedule
    end_hour: int = 0


@dataclass(frozen=True)
class Worksheet:
    """A printable handout with structured fields."""

    code: str
    title: str
    fields: tuple[Field, ...]
    intro: str = ""
    pages: int = 1
    language: str = "en"


@dataclass(frozen=True)
class OutlineStep:
    """One timed step of a facilitator guide."""

    minutes: int
    activity: str


@dataclass(frozen=True)
class Consideration:
    """A situation a facilitator may meet and what to do about it."""

    when: str
    do: str


@dataclass(frozen=True)
class Module:
    """One session topic of a track, with its guide and worksheets."""

    code: str
    title: str
    minutes: int
    goals: tuple[str, ...] = ()
    outline: tuple[OutlineStep, ...] = ()
    key_points: str = ""  # Markdown
    questions: tuple[str, ...] = ()
    considerations: tuple[Consideration, ...] = ()
    worksheets: tuple[Worksheet, ...] = ()
    retired: bool = False
    source: str = ""  # file the module came from, for messages; not content
    # The module in other languages: (("es", the Spanish twin), ...), each with the same structure.
    translations: tuple[tuple[str, Module], ...] = ()
    # Languages whose twin was written before the last change to this text: it prints as it is
    # (English) in those languages until someone reviews the twin.
    needs_review: tuple[str, ...] = ()

    def in_language(self, language: str) -> Module:
        """This module's text in a language (its twin), or itself when it has none there or it awaits review."""
        if language in self.needs_review:
            return self
        for code, twin in self.translations:
            if code == language:
                return twin
        return self

    @property
    def track_code(self) -> str:
        """The track prefix of the code ("RP" for "RP 3")."""
        return self.code.split(" ", 1)[0]

    @property
    def number(self) -> int | None:
        """The numeric part of the code, if it has one ("RP 3" -> 3)."""
        tail = self.code.split(" ", 1)[-1]
        digits = "".join(ch for ch in tail if ch.isdigit())
        return int(digits) if digits else None


@dataclass(frozen=True)
class Track:
    """A strand of the curriculum with its own sequence of modules."""

    code: str
    name: str
    kind: str
    ordering: str
    minutes: int
    required: bool
    modules: tuple[Module, ...]
    first_week: int = 1
    last_week: int | None = None  # planned end; a track stays expected until complete
    closing_discussion_minutes: int = 0  # last outline step must be this long (RP: 30)
    names: tuple[tuple[str, str], ...] = ()  # the track's name in other languages: (("es", "..."),)

    def name_in(self, language: str) -> str:
        """The track's name in a language (English when it has none there)."""
        return dict(self.names).get(language, self.name)


@dataclass(frozen=True)
class PatternSlot:
    """One entry of a weekly pattern: weekday, start time, track, minutes."""

    weekday: str
    time: str
    track: str
    minutes: int


@dataclass(frozen=True)
class Curriculum:
    """A whole curriculum version: the unit that is validated, stored and published."""

    name: str
    title: str
    version: str
    tracks: tuple[Track, ...]
    language: str = "en"
    description: str = ""
    pattern: tuple[PatternSlot, ...] = ()
    credit_share: float = 0.75  # share of a module's minutes that earns its credit
    # Other languages of the whole text: (("es", "Título"),) for the title; modules and tracks
    # carry their own. A language listed here must have a twin of every module.
    translations: tuple[tuple[str, str], ...] = ()
    descriptions: tuple[tuple[str, str], ...] = ()  # the description in other languages

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages the curriculum's text is in, its own first."""
        return (self.language, *(code for code, _ in self.translations))

    def in_language(self, language: str) -> Curriculum:
        """The curriculum with every text in a language where it has one (else as it is)."""
        if language == self.language:
            return self
        return replace(self, title=dict(self.translations).get(language, self.title),
                       description=dict(self.descriptions).get(language, self.description), tracks=tuple(
            replace(t, name=t.name_in(language), modules=tuple(
                replace(m.in_language(language), code=m.code, source=m.source, translations=()) for m in t.modules))
            for t in self.tracks))

    def track(self, code: str) -> Track:
        """The track with this code; KeyError if there is none."""
        for track in self.tracks:
            if track.code == code:
                return track
        raise KeyError(code)

    def modules(self) -> list[Module]:
        """Every module in track order, then curriculum order."""
        return [module for track in self.tracks for module in track.modules]

    def module(self, code: str) -> Module:
        """The module with this code; KeyError if there is none."""
        for module in self.modules():
            if module.code == code:
                return module
        raise KeyError(code)

    def worksheets(self) -> list[tuple[Module, Worksheet]]:
        """Every worksheet with the module it belongs to, in curriculum order."""
        return [(m, w) for m in self.modules() for w in m.worksheets]

    def content(self) -> dict[str, Any]:
        """Everything that defines this version, as plain data (no file names)."""
        data = asdict(self)
        # Text in no other language adds nothing: an English-only version keeps the hash it had.
        if not data["translations"]:
            data.pop("translations")
            data.pop("descriptions")
        for track in data["tracks"]:
            if not track["names"]:
                track.pop("names")
            for module in track["modules"]:
                module.pop("source", None)
                # A twin awaiting review stands in for words yet to be written: only the flag counts.
                module["translations"] = tuple((language, twin) for language, twin in module["translations"]
                                               if language not in module["needs_review"])
                if not module["translations"]:
                    module.pop("translations")
                if not module["needs_review"]:
                    module.pop("needs_review")
                for _, twin in module.get("translations", ()):
                    twin.pop("source", None)
                    twin.pop("needs_review", None)
        return data


def normalize_code(code: str) -> str:
    """Accept "rp3", "RP-3", "rp 3" and return the canonical "RP 3"."""
    raw = code.strip().upper().replace("-", " ").replace("_", " ")
    head = ""
    for ch in raw:
        if not ch.isalpha():
            break
        head += ch
    tail = raw[len(head):].strip()
    return f"{head} {tail}" if tail else head


def field_default(name: str) -> Any:
    """The default value of a Field attribute (used when exporting compactly)."""
    return Field.__dataclass_fields__[name].default


__all__ = [
    "Consideration",
    "Curriculum",
    "FIELD_TYPES",
    "Field",
    "Module",
    "OutlineStep",
    "PatternSlot",
    "TRACK_KINDS",
    "TRACK_ORDERINGS",
    "Track",
    "WEEKDAYS",
    "Worksheet",
    "field_default",
    "normalize_code",
]
