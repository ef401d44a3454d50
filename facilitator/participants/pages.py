"""Reads that build the participant list, the participant page and a participant's own page, each in
a fixed number of queries whatever the roster or the history size. Nothing here changes rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import and_, case, exists, func, null, or_, select, type_coerce
from sqlalchemy.orm import selectinload

from .. import data_revision
from ..alerts.services import Alert, alerts_for
from ..attendance.models import Attendance, status_label
from ..auth.models import User
from ..curricula.models import CurriculumVersion, Module, Track
from ..domain import sequencer as seq
from ..extensions import db
from ..groups.calendars import group_calendars, version_structure
from ..groups.models import Group, Meeting
from ..programs.models import AttendanceStatus, Program
from ..progress.models import Credit, MakeUp
from ..progress.services import HORIZON, MAKEUP_LABELS, ParticipantProgress, progress_for
from ..web.i18n import current_language
from .models import Enrollment, Participant

STATUSES = ("active", "discharged", "all")
SCHEDULE_DAYS = 14  # how far ahead a participant's schedule reaches
SUGGESTIONS_PER_MODULE = 3
CHART_WEEKS = 16  # the hours chart shows the most recent weeks of the stay


@dataclass(frozen=True)
class ListFilters:
    """What the participant list is narrowed to."""

    group_id: int | None = None
    status: str = "active"
    search: str = ""


@dataclass(frozen=True)
class TrackSummary:
    """Credited of total modules in one track ("RP 12/32")."""

    code: str
    credited: int
    total: int
    required: bool


@dataclass(frozen=True)
class ListRow:
    """One line of the participant list."""

    participant: Participant
    group: Group | None
    active: bool
    program_week: int | None
    tracks: tuple[TrackSummary, ...]
    projected: date | None
    completed: date | None
    alerts: tuple[Alert, ...]


def _search_clause(text: str):
    """Case-insensitive match on preferred name, initials or record number."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped.lower()}%"
    return or_(*(func.lower(column).like(pattern, escape="\\") for column in
                 (Participant.preferred_name, Participant.initials, Participant.record_number)))


def find_participants(program_id: int, filters: ListFilters) -> list[Participant]:
    """The program's participants matching the filters, by preferred name (one query)."""
    query = select(Participant).where(Participant.program_id == program_id)
    open_stay = and_(Enrollment.participant_id == Participant.id, Enrollment.discharged_on.is_(None))
    in_group = (Enrollment.group_id == filters.group_id) if filters.group_id else True
    if filters.status == "active":
        query = query.where(exists().where(open_stay, in_group))
    elif filters.status == "discharged":
        query = query.where(~exists().where(open_stay))
        if filters.group_id:
            query = query.where(exists().where(Enrollment.participant_id == Participant.id, in_group))
    elif filters.group_id:
        query = query.where(exists().where(Enrollment.participant_id == Participant.id, in_group))
    if filters.search.strip():
        query = query.where(_search_clause(filters.search.strip()))
    return list(db.session.scalars(query.order_by(func.lower(Participant.preferred_name), Participant.id)))


def track_summaries(progress: seq.Progress | None) -> tuple[TrackSummary, ...]:
    """Credited/total per track, group tracks first (the ones the list has room for)."""
    if progress is None:
        return ()
    ordered = sorted(progress.tracks, key=lambda t: not t.scheduled)  # stable: curriculum order within
    return tuple(TrackSummary(t.track, len(t.credits), len(t.credits) + len(t.missing), t.required) for t in ordered)


def list_rows(program: Program, filters: ListFilters, today: date, groups: list[Group] = ()) -> list[ListRow]:
    """The participant list: group, program week, progress per track, projection and alerts; `groups`:
    the program's groups with their slots, if the caller holds them."""
    people = find_participants(program.id, filters)
    plans = progress_for(people, today, groups=groups)
    alerts = alerts_for(program, plans, today) if plans else {}
    out = []
    for person in people:
        plan = plans[person.id]
        progress = plan.progress
        out.append(ListRow(
            participant=person, group=plan.group, active=plan.current is not None,
            program_week=seq.program_week(progress.stay, today) if progress and plan.current else None,
            tracks=track_summaries(progress),
            projected=progress.projected_completion if progress else None,
            completed=progress.group_completed_on if progress else None,
            alerts=tuple(alerts.get(person.id, ())),
        ))
    return out


def program_groups(program_id: int, with_slots: bool = False) -> list[Group]:
    """Every group of the program (closed ones too, for history), by name; with their weekly
    patterns when calendars will be built from them (one more query, not one per group)."""
    query = select(Group).where(Group.program_id == program_id).order_by(Group.name)
    return list(db.session.scalars(query.options(selectinload(Group.slots)) if with_slots else query))


# --- The participant page ------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One module in the progress grid."""

    code: str
    number: str  # "12" of "RP 12": what fits in a grid cell
    title: str
    state: str  # credited | missed | planned | coming | later
    day: date | None  # credited on, missed on, planned for, or coming on
    detail: str  # how it was credited, or where it is coming


STATE_LABELS = {"credited": "Credited", "missed": "Missed", "planned": "Make-up planned",
                "coming": "Coming", "later": "Not yet scheduled"}
STATE_SYMBOLS = {"credited": "✓", "missed": "✗", "planned": "↺", "coming": "○", "later": "·"}


@dataclass(frozen=True)
class TrackRow:
    """One track of the progress grid."""

    code: str
    name: str
    required: bool
    scheduled: bool
    cells: tuple[Cell, ...]
    completed_on: date | None
    projected: date | None
    due: bool  # the participant's program week has reached the track's first week

    @property
    def credited(self) -> int:
        """How many modules are credited."""
        return sum(1 for c in self.cells if c.state == "credited")

    @property
    def missed(self) -> int:
        """How many modules were missed and are still not credited."""
        return sum(1 for c in self.cells if c.state == "missed")


@dataclass(frozen=True)
class Absence:
    """A held meeting the participant did not attend."""

    day: date
    time: str
    group_id: int
    group: str
    track: str
    module: str | None
    title: str
    status: str
    excused: bool


@dataclass(frozen=True)
class MakeUpRow:
    """A make-up plan with its module, place and people, for display."""

    makeup: MakeUp
    code: str
    title: str
    method: str
    group: str
    credited_on: date | None
    assigned_by: str
    completed_by: str


@dataclass(frozen=True)
class Option:
    """A meeting where a missing module can be made up."""

    group_id: int
    group: str
    day: date
    time: str
    own_group: bool


@dataclass(frozen=True)
class Suggestion:
    """Ways to make up one missed module."""

    code: str
    title: str
    options: tuple[Option, ...]


@dataclass(frozen=True)
class Upcoming:
    """A meeting of the participant's group in the coming days."""

    day: date
    time: str
    track: str
    module: str | None
    title: str
    cancelled: bool
    not_needed: str = ""  # why they are not expected: the track is done, or starts in a later week


@dataclass(frozen=True)
class ParticipantPage:
    """Everything the participant page (or a participant's own page) shows."""

    participant: Participant
    plan: ParticipantProgress
    program: Program
    today: date
    groups: dict[int, Group]
    program_week: int | None
    tracks: tuple[TrackRow, ...]
    weeks: tuple[seq.WeekMinutes, ...]
    absences: tuple[Absence, ...]
    makeups: tuple[MakeUpRow, ...]
    suggestions: tuple[Suggestion, ...]
    upcoming: tuple[Upcoming, ...]
    alerts: tuple[Alert, ...]
    titles: dict[str, str] = field(default_factory=dict)

    @property
    def open_makeups(self) -> tuple[MakeUpRow, ...]:
        """Make-ups still planned."""
        return tuple(m for m in self.makeups if m.makeup.status == "planned")


def _titles(version_ids: set[int]) -> dict[str, str]:
    """Module code -> title across the given versions (one query), in the current language where a
    module has a reviewed twin there (the curriculum's own text otherwise)."""
    if not version_ids:
        return {}
    language = current_language()
    return dict(data_revision.remembered("module titles", (tuple(sorted(version_ids)), language),
                                         lambda: _titles_in(version_ids, language),
                                         reads=("module", "curriculum_version")))


def _titles_in(version_ids: set[int], language: str) -> dict[str, str]:
    # A version's twins are read only when it is in another language: decoding every module's
    # translations cost more than the rest of the query.
    twins = type_coerce(case((CurriculumVersion.language == language, null()), else_=Module.translations),
                        Module.translations.type)
    rows = db.session.execute(select(Module.code, Module.title, twins, CurriculumVersion.language)
                              .join(CurriculumVersion, CurriculumVersion.id == Module.version_id)
                              .where(Module.version_id.in_(version_ids))).all()
    out = {}
    for code, title, translations, own in rows:
        twin = (translations or {}).get(language) if language != own else None
        out[code] = twin["title"] if twin and twin.get("title") and not twin.get("needs_review") else title
    return out


def _track_names(version_id: int) -> dict[str, str]:
    """Track code -> name in the current language (the curriculum's own where it has none there)."""
    language = current_language()
    return dict(data_revision.remembered("track names", (version_id, language),
                                         lambda: _track_names_in(version_id, language),
                                         reads=("track", "curriculum_version")))


def _track_names_in(version_id: int, language: str) -> dict[str, str]:
    rows = db.session.execute(select(Track.code, Track.name, Track.translations, CurriculumVersion.language)
                              .join(CurriculumVersion, CurriculumVersion.id == Track.version_id)
                              .where(Track.version_id == version_id)).all()
    return {code: ((translations or {}).get(language) or {}).get("name") or name if language != own else name
            for code, name, translations, own in rows}


def _absences(participant_id: int, groups: dict[int, Group], titles: dict[str, str],
              credit_share: float) -> tuple[Absence, ...]:
    """Held meetings missed, newest first (one query): recorded with a status that does not count as
    attended, or attended too briefly to earn the module (left early)."""
    rows = db.session.execute(
        select(Meeting.date, Meeting.start_time, Meeting.group_id, Meeting.track_code, Module.code,
               AttendanceStatus.label, AttendanceStatus.excused, AttendanceStatus.counts_attended,
               Attendance.minutes, Meeting.minutes)
        .join(Attendance, Attendance.meeting_id == Meeting.id)
        .join(AttendanceStatus, AttendanceStatus.id == Attendance.status_id)
        .outerjoin(Module, Module.id == Meeting.module_id)
        .where(Attendance.participant_id == participant_id, Meeting.status == "held")
        .order_by(Meeting.date.desc(), Meeting.start_time.desc())
    ).all()
    out = []
    for day, start, group_id, track, code, label, excused, attended, minutes, length in rows:
        if attended and minutes >= credit_share * length - 1e-9:
            continue  # attended long enough: not an absence
        label = status_label(label)
        if attended:
            label = _("%(status)s: %(minutes)s of %(length)s min, too short for credit", status=label, minutes=minutes,
                      length=length)
        out.append(Absence(day, start.strftime("%H:%M"), group_id, groups[group_id].name if group_id in groups else "",
                           track, code, titles.get(code or "", ""), label, excused))
    return tuple(out)


def _makeups(participant_id: int, groups: dict[int, Group]) -> tuple[MakeUpRow, ...]:
    """Every make-up of the participant with its credit and the people involved (two queries)."""
    rows = db.session.execute(
        select(MakeUp, Module.code, Module.title, Credit.credited_on)
        .join(Module, Module.id == MakeUp.module_id)
        .outerjoin(Credit, and_(Credit.makeup_id == MakeUp.id, Credit.revoked_at.is_(None)))
        .where(MakeUp.participant_id == participant_id)
        # Planned first, soonest first (undated ones after: SQLite and PostgreSQL sort NULL differently).
        .order_by(MakeUp.status != "planned", MakeUp.planned_on.is_(None), MakeUp.planned_on,
                  MakeUp.assigned_at.desc(), MakeUp.id.desc())
    ).all()
    user_ids = {m.assigned_by_id for m, *_ in rows} | {m.completed_by_id for m, *_ in rows if m.completed_by_id}
    names = dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(user_ids))).all()) \
        if user_ids else {}
    return tuple(MakeUpRow(m, code, title, str(MAKEUP_LABELS.get(m.method, m.method)),
                           groups[m.meeting_group_id].name if m.meeting_group_id in groups else "",
                           credited_on, names.get(m.assigned_by_id, ""), names.get(m.completed_by_id or 0, ""))
                 for m, code, title, credited_on in rows)


def _credit_detail(credit: seq.Credit, groups: dict[int, Group], makeups: dict[str, MakeUpRow],
                   explicit: dict[str, tuple[str, str]], own_group: int, attended: str) -> str:
    """How a module was credited, in words: attended (naming the group if not their own), or who
    recorded the make-up or the individual session. `attended`: "Attended", translated once per grid."""
    if credit.source == "attendance" and credit.meeting is not None:
        group = groups.get(int(credit.meeting.group))
        return attended if group is None or group.id == own_group else _("Attended at %(group)s", group=group.name)
    if credit.module in makeups and makeups[credit.module].credited_on == credit.date:
        row = makeups[credit.module]
        if row.completed_by:
            return _("Make-up: %(method)s, recorded by %(name)s", method=row.method.lower(), name=row.completed_by)
        return _("Make-up: %(method)s", method=row.method.lower())
    source, by = explicit.get(credit.module, (credit.source, ""))
    words = {"individual": _("Individual session"), "override": _("Credited by staff"), "make-up": _("Make-up")}
    how = words.get(source, source.capitalize())
    return _("%(how)s, recorded by %(name)s", how=how, name=by) if by else how


def _explicit_credits(participant_id: int) -> dict[str, tuple[str, str]]:
    """Module code -> (stored source, recorded by) of credits not from attendance (one query)."""
    rows = db.session.execute(
        select(Module.code, Credit.source, User.display_name)
        .join(Module, Module.id == Credit.module_id).join(User, User.id == Credit.created_by_id)
        .where(Credit.participant_id == participant_id, Credit.revoked_at.is_(None))
    ).all()
    return {code: (source, by) for code, source, by in rows}


def _grid(plan: ParticipantProgress, today: date, groups: dict[int, Group], titles: dict[str, str],
          makeups: tuple[MakeUpRow, ...], absences: tuple[Absence, ...],
          explicit: dict[str, tuple[str, str]]) -> tuple[TrackRow, ...]:
    """Tracks x modules: credited (date, how), missed (date), make-up planned, or coming (date)."""
    progress, calendar = plan.progress, plan.calendar
    if progress is None or calendar is None or plan.group is None:
        return ()
    structure = version_structure(plan.group.version_id)
    done = {m.code: m for m in makeups if m.makeup.status == "completed"}
    planned = {m.code: m for m in makeups if m.makeup.status == "planned"}
    missed_on: dict[str, date] = {}
    for absence in absences:  # newest first: keep the most recent miss of each module
        if absence.module:
            missed_on.setdefault(absence.module, absence.day)
    rows = []
    names = _track_names(plan.group.version_id) if current_language() != structure.language else {}
    # Most cells say one of a few phrases: each is translated once per grid, not once per cell.
    attended, at_times = _("Attended"), {}
    for track in progress.tracks:
        info = structure.track(track.track)
        # A track is not expected before its first program week (SS from week 13, say).
        after = max(today - timedelta(days=1), progress.stay.admitted + timedelta(weeks=info.first_week - 1)
                    - timedelta(days=1))
        credits = {c.module: c for c in track.credits}
        missed = set(track.missed)
        cells = []
        for module in info.modules:
            if module.retired:
                continue
            code = module.code
            number = code.split()[-1]
            if code in credits:
                credit = credits[code]
                cells.append(Cell(code, number, titles.get(code, module.title), "credited", credit.date,
                                  _credit_detail(credit, groups, done, explicit, plan.group.id, attended)))
            elif code in planned:
                row = planned[code]
                cells.append(Cell(code, number, titles.get(code, module.title), "planned", row.makeup.planned_on,
                                  _("%(method)s at %(group)s", method=row.method, group=row.group) if row.group
                                  else row.method))
            elif code in missed:
                cells.append(Cell(code, number, titles.get(code, module.title), "missed", missed_on.get(code), ""))
            else:
                coming = calendar.next_deliveries(code, after, 1) if track.scheduled else []
                if coming and (progress.stay.discharged is None or coming[0].date <= progress.stay.discharged):
                    at = coming[0].time
                    if at not in at_times:
                        at_times[at] = _("at %(time)s", time=at)
                    cells.append(Cell(code, number, titles.get(code, module.title), "coming", coming[0].date,
                                      at_times[at]))
                else:
                    cells.append(Cell(code, number, titles.get(code, module.title), "later", None,
                                      "" if track.scheduled else _("Booked one to one")))
        due = today >= progress.stay.admitted + timedelta(weeks=info.first_week - 1)
        rows.append(TrackRow(track.track, names.get(track.track, info.name), track.required, track.scheduled, tuple(cells),
                             track.completed_on, track.projected_completion, due))
    return tuple(rows)


def _suggestions(plan: ParticipantProgress, calendars: dict[int, seq.Calendar], groups: dict[int, Group],
                 titles: dict[str, str], planned: set[str]) -> tuple[Suggestion, ...]:
    """For each missed module with no make-up planned: the next meetings delivering it in any group."""
    if plan.progress is None or plan.current is None:
        return ()
    deliveries = seq.Deliveries(calendars.values())
    own = plan.current.group_id
    out = []
    for item in seq.makeup_suggestions(plan.progress, deliveries, SUGGESTIONS_PER_MODULE):
        if not item.missed or item.module in planned:
            continue
        options = tuple(Option(int(m.group), groups[int(m.group)].name, m.date, m.time, int(m.group) == own)
                        for m in item.meetings if int(m.group) in groups)
        out.append(Suggestion(item.module, titles.get(item.module, ""), options))
    return tuple(out)


def _upcoming(plan: ParticipantProgress, today: date, titles: dict[str, str]) -> tuple[Upcoming, ...]:
    """The participant's group's meetings from today for two weeks, with module titles, each saying
    whether they are expected there (a finished track, or one that starts in a later week, is not)."""
    if plan.calendar is None or plan.current is None or plan.progress is None or plan.group is None:
        return ()
    structure = version_structure(plan.group.version_id)
    done = {t.track: t.completed_on for t in plan.progress.tracks if t.completed_on is not None}
    last = today + timedelta(days=SCHEDULE_DAYS)
    out = []
    for m in plan.calendar.meetings:
        if not today <= m.date <= last:
            continue
        first_week = structure.track(m.track).first_week
        why = ""
        if m.track in done and done[m.track] < m.date:
            why = _("You completed %(track)s.", track=m.track)
        elif seq.program_week(plan.progress.stay, m.date) < first_week:
            why = _("%(track)s starts in week %(week)s of your program.", track=m.track, week=first_week)
        out.append(Upcoming(m.date, m.time, m.track, m.module, titles.get(m.module or "", ""), not m.held, why))
    return tuple(out)


def participant_page(person: Participant, today: date, *, for_staff: bool = True) -> ParticipantPage:
    """The participant page's data. Staff also get alerts and make-up suggestions."""
    program = db.session.get(Program, person.program_id)
    # Every group of the program with its pattern first: progress and the make-up suggestions then
    # share them and one set of calendars (the open groups', which staff see suggestions from).
    groups = {g.id: g for g in program_groups(person.program_id, with_slots=True)}
    active = [g for g in groups.values() if g.active]
    calendars = group_calendars(active, today + HORIZON) if for_staff and active else {}
    plan = progress_for([person], today, groups=groups.values(), calendars=calendars)[person.id]
    titles = _titles({plan.group.version_id} if plan.group else set())
    share = version_structure(plan.group.version_id).credit_share if plan.group else 0.75
    with data_revision.people_rows([person.id]):  # their attendance only: the page outlives saves for others
        absences = _absences(person.id, groups, titles, share)
    makeups = _makeups(person.id, groups)
    explicit = _explicit_credits(person.id)
    tracks = _grid(plan, today, groups, titles, makeups, absences, explicit)
    suggestions: tuple[Suggestion, ...] = ()
    alerts: tuple[Alert, ...] = ()
    if for_staff:
        planned = {m.code for m in makeups if m.makeup.status == "planned"}
        suggestions = _suggestions(plan, calendars, groups, titles, planned)
        alerts = tuple(alerts_for(program, {person.id: plan}, today).get(person.id, ()))
    progress = plan.progress
    weeks = progress.weeks[-CHART_WEEKS:] if progress else ()
    return ParticipantPage(
        participant=person, plan=plan, program=program, today=today, groups=groups,
        program_week=seq.program_week(progress.stay, today) if progress and plan.current else None,
        tracks=tracks, weeks=weeks, absences=absences, makeups=makeups, suggestions=suggestions,
        upcoming=_upcoming(plan, today, titles), alerts=alerts, titles=titles,
    )


def missing_modules(page: ParticipantPage) -> list[tuple[str, str]]:
    """(code, "code title") of group modules still needed and not planned: the make-up form's choices."""
    cells = [c for t in page.tracks if t.scheduled for c in t.cells if c.state in ("missed", "coming", "later")]
    cells.sort(key=lambda c: c.state != "missed")  # missed ones first; curriculum order within
    return [(c.code, _("%(code)s %(title)s (missed)", code=c.code, title=c.title) if c.state == "missed"
             else f"{c.code} {c.title}") for c in cells]
