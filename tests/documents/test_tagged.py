"""Every printed document is a tagged PDF a screen reader can read: a structure tree, the document's
language, and a title that names the document (shown as the window title). The fillable worksheet
stays small (its fields type in a standard font; the body font is subset) and keeps its named fields."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pypdf

from facilitator import clock
from facilitator.documents import catalog, meeting_docs, participant_docs, service

from ..conftest import login
from .conftest import complete, fonts, qpdf_clean, reader
from .test_meeting_documents import _context

FILLABLE_BOUND = 100 * 1024  # a one-page fillable sheet embedded a whole 760 KB font before (423 KB)


def assert_tagged(pdf: Path, title: str, lang: str = "en") -> None:
    """A tagged PDF/UA document in a language, titled, that qpdf finds clean."""
    doc = reader(pdf)
    root = doc.trailer["/Root"]
    assert "/StructTreeRoot" in root, f"{title}: no structure tree"
    document = root["/StructTreeRoot"]["/K"][0].get_object()
    assert document["/S"] == "/Document" and len(document["/K"]) > 0, f"{title}: an empty structure tree"
    assert root["/MarkInfo"]["/Marked"] and root["/Lang"] == lang
    assert root["/ViewerPreferences"]["/DisplayDocTitle"], "viewers show the title, not the file name"
    assert doc.metadata.title == title
    assert qpdf_clean(pdf)


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    """The bytes as a file (qpdf and pdffonts read files)."""
    path = tmp_path / name
    path.write_bytes(data)
    return path


def render(tmp_path: Path, name: str, order: catalog.Order) -> Path:
    """An order rendered to a file, outside the cache."""
    return write(tmp_path, name, service.render(order.build()))


def test_worksheets_and_guides_are_tagged_and_titled(session, matrix16, make_program, make_group, make_participant,
                                                     tmp_path):
    program = make_program("Harbor Light IOP")
    person = make_participant(program, make_group(program), name="Sunny")
    module = catalog.lookup(catalog.domain_of(matrix16), "RP 3")[0]
    sheets = f"RP 3 {module.title}: worksheets"
    assert_tagged(render(tmp_path, "blank.pdf", catalog.worksheet_order("RP 3", version=matrix16)), sheets)
    assert_tagged(render(tmp_path, "named.pdf", catalog.worksheet_order("RP 3", version=matrix16, program=program,
                                                                        people=[person])), sheets)
    assert_tagged(render(tmp_path, "fillable.pdf", catalog.worksheet_order("RP 3A", version=matrix16, fillable=True)),
                  f"RP 3A {module.worksheets[0].title}")
    assert_tagged(render(tmp_path, "guide.pdf", catalog.guide_order("RP 3", version=matrix16)),
                  f"Facilitator guide: RP 3 {module.title}")


def test_the_sign_in_sheet_and_the_packet_are_tagged_and_the_packet_named_for_its_meeting(
        session, make_program, make_group, make_participant, tmp_path):
    program = make_program("Cedar House")
    group = make_group(program)
    for name in ("Robin Diaz", "Alex Moreno"):
        make_participant(program, group, name=name)
    ctx = _context(group)
    assert_tagged(render(tmp_path, "signin.pdf", meeting_docs.signin_order(ctx)),
                  f"Sign-in sheet / Hoja de registro: {group.name}, {ctx.when_in('en', 'day_year')}")
    # The packet opens with the guide; its title is the packet's, not the guide's.
    assert_tagged(render(tmp_path, "packet.pdf", meeting_docs.packet_order(ctx)),
                  f"Meeting packet: {ctx.module_code} {ctx.module_title}, {group.name}, {ctx.when}")


def test_the_progress_report_and_the_certificate_are_tagged_and_titled(member, tmp_path):
    program, group, person, staff = member
    today = clock.today()
    report = participant_docs.progress_order(person, program=program, today=today)
    assert_tagged(render(tmp_path, "progress.pdf", report), f"Progress report: Sunny, {participant_docs.day(today)}")
    complete(group, person, staff)
    certificate = participant_docs.certificate_order(person, program=program, today=today, name="Sunny Alvarez")
    assert_tagged(render(tmp_path, "certificate.pdf", certificate), "Certificate of completion: Sunny Alvarez")


def test_the_group_calendar_is_tagged_and_names_its_months(session, make_program, make_group, tmp_path):
    from facilitator.documents import calendar_doc

    program = make_program("Riverside IOP")
    group = make_group(program, name="Evening group", start=clock.today() - timedelta(days=30))
    first = clock.today().replace(day=1)
    last = calendar_doc.add_months(first, 1)
    order = calendar_doc.calendar_order(group, program=program, month=first, months=2)
    assert_tagged(render(tmp_path, "calendar.pdf", order),
                  f"Evening group: calendar, {first:%B %Y} to {last:%B %Y}")


def test_the_program_report_is_tagged(client, make_program, make_user, tmp_path):
    program = make_program("Harbor Light IOP")
    login(client, make_user("director", program).email)
    response = client.get("/reports/report.pdf")
    assert response.status_code == 200
    assert_tagged(write(tmp_path, "report.pdf", response.data), "Program report: Harbor Light IOP")


def test_a_fillable_sheet_stays_small_with_named_fields_typed_in_a_standard_font(session, matrix16, tmp_path):
    blank = render(tmp_path, "blank.pdf", catalog.worksheet_order("RP 3A", version=matrix16))
    fillable = render(tmp_path, "fillable.pdf", catalog.worksheet_order("RP 3A", version=matrix16, fillable=True))
    size = fillable.stat().st_size
    assert size < FILLABLE_BOUND and size < 3 * blank.stat().st_size, f"{size // 1024} KB"
    assert all(f["emb"] == "yes" and f["sub"] == "yes" for f in fonts(fillable)), "the body's fonts are subset"
    pdf = reader(fillable)
    fields = pdf.get_fields()
    assert len(fields) == 37 and all(field.get("/TU") for field in fields.values()), "every field has a name"
    form = pdf.trailer["/Root"]["/AcroForm"]
    assert form["/DR"]["/Font"]["/Helv"]["/BaseFont"] == "/Helvetica"
    widgets = [a.get_object() for page in pdf.pages for a in page["/Annots"]]
    text_fields = [w for w in widgets if w.get("/FT") == "/Tx"]
    assert text_fields and all(str(w["/DA"]).startswith("/Helv ") for w in text_fields)


def test_what_is_typed_into_a_field_shows_in_the_printed_page(session, matrix16, tmp_path):
    fillable = render(tmp_path, "fillable.pdf", catalog.worksheet_order("RP 3A", version=matrix16, fillable=True))
    writer = pypdf.PdfWriter(clone_from=reader(fillable))
    writer.update_page_form_field_values(writer.pages[0], {"rp3a_chart_partner": "José Núñez"}, auto_regenerate=False)
    filled = tmp_path / "filled.pdf"
    writer.write(filled)
    from .conftest import text

    assert "José Núñez" in text(filled)
