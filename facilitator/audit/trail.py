"""Reading the audit trail (directors): filtered, newest first, a page at a time or whole for a
download; and who opened one participant's record lately. Times are stored in UTC and shown in the
program's zone; a day filter covers that day's midnight to midnight where the program is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.orm import aliased

from ..auth.models import User
from ..extensions import db
from ..participants.models import Participant
from . import services
from .models import AuditEvent

PAGE_SIZE = 50
OPENED_DAYS = 90
# Events that read one person's record (the participant page, their clinical pages, their printouts
# and their data through the API). Rosters and alert lists that name many people at once are in the
# full trail, not in "who opened this record".
OPENED_ACTIONS = ("participant.view", "relapse_analysis.view", "relapse_analysis.open", "clinical.tests.view",
                  "api.progress.view", "api.plan.view", "document.print")


@dataclass(frozen=True)
class Filters:
    """What a director asked for: ids and dates already checked against the program."""

    user_id: int | None = None
    participant_id: int | None = None
    action: str | None = None
    start: date | None = None
    end: date | None = None


@dataclass(frozen=True)
class Row:
    """One audit event as the trail shows it: local time, who, what, which record number."""

    id: int
    at: datetime  # in the program's zone
    who: str
    role: str
    action: str
    entity: str
    entity_id: int | None
    participant_id: int | None
    record_number: str
    remote_addr: str


@dataclass(frozen=True)
class Opened:
    """One person's openings of a participant's record: what, how many times, first and last."""

    who: str
    role: str
    action: str
    times: int
    first: datetime
    last: datetime


def utc_bound(day: date, zone: str) -> datetime:
    """The program's midnight at the start of a day, as the naive UTC the table stores."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(zone)).astimezone(UTC).replace(tzinfo=None)


def local(at: datetime, zone: str) -> datetime:
    """A stored (naive UTC) time on the program's wall clock."""
    return at.replace(tzinfo=UTC).astimezone(ZoneInfo(zone))


def _filtered(program_id: int, zone: str, filters: Filters) -> Select:
    query = select(AuditEvent.id).where(AuditEvent.program_id == program_id)
    if filters.user_id is not None:
        query = query.where(AuditEvent.user_id == filters.user_id)
    if filters.participant_id is not None:
        query = query.where(AuditEvent.participant_id == filters.participant_id)
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.start is not None:
        query = query.where(AuditEvent.at >= utc_bound(filters.start, zone))
    if filters.end is not None:
        query = query.where(AuditEvent.at < utc_bound(filters.end + timedelta(days=1), zone))
    return query


def count(program_id: int, zone: str, filters: Filters) -> int:
    """How many events match."""
    return db.session.scalar(select(func.count()).select_from(_filtered(program_id, zone, filters).subquery())) or 0


def rows(program_id: int, zone: str, filters: Filters, page: int | None = 1) -> list[Row]:
    """The matching events, newest first: one page of PAGE_SIZE, or all of them (page=None)."""
    ids = _filtered(program_id, zone, filters).subquery()
    actor = aliased(User)
    query = (select(AuditEvent, actor.display_name, actor.role, Participant.record_number)
             .join(ids, ids.c.id == AuditEvent.id)
             .outerjoin(actor, actor.id == AuditEvent.user_id)
             .outerjoin(Participant, Participant.id == AuditEvent.participant_id)
             .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()))
    if page is not None:
        query = query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    return [Row(id=event.id, at=local(event.at, zone), who=name or "", role=role or "", action=event.action,
                entity=event.entity, entity_id=event.entity_id, participant_id=event.participant_id,
                record_number=number or "",
                remote_addr=event.remote_addr)
            for event, name, role, number in db.session.execute(query)]


def actions(program_id: int) -> list[str]:
    """The actions the program's trail holds, for the filter's choices."""
    return list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.program_id == program_id)
                                   .distinct().order_by(AuditEvent.action)))


def people(program_id: int) -> list[User]:
    """The program's staff (active or not), for the person filter."""
    return list(db.session.scalars(select(User).where(User.program_id == program_id, User.role != "participant")
                                   .order_by(User.display_name, User.id)))


def participant_by_record(program_id: int, record_number: str) -> Participant | None:
    """The program's participant with this record number."""
    return db.session.scalar(select(Participant).where(Participant.program_id == program_id,
                                                       Participant.record_number == record_number))


def first_day(program_id: int, zone: str) -> date | None:
    """The day of the program's oldest event (where a download without a start date begins)."""
    oldest = db.session.scalar(select(func.min(AuditEvent.at)).where(AuditEvent.program_id == program_id))
    return local(oldest, zone).date() if oldest is not None else None


def openings(participant_id: int, program_id: int, zone: str, today: date) -> list[Opened]:
    """Who opened this person's record in the last 90 days, this request's opening included (it is
    written when the request ends): per person and kind, how often, first and last; the latest first
    (one query)."""
    since = utc_bound(today - timedelta(days=OPENED_DAYS - 1), zone)
    query = (select(User.id, User.display_name, User.role, AuditEvent.action, func.count(AuditEvent.id),
                    func.min(AuditEvent.at), func.max(AuditEvent.at))
             .join(User, User.id == AuditEvent.user_id)
             .where(AuditEvent.participant_id == participant_id, AuditEvent.program_id == program_id,
                    AuditEvent.action.in_(OPENED_ACTIONS), AuditEvent.at >= since)
             .group_by(User.id, User.display_name, User.role, AuditEvent.action))
    found = {(uid, action): [name, role, times, first, last]
             for uid, name, role, action, times, first, last in db.session.execute(query)}
    for event in services.pending_events():
        if (event["participant_id"] != participant_id or event["program_id"] != program_id
                or event["action"] not in OPENED_ACTIONS or event["user_id"] is None):
            continue
        key = (event["user_id"], event["action"])
        if key in found:
            found[key][2] += 1
            found[key][4] = max(found[key][4], event["at"])
        else:
            user = db.session.get(User, event["user_id"])
            found[key] = [user.display_name, user.role, 1, event["at"], event["at"]]
    rows = sorted(((action, *values) for (_, action), values in found.items()), key=lambda row: row[5], reverse=True)
    return [Opened(who=name, role=role, action=action, times=times, first=local(first, zone), last=local(last, zone))
            for action, name, role, times, first, last in rows]
