"""Worksheets through the one document service: blank, personalized copies, fillable forms, the
cache, and what every PDF must be (qpdf-clean, fonts embedded)."""

from __future__ import annotations

from datetime import date

import pypdf
import pytest
from sqlalchemy import select

from facilitator.documents import builders, catalog, service

from .conftest import fonts, qpdf_clean, reader, text

NOTICE_WORDS = "Federal law 42 CFR part 2 prohibits further disclosure"


@pytest.fixture
def produce(document_cache):
    """Render an order through the service's cache: (path, came from the cache)."""
    def run(order):
        return service.produce(order.key, order.build, document_cache)
    return run


def test_a_blank_module_packet_has_one_page_per_sheet_and_no_notice(session, matrix16, produce):
    order = catalog.worksheet_order("rp3", version=matrix16)
    path, _ = produce(order)
    assert len(reader(path).pages) == 2 == order.pages
    first, second = text(path, 1), text(path, 2)
    assert "RP 3A" in first and "My Mooring Lines" in first and "Page 1 of 2" in first
    assert "RP 3B" in second and "Signs I Am Drifting" in second and "Page 2 of 2" in second
    assert "Name" in first and "Group" in first and "Date" in first  # blank lines to fill by hand
    assert "42 CFR" not in text(path)
    assert qpdf_clean(path)
    assert fonts(path) and all(f["emb"] == "yes" for f in fonts(path))


def test_codes_are_accepted_loosely_and_a_worksheet_code_prints_one_sheet(session, matrix16):
    keys = {catalog.worksheet_order(code, version=matrix16).key for code in ("RP-3", "rp 3", "rp3", "RP 3")}
    assert len(keys) == 1
    one = catalog.worksheet_order("rp3b", version=matrix16)
    assert one.pages == 1 and one.detail["codes"] == ["RP 3B"]
    with pytest.raises(catalog.DocumentNotFound, match="not a module or worksheet code"):
        catalog.worksheet_order("RP 99", version=matrix16)


def test_personalized_copies_carry_each_name_and_the_notice_on_every_page(
        session, matrix16, make_program, make_group, make_participant, produce):
    program = make_program("Harbor Light IOP")
    group = make_group(program, name="Monday evening")
    alex = make_participant(program, group, name="Alex Rivera")
    sam = make_participant(program, group, name="Samira Nguyễn")
    order = catalog.worksheet_order("RP 3", version=matrix16, program=program, people=[alex, sam],
                                    on=date(2027, 3, 1))
    path, _ = produce(order)
    assert len(reader(path).pages) == 4
    for page, name in ((1, "Alex Rivera"), (2, "Alex Rivera"), (3, "Samira Nguyễn"), (4, "Samira Nguyễn")):
        page_text = text(path, page)
        assert name in page_text and "Monday evening" in page_text and "Mar 1, 2027" in page_text
        assert "Harbor Light IOP" in page_text
        assert NOTICE_WORDS in " ".join(page_text.split())
        assert f"Page {2 - page % 2} of 2" in page_text, "page numbers count within each copy"
    assert qpdf_clean(path)
    names = [f["name"] for f in fonts(path)]
    assert len(names) == len(set(names)), "one subset per font for the whole packet"
    assert order.filename == "RP-3-personalized.pdf" and "Alex" not in order.filename


def test_the_notice_says_what_42_cfr_2_32_requires():
    words = " ".join(builders.REDISCLOSURE_NOTICE.split())
    assert NOTICE_WORDS in words and "written consent" in words and "as the regulation otherwise permits" in words


def test_a_fillable_sheet_has_named_and_titled_fields_and_is_tagged(session, matrix16, produce):
    order = catalog.worksheet_order("RP 3A", version=matrix16, fillable=True)
    path, _ = produce(order)
    pdf = reader(path)
    fields = pdf.get_fields()
    sheet = catalog.lookup(catalog.domain_of(matrix16), "RP 3A")[1][0]
    expected = {"rp3a_name", "rp3a_group", "rp3a_date", "rp3a_start_date", "rp3a_chart_partner", "rp3a_retie_line",
                "rp3a_spare_line"} | {f"rp3a_anchors_r{r}_c{c}" for r in range(1, 6) for c in range(1, 7)}
    assert set(fields) == expected
    labels = {f.id: f.label for f in sheet.fields}
    assert fields["rp3a_chart_partner"]["/TU"] == labels["chart_partner"]
    assert fields["rp3a_anchors_r2_c3"]["/TU"] == "My anchors, checked week by week: row 2, Week 2"
    assert all(field.get("/TU") for field in fields.values()), "every field has an accessible name"
    root = pdf.trailer["/Root"]
    assert root["/Lang"] == "en" and root["/MarkInfo"]["/Marked"] and "/StructTreeRoot" in root
    widgets = {a.idnum for page in pdf.pages for a in page["/Annots"] if a.get_object()["/Subtype"] == "/Widget"}
    assert widgets == _tagged_form_objects(root["/StructTreeRoot"]), "every field is a <Form> in the tag tree"
    assert len(pdf.pages) == 1 and qpdf_clean(path)


def _tagged_form_objects(node) -> set[int]:
    """Object numbers of the annotations that <Form> structure elements point at."""
    node, found = node.get_object(), set()
    if isinstance(node, pypdf.generic.ArrayObject):
        for child in node:
            found |= _tagged_form_objects(child)
    elif isinstance(node, pypdf.generic.DictionaryObject):
        if node.get("/S") == "/Form":
            kids = node["/K"] if isinstance(node["/K"], pypdf.generic.ArrayObject) else [node["/K"]]
            found |= {k.get_object().raw_get("/Obj").idnum for k in kids
                      if isinstance(k.get_object(), pypdf.generic.DictionaryObject)
                      and k.get_object().get("/Type") == "/OBJR"}
        elif "/K" in node:
            found |= _tagged_form_objects(node["/K"])
    return found


def test_a_fillable_scale_is_one_radio_group_and_checklists_are_check_boxes(session, matrix16, produce):
    path, _ = produce(catalog.worksheet_order("IC 2B", version=matrix16, fillable=True))
    overall = reader(path).get_fields()["ic2b_overall"]
    assert overall["/FT"] == "/Btn" and len(overall["/Kids"]) == 10
    assert overall["/TU"] == "How my recovery is going overall (1 = Very hard, 10 = Going well)"
    path, _ = produce(catalog.worksheet_order("RP 3B", version=matrix16, fillable=True))
    fields = reader(path).get_fields()
    assert fields["rp3b_drift_actions_1"]["/FT"] == "/Btn"
    assert fields["rp3b_drift_thoughts_other_text"]["/FT"] == "/Tx"


def test_a_personalized_fillable_copy_prints_the_name_and_the_notice(
        session, matrix16, make_program, make_participant, produce):
    program = make_program()
    person = make_participant(program, name="Dana Lee")
    path, _ = produce(catalog.worksheet_order("RP 3A", version=matrix16, program=program, people=[person],
                                              fillable=True))
    page = " ".join(text(path).split())
    assert "Dana Lee" in page and NOTICE_WORDS in page
    assert "rp3a_name" not in reader(path).get_fields(), "the name is printed, not a field"
    with pytest.raises(catalog.DocumentNotFound, match="one participant"):
        catalog.worksheet_order("RP 3A", version=matrix16, people=[person, person], fillable=True)


def test_fillable_sheets_fit_as_the_printed_ones_do(session, matrix16, produce):
    # The fullest sheets at Letter; the fillable layout moves the Name row into the body.
    for code in ("RP 6A", "IC 3A", "FE 10A", "RP 17A"):
        order = catalog.worksheet_order(code, version=matrix16, fillable=True)
        path, _ = produce(order)
        assert len(reader(path).pages) == order.pages, code


def test_a_repeat_comes_from_the_cache_and_any_change_makes_a_new_file(
        session, matrix16, make_program, make_participant, produce):
    program = make_program()
    person = make_participant(program, name="Jo")
    order = catalog.worksheet_order("ERS 1A", version=matrix16, program=program, people=[person], on=date(2027, 1, 5))
    first, cached = produce(order)
    again, cached_again = produce(catalog.worksheet_order("ERS 1A", version=matrix16, program=program, people=[person],
                                                          on=date(2027, 1, 5)))
    assert (cached, cached_again) == (False, True) and again == first
    variants = [
        catalog.worksheet_order("ERS 1A", version=matrix16, program=program, people=[person], on=date(2027, 1, 6)),
        catalog.worksheet_order("ERS 1A", version=matrix16, program=program, people=[person], on=date(2027, 1, 5),
                                page_size="a4"),
        catalog.worksheet_order("ERS 1A", version=matrix16, program=program, on=date(2027, 1, 5)),
        catalog.worksheet_order("ERS 1A", version=matrix16, program=program, people=[person], on=date(2027, 1, 5),
                                fillable=True),
    ]
    person.preferred_name = "Joanne"
    variants.append(catalog.worksheet_order("ERS 1A", version=matrix16, program=program, people=[person],
                                            on=date(2027, 1, 5)))
    assert len({order.key, *(v.key for v in variants)}) == 6



def test_a_draft_is_keyed_by_its_current_content(session, matrix16, make_program):
    from facilitator.curricula.models import Worksheet
    from facilitator.curricula.services import import_curriculum

    program = make_program()
    draft, _ = import_curriculum(catalog.domain_of(matrix16), program_id=program.id, publish=False)
    draft.content_hash = ""  # as the curriculum editor keeps it until publishing
    before = catalog.worksheet_order("RP 3A", version=draft)
    assert before.key == catalog.worksheet_order("RP 3A", version=matrix16).key, "same content, same document"
    sheet = session.scalars(select(Worksheet).where(Worksheet.version_id == draft.id, Worksheet.code == "RP 3A")).one()
    sheet.title = "My Mooring Lines, edited"
    session.flush()
    after = catalog.worksheet_order("RP 3A", version=draft)
    assert after.key != before.key and "edited" in after.build().html
