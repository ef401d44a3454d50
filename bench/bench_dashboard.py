"""Benchmark the directors' dashboard and the CSV exports on a program of 2,000 participants with a
year of meetings (about 120,000 attendance rows), on a fresh SQLite file.

Run: .venv/bin/python bench/bench_dashboard.py [--participants 2000] [--weeks 52] [--repeat 3]

Prints figures, not a pass or fail:
  1. how long building the program takes (bulk inserts, the same builder as tests/test_reports_scale.py);
  2. the dashboard over the last 12 months as a signed-in director sees it (GET /reports/): median
     time and queries, the first request's time (empty per-process caches), the time of the open
     alerts alone (progress of every active participant), and the time right after an attendance
     row changed (the figures are remembered per data revision, so a change recomputes them);
  3. each CSV export over the same period: rows, median time and queries.
Each time comes with its CPU time: on cores shared with other work the wall time includes waiting for a
core, and the CPU time (this process runs the app and SQLite both) is the work itself.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


FIRST: dict[str, float] = {}  # the first run of each measurement: the per-process caches still empty
CPU: dict[str, float] = {}  # the median CPU time of each measurement (SQLite runs in this process too)


def median_time(fn, repeat: int, label: str = "") -> tuple[float, object]:
    """The median wall time of fn() over repeat runs (seconds) and its last result; the first run's
    time is kept in FIRST[label] (calendars and progress are cached per process after it), the median
    CPU time in CPU[label]: on a machine shared with other work, wall time waits for a core, CPU does not."""
    times, cpu, result = [], [], None
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    FIRST[label] = times[0]
    CPU[label] = statistics.median(cpu)
    return statistics.median(times), result


class Counter:
    """Counts the SQL statements sent while it is active."""

    def __init__(self, engine) -> None:
        from sqlalchemy import event

        self.count, self.engine, self.event = 0, engine, event

    def _before(self, *args) -> None:
        self.count += 1

    def __enter__(self) -> Counter:
        self.event.listen(self.engine, "before_cursor_execute", self._before)
        return self

    def __exit__(self, *exc) -> None:
        self.event.remove(self.engine, "before_cursor_execute", self._before)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=2000)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from flask_migrate import upgrade
    from sqlalchemy import select, update

    from facilitator import create_app
    from facilitator.attendance.models import Attendance
    from facilitator.extensions import db
    from facilitator.reports import exports, services, views
    from facilitator.setup_cli import load_shipped_curricula
    from tests.conftest import csrf_token
    from tests.test_reports_scale import PASSWORD, build_program_at_scale

    load_before = os.getloadavg()[0]
    end = date(2027, 12, 1)
    views._today = lambda: end  # the figures of the builder's last day
    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.sqlite", "SECRET_KEY": "bench",
                          "TESTING": True})
        with app.app_context():
            upgrade()
            load_shipped_curricula()
            db.session.commit()
            started = time.perf_counter()
            program, email = build_program_at_scale(args.participants, end, weeks=args.weeks, slug="bench")
            db.session.commit()
            print(f"built {args.participants} participants, {args.weeks} weeks of meetings "
                  f"in {time.perf_counter() - started:.1f} s")
            period = services.Period.last_year(end)
            from facilitator.groups import calendars
            from facilitator.progress import services as progress

            calendars._CALENDARS.clear()  # noqa: SLF001  (a cold start: nothing cached yet)
            calendars._CALENDAR_TOKENS.clear()  # noqa: SLF001
            progress._PROGRESS.clear()  # noqa: SLF001
            alerts_time, _ = median_time(lambda: services.open_alerts(program, end), args.repeat, "alerts")
            calendars._CALENDARS.clear()  # noqa: SLF001
            calendars._CALENDAR_TOKENS.clear()  # noqa: SLF001
            progress._PROGRESS.clear()  # noqa: SLF001
            engine = db.engine
        client = app.test_client()
        page = client.get("/login")
        client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": csrf_token(page.text)})

        def get(url: str):
            with Counter(engine) as counter:
                response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            return response, counter.count

        seconds, (_, queries) = median_time(lambda: get("/reports/"), args.repeat, "dashboard")
        print(f"dashboard (GET /reports/): {seconds:.2f} s (CPU {CPU['dashboard']:.2f} s), {queries} queries "
              f"(first request {FIRST['dashboard']:.2f} s); open alerts alone {alerts_time:.2f} s "
              f"(CPU {CPU['alerts']:.2f} s, first {FIRST['alerts']:.2f} s)")
        # The view a director gets right after someone saved attendance: the data has a new revision, so
        # nothing is reused from the step above except what is kept by its own inputs (calendars, progress).
        after_change, after_cpu = [], []
        for step in range(args.repeat):
            with app.app_context():
                changed = db.session.scalar(select(Attendance.id).order_by(Attendance.id.desc()).limit(1))
                db.session.execute(update(Attendance).where(Attendance.id == changed)
                                   .values(minutes=Attendance.minutes + (1 if step % 2 == 0 else -1)))
                db.session.commit()
            start, start_cpu = time.perf_counter(), time.process_time()
            get("/reports/")
            after_change.append(time.perf_counter() - start)
            after_cpu.append(time.process_time() - start_cpu)
        print(f"dashboard right after an attendance row changed: {statistics.median(after_change):.2f} s "
              f"(CPU {statistics.median(after_cpu):.2f} s)")
        for kind in exports.EXPORTS:
            seconds, (response, queries) = median_time(lambda k=kind: get(f"/reports/exports/{k}.csv"), args.repeat,
                                                       kind)
            rows = sum(1 for line in response.text.splitlines() if not line.startswith("#")) - 1
            print(f"export {kind}: {rows} rows, {seconds:.2f} s (CPU {CPU[kind]:.2f} s, first {FIRST[kind]:.2f} s), "
                  f"{queries} queries")
        print(f"load average {os.getloadavg()[0]:.2f} (started at {load_before:.2f})")
        print(f"period {period.start} to {period.end}")


if __name__ == "__main__":
    main()
