"""The dashboard and every export are built in a fixed number of queries: a program of 40
participants and one of 2,000 with a year of meetings cost the same. The large program is written
with bulk inserts; bench/bench_dashboard.py reuses the builder and prints the times."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select, text

from facilitator.attendance.models import Attendance
from facilitator.auth.services import create_user
from facilitator.curricula.models import Module
from facilitator.curricula.services import find_version
from facilitator.domain.curriculum import WEEKDAYS
from facilitator.extensions import db
from facilitator.groups import calendars
from facilitator.groups.models import Group, Meeting, Slot
from facilitator.participants.models import Enrollment, Participant
from facilitator.programs.models import AttendanceStatus, Program
from facilitator.programs.services import create_program
from facilitator.progress import services as progress
from facilitator.reports import exports, views

from .conftest import login

END = date(2027, 12, 1)
PASSWORD = "scale-password-2027"


def build_program_at_scale(size: int, end: date, *, weeks: int = 52, slug: str = "scale",
                           tracks: tuple[str, ...] = ("ERS", "RP", "FE", "SS")) -> tuple[Program, str]:
    """A program of `size` participants admitted evenly over `weeks` weeks before `end`, in groups of
    about 250 on the matrix-16 pattern with every meeting held, and attendance at the meetings of
    `tracks` for each stay (10% absent, 10% late). Stays end by completion (at 16 or 20 weeks),
    dropping out or termination, or are still open. Returns the program and its director's email."""
    program = create_program(f"Scale {slug}", slug=slug)
    email = f"director@{slug}.example"
    director = create_user(program, email, PASSWORD, "director", "Dana Director")
    version = find_version("matrix-16")
    modules: dict[str, list[int]] = {}
    for code, module_id in db.session.execute(select(Module.code, Module.id).where(Module.version_id == version.id)
                                              .order_by(Module.position)):
        modules.setdefault(code.split()[0], []).append(module_id)
    start = end - timedelta(weeks=weeks)
    start -= timedelta(days=start.weekday())
    groups = []
    for n in range(max(2, size // 250)):
        group = Group(program_id=program.id, name=f"Group {n + 1:02d}", version_id=version.id, start_date=start)
        group.slots = [Slot(weekday=WEEKDAYS.index(s["weekday"]), start_time=time.fromisoformat(s["time"]),
                            track_code=s["track"], minutes=s["minutes"]) for s in version.pattern]
        db.session.add(group)
        groups.append(group)
    db.session.flush()
    meeting_rows, turns, day = [], {}, start
    while day < end:
        for group in groups:
            for slot in (s for s in group.slots if s.weekday == day.weekday()):
                ids = modules[slot.track_code]
                turn = turns[group.id, slot.track_code] = turns.get((group.id, slot.track_code), -1) + 1
                meeting_rows.append({"group_id": group.id, "date": day, "start_time": slot.start_time,
                                     "track_code": slot.track_code, "minutes": slot.minutes,
                                     "module_id": ids[turn % len(ids)], "status": "held", "note": "", "fidelity": {},
                                     "topic_picked": False, "cancel_reason": "", "updated_at": datetime(2027, 1, 1)})
        day += timedelta(days=1)
    db.session.execute(Meeting.__table__.insert(), meeting_rows)
    meetings: dict[int, list[tuple[date, int, int]]] = {}
    for meeting_id, group_id, day, minutes in db.session.execute(
            select(Meeting.id, Meeting.group_id, Meeting.date, Meeting.minutes)
            .where(Meeting.group_id.in_([group.id for group in groups]), Meeting.track_code.in_(tracks))
            .order_by(Meeting.date, Meeting.start_time)):
        meetings.setdefault(group_id, []).append((day, meeting_id, minutes))
    db.session.execute(Participant.__table__.insert(), [
        {"program_id": program.id, "preferred_name": f"Person {i}", "initials": f"P{i % 100}",
         "record_number": f"S-{i:05d}", "language": "en", "created_at": datetime(2027, 1, 1)} for i in range(size)])
    people = dict(db.session.execute(select(Participant.record_number, Participant.id)
                                     .where(Participant.program_id == program.id)).all())
    statuses = dict(db.session.execute(select(AttendanceStatus.code, AttendanceStatus.id)
                                       .where(AttendanceStatus.program_id == program.id)).all())
    stamp, span = datetime(2027, 1, 1), weeks * 7 - 1
    enrollments, attendance = [], []
    for i in range(size):
        person, group = people[f"S-{i:05d}"], groups[i % len(groups)]
        admitted = start + timedelta(days=i * span // size)
        out, reason = _ending(i, admitted)
        if out >= end:
            out, reason = None, None
        enrollments.append({"participant_id": person, "group_id": group.id, "admitted_on": admitted,
                            "discharged_on": out, "discharge_reason": reason, "discharge_note": "",
                            "created_at": stamp})
        last = out or end - timedelta(days=1)
        for j, (day, meeting_id, minutes) in enumerate(meetings[group.id]):
            if admitted <= day <= last:
                roll = (i * 7 + j) % 10
                code, got = ("absent", 0) if roll == 0 else ("late", minutes - 15) if roll == 1 else ("present", minutes)
                attendance.append({"meeting_id": meeting_id, "participant_id": person, "status_id": statuses[code],
                                   "minutes": got, "note": "", "recorded_by_id": director.id, "recorded_at": stamp})
    db.session.execute(Enrollment.__table__.insert(), enrollments)
    db.session.execute(Attendance.__table__.insert(), attendance)
    db.session.flush()
    return program, email


def _ending(i: int, admitted: date) -> tuple[date, str]:
    """How the i-th stay ends: 40% complete at 16 weeks, 10% at 20, 40% drop out, 10% are terminated."""
    kind = i % 10
    if kind <= 3:
        return admitted + timedelta(weeks=16), "completed"
    if kind == 8:
        return admitted + timedelta(weeks=20), "completed"
    if kind == 7:
        return admitted + timedelta(weeks=3), "terminated"
    return admitted + timedelta(weeks=1 + i % 10), "dropped_out"


def _counts(client, count_queries, email: str, cold: bool = False) -> dict[str, int]:
    """Queries of the dashboard and of each export, signed in as the program's director; with cold,
    each request finds no group calendar or progress cached (curriculum versions stay cached)."""
    login(client, email, PASSWORD)
    out = {}
    for name, url in [("dashboard", "/reports/"), *((k, f"/reports/exports/{k}.csv") for k in exports.EXPORTS)]:
        if cold:
            calendars._CALENDARS.clear()  # noqa: SLF001  (a process that has not seen this program)
            calendars._CALENDAR_TOKENS.clear()  # noqa: SLF001  (ids of the dropped calendars may be reused)
            progress._PROGRESS.clear()  # noqa: SLF001
        # Start each request as a fresh one would: nothing in the identity map (g is emptied per request).
        db.session.expunge_all()
        with count_queries() as counter:
            response = client.get(url)
        assert response.status_code == 200, (name, response.status_code)
        out[name] = counter.count
    return out


def test_dashboard_and_exports_in_a_fixed_number_of_queries(app, session, client, count_queries, monkeypatch):
    monkeypatch.setattr(views, "_today", lambda: END)
    _, small = build_program_at_scale(40, END, slug="scale-small")
    # Attendance at RP meetings only (about 40,000 rows) keeps the test short; the bench records every track.
    _, large = build_program_at_scale(2000, END, slug="scale-large", tracks=("RP",))
    if session.get_bind().dialect.name == "postgresql":
        # Autovacuum may have recorded these tables as empty after earlier tests rolled back, and the
        # planner then loops as if over one row (minutes per query). A real database has statistics
        # for its rows: give the planner this test's (ANALYZE sees the transaction's own rows).
        session.execute(text("ANALYZE"))
    _counts(client, count_queries, small)  # warm the caches of published curriculum versions
    # Progress is cached per process and checked against the database: a miss reads the rows it is
    # built from (a few queries more), a hit does not. Compare like with like: each program's first
    # request in a process with nothing of it cached, then each one's next.
    small_first = _counts(app.test_client(), count_queries, small, cold=True)
    large_first = _counts(app.test_client(), count_queries, large, cold=True)
    small_counts = _counts(app.test_client(), count_queries, small)
    large_counts = _counts(app.test_client(), count_queries, large)
    assert large_first == small_first, (small_first, large_first)
    assert large_counts == small_counts, (small_counts, large_counts)
    assert small_counts["dashboard"] <= 25 and max(small_first.values()) <= 25
