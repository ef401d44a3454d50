"""The participant progress report: what it shows (from the same data as the participant page), the
42 CFR 2.32 notice on every page, table headers on every page a table spans, a clean PDF with
embedded fonts, and a cache key that changes with any datum shown."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from facilitator import clock
from facilitator.attendance.models import Attendance
from facilitator.clinical.models import DrugTest
from facilitator.documents import catalog, participant_docs, service
from facilitator.extensions import db
from facilitator.programs.models import AttendanceStatus
from facilitator.progress import services as progress

from ..test_participants_support import hold_meetings, monday_weeks_ago
from .conftest import fonts, qpdf_clean, reader, text

TODAY = clock.today()
NOTICE_WORDS = "Federal law 42 CFR part 2 prohibits further disclosure"


def words(pdf, page: int | None = None) -> str:
    """A page's text with runs of white space folded (pdftotext -layout spreads columns apart)."""
    return " ".join(text(pdf, page).split())


@pytest.fixture
def report_world(session, make_program, make_group, make_participant, make_user):
    """Jordan: three weeks in the evening group (ERS does not come round again), two meetings missed (RP and ERS), a homework make-up
    planned for the ERS one, and 30 oral-fluid tests (one positive)."""
    program = make_program("Harbor Light IOP")
    group = make_group(program, "Monday evening", start=monday_weeks_ago(6))
    staff = make_user("facilitator", program)
    person = make_participant(program, group, admitted=monday_weeks_ago(3), name="Jordan")
    missed: dict[str, str] = {}

    def absent(p, meeting):
        if meeting.track in ("RP", "ERS") and meeting.track not in missed:
            missed[meeting.track] = meeting.module
            return True
        return False

    hold_meetings(group, staff, [person], TODAY - timedelta(days=1), absent)
    progress.assign_makeup(person, missed["ERS"], "homework", None, None, "", staff, TODAY)
    for n in range(30):
        db.session.add(DrugTest(participant_id=person.id, collected_on=TODAY - timedelta(days=n), kind="oral",
                                result="positive" if n == 3 else "negative", recorded_by_id=staff.id))
    db.session.flush()
    return program, person, missed


def test_the_report_shows_the_person_progress_tests_and_makeups(report_world, document_cache):
    program, person, missed = report_world
    order = participant_docs.progress_order(person, program=program, today=TODAY)
    path, cached = service.produce(order.key, order.build, document_cache)
    assert not cached
    pdf = reader(path)
    first = words(path, 1)
    assert "Progress report" in first and "Harbor Light IOP" in first
    assert "Jordan" in first and person.record_number in first and "Monday evening" in first
    assert f"Printed {participant_docs.day(TODAY)}" in first and "Projected to complete the group program on" in first
    everything = words(path)
    missed_rows = everything.split("Missed modules not yet made up")[1].split("Attendance")[0]
    assert missed["RP"] in missed_rows and missed["ERS"] not in missed_rows  # the ERS one has a make-up planned
    assert f"{missed['ERS']}" in everything.split("Make-ups")[-1] and "Homework" in everything.split("Make-ups")[-1]
    assert "30 tests: negative 29, positive 1." in everything and f"Last test {participant_docs.day(TODAY)}" in everything
    assert "6 earlier tests are counted above and not listed." in everything
    assert "meetings attended" in everything and "2 missed" in everything and "0 excused" in everything
    assert "floor 9 h" in everything  # the chart's floor line is labelled
    for n in range(1, len(pdf.pages) + 1):
        page = words(path, n)
        assert NOTICE_WORDS in page, f"page {n} lacks the 42 CFR 2.32 notice"
        assert f"Page {n} of {len(pdf.pages)}" in page and person.record_number in page
    assert qpdf_clean(path)
    assert fonts(path) and all(f["emb"] == "yes" for f in fonts(path))
    assert order.kind == "progress" and order.personal and order.participant_ids == (person.id,)
    assert order.program_id == program.id and "Jordan" not in str(order.detail) + order.filename


def test_tables_keep_their_headers_on_every_page_they_span(report_world, document_cache):
    program, person, _ = report_world
    order = participant_docs.progress_order(person, program=program, today=TODAY)
    path, _ = service.produce(order.key, order.build, document_cache)
    pages = [words(path, n) for n in range(1, len(reader(path).pages) + 1)]
    with_tests = [page for page in pages if "Oral fluid" in page]
    assert len(with_tests) >= 2, "24 listed tests after the grid and weeks should cross a page break"
    assert all("Collected Kind Result" in page for page in with_tests)


def test_any_change_to_what_is_shown_makes_a_new_key(report_world, make_program, make_participant):
    program, person, _ = report_world
    first = participant_docs.progress_order(person, program=program, today=TODAY)
    assert participant_docs.progress_order(person, program=program, today=TODAY).key == first.key
    present = db.session.scalar(select(AttendanceStatus.id).where(AttendanceStatus.program_id == program.id,
                                                                  AttendanceStatus.code == "present"))
    row = db.session.scalars(select(Attendance).where(Attendance.participant_id == person.id,
                                                      Attendance.status_id == present)).first()
    row.minutes = 5  # left early: the module is no longer credited, one more absence
    db.session.flush()
    changed = participant_docs.progress_order(person, program=program, today=TODAY)
    assert changed.key != first.key
    assert participant_docs.progress_order(person, program=program, today=TODAY, page_size="a4").key != changed.key

    other_program = make_program("Another IOP")
    stranger = make_participant(other_program, name="Jordan")
    with pytest.raises(catalog.DocumentNotFound, match=f"no participant with id {stranger.id}"):
        participant_docs.progress_order(stranger, program=program, today=TODAY)
    with pytest.raises(catalog.DocumentNotFound, match="unknown page size"):
        participant_docs.progress_order(person, program=program, today=TODAY, page_size="legal")


def test_a_participant_never_admitted_gets_a_short_report(session, make_program, make_participant):
    program = make_program()
    person = make_participant(program, name="Robin")
    order = participant_docs.progress_order(person, program=program, today=TODAY)
    data = service.render(order.build())
    all_words = words(data)
    assert "Robin" in all_words and "Not admitted to a group" in all_words and "No tests recorded." in all_words
    assert NOTICE_WORDS in all_words
