"""Builders shared by the sequencer tests: synthetic curricula (structure only, no module text)."""

from __future__ import annotations

from datetime import date, timedelta

import yaml

from facilitator.domain.curriculum import Curriculum, Module, PatternSlot, Track
from facilitator.domain.curriculum_files import MANIFEST, shipped_path

# The default weekly pattern of matrix-16 (Mon/Fri ERS + RP, Wed FE and SS).
DEFAULT_PATTERN = (
    PatternSlot("mon", "17:30", "ERS", 50),
    PatternSlot("mon", "18:30", "RP", 90),
    PatternSlot("wed", "18:30", "FE", 90),
    PatternSlot("wed", "18:30", "SS", 90),
    PatternSlot("fri", "17:30", "ERS", 50),
    PatternSlot("fri", "18:30", "RP", 90),
)


def track(code: str, count: int, *, kind: str = "group", ordering: str = "rotating", minutes: int = 90,
          required: bool = True, first_week: int = 1, module_minutes: list[int] | None = None) -> Track:
    """A track of `count` modules named "CODE 1".."CODE n"."""
    mins = module_minutes or [minutes] * count
    modules = tuple(Module(code=f"{code} {i + 1}", title=f"{code} topic {i + 1}", minutes=mins[i]) for i in range(count))
    return Track(code=code, name=f"{code} track", kind=kind, ordering=ordering, minutes=minutes,
                 required=required, modules=modules, first_week=first_week)


def curriculum(*tracks: Track, pattern: tuple[PatternSlot, ...] = (), share: float = 0.75) -> Curriculum:
    """A synthetic curriculum version made of the given tracks."""
    return Curriculum(name="synthetic", title="Synthetic curriculum", version="1", tracks=tuple(tracks),
                      pattern=pattern, credit_share=share)


def matrix_like() -> Curriculum:
    """The structure of matrix-16 (IC 3, ERS 8, RP 32, FE 12, SS 36, RA 1), built in code."""
    return curriculum(
        track("IC", 3, kind="individual", ordering="as-needed", minutes=50),
        track("ERS", 8, minutes=50),
        track("RP", 32),
        track("FE", 12, kind="family"),
        track("SS", 36, ordering="pool", required=False, first_week=13),
        track("RA", 1, kind="individual", ordering="as-needed", minutes=50, required=False),
        pattern=DEFAULT_PATTERN,
    )


def pattern_json(pattern: tuple[PatternSlot, ...] = DEFAULT_PATTERN) -> list[dict]:
    """A pattern as scenario JSON slots."""
    return [{"weekday": s.weekday, "time": s.time, "track": s.track, "minutes": s.minutes} for s in pattern]


def days(first: date, last: date):
    """Every date from first to last, inclusive."""
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def test_matrix_like_has_the_shipped_structure():
    """The synthetic twin matches the shipped manifest: track codes, kinds, counts, pattern."""
    manifest = yaml.safe_load((shipped_path("matrix-16") / MANIFEST).read_text())
    shipped = [(t["code"], t["kind"], t["ordering"], len(t["modules"]), t["required"], t.get("first_week", 1))
               for t in manifest["tracks"]]
    twin = [(t.code, t.kind, t.ordering, len(t.modules), t.required, t.first_week) for t in matrix_like().tracks]
    assert twin == shipped
    assert pattern_json() == manifest["pattern"]
