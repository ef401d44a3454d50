"""Job states in the queue's storage: judged by the storage's clock (not a frozen or faked process
clock), lost jobs put back on the queue, expired files forgotten, and where the queue lives."""

from __future__ import annotations

import os
import socket
from datetime import timedelta

import pytest
import time_machine

from facilitator import clock
from facilitator.documents import jobs
from facilitator.queue import queue_for, queue_url

JOB = "ab" * 32


@pytest.fixture
def queue(app, tmp_path, monkeypatch):
    """A SQLite queue of the test's own, with no worker: tasks stay pending."""
    monkeypatch.setitem(app.config, "QUEUE_URL", f"sqlite:///{tmp_path}/queue.sqlite3")
    return queue_for(app)


def _running(queue, **changes):
    state = {"id": JOB, "status": "running", "done": 3, "total": 40, "personal": True, "participant_ids": [1],
             "worker": f"{socket.gethostname()}:{os.getpid()}", "pid": os.getpid(), "heartbeat": queue.now(),
             "queued_at": queue.now(), "attempt": 1, **changes}
    queue.huey.put(f"job:{JOB}", state)
    return state


def test_the_storage_clock_ignores_the_process_clock(queue):
    before = queue.now()
    for shift in (timedelta(days=20 * 365), -timedelta(days=20 * 365)):
        with time_machine.travel(clock.utc_now() + shift):
            assert abs(queue.now() - before) < 60, "the queue's clock is the storage's, not this process's"
            _running(queue)
            assert jobs.reap(queue) == [], "a job that beat just now, in a live process, is left alone"


def test_a_running_job_of_a_dead_process_or_a_silent_machine_is_put_back(queue):
    _running(queue, worker=f"{socket.gethostname()}:999999999")  # no such process on this host
    assert jobs.reap(queue) == [JOB]
    state = jobs.read_state(queue, JOB)
    assert state["status"] == "queued" and queue.huey.pending_count() == 1
    _running(queue, worker="another-machine:12", heartbeat=queue.now() - 30)
    assert jobs.reap(queue) == [], "another machine's job, quiet for less than STALE_SECONDS"
    _running(queue, worker="another-machine:12", heartbeat=queue.now() - jobs.STALE_SECONDS - 5)
    assert jobs.reap(queue) == [JOB]


def test_a_queued_job_missing_from_the_queue_is_put_back(queue):
    _running(queue, status="queued", worker=None, queued_at=queue.now() - jobs.STALE_SECONDS - 5)
    assert jobs.reap(queue) == [JOB], "taken off the queue by a worker that died before it started"
    assert jobs.reap(queue) == [], "now waiting in the queue"


def test_finished_personal_files_are_forgotten_after_their_life(queue):
    _running(queue, status="done", finished_at=queue.now())
    queue.files.put(f"pdf:{JOB}", b"%PDF health data")
    jobs.reap(queue, personal_seconds=3600)
    assert jobs.document(queue, jobs.read_state(queue, JOB), 3600) == b"%PDF health data"
    _running(queue, status="done", finished_at=queue.now() - 3601)
    assert jobs.document(queue, jobs.read_state(queue, JOB), 3600) is None, "expired: never served"
    jobs.reap(queue, personal_seconds=3600)
    assert jobs.read_state(queue, JOB) is None and queue.files.get(f"pdf:{JOB}", peek=True) is None


def test_only_job_ids_are_looked_up(queue):
    assert jobs.read_state(queue, "../../etc/passwd") is None
    assert jobs.read_state(queue, JOB.upper()) is None


def test_where_the_queue_lives(app, monkeypatch):
    monkeypatch.setitem(app.config, "TESTING", False)
    monkeypatch.setitem(app.config, "QUEUE_URL", None)
    monkeypatch.setitem(app.config, "REDIS_URL", None)
    assert queue_url(app) == f"sqlite:///{app.instance_path}/queue.sqlite3", "one machine: the instance folder"
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://cache:6379/1")
    assert queue_url(app) == "redis://cache:6379/1"
    monkeypatch.setitem(app.config, "QUEUE_URL", "redis://queue:6379/0")
    assert queue_url(app) == "redis://queue:6379/0", "QUEUE_URL wins"
    monkeypatch.setitem(app.config, "QUEUE_URL", "amqp://broker")
    with pytest.raises(ValueError, match="QUEUE_URL must start with"):
        queue_for(app)
