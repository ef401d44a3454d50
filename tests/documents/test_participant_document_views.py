"""Progress reports and certificates from the participant pages and the command line: who may print
them, what a refusal says, and the audit trail."""

from __future__ import annotations

from sqlalchemy import select

from facilitator.audit.models import AuditEvent

from ..conftest import login
from .conftest import complete, reader, text


def test_staff_print_a_progress_report_from_the_participant_page(client, session, member, make_user):
    program, group, person, _ = member
    staff = make_user("facilitator", program)
    login(client, staff.email)
    page = client.get(f"/participants/{person.id}")
    url = f"/documents/participants/{person.id}/progress.pdf"
    assert f'href="{url}"' in page.text
    assert "Print completion certificate" not in page.text, "no certificate before completion"
    report = client.get(url)
    assert report.status_code == 200 and report.headers["Cache-Control"] == "no-store"
    words = text(report.data)
    assert "Sunny" in words and person.record_number in words and "42 CFR part 2" in words
    event = session.scalars(select(AuditEvent).where(AuditEvent.participant_id == person.id,
                                                     AuditEvent.action == "document.print")).one()
    assert event.user_id == staff.id and event.detail["document"] == "progress"


def test_a_certificate_before_completion_says_why_and_after_it_prints_the_chosen_name(
        client, session, member, make_user):
    program, group, person, staff = member
    login(client, make_user("facilitator", program).email)
    url = f"/documents/participants/{person.id}/certificate.pdf"
    early = client.get(url)
    assert early.status_code == 409 and "Sunny has not completed the program yet" in early.text
    complete(group, person, staff)
    page = client.get(f"/participants/{person.id}")
    assert "Print completion certificate" in page.text and 'value="Sunny"' in page.text
    chosen = client.get(url, query_string={"name": "Sunny R. Alvarez"})
    assert chosen.status_code == 200 and "Sunny R. Alvarez" in text(chosen.data)
    assert len(reader(chosen.data).pages) == 1
    too_long = client.get(url, query_string={"name": "x" * 200})
    assert too_long.status_code == 409 and "prints up to 80" in too_long.text


def test_a_participant_prints_their_own_report_but_no_one_else_s(client, session, member, make_participant,
                                                                make_user):
    program, group, person, _ = member
    other = make_participant(program, group, name="Other Person")
    login(client, make_user("participant", program, participant=person).email)
    me = client.get("/me")
    assert f'href="/documents/participants/{person.id}/progress.pdf"' in me.text
    assert client.get(f"/documents/participants/{person.id}/progress.pdf").status_code == 200
    assert client.get(f"/documents/participants/{other.id}/progress.pdf").status_code == 404
    assert client.get(f"/documents/participants/{other.id}/certificate.pdf").status_code == 404


def test_another_program_s_staff_get_404(client, member, make_program, make_user):
    _, _, person, _ = member
    login(client, make_user("director", make_program()).email)
    assert client.get(f"/documents/participants/{person.id}/progress.pdf").status_code == 404
    assert client.get("/documents/participants/999999/progress.pdf").status_code == 404


def test_cli_prints_progress_and_certificates_and_refuses_clearly(runner, session, member, tmp_path):
    program, group, person, staff = member
    out = tmp_path / "report.pdf"
    result = runner.invoke(args=["print", "progress", str(person.id), "--page-size", "a4", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert [round(float(v)) for v in reader(out).pages[0].mediabox[2:]] == [595, 842]
    certificate = tmp_path / "certificate.pdf"
    refused = runner.invoke(args=["print", "certificate", str(person.id), "-o", str(certificate)])
    assert refused.exit_code != 0 and "has not completed the program yet" in refused.output
    assert not certificate.exists()
    missing = runner.invoke(args=["print", "progress", "999999", "-o", str(out)])
    assert missing.exit_code != 0 and "no participant with id 999999" in missing.output
    complete(group, person, staff)
    result = runner.invoke(args=["print", "certificate", str(person.id), "--name", "Sunny Alvarez",
                                 "-o", str(certificate)])
    assert result.exit_code == 0, result.output
    assert "Sunny Alvarez" in text(certificate)
