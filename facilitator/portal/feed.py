"""A participant's private calendar feed: their own meetings (their groups' meetings during their stays,
and the make-ups planned for them) at a secret address a calendar app fetches without signing in.

It names no person: no participant (not even them: a phone's calendar is often shared or synced),
no staff member. The participant makes the address and may replace it; the old one then stops.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from icalendar import Calendar, Event, vText
from sqlalchemy import select

from .. import clock
from ..auth.models import User
from ..curricula.models import Module
from ..extensions import db
from ..groups.calendars import group_calendars, version_structure
from ..groups.feeds import new_token
from ..groups.models import Group
from ..groups.services import titles_of
from ..participants.models import Enrollment, Participant
from ..programs.models import Program
from ..progress.models import MakeUp
from ..reports.ical import CALENDAR_AHEAD, CALENDAR_PAST, vtimezone

TOKEN_LENGTH = 43  # secrets.token_urlsafe(32)


class FeedRefused(PermissionError):
    """Only the participant makes or replaces their own calendar address."""


def share_feed(person: Participant, user: User, *, replace: bool = False) -> str:
    """The participant's feed token, made if they have none; replace=True makes a new one (the old stops)."""
    if user.role != "participant" or user.participant_id != person.id:
        raise FeedRefused("only the participant makes their own calendar address")
    if person.feed_token is None or replace:
        person.feed_token = new_token()
        db.session.flush()
    return person.feed_token


def remove_feed(person: Participant, user: User) -> bool:
    """Staff of the participant's program stop their calendar address (a lost phone); True if there was one."""
    if not user.is_staff or user.program_id != person.program_id:
        raise FeedRefused("only the program's staff stop a participant's calendar address")
    had = person.feed_token is not None
    person.feed_token = None
    db.session.flush()
    return had


def participant_by_feed(token: str) -> Participant | None:
    """The participant whose calendar address carries this token, while their portal sign-in is active
    (removing portal access stops the feed too); None for anything else."""
    if len(token) != TOKEN_LENGTH:
        return None
    return db.session.scalar(
        select(Participant).join(User, User.participant_id == Participant.id)
        .where(Participant.feed_token == token, User.active.is_(True)))


def _event(uid: str, stamp: datetime, summary: str, description: str, location: str = "") -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp)
    event.add("summary", summary)
    event.add("description", description)
    if location:
        event.add("location", location)
    return event


def participant_calendar_ics(person: Participant, program: Program, today: date) -> bytes:
    """The participant's meetings from 8 weeks ago to 16 weeks ahead as iCalendar: each group meeting
    while they were in that group, and each make-up planned at another group's meeting or one to one."""
    first, last = today - CALENDAR_PAST, today + CALENDAR_AHEAD
    stays = list(db.session.scalars(select(Enrollment).where(Enrollment.participant_id == person.id)
                                    .order_by(Enrollment.admitted_on)))
    planned = db.session.execute(
        select(MakeUp.method, MakeUp.meeting_group_id, MakeUp.planned_on, MakeUp.id, Module.code, Module.title)
        .join(Module, Module.id == MakeUp.module_id)
        .where(MakeUp.participant_id == person.id, MakeUp.status == "planned", MakeUp.planned_on.is_not(None),
               MakeUp.planned_on >= first, MakeUp.planned_on <= last)).all()
    group_ids = {e.group_id for e in stays} | {row.meeting_group_id for row in planned if row.meeting_group_id}
    groups = {g.id: g for g in db.session.scalars(select(Group).where(Group.id.in_(group_ids)))} if group_ids else {}
    calendars = group_calendars(list(groups.values()), last)
    zone = ZoneInfo(program.timezone)
    stamp = clock.utc_now().replace(microsecond=0)
    cal = Calendar()
    cal.add("prodid", "-//facilitator//my meetings//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", vText(_("My meetings, %(program)s", program=program.name)))
    cal.add("x-wr-timezone", vText(program.timezone))
    events: list[Event] = []
    seen: set[tuple] = set()  # a readmission to the same group lists each meeting once
    for stay in stays:
        group = groups[stay.group_id]
        structure = version_structure(group.version_id)
        titles = titles_of(structure)
        tracks = {t.code: t.name for t in structure.tracks}
        end = min(last, stay.discharged_on) if stay.discharged_on else last
        for m in calendars[group.id].meetings:
            if not max(first, stay.admitted_on) <= m.date <= end or m.key in seen:
                continue
            seen.add(m.key)
            start = datetime.combine(m.date, time.fromisoformat(m.time), tzinfo=zone)
            summary = f"{m.module} {titles.get(m.module, '')}".strip() if m.module else tracks.get(m.track, m.track)
            event = _event(f"me-{group.id}-{m.date:%Y%m%d}-{m.time.replace(':', '')}-{m.track}@facilitator", stamp,
                           summary, f"{group.name}: {tracks.get(m.track, m.track)}", group.location)
            event.add("dtstart", start)
            event.add("dtend", start + timedelta(minutes=m.minutes))
            if not m.held:
                event.add("status", "CANCELLED")
            events.append(event)
    for row in planned:
        events.append(_makeup_event(row, groups, calendars, zone, stamp))
    if any(isinstance(e.get("dtstart").dt, datetime) for e in events):
        cal.add_component(vtimezone(program.timezone, first, last))
    for event in events:
        cal.add_component(event)
    return cal.to_ical()


def _makeup_event(row, groups: dict[int, Group], calendars: dict, zone: ZoneInfo, stamp: datetime) -> Event:
    """A planned make-up: at the other group's meeting that teaches the module that day (timed), else
    a whole-day entry on the planned day (an individual session, homework, or no matching meeting)."""
    summary = _("Make-up: %(code)s %(title)s", code=row.code, title=row.title).strip()
    uid = f"me-makeup-{row.id}@facilitator"
    group = groups.get(row.meeting_group_id) if row.meeting_group_id else None
    if group is not None:
        track = row.code.split(" ", 1)[0]
        found = [m for m in calendars[group.id].meetings if m.date == row.planned_on and m.held
                 and (m.module == row.code or m.track == track)]
        found.sort(key=lambda m: m.module != row.code)  # the meeting teaching the module first
        if found:
            start = datetime.combine(row.planned_on, time.fromisoformat(found[0].time), tzinfo=zone)
            event = _event(uid, stamp, summary, _("At %(group)s", group=group.name), group.location)
            event.add("dtstart", start)
            event.add("dtend", start + timedelta(minutes=found[0].minutes))
            return event
    words = {"individual": _("An individual session with your counselor"), "homework": _("Homework"),
             "next_rotation": _("At your group"),
             "other_group": _("At %(group)s", group=group.name) if group else _("At another group")}
    event = _event(uid, stamp, summary, words.get(row.method, ""))
    event.add("dtstart", row.planned_on)
    event.add("dtend", row.planned_on + timedelta(days=1))
    return event
