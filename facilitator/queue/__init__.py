"""The task queue: Huey, with one code path for one machine and for many.

On one machine the queue is a SQLite file in the instance folder (SqliteHuey); with QUEUE_URL or
REDIS_URL set to redis://host:6379/0 it is Redis (RedisHuey), shared by every app server and worker.
The same storage holds the state of each job and, apart from it (a second Huey namespace, so that
listing jobs never loads a PDF), the files: a render's input and the finished document.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey
from huey.storage import RedisStorage
from redis import ConnectionPool

NAME = "facilitator"
QUEUE_FILE = "queue.sqlite3"


@dataclass
class Queue:
    """The app's queue: Huey for tasks and job states, a second namespace for files, and the tasks."""

    url: str
    huey: Huey
    files: Huey
    tasks: dict[str, Any]

    def now(self) -> float:
        """The storage's own clock (Redis TIME, SQLite's 'now'), in seconds since 1970.

        Every process that reads or writes a job's times asks the same clock: app servers and
        workers may run on other machines, and the test process's clock is frozen."""
        storage = self.huey.storage
        if isinstance(storage, RedisStorage):
            seconds, micros = storage.conn.time()
            return seconds + micros / 1e6
        if not hasattr(storage, "sql"):  # memory: the process's clock is the only one
            return time.time()
        rows = storage.sql("select (julianday('now') - 2440587.5) * 86400.0", results=True)
        return float(rows[0][0])


def queue_url(app: Flask) -> str:
    """Where the queue lives: QUEUE_URL, else a redis:// REDIS_URL, else SQLite in the instance folder."""
    url = app.config.get("QUEUE_URL") or ""
    redis_url = app.config.get("REDIS_URL") or ""
    if not url and redis_url.startswith(("redis://", "rediss://", "unix://")):
        url = redis_url
    if url:
        return url
    if app.testing:  # a test app without a queue of its own writes nothing (never the checkout's instance/)
        return "memory:"
    return "sqlite:///" + str(Path(app.instance_path) / QUEUE_FILE)


def _huey(url: str, name: str) -> Huey:
    if url.startswith(("redis://", "rediss://", "unix://")):
        # Bounded waits: a Redis that does not answer makes /health say so in seconds, never hang.
        # socket_timeout is above the consumer's blocking read (1 s).
        pool = ConnectionPool.from_url(url, socket_connect_timeout=3, socket_timeout=10, health_check_interval=30)
        return RedisHuey(name, connection_pool=pool, results=False)
    if url == "memory:":
        return MemoryHuey(name, results=False)  # this process only: tests that run no job
    if not url.startswith("sqlite:///"):
        raise ValueError(f"QUEUE_URL must start with redis://, rediss:// or sqlite:///, not {url.split(':')[0]}:")
    path = Path(url[len("sqlite:///"):])
    path.parent.mkdir(parents=True, exist_ok=True)
    # timeout: a writer waits this long for another (web, worker) instead of failing at once.
    return SqliteHuey(name, filename=str(path), results=False, timeout=30)


def queue_for(app: Flask | None = None) -> Queue:
    """The app's queue (built once per app and URL), with the tasks of every area registered."""
    app = app or current_app._get_current_object()
    url = queue_url(app)
    built = app.extensions.setdefault("facilitator.queue", {})
    if url not in built:
        queue = Queue(url=url, huey=_huey(url, NAME), files=_huey(url, f"{NAME}-files"), tasks={})
        from ..documents import jobs  # the areas with background work register their tasks

        jobs.register(queue, app)
        built[url] = queue
    return built[url]


def queue_ping(app: Flask | None = None) -> dict[str, Any]:
    """For /health: whether the queue's storage answers, how many tasks wait, and where it lives."""
    app = app or current_app._get_current_object()
    try:
        queue = queue_for(app)
        pending = queue.huey.pending_count()
        queue.now()
    except Exception as exc:  # noqa: BLE001  (any storage failure is "not ready", said in one line)
        return {"ok": False, "kind": _kind(app), "error": type(exc).__name__}
    return {"ok": True, "kind": _kind(app), "pending": pending}


def _kind(app: Flask) -> str:
    return "redis" if queue_url(app).startswith(("redis", "unix")) else "sqlite"


def cpu_count() -> int:
    """The cores this process may use (a container's or a taskset's limit, not the machine's)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not Linux
        return os.cpu_count() or 1
