"""Benchmark the document service: overhead over bare WeasyPrint, cache hits, personalized copies,
and the handbook in its worker.

Run: .venv/bin/python bench/bench_documents.py [--repeat 9] [--copies 12]

Prints, in one run:
  1. a worksheet packet (RP 3, 2 pages) requested through the app (HTTP GET as a signed-in
     facilitator, cold cache) against bare WeasyPrint (stylesheet parsed once, fonts shared:
     WeasyPrint at its fastest) on the same HTML: the body and the header/footer frame the app
     lays out, written with the same tagging (PDF/UA-1, as every document of the app). Target: at
     most 1.15x. For scale, also bare WeasyPrint on one HTML with the headers
     as running elements (the usual way), and on the body alone with no headers at all.
  2. a cached repeat of that request as a share of the cold one. Target: at most 5%.
  3. N personalized copies of RP 3 in one document (body laid out once, one frame for all copies'
     headers) against N separate one-copy renders; then a real meeting packet for N people (guide,
     sign-in sheet, a named copy each, merged into one document) against its parts rendered apart.
  4. the participant handbook rendered by a worker process: time, pages, peak RSS of the worker.
  5. file sizes: a blank and a fillable worksheet (RP 3A).
The app runs on a throwaway SQLite database in a temporary folder.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from datetime import time as clock
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def median_time(fn, repeat: int) -> float:
    """The median wall time of fn() over repeat runs, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def make_app(root: str):
    from flask_migrate import upgrade

    from facilitator import create_app
    from facilitator.config import TestConfig
    from facilitator.extensions import db
    from facilitator.setup_cli import load_shipped_curricula

    config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    config.update(SQLALCHEMY_DATABASE_URI=f"sqlite:///{root}/bench.sqlite", WTF_CSRF_ENABLED=False,
                  DOCUMENT_CACHE_DIR=f"{root}/cache-0", QUEUE_URL=f"sqlite:///{root}/queue.sqlite3")
    app = create_app(config)
    with app.app_context():
        upgrade()
        load_shipped_curricula()
        db.session.commit()
    return app


def seed(app, copies: int):
    """A program, a group on matrix-16 and `copies` participants; returns (facilitator email, ids)."""
    from facilitator.auth.services import create_user
    from facilitator.curricula.services import find_version
    from facilitator.extensions import db
    from facilitator.groups.models import Group, Slot
    from facilitator.participants.models import Enrollment, Participant
    from facilitator.programs.services import create_program

    with app.app_context():
        program = create_program("Bench Recovery IOP", slug="bench")
        version = find_version("matrix-16")
        group = Group(program_id=program.id, name="Evening group", version_id=version.id, start_date=date(2027, 1, 4))
        group.slots = [Slot(weekday=0, start_time=clock(18, 30), track_code="RP", minutes=90)]
        db.session.add(group)
        db.session.flush()
        ids = []
        for n in range(copies):
            person = Participant(program_id=program.id, preferred_name=f"Participant {n + 1}", initials=f"P{n}",
                                 record_number=f"B-{n}")
            db.session.add(person)
            db.session.flush()
            db.session.add(Enrollment(participant_id=person.id, group_id=group.id, admitted_on=date(2027, 1, 4)))
            ids.append(person.id)
        create_user(program, "bench@example.org", "quiet-harbor-lantern-71", "facilitator", "Bench")
        db.session.commit()
        return ids


def _group_id(app) -> int:
    from facilitator.extensions import db
    from facilitator.groups.models import Group

    return db.session.scalar(db.select(Group.id).where(Group.name == "Evening group"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--copies", type=int, default=12)
    args = parser.parse_args()
    print(f"machine load average at the start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    root = tempfile.mkdtemp(prefix="bench-documents-")
    os.environ.setdefault("SECRET_KEY", "bench")
    app = make_app(root)
    ids = seed(app, args.copies)

    from facilitator.curricula.services import find_version
    from facilitator.documents import builders, catalog, jobs, service
    from facilitator.extensions import db
    from facilitator.programs.models import Program

    client = app.test_client()
    client.post("/login", data={"email": "bench@example.org", "password": "quiet-harbor-lantern-71"})
    url = "/documents/worksheet/rp3.pdf"
    assert client.get("/documents/worksheet/ers1a.pdf").status_code == 200  # warm: engine, memo, fonts

    # 1. Through the app (cold) against bare WeasyPrint on the same HTML.
    caches = iter(range(1, 1000))

    def cold_request():
        app.config["DOCUMENT_CACHE_DIR"] = f"{root}/cache-{next(caches)}"  # an empty cache: a real render
        response = client.get(url)
        assert response.status_code == 200, response.status_code

    with app.app_context():
        program = db.session.scalar(db.select(Program).where(Program.slug == "bench"))
        order = catalog.worksheet_order("RP 3", version=find_version("matrix-16"), program=program)
        job = order.build()
    eng = service.engine()
    bare_options = {"font_config": eng.fonts, "stylesheets": [eng.stylesheet, eng.page_sheet("letter", "en")]}
    tagged = {"pdf_variant": service.PDF_VARIANT}  # the app tags every document; so does the baseline
    import weasyprint

    def bare():
        weasyprint.HTML(string=job.html).write_pdf(**bare_options, **tagged)

    # The same two HTML documents the app lays out (the body, and the frame with the headers and
    # footers), laid out and combined with WeasyPrint's own objects: the app's pure overhead.
    from weasyprint.document import Page
    from weasyprint.formatting_structure.boxes import MarginBox

    with app.app_context():
        body_doc = weasyprint.HTML(string=job.html).render(**bare_options)
        page_sheets = [(p._page_box.page_type.name, s)
                       for p, s in zip(body_doc.pages, service.sheets_by_page(body_doc, job.sheets), strict=True)]
        frame_html = builders.frame_html(page_sheets, heading=job.heading, lang="en", copies=(None,), notice=False)

    def bare_same_documents():
        body = weasyprint.HTML(string=job.html).render(**bare_options)
        frame = weasyprint.HTML(string=frame_html).render(**bare_options)
        pages = []
        for b, f in zip(body.pages, frame.pages, strict=True):
            children = [c for c in b._page_box.children if not isinstance(c, MarginBox)]
            children += [c for c in f._page_box.children if isinstance(c, MarginBox)]
            pages.append(Page(b._page_box.copy_with_children(children)))
        body.copy(pages).write_pdf(**tagged)

    # The same sheets with their headers and footers written into the one HTML, as running elements
    # at the start of each sheet: how WeasyPrint is usually asked for headers (it then lays out
    # every page that brings new running elements twice).
    def chrome(sheet) -> str:
        return (f'<div class="running-header"><table class="hdr"><tr><td class="hdr-program">{job.heading}</td>'
                f'<td class="hdr-module">{sheet.module_code} · {sheet.module_title}</td></tr></table>'
                '<table class="identity"><tr><th>Name</th><td class="fill id-name"></td><th>Group</th>'
                '<td class="fill id-group"></td><th>Date</th><td class="fill id-date"></td></tr></table></div>'
                f'<div class="running-footer"><p class="ftr">{sheet.worksheet.code} · '
                f'{sheet.worksheet.title}</p></div>')

    one_html = job.html
    for sheet in job.sheets:
        opening = f'<section class="sheet" id="{sheet.anchor}" lang="en">'
        one_html = one_html.replace(opening, opening + chrome(sheet))
    numbers = weasyprint.CSS(string='@page sheet { @bottom-left { width: 82%; } @bottom-right { content: "Page " '
                                    'counter(page) " of " counter(pages); width: 18%; } }', font_config=eng.fonts)

    def bare_with_headers():
        weasyprint.HTML(string=one_html).write_pdf(font_config=eng.fonts, stylesheets=[*bare_options["stylesheets"],
                                                                                      numbers], **tagged)

    # Interleaved, so a busy machine slows every side alike.
    times: dict[str, list[float]] = {"app": [], "same": [], "body": [], "headed": []}
    for _ in range(args.repeat):
        for name, fn in (("app", cold_request), ("same", bare_same_documents), ("body", bare),
                         ("headed", bare_with_headers)):
            times[name].append(median_time(fn, 1))
    app_cold, same, body_only, headed = (statistics.median(times[k]) for k in ("app", "same", "body", "headed"))
    print(f"1. worksheet packet RP 3 (2 pages, Letter), median of {args.repeat}, interleaved:")
    print(f"   through the app (GET, cold cache)                 {app_cold * 1000:6.0f} ms")
    print(f"   bare WeasyPrint, the same body + frame HTML       {same * 1000:6.0f} ms   "
          f"app overhead {app_cold / same:.2f}x (target <= 1.15x)")
    print(f"   bare WeasyPrint, headers as running elements      {headed * 1000:6.0f} ms   "
          f"app {app_cold / headed:.2f}x")
    print(f"   bare WeasyPrint, body HTML alone (no headers)     {body_only * 1000:6.0f} ms   "
          f"app {app_cold / body_only:.2f}x")

    # 2. A cached repeat.
    def repeat_request():
        assert client.get(url).status_code == 200

    hit = median_time(repeat_request, args.repeat * 4)
    print(f"2. cached repeat                     {hit * 1000:7.1f} ms = {hit / app_cold:.1%} of a cold request"
          f"   (target <= 5%)")

    # 3. N personalized copies: one layout plus a frame per copy, against N one-copy renders.
    with app.app_context():
        version = find_version("matrix-16")
        program = db.session.scalar(db.select(Program).where(Program.slug == "bench"))
        people = catalog.participants_by_id(ids)
        enrollments = catalog.current_enrollments(people)
        packet = catalog.worksheet_order("RP 3", version=version, program=program, people=people,
                                         enrollments=enrollments, on=date(2027, 3, 1)).build()
        singles = [catalog.worksheet_order("RP 3", version=version, program=program, people=[p],
                                           enrollments=enrollments, on=date(2027, 3, 1)).build() for p in people]
    sizes = []

    def separately():
        sizes.clear()
        for single in singles:
            sizes.append(len(service.render(single)))

    packet_times, separate_times = [], []
    for _ in range(max(1, args.repeat // 2)):
        packet_times.append(median_time(lambda: service.render(packet), 1))
        separate_times.append(median_time(separately, 1))
    packet_time, separate_time = statistics.median(packet_times), statistics.median(separate_times)
    packet_size = len(service.render(packet))
    print(f"3. {args.copies} personalized copies of RP 3 ({2 * args.copies} pages):")
    print(f"   one document, layout once + frames {packet_time * 1000:6.0f} ms  ({packet_size // 1024} KB)")
    print(f"   {args.copies} separate renders             {separate_time * 1000:6.0f} ms  "
          f"({sum(sizes) // 1024} KB in {args.copies} files)")
    print(f"   saving                             {separate_time / packet_time:6.2f}x faster")

    # 3b. The meeting packet: guide, sign-in sheet and a named copy per person in one document,
    # against the same documents printed one by one (guide, sign-in sheet, N one-copy worksheets).
    from facilitator.documents import meeting_docs

    with app.app_context():
        group, planned, row = meeting_docs.find_meeting(f"{_group_id(app)}/2027-01-04/1830/RP")
        ctx = meeting_docs.meeting_context(group, planned, row)
        meeting_packet = meeting_docs.packet_order(ctx)
        parts = [p.build() for p in (catalog.guide_order(ctx.module_code, version=group.version, program=program),
                                      meeting_docs.signin_order(ctx))]
        parts += [catalog.worksheet_order(ctx.module_code, version=group.version, program=program, people=[p],
                                          enrollments={}, on=planned.date, group_name=group.name).build()
                  for p in ctx.people]
        packet_job = meeting_packet.build()
    one_times, apart_times = [], []
    for _ in range(max(1, args.repeat // 2)):
        one_times.append(median_time(lambda: service.render(packet_job), 1))
        apart_times.append(median_time(lambda: [service.render(part) for part in parts], 1))
    one, apart = statistics.median(one_times), statistics.median(apart_times)
    import pypdf

    packet_pages = len(pypdf.PdfReader(io.BytesIO(service.render(packet_job))).pages)
    print(f"3b. meeting packet for {len(ctx.people)} people ({ctx.module_code}: guide, sign-in sheet, "
          f"a named copy each; {packet_pages} pages):")
    print(f"   one merged document                {one * 1000:6.0f} ms")
    print(f"   guide + sign-in + {len(ctx.people)} separate copies {apart * 1000:6.0f} ms")
    print(f"   saving                             {apart / one:6.2f}x faster")

    # 4. The handbook on `facilitator worker` (a subprocess on the bench's own queue).
    import subprocess

    from facilitator.queue import queue_for

    with app.app_context():
        order = catalog.handbook_order(version=find_version("matrix-16"))
    queue = queue_for(app)
    worker = subprocess.Popen([str(Path(sys.executable).with_name("facilitator")), "worker", "--workers", "1"],
                              env={**os.environ, "QUEUE_URL": queue.url, "FACILITATOR_INSTANCE": root},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        start = time.perf_counter()
        jobs.start(order, queue)
        state = jobs.wait(queue, order.key, timeout=600)
        wall = time.perf_counter() - start  # includes the worker's start (Python, the app, WeasyPrint's import)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    data = jobs.document(queue, state)
    pages = len(pypdf.PdfReader(io.BytesIO(data)).pages)
    print(f"4. handbook: {pages} pages in {state['seconds']:.1f} s in the worker ({wall:.1f} s wall, "
          f"{state['seconds'] / pages * 1000:.0f} ms a page), peak RSS of the worker {state['peak_rss_mb']:.0f} MB, "
          f"{len(data) // 1024} KB")

    # 5. Sizes: the fillable sheet's fields type in a standard font, so its file stays near the blank one.
    with app.app_context():
        version = find_version("matrix-16")
        blank_size, fillable_size = (len(service.render(catalog.worksheet_order("RP 3A", version=version,
                                                                                fillable=f).build()))
                                     for f in (False, True))
    print(f"5. RP 3A: blank {blank_size / 1024:.1f} KB, fillable {fillable_size / 1024:.1f} KB")
    print(f"   (machine load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
