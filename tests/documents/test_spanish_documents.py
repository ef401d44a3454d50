"""Printing in the person's language (issue 18): a Spanish worksheet with no English template words, the
command line's --lang (and a language the curriculum lacks refused with no file), a meeting packet whose
copies are each in their person's language, the bilingual sign-in sheet and a Spanish progress report."""

from __future__ import annotations

import re
from datetime import date

import pytest

from facilitator.documents import catalog, meeting_docs, participant_docs, service
from facilitator.extensions import db

from ..conftest import csrf_token, login
from .conftest import reader, text
from .test_meeting_documents import RP, _context

# Words the templates print on a worksheet in English; none may show on a Spanish one.
ENGLISH_WORDS = ("Name", "Group", "Date", "Page", "Other", "Confidential", "What I will do", "Time", "week",
                 "signature", "Midnight", "Noon")


def words(pdf, page: int | None = None) -> str:
    """A document's text with runs of white space folded."""
    return " ".join(text(pdf, page).split())


def render(order, tmp_path, name="doc.pdf"):
    path = tmp_path / name
    path.write_bytes(service.render(order.build()))
    return path


@pytest.fixture
def version(matrix16):
    assert "es" in catalog.domain_of(matrix16).languages, "matrix-16 ships Spanish"
    return matrix16


def test_a_spanish_worksheet_prints_the_twin_and_spanish_template_words(version, tmp_path, make_program,
                                                                         make_group, make_participant):
    program = make_program("Casa Cedro")
    person = make_participant(program, make_group(program), name="Rosa")
    person.language = "es"
    db.session.flush()
    order = catalog.worksheet_order("RP 3", version=version, program=program, people=[person],
                                    on=date(2027, 3, 2))
    assert order.detail["lang"] == "es" and order.filename.endswith("-es.pdf"), "a person's copy: their language"
    path = render(order, tmp_path)
    page = words(path)
    assert "Mis amarras" in page and "Señales de que voy a la deriva" in page, "the Spanish twin's titles"
    assert "Mis anclas, marcadas semana por semana" in page, "and its prompts"
    assert "My Mooring Lines" not in page
    for spanish in ("Nombre", "Grupo", "Fecha", "Página 1 de", "Confidencial", "2 de mar de 2027", "Rosa"):
        assert spanish in page, spanish
    for english in ENGLISH_WORDS:
        assert not re.search(rf"\b{english}\b", page), english
    assert reader(path).pdf_header and "/Lang" in str(reader(path).trailer["/Root"])
    assert str(reader(path).trailer["/Root"]["/Lang"]) == "es"
    # The same sheet in English is another document (the language is part of the cache key).
    english = catalog.worksheet_order("RP 3", version=version, program=program, people=[person], lang="en",
                                      on=date(2027, 3, 2))
    assert english.key != order.key and english.detail["lang"] == "en"


def test_a_spanish_schedule_and_fillable_sheet_have_spanish_labels(version, tmp_path):
    # ERS 2's daily schedule prints hours; a fillable copy titles its fields for screen readers.
    module, sheets = catalog.lookup(catalog.domain_of(version), "ERS 2")
    order = catalog.worksheet_order(sheets[0].code, version=version, lang="es", fillable=True)
    path = render(order, tmp_path)
    page = words(path)
    assert sheets[0].title not in page or sheets[0].title == module.in_language("es").worksheets[0].title
    assert module.in_language("es").worksheets[0].title in page
    assert not re.search(r"\b(Name|Group|Date|Page)\b", page)
    fields = reader(path).get_fields() or {}
    assert fields, "still a fillable form, with the same field names"


def test_cli_lang_es_and_a_language_the_curriculum_lacks(runner, tmp_path):
    out = tmp_path / "rp3-es.pdf"
    result = runner.invoke(args=["print", "worksheet", "RP 3A", "--lang", "es", "-o", str(out)])
    assert result.exit_code == 0, result.output
    page = words(out)
    assert "Mis amarras" in page and "Nombre" in page and "My Mooring Lines" not in page
    guide = tmp_path / "rp3-guide-es.pdf"
    result = runner.invoke(args=["print", "guide", "RP 3", "--lang", "es", "-o", str(guide)])
    assert result.exit_code == 0, result.output
    page = words(guide)
    assert "Guía del facilitador" in page and "Evitar la deriva hacia la recaída" in page and "Objetivos" in page
    assert "Timed outline" not in page and "Goals" not in page

    for lang in ("fr", "xx"):
        missing = tmp_path / f"rp3-{lang}.pdf"
        result = runner.invoke(args=["print", "worksheet", "RP 3A", "--lang", lang, "-o", str(missing)])
        assert result.exit_code != 0
        assert f"'{lang}'" in result.output and "en (English) or es (Español)" in result.output, result.output
        assert not missing.exists() and not list(tmp_path.glob("*.part"))


def test_a_curriculum_without_spanish_refuses_spanish(version, monkeypatch):
    english_only = catalog.domain_of(version)
    monkeypatch.setattr(catalog, "domain_of", lambda v: english_only.__class__(
        **{**{f: getattr(english_only, f) for f in english_only.__dataclass_fields__}, "translations": ()}))
    with pytest.raises(catalog.LanguageMissing, match="has no Español text"):
        catalog.worksheet_order("RP 3A", version=version, lang="es")
    # Without a language asked for, a Spanish page prints the curriculum's own language.
    assert catalog.worksheet_order("RP 3A", version=version, preferred="es").detail["lang"] == "en"


@pytest.fixture
def mixed(session, make_program, make_group, make_participant):
    """A group whose first RP meeting expects Alex (English) and Rosa (Spanish)."""
    program = make_program("Cedar House")
    group = make_group(program)
    alex = make_participant(program, group, name="Alex Moreno")
    rosa = make_participant(program, group, name="Rosa Vidal")
    rosa.language = "es"
    db.session.flush()
    return program, group, alex, rosa


def test_a_packet_prints_each_person_s_copy_in_their_language(mixed, version, tmp_path):
    program, group, alex, rosa = mixed
    ctx = _context(group, RP)
    order = meeting_docs.packet_order(ctx)
    path = render(order, tmp_path, "packet.pdf")
    pdf = reader(path)
    module, sheets = catalog.lookup(catalog.domain_of(version), ctx.module_code)
    twin = module.in_language("es")
    copies = {}
    for n in range(1, len(pdf.pages) + 1):
        page = words(path, n)
        for name in ("Alex Moreno", "Rosa Vidal"):
            if f"Nombre {name}" in page or f"Name {name}" in page:
                copies.setdefault(name, []).append(page)
    assert set(copies) == {"Alex Moreno", "Rosa Vidal"}
    for page in copies["Alex Moreno"]:
        assert "Name Alex Moreno" in page and "Nombre" not in page and "Página" not in page
    assert any(sheets[0].title in page for page in copies["Alex Moreno"])
    for page in copies["Rosa Vidal"]:
        assert "Nombre Rosa Vidal" in page and "Página" in page and not re.search(r"\b(Name|Group|Page)\b", page)
    assert any(twin.worksheets[0].title in page for page in copies["Rosa Vidal"])
    assert "Facilitator guide" in words(path, 1), "the guide in the packet's language (English by default)"
    spanish = meeting_docs.packet_order(ctx, lang="es")
    assert spanish.key != order.key and spanish.detail["lang"] == "es"


def test_the_sign_in_sheet_is_bilingual(mixed, tmp_path):
    program, group, alex, rosa = mixed
    path = render(meeting_docs.signin_order(_context(group, RP)), tmp_path, "signin.pdf")
    page = words(path)
    for label in ("Sign-in sheet / Hoja de registro", "Name / Nombre", "Signature / Firma", "Time in", "Page 1 of 1",
                  "Hora de", "entrada", "Time out", "salida", "Facilitator / Facilitador(a)",
                  "Number present / Número de presentes", "Please sign next to your name",
                  "Por favor, firme al lado de su nombre", "Mon Jan 4, 2027, 6:30 PM", "lun 4 de ene de 2027, 6:30 p.m.",
                  "4 de ene de 2027", "Página 1 de 1", "42 CFR part 2", "42 CFR parte 2", "Alex Moreno", "Rosa Vidal"):
        assert label in page, label
    assert len(reader(path).pages) == 1, "the bilingual sheet still fits its page"


def test_a_spanish_participant_s_progress_report_is_in_spanish(member, tmp_path):
    program, group, person, staff = member
    person.language = "es"
    db.session.flush()
    order = participant_docs.progress_order(person, program=program, today=catalog.program_today(program))
    assert order.detail["lang"] == "es"
    path = render(order, tmp_path, "progress.pdf")
    page = words(path)
    for spanish in ("Informe de progreso", "Participante", "Expediente R-", "Asistencia",
                    "Pruebas de drogas y alcohol", "Confidencial (42 CFR 2.32)", "Página 1 de", "Sunny"):
        assert spanish in page, spanish
    for english in ("Progress report", "Record number", "Attendance", "Drug and alcohol tests", "End of report",
                    "Page 1 of"):
        assert english not in page, english
    english = participant_docs.progress_order(person, program=program, today=catalog.program_today(program),
                                              lang="en")
    assert english.key != order.key and "Progress report" in words(render(english, tmp_path, "en.pdf"))


def test_cli_progress_defaults_to_the_participant_s_language(member, runner, tmp_path):
    program, group, person, staff = member
    person.language = "es"
    db.session.flush()
    out = tmp_path / "progress.pdf"
    result = runner.invoke(args=["print", "progress", str(person.id), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "Informe de progreso" in words(out)
    result = runner.invoke(args=["print", "progress", str(person.id), "--lang", "fr", "-o", str(tmp_path / "x.pdf")])
    assert result.exit_code != 0 and "'fr'" in result.output and not (tmp_path / "x.pdf").exists()


def test_web_prints_in_the_page_s_language_or_the_one_chosen(client, session, make_program, make_group,
                                                             make_participant, make_user):
    program = make_program("Casa Cedro")
    group = make_group(program)
    person = make_participant(program, group, name="Rosa")
    person.language = "es"
    staff = make_user("facilitator", program)
    db.session.flush()
    login(client, staff.email)
    english = client.get("/documents/guide/rp3.pdf")
    assert english.status_code == 200 and "Goals" in words(english.data)
    spanish = client.get("/documents/guide/rp3.pdf?lang=es")
    assert spanish.status_code == 200 and "Objetivos" in words(spanish.data)
    assert spanish.headers["Content-Disposition"].endswith('RP-3-guide-es.pdf')
    refused = client.get("/documents/worksheet/rp3a.pdf?lang=fr")
    assert refused.status_code == 404
    # A personalized copy is in its person's language, whatever the page's.
    copy = client.get(f"/documents/worksheet/rp3a.pdf?participant={person.id}")
    assert "Mis amarras" in words(copy.data) and "Nombre Rosa" in words(copy.data)
    # The page in Spanish: blank worksheets and calendars in Spanish by default.
    token = csrf_token(client.get("/", follow_redirects=True).text)
    client.post("/language", data={"language": "es", "csrf_token": token})
    blank = client.get("/documents/worksheet/rp3a.pdf")
    assert "Mis amarras" in words(blank.data) and "Nombre" in words(blank.data)
    calendar = client.get(f"/documents/groups/{group.id}/calendar.pdf?month=2027-03")
    page = words(calendar.data)
    assert calendar.status_code == 200 and "marzo de 2027" in page and re.search(r"\bdom", page, re.I), page[:300]
    assert "p.m." in page and "Apoyo social" in page, "times and track names in Spanish"
    assert not re.search(r"\b(Sunday|Sun|March|PM)\b", page, re.I)


def test_the_print_language_choice_for_other_pages(app, session):
    with app.test_request_context("/"):
        from flask_babel import force_locale

        with force_locale("es"):
            macros = app.jinja_env.get_template("documents/_print_language.html").module
            html = str(macros.select("x")) + str(macros.links("documents.guide", code="RP 3"))
    assert 'name="lang"' in html and '<option value="es" lang="es" selected>Español</option>' in html
    assert "Imprimir en" in html and "lang=en" in html and "lang=es" in html


def test_a_spanish_participant_s_certificate_and_printed_answers(member, tmp_path):
    from sqlalchemy import select

    from facilitator.curricula.models import Worksheet
    from facilitator.documents import workbook_docs
    from facilitator.workbook.models import WorksheetAnswer

    from .conftest import complete

    program, group, person, staff = member
    person.language = "es"
    complete(group, person, staff)
    today = catalog.program_today(program)
    path = render(participant_docs.certificate_order(person, program=program, today=today), tmp_path, "certificate.pdf")
    assert len(reader(path).pages) == 1, "one landscape page in Spanish too"
    certificate = words(path)
    for spanish in ("Certificado de terminación", "Se certifica que", "Sunny", "ha terminado", "Prevención de recaídas",
                    "Horas de asistencia", "Consejero(a)"):
        assert spanish in certificate, spanish
    assert "Certificate" not in certificate and "Relapse Prevention" not in certificate

    row = db.session.scalars(select(Worksheet).where(Worksheet.version_id == group.version_id,
                                                     Worksheet.code == "RP 3A")).one()
    answer = WorksheetAnswer(participant_id=person.id, worksheet_id=row.id, status="draft",
                             answers={"start_date": "2027-01-04", "chart_partner": "Mi madrina Ana"})
    db.session.add(answer)
    db.session.flush()
    order = workbook_docs.answers_order(person, answer, program=program)
    page = words(render(order, tmp_path, "answers.pdf"))
    assert "Mis amarras" in page and "Mi madrina Ana" in page and "Nombre Sunny" in page
    assert "My Mooring Lines" not in page and not re.search(r"\b(Name|Page)\b", page)


def test_the_spanish_handbook_has_spanish_covers_contents_and_worksheets(version):
    """The handbook (140 pages: its render is left to the handbook tests) is laid out from Spanish HTML."""
    html = catalog.handbook_order(version=version, lang="es").build().html
    for spanish in ('lang="es"', "Manual del participante", "Contenido", "Mis razones para la recuperación",
                    "Prevención de recaídas"):
        assert spanish in html, spanish
    for english in ("Participant handbook", "Contents", "My Reasons for Recovery", "Relapse Prevention"):
        assert english not in html, english
