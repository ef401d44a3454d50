"""Fixtures for the document tests: a throwaway document cache, PDF inspection helpers, a real
`facilitator worker` on a queue of this run's own, and the two handbooks (Letter and A4) started once
on it and shared by the tests that need them."""

from __future__ import annotations

import subprocess
from datetime import timedelta
from pathlib import Path

import pypdf
import pytest
from sqlalchemy import select

from facilitator import clock
from facilitator.curricula.models import Module
from facilitator.documents import catalog, jobs, service
from facilitator.extensions import db
from facilitator.groups.calendars import version_structure
from facilitator.progress import services as progress
from facilitator.progress.models import Credit
from facilitator.queue import Queue, queue_for

from ..test_participants_support import hold_meetings, monday_weeks_ago
from ..test_queue_support import start_worker, stop, worker_log


@pytest.fixture(scope="session", autouse=True)
def document_cache(app, tmp_path_factory):
    """Every document test writes to its own cache folder, never the instance folder."""
    folder = tmp_path_factory.mktemp("document-cache")
    saved = app.config.get("DOCUMENT_CACHE_DIR")
    app.config["DOCUMENT_CACHE_DIR"] = str(folder)
    yield service.DocumentCache(folder)
    app.config["DOCUMENT_CACHE_DIR"] = saved


@pytest.fixture(scope="session")
def job_queue(app, tmp_path_factory) -> Queue:
    """This run's queue (a SQLite file of its own) with a real `facilitator worker` (two processes) on it.

    Not Huey's immediate mode: jobs go through the queue's storage to another process, as in production."""
    folder = tmp_path_factory.mktemp("queue")
    url = f"sqlite:///{folder}/queue.sqlite3"
    saved = app.config.get("QUEUE_URL")
    app.config["QUEUE_URL"] = url
    worker = start_worker(folder / "worker", url, workers=2)
    yield queue_for(app)
    stop(worker)
    app.config["QUEUE_URL"] = saved
    assert "Traceback" not in worker_log(folder / "worker"), worker_log(folder / "worker")


@pytest.fixture(scope="session")
def handbooks(app, job_queue):
    """Start the Letter and the A4 handbook on the worker (they render in parallel); {size: job id}."""
    started = {}
    with app.app_context():
        version = catalog.find_version()
        for size in ("letter", "a4"):
            order = catalog.handbook_order(version=version, page_size=size)
            started[size] = jobs.start(order, job_queue)["id"]
    return started


def finished_handbook(queue: Queue, job_id: str, folder: Path) -> tuple[Path, dict]:
    """Wait (at most five minutes) for a handbook job; its file (written into folder) and final state."""
    state = jobs.wait(queue, job_id, timeout=300)
    assert state["status"] == "done", state
    path = folder / f"{job_id}.pdf"
    path.write_bytes(jobs.document(queue, state))
    return path, state


def text(pdf: Path | bytes, page: int | None = None) -> str:
    """The text of a PDF (or of one 1-based page) as poppler's pdftotext extracts it."""
    args = ["pdftotext", "-layout"] + (["-f", str(page), "-l", str(page)] if page else [])
    data = pdf if isinstance(pdf, bytes) else Path(pdf).read_bytes()
    return subprocess.run([*args, "-", "-"], input=data, capture_output=True, check=True).stdout.decode()


def reader(pdf: Path | bytes) -> pypdf.PdfReader:
    """A pypdf reader on a file or bytes."""
    import io

    return pypdf.PdfReader(io.BytesIO(pdf if isinstance(pdf, bytes) else Path(pdf).read_bytes()))


def qpdf_clean(pdf: Path) -> bool:
    """qpdf --check finds no errors (exit 0, no warnings)."""
    result = subprocess.run(["qpdf", "--check", str(pdf)], capture_output=True, text=True)
    return result.returncode == 0 and "WARNING" not in result.stdout + result.stderr


def fonts(pdf: Path) -> list[dict[str, str]]:
    """pdffonts' table: one dict per font with name, emb and sub."""
    lines = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    rows = [line.split() for line in lines if line.strip()]
    return [{"name": row[0], "emb": row[-5], "sub": row[-4]} for row in rows]


@pytest.fixture
def member(session, make_program, make_group, make_participant, make_user):
    """Sunny: two weeks in a group with every meeting attended; not complete yet."""
    program = make_program("Harbor Light IOP")
    group = make_group(program, "Monday evening", start=monday_weeks_ago(6))
    staff = make_user("director", program)
    person = make_participant(program, group, admitted=monday_weeks_ago(2), name="Sunny")
    # clock.today() at call time: this conftest is imported before the run's clock is frozen
    # when pytest is pointed at tests/documents (initial conftests load before pytest_configure).
    hold_meetings(group, staff, [person], clock.today() - timedelta(days=1))
    return program, group, person, staff


def complete(group, person, staff) -> None:
    """Credit every module of the required group tracks by override (as a director may, with a reason)."""
    structure = version_structure(group.version_id)
    ids = dict(db.session.execute(select(Module.code, Module.id).where(Module.version_id == group.version_id)).all())
    today = clock.today()
    plan = progress.progress_for([person], today)[person.id].progress
    credited = {c for t in plan.tracks for c in t.credited}
    for track in structure.tracks:
        if track.required and track.kind != "individual":
            for module in track.modules:
                if module.code not in credited and not module.retired:
                    db.session.add(Credit(participant_id=person.id, module_id=ids[module.code], source="override",
                                          reason="Completed at a partner program", credited_on=today - timedelta(days=1),
                                          created_by_id=staff.id))
    db.session.flush()
