"""The documents blueprint: who may print what, 404s that leak nothing, audit rows, render jobs."""

from __future__ import annotations

import time

from sqlalchemy import select

from facilitator.audit.models import AuditEvent

from ..conftest import csrf_token, login
from .conftest import reader, text


def _wait_for_file(client, response):
    """Follow a render job from its progress page to the finished file."""
    assert response.status_code == 303 and "/documents/jobs/" in response.headers["Location"]
    page = client.get(response.headers["Location"])
    if page.status_code == 200:
        assert "<progress" in page.text and "Preparing" in page.text
    job_url = response.headers["Location"].split("?")[0]
    # Up to five minutes, as for the handbooks: the test worker may still be rendering both of them
    # (two 140-page jobs on a 2-core machine) when this job is queued behind them.
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        status = client.get(job_url + ".json").json
        assert status["status"] in ("queued", "running", "done"), status
        if status["status"] == "done":
            return client.get(status["file"])
        time.sleep(0.2)
    raise AssertionError("the job did not finish")


def test_staff_print_blank_personalized_and_fillable_worksheets(client, session, make_program, make_group,
                                                               make_participant, make_user):
    program = make_program()
    person = make_participant(program, make_group(program), name="Kim Park")
    staff = make_user("facilitator", program)
    login(client, staff.email)
    blank = client.get("/documents/worksheet/rp3.pdf")
    assert blank.status_code == 200 and blank.mimetype == "application/pdf"
    assert blank.headers["Cache-Control"] == "private, max-age=3600"
    assert "42 CFR" not in text(blank.data)
    mine = client.get(f"/documents/worksheet/RP%203A.pdf?participant={person.id}")
    assert mine.status_code == 200 and mine.headers["Cache-Control"] == "no-store"
    assert "Kim Park" in text(mine.data) and "42 CFR part 2" in text(mine.data)
    event = session.scalars(select(AuditEvent).where(AuditEvent.participant_id == person.id)).one()
    assert (event.action, event.user_id, event.program_id) == ("document.print", staff.id, program.id)
    assert "Kim" not in str(event.detail)
    fillable = client.get(f"/documents/worksheet/rp3a.pdf?participant={person.id}&fillable=1")
    assert "rp3a_chart_partner" in reader(fillable.data).get_fields()


def test_bad_codes_and_other_programs_participants_are_404(client, session, make_program, make_participant,
                                                           make_user):
    program, other = make_program(), make_program()
    stranger = make_participant(other)
    login(client, make_user("director", program).email)
    assert client.get("/documents/worksheet/RP%2099.pdf").status_code == 404
    assert client.get("/documents/guide/ZZ1.pdf").status_code == 404
    assert client.get(f"/documents/worksheet/rp3.pdf?participant={stranger.id}").status_code == 404
    assert client.get("/documents/worksheet/rp3.pdf?participant=abc").status_code == 404


def test_participants_print_only_their_own_worksheets_and_no_guides(client, session, make_program, make_group,
                                                                   make_participant, make_user):
    program = make_program()
    group = make_group(program)
    me, someone_else = make_participant(program, group, name="Lee"), make_participant(program, group)
    login(client, make_user("participant", program, participant=me).email)
    own = client.get(f"/documents/worksheet/ers1a.pdf?participant={me.id}")
    assert own.status_code == 200 and "Lee" in text(own.data)
    assert client.get(f"/documents/worksheet/ers1a.pdf?participant={someone_else.id}").status_code == 404
    assert client.get("/documents/worksheet/ers1a.pdf").status_code == 200  # a blank copy
    assert client.get("/documents/guide/ERS1.pdf").status_code == 403


def test_documents_need_a_login(client):
    response = client.get("/documents/worksheet/rp3.pdf")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_long_packet_renders_in_a_worker_behind_a_progress_page(client, session, job_queue, make_program, make_group,
                                                                  make_participant, make_user):
    program = make_program()
    group = make_group(program)
    people = [make_participant(program, group, name=f"Member {n}") for n in range(11)]  # 22 pages
    staff = make_user("facilitator", program)
    login(client, staff.email)
    query = "&".join(f"participant={p.id}" for p in people)
    response = client.get(f"/documents/worksheet/rp3.pdf?{query}")
    pdf = _wait_for_file(client, response)
    assert pdf.status_code == 200 and pdf.headers["Cache-Control"] == "no-store"
    assert len(reader(pdf.data).pages) == 22
    assert "Member 10" in text(pdf.data, 21)
    audited = session.scalars(select(AuditEvent.participant_id).where(
        AuditEvent.user_id == staff.id, AuditEvent.action == "document.print")).all()
    assert sorted(audited) == sorted(p.id for p in people)
    job_url = response.headers["Location"]
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/", follow_redirects=True).text)})
    login(client, make_user("director", make_program()).email)  # staff of another program
    assert client.get(job_url + ".json").status_code == 404
    assert client.get(job_url + ".pdf").status_code == 404


def test_a_participant_sees_only_their_own_jobs_and_a_personal_file_expires(client, session, job_queue, app,
                                                                             make_program, make_group,
                                                                             make_participant, make_user, monkeypatch):
    program = make_program()
    group = make_group(program)
    people = [make_participant(program, group, name=f"Asker {n}") for n in range(11)]  # a job of its own
    staff = make_user("facilitator", program)
    login(client, staff.email)
    response = client.get("/documents/worksheet/rp3.pdf?" + "&".join(f"participant={p.id}" for p in people))
    assert _wait_for_file(client, response).status_code == 200
    job_url = response.headers["Location"]
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/", follow_redirects=True).text)})
    login(client, make_user("participant", program, participant=people[0]).email)
    assert client.get(job_url + ".pdf").status_code == 404, "a personal job is its requester's or staff's"
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/", follow_redirects=True).text)})
    login(client, staff.email)
    monkeypatch.setitem(app.config, "DOCUMENT_PERSONAL_SECONDS", 1)
    time.sleep(1.5)  # the queue storage's clock, not the frozen one, ages the finished file
    assert client.get(job_url + ".pdf").status_code == 404, "health data is kept DOCUMENT_PERSONAL_SECONDS"


def test_the_handbook_is_served_through_its_job(client, session, handbooks, make_program, make_user):
    # A program named like the curriculum prints the same handbook as the command line: one shared job.
    program = make_program("Stimulant IOP, 16 weeks (Matrix-Model-style)")
    login(client, make_user("facilitator", program).email)
    response = client.get("/documents/handbook.pdf")
    pdf = response if response.status_code == 200 else _wait_for_file(client, response)
    assert pdf.status_code == 200 and len(reader(pdf.data).pages) > 134
