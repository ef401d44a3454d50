"""Long documents (the handbook, big packets) render outside the request, on the task queue (Huey).

`facilitator worker` runs one process per CPU core and a fresh process per render (WeasyPrint's
memory, about 1.3 MB a page, is never given back to the OS, so recycling is the only way to release
it). A job's state (queued, running, done, failed; pages done and expected; who asked) lives in the
queue's storage, and so does the finished file: any app server can answer the status request and
serve the PDF. The job id is the document's cache key, so two people asking for the same handbook
share one render.

Huey takes a task off the queue before running it, so a worker killed mid-render loses the task. The
job's state says it was running, and on which host and process: a worker starting on that host puts
the job back on the queue at once; any worker does so, once a minute, for a job whose heartbeat
stopped for STALE_SECONDS (a machine that went away), or for a queued job no longer in the queue.
"""

from __future__ import annotations

import logging
import os
import re
import resource
import socket
import threading
import time
from typing import TYPE_CHECKING, Any

from huey import crontab

from .catalog import Order
from .service import DEFAULT_PERSONAL_SECONDS, RenderInput, render

if TYPE_CHECKING:
    from flask import Flask

    from ..queue import Queue

log = logging.getLogger("facilitator.documents")

LONG_DOCUMENT_PAGES = 20  # more pages than this: render in a worker, not in the request
HEARTBEAT_SECONDS = 1.0  # a running job writes its progress and a sign of life this often
STALE_SECONDS = 60  # a running job with no sign of life for this long is presumed dead
KEEP_SECONDS = 7 * 86400  # finished blank documents and failed jobs are forgotten after a week
ACTIVE = ("queued", "running")


def is_long(order: Order) -> bool:
    """Whether an order is rendered by a worker rather than in the request."""
    return order.pages > LONG_DOCUMENT_PAGES


def _state_key(job_id: str) -> str:
    return f"job:{job_id}"


def _input_key(job_id: str) -> str:
    return f"input:{job_id}"


def _pdf_key(job_id: str) -> str:
    return f"pdf:{job_id}"


def read_state(queue: Queue, job_id: str) -> dict[str, Any] | None:
    """A job's state (status queued|running|done|failed, pages done and total, who asked), or None."""
    if not re.fullmatch(r"[0-9a-f]{64}", job_id):  # ids are cache keys; anything else is no job
        return None
    return queue.huey.get(_state_key(job_id), peek=True)


def _write(queue: Queue, state: dict[str, Any]) -> None:
    queue.huey.put(_state_key(state["id"]), state)


def document(queue: Queue, state: dict[str, Any], personal_seconds: int = DEFAULT_PERSONAL_SECONDS) -> bytes | None:
    """The finished file of a done job; None if it is not done, or expired (personal: after personal_seconds)."""
    if state["status"] != "done" or _expired(queue, state, personal_seconds):
        return None
    return queue.files.get(_pdf_key(state["id"]), peek=True)


def _expired(queue: Queue, state: dict[str, Any], personal_seconds: int) -> bool:
    life = personal_seconds if state.get("personal") else KEEP_SECONDS
    return queue.now() - state.get("finished_at", 0) > life


def start(order: Order, queue: Queue, *, user_id: int | None = None,
          personal_seconds: int = DEFAULT_PERSONAL_SECONDS) -> dict[str, Any]:
    """Queue an order's render unless it is done or under way already; the job's state."""
    job_id = order.key
    state = read_state(queue, job_id)
    if state and (state["status"] in ACTIVE or (
            state["status"] == "done" and not _expired(queue, state, personal_seconds)
            and queue.files.storage.has_data_for_key(_pdf_key(job_id)))):
        return state
    fresh = {"id": job_id, "status": "queued", "done": 0, "total": order.pages, "error": "",
             "filename": order.filename, "program_id": order.program_id, "user_id": user_id,
             "personal": order.personal, "participant_ids": list(order.participant_ids),
             "queued_at": queue.now(), "attempt": 0}
    queue.files.put(_input_key(job_id), order.build())  # plain picklable data, read by the worker
    if state is None:
        if not queue.huey.put_if_empty(_state_key(job_id), fresh):
            return read_state(queue, job_id) or fresh  # another request started it a moment ago
    else:
        _write(queue, fresh)  # failed or expired: render again
    queue.tasks["render"](job_id)
    return fresh


def wait(queue: Queue, job_id: str, on_progress: Any = None, poll: float = 0.2,
         timeout: float | None = None) -> dict[str, Any]:
    """Block until a job is done or failed (the command line's way); on_progress(state) as it moves."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        state = read_state(queue, job_id)
        if state is None:
            raise RuntimeError(f"job {job_id[:12]} has no state")
        if on_progress:
            on_progress(state)
        if state["status"] not in ACTIVE or (deadline is not None and time.monotonic() > deadline):
            return state
        time.sleep(poll)


# --- in the worker ------------------------------------------------------------------------------

def register(queue: Queue, app: Flask) -> None:
    """Register the render task, the periodic clean-up and the worker start-up hook on the queue."""
    personal_seconds = int(app.config.get("DOCUMENT_PERSONAL_SECONDS", DEFAULT_PERSONAL_SECONDS))

    def render_document(job_id: str) -> None:
        run_job(queue, job_id)

    def reap_jobs() -> None:
        reap(queue, personal_seconds)

    queue.tasks["render"] = queue.huey.task(name="documents.render")(render_document)
    queue.tasks["reap"] = queue.huey.periodic_task(crontab(minute="*"), name="documents.reap")(reap_jobs)


def _me() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _dead(queue: Queue, state: dict[str, Any], now: float) -> bool:
    """A running job whose process is gone (this host) or that gave no sign of life for STALE_SECONDS."""
    host, _, pid = (state.get("worker") or ":").rpartition(":")
    if host == socket.gethostname() and pid.isdigit() and not _alive(int(pid)):
        return True
    return now - state.get("heartbeat", 0) > STALE_SECONDS


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def run_job(queue: Queue, job_id: str) -> None:
    """Render one job's document into the queue's storage, writing progress and a heartbeat."""
    state = read_state(queue, job_id)
    now = queue.now()
    if state is None or not (state["status"] == "queued" or (state["status"] == "running" and _dead(queue, state, now))):
        return  # done, or running elsewhere: a task put back twice renders once
    job: RenderInput | None = queue.files.get(_input_key(job_id), peek=True)
    if job is None:
        state.update(status="failed", error="the render input is missing", finished_at=now)
        _write(queue, state)
        return
    state.update(status="running", worker=_me(), pid=os.getpid(), heartbeat=now, done=0,
                 attempt=state.get("attempt", 0) + 1)
    _write(queue, state)
    lock, stop, started = threading.Lock(), threading.Event(), time.perf_counter()

    def beat() -> None:
        while not stop.wait(HEARTBEAT_SECONDS):
            with lock:
                state["heartbeat"] = queue.now()
                _write(queue, state)

    def progress(page: int) -> None:
        with lock:  # a second layout pass (page references) counts again from 1
            state["done"] = max(state["done"], page)

    beating = threading.Thread(target=beat, name=f"heartbeat-{job_id[:8]}", daemon=True)
    beating.start()
    try:
        data = render(job, progress)
        queue.files.put(_pdf_key(job_id), data)
        queue.files.delete(_input_key(job_id))
        final = {"status": "done", "total": state["done"], "seconds": round(time.perf_counter() - started, 2),
                 "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    except Exception:  # noqa: BLE001  (the state is how the failure reaches the user)
        log.exception("document job %s failed", job_id[:12])
        final = {"status": "failed", "error": "the document could not be rendered"}
    finally:
        stop.set()
        beating.join()
    state.update(final, finished_at=queue.now())
    _write(queue, state)
    log.info("document job %s %s (%s pages)", job_id[:12], state["status"], state["done"])


def reap(queue: Queue, personal_seconds: int = DEFAULT_PERSONAL_SECONDS) -> list[str]:
    """Put lost jobs back on the queue and forget expired ones with their files; the ids put back."""
    now = queue.now()
    states = [queue.huey.serializer.deserialize(raw) for key, raw in queue.huey.all_results().items()
              if key.startswith("job:")]
    waiting = {task.args[0] for task in queue.huey.pending() if task.name.endswith("documents.render")}
    requeued = []
    for state in states:
        status, job_id = state["status"], state["id"]
        lost_running = status == "running" and _dead(queue, state, now)
        lost_queued = status == "queued" and job_id not in waiting and now - state.get("queued_at", 0) > STALE_SECONDS
        if lost_running or lost_queued:
            state.update(status="queued", queued_at=now, worker=None)
            _write(queue, state)
            queue.tasks["render"](job_id)
            requeued.append(job_id)
            log.warning("document job %s was %s in a worker that stopped: queued again", job_id[:12], status)
        elif status not in ACTIVE and _expired(queue, state, personal_seconds):
            queue.huey.delete(_state_key(job_id))
            queue.files.delete(_pdf_key(job_id))
            queue.files.delete(_input_key(job_id))
    return requeued
