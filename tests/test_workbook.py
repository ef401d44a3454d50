"""The participant's workbook: a worksheet filled on screen, saved, submitted and reviewed; who may read
the answers (the participant and staff of their program, nobody else); bad input changes nothing;
answers keep the questions of the version they were answered on; every read and change is audited."""

from __future__ import annotations

import re
import subprocess
from datetime import timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import select

from facilitator.audit.models import AuditEvent
from facilitator.curricula import drafts, moves, publishing
from facilitator.curricula.models import Worksheet
from facilitator.extensions import db
from facilitator.programs.services import program_today
from facilitator.workbook import services
from facilitator.workbook.models import WorksheetAnswer

from .conftest import csrf_token, login

CODE = "RP 7A"
URL = f"/me/worksheets/{quote(CODE)}"


@pytest.fixture
def clinic(session, make_program, make_user, make_group, make_participant):
    """A program with a group, two participants with portal accounts and a counselor; and another program
    with its own counselor and participant."""
    program = make_program()
    today = program_today(program)
    group = make_group(program, start=today - timedelta(weeks=6))
    robin = make_participant(program, group, admitted=today - timedelta(weeks=2), name="Robin")
    sam = make_participant(program, group, admitted=today - timedelta(weeks=2), name="Sam")
    counselor = make_user("facilitator", program)
    elsewhere = make_program()
    stranger = make_user("facilitator", elsewhere)
    lone = make_participant(elsewhere, None, name="Lone")
    return {"program": program, "group": group, "robin": robin, "sam": sam, "counselor": counselor,
            "robin_user": make_user("participant", program, participant=robin),
            "sam_user": make_user("participant", program, participant=sam),
            "stranger": stranger, "lone_user": make_user("participant", elsewhere, participant=lone)}


def _answers(**extra):
    """A filled RP 7A: every kind of field it has (table, scale, text, lines, checklist with Other)."""
    data = {"ws-reasons_table-r1-c1": "My kids", "ws-reasons_table-r1-c2": "yes", "ws-reasons_table-r1-c3": "10",
            "ws-motivation_today": "8", "ws-one_point_up": "A full night of sleep",
            "ws-cost_of_using": "My job and\nmy apartment", "ws-keep_in_sight": ["1", "4"],
            "ws-keep_in_sight-other": "A song that reminds me"}
    data.update(extra)
    return data


def _post(client, data, button="save", **headers):
    page = client.get(URL)
    body = {"csrf_token": csrf_token(page.text), **data}
    if button:
        body[button] = "1"
    return client.post(URL, data=body, headers=headers)


def _row(person) -> WorksheetAnswer | None:
    return db.session.scalars(select(WorksheetAnswer).where(WorksheetAnswer.participant_id == person.id)).first()


def _events(action, person):
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action,
                                                           AuditEvent.participant_id == person.id)))


def test_a_participant_fills_saves_submits_and_sees_the_review(client, clinic, session):
    robin = clinic["robin"]
    login(client, clinic["robin_user"].email)
    blank = client.get(URL)
    assert blank.status_code == 200 and "My Reasons for Recovery" in blank.text and "Not started" in blank.text
    saved = _post(client, _answers())
    assert saved.status_code == 303
    page = client.get(URL)
    assert "A full night of sleep" in page.text and "Draft" in page.text
    row = _row(robin)
    assert row.status == "draft" and row.answers["motivation_today"] == 8
    assert row.answers["keep_in_sight"] == {"checked": ["A card in my wallet", "Read my list each morning"],
                                            "other": "A song that reminds me"}
    assert row.answers["reasons_table"] == {"r1_c1": "My kids", "r1_c2": "yes", "r1_c3": "10"}

    sent = _post(client, _answers(), button="submit")
    assert sent.status_code == 303
    assert "Sent to your counselor" in client.get(URL).text
    assert _row(robin).status == "submitted"
    # Still editable until reviewed: a change keeps it submitted.
    assert _post(client, _answers(**{"ws-one_point_up": "Calling my sister"})).status_code == 303
    assert _row(robin).status == "submitted" and _row(robin).answers["one_point_up"] == "Calling my sister"

    client.post("/logout", data={"csrf_token": csrf_token(client.get("/me").text)})
    login(client, clinic["counselor"].email)
    panel = client.get(f"/participants/{robin.id}")
    assert "Workbook" in panel.text and "RP 7A My Reasons for Recovery" in panel.text
    answer_page = client.get(f"/participants/{robin.id}/worksheets/{row.id}")
    assert answer_page.status_code == 200 and "Calling my sister" in answer_page.text
    reviewed = client.post(f"/participants/{robin.id}/worksheets/{row.id}/review",
                           data={"csrf_token": csrf_token(answer_page.text), "comment": "Good list. Bring it Monday."})
    assert reviewed.status_code == 303
    assert _row(robin).status == "reviewed" and _row(robin).reviewed_by_id == clinic["counselor"].id

    client.post("/logout", data={"csrf_token": csrf_token(client.get("/today").text)})
    login(client, clinic["robin_user"].email)
    page = client.get(URL)
    assert "Good list. Bring it Monday." in page.text and 'id="workbook-form"' not in page.text
    assert "Good list. Bring it Monday." in client.get("/me/workbook").text
    # Reviewed is read-only: a save is refused and changes nothing.
    before = dict(_row(robin).answers)
    refused = client.post(URL, data={"csrf_token": csrf_token(client.get("/me").text), "save": "1",
                                     "ws-one_point_up": "changed"})
    assert refused.status_code == 409 and "reviewed" in refused.text
    assert _row(robin).answers == before
    for action in ("worksheet_answer.save", "worksheet_answer.submit", "worksheet_answer.review",
                   "worksheet_answer.view", "workbook.view"):
        assert _events(action, robin), action


def test_drafts_save_as_json_while_typing(client, clinic):
    login(client, clinic["robin_user"].email)
    reply = _post(client, _answers(), button=None, Accept="application/json")
    assert reply.status_code == 200 and reply.json == {"saved": True, "message": "Draft saved.", "status": "draft"}
    assert _row(clinic["robin"]).status == "draft"
    bad = _post(client, _answers(**{"ws-motivation_today": "11"}), button=None, Accept="application/json")
    assert bad.status_code == 422 and bad.json["errors"] == {"motivation_today": "Choose a number from 0 to 10."}
    empty = _post(client, {}, button=None, Accept="application/json")  # nothing typed: nothing stored, no error
    assert empty.status_code == 200


@pytest.mark.parametrize("change, message", [
    ({"ws-one_point_up": "x" * 301}, "Keep this to 300 characters or fewer (it has 301)."),
    ({"ws-motivation_today": "eleven"}, "Choose a number from 0 to 10."),
    ({"ws-motivation_today": "-1"}, "Choose a number from 0 to 10."),
    ({"ws-keep_in_sight": ["1", "9"]}, "Choose from the items on the list"),
    ({"ws-not_a_field": "hello"}, "an answer box that is not on this worksheet"),
    ({"ws-one_point_up": "bad\x1bescape"}, "invisible control character"),
])
def test_bad_input_gets_a_clear_message_and_changes_nothing(client, clinic, change, message):
    login(client, clinic["robin_user"].email)
    assert _post(client, _answers()).status_code == 303
    before = dict(_row(clinic["robin"]).answers)
    reply = _post(client, _answers(**change), button="submit")
    assert reply.status_code == 422 and message in reply.text
    assert "Nothing was saved" in reply.text
    row = _row(clinic["robin"])
    assert row.answers == before and row.status == "draft"


def test_an_error_is_tied_to_its_field(client, clinic):
    login(client, clinic["robin_user"].email)
    reply = _post(client, _answers(**{"ws-one_point_up": "x" * 301}))
    assert 'aria-describedby="ws-one_point_up-error"' in reply.text
    assert 'id="ws-one_point_up-error"' in reply.text


def test_nobody_else_reads_the_answers(client, clinic):
    robin, sam = clinic["robin"], clinic["sam"]
    login(client, clinic["robin_user"].email)
    _post(client, _answers(), button="submit")
    row = _row(robin)
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/me").text)})

    login(client, clinic["sam_user"].email)  # another participant of the same group
    page = client.get(URL)
    assert page.status_code == 200 and "A full night of sleep" not in page.text  # Sam's own blank sheet
    assert client.get(f"/participants/{robin.id}/worksheets/{row.id}").status_code == 404
    assert client.get(f"/documents/participants/{robin.id}/worksheets/{row.id}/answers.pdf").status_code == 404
    assert client.get(f"/documents/participants/{sam.id}/worksheets/{row.id}/answers.pdf").status_code == 404
    assert "A full night of sleep" not in client.get("/me/workbook").text
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/me").text)})

    login(client, clinic["stranger"].email)  # staff of another program
    assert client.get(f"/participants/{robin.id}/worksheets/{row.id}").status_code == 404
    assert client.post(f"/participants/{robin.id}/worksheets/{row.id}/review",
                       data={"csrf_token": csrf_token(client.get("/today").text)}).status_code == 404
    assert client.get(f"/documents/participants/{robin.id}/worksheets/{row.id}/answers.pdf").status_code == 404
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/today").text)})

    login(client, clinic["lone_user"].email)  # a participant of another program, in no group
    assert client.get(URL).status_code == 404


def test_a_draft_stays_the_participants_until_sent(client, clinic):
    robin = clinic["robin"]
    login(client, clinic["robin_user"].email)
    _post(client, _answers())
    row = _row(robin)
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/me").text)})
    login(client, clinic["counselor"].email)
    assert client.get(f"/participants/{robin.id}/worksheets/{row.id}").status_code == 404
    assert "1 is a draft, not sent yet" in client.get(f"/participants/{robin.id}").text


def test_only_worksheets_of_the_participants_own_curriculum_open(client, clinic, session):
    login(client, clinic["robin_user"].email)
    assert client.get("/me/worksheets/RP%2099Z").status_code == 404
    assert client.get("/me/worksheets/not%20a%20code").status_code == 404
    assert client.get(URL).status_code == 200


def test_answers_keep_the_questions_of_the_version_they_were_answered_on(client, clinic, make_user):
    robin, group = clinic["robin"], clinic["group"]
    login(client, clinic["robin_user"].email)
    _post(client, _answers(), button="submit")
    old = _row(robin)
    director = make_user("director", clinic["program"])
    draft = drafts.fork(group.version, director, "Our IOP 2027")  # a shipped curriculum changes by a fork
    sheet = db.session.scalars(select(Worksheet).where(Worksheet.version_id == draft.id, Worksheet.code == CODE)).one()
    fields = [dict(f) for f in sheet.fields]
    for f in fields:
        if f["id"] == "one_point_up":
            f["label"] = "One small step that would raise my number"
    sheet.fields = fields
    db.session.flush()
    newer = publishing.publish(draft, director)
    moves.move_group(group, newer, director, program_today(clinic["program"]))
    db.session.flush()

    page = client.get(URL)
    assert "What would move my number up one point" in page.text and "A full night of sleep" in page.text
    assert "One small step" not in page.text
    assert _row(robin).worksheet_id == old.worksheet_id
    # Sam, who never answered, gets the new question.
    client.post("/logout", data={"csrf_token": csrf_token(page.text)})
    login(client, clinic["sam_user"].email)
    assert "One small step that would raise my number" in client.get(URL).text
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/me").text)})
    login(client, clinic["counselor"].email)
    staff = client.get(f"/participants/{robin.id}/worksheets/{old.id}")
    assert "What would move my number up one point" in staff.text and "One small step" not in staff.text


def test_print_my_answers_puts_them_on_the_printed_sheet(client, clinic, tmp_path):
    robin = clinic["robin"]
    login(client, clinic["robin_user"].email)
    _post(client, _answers())
    row = _row(robin)
    assert f"/documents/participants/{robin.id}/worksheets/{row.id}/answers.pdf" in client.get(URL).text
    reply = client.get(f"/documents/participants/{robin.id}/worksheets/{row.id}/answers.pdf")
    assert reply.status_code == 200 and reply.mimetype == "application/pdf"
    assert reply.headers["Cache-Control"] == "no-store"
    path = tmp_path / "answers.pdf"
    path.write_bytes(reply.data)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    for answer in ("A full night of sleep", "My kids", "My job and", "A song that reminds me", "My answer: 8",
                   "What would move my number up one point", "Robin", "42 CFR"):
        assert answer in text, answer
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    assert "Tagged:          yes" in info
    events = _events("document.print", robin)
    assert events and events[-1].detail["document"] == "worksheet-answers"


def test_the_workbook_lists_every_worksheet_by_track_with_status(client, clinic):
    login(client, clinic["robin_user"].email)
    _post(client, _answers())
    page = client.get("/me/workbook")
    assert page.status_code == 200
    assert "Relapse Prevention" in page.text and "RP 7 " in page.text
    assert page.text.count("Not started") > 20 and "Draft" in page.text


def test_the_meeting_page_shows_who_sent_the_modules_worksheets(clinic):
    robin, sam = clinic["robin"], clinic["sam"]
    row = db.session.scalars(select(Worksheet).where(Worksheet.version_id == clinic["group"].version_id,
                                                     Worksheet.code == CODE)).one()
    answer, _ = services.save(robin, row, None, services.sheet_of(row), {"one_point_up": "Sleep"},
                              clinic["robin_user"], submit=True)
    panel = services.meeting_panel("RP 7", ["RP 7A"], [(robin.id, "Robin"), (sam.id, "Sam")])
    assert [(r.name, [s.code for s in r.sent]) for r in panel.rows] == [("Robin", ["RP 7A"])]
    assert panel.roster == 2
    assert services.meeting_panel(None, [], []) is None


def test_the_meeting_page_lists_who_sent_the_worksheets_of_its_module(client, clinic):
    from facilitator.meetings import services as meetings

    robin, group = clinic["robin"], clinic["group"]
    today = program_today(clinic["program"])
    _, planned = next((g, m) for g, m in meetings.upcoming([group], today, 14)
                      if m.module and db.session.scalar(select(Worksheet.code).join(
                          Worksheet.module).where(Worksheet.version_id == group.version_id, Worksheet.module.has(
                              code=m.module))))
    row = db.session.scalars(select(Worksheet).join(Worksheet.module).where(
        Worksheet.version_id == group.version_id, Worksheet.module.has(code=planned.module))).first()
    written = next(f["id"] for f in row.fields if f["type"] in ("text", "lines"))
    services.save(robin, row, None, services.sheet_of(row), {written: "Ready"}, clinic["robin_user"], submit=True)
    login(client, clinic["counselor"].email)
    page = client.get(f"/groups/{group.id}/meetings/{planned.date.isoformat()}/{planned.time.replace(':', '')}/"
                      f"{planned.track}")
    assert page.status_code == 200
    assert f"Worksheets sent for {planned.module}" in page.text
    assert "Robin:" in page.text and "1 of 2 on the roster sent one." in page.text


def test_a_wrong_rating_is_tied_to_its_group_of_choices(client, clinic):
    login(client, clinic["robin_user"].email)
    reply = _post(client, _answers(**{"ws-motivation_today": "12"}))
    assert reply.status_code == 422
    assert '<fieldset aria-describedby="ws-motivation_today-error">' in reply.text
    assert 'id="ws-motivation_today-error">Choose a number from 0 to 10.' in reply.text


def test_the_workbook_pages_cost_the_same_queries_however_many_answers(client, clinic, count_queries):
    robin = clinic["robin"]
    sheets = list(db.session.scalars(select(Worksheet).where(Worksheet.version_id == clinic["group"].version_id)
                                     .order_by(Worksheet.id)))
    login(client, clinic["robin_user"].email)

    def cost(url):
        with count_queries() as counter:
            assert client.get(url).status_code == 200
        return counter.count

    def steady(url):
        cost(url)  # the first look loads the signed-in user and fills the cache of published worksheets
        return cost(url)

    def answer(rows):
        for row in rows:
            field = next((f["id"] for f in row.fields if f["type"] in ("text", "lines")), None)
            if field:
                services.save(robin, row, None, services.sheet_of(row), {field: "Yes"}, clinic["robin_user"],
                              submit=True)

    answer(sheets[:1])
    few = steady("/me/workbook"), steady(URL)
    answer(sheets[1:40])
    assert (steady("/me/workbook"), steady(URL)) == few


def test_a_spanish_reader_fills_the_spanish_sheet_and_staff_read_it_in_their_own_language(client, clinic, session):
    """The form follows the reader's language; a checklist's ticks are kept by their place on the list,
    so the same answer reads in English to an English-reading counselor."""
    robin = clinic["robin"]
    robin.language = "es"
    login(client, clinic["robin_user"].email)
    blank = client.get(URL)
    assert blank.status_code == 200 and "Mis razones para la recuperación" in blank.text
    assert "My Reasons for Recovery" not in blank.text
    assert _post(client, _answers(), button="submit").status_code == 303
    stored = _row(robin).answers
    assert stored["keep_in_sight"] == {"checked": ["A card in my wallet", "Read my list each morning"],
                                       "other": "A song that reminds me"}, "stored in the version's own words"
    again = client.get(URL).text
    spanish_items = services.sheet_in(_row(robin).worksheet, "es").fields[4].items
    ticked = re.findall(r'name="ws-keep_in_sight" value="(\d+)" checked> ([^<]+)</label>', again)
    assert [(n, item.strip()) for n, item in ticked] == [("1", spanish_items[0]), ("4", spanish_items[3])]
    client.post("/logout", data={"csrf_token": csrf_token(again)})
    clinic["counselor"].language = "en"  # this browser was last in Spanish: the counselor's own setting wins
    login(client, clinic["counselor"].email)
    staff = client.get(f"/participants/{robin.id}/worksheets/{_row(robin).id}")
    assert staff.status_code == 200 and "My Reasons for Recovery" in staff.text and "A card in my wallet" in staff.text
