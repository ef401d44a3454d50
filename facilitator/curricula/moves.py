"""Moving a group to another published version: whether it can, its effect on each member and on the
coming meetings (worked out in a savepoint that is rolled back), then the move itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from ..audit import services as audit
from ..domain import sequencer as seq
from ..extensions import db
from ..groups.calendars import group_calendar, module_ids, version_structure
from ..groups.editing import allowed_versions
from ..groups.models import Cancellation, Group, Meeting
from ..groups.services import titles_of
from ..participants.models import Enrollment, Participant
from ..progress.models import Credit, MakeUp
from ..progress.services import progress_for
from .drafts import EditRefused, require_director
from .models import CurriculumVersion, Module

EFFECT_AHEAD = timedelta(weeks=4)  # the effect page compares the next 4 weeks of meetings


@dataclass(frozen=True)
class MemberEffect:
    """What a move means for one member's progress (module codes)."""

    participant: Participant
    carried: tuple[str, ...]  # credited before, and credited in the new version too
    new_missing: tuple[str, ...]  # modules the old version did not deliver, still to do
    unmatched: tuple[str, ...]  # credited before, but the new version does not deliver them


@dataclass(frozen=True)
class MeetingShift:
    """One coming meeting before and after the move."""

    date: date
    time: str
    track: str
    before: str | None
    after: str | None
    title: str  # of the module after the move

    @property
    def changed(self) -> bool:
        """True if the meeting delivers another module after the move."""
        return self.before != self.after


@dataclass(frozen=True)
class MoveEffect:
    """The effect of moving a group: per member, on the coming meetings, and notes."""

    target: CurriculumVersion
    members: tuple[MemberEffect, ...]
    meetings: tuple[MeetingShift, ...]
    notes: tuple[str, ...]


def move_targets(group: Group) -> list[CurriculumVersion]:
    """The published versions (shipped or the program's own) a group can move to."""
    return [v for v in allowed_versions(group.program_id) if v.id != group.version_id]


def _live_codes(version_id: int) -> set[str]:
    return {code for plan in seq.track_plans(version_structure(version_id)) for code in plan.modules}


def _followers(group: Group) -> list[int]:
    """Participants whose progress is counted against this group: their latest stay is in it."""
    latest: dict[int, int] = {}
    rows = db.session.execute(
        select(Enrollment.participant_id, Enrollment.group_id)
        .where(Enrollment.participant_id.in_(select(Enrollment.participant_id).where(Enrollment.group_id == group.id)))
        .order_by(Enrollment.admitted_on, Enrollment.id)).all()
    for pid, group_id in rows:
        latest[pid] = group_id
    return [pid for pid, group_id in latest.items() if group_id == group.id]


def move_problems(group: Group, target: CurriculumVersion) -> dict[str, str]:
    """Why the group cannot move to `target` (empty if it can), keyed "version"."""
    if target.id == group.version_id:
        return {"version": _("The group already runs this version.")}
    if not target.is_published or target.curriculum.program_id not in (None, group.program_id):
        return {"version": _("Choose a published version of a shipped curriculum or of your program's own.")}
    plans = {p.code: p for p in seq.track_plans(version_structure(target.id))}
    name = _("%(title)s (version %(label)s)", title=target.title, label=target.label)
    for slot in group.slots:
        plan = plans.get(slot.track_code)
        if plan is None or not plan.scheduled or not plan.modules:
            return {"version": _("The group meets for %(track)s, and %(name)s has no %(track)s modules "
                                 "to deliver on a weekly pattern.", track=slot.track_code, name=name)}
    used = set(db.session.scalars(select(Meeting.track_code).where(Meeting.group_id == group.id).distinct()))
    used |= {t for t in db.session.scalars(select(Cancellation.track_code).where(Cancellation.group_id == group.id))
             if t}
    if missing := sorted(used - plans.keys()):
        return {"version": _("The group's records name %(codes)s, which %(name)s does not have.",
                               codes=", ".join(missing), name=name)}
    live = {code for plan in plans.values() for code in plan.modules}
    people = _followers(group)
    credited = set(db.session.scalars(select(Module.code).join(Credit, Credit.module_id == Module.id).where(
        Credit.participant_id.in_(people), Credit.revoked_at.is_(None))))
    planned = set(db.session.scalars(select(Module.code).join(MakeUp, MakeUp.module_id == Module.id).where(
        MakeUp.participant_id.in_(people), MakeUp.status == "planned")))
    # Progress counts explicit credits by module code in the group's version; one it does not
    # deliver cannot be placed (see the report to the lead), so such a move waits.
    if orphans := sorted((credited | planned) - live):
        return {"version": _("Members have make-up, individual or override credits (or planned make-ups) for "
                             "%(codes)s, which %(name)s does not deliver. Choose a version that still "
                             "delivers them, or complete or cancel those make-ups first.",
                             codes=", ".join(orphans), name=name)}
    return {}


def _freeze_past(group: Group, today: date) -> int:
    """Store the past meetings nobody recorded as they were planned (old modules), so the new version
    re-plans only from today on; return how many."""
    if group.start_date >= today:
        return 0
    ids = module_ids(group.version_id)
    count = 0
    for m in group_calendar(group, today - timedelta(days=1)).meetings:
        if m.recorded or not m.held:
            continue  # cancelled days follow from holidays and cancellations, which do not change
        db.session.add(Meeting(group_id=group.id, date=m.date, start_time=time.fromisoformat(m.time),
                               track_code=m.track, minutes=m.minutes, status="scheduled",
                               module_id=ids.get(m.module or "")))
        count += 1
    return count


def _apply_move(group: Group, target: CurriculumVersion, today: date) -> list[str]:
    notes = []
    frozen = _freeze_past(group, today)
    if frozen:
        notes.append(_("%(count)s past meeting(s) nobody recorded keep the modules they were planned with.", count=frozen))
    plans = {p.code: p for p in seq.track_plans(version_structure(target.id))}
    kept = {}
    for track, code in sorted((group.starting_modules or {}).items()):
        plan = plans.get(track)
        if plan is not None and code in plan.position:
            kept[track] = code
        elif plan is not None and plan.modules:
            notes.append(_("%(track)s started at %(code)s, which the new version does not deliver; "
                           "it starts at %(first)s.", track=track, code=code, first=plan.modules[0]))
    group.version = target
    group.starting_modules = kept
    db.session.flush()
    return notes


def active_members(group: Group) -> list[Participant]:
    """The group's members who are not discharged, by preferred name."""
    return list(db.session.scalars(
        select(Participant).join(Enrollment, Enrollment.participant_id == Participant.id)
        .where(Enrollment.group_id == group.id, Enrollment.discharged_on.is_(None))
        .order_by(Participant.preferred_name, Participant.id)))


def _credited(plan) -> list[str]:
    return [c for t in (plan.progress.tracks if plan.progress else ()) for c in t.credited]


def move_effect(group: Group, target: CurriculumVersion, today: date,
                members: list[Participant] | None = None) -> MoveEffect:
    """What moving the group would do, computed by making the move in a savepoint and rolling it back:
    per member, credits that carry over by code, new modules now missing, and credits the new version
    cannot match; and the coming meetings before and after. Nothing is kept."""
    problems = move_problems(group, target)
    if problems:
        raise EditRefused(problems)
    members = active_members(group) if members is None else members
    old_live = _live_codes(group.version_id)
    before = progress_for(members, today)
    old_meetings = {(m.date, m.time, m.track): m.module for m in group_calendar(group, today + EFFECT_AHEAD).meetings
                    if m.date >= today and m.held}
    savepoint = db.session.begin_nested()
    try:
        notes = _apply_move(group, target, today)
        after = {pid: (set(_credited(p)), [c for t in (p.progress.tracks if p.progress else ()) for c in t.missing])
                 for pid, p in progress_for(members, today).items()}
        new_meetings = [m for m in group_calendar(group, today + EFFECT_AHEAD).meetings if m.date >= today and m.held]
    finally:
        savepoint.rollback()
    titles = titles_of(version_structure(target.id))
    rank: dict[str, int] = {}
    for structure in (version_structure(target.id), version_structure(group.version_id)):
        for code in (m.code for t in structure.tracks for m in t.modules):
            rank.setdefault(code, len(rank))  # codes in curriculum order, not in the order they were credited
    rows = []
    for person in members:
        credited_after, missing_after = after[person.id]
        had = sorted(_credited(before[person.id]), key=lambda code: rank.get(code, len(rank)))
        rows.append(MemberEffect(
            person, tuple(c for c in had if c in credited_after),
            tuple(c for c in missing_after if c not in old_live),
            tuple(c for c in had if c not in credited_after)))
    shifts = tuple(MeetingShift(m.date, m.time, m.track, old_meetings.get((m.date, m.time, m.track)), m.module,
                                titles.get(m.module or "", "")) for m in new_meetings)
    return MoveEffect(target, tuple(rows), shifts, tuple(notes))


def move_group(group: Group, target: CurriculumVersion, user: Any, today: date) -> list[str]:
    """Move a group to another published version (directors). Meetings and credits keep pointing at
    the modules that were taught; the coming meetings follow the new version, matched by code."""
    require_director(user, group.program_id)
    problems = move_problems(group, target)
    if problems:
        raise EditRefused(problems)
    old = group.version_id
    notes = _apply_move(group, target, today)
    audit.record("group.version_move", "group", group.id, user=user, detail={"from": old, "to": target.id})
    db.session.flush()
    return notes
