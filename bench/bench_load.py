"""A bounded load test: N clients walk a facilitator's day against gunicorn, on the demo program.

Run on PostgreSQL (a throwaway server, started and removed by the CI script):
    bash .ci/with-postgres.sh .venv/bin/python bench/bench_load.py --clients 50 --seconds 30
or on SQLite in a temporary folder: .venv/bin/python bench/bench_load.py

gunicorn runs with the deployment's gunicorn.conf.py (--workers, --threads and --worker-class override
it). One sign-in per account (argon2 costs about 0.3 s of server CPU a sign-in), its cookies shared by
that account's clients like tabs of one browser; then each client loops on one kept-alive connection:
today, a meeting page, a save of that meeting's attendance changing one person's minutes (every third loop), a participant, a
worksheet PDF printed before the walk (served from the document cache), the dashboard (the clients
signed in as the director), and the bare /health as the floor. Prints requests/s, p50, p95 and p99 per page, each page's p50 as
a multiple of /health's p50 in the same run, errors (any 5xx, a refused request or a timeout), the
load average, and the CPU the server, PostgreSQL (when it runs on this machine) and this client used
during the walk: the client shares the cores with the server, so its own cost is shown, and the
requests/s the server and database alone would sustain on these cores. Figures, not a pass or fail.
"""

from __future__ import annotations

import argparse
import html
import http.client
import os
import re
import runpy
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections import defaultdict
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


FORM = re.compile(r'<form\b[^>]*\bid="(?P<id>[^"]*)"[^>]*>(?P<body>.*?)</form>', re.S)
TAG = re.compile(r'<(?P<tag>input|select|textarea)\b(?P<attrs>[^>]*)>', re.S)
ATTR = re.compile(r'([\w:-]+)(?:\s*=\s*"([^"]*)")?')
OPTION = re.compile(r'<option\b([^>]*)>', re.S)


def _attrs(text: str) -> dict[str, str]:
    return {name: html.unescape(value or "") for name, value in ATTR.findall(text)}


def form_fields(page: str, form_id: str) -> list[tuple[str, str]]:
    """The fields a browser would post from the form with this id: inputs, checked boxes, the selected
    (else first) option of each select, text areas. Regular expressions, not an HTML parser: the
    client must cost little CPU next to the server on the same cores."""
    body = next((m.group("body") for m in FORM.finditer(page) if m.group("id") == form_id), "")
    fields = []
    for tag in TAG.finditer(body):
        a = _attrs(tag.group("attrs"))
        name = a.get("name")
        if not name:
            continue
        if tag.group("tag") == "input":
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                continue
            fields.append((name, a.get("value") or ("y" if a.get("type") == "checkbox" else "")))
        elif tag.group("tag") == "select":
            options = [_attrs(o) for o in OPTION.findall(body[tag.end():body.index("</select>", tag.end())])]
            chosen = next((o for o in options if "selected" in o), options[0] if options else None)
            if chosen is not None:
                fields.append((name, chosen.get("value", "")))
        else:
            fields.append((name, html.unescape(body[tag.end():body.index("</textarea>", tag.end())])))
    return fields


class Client:
    """One person's browser: one kept-alive connection, a cookie jar, every request timed and recorded
    under a page name. http.client, not urllib: no new connection per request and little CPU."""

    def __init__(self, host: str, port: int, results: dict, lock: threading.Lock, timeout: float) -> None:
        self.host, self.port, self.results, self.lock, self.timeout = host, port, results, lock, timeout
        self.cookies: dict[str, str] = {}
        self.connection: http.client.HTTPConnection | None = None

    def _exchange(self, method: str, path: str, body: bytes | None) -> tuple[int, dict, bytes]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            reused = self.connection is not None
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self.connection.request(method, path, body=body, headers=headers)
                answer = self.connection.getresponse()
                raw = answer.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.connection.close()
                self.connection = None
                if not reused or attempt == 2:  # a kept-alive connection the server closed: once more on a new one
                    raise
            except (OSError, http.client.HTTPException):
                self.connection.close()  # a timeout or a broken answer: the next request starts afresh
                self.connection = None
                raise
        for cookie in answer.headers.get_all("Set-Cookie") or ():
            pair, *attributes = cookie.split(";")
            name, _, value = pair.partition("=")
            gone = any(a.strip().lower() in ("max-age=0", "max-age=-1") or
                       (a.strip().lower().startswith("expires=") and "1970" in a) for a in attributes)
            if gone:  # the server deleted it (sign-out, a cleared remember-me)
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value.strip()
        if answer.will_close:
            self.connection.close()
            self.connection = None
        return answer.status, answer.headers, raw

    def request(self, page: str, path: str, data: list[tuple[str, str]] | None = None,
                ok: tuple[int, ...] = (200,)) -> tuple[int, str]:
        """Send a request; record its time, and an error for any status outside `ok` (redirects are followed)."""
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        started = time.perf_counter()
        status, text, method = 0, "", "POST" if body is not None else "GET"
        followed = 0
        try:
            for _ in range(5):
                status, headers, raw = self._exchange(method, path, body)
                if status not in (301, 302, 303, 307, 308):
                    break
                followed += 1
                path = urllib.parse.urlsplit(headers["Location"])._replace(scheme="", netloc="").geturl()
                if status in (301, 302, 303):
                    method, body = "GET", None
        except (OSError, http.client.HTTPException) as exc:  # refused, reset, timed out, a broken answer
            status, raw = 0, str(exc).encode()
        elapsed = time.perf_counter() - started
        if raw[:4] != b"%PDF":
            text = raw.decode("utf-8", "replace")
        with self.lock:
            self.results[page].append(elapsed)
            # A save answers with a redirect to the meeting page, which the browser then asks for: two
            # requests the server answers, timed together as the save.
            self.results[FOLLOWED].extend([0.0] * followed)
            if status not in ok:
                self.results["errors"].append((page, status, path))
        return status, text


def csrf(page: str) -> str:
    """The CSRF token of a rendered form."""
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page)
    return found.group(1) if found else ""


def sign_in(client: Client, email: str) -> None:
    """Sign in (argon2: about 0.3 s of server CPU each)."""
    _, page = client.request("sign-in form", "/login")
    client.request("sign-in", "/login", [("email", email), ("password", PASSWORD), ("csrf_token", csrf(page))])


# Each meeting's worksheet as its page linked it before the walk. A save of a past meeting's
# attendance makes it held, which moves the rotation of the meetings after it to other modules, so
# the links on their pages change during the walk; the mix asks for a worksheet printed before.
SHEETS: dict[str, str] = {}
FOLLOWED = "redirects followed"


def corrected(fields: list[tuple[str, str]], turn: int) -> list[tuple[str, str]]:
    """The attendance form with one person's minutes changed by one, a different person each turn: a save
    changes a line, as a facilitator's save does (a form saved again unchanged would change no row)."""
    minutes = [n for n, (name, _) in enumerate(fields) if re.fullmatch(r"rows-\d+-minutes", name)]
    if not minutes:
        return fields
    n = minutes[turn % len(minutes)]
    name, value = fields[n]
    number = int(value or 0)
    return [*fields[:n], (name, str(number - 1 if number > 0 else number + 1)), *fields[n + 1:]]


def walk(client: Client, director: bool, meeting: str, run: dict, barrier: threading.Barrier) -> None:
    """Wait for everyone, then walk the day's pages until run["stop"]."""
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
            client.request("save attendance", action, corrected(form_fields(html, "attendance-form"), loop // 3),
                           ok=(200, 409))
        people = re.findall(r'href="(/participants/\d+)"', html) or re.findall(r'href="(/participants/\d+)"', today)
        if people:
            client.request("participant", people[loop % len(people)])
        if SHEETS.get(meeting):
            client.request("worksheet PDF", SHEETS[meeting])
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


TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()  # after the command name, which may hold spaces


def tree_cpu(root: int | None) -> float:
    """CPU seconds used by a process and all its descendants, live or ended (Linux /proc): the root's own
    and its reaped children's times, plus each live descendant's own time and its reaped children's."""
    if root is None:
        return 0.0
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parents[int(entry)] = int(_stat(int(entry))[1])
            except (OSError, IndexError, ValueError):
                continue
    family, grew = {root}, True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in family} - family
        family |= more
        grew = bool(more)
    total = 0
    for pid in family:
        try:
            fields = _stat(pid)
        except OSError:
            continue  # ended between the two reads: its parent's reaped-children time holds it
        total += sum(int(v) for v in fields[11:15])  # utime, stime, cutime, cstime
    return total / TICKS


def postgres_pid(database_url: str) -> int | None:
    """The PostgreSQL server listening on the URL's port on this machine, if it runs here."""
    port = urllib.parse.urlsplit(database_url.replace("postgresql+psycopg", "postgresql")).port or 5432
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"postgres") and b"-p" in argv and str(port).encode() in argv:
            return int(entry)
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: gunicorn.conf.py's)")
    parser.add_argument("--threads", type=int, help="threads per worker (default: gunicorn.conf.py's)")
    parser.add_argument("--worker-class", help="gthread or sync (default: gunicorn.conf.py's); sync needs "
                        "--threads 1, as gunicorn runs gthread whenever threads > 1")
    parser.add_argument("--database-url", default=os.environ.get("TEST_DATABASE_URL", ""),
                        help="PostgreSQL URL (default: TEST_DATABASE_URL, else SQLite in a temporary folder)")
    parser.add_argument("--timeout", type=float, default=30)
    parser.add_argument("--quiet-seconds", type=float, default=10, help="one client alone first, for the ratios")
    parser.add_argument("--warmup-seconds", type=float, default=5, help="all clients walking, not counted")
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
        # The deployment's own settings (gunicorn.conf.py), with only what the command line overrides.
        command = [str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "--bind", f"127.0.0.1:{port}"]
        for option, value in (("--workers", args.workers), ("--threads", args.threads),
                              ("--worker-class", args.worker_class)):
            if value is not None:
                command += [option, str(value)]
        server = subprocess.Popen(command, env=env, cwd=folder, stdout=log, stderr=log)
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2).read()
                break
            except OSError:
                time.sleep(0.1)
        results: dict = defaultdict(list)
        lock = threading.Lock()
        scout = Client("127.0.0.1", port, results, lock, args.timeout)
        sign_in(scout, DIRECTOR)
        groups = sorted(set(re.findall(r'href="(/groups/\d+)"', scout.request("groups", "/groups/")[1])))
        meetings = []
        for group in groups:  # past meetings whose attendance can be saved, one per client where there are enough
            page = scout.request("group", group)[1]
            meetings += [m for m in re.findall(r'href="(/groups/\d+/meetings/[^"]+)"', page) if m not in meetings]
        open_ones = []
        for m in meetings:
            page = scout.request("meeting", m)[1]
            if 'id="attendance-form"' in page:
                open_ones.append(m)
                sheet = re.search(r'href="(/documents/worksheet/[^"]+)"', page)
                if sheet:  # printed once now: the walk asks for these, which the document cache holds
                    SHEETS[m] = sheet.group(1).replace("&amp;", "&")
                    scout.request("worksheet PDF", SHEETS[m])
        meetings = open_ones or meetings
        # One client alone first: each page's p50 against /health's on the same server, no queueing.
        walk_signed_in(scout, True, meetings[0], {"stop": time.perf_counter() + 2})  # warm every worker's caches
        results.clear()
        quiet = {"stop": time.perf_counter() + args.quiet_seconds}
        walk_signed_in(scout, True, meetings[0], quiet)
        print_table("one client alone (the floor and the ratios)", results, time.perf_counter() - quiet["stop"]
                    + args.quiet_seconds)
        results.clear()
        # One sign-in per account, its cookies copied to each of that account's clients (tabs of one
        # browser): 50 argon2 hashes would cost the server 15 s of CPU before the walk, and are not the mix.
        accounts = {}
        for email in (DIRECTOR, *FACILITATORS):
            accounts[email] = Client("127.0.0.1", port, results, lock, args.timeout)
            sign_in(accounts[email], email)
        sign_ins = list(results["sign-in"])
        results.clear()
        barrier = threading.Barrier(args.clients + 1)
        run = {"stop": 0.0}  # set when the walk starts
        threads = []
        for n in range(args.clients):
            director = n % 5 == 4  # one in five clients is the director, who also opens the dashboard
            client = Client("127.0.0.1", port, results, lock, args.timeout)
            client.cookies = dict(accounts[DIRECTOR if director else FACILITATORS[n % len(FACILITATORS)]].cookies)
            threads.append(threading.Thread(target=walk, daemon=True, args=(
                client, director, meetings[n % len(meetings)], run, barrier)))
        for thread in threads:
            thread.start()
        while barrier.n_waiting < args.clients and any(t.is_alive() for t in threads):
            time.sleep(0.05)
        database = postgres_pid(args.database_url) if args.database_url else None
        run["stop"] = float("inf")
        barrier.wait()
        # A warm-up first, not counted: every worker builds its caches (templates, calendars, progress)
        # on its first requests; the figures are of the steady state that follows.
        time.sleep(args.warmup_seconds)
        with lock:
            warmup_errors = list(results.get("errors", []))
            results.clear()
            load_before = os.getloadavg()
            cpu_before = (tree_cpu(server.pid), tree_cpu(database), time.process_time())
            started = time.perf_counter()
            run["stop"] = started + args.seconds
        for thread in threads:
            thread.join(args.seconds + args.timeout + 5)
        elapsed = time.perf_counter() - started
        cpu = [after - before for after, before in zip(
            (tree_cpu(server.pid), tree_cpu(database), time.process_time()), cpu_before, strict=True)]
        load_after = os.getloadavg()
        report(results, elapsed, args, sign_ins, load_before, load_after, cpu, database is not None,
               _settings(folder / "gunicorn.log"), warmup_errors)
        if results.get("errors") or warmup_errors:
            print_causes(folder / "gunicorn.log")
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(folder, ignore_errors=True)


def print_causes(log: Path, most: int = 5) -> None:
    """The last lines of the server's tracebacks and timeouts (the log names no participant data)."""
    lines = log.read_text(errors="replace").splitlines()
    causes = [line for n, line in enumerate(lines)
              if "WORKER TIMEOUT" in line or (line and not line.startswith((" ", "Traceback", "["))
                                             and n > 0 and lines[n - 1].startswith("    "))]
    if causes:
        print("  causes in the server log (last of each traceback):")
        for line in causes[-most:]:
            print(f"    {line[:200]}")


def _settings(log: Path) -> str:
    """The workers, threads and worker class gunicorn reports starting with."""
    text = log.read_text(errors="replace")
    kind = re.search(r"Using worker: (\w+)", text)
    workers = len(set(re.findall(r"Booting worker with pid: (\d+)", text)))
    return f"gunicorn {workers} workers ({kind.group(1) if kind else '?'})"


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
    pages = total - len(results.get("health", []))
    print(f"  total {total} requests in {elapsed:.1f} s: {total / elapsed:.1f} requests/s; "
          f"errors {len(results.get('errors', []))} ({len(results.get(FOLLOWED, []))} of the requests: the "
          f"meeting page a save redirects to, timed with the save)")
    # The walk asks for /health once a loop to measure the floor; the facilitator's mix is the rest.
    print(f"  the facilitator's pages alone (without /health): {pages} requests, {pages / elapsed:.1f} requests/s")
    for page, status, path in results.get("errors", [])[:10]:
        print(f"    error: {page} {status} {path}")


def _configured_threads() -> int:
    """The threads a process that gunicorn.conf.py gives (GUNICORN_THREADS, else its default)."""
    return int(runpy.run_path(str(ROOT / "gunicorn.conf.py"))["threads"])


def report(results: dict, elapsed: float, args, sign_ins: list[float], before: tuple, after: tuple,
           cpu: list[float], database_measured: bool, settings: str, warmup_errors: list) -> None:
    """Print the load run's figures, and the CPU that the server, the database and this client used."""
    database = "PostgreSQL" if args.database_url else "SQLite"
    threads = f" x {args.threads or _configured_threads()} threads"
    print(f"{args.clients} clients, {args.seconds:.0f} s, {settings}{threads}, {database}, "
          f"{os.cpu_count()} CPUs; load average {before[0]:.2f} before, {after[0]:.2f} after")
    if sign_ins:
        print(f"  sign-ins (before the timed walk, one per account): {len(sign_ins)}, "
              f"p50 {statistics.median(sign_ins) * 1000:.0f} ms")
    print(f"  warm-up: {args.warmup_seconds:.0f} s of the same walk, not counted; errors {len(warmup_errors)}")
    for page, status, path in warmup_errors[:5]:
        print(f"    error: {page} {status} {path}")
    print_table(f"{args.clients} clients at once", results, elapsed)
    total = sum(len(v) for k, v in results.items() if k != "errors")
    if not total:
        return
    server, db_cpu, client = cpu
    per = [x * 1000 / total for x in cpu]
    print(f"  CPU during the walk: server {server:.1f} s ({per[0]:.1f} ms a request)"
          + (f", PostgreSQL {db_cpu:.1f} s ({per[1]:.1f} ms)" if database_measured else "")
          + f", this client {client:.1f} s ({per[2]:.1f} ms); "
          f"{os.cpu_count()} CPUs x {elapsed:.1f} s = {(os.cpu_count() or 1) * elapsed:.1f} CPU-s in all")
    served = server + db_cpu
    print(f"  server and database alone would serve about {(os.cpu_count() or 1) * total / served:.0f} requests/s "
          f"on these {os.cpu_count()} CPUs if nothing else ran on them")


if __name__ == "__main__":
    main()
