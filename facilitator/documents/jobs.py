"""Long documents (the handbook, big packets) render outside the request, in worker processes.

A worker is a fresh process per job (WeasyPrint's memory, about 1.3 MB a page, is never given back
to the OS, so recycling is the only way to release it). At most one render per CPU core runs on
the machine at a time: each job holds one of cpu_count lock files while it renders, whichever web
or CLI process started it. The job's state is a JSON file in the cache folder, so any web worker
can answer the status request; the job id is the document's cache key, so two people asking for
the same handbook share one render.
"""

from __future__ import annotations

import fcntl
import json
import logging
import multiprocessing
import os
import re
import resource
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

from .catalog import Order
from .service import DEFAULT_PERSONAL_SECONDS, DocumentCache, RenderInput, render

log = logging.getLogger("facilitator.documents")

LONG_DOCUMENT_PAGES = 20  # more pages than this: render in a worker, not in the request
STALE_SECONDS = 600  # a running job with no progress for this long is presumed dead

_executor: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


def is_long(order: Order) -> bool:
    """Whether an order is rendered by a worker rather than in the request."""
    return order.pages > LONG_DOCUMENT_PAGES


def _jobs_dir(cache: DocumentCache) -> Path:
    return cache.folder / "jobs"


def read_state(cache: DocumentCache, job_id: str) -> dict[str, Any] | None:
    """A job's state (status queued|running|done|failed, pages done and expected), or None."""
    if not re.fullmatch(r"[0-9a-f]{64}", job_id):  # ids are cache keys; refuse anything that could be a path
        return None
    path = _jobs_dir(cache) / f"{job_id}.json"
    try:
        state = json.loads(path.read_text())
        written = path.stat().st_mtime  # every state write replaces the file: its time is the last sign of life
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    # File time against file time: the worker and the web process may not share a clock (a frozen
    # or faked one in tests), but they share the file system's.
    state["idle_seconds"] = max(0.0, cache.now() - written)
    if state["status"] != "done" and cache.get(job_id) is not None:
        state["status"] = "done"  # rendered by another job with the same key
    return state


def _write_state(folder: Path, job_id: str, **changes: Any) -> dict[str, Any]:
    path = folder / "jobs" / f"{job_id}.json"
    try:
        state = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        state = {"id": job_id}
    state.update(changes)
    state.pop("idle_seconds", None)  # measured when read, never stored
    tmp = path.with_name(f"{job_id}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(state))
    os.replace(tmp, path)  # readers in other processes never see half a file
    return state


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_stale(state: dict[str, Any]) -> bool:
    """A queued or running job whose process is gone, or that has not moved for STALE_SECONDS."""
    if state["status"] not in ("queued", "running"):
        return False
    return not _alive(state.get("pid")) or state.get("idle_seconds", 0) > STALE_SECONDS


def start(order: Order, cache: DocumentCache, *, user_id: int | None = None) -> dict[str, Any]:
    """Start rendering an order in a worker unless it is cached or already under way; its state."""
    job_id = order.key
    _jobs_dir(cache).mkdir(parents=True, exist_ok=True)
    # One check-and-submit at a time per job on this machine, so two requests start one render.
    with open(_jobs_dir(cache) / f"{job_id}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _start_locked(order, cache, job_id, user_id)


def _start_locked(order: Order, cache: DocumentCache, job_id: str, user_id: int | None) -> dict[str, Any]:
    if cache.get(job_id) is not None:
        return _write_state(cache.folder, job_id, status="done", done=order.pages, total=order.pages,
                            filename=order.filename, program_id=order.program_id, user_id=user_id,
                            personal=order.personal, participant_ids=list(order.participant_ids))
    state = read_state(cache, job_id)
    if state and state["status"] in ("queued", "running") and not is_stale(state):
        return state
    state = _write_state(cache.folder, job_id, status="queued", done=0, total=order.pages, error="",
                         filename=order.filename, program_id=order.program_id, user_id=user_id,
                         personal=order.personal, participant_ids=list(order.participant_ids),
                         pid=os.getpid())
    future = _pool().submit(run_job, job_id, order.build(), str(cache.folder), cache.max_bytes, order.personal,
                            cache.personal_seconds)
    future.add_done_callback(lambda f: _note_crash(f, cache.folder, job_id))
    return state


def wait(cache: DocumentCache, job_id: str, on_progress: Any = None, poll: float = 0.2) -> dict[str, Any]:
    """Block until a job is done or failed (the command line's way); on_progress(state) as it moves."""
    while True:
        state = read_state(cache, job_id)
        if state is None:
            raise RuntimeError(f"job {job_id} has no state")
        if on_progress:
            on_progress(state)
        if state["status"] in ("done", "failed") or is_stale(state):
            return state
        time.sleep(poll)


def _pool() -> ProcessPoolExecutor:
    global _executor
    with _pool_lock:
        if _executor is None or getattr(_executor, "_broken", False):
            _executor = _new_pool()
        return _executor


def _new_pool() -> ProcessPoolExecutor:
        # forkserver: workers fork from a small server that has WeasyPrint imported already, so a
        # fresh worker per job costs milliseconds; max_tasks_per_child=1 returns its memory.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["weasyprint", "facilitator.documents.jobs"])
    return ProcessPoolExecutor(max_workers=os.cpu_count() or 1, mp_context=context, max_tasks_per_child=1)


def _note_crash(future: Future, folder: Path, job_id: str) -> None:
    # A worker killed by the OS (out of memory) never writes its own failure.
    if future.exception() is not None:
        log.error("document job %s crashed: %s", job_id[:12], type(future.exception()).__name__)
        _write_state(folder, job_id, status="failed", error="the render stopped unexpectedly")


# --- in the worker process ---------------------------------------------------------------------

def run_job(job_id: str, job: RenderInput, folder: str, max_bytes: int, personal: bool = False,
            personal_seconds: int = DEFAULT_PERSONAL_SECONDS) -> None:
    """Render one document into the cache, recording progress; runs in a worker process."""
    root = Path(folder)
    started = time.perf_counter()
    try:
        with _cpu_slot(root, job_id):
            last, done = [0.0], [0]

            def progress(page: int) -> None:
                done[0] = max(done[0], page)  # a second layout pass (page references) counts again from 1
                if time.perf_counter() - last[0] > 0.25:  # a file write per page would slow small pages
                    last[0] = time.perf_counter()
                    _write_state(root, job_id, done=done[0])

            _write_state(root, job_id, status="running", pid=os.getpid())
            data = render(job, progress)
            DocumentCache(root, max_bytes, personal_seconds).put(job_id, data, personal)
        _write_state(root, job_id, status="done", done=done[0], total=done[0],
                     seconds=round(time.perf_counter() - started, 2),
                     peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1))
    except Exception:  # noqa: BLE001  (the state file is how the failure reaches the user)
        log.exception("document job %s failed", job_id[:12])
        _write_state(root, job_id, status="failed", error="the document could not be rendered")


class _cpu_slot:
    """Hold one of cpu_count lock files: at most one render per core across every process."""

    def __init__(self, root: Path, job_id: str) -> None:
        self.root, self.job_id, self.file = root, job_id, None

    def __enter__(self) -> None:
        slots = self.root / "jobs" / "slots"
        slots.mkdir(parents=True, exist_ok=True)
        while True:
            for n in range(os.cpu_count() or 1):
                handle = open(slots / f"slot-{n}.lock", "w")  # noqa: SIM115  (held until __exit__)
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    handle.close()
                    continue
                self.file = handle
                return
            _write_state(self.root, self.job_id, status="queued", pid=os.getpid())  # still alive, waiting
            time.sleep(0.5)

    def __exit__(self, *exc: object) -> None:
        if self.file is not None:
            self.file.close()  # closing releases the lock (so does the process dying)
