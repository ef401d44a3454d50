"""Jobs survive a killed worker: `facilitator worker` is killed with SIGKILL in the middle of a long
packet, a new worker starts, the job finishes and the PDF downloads. A real consumer in a
subprocess on a SQLite queue of the test's own (not Huey's immediate mode)."""

from __future__ import annotations

import os
import signal
import time

import pytest

from facilitator.documents import jobs
from facilitator.queue import queue_for

from .conftest import login
from .documents.conftest import reader, text
from .test_queue_support import start_worker, stop, until, worker_log

pytestmark = pytest.mark.undated


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_worker_killed_mid_render_is_replaced_and_the_job_finishes(app, client, session, tmp_path, monkeypatch,
                                                                     make_program, make_group, make_participant,
                                                                     make_user):
    url = f"sqlite:///{tmp_path}/queue.sqlite3"
    monkeypatch.setitem(app.config, "QUEUE_URL", url)
    queue = queue_for(app)
    program = make_program()
    group = make_group(program)
    people = [make_participant(program, group, name=f"Killed {n}") for n in range(20)]  # 40 pages
    staff = make_user("facilitator", program)
    login(client, staff.email)
    asked = client.get("/documents/worksheet/rp3.pdf?" + "&".join(f"participant={p.id}" for p in people))
    assert asked.status_code == 303
    job_url = asked.headers["Location"]
    job_id = job_url.rsplit("/", 1)[-1]
    assert jobs.read_state(queue, job_id)["status"] == "queued", "nothing renders in the web process"

    first = start_worker(tmp_path / "first", url)
    second = None
    try:
        def rendering():
            state = jobs.read_state(queue, job_id)
            return state if state["status"] == "running" and state["done"] > 0 else None

        running = until(rendering, 60, "the first worker did not start rendering\n" + worker_log(tmp_path / "first"),
                        poll=0.05)
        os.kill(first.pid, signal.SIGKILL)  # the consumer only, as the OOM killer or a crash would
        first.wait(timeout=10)
        until(lambda: not _alive(running["pid"]), 5, "the render process outlived its killed worker")
        assert jobs.read_state(queue, job_id)["status"] == "running", "no one was left to say otherwise"
        assert client.get(job_url + ".json").json["status"] == "running"

        started = time.monotonic()
        second = start_worker(tmp_path / "second", url)
        finished = until(lambda: (s := jobs.read_state(queue, job_id))["status"] in ("done", "failed") and s,
                         90, "the job did not finish after the restart\n" + worker_log(tmp_path / "second"))
        assert finished["status"] == "done" and finished["attempt"] == 2, finished
        assert finished["pid"] != running["pid"]
        assert "put 1 interrupted job(s) back on the queue" in worker_log(tmp_path / "second")
        print(f"finished {time.monotonic() - started:.1f} s after the second worker started")
    finally:
        stop(first)
        if second is not None:
            stop(second)
    pdf = client.get(job_url + ".pdf")
    assert pdf.status_code == 200 and len(reader(pdf.data).pages) == 40
    assert "Killed 19" in text(pdf.data, 39)
