"""The completion certificate: refused before completion with a clear message; after it, one
landscape page with the name the participant chooses, the dates, the tracks and the hours, the
42 CFR 2.32 notice, and no record number."""

from __future__ import annotations

from datetime import timedelta

import pytest

from facilitator import clock
from facilitator.documents import catalog, participant_docs, service
from facilitator.progress import services as progress

from ..test_participants_support import monday_weeks_ago
from .conftest import complete, fonts, qpdf_clean, reader, text

TODAY = clock.today()
NOTICE_WORDS = "Federal law 42 CFR part 2 prohibits further disclosure"


def words(pdf) -> str:
    """The text with runs of white space folded."""
    return " ".join(text(pdf).split())


def test_refused_before_completion_with_the_projection(member):
    program, _, person, _ = member
    with pytest.raises(catalog.NotPrintable, match=r"^Sunny has not completed the program yet; projected to complete on "):
        participant_docs.certificate_order(person, program=program, today=TODAY)


def test_after_completion_one_landscape_page_with_name_dates_tracks_and_hours(member, document_cache):
    program, group, person, staff = member
    complete(group, person, staff)
    order = participant_docs.certificate_order(person, program=program, today=TODAY)
    path, _ = service.produce(order.key, order.build, document_cache)
    pdf = reader(path)
    assert len(pdf.pages) == 1 == order.pages
    box = pdf.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (792, 612)  # Letter, landscape
    all_words = words(path)
    assert "Certificate of Completion" in all_words and "HARBOR LIGHT IOP" in all_words and "Sunny" in all_words
    assert "Early Recovery Skills, Relapse Prevention, Family Education" in all_words
    weeks = progress.progress_for([person], TODAY)[person.id].progress.weeks
    hours = participant_docs.hours_words(sum(w.attended for w in weeks))
    assert hours != "0 hours" and f"Hours attended {hours}" in all_words
    admitted, completed = (participant_docs.day(d) for d in (monday_weeks_ago(2), TODAY - timedelta(days=1)))
    assert f"Admitted {admitted} · Completed {completed}" in all_words
    assert "Program director" in all_words and "Counselor" in all_words
    assert NOTICE_WORDS in all_words
    assert person.record_number not in all_words and "Page 1" not in all_words
    assert qpdf_clean(path)
    assert fonts(path) and all(f["emb"] == "yes" for f in fonts(path))
    assert order.kind == "certificate" and order.participant_ids == (person.id,) and order.program_id == program.id
    assert "Sunny" not in order.filename + str(order.detail)


def test_the_name_the_participant_chooses_prints_instead(member):
    program, group, person, staff = member
    complete(group, person, staff)
    chosen = participant_docs.certificate_order(person, program=program, today=TODAY, name="  Soledad   Ortiz ")
    all_words = words(service.render(chosen.build()))
    assert "Soledad Ortiz" in all_words and "Sunny" not in all_words
    assert chosen.key != participant_docs.certificate_order(person, program=program, today=TODAY).key
    markup = participant_docs.certificate_order(person, program=program, today=TODAY, name="Sam <b>&amp;</b>")
    assert "Sam <b>&amp;</b>" in words(service.render(markup.build()))  # printed as typed, never as markup
    # The longest name allowed, on A4, still fits one landscape page.
    longest = " ".join(["Wolfgang"] * 9)[:80]
    data = service.render(participant_docs.certificate_order(person, program=program, today=TODAY, name=longest,
                                                             page_size="a4").build())
    pdf = reader(data)
    assert len(pdf.pages) == 1 and float(pdf.pages[0].mediabox.width) > float(pdf.pages[0].mediabox.height)
    assert longest in words(data)


@pytest.mark.parametrize(("name", "message"), [
    ("   ", "Enter the name to print on the certificate"),
    ("x" * 200, "The name is 200 characters long; the certificate prints up to 80."),
    ("Sunny\x00", "cannot be printed"),
])
def test_a_blank_or_overlong_name_is_refused(member, name, message):
    program, group, person, staff = member
    complete(group, person, staff)
    with pytest.raises(catalog.NotPrintable, match=message):
        participant_docs.certificate_order(person, program=program, today=TODAY, name=name)


def test_another_programs_participant_or_an_unknown_size_is_not_found(member, make_program, make_participant):
    program, group, person, staff = member
    complete(group, person, staff)
    stranger = make_participant(make_program(), name="Sunny")
    with pytest.raises(catalog.DocumentNotFound, match="no participant with id"):
        participant_docs.certificate_order(stranger, program=program, today=TODAY)
    with pytest.raises(catalog.DocumentNotFound, match="unknown page size"):
        participant_docs.certificate_order(person, program=program, today=TODAY, page_size="legal")
