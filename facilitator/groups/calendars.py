"""Groups as the sequencer sees them: stored rows in, calendars (past as recorded, future planned) out.

Shared by every area that needs a group's meetings (the group screens, meetings, progress, planning,
reports, documents, the API); it imports nothing from the rest of this package but its models.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Iterable
from datetime import date

from sqlalchemy import select

from .. import data_revision
from ..curricula.models import CurriculumVersion, Module, Track
from ..domain import curriculum as dom
from ..domain import sequencer as seq
from ..domain.curriculum import WEEKDAYS
from ..extensions import db
from ..programs.models import Holiday
from .models import Cancellation, Group, Meeting

# Published versions never change, so caching them per process is safe. (Tests that roll back and
# reuse ids clear it: see tests/conftest.py.)
_STRUCTURES: dict[int, dom.Curriculum] = {}
# Built calendars, keyed by every input that goes into one (the group's pattern and settings, the
# program's holidays, the group's cancellations and stored meetings as read on this request, and the
# last day): a changed row makes a new key, so an entry is never stale and needs no invalidation;
# the least recently used go first. Saves the sequencer's work (most of a page's CPU), not the queries.
_CALENDARS: OrderedDict[tuple, seq.Calendar] = OrderedDict()
CALENDAR_CACHE_SIZE = 512
# A new number each time a structure enters _STRUCTURES, so a cleared and reloaded id never meets
# calendars built from the structure it had before.
_STRUCTURE_TOKENS: dict[int, int] = {}
_tokens = itertools.count()
_CALENDAR_TOKENS: dict[int, int] = {}  # id() of a cached calendar -> a number never given twice


def version_structure(version_id: int) -> dom.Curriculum:
    """A version's tracks and module codes and minutes (no text), in two queries; cached if published."""
    if version_id in _STRUCTURES:
        return _STRUCTURES[version_id]
    version = db.session.get(CurriculumVersion, version_id)
    tracks = db.session.scalars(select(Track).where(Track.version_id == version_id).order_by(Track.position)).all()
    rows = db.session.execute(
        select(Module.track_id, Module.code, Module.title, Module.minutes, Module.retired)
        .where(Module.version_id == version_id).order_by(Module.track_id, Module.position)
    ).all()
    modules: dict[int, list[dom.Module]] = {}
    for track_id, code, title, minutes, retired in rows:
        modules.setdefault(track_id, []).append(dom.Module(code=code, title=title, minutes=minutes, retired=retired))
    structure = dom.Curriculum(
        name=str(version.curriculum_id), title=version.title, version=version.label,
        credit_share=version.credit_share,
        tracks=tuple(
            dom.Track(code=t.code, name=t.name, kind=t.kind, ordering=t.ordering, minutes=t.minutes,
                      required=t.required, first_week=t.first_week, last_week=t.last_week,
                      modules=tuple(modules.get(t.id, ())))
            for t in tracks
        ),
    )
    if version.is_published:
        _STRUCTURES[version_id] = structure
        _STRUCTURE_TOKENS[version_id] = next(_tokens)
    return structure


def preload_versions(version_ids: Iterable[int]) -> None:
    """Load several versions in one query, so version_structure finds them without one query each."""
    ids = {v for v in version_ids if v not in _STRUCTURES}  # cached ones need no row at all
    if ids:
        db.session.scalars(select(CurriculumVersion).where(CurriculumVersion.id.in_(ids))).all()


def group_spec(group: Group, structure: dom.Curriculum | None = None) -> seq.GroupSpec:
    """The sequencer's view of a stored group."""
    structure = structure or version_structure(group.version_id)
    slots = tuple(
        dom.PatternSlot(weekday=WEEKDAYS[s.weekday], time=s.start_time.strftime("%H:%M"), track=s.track_code,
                        minutes=s.minutes)
        for s in group.slots
    )
    return seq.GroupSpec(
        id=str(group.id), start=group.start_date, slots=slots, tracks=seq.track_plans(structure),
        start_modules=tuple(sorted(group.starting_modules.items())) if group.mode == "open" else (),
        mode=group.mode, end=group.end_date,
    )


def program_holidays(program_id: int) -> list[date]:
    """The dates the whole program is closed."""
    return list(db.session.scalars(select(Holiday.date).where(Holiday.program_id == program_id)))


def _recorded_rows(group_ids: Iterable[int]) -> dict[int, list[tuple]]:
    """(date, time, track, status, module code, minutes) of each group's stored meetings, in one query."""
    rows = db.session.execute(
        select(Meeting.group_id, Meeting.date, Meeting.start_time, Meeting.track_code, Meeting.status,
               Module.code, Meeting.minutes)
        .outerjoin(Module, Module.id == Meeting.module_id)
        .where(Meeting.group_id.in_(list(group_ids)))
    ).all()
    out: dict[int, list[tuple]] = {}
    for group_id, day, start, track, status, module, minutes in rows:
        out.setdefault(group_id, []).append((day, f"{start.hour:02d}:{start.minute:02d}", track, status, module,
                                             minutes))
    for found in out.values():
        found.sort(key=lambda r: r[:3])  # one order whatever the database returns
    return out


def _as_recorded(rows: Iterable[tuple]) -> list[seq.RecordedMeeting]:
    return [seq.RecordedMeeting(date=day, time=at, track=track, status=status, module=module, minutes=minutes)
            for day, at, track, status, module, minutes in rows]


def recorded_meetings(group_ids: Iterable[int]) -> dict[int, list[seq.RecordedMeeting]]:
    """Stored meetings (held, cancelled, or opened ahead) per group, in one query."""
    return {gid: _as_recorded(rows) for gid, rows in _recorded_rows(group_ids).items()}


def group_cancellations(group_ids: Iterable[int]) -> dict[int, list[seq.Cancellation]]:
    """Cancellations decided ahead of time, per group, in one query."""
    out: dict[int, list[seq.Cancellation]] = {}
    for row in db.session.scalars(select(Cancellation).where(Cancellation.group_id.in_(list(group_ids)))):
        out.setdefault(row.group_id, []).append(seq.Cancellation(date=row.date, track=row.track_code))
    return out


def group_calendars(groups: list[Group], until: date) -> dict[int, seq.Calendar]:
    """Calendars of several groups of one program through `until`, in a fixed number of queries."""
    return calendars_through(groups, [until])[until] if groups else {}


def calendars_through(groups: list[Group], untils: Iterable[date]) -> dict[date, dict[int, seq.Calendar]]:
    """Calendars of several groups of one program through each of several days, from one read of
    what they are built from (a page that needs two horizons pays the queries once)."""
    untils = list(dict.fromkeys(untils))
    if not groups:
        return {until: {} for until in untils}
    # Everything a calendar is built from is stored data, so while those tables keep their numbers the
    # same groups and days give the same calendars (new dicts each time: callers may add to them). The
    # groups come in as objects: their rows and slots are named here, not seen as statements.
    built = data_revision.remembered("calendars", (tuple(g.id for g in groups), tuple(untils)),
                                     lambda: _calendars_through(groups, untils), reads=CALENDAR_READS)
    return {until: dict(found) for until, found in built.items()}


CALENDAR_READS = ("care_group", "slot", "curriculum_version", "track", "module", "holiday", "meeting", "cancellation")


def _calendars_through(groups: list[Group], untils: list[date]) -> dict[date, dict[int, seq.Calendar]]:
    ids = [g.id for g in groups]
    preload_versions(g.version_id for g in groups)
    holidays, recorded, cancellations = _calendar_inputs(groups[0].program_id, ids)
    out: dict[date, dict[int, seq.Calendar]] = {until: {} for until in untils}
    for group in groups:
        mine = tuple(sorted(cancellations.get(group.id, ()), key=lambda c: (c.date, c.track or "")))
        rows = tuple(recorded.get(group.id, ()))
        for until in untils:
            out[until][group.id] = _calendar(group, until, holidays, mine, rows)
    return out


def _calendar_inputs(program_id: int, group_ids: list[int]) -> tuple[tuple, dict, dict]:
    """What calendars are built from besides the groups themselves: holidays, stored meetings and
    cancellations (three queries, each remembered apart: a save of attendance changes only meetings)."""
    key = tuple(group_ids)
    return (data_revision.remembered("holidays", (program_id,), lambda: tuple(sorted(program_holidays(program_id))),
                                     reads=("holiday",)),
            data_revision.remembered("recorded meetings", key, lambda: _recorded_rows(group_ids),
                                     reads=("meeting", "module")),
            data_revision.remembered("cancellations", key, lambda: group_cancellations(group_ids),
                                     reads=("cancellation",)))


def _calendar(group: Group, until: date, holidays: tuple, cancellations: tuple, rows: tuple) -> seq.Calendar:
    """One group's calendar from what was read, from the cache when built before from the same inputs."""
    version_structure(group.version_id)  # loaded first: the key names a published one's structure
    key = _calendar_key(group, until, holidays, cancellations, rows)
    found = _CALENDARS.get(key) if key is not None else None
    if found is not None:
        _CALENDARS.move_to_end(key)
        return found
    found = seq.build_calendar(group_spec(group), until, holidays=list(holidays), cancellations=cancellations,
                               policy=group.cancellation_policy, recorded=_as_recorded(rows))
    if key is not None:
        _CALENDARS[key] = found
        _CALENDAR_TOKENS[id(found)] = next(_tokens)
        if len(_CALENDARS) > CALENDAR_CACHE_SIZE:
            _CALENDAR_TOKENS.pop(id(_CALENDARS.popitem(last=False)[1]), None)
    return found


def _calendar_key(group: Group, until: date, holidays: tuple, cancellations: tuple, recorded: tuple) -> tuple | None:
    """Everything a group's calendar is built from; None for a draft version (its modules may still change)."""
    if group.version_id not in _STRUCTURES:
        return None
    slots = tuple((s.weekday, s.start_time, s.track_code, s.minutes) for s in group.slots)
    return (group.id, group.version_id, _STRUCTURE_TOKENS[group.version_id], group.start_date, group.end_date, group.mode, group.cancellation_policy,
            tuple(sorted((group.starting_modules or {}).items())), slots, until, holidays, cancellations, recorded)


def calendar_token(calendar: seq.Calendar) -> int | None:
    """A number naming a cached calendar while it stays cached (None if it was not cached): derived
    results (progress) can be cached under it."""
    return _CALENDAR_TOKENS.get(id(calendar))


def group_calendar(group: Group, until: date) -> seq.Calendar:
    """One group's calendar through `until`."""
    return group_calendars([group], until)[group.id]


def module_ids(version_id: int) -> dict[str, int]:
    """Module code -> id, for one version."""
    return dict(db.session.execute(select(Module.code, Module.id).where(Module.version_id == version_id)).all())
