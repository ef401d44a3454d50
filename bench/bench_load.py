"""A bounded load test: N clients walk a facilitator's day against gunicorn, on the demo program.

Run on PostgreSQL (a throwaway server, started and removed by the CI script):
    bash .ci/with-postgres.sh .venv/bin/python bench/bench_load.py --clients 50 --seconds 30
or on SQLite in a temporary folder: .venv/bin/python bench/bench_load.py

Each client signs in once (argon2 costs about 0.3 s a sign-in; successes do not count against the
per-address limit), then loops: today, a meeting page, a save of that meeting's attendance (every
third loop), a participant, a worksheet PDF (cached after its first render), the dashboard (the
clients signed in as the director), and the bare /health as the floor. Prints requests/s, p50, p95
and p99 per page, each page's p50 as a multiple of /health's p50 in the same run, errors (any 5xx,
a refused request or a timeout) and the load average. Figures, not a pass or fail.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PASSWORD = "demo-password-2026"  # the demo's logins (facilitator demo prints them)
FACILITATORS = ("facilitator@demo.example", "rosa@demo.example")
DIRECTOR = "director@demo.example"
UNSIGN = """
from datetime import timedelta
from sqlalchemy import update
from facilitator import clock, create_app
from facilitator.extensions import db
from facilitator.groups.models import Meeting
with create_app().app_context():
    db.session.execute(update(Meeting).where(Meeting.date >= clock.today() - timedelta(days=7))
                       .values(locked_at=None, locked_by_id=None))
    db.session.commit()
"""


class FormFields(HTMLParser):
    """The fields of one form (by id) as a browser would post them: inputs, checked boxes, selected options, text areas."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id, self.inside, self.fields = form_id, False, []
        self._select: str | None = None
        self._first_option: str | None = None
        self._picked = False
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside:
            return
        if tag == "input" and a.get("name"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.append((a["name"], a.get("value") or ("y" if a.get("type") == "checkbox" else "")))
        elif tag == "select":
            self._select, self._first_option, self._picked = a.get("name"), None, False
        elif tag == "option" and self._select:
            if self._first_option is None:
                self._first_option = a.get("value", "")
            if "selected" in a and not self._picked:
                self.fields.append((self._select, a.get("value", "")))
                self._picked = True
        elif tag == "textarea":
            self._textarea, self._text = a.get("name"), ""

    def handle_data(self, data):
        if self._textarea is not None:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select" and self._select:
            if not self._picked and self._first_option is not None:
                self.fields.append((self._select, self._first_option))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.fields.append((self._textarea, self._text))
            self._textarea = None


def form_fields(html: str, form_id: str) -> list[tuple[str, str]]:
    """The fields a browser would post from the form with this id."""
    parser = FormFields(form_id)
    parser.feed(html)
    return parser.fields


class Client:
    """One person's browser: a cookie jar, every request timed and recorded under a page name."""

    def __init__(self, base: str, results: dict, lock: threading.Lock, timeout: float) -> None:
        self.base, self.results, self.lock, self.timeout = base, results, lock, timeout
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def request(self, page: str, path: str, data: list[tuple[str, str]] | None = None,
                ok: tuple[int, ...] = (200,)) -> tuple[int, str]:
        """Send a request; record its time, and an error for any status outside `ok` (redirects are followed)."""
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        started = time.perf_counter()
        status, text = 0, ""
        try:
            with self.opener.open(urllib.request.Request(self.base + path, data=body), timeout=self.timeout) as answer:
                status, raw = answer.status, answer.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        except OSError as exc:  # refused, reset, timed out
            status, raw = 0, str(exc).encode()
        elapsed = time.perf_counter() - started
        if raw[:4] != b"%PDF":
            text = raw.decode("utf-8", "replace")
        with self.lock:
            self.results[page].append(elapsed)
            if status not in ok:
                self.results["errors"].append((page, status, path))
        return status, text


def csrf(html: str) -> str:
    """The CSRF token of a rendered form."""
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html)
    return found.group(1) if found else ""


def walk(client: Client, email: str, director: bool, meeting: str, run: dict, barrier: threading.Barrier) -> None:
    """Sign in once, wait for everyone, then walk the day's pages until run["stop"]."""
    _, page = client.request("sign-in form", "/login")
    client.request("sign-in", "/login", [("email", email), ("password", PASSWORD), ("csrf_token", csrf(page))])
    barrier.wait()
    walk_signed_in(client, director, meeting, run)


def walk_signed_in(client: Client, director: bool, meeting: str, run: dict) -> None:
    """Walk the day's pages until run["stop"]."""
    loop = 0
    while time.perf_counter() < run["stop"]:
        loop += 1
        client.request("health", "/health")
        _, today = client.request("today", "/today?all=1")
        _, html = client.request("meeting", meeting)
        if loop % 3 == 0 and 'id="attendance-form"' in html:
            action = re.search(r'action="([^"]+/attendance)"', html).group(1)
            # 409: another client saved the same meeting a moment before (the page says so); not an error.
            client.request("save attendance", action, form_fields(html, "attendance-form"), ok=(200, 409))
        people = re.findall(r'href="(/participants/\d+)"', html) or re.findall(r'href="(/participants/\d+)"', today)
        if people:
            client.request("participant", people[loop % len(people)])
        sheet = re.search(r'href="(/documents/worksheet/[^"]+)"', html)
        if sheet:
            client.request("worksheet PDF", sheet.group(1).replace("&amp;", "&"))
        if director:
            client.request("dashboard", "/reports/")


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of the values lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) * 2)
    parser.add_argument("--database-url", default=os.environ.get("TEST_DATABASE_URL", ""),
                        help="PostgreSQL URL (default: TEST_DATABASE_URL, else SQLite in a temporary folder)")
    parser.add_argument("--timeout", type=float, default=30)
    parser.add_argument("--quiet-seconds", type=float, default=10, help="one client alone first, for the ratios")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="bench-load-"))
    env = {**os.environ, "FACILITATOR_INSTANCE": str(folder), "SECRET_KEY": "bench-load-" + os.urandom(8).hex(),
           "DOCUMENT_CACHE_DIR": str(folder / "documents")}
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    server = None
    try:
        for command in (["init"], ["demo"]):
            subprocess.run([str(BIN / "facilitator"), *command], env=env, cwd=ROOT, check=True,
                           stdout=subprocess.DEVNULL)
        # The demo signs every past note; leave the last week's open, as on a working day, so saves can happen.
        subprocess.run([sys.executable, "-c", UNSIGN], env=env, cwd=ROOT, check=True)
        port = free_port()
        log = open(folder / "gunicorn.log", "w")
        server = subprocess.Popen(
            [str(BIN / "gunicorn"), "--workers", str(args.workers), "--bind", f"127.0.0.1:{port}",
             "--timeout", "60", "facilitator:create_app()"], env=env, cwd=folder, stdout=log, stderr=log)
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                urllib.request.urlopen(base + "/health", timeout=2).read()
                break
            except OSError:
                time.sleep(0.1)
        results: dict = defaultdict(list)
        lock = threading.Lock()
        scout = Client(base, results, lock, args.timeout)
        _, page = scout.request("sign-in form", "/login")
        scout.request("sign-in", "/login", [("email", DIRECTOR), ("password", PASSWORD), ("csrf_token", csrf(page))])
        groups = sorted(set(re.findall(r'href="(/groups/\d+)"', scout.request("groups", "/groups/")[1])))
        meetings = []
        for group in groups:  # past meetings whose attendance can be saved, one per client where there are enough
            html = scout.request("group", group)[1]
            meetings += [m for m in re.findall(r'href="(/groups/\d+/meetings/[^"]+)"', html) if m not in meetings]
        open_ones = []
        for m in meetings:
            html = scout.request("meeting", m)[1]
            if 'id="attendance-form"' in html:
                open_ones.append(m)
                sheet = re.search(r'href="(/documents/worksheet/[^"]+)"', html)
                if sheet:  # the walk asks for worksheets already printed once (the cache holds them)
                    scout.request("worksheet PDF", sheet.group(1).replace("&amp;", "&"))
        meetings = open_ones or meetings
        # One client alone first: each page's p50 against /health's on the same server, no queueing.
        walk_signed_in(scout, True, meetings[0], {"stop": time.perf_counter() + 2})  # warm every worker's caches
        results.clear()
        quiet = {"stop": time.perf_counter() + args.quiet_seconds}
        walk_signed_in(scout, True, meetings[0], quiet)
        print_table("one client alone (the floor and the ratios)", results, time.perf_counter() - quiet["stop"]
                    + args.quiet_seconds)
        results.clear()
        load_before = os.getloadavg()
        barrier = threading.Barrier(args.clients + 1)
        run = {"stop": 0.0}  # set once everyone has signed in
        threads = []
        for n in range(args.clients):
            director = n % 5 == 4  # one in five clients is the director, who also opens the dashboard
            email = DIRECTOR if director else FACILITATORS[n % len(FACILITATORS)]
            client = Client(base, results, lock, args.timeout)
            threads.append(threading.Thread(target=walk, daemon=True, args=(
                client, email, director, meetings[n % len(meetings)], run, barrier)))
        for thread in threads:
            thread.start()
        # Sign-ins first (not timed as load); the walk starts when everyone is in.
        while barrier.n_waiting < args.clients and any(t.is_alive() for t in threads):
            time.sleep(0.05)
        sign_ins = list(results["sign-in"])
        results.clear()
        run["stop"] = time.perf_counter() + args.seconds
        started = time.perf_counter()
        barrier.wait()
        for thread in threads:
            thread.join(args.seconds + args.timeout + 5)
        elapsed = time.perf_counter() - started
        load_after = os.getloadavg()
        report(results, elapsed, args, sign_ins, load_before, load_after)
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(folder, ignore_errors=True)


def print_table(title: str, results: dict, elapsed: float) -> None:
    """Requests, p50, p95, p99 per page and each p50 as a multiple of /health's, then the total."""
    floor = statistics.median(results["health"]) if results.get("health") else None
    print(f"{title}:")
    print(f"  {'page':16s} {'requests':>8s} {'p50 ms':>8s} {'p95 ms':>8s} {'p99 ms':>8s} {'p50 / health':>12s}")
    for page in ("health", "today", "meeting", "save attendance", "participant", "worksheet PDF", "dashboard"):
        times = results.get(page)
        if not times:
            continue
        p50 = statistics.median(times)
        print(f"  {page:16s} {len(times):8d} {p50 * 1000:8.1f} {percentile(times, 0.95) * 1000:8.1f} "
              f"{percentile(times, 0.99) * 1000:8.1f} {p50 / floor if floor else 0:11.1f}x")
    total = sum(len(v) for k, v in results.items() if k != "errors")
    print(f"  total {total} requests in {elapsed:.1f} s: {total / elapsed:.1f} requests/s; "
          f"errors {len(results.get('errors', []))}")
    for page, status, path in results.get("errors", [])[:10]:
        print(f"    error: {page} {status} {path}")


def report(results: dict, elapsed: float, args, sign_ins: list[float], before: tuple, after: tuple) -> None:
    """Print the load run's figures."""
    database = "PostgreSQL" if args.database_url else "SQLite"
    print(f"{args.clients} clients, {args.seconds:.0f} s, gunicorn {args.workers} workers, {database}, "
          f"{os.cpu_count()} CPUs; load average {before[0]:.2f} before, {after[0]:.2f} after")
    if sign_ins:
        print(f"  sign-ins (before the timed walk): {len(sign_ins)}, p50 {statistics.median(sign_ins) * 1000:.0f} ms")
    print_table(f"{args.clients} clients at once", results, elapsed)


if __name__ == "__main__":
    main()
