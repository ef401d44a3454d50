"""Creating and editing groups (directors): checking the settings, previewing the calendar they give,
and saving them so that recorded meetings stay as they are and a changed pattern re-plans only the future."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select

from ..auth.models import User
from ..curricula.models import Curriculum, CurriculumVersion
from ..domain import curriculum as dom
from ..domain import sequencer as seq
from ..domain.curriculum import WEEKDAYS
from ..extensions import db
from ..web.i18n import format_when
from .calendars import (
    group_calendar,
    group_cancellations,
    group_spec,
    module_ids,
    program_holidays,
    recorded_meetings,
    version_structure,
)
from .models import Group, Meeting, Slot
from .schedule import calendars_with
from .services import (
    LOOK_AHEAD,
    NOT_IN_PATTERN,
    PREVIEW_AHEAD,
    CalendarRow,
    GroupRefused,
    rotating_tracks,
    shown_titles,
    taught_instead,
)

NEW_GROUP_EARLIEST = timedelta(days=366)  # a new group may have started up to a year ago
NEW_GROUP_LATEST = timedelta(days=2 * 366)
MAX_SLOT_MINUTES = 480


@dataclass(frozen=True)
class GroupSettings:
    """What a director sets for a group, as plain data from the form."""

    name: str
    version_id: int
    mode: str
    start_date: date
    cancellation_policy: str
    facilitator_id: int | None
    slots: tuple[dom.PatternSlot, ...]
    start_modules: tuple[tuple[str, str], ...] = ()  # (track, module); open groups only


@dataclass(frozen=True)
class Change:
    """An upcoming meeting that the new settings change."""

    day: date
    time: str
    track: str
    before: str | None  # module code before; None: no meeting before
    after: str | None  # module code after; None: no meeting after
    before_status: str = "held"
    after_status: str = "held"


@dataclass(frozen=True)
class Preview:
    """The next weeks under new settings, what changes, and warnings that do not block saving."""

    rows: tuple[CalendarRow, ...]
    changes: tuple[Change, ...]
    warnings: tuple[str, ...]
    titles: dict[str, str]


def allowed_versions(program_id: int) -> list[CurriculumVersion]:
    """Published versions of the program's own curricula and of the shipped ones."""
    return list(db.session.scalars(
        select(CurriculumVersion).join(Curriculum, Curriculum.id == CurriculumVersion.curriculum_id)
        .where(CurriculumVersion.status == "published",
               (Curriculum.program_id == program_id) | Curriculum.program_id.is_(None))
        .order_by(Curriculum.program_id.is_(None), Curriculum.title, CurriculumVersion.number.desc())))


def program_staff(program_id: int) -> list[User]:
    """Active directors and facilitators of the program (who may lead a group)."""
    return list(db.session.scalars(select(User).where(
        User.program_id == program_id, User.role.in_(("director", "facilitator")), User.active)
        .order_by(User.display_name)))


def settings_of(group: Group) -> GroupSettings:
    """A stored group's settings, as the edit form starts from."""
    spec = group_spec(group)
    return GroupSettings(
        name=group.name, version_id=group.version_id, mode=group.mode, start_date=group.start_date,
        cancellation_policy=group.cancellation_policy, facilitator_id=group.facilitator_id, slots=spec.slots,
        start_modules=tuple(sorted(group.starting_modules.items())))


def _has_records(group: Group | None) -> bool:
    return group is not None and db.session.scalar(
        select(Meeting.id).where(Meeting.group_id == group.id).limit(1)) is not None


def check_settings(program_id: int, settings: GroupSettings, group: Group | None, today: date) -> dict[str, str]:
    """What is wrong with these settings (empty if nothing); keys name form fields ("slots-2-minutes")."""
    problems: dict[str, str] = {}
    name = settings.name.strip()
    if not name:
        problems["name"] = _("Give the group a name, for example Evening IOP (Mon/Wed/Fri).")
    elif len(name) > 80:
        problems["name"] = _("Keep the name under 80 characters.")
    else:
        clash = db.session.scalar(select(Group.id).where(
            Group.program_id == program_id, func.lower(Group.name) == name.lower(),
            Group.id != (group.id if group else -1)))
        if clash is not None:
            problems["name"] = _("Another group of this program is already called %(name)s.", name=name)
    versions = {v.id: v for v in allowed_versions(program_id)}
    recorded = _has_records(group)
    if group is not None and recorded and settings.version_id != group.version_id:
        problems["version"] = _("This group has recorded meetings, so it keeps its curriculum version and its "
                                "history stays true. Start a new group for the other version.")
        return problems
    if settings.version_id not in versions and not (group and settings.version_id == group.version_id):
        problems["version"] = _("Choose a published curriculum version.")
        return problems
    if settings.mode not in seq.MODES:
        problems["mode"] = _("Choose open or cohort.")
    if settings.cancellation_policy not in seq.POLICIES:
        problems["cancellation_policy"] = _("Choose what happens to a cancelled meeting's module.")
    problems.update(_check_start(settings, group, recorded, today))
    if settings.facilitator_id is not None and settings.facilitator_id not in {u.id for u in program_staff(program_id)}:
        problems["facilitator"] = _("Choose a director or facilitator of this program.")
    structure = version_structure(settings.version_id)
    problems.update(_check_slots(settings.slots, structure))
    if settings.mode == "open":
        for track, module in settings.start_modules:
            plans = {p.code: p for p in seq.track_plans(structure)}
            plan = plans.get(track)
            if plan is None or track not in {t.code for t in rotating_tracks(structure)}:
                problems[f"start_{track}"] = _("%(track)s is not a rotating track of this curriculum version.", track=track)
            elif module not in plan.position:
                problems[f"start_{track}"] = _("%(module)s is not a module of %(track)s (%(first)s to %(last)s).",
                                               module=module, track=track, first=plan.modules[0],
                                               last=plan.modules[-1])
    return problems


def _check_start(settings: GroupSettings, group: Group | None, recorded: bool, today: date) -> dict[str, str]:
    day = settings.start_date
    if group is not None and day != group.start_date and (recorded or group.start_date <= today):
        return {"start_date": _("This group started on %(day)s; its start date is part of the record and stays.",
                                day=format_when(group.start_date, "year"))}
    if group is not None and day == group.start_date:
        return {}
    if day < today - NEW_GROUP_EARLIEST:
        return {"start_date": _("A group cannot start more than a year ago.")}
    if day > today + NEW_GROUP_LATEST:
        return {"start_date": _("Pick a start date within the next two years.")}
    if group is not None and group.end_date is not None and day > group.end_date:
        return {"start_date": _("The group ends on %(day)s; start before that.", day=format_when(group.end_date, "year"))}
    return {}


def _check_slots(slots: tuple[dom.PatternSlot, ...], structure: dom.Curriculum) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not slots:
        return {"slots": _("Add at least one meeting to the weekly pattern.")}
    plans = {p.code: p for p in seq.track_plans(structure)}
    seen: dict[tuple[str, str, str], int] = {}
    for index, slot in enumerate(slots):
        plan = plans.get(slot.track)
        if plan is None:
            problems[f"slots-{index}-track"] = _("Choose a track of %(title)s.", title=structure.title)
        elif not plan.scheduled:
            problems[f"slots-{index}-track"] = _("%(track)s sessions are booked one by one, not on the weekly "
                                                 "pattern. Choose a group or family track.", track=slot.track)
        if not 0 < slot.minutes <= MAX_SLOT_MINUTES:
            problems[f"slots-{index}-minutes"] = _("Enter between 1 and %(top)s minutes.", top=MAX_SLOT_MINUTES)
        key = (slot.weekday, slot.time, slot.track)
        if key in seen:
            problems[f"slots-{index}-track"] = _("Meeting %(n)s is already %(track)s at this day and time.",
                                                 n=seen[key] + 1, track=slot.track)
        seen.setdefault(key, index)
    return problems


def pattern_warnings(settings: GroupSettings) -> list[str]:
    """What the pattern means for completion, said before saving (these do not block it)."""
    structure = version_structure(settings.version_id)
    out = []
    for plan in seq.track_plans(structure):
        if not plan.scheduled or not plan.modules:
            continue
        lengths = [s.minutes for s in settings.slots if s.track == plan.code]
        if not lengths and plan.required:
            out.append(_("No meeting for %(track)s: members of this group cannot complete %(track)s, "
                         "which is required.", track=plan.code))
        elif lengths and min(lengths) < structure.credit_share * max(plan.module_minutes):
            need = structure.credit_share * max(plan.module_minutes)
            out.append(_("%(track)s meetings of %(minutes)s minutes are shorter than the %(need)s minutes some "
                         "%(track)s modules need for credit.", track=plan.code, minutes=min(lengths),
                         need=f"{need:.0f}"))
    return out


def spec_of(settings: GroupSettings, group_id: str, end: date | None = None) -> seq.GroupSpec:
    """The sequencer's view of unsaved settings."""
    structure = version_structure(settings.version_id)
    return seq.GroupSpec(id=group_id, start=settings.start_date, slots=settings.slots,
                         tracks=seq.track_plans(structure),
                         start_modules=settings.start_modules if settings.mode == "open" else (),
                         mode=settings.mode, end=end)


def _starts(settings: GroupSettings) -> dict[str, str]:
    """The starting modules that differ from module 1 (module 1 is where every rotation starts anyway)."""
    if settings.mode != "open":
        return {}
    firsts = {p.code: p.modules[0] for p in seq.track_plans(version_structure(settings.version_id)) if p.modules}
    return {track: module for track, module in settings.start_modules if firsts.get(track) != module}


def _pattern_changed(group: Group, settings: GroupSettings) -> bool:
    before = settings_of(group)
    return (set(before.slots) != set(settings.slots) or before.mode != settings.mode
            or _starts(before) != _starts(settings))


def _frozen_past(group: Group, settings: GroupSettings, today: date) -> list[tuple[seq.RecordedMeeting, str]]:
    """Rows (with their cancel reason) that keep a running group's past as it stands when its pattern changes.

    The sequencer lays the pattern over the whole life of the group, so a new pattern would also
    re-plan the past: unrecorded meetings of the old pattern would vanish and days that only the
    new pattern has would appear as meetings everyone missed. Storing the old past meetings that
    were never recorded (as they were planned) and the new pattern's past days (as cancelled,
    "not on the weekly pattern at the time") leaves the past as it was; only the future is re-planned.
    """
    if group.start_date >= today or not _pattern_changed(group, settings):
        return []
    yesterday = today - timedelta(days=1)
    old = group_calendar(group, yesterday)
    why = {"holiday": "Holiday", "cancelled": "Cancelled ahead of time"}
    kept = [(seq.RecordedMeeting(m.date, m.time, m.track, "scheduled" if m.held else "cancelled",
                                 m.module if m.held else None, m.minutes), "" if m.held else why.get(m.reason, ""))
            for m in old.meetings if not m.recorded]
    new_spec = spec_of(settings, str(group.id), group.end_date)
    new = calendars_with([group], yesterday, specs={group.id: new_spec},
                         recorded={group.id: [r for r, _ in kept]})[group.id]
    kept += [(seq.RecordedMeeting(m.date, m.time, m.track, "cancelled", None, m.minutes), NOT_IN_PATTERN)
             for m in new.meetings if not m.recorded]
    return kept


def preview_settings(program_id: int, settings: GroupSettings, group: Group | None, today: date) -> Preview:
    """The next 4 weeks of meetings under the new settings and, for a stored group, what changes."""
    structure = version_structure(settings.version_id)
    titles = shown_titles(structure, settings.version_id)
    until = today + PREVIEW_AHEAD
    look = today + LOOK_AHEAD
    if group is None:
        holidays = program_holidays(program_id)
        after = seq.build_calendar(spec_of(settings, "new"), look, holidays=holidays,
                                   policy=settings.cancellation_policy)
        before = None
    else:
        frozen = [r for r, _ in _frozen_past(group, settings, today)]
        spec = spec_of(settings, str(group.id), group.end_date)
        # Built here, not with calendars_with: the new settings may change the cancellation policy.
        after = seq.build_calendar(spec, look, holidays=program_holidays(program_id),
                                   cancellations=group_cancellations([group.id]).get(group.id, ()),
                                   policy=settings.cancellation_policy,
                                   recorded=[*recorded_meetings([group.id]).get(group.id, ()), *frozen])
        before = group_calendar(group, look)
    window = [m for m in after.meetings if today <= m.date <= until]
    rows = []
    for m in window:
        reason = {"holiday": _("Holiday"), "cancelled": _("Cancelled ahead of time")}.get(m.reason, _("Cancelled"))
        rows.append(CalendarRow(m, titles.get(m.module or "", ""), "coming" if m.held else "cancelled",
                                "" if m.held else reason, None if m.held else taught_instead(after, m),
                                settings.cancellation_policy))
    changes: list[Change] = []
    if before is not None:
        old = {(m.date, m.time, m.track): m for m in before.meetings if today <= m.date <= until}
        new = {(m.date, m.time, m.track): m for m in window}
        for key in sorted(set(old) | set(new)):
            a, b = old.get(key), new.get(key)
            if a is not None and b is not None and (a.module, a.status) == (b.module, b.status):
                continue
            changes.append(Change(key[0], key[1], key[2], a.module if a else None, b.module if b else None,
                                  a.status if a else "", b.status if b else ""))
    return Preview(tuple(rows), tuple(changes), tuple(pattern_warnings(settings)), titles)


def _slot_key(slot: dom.PatternSlot) -> tuple[int, time, str]:
    return (WEEKDAYS.index(slot.weekday), time.fromisoformat(slot.time), slot.track)


def save_group(program_id: int, settings: GroupSettings, user: User, today: date,
               group: Group | None = None) -> Group:
    """Create a group or change one (directors only). Recorded meetings stay as they are; a changed
    pattern re-plans only the future."""
    if user.role != "director" or user.program_id != program_id:
        raise PermissionError("only the program's directors create and edit groups")
    if group is not None and group.program_id != program_id:
        raise PermissionError("not a group of this program")
    problems = check_settings(program_id, settings, group, today)
    if problems:
        raise GroupRefused(problems)
    frozen = _frozen_past(group, settings, today) if group is not None else []
    if group is None:
        group = Group(program_id=program_id)
        db.session.add(group)
    group.name = settings.name.strip()
    group.version_id = settings.version_id
    group.mode = settings.mode
    group.start_date = settings.start_date
    group.cancellation_policy = settings.cancellation_policy
    group.facilitator_id = settings.facilitator_id
    group.starting_modules = _starts(settings)
    _replace_slots(group, settings.slots)
    db.session.flush()
    _store_frozen(group, frozen)
    return group


def _replace_slots(group: Group, slots: tuple[dom.PatternSlot, ...]) -> None:
    """Keep the slots that stay (new minutes), drop the others first, then add the new ones (the
    unique key of a slot would clash if an identical row were inserted before the old one is deleted)."""
    wanted = {_slot_key(s): s for s in slots}
    current = {(s.weekday, s.start_time, s.track_code): s for s in group.slots} if group.id else {}
    for key, row in current.items():
        if key not in wanted:
            group.slots.remove(row)
    if group.id:
        db.session.flush()
    for key, slot in wanted.items():
        if key in current:
            current[key].minutes = slot.minutes
        else:
            group.slots.append(Slot(weekday=key[0], start_time=key[1], track_code=key[2], minutes=slot.minutes))


def _store_frozen(group: Group, rows: list[tuple[seq.RecordedMeeting, str]]) -> None:
    if not rows:
        return
    ids = module_ids(group.version_id)
    for r, reason in rows:
        db.session.add(Meeting(
            group_id=group.id, date=r.date, start_time=time.fromisoformat(r.time), track_code=r.track,
            minutes=r.minutes or 1, status=r.status, module_id=ids.get(r.module) if r.module else None,
            cancel_reason=reason))
    db.session.flush()
