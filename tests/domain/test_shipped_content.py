"""What the shipped matrix-16 must tell participants, in the pages they read (no app, no database).

Worksheets and handouts are what participants take home; facilitator guides are not enough. The
words below must reach them in the tracks every participant attends (required tracks), the
schedule keeps its shape, and the reading level of the worksheets never rises above the figures
of version 2026.1.
"""

from __future__ import annotations

import re

import pytest

from facilitator.domain.curriculum import Curriculum
from facilitator.domain.curriculum_files import load_folder, shipped_path
from facilitator.domain.curriculum_rules import participant_text, track_report

# The validator's table for version 2026.1 (mean, max worksheet grade per track): never higher.
GRADE_CEILING = {"IC": (3.5, 5.9), "ERS": (2.3, 4.4), "RP": (2.2, 5.7), "FE": (3.0, 4.3), "SS": (2.5, 6.0),
                 "RA": (2.2, 2.2)}
SAFETY_WORDS = ("naloxone", "fentanyl", "test strips", "988", "buprenorphine", "methadone",
                "contingency management", "good samaritan", "second dose")


@pytest.fixture(scope="module")
def matrix() -> Curriculum:
    curriculum, problems = load_folder(shipped_path("matrix-16"))
    assert curriculum is not None and [p for p in problems if p.severity == "error"] == []
    return curriculum


def _sheet_text(curriculum: Curriculum, tracks: set[str] | None = None, module: str | None = None) -> str:
    """Every word participants read on the worksheets of the given tracks (or one module), lower case."""
    parts = []
    for track in curriculum.tracks:
        if tracks is not None and track.code not in tracks:
            continue
        for m in track.modules:
            if module is None or m.code == module:
                parts += [text for sheet in m.worksheets for text in participant_text(sheet)]
    return " ".join(" ".join(parts).lower().split())


def test_the_new_version_keeps_the_schedule_shape(matrix):
    assert matrix.version == "2027.2"
    counts = {t.code: len(t.modules) for t in matrix.tracks}
    assert (counts["ERS"], counts["RP"], counts["FE"], counts["SS"]) == (8, 32, 12, 36)


@pytest.mark.parametrize("word", SAFETY_WORDS)
def test_participants_read_the_safety_words_in_required_tracks(matrix, word):
    required = {t.code for t in matrix.tracks if t.required}
    assert required == {"IC", "ERS", "RP", "FE"}
    assert word in _sheet_text(matrix, required)


def test_overdose_prevention_reaches_participants_at_intake_and_in_early_recovery_skills(matrix):
    intake = _sheet_text(matrix, module="IC 1")
    for word in ("naloxone", "fentanyl", "test strips", "911", "988", "never-use-alone", "one breath every 5 seconds", "on their side",
                 "stay with them", "second dose", "good samaritan"):
        assert word in intake, word
    early = _sheet_text(matrix, {"ERS"})
    for word in ("naloxone", "fentanyl", "test strips", "never use alone", "988"):
        assert word in early, word
    sheets = {w.title: w for m in matrix.modules() for w in m.worksheets}
    assert "My Overdose Plan" in sheets and "How the Prize Bowl Works" in sheets


def test_no_page_teaches_the_rubber_band(matrix):
    for module in matrix.modules():
        texts = [module.key_points, *(s.activity for s in module.outline),
                 *(t for w in module.worksheets for t in participant_text(w))]
        assert not any("rubber band" in t.lower() for t in texts), module.code


def test_the_recovery_timeline_is_the_same_wherever_it_is_taught(matrix):
    """ERS 5, FE 3 and RP 11 give one timeline: the wall is about weeks 7 to 16 (months 2 to 4)."""
    for code in ("ERS 5", "FE 3", "RP 11"):
        module = next(m for m in matrix.modules() if m.code == code)
        text = " ".join([module.key_points, *(s.activity for s in module.outline),
                         *(t for w in module.worksheets for t in participant_text(w))])
        assert re.search(r"weeks 7 to 16", text), code
        assert not re.search(r"week 6 to month 4|months two to four|weeks 2 to 6", text), code


def test_reading_level_stays_at_or_below_version_2026_1(matrix):
    for row in track_report(matrix):
        mean_ceiling, max_ceiling = GRADE_CEILING[row.code]
        assert row.mean_grade <= mean_ceiling and row.max_grade <= max_ceiling, row


# --- the Spanish edition (2027.2) -----------------------------------------------------------------

SPANISH_SAFETY_WORDS = ("naloxona", "fentanilo", "tiras reactivas", "988", "buprenorfina", "metadona",
                        "manejo de contingencias")


def test_every_module_and_worksheet_has_its_spanish_twin_of_the_same_shape(matrix):
    from facilitator.domain.curriculum_languages import twin_problems

    assert matrix.languages == ("en", "es")
    for module in matrix.modules():
        twin = module.in_language("es")
        assert twin is not module, f"{module.code} has no Spanish twin"
        assert twin_problems(module, twin) == [], module.code
        assert [w.code for w in twin.worksheets] == [w.code for w in module.worksheets]
        assert all(w.language == "es" for w in twin.worksheets)
    assert {t.name_in("es") for t in matrix.tracks} >= {"Prevención de recaídas", "Educación familiar"}


@pytest.mark.parametrize("word", SPANISH_SAFETY_WORDS)
def test_spanish_readers_get_the_same_safety_words(matrix, word):
    required = {t.code for t in matrix.tracks if t.required}
    assert word in _sheet_text(matrix.in_language("es"), required)


def test_spanish_worksheets_read_plainly_and_label_no_one(matrix):
    from facilitator.domain.curriculum_languages import STIGMA, reading_ease

    for module in matrix.modules():
        for sheet in module.in_language("es").worksheets:
            ease, _ = reading_ease(participant_text(sheet), "es")
            assert ease >= 70, f"{sheet.code} reads at Fernández-Huerta {ease:.0f} in Spanish"
            text = " ".join(participant_text(sheet))
            assert not STIGMA["es"].search(text), (sheet.code, STIGMA["es"].search(text).group(0))
