"""A what-if scenario: parse and validate its JSON form into dataclasses, every problem naming
the field it is about ("slots[2].minutes"), and resolve the curriculum it names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from ..curriculum import WEEKDAYS, Curriculum, Module, PatternSlot, Track, normalize_code
from ..curriculum_files import MANIFEST, load_folder, shipped_path
from ..problems import Problem
from .model import MODES, POLICIES, Cancellation, TopicPick

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
MAX_DAYS = 3660  # ten years: a what-if past that is a typo, and would only burn time
TOP_KEYS = {"description", "curriculum", "start", "until", "slots", "holidays", "cancellations", "policy",
            "hours_floor", "participants", "mode", "start_modules", "topics"}


@dataclass(frozen=True)
class ScenarioParticipant:
    """A participant of a scenario: the stay and the days they miss."""

    id: str | int
    admitted: date
    discharged: date | None
    absent: frozenset[date]


@dataclass(frozen=True)
class Scenario:
    """A parsed what-if scenario (names are checked against the curriculum separately)."""

    curriculum: str | None
    start: date
    until: date
    slots: tuple[PatternSlot, ...]
    holidays: tuple[date, ...] = ()
    cancellations: tuple[Cancellation, ...] = ()
    policy: str = "postpone"
    hours_floor: float = 9.0
    participants: tuple[ScenarioParticipant, ...] = ()
    mode: str = "open"
    start_modules: tuple[tuple[str, str], ...] = ()
    topics: tuple[TopicPick, ...] = ()


class ScenarioError(ValueError):
    """A scenario that cannot be simulated, with every problem found."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(format_problem(p) for p in problems))
        self.problems = problems


def format_problem(problem: Problem) -> str:
    """One line for a person: "scenario.json: slots[2].minutes: must be greater than 0"."""
    return ": ".join(part for part in (problem.file, problem.field, problem.text) if part)


class _Reader:
    """Typed access to the scenario's JSON with a problem, not an exception, for each bad field."""

    def __init__(self, source: str):
        self.source = source
        self.problems: list[Problem] = []

    def fail(self, field: str, message: str) -> None:
        """Record a problem with a field."""
        self.problems.append(Problem(self.source, message, None, field))

    def date(self, value: Any, field: str) -> date | None:
        """A YYYY-MM-DD date, or None after recording why not."""
        if isinstance(value, str) and DATE.match(value):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        self.fail(field, f"not a date (YYYY-MM-DD): {value!r}")
        return None

    def listing(self, data: dict, key: str, required: bool = False) -> list:
        """The list under a key ([] if absent or not a list, with a problem when it matters)."""
        if key not in data:
            if required:
                self.fail(key, "missing")
            return []
        if not isinstance(data[key], list):
            self.fail(key, "must be a list")
            return []
        return data[key]

    def obj(self, value: Any, field: str, keys: set[str], required: tuple[str, ...]) -> dict | None:
        """An object with known keys only and the required ones present (None if not an object)."""
        if not isinstance(value, dict):
            self.fail(field, "must be an object")
            return None
        for key in sorted(set(value) - keys):
            self.fail(f"{field}.{key}" if field else key, "unknown field")
        for key in required:
            if key not in value:
                self.fail(f"{field}.{key}" if field else key, "missing")
        return value


def parse_scenario(data: Any, source: str = "scenario", need_curriculum: bool = True) -> tuple[Scenario | None, list[Problem]]:
    """Check a scenario's shape and values; return it (or None) and every problem."""
    r = _Reader(source)
    required = ("curriculum", "start", "until", "slots") if need_curriculum else ("start", "until", "slots")
    top = r.obj(data, "", TOP_KEYS, required)
    if top is None:
        return None, r.problems
    curriculum = top.get("curriculum")
    if curriculum is not None and (not isinstance(curriculum, str) or not curriculum.strip()):
        r.fail("curriculum", "must be a curriculum name or a folder")
    start = r.date(top["start"], "start") if "start" in top else None
    until = r.date(top["until"], "until") if "until" in top else None
    if start and until:
        if until < start:
            r.fail("until", f"{until} is before start {start}")
        elif (until - start).days > MAX_DAYS:
            r.fail("until", f"more than {MAX_DAYS} days after start")
    policy = top.get("policy", "postpone")
    if policy not in POLICIES:
        r.fail("policy", f"must be one of {', '.join(POLICIES)}, not {policy!r}")
    mode = top.get("mode", "open")
    if mode not in MODES:
        r.fail("mode", f"must be one of {', '.join(MODES)}, not {mode!r}")
    floor = top.get("hours_floor", 9)
    if isinstance(floor, bool) or not isinstance(floor, int | float) or not 0 <= floor <= 168:
        r.fail("hours_floor", f"must be a number of hours from 0 to 168, not {floor!r}")
    slots = _slots(r, top)
    holidays = [r.date(v, f"holidays[{i}]") for i, v in enumerate(r.listing(top, "holidays"))]
    cancellations = _cancellations(r, top)
    participants = _participants(r, top, start if mode == "cohort" else None)
    start_modules = _start_modules(r, top, mode)
    topics = _topics(r, top)
    if start and until:
        _check_topic_dates(r, topics, slots, start, until)
    if r.problems:
        return None, r.problems
    scenario = Scenario(
        curriculum=curriculum, start=start, until=until, slots=tuple(slots),  # type: ignore[arg-type]
        holidays=tuple(holidays), cancellations=tuple(cancellations), policy=policy,  # type: ignore[arg-type]
        hours_floor=float(floor), participants=tuple(participants), mode=mode,
        start_modules=tuple(start_modules), topics=tuple(topics),
    )
    return scenario, []


def _slots(r: _Reader, top: dict) -> list[PatternSlot]:
    out: list[PatternSlot] = []
    seen: dict[tuple, int] = {}
    for i, raw in enumerate(r.listing(top, "slots")):
        where = f"slots[{i}]"
        slot = r.obj(raw, where, {"weekday", "time", "track", "minutes"}, ("weekday", "time", "track", "minutes"))
        if slot is None or any(k not in slot for k in ("weekday", "time", "track", "minutes")):
            continue
        ok = True
        if slot["weekday"] not in WEEKDAYS:
            r.fail(f"{where}.weekday", f"must be one of {', '.join(WEEKDAYS)}, not {slot['weekday']!r}")
            ok = False
        if not isinstance(slot["time"], str) or not TIME.match(slot["time"]):
            r.fail(f"{where}.time", f"must be a 24-hour time like \"18:00\", not {slot['time']!r}")
            ok = False
        if not isinstance(slot["track"], str) or not slot["track"]:
            r.fail(f"{where}.track", "must be a track code")
            ok = False
        minutes = slot["minutes"]
        if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes <= 0:
            r.fail(f"{where}.minutes", f"must be a whole number of minutes greater than 0, not {minutes!r}")
            ok = False
        elif minutes > 480:
            r.fail(f"{where}.minutes", f"at most 480, not {minutes}")
            ok = False
        if ok:
            key = (slot["weekday"], slot["time"], slot["track"])
            if key in seen:
                r.fail(where, f"the same weekday, time and track as slots[{seen[key]}]")
            seen[key] = i
            out.append(PatternSlot(slot["weekday"], slot["time"], slot["track"], minutes))
    return out


def _cancellations(r: _Reader, top: dict) -> list[Cancellation]:
    out = []
    for i, raw in enumerate(r.listing(top, "cancellations")):
        where = f"cancellations[{i}]"
        item = r.obj(raw, where, {"date", "track"}, ("date",))
        if item is None or "date" not in item:
            continue
        day = r.date(item["date"], f"{where}.date")
        track = item.get("track")
        if track is not None and (not isinstance(track, str) or not track):
            r.fail(f"{where}.track", "must be a track code")
        elif day:
            out.append(Cancellation(day, track))
    return out


def _participants(r: _Reader, top: dict, cohort_start: date | None) -> list[ScenarioParticipant]:
    out = []
    ids: dict[Any, int] = {}
    keys = {"id", "admitted", "discharged", "absent"}
    for i, raw in enumerate(r.listing(top, "participants")):
        where = f"participants[{i}]"
        item = r.obj(raw, where, keys, ("id",) if cohort_start else ("id", "admitted"))
        if item is None or "id" not in item:
            continue
        pid = item["id"]
        if isinstance(pid, bool) or not isinstance(pid, str | int) or pid == "":
            r.fail(f"{where}.id", "must be a non-empty string or a number")
        elif pid in ids:
            r.fail(f"{where}.id", f"{pid!r} is also the id of participants[{ids[pid]}]")
        else:
            ids[pid] = i
        admitted = r.date(item["admitted"], f"{where}.admitted") if "admitted" in item else cohort_start
        if cohort_start and admitted and admitted != cohort_start:
            r.fail(f"{where}.admitted", f"a cohort admits everyone on its start date ({cohort_start})")
        discharged = None
        if item.get("discharged") is not None:
            discharged = r.date(item["discharged"], f"{where}.discharged")
            if admitted and discharged and discharged < admitted:
                r.fail(f"{where}.discharged", f"{discharged} is before admitted {admitted}")
        absent = [r.date(v, f"{where}.absent[{j}]") for j, v in enumerate(r.listing(item, "absent"))]
        if admitted:
            out.append(ScenarioParticipant(pid, admitted, discharged, frozenset(d for d in absent if d)))
    return out


def _start_modules(r: _Reader, top: dict, mode: str) -> list[tuple[str, str]]:
    raw = top.get("start_modules", {})
    if not isinstance(raw, dict):
        r.fail("start_modules", "must be an object like {\"RP\": \"RP 5\"}")
        return []
    if raw and mode == "cohort":
        r.fail("start_modules", "a cohort starts every track at module 1")
    out = []
    for track, module in raw.items():
        if not isinstance(module, str) or not module.strip():
            r.fail(f"start_modules.{track}", "must be a module code like \"RP 5\"")
        else:
            out.append((track, normalize_code(module)))
    return out


def _topics(r: _Reader, top: dict) -> list[TopicPick]:
    out = []
    for i, raw in enumerate(r.listing(top, "topics")):
        where = f"topics[{i}]"
        item = r.obj(raw, where, {"date", "time", "track", "module"}, ("date", "track", "module"))
        if item is None or any(k not in item for k in ("date", "track", "module")):
            continue
        day = r.date(item["date"], f"{where}.date")
        time = item.get("time")
        if time is not None and (not isinstance(time, str) or not TIME.match(time)):
            r.fail(f"{where}.time", f"must be a 24-hour time like \"18:00\", not {time!r}")
        if not isinstance(item["module"], str) or not isinstance(item["track"], str):
            r.fail(where, "track and module must be codes")
        elif day:
            out.append(TopicPick(day, item["track"], normalize_code(item["module"]), time))
    return out


def _check_topic_dates(r: _Reader, topics: list[TopicPick], slots: list[PatternSlot], start: date, until: date) -> None:
    """A pick must name a meeting that exists, once: a pick for no meeting is surely a typo."""
    seen: dict[tuple, int] = {}
    for i, pick in enumerate(topics):
        where = f"topics[{i}]"
        weekday = WEEKDAYS[pick.date.weekday()]
        matching = [s for s in slots if s.track == pick.track and s.weekday == weekday
                    and (pick.time is None or s.time == pick.time)]
        if not start <= pick.date <= until:
            r.fail(f"{where}.date", f"{pick.date} is outside start..until")
        elif not matching:
            r.fail(where, f"no {pick.track} meeting on {pick.date} ({weekday})" + (f" at {pick.time}" if pick.time else ""))
        key = (pick.date, pick.track, pick.time)
        if key in seen:
            r.fail(where, f"picks the same meeting as topics[{seen[key]}]")
        seen[key] = i


def check_names(scenario: Scenario, curriculum: Curriculum, source: str = "scenario") -> list[Problem]:
    """Problems with the track and module names of a scenario, given its curriculum."""
    r = _Reader(source)
    tracks = {t.code: t for t in curriculum.tracks}
    scheduled = [t.code for t in curriculum.tracks if t.kind in ("group", "family") and t.ordering != "as-needed"]
    known = f"{curriculum.name} has {', '.join(scheduled)}"

    def track_field(code: str, field: str) -> Track | None:
        """The track a field names, if it may have group meetings."""
        if code not in tracks:
            r.fail(field, f"unknown track {code!r} ({known})")
            return None
        if code not in scheduled:
            r.fail(field, f"{code} is scheduled individually, not in group meetings ({known})")
            return None
        return tracks[code]

    for i, slot in enumerate(scenario.slots):
        track_field(slot.track, f"slots[{i}].track")
    for i, c in enumerate(scenario.cancellations):
        if c.track is not None:
            track_field(c.track, f"cancellations[{i}].track")
    for track_code, module in scenario.start_modules:
        track = track_field(track_code, f"start_modules.{track_code}")
        if track and module not in {m.code for m in track.modules}:
            r.fail(f"start_modules.{track_code}", f"{module} is not a module of {track_code}")
    for i, pick in enumerate(scenario.topics):
        track = track_field(pick.track, f"topics[{i}].track")
        if track and track.ordering != "pool":
            r.fail(f"topics[{i}].track", f"{pick.track} rotates in order; only pool tracks take topic picks")
        elif track and pick.module not in {m.code for m in track.modules}:
            r.fail(f"topics[{i}].module", f"{pick.module} is not a module of {pick.track}")
    return r.problems


def load_scenario_curriculum(name: str, base_dir: Path | None = None) -> tuple[Curriculum | None, list[Problem]]:
    """The curriculum a scenario names (shipped name, or a folder relative to the scenario)."""
    folder = shipped_path(name)
    if not (folder / MANIFEST).is_file() and not folder.is_absolute() and base_dir is not None:
        folder = base_dir / folder
    if not (folder / MANIFEST).is_file():
        return None, [Problem("scenario", f"no shipped curriculum or curriculum folder named {name!r}", None, "curriculum")]
    curriculum, problems = load_folder(folder)
    if curriculum is None:
        errors = [p for p in problems if p.severity == "error"][:5]
        detail = "; ".join(str(p) for p in errors)
        return None, [Problem("scenario", f"curriculum {name!r} cannot be loaded: {detail}", None, "curriculum")]
    # A what-if question needs the structure only: a module file that is missing or unfinished
    # must not stop it, so such a module stands in with the code its file name gives.
    return _with_placeholders(curriculum, folder)


def _with_placeholders(curriculum: Curriculum, folder: Path) -> tuple[Curriculum, list[Problem]]:
    manifest = yaml.safe_load((folder / MANIFEST).read_text(encoding="utf-8"))
    tracks = []
    stand_ins = 0
    for track, raw in zip(curriculum.tracks, manifest["tracks"], strict=True):
        by_source = {m.source: m for m in track.modules}
        modules = []
        for rel in raw["modules"]:
            module = by_source.get(str(PurePosixPath(rel)))
            if module is None:
                stand_ins += 1
                module = Module(code=_code_from_path(rel), title="", minutes=track.minutes, source=rel)
            modules.append(module)
        tracks.append(replace(track, modules=tuple(modules)))
    notes = []
    if stand_ins:
        notes.append(Problem("scenario", f"{stand_ins} module files of {curriculum.name} are missing or not valid;"
                             " their codes were taken from the file names", None, "curriculum", "warning"))
    return replace(curriculum, tracks=tuple(tracks)), notes


def _code_from_path(rel: str) -> str:
    """"modules/rp/rp-07.md" -> "RP 7" (the export naming rule, read backwards)."""
    code = normalize_code(PurePosixPath(rel).stem)
    head, _, tail = code.partition(" ")
    return f"{head} {int(tail)}" if tail.isdigit() else code
