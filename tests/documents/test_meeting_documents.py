"""A meeting's sign-in sheet and packet: the expected roster on paper, no record numbers, the
42 CFR notice, blank rows for walk-ins, and one merged PDF with a named copy per person."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from facilitator.audit.models import AuditEvent
from facilitator.documents import catalog, meeting_docs, service
from facilitator.meetings import services as meetings

from ..conftest import csrf_token, login
from .conftest import fonts, qpdf_clean, reader, text
from .test_views import _wait_for_file

MONDAY = date(2027, 1, 4)
RP = f"{MONDAY.isoformat()}/1830/RP"  # the group's first relapse-prevention meeting


@pytest.fixture
def evening(session, make_program, make_group, make_participant):
    """A program with a group whose first RP meeting expects three people."""
    program = make_program("Cedar House")
    group = make_group(program)
    people = [make_participant(program, group, name=name) for name in ("Robin Diaz", "Alex Moreno", "Sam Lee")]
    return program, group, people


def _context(group, reference=RP):
    found = meeting_docs.find_meeting(f"{group.id}/{reference}")
    return meeting_docs.meeting_context(*found)


def _render(order, tmp_path, name="doc.pdf"):
    path = tmp_path / name
    path.write_bytes(service.render(order.build()))
    return path


def test_the_sign_in_sheet_lists_the_expected_people_by_preferred_name_without_record_numbers(evening, tmp_path):
    program, group, people = evening
    path = _render(meeting_docs.signin_order(_context(group)), tmp_path)
    page = text(path)
    assert [p.preferred_name for p in people if p.preferred_name in page] == [p.preferred_name for p in people]
    assert page.index("Alex Moreno") < page.index("Robin Diaz") < page.index("Sam Lee"), "alphabetical"
    assert not any(p.record_number in page for p in people)
    for words in ("Signature", "Time in", "Time out", "Relapse Prevention", "Mon Jan 4, 2027, 6:30 PM",
                  "42 CFR part 2", "Facilitator", "Number present"):
        assert words in page, words
    numbers = [line.split()[0] for line in page.splitlines() if line.strip()[:2].strip().isdigit()]
    assert len(reader(path).pages) == 1
    assert numbers[-1] == str(meeting_docs.ROWS_PER_PAGE["letter"][0]), "blank rows fill the first page"
    assert qpdf_clean(path)
    assert all(f["emb"] == "yes" for f in fonts(path))


def test_a_program_that_signs_in_by_initials_prints_no_names(evening, session, tmp_path):
    program, group, people = evening
    program.signin_naming = "initials"
    session.flush()
    page = text(_render(meeting_docs.signin_order(_context(group)), tmp_path))
    assert all(p.initials in page for p in people)
    assert not any(p.preferred_name in page for p in people)


def test_a_long_roster_runs_over_pages_with_the_column_headers_on_each(session, make_program, make_group,
                                                                       make_participant, tmp_path):
    program = make_program()
    group = make_group(program)
    for n in range(24):
        make_participant(program, group, name=f"Member {n:02d}")
    order = meeting_docs.signin_order(_context(group), page_size="a4")
    path = _render(order, tmp_path)
    pdf = reader(path)
    assert len(pdf.pages) == order.pages == 2
    second = text(path, page=2)
    assert "Signature" in second and "Time out" in second and "Member 23" in second
    assert "42 CFR part 2" in second, "the notice is on every page"
    assert [round(float(v)) for v in pdf.pages[0].mediabox[2:]] == [595, 842]


def test_the_packet_is_the_guide_the_sign_in_sheet_and_a_named_copy_per_person_in_one_pdf(evening, tmp_path):
    program, group, people = evening
    ctx = _context(group)
    order = meeting_docs.packet_order(ctx)
    path = _render(order, tmp_path)
    version = catalog.domain_of(group.version)
    module, sheets = catalog.lookup(version, ctx.module_code)
    guide_pages = len(reader(_render(catalog.guide_order(module.code, version=group.version), tmp_path, "g.pdf")).pages)
    sheet_pages = sum(s.pages for s in sheets)
    pdf = reader(path)
    walk_ins = meeting_docs.WALK_IN_COPIES
    assert len(pdf.pages) == guide_pages + 1 + sheet_pages * (len(people) + walk_ins)
    assert "Facilitator guide" in text(path, page=1)
    assert "Sign-in sheet" in text(path, page=guide_pages + 1)
    by_name = sorted(people, key=lambda p: p.preferred_name)
    for n, person in enumerate(by_name):
        first = guide_pages + 2 + n * sheet_pages
        for page in range(first, first + sheet_pages):
            words = text(path, page=page)
            assert person.preferred_name in words and "Evening group" in words and "Jan 4, 2027" in words
            assert sheets[0].code in words or sheets[-1].code in words
    blank = text(path, page=len(pdf.pages))
    assert not any(p.preferred_name in blank for p in people) and "Name" in blank, "walk-in copies come blank"
    names = [f["name"] for f in fonts(path)]
    assert len(names) == len(set(names)), "one subset per font: the parts were merged before writing"
    assert qpdf_clean(path)


def test_a_cancelled_meeting_has_no_sign_in_sheet_or_packet(evening, session, make_user):
    program, group, _ = evening
    planned = meetings.find_planned(group, MONDAY, "18:30", "RP")
    meetings.cancel_meeting(group, planned, "Snow day", make_user("facilitator", program))
    session.flush()
    with pytest.raises(catalog.NotPrintable, match="cancelled"):
        _context(group)


@pytest.mark.parametrize("reference, message", [
    ("abc", "is not a meeting"),
    ("999999", "no meeting with id 999999"),
    ("{group}/2027-02-30/1830/RP", "is not a date"),
    ("{group}/2027-01-05/1830/RP", "has no RP meeting on 2027-01-05"),
    ("999999/2027-01-04/1830/RP", "no group with id 999999"),
])
def test_cli_refuses_what_is_not_a_meeting_and_writes_nothing(evening, runner, tmp_path, reference, message):
    _, group, _ = evening
    out = tmp_path / "signin.pdf"
    result = runner.invoke(args=["print", "signin", reference.format(group=group.id), "-o", str(out)])
    assert result.exit_code != 0 and message in result.output
    assert not out.exists()


def test_cli_prints_a_sign_in_sheet_by_meeting_id_and_a_packet_by_place(evening, runner, session, tmp_path):
    program, group, people = evening
    row = meetings.ensure_meeting(group, meetings.find_planned(group, MONDAY, "18:30", "RP"))
    session.flush()
    out = tmp_path / "signin.pdf"
    result = runner.invoke(args=["print", "signin", str(row.id), "--page-size", "a4", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "Robin Diaz" in text(out)
    packet = tmp_path / "packet.pdf"
    result = runner.invoke(args=["print", "packet", f"{group.id}/{RP}", "-o", str(packet)])
    assert result.exit_code == 0, result.output
    assert len(reader(packet).pages) > len(people)
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "document.print",
                                                      AuditEvent.participant_id.in_([p.id for p in people]))).all()
    assert len(events) == 2 * len(people)
    assert {e.detail["document"] for e in events} == {"signin", "packet"}
    assert not any(p.preferred_name in str(e.detail) for e in events for p in people)


def test_staff_print_from_the_meeting_page_and_the_long_packet_goes_through_a_render_job(
        evening, client, session, make_participant, make_user, job_queue):  # job_queue: a worker runs
    program, group, people = evening
    for n in range(9):  # twelve people: the packet passes the long-document threshold
        make_participant(program, group, name=f"Member {n}")
    login(client, make_user("facilitator", program).email)
    page = client.get(f"/groups/{group.id}/meetings/{RP}")
    base = f"/documents/meetings/{group.id}/{RP}"
    assert f'href="{base}/packet.pdf"' in page.text and f'href="{base}/signin.pdf"' in page.text
    assert "for each of 12 people with their names, and 2 blank copies for walk-ins" in page.text
    signin = client.get(f"{base}/signin.pdf")
    assert signin.status_code == 200 and signin.headers["Cache-Control"] == "no-store"
    assert "Robin Diaz" in text(signin.data)
    packet = _wait_for_file(client, client.get(f"{base}/packet.pdf"))
    assert packet.status_code == 200 and packet.mimetype == "application/pdf"
    assert "Member 8" in text(packet.data)


def test_meeting_documents_are_staff_only_and_other_programs_see_nothing(evening, client, make_program,
                                                                        make_user):
    program, group, people = evening
    base = f"/documents/meetings/{group.id}/{RP}"
    login(client, make_user("facilitator", make_program()).email)
    assert client.get(f"{base}/signin.pdf").status_code == 404
    assert client.get(f"/documents/meetings/{group.id}/2027-01-04/1830/ZZ/signin.pdf").status_code == 404
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/today").text)})
    login(client, make_user("participant", program, participant=people[0]).email)
    assert client.get(f"{base}/packet.pdf").status_code == 403
