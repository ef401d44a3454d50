"""Benchmark the core pages in one process, side by side with the bare /health request on the same app.

Run: .venv/bin/python bench/bench_pages.py [--repeat 30]
     (on PostgreSQL: bash .ci/with-postgres.sh .venv/bin/python bench/bench_pages.py)

Builds the demo program (as `facilitator demo` does) in a fresh database, then adds a group of 40
members with a year of held meetings and attendance. Prints, for /health and each core page (today,
a meeting, a participant, the group, the participants list): the median time over interleaved
rounds (wall time), the multiple of /health's median and the queries, in four conditions measured in turn in each
round: reused (the page asked for again with nothing changed: served whole from what this process
kept), built (the page built again from the figures this process remembers at the data's revision),
saved (right after a save of attendance, the change a clinic's day is made of: what the save did not
touch is still remembered) and cold (nothing remembered, as for the first request after the process
starts or the curriculum changes); then the meeting and participant pages of the 40-member group
against their demo-size figures. Figures, not a pass or fail.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def links(html: str, pattern: str) -> list[str]:
    """Distinct hrefs of a page that match a pattern, in page order."""
    return list(dict.fromkeys(re.findall(rf'href="({pattern})"', html)))


BIG_LEAD = "lead@big.example"
BIG_PASSWORD = "big-group-password-2027"


def add_big_group(size: int = 40, weeks: int = 52):
    """A program of its own with one group of `size` members admitted over the past `weeks` weeks,
    every meeting held and recorded, led by BIG_LEAD. Returns the group's and last member's ids."""
    from sqlalchemy import select

    from facilitator import clock
    from facilitator.attendance.models import Attendance
    from facilitator.auth.services import create_user
    from facilitator.curricula.models import CurriculumVersion
    from facilitator.domain.curriculum import WEEKDAYS
    from facilitator.extensions import db
    from facilitator.groups.calendars import group_calendar, module_ids
    from facilitator.groups.models import Group, Meeting, Slot
    from facilitator.participants.models import Enrollment, Participant
    from facilitator.programs.models import AttendanceStatus
    from facilitator.programs.services import create_program

    program = create_program("Big program", slug="big")
    lead = create_user(program, BIG_LEAD, BIG_PASSWORD, "facilitator", "Lee Lead")

    today = clock.today()
    start = today - timedelta(weeks=weeks, days=today.weekday())
    version = db.session.scalar(select(CurriculumVersion).where(CurriculumVersion.status == "published")
                                .order_by(CurriculumVersion.id))
    group = Group(program_id=program.id, name="Big group", version_id=version.id, start_date=start,
                  facilitator_id=lead.id)
    group.slots = [Slot(weekday=WEEKDAYS.index(s["weekday"]), start_time=datetime.strptime(s["time"], "%H:%M").time(),
                        track_code=s["track"], minutes=s["minutes"]) for s in version.pattern]
    db.session.add(group)
    db.session.flush()
    people = []
    for i in range(size):
        person = Participant(program_id=program.id, preferred_name=f"Member {i}", initials="BG",
                             record_number=f"BIG-{i}")
        db.session.add(person)
        db.session.flush()
        admitted = start + timedelta(weeks=i * weeks // size)
        db.session.add(Enrollment(participant_id=person.id, group_id=group.id, admitted_on=admitted))
        people.append((person, admitted))
    modules = module_ids(version.id)
    planned = [m for m in group_calendar(group, today).meetings if m.date < today and m.status == "held"]
    db.session.execute(Meeting.__table__.insert(), [
        {"group_id": group.id, "date": m.date, "start_time": datetime.strptime(m.time, "%H:%M").time(),
         "track_code": m.track, "minutes": m.minutes, "module_id": modules.get(m.module), "status": "held", "note": "",
         "fidelity": {}, "topic_picked": False, "cancel_reason": "", "updated_at": datetime(2027, 1, 1)}
        for m in planned])
    present = db.session.scalar(select(AttendanceStatus.id).where(AttendanceStatus.program_id == program.id,
                                                                  AttendanceStatus.code == "present"))
    rows = []
    for meeting_id, day, minutes in db.session.execute(select(Meeting.id, Meeting.date, Meeting.minutes)
                                                       .where(Meeting.group_id == group.id)):
        rows += [{"meeting_id": meeting_id, "participant_id": p.id, "status_id": present, "minutes": minutes,
                  "note": "", "recorded_by_id": lead.id, "recorded_at": datetime(2027, 1, 1)}
                 for p, admitted in people if admitted <= day]
    db.session.execute(Attendance.__table__.insert(), rows)
    ids = group.id, people[-1][0].id
    db.session.commit()
    return *ids, len(rows)


BIG_PAGES = ("meeting, 40 members", "participant, a year")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--profile", default="", help="a page name: print a pyinstrument profile of 20 requests")
    parser.add_argument("--mode", default="built", choices=MODES, help="what the profiled requests find remembered")
    args = parser.parse_args()

    from flask_migrate import upgrade
    from sqlalchemy import event, select

    from facilitator import create_app
    from facilitator.demo.services import build_demo
    from facilitator.extensions import db
    from facilitator.setup_cli import load_shipped_curricula
    from tests.conftest import csrf_token

    with tempfile.TemporaryDirectory() as folder:
        url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{folder}/bench.sqlite"
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "DOCUMENT_CACHE_DIR": folder})
        with app.app_context():
            upgrade()
            load_shipped_curricula()
            db.session.commit()
            build_demo()
            db.session.commit()
            big, member, rows = add_big_group()
            engine = db.engine
        def signed_in(email: str, password: str, address: str):
            browser = app.test_client()
            browser.environ_base["REMOTE_ADDR"] = address
            page = browser.get("/login")
            browser.post("/login", data={"email": email, "password": password, "csrf_token": csrf_token(page.text)})
            return browser

        client = signed_in("facilitator@demo.example", "demo-password-2026", "10.0.0.1")
        big_client = signed_in(BIG_LEAD, BIG_PASSWORD, "10.0.0.2")
        today = client.get("/today").text
        groups = links(client.get("/groups/").text, r"/groups/\d+")
        demo_group = groups[0]
        demo_meeting = links(client.get(demo_group).text, r"/groups/\d+/meetings/[^\"]+")
        big_meetings = links(big_client.get(f"/groups/{big}").text, r"/groups/\d+/meetings/[^\"]+")
        people = links(today, r"/participants/\d+") or links(client.get("/participants/").text, r"/participants/\d+")
        pages = {
            "health": "/health", "today": "/today", "meeting": demo_meeting[len(demo_meeting) // 3],
            "participant": people[0], "group": demo_group, "participants list": "/participants/",
            "meeting, 40 members": big_meetings[len(big_meetings) // 3],
            "participant, a year": f"/participants/{member}",
        }
        counted = [0]

        def count(*_args) -> None:
            counted[0] += 1

        from facilitator import data_revision
        from facilitator.attendance.models import Attendance
        from facilitator.groups.models import Meeting
        from facilitator.web import remembered_pages

        with app.app_context():  # the attendance saved again and again: a row of the latest held meeting
            saved = db.session.scalar(select(Attendance.id).join(Meeting, Meeting.id == Attendance.meeting_id)
                                      .where(Meeting.status == "held").order_by(Meeting.date.desc()).limit(1))

        def save_attendance() -> None:
            """What a save of attendance changes: a row's minutes and its meeting's version, committed."""
            with app.app_context():
                row = db.session.get(Attendance, saved)
                row.minutes = (row.minutes or 0) + 1 if (row.minutes or 0) < 600 else 0
                db.session.get(Meeting, row.meeting_id).attendance_version += 1
                db.session.commit()

        def forget(mode: str) -> None:
            if mode == "saved":
                save_attendance()  # a new state: no page is reused whole, what the save did not touch is
            elif mode != "reused":
                remembered_pages.forget()  # "built": the page is built again, from figures remembered
            if mode == "cold":
                data_revision.forget()  # "cold": nothing remembered, as after the process starts

        event.listen(engine, "before_cursor_execute", count)
        times: dict[tuple[str, str], list[float]] = {}
        queries: dict[tuple[str, str], int] = {}
        for round_ in range(args.repeat + 1):  # interleaved rounds; the first warms the per-process caches
            for name, path in pages.items():
                # In this order: each forgets what the one before it measured with, and the reused page
                # is the one just built.
                for mode in ("cold", "saved", "built", "reused") if name != "health" else ("reused",):
                    forget(mode)
                    counted[0] = 0
                    started = time.perf_counter()
                    response = (big_client if name in BIG_PAGES else client).get(path)
                    wall = time.perf_counter() - started
                    assert response.status_code == 200, (path, response.status_code)
                    if round_:
                        times.setdefault((name, mode), []).append(wall)
                        queries[name, mode] = counted[0]
        if args.profile:
            from pyinstrument import Profiler  # a bench-only tool: pip install pyinstrument

            profiler = Profiler(interval=0.0005)
            profiler.start()
            for _ in range(20):
                forget(args.mode)
                (big_client if args.profile in BIG_PAGES else client).get(pages[args.profile])
            profiler.stop()
            print(profiler.output_text(color=False, unicode=False))
        report(times, queries, "PostgreSQL" if "postgresql" in url else "SQLite", args.repeat, rows)


MODES = ("reused", "built", "saved", "cold")


def report(times: dict, queries: dict, database: str, repeat: int, rows: int) -> None:
    """Each page's median wall time and its multiple of /health's, per mode, and the big pages against the demo's."""
    load = os.getloadavg()
    print(f"{database}, {repeat} rounds, load average {load[0]:.2f}; the big group: 40 members, {rows} attendance rows")
    print("reused: the same page again, nothing changed since; built: the page built again from the figures this")
    print("process remembers (the work of a page before it was reused whole); saved: right after a save of")
    print("attendance; cold: nothing remembered, as after the process starts")
    median = {key: statistics.median(values) for key, values in times.items()}
    floor = median["health", "reused"]
    print(f"health {floor * 1000:.1f} ms, {queries['health', 'reused']} queries")
    print(f"{'page':22s}" + "".join(f" {mode + ' ms':>10s} {'x health':>8s} {'queries':>7s}" for mode in MODES))
    for name in dict.fromkeys(n for n, _ in times):
        if name == "health":
            continue
        print(f"{name:22s}" + "".join(f" {median[name, mode] * 1000:10.1f} {median[name, mode] / floor:7.1f}x "
                                      f"{queries[name, mode]:7d}" for mode in MODES))
    for big_page, small_page in (("meeting, 40 members", "meeting"), ("participant, a year", "participant")):
        print(f"{big_page} vs demo size: " + ", ".join(
            f"{mode} {median[big_page, mode] / median[small_page, mode]:.2f}x the time, "
            f"{queries[big_page, mode]} vs {queries[small_page, mode]} queries" for mode in MODES))


if __name__ == "__main__":
    main()
