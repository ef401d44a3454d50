"""The participant handbook, rendered by `facilitator worker`: every worksheet of matrix-16 fits the
pages it declares at Letter and at A4, and the contents list the right page numbers."""

from __future__ import annotations

import os
import re

import pytest

from facilitator.documents import catalog, jobs

from .conftest import finished_handbook, fonts, qpdf_clean, reader, text
from .test_tagged import assert_tagged

SHEET = re.compile(r"^([A-Z]+ \d+[A-Z]) ")


def sheet_pages(pdf) -> dict[str, tuple[int, int]]:
    """{worksheet code: (first page, page count)} from the PDF outline (one bookmark per sheet)."""
    pdf_reader = reader(pdf)
    starts = [(SHEET.match(item.title).group(1), pdf_reader.get_destination_page_number(item))
              for item in pdf_reader.outline if not isinstance(item, list) and SHEET.match(item.title)]
    ends = [start for _, start in starts[1:]] + [len(pdf_reader.pages)]
    return {code: (start + 1, end - start) for (code, start), end in zip(starts, ends, strict=True)}


def test_print_the_handbook_through_a_worker(runner, handbooks, job_queue, tmp_path):
    # The command joins the Letter job the fixture started. Whether it is still under way depends on
    # what ran before in this test process (another file may have waited for it), so the progress bar
    # is expected when the job was clearly unfinished (a 140-page render does not finish in the
    # moment between this look and the command's own).
    before = jobs.read_state(job_queue, handbooks["letter"])
    out = tmp_path / "handbook.pdf"
    result = runner.invoke(args=["print", "handbook", "-o", str(out)])
    assert result.exit_code == 0, result.output
    if before["status"] != "done" and before["done"] < before["total"] - 20:
        assert "Rendering" in result.output and "Queued for a worker" in result.output
    assert len(reader(out).pages) > 134


def test_the_handbook_is_tagged_and_titled(handbooks, job_queue, matrix16, tmp_path):
    # In this file, after the CLI test: the handbook jobs are shared and the CLI must find one running.
    path, _ = finished_handbook(job_queue, handbooks["letter"], tmp_path)
    assert_tagged(path, f"Participant handbook: {catalog.domain_of(matrix16).title}")


@pytest.mark.parametrize("size", ["letter", "a4"])
def test_every_worksheet_fits_its_declared_pages(app, handbooks, job_queue, size, tmp_path):
    path, state = finished_handbook(job_queue, handbooks[size], tmp_path)
    with app.app_context():
        curriculum = catalog.domain_of(catalog.find_version())
    declared = {w.code: w.pages for _, w in curriculum.worksheets()}
    found = sheet_pages(path)
    assert list(found) == list(declared), "every worksheet, in curriculum order"
    overflowing = {code: pages for code, (_, pages) in found.items() if pages != declared[code]}
    assert overflowing == {}, f"worksheets that do not fit their pages at {size}"
    assert state["done"] == len(reader(path).pages)


def test_handbook_has_a_cover_contents_with_page_numbers_and_running_headers(handbooks, job_queue, tmp_path):
    path, state = finished_handbook(job_queue, handbooks["letter"], tmp_path)
    pages = sheet_pages(path)
    cover, contents = text(path, 1), text(path, 2)
    assert "PARTICIPANT HANDBOOK" in cover and "This handbook belongs to" in cover and "Page" not in cover
    assert "Contents" in contents
    first_page, _ = pages["IC 1A"]
    assert re.search(rf"IC 1A My Service Agreement\s*\.+\s*{first_page}\b", contents), "target-counter page number"
    rp3a, _ = pages["RP 3A"]
    page_text = text(path, rp3a)
    assert "RP 3 · Avoiding Relapse Drift" in page_text and "RP 3A · My Mooring Lines" in page_text
    assert f"Page {rp3a} of {len(reader(path).pages)}" in page_text
    assert "42 CFR" not in text(path), "a blank handbook carries no participant data"
    assert qpdf_clean(path)
    assert all(f["emb"] == "yes" and f["sub"] == "yes" for f in fonts(path))


def test_handbook_ran_in_recycled_workers_and_recorded_its_cost(handbooks, job_queue, tmp_path):
    states = [finished_handbook(job_queue, job_id, tmp_path)[1] for job_id in handbooks.values()]
    assert all(s["pid"] != os.getpid() for s in states), "rendered outside this process"
    assert states[0]["pid"] != states[1]["pid"], "a fresh worker process per job (huey max_tasks=1)"
    assert all(s["seconds"] > 0 and s["peak_rss_mb"] > 50 for s in states)
    assert all(s["attempt"] == 1 for s in states), "each rendered once"


def test_asking_again_joins_the_job_or_takes_the_cached_file(app, handbooks, job_queue):
    with app.app_context():
        order = catalog.handbook_order(version=catalog.find_version(), page_size="letter")
    state = jobs.start(order, job_queue)
    assert state["id"] == handbooks["letter"]
    assert state["status"] in ("queued", "running", "done")
