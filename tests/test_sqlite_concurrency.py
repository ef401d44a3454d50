"""The embedded SQLite database under a clinic's load: 50 people at once for 20 s on gunicorn (2
workers x 4 threads), reading pages that audit every record they show (today, meeting, participant)
and writing notes (an addendum to a past meeting's locked record), and not one request fails: no 5xx, no "database is locked" in the log.
Reads begin deferred (WAL: they never wait), writes begin as writers, and a read's audit is written
at the end of the request in a short writer transaction of its own (facilitator/db_setup.py)."""

from __future__ import annotations

import random
import statistics
import threading
import time
from collections import defaultdict

import pytest

from .serving import SQLITE_RUN_ONLY, Browser, demo_instance, form, gunicorn, instance_env, links

pytestmark = [pytest.mark.undated, SQLITE_RUN_ONLY]  # real clock, its own server and database

CLIENTS = 50
SECONDS = 20
SIGNING_IN = 5  # of the clients sign in while the others work


def _targets(base: str) -> dict[str, list[str]]:
    """Pages of the demo program a facilitator opens, and past meetings (locked: they take addenda)."""
    staff = Browser(base)
    staff.sign_in("facilitator@demo.example")
    _, today = staff.request("/today")
    _, people = staff.request("/participants/")
    _, index = staff.request("/groups/")
    groups = links(index, r"/groups/\d+")
    meetings: list[str] = []
    for group in groups:
        _, page = staff.request(group)
        meetings += links(page, r"/groups/\d+/meetings/[0-9-]+/\d{4}/[A-Z]+")
    past = []
    for meeting in meetings:
        status, page = staff.request(meeting)
        if status == 200 and form(page, "/addendum"):
            past.append(meeting)
        if len(past) == 6:
            break
    return {"participants": links(today + people, r"/participants/\d+"), "meetings": meetings, "past": past}


def _walk(base: str, who: Browser | str, targets: dict, until: float, times: dict, errors: list, seed: int) -> None:
    """One person (a tab of a signed-in browser, or someone signing in now): open pages and write notes
    until the time is up."""
    pick = random.Random(seed)
    if isinstance(who, str):
        me = Browser(base)
        started = time.perf_counter()
        try:
            me.sign_in(who)
        except Exception as error:  # noqa: BLE001  (a failed sign-in is an error of the run)
            errors.append(f"sign-in {who}: {error}")
            return
        times["sign-in"].append(time.perf_counter() - started)
    else:
        me = Browser(base, like=who)
    while time.monotonic() < until:
        kind = pick.choices(["today", "meeting", "participant", "note"], weights=[2, 3, 3, 2])[0]
        started = time.perf_counter()
        if kind == "today":
            status, _ = me.request("/today")
        elif kind == "participant":
            status, _ = me.request(pick.choice(targets["participants"]))
        elif kind == "meeting":
            status, _ = me.request(pick.choice(targets["meetings"]))
        else:
            status, page = me.request(pick.choice(targets["past"]))
            found = form(page, "/addendum") if status == 200 else None
            if found:
                fields = [(name, value.strip() or "Checked with the group lead after the meeting.") for name, value in found[1]]
                status, _ = me.request(found[0], fields)
        times[kind].append(time.perf_counter() - started)
        if status != 200:
            errors.append(f"{kind}: {status}")


def run_load(base: str, clients: int = CLIENTS, seconds: float = SECONDS) -> tuple[dict, list]:
    """Drive the server with `clients` people for `seconds`; the times per kind of request and the errors."""
    targets = _targets(base)
    assert targets["participants"] and targets["meetings"] and targets["past"], targets
    times: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    emails = ["facilitator@demo.example", "rosa@demo.example", "director@demo.example"]
    # Most clients are tabs of three signed-in people (50 sign-ins would spend the run hashing
    # passwords: argon2id takes 64 MiB and most of a second each); a few sign in during the load.
    signed_in = []
    for email in emails:
        signed_in.append(Browser(base))
        signed_in[-1].sign_in(email)
    until = time.monotonic() + seconds
    people = [threading.Thread(target=_walk, args=(base, emails[n % 3] if n < SIGNING_IN else signed_in[n % 3],
                                                   targets, until, times, errors, n))
              for n in range(clients)]
    for person in people:
        person.start()
    for person in people:
        person.join(timeout=seconds + 120)
    assert not any(person.is_alive() for person in people), "a client never finished"
    return times, errors


def summary(times: dict) -> str:
    """p50 and p99 in milliseconds, per kind and over all requests."""
    def line(name: str, values: list[float]) -> str:
        cuts = statistics.quantiles(values, n=100) if len(values) > 1 else values * 99
        return f"{name}: n={len(values)} p50={cuts[49] * 1000:.0f} ms p99={cuts[98] * 1000:.0f} ms"
    every = [t for values in times.values() for t in values]
    return "\n".join([line("all", every)] + [line(kind, values) for kind, values in sorted(times.items())])


def test_fifty_people_at_once_on_sqlite_get_no_errors(tmp_path):
    env = instance_env(tmp_path / "instance", WEB_CONCURRENCY="2", GUNICORN_THREADS="4")
    demo_instance(tmp_path / "instance", env)
    log = tmp_path / "gunicorn.log"
    with gunicorn(env, log) as base:
        times, errors = run_load(base)
    print(summary(times))
    text = log.read_text()
    assert "database is locked" not in text
    assert " 500 " not in text and "Traceback" not in text
    assert errors == []
    assert len(times["note"]) >= 20 and sum(len(v) for v in times.values()) >= 200  # it really ran
