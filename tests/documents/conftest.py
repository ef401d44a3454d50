"""Fixtures for the document tests: a throwaway document cache, PDF inspection helpers, and the
two handbooks (Letter and A4) started once in worker processes and shared by the tests that need them."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pypdf
import pytest

from facilitator.documents import catalog, jobs, service


@pytest.fixture(scope="session", autouse=True)
def document_cache(app, tmp_path_factory):
    """Every document test writes to its own cache folder, never the instance folder."""
    folder = tmp_path_factory.mktemp("document-cache")
    saved = app.config.get("DOCUMENT_CACHE_DIR")
    app.config["DOCUMENT_CACHE_DIR"] = str(folder)
    yield service.DocumentCache(folder)
    app.config["DOCUMENT_CACHE_DIR"] = saved


@pytest.fixture(scope="session")
def handbooks(app, document_cache):
    """Start the Letter and the A4 handbook in workers (they render in parallel); {size: job id}."""
    started = {}
    with app.app_context():
        version = catalog.find_version()
        for size in ("letter", "a4"):
            order = catalog.handbook_order(version=version, page_size=size)
            started[size] = jobs.start(order, document_cache)["id"]
    return started


def finished_handbook(cache: service.DocumentCache, job_id: str) -> tuple[Path, dict]:
    """Wait for a handbook job; its file and final state."""
    state = jobs.wait(cache, job_id)
    assert state["status"] == "done", state
    return cache.get(job_id), state


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
