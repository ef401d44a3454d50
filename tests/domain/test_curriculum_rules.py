"""Every countable content rule of the curriculum fails when it is broken (no app, no database)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from facilitator.domain.curriculum import Curriculum, Field, Module, OutlineStep, Worksheet
from facilitator.domain.curriculum_files import load_folder, shipped_path
from facilitator.domain.curriculum_rules import check_content, check_structure, participant_text, reading_grade


@pytest.fixture(scope="module")
def matrix() -> Curriculum:
    curriculum, problems = load_folder(shipped_path("matrix-16"))
    assert curriculum is not None
    assert [p for p in problems if p.severity == "error"] == []
    return curriculum


def _with_module(curriculum: Curriculum, target: str, **changes) -> Curriculum:
    tracks = []
    for track in curriculum.tracks:
        modules = tuple(replace(m, **changes) if m.code == target else m for m in track.modules)
        tracks.append(replace(track, modules=modules))
    return replace(curriculum, tracks=tuple(tracks))


def _with_sheet(curriculum: Curriculum, target: str, **changes) -> Curriculum:
    module = next(m for m in curriculum.modules() if any(w.code == target for w in m.worksheets))
    sheets = tuple(replace(w, **changes) if w.code == target else w for w in module.worksheets)
    return _with_module(curriculum, module.code, worksheets=sheets)


def _messages(problems) -> str:
    return "\n".join(str(p) for p in problems if p.severity == "error")


def test_the_shipped_curriculum_breaks_no_rule(matrix):
    assert _messages(check_structure(matrix) + check_content(matrix)) == ""


def test_the_counts_match_the_program(matrix):
    counts = {t.code: len(t.modules) for t in matrix.tracks}
    assert counts == {"IC": 3, "ERS": 8, "RP": 32, "FE": 12, "SS": 36, "RA": 1}
    assert all(m.worksheets for m in matrix.modules()), "every module has at least one worksheet"


def test_outline_minutes_must_add_up(matrix):
    module = matrix.module("RP 3")
    broken = _with_module(matrix, "RP 3", outline=module.outline[:-1] + (OutlineStep(25, "Open discussion"),))
    assert "outline minutes add up to 85, not 90" in _messages(check_structure(broken))


def test_rp_ends_with_thirty_minutes_of_open_discussion(matrix):
    module = matrix.module("RP 3")
    steps = module.outline
    swapped = (replace(steps[0], minutes=steps[0].minutes + 10),) + steps[1:-1] + (replace(steps[-1], minutes=20),)
    broken = _with_module(matrix, "RP 3", outline=swapped)
    assert "the last step must be 30 minutes of open discussion" in _messages(check_structure(broken))


def test_a_module_needs_a_worksheet_and_key_points(matrix):
    broken = _with_module(matrix, "ERS 4", worksheets=(), key_points="")
    messages = _messages(check_structure(broken))
    assert "every module needs at least one worksheet" in messages
    assert "the key points (the Markdown body) are empty" in messages


@pytest.mark.parametrize("word", ["addict", "Abusers", "junkie", "dirty", "clean test"])
def test_stigmatizing_words_are_refused(matrix, word):
    module = matrix.module("RP 9")
    broken = _with_module(matrix, "RP 9", goals=(f"Talk with each {word} in the group.",) + module.goals[1:])
    assert "person-first wording" in _messages(check_content(broken))


@pytest.mark.parametrize("text", ["TODO write this", "Lorem ipsum dolor", "TBD", "Think about it...", "Wait…"])
def test_placeholder_text_is_refused(matrix, text):
    broken = _with_module(matrix, "FE 2", questions=matrix.module("FE 2").questions[:-1] + (text,))
    assert "placeholder text" in _messages(check_content(broken))


def test_a_prompt_may_not_repeat_another_worksheet_word_for_word(matrix):
    source = next(f for f in matrix.module("RP 3").worksheets[0].fields if f.type in ("lines", "text"))
    target = matrix.module("SS 12").worksheets[0]
    broken = _with_sheet(matrix, target.code, fields=target.fields + (replace(source, id="copied"),))
    assert "word for word" in _messages(check_content(broken))


def test_hard_reading_is_refused(matrix):
    dense = Field(id="dense", type="lines", lines=2, label=(
        "Contemplate comprehensively the multidimensional psychophysiological ramifications "
        "of methamphetamine-associated neurotransmitter dysregulation on interpersonal relationships"))
    sheet = matrix.module("ERS 5").worksheets[0]
    broken = _with_sheet(matrix, sheet.code, fields=(dense,), intro="")
    assert reading_grade(participant_text(replace(sheet, fields=(dense,), intro=""))) > 10
    assert "reads at grade" in _messages(check_content(broken))


def test_a_worksheet_must_fit_its_pages(matrix):
    sheet = matrix.module("RP 3").worksheets[0]
    extra = tuple(Field(id=f"q{i}", type="lines", lines=4, label=f"Question number {i} about drift") for i in range(12))
    broken = _with_sheet(matrix, sheet.code, fields=sheet.fields + extra)
    assert "more than 1 page(s) hold" in _messages(check_structure(broken))


def test_tables_need_rows_and_headers(matrix):
    sheet = matrix.module("RP 3").worksheets[0]
    headerless = Field(id="t", type="table", label="A chart", columns=("When", " "), rows=3)
    rowless = Field(id="u", type="table", label="Another chart", columns=("When", "Where"))
    broken = _with_sheet(matrix, sheet.code, fields=(headerless, rowless))
    messages = _messages(check_structure(broken))
    assert "every table column needs a header" in messages
    assert "a table needs blank rows or row_labels" in messages


def test_codes_must_be_unique_and_match_their_track(matrix):
    second = matrix.module("RP 2")
    broken = _with_module(matrix, "RP 2", code="RP 1")
    assert "RP 1 is also defined in" in _messages(check_structure(broken))
    misplaced = _with_module(matrix, second.code, code="FE 99")
    assert "FE 99 is listed under track RP" in _messages(check_structure(misplaced))


def test_worksheet_codes_are_unique_in_a_version(matrix):
    sheet = matrix.module("RP 4").worksheets[0]
    other = matrix.module("RP 5").worksheets[0]
    broken = _with_sheet(matrix, other.code, code=sheet.code)
    assert f"worksheet {sheet.code} is also defined in" in _messages(check_structure(broken))


def test_goals_are_three_to_five_in_the_file_format(tmp_path):
    from facilitator.domain.curriculum_files import parse_module
    from facilitator.domain.problems import Problem

    text = shipped_path("matrix-16").joinpath("modules/ers/ers-01.md").read_text()
    head, _, rest = text.partition("goals:\n")
    goals, _, tail = rest.partition("outline:\n")
    one_goal = head + "goals:\n" + goals.splitlines(keepends=True)[0] + "outline:\n" + tail
    problems: list[Problem] = []
    assert parse_module("modules/ers/ers-01.md", one_goal, problems) is None
    assert any(p.field == "goals" and "is too short" in p.message for p in problems)


def test_every_field_has_a_label_a_screen_reader_can_announce(matrix):
    for module in matrix.modules():
        for sheet in module.worksheets:
            for field in sheet.fields:
                assert field.type == "note" or field.label.strip(), f"{sheet.code}.{field.id}"
                if field.type == "table":
                    assert all(c.strip() for c in field.columns)
                    assert not field.row_labels or field.row_header


def test_unlabelled_field_is_refused_by_the_schema():
    from facilitator.domain.curriculum_files import parse_module
    from facilitator.domain.problems import Problem

    text = shipped_path("matrix-16").joinpath("modules/ers/ers-01.md").read_text()
    broken = text.replace("        label: Month and year\n", "", 1)
    problems: list[Problem] = []
    assert parse_module("modules/ers/ers-01.md", broken, problems) is None
    assert any("'label' is a required property" in p.message for p in problems)


def test_modules_built_in_code_keep_their_number():
    module = Module(code="RP 12", title="Trust", minutes=90)
    assert (module.track_code, module.number) == ("RP", 12)
    assert Worksheet(code="RP 12A", title="x", fields=()).pages == 1
