"""Helpers (no tests) for the tests that run a real `facilitator worker` and a real redis-server:
each is started on 127.0.0.1 in a temporary folder by the test and stopped after, in bounded time."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

FACILITATOR = str(Path(sys.executable).with_name("facilitator"))
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def worker_env(folder: Path, queue_url: str, **extra: str) -> dict[str, str]:
    """The environment of a worker process with its own instance folder and the given queue."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "QUEUE_", "REDIS_"))}
    env.update(FACILITATOR_INSTANCE=str(folder), QUEUE_URL=queue_url, SECRET_KEY="worker-tests",
               DATABASE_URL=f"sqlite:///{folder}/unused.sqlite", PYTHONUNBUFFERED="1", **extra)
    return env


def start_worker(folder: Path, queue_url: str, workers: int = 1) -> subprocess.Popen:
    """`facilitator worker` in a session of its own (so that stopping it also stops its processes)."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"worker-{time.monotonic_ns()}.log", "wb") as log:  # the child keeps its own copy
        return subprocess.Popen([FACILITATOR, "worker", "--workers", str(workers)], env=worker_env(folder, queue_url),
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    """Stop a process started in its own session, and everything it started, within ten seconds."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, sig)
            process.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)  # a leftover render process, if any
    except ProcessLookupError:
        pass
    process.wait(timeout=10)


def worker_log(folder: Path) -> str:
    """What the workers started in this folder wrote (for a failing assertion's message)."""
    return "\n".join(p.read_text(errors="replace")[-3000:] for p in sorted(folder.glob("worker-*.log")))


def free_port() -> int:
    """A TCP port of 127.0.0.1 free at this moment."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def until(condition: Callable[[], object], seconds: float, what: str, poll: float = 0.1) -> object:
    """Wait until condition() is true (its value), or fail saying what did not happen in time."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(poll)
    raise AssertionError(f"{what} (waited {seconds} s)")


@contextmanager
def redis_server(folder: Path) -> Iterator[str]:
    """A throwaway redis-server on a free port of 127.0.0.1 (no persistence); its redis:// URL."""
    if not os.path.exists(REDIS_SERVER):
        pytest.skip("redis-server is not installed (Debian package redis-server)")
    import redis

    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    process = subprocess.Popen([REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder),
                                "--save", "", "--appendonly", "no", "--protected-mode", "yes"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url)

        def answers() -> bool:
            try:
                return bool(client.ping())
            except redis.ConnectionError:
                return False

        until(answers, 10, "redis-server did not start")
        yield url
    finally:
        stop(process)
