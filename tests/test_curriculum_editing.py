"""Curriculum drafts below the screens: the change summary, worksheet field rows, the zip file format
(guards, errors, round trip) and moving a group to a newer version with progress following by code."""

from __future__ import annotations

import io
import zipfile
from datetime import date, time, timedelta

import pytest
from sqlalchemy import func, select

from facilitator.attendance.models import Attendance
from facilitator.audit.models import AuditEvent
from facilitator.auth.models import User
from facilitator.curricula import drafts, editing, moves, publishing, services, worksheets
from facilitator.curricula.models import Curriculum, CurriculumVersion, Module, Track
from facilitator.curricula.views import where
from facilitator.documents import catalog
from facilitator.domain import curriculum as dom
from facilitator.extensions import db
from facilitator.groups.calendars import group_calendar
from facilitator.groups.models import Meeting
from facilitator.programs.models import AttendanceStatus, Program
from facilitator.progress.models import Credit, MakeUp
from facilitator.progress.services import progress_for

from .conftest import csrf_token, login

START = date(2027, 1, 4)  # a Monday: ERS 1 and RP 1; Wed FE 1; Fri ERS 2 and RP 2
TODAY = date(2027, 1, 11)  # the next Monday: RP 3 tonight under matrix-16


# --- helpers ---------------------------------------------------------------------------------------

def module_of(version, code) -> Module:
    return db.session.scalar(select(Module).where(Module.version_id == version.id, Module.code == code))


def track_of(version, code) -> Track:
    return db.session.scalar(select(Track).where(Track.version_id == version.id, Track.code == code))


def write_local_module(draft, director, title="Holidays and Family Events") -> Module:
    """A complete local RP module with one worksheet, as a director would write it."""
    module = editing.add_module(draft, track_of(draft, "RP"), director, title=title)
    editing.update_module(draft, module, director, editing.ModuleInput(
        title=title, minutes="90",
        goals=["Name one holiday or family event that may be hard for you.",
               "Plan who you will be with and when you will leave.",
               "Choose one thing to say if someone offers you a drink."],
        outline=[("15", "Welcome and a check-in round with first names."),
                 ("20", "Talk about why holidays can be hard early in recovery."),
                 ("25", f"Members fill in {module.code}A and share one part of their plan."),
                 ("30", "Open discussion: what members are struggling with this week.")],
        key_points="## Key points\n\n- Holidays bring old places, old people and strong feelings.\n"
                   "- A plan made ahead is easier to keep.\n",
        questions=["Which holiday is the hardest for you and why?", "Who will help you stay safe that day?",
                   "What will you say if someone offers you a drink?", "When will you leave, and how will you get home?"],
        considerations=[("A member has nowhere safe to go.", "Help them find a meeting or a sober event that day."),
                        ("A member used at a past holiday.", "Thank them for sharing and plan the hard hour together.")]))
    sheet = worksheets.add_worksheet(draft, module, director, title="My Holiday Plan")
    worksheets.update_worksheet(draft, sheet, director, title="My Holiday Plan", intro="Plan the day before it comes.",
                                pages="1", rows=[
                                    worksheets.FieldInput(type="text",
                                                          label="The holiday or family event I am planning for"),
                                    worksheets.FieldInput(type="text", label="Who I will spend that day with"),
                                    worksheets.FieldInput(type="schedule", label="My plan for the day", start_hour="9",
                                                          end_hour="21"),
                                    worksheets.FieldInput(type="checklist", label="If I feel a craving that day I will",
                                                          items="Call my sponsor\nLeave early\nGo for a walk",
                                                          other=True)])
    return module


@pytest.fixture(autouse=True)
def fresh_structures():
    """groups.calendars caches published structures by version id; SQLite reuses the ids of rolled-back
    rows, so a structure cached by an earlier test must not answer for this test's versions."""
    from facilitator.groups import calendars

    calendars._STRUCTURES.clear()
    yield
    calendars._STRUCTURES.clear()


@pytest.fixture
def director(make_user):
    return make_user("director")


@pytest.fixture
def newer(director, matrix16):
    """Our IOP 2027: matrix-16 with RP 12 moved before RP 3, a local RP 33, RP 20 retired; published."""
    draft = drafts.fork(matrix16, director, "Our IOP 2027")
    editing.move_before(draft, module_of(draft, "RP 12"), module_of(draft, "RP 3"), director)
    write_local_module(draft, director)
    editing.set_retired(draft, module_of(draft, "RP 20"), director, True)
    return publishing.publish(draft, director)


def hold(group, recorder, people, meetings, absent=()):
    """Record the given planned meetings as held, everyone present for the whole time unless absent."""
    statuses = {s.code: s.id for s in db.session.scalars(
        select(AttendanceStatus).where(AttendanceStatus.program_id == group.program_id))}
    ids = dict(db.session.execute(select(Module.code, Module.id).where(Module.version_id == group.version_id)).all())
    for m in meetings:
        row = Meeting(group_id=group.id, date=m.date, start_time=time.fromisoformat(m.time), track_code=m.track,
                      minutes=m.minutes, status="held", module_id=ids[m.module])
        db.session.add(row)
        db.session.flush()
        for person in people:
            gone = (person.id, m.date) in absent
            db.session.add(Attendance(meeting_id=row.id, participant_id=person.id,
                                      status_id=statuses["absent" if gone else "present"],
                                      minutes=0 if gone else m.minutes, recorded_by_id=recorder.id))
    db.session.flush()


@pytest.fixture
def running(director, make_group, make_participant):
    """A group on matrix-16 since Jan 4 with its first week recorded: Ann attended all, Ben missed Friday."""
    group = make_group(director.program, start=START)
    ann = make_participant(director.program, group, admitted=START, name="Ann")
    ben = make_participant(director.program, group, admitted=START, name="Ben")
    week = [m for m in group_calendar(group, TODAY - timedelta(days=1)).meetings if m.held]
    hold(group, director, [ann, ben], week, absent={(ben.id, date(2027, 1, 8))})
    return group, ann, ben


def rp_credits(person, as_of=TODAY) -> tuple:
    track = progress_for([person], as_of)[person.id].progress.track("RP")
    return track.credited, track.missing


# --- the change summary and field rows ------------------------------------------------------------

def _cur(*codes, retired=(), titles=None) -> dom.Curriculum:
    modules = tuple(dom.Module(code=c, title=(titles or {}).get(c, f"Topic {c}"), minutes=90, retired=c in retired)
                    for c in codes)
    return dom.Curriculum(name="x", title="X", version="1", tracks=(
        dom.Track(code="RP", name="Relapse Prevention", kind="group", ordering="rotating", minutes=90, required=True,
                  modules=modules),))


def test_the_change_summary_names_each_kind_of_change():
    before = _cur("RP 1", "RP 2", "RP 3", "RP 4", "RP 5", "RP 12")
    after = _cur("RP 1", "RP 2", "RP 12", "RP 3", "RP 4", "RP 33", retired=("RP 4",), titles={"RP 3": "New name"})
    assert publishing.change_lines(before, after) == [
        "Added RP 33 Topic RP 33.",
        "Removed RP 5 Topic RP 5.",
        "Moved RP 12 Topic RP 12: now after RP 2.",
        "Retitled RP 3: Topic RP 3 → New name.",
        "Retired RP 4 Topic RP 4.",
    ]
    assert publishing.change_lines(before, before) == []
    assert publishing.change_lines(None, before) == ["First version."]


def test_field_rows_keep_only_the_settings_of_their_type_and_name_themselves():
    rows = [worksheets.FieldInput(type="table", label="My week", columns="Day\n\nGoal\n", rows="3", lines="7"),
            worksheets.FieldInput(type="sequence", label="What led to it", steps="Trigger\nThought\nUse"),
            worksheets.FieldInput(type="scale", label="My week", min="1", max="5", low_label="Hard", high_label="Good")]
    fields, problems = worksheets.build_fields(rows)
    assert problems == {}
    assert fields == [
        {"id": "my_week", "type": "table", "label": "My week", "columns": ["Day", "Goal"], "rows": 3},
        {"id": "what_led_to_it", "type": "sequence", "label": "What led to it", "steps": ["Trigger", "Thought", "Use"]},
        {"id": "my_week_2", "type": "scale", "label": "My week", "min": 1, "max": 5, "low_label": "Hard",
         "high_label": "Good"},
    ]
    _fields, problems = worksheets.build_fields([worksheets.FieldInput(type="scale", label="x", min="5", max="5"),
                                                 worksheets.FieldInput(type="schedule", start_hour="25", end_hour="9"),
                                                 worksheets.FieldInput(type="bogus")])
    assert problems == {"fields-0-max": "The highest number must be above the lowest.",
                        "fields-1-start_hour": "Enter the first hour from 0 to 23, not 25.",
                        "fields-2-type": "Choose a field type."}
    moved = worksheets.field_action(rows, "down:0")
    assert [r.type for r in moved] == ["sequence", "table", "scale"]
    assert [r.type for r in worksheets.field_action(rows, "remove:1")] == ["table", "scale"]
    assert worksheets.field_action(rows, "add:lines")[-1] == worksheets.FieldInput(type="lines", lines="3")


def test_problem_fields_read_as_words(matrix16):
    rp12 = next(m for t in matrix16.tracks for m in t.modules if m.code == "RP 12")
    assert where("worksheets[0].fields[2].columns", rp12) == "Worksheet RP 12A, field 3, columns"
    assert where("outline") == "Timed outline" and where("considerations[1]") == "Consideration 2"


def test_local_module_numbers_are_never_reused_across_versions(director, newer):
    draft = drafts.new_draft(newer, director)
    assert draft.curriculum_id == newer.curriculum_id and draft.number == 2 and draft.parent_id == newer.id
    local = module_of(draft, "RP 33")
    with pytest.raises(drafts.EditRefused):
        editing.delete_module(draft, local, director)  # version 1 delivered it: retire, do not delete
    added = editing.add_module(draft, track_of(draft, "RP"), director, title="Money and Recovery")
    editing.delete_module(draft, added, director)
    again = editing.add_module(draft, track_of(draft, "RP"), director, title="Money and Recovery")
    assert added.code == again.code == "RP 34"


# --- the file format as a zip ----------------------------------------------------------------------

def _zip(files: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    # Deflated, as a real export: stored, matrix-16 passes the 500 KB at which the test client spools the
    # upload to a temporary file it never closes (a ResourceWarning, an error under warnings-as-errors).
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _unzip(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name).decode() for name in archive.namelist()}


def test_the_zip_guards_refuse_unsafe_or_foreign_entries(matrix16, monkeypatch):
    good = _unzip(services.export_zip(matrix16))
    assert set(good) == {"curriculum.yaml", *(n for n in good if n.startswith("modules/"))} and len(good) == 185
    assert services.read_zip(_zip({f"matrix-16/{k}": v for k, v in good.items()} | {"matrix-16/README.md": "x"})) == good
    cases = {
        "/etc/passwd": "absolute paths", "modules/../../x.md": "'..'", "C:/x.md": "absolute paths",
        "notes.txt": "only curriculum.yaml and modules", "modules/rp/big.md": "larger than 256 KiB",
    }
    for name, words in cases.items():
        data = "x" * (300 * 1024) if name.endswith("big.md") else "x"
        with pytest.raises(services.ZipRefused) as refused:
            services.read_zip(_zip({**good, name: data}))
        assert any(words in p.text for p in refused.value.problems), (name, refused.value.problems)
    with pytest.raises(services.ZipRefused, match="not a zip file"):
        services.read_zip(b"PK\x03\x04 not really")
    monkeypatch.setattr(services, "ZIP_MAX_FILES", 50)
    with pytest.raises(services.ZipRefused, match="at most 50"):
        services.read_zip(_zip(good))
    monkeypatch.setattr(services, "ZIP_MAX_BYTES", 1000)
    with pytest.raises(services.ZipRefused, match="larger than"):
        services.read_zip(_zip(good))


def _upload(client, data: bytes, name="curriculum.zip"):
    token = csrf_token(client.get("/curricula/").text)
    return client.post("/curricula/import", data={"csrf_token": token, "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def _counts() -> tuple[int, int, int]:
    return tuple(db.session.scalar(select(func.count(m.id))) for m in (Curriculum, CurriculumVersion, Module))


def test_a_bad_zip_lists_every_error_with_file_and_line_and_changes_nothing(client, director, newer):
    files = _unzip(services.export_zip(newer))
    files["modules/ers/ers-01.md"] = files["modules/ers/ers-01.md"].replace("minutes: 50\n", "minutes: fifty\n", 1)
    files["modules/rp/rp-33.md"] = files["modules/rp/rp-33.md"].replace("- minutes: 15\n", "- minutes: 16\n", 1)
    files["curriculum.yaml"] = files["curriculum.yaml"].replace("- modules/rp/rp-05.md\n", "- modules/rp/rp-99.md\n")
    login(client, director.email)
    before = _counts()
    reply = _upload(client, _zip(files))
    assert reply.status_code == 422
    text = reply.text
    assert "Nothing was imported. 3 problems to fix:" in text
    assert "<strong>modules/ers/ers-01.md, line 4</strong> (minutes): &#39;fifty&#39; is not of type &#39;integer&#39;" in text
    assert "<strong>modules/rp/rp-33.md</strong> (outline): outline minutes add up to 91, not 90" in text
    assert "modules/rp/rp-99.md: no such module file" in text and "curriculum.yaml, line" in text
    assert _counts() == before
    assert "not a zip file" in _upload(client, b"plain text").text and _counts() == before


def test_export_then_import_gives_the_same_content_hash(client, director, newer, make_user):
    data = services.export_zip(newer)
    assert data == services.export_zip(newer)  # the same content gives the same bytes
    elsewhere = make_user("director")  # another program imports the file
    login(client, elsewhere.email)
    reply = _upload(client, data)
    assert reply.status_code == 303, reply.text
    copy = db.session.scalars(select(CurriculumVersion).join(Curriculum).where(
        Curriculum.program_id == elsewhere.program_id)).one()
    assert copy.content_hash == newer.content_hash and copy.is_published and copy.curriculum.name == "our-iop-2027"
    assert services.content_hash(services.to_domain(services.load_version(copy.id))) == newer.content_hash
    again = _upload(client, data)
    assert again.status_code == 303 and "Nothing new" in client.get(again.headers["Location"]).text
    assert db.session.scalar(select(func.count(CurriculumVersion.id)).where(
        CurriculumVersion.curriculum_id == copy.curriculum_id)) == 1


def test_a_changed_file_imports_as_the_next_version_with_its_change_summary(client, director, newer):
    files = _unzip(services.export_zip(newer))
    files["curriculum.yaml"] = files["curriculum.yaml"].replace("version: '1'", "version: '2'")
    files["modules/rp/rp-33.md"] = files["modules/rp/rp-33.md"].replace("title: Holidays and Family Events",
                                                                          "title: Holidays and Birthdays")
    login(client, director.email)
    assert _upload(client, _zip(files)).status_code == 303
    second = services.latest_published(newer.curriculum_id)
    assert second.number == 2 and second.parent_id == newer.id
    assert second.change_summary == "Retitled RP 33: Holidays and Family Events → Holidays and Birthdays."


def test_a_shipped_name_is_refused_unless_the_content_is_the_shipped_one(client, director, matrix16):
    files = _unzip(services.export_zip(matrix16))
    login(client, director.email)
    same = _upload(client, _zip(files))
    assert same.status_code == 303 and same.headers["Location"].endswith(f"/curricula/versions/{matrix16.id}")
    files["curriculum.yaml"] = files["curriculum.yaml"].replace("version: '2027.2'", "version: ours")
    reply = _upload(client, _zip(files))
    assert reply.status_code == 422 and "curriculum.yaml, line 1</strong> (name): matrix-16 is the name" in reply.text


# --- moving a group to a newer version ------------------------------------------------------------------

def test_the_effect_lists_each_members_credits_and_changes_nothing(running, newer, matrix16):
    group, ann, ben = running
    meetings = db.session.scalar(select(func.count(Meeting.id)).where(Meeting.group_id == group.id))
    effect = moves.move_effect(group, newer, TODAY)
    rows = {row.participant.preferred_name: row for row in effect.members}
    assert set(rows["Ann"].carried) == {"ERS 1", "ERS 2", "RP 1", "RP 2", "FE 1", "SS 1"}
    assert rows["Ann"].new_missing == ("RP 33",) and rows["Ann"].unmatched == ()
    assert "RP 2" not in rows["Ben"].carried and "RP 1" in rows["Ben"].carried
    tonight = next(m for m in effect.meetings if m.track == "RP")
    assert (tonight.date, tonight.before, tonight.after, tonight.changed) == (TODAY, "RP 3", "RP 12", True)
    db.session.expire_all()
    assert group.version_id == matrix16.id
    assert db.session.scalar(select(func.count(Meeting.id)).where(Meeting.group_id == group.id)) == meetings


def test_moving_a_group_keeps_history_and_progress_follows_by_code(running, newer, director, matrix16):
    group, ann, ben = running
    past = {(m.date, m.track_code): m.module_id for m in db.session.scalars(
        select(Meeting).where(Meeting.group_id == group.id))}
    moves.move_group(group, newer, director, TODAY)
    db.session.expire_all()
    assert group.version_id == newer.id
    # Meetings that were held still point at the modules of the version that was taught.
    after = {(m.date, m.track_code): m.module_id for m in db.session.scalars(
        select(Meeting).where(Meeting.group_id == group.id))}
    assert after == past
    assert db.session.get(Module, past[(START, "RP")]).version_id == matrix16.id
    # The coming RP meetings follow the new order from where the group stands: RP 12 right after RP 2.
    coming = [m.module for m in group_calendar(group, TODAY + timedelta(weeks=2)).meetings
              if m.track == "RP" and m.date >= TODAY]
    assert coming[:4] == ["RP 12", "RP 3", "RP 4", "RP 5"]
    credited, missing = rp_credits(ann)
    assert credited == ("RP 1", "RP 2") and "RP 33" in missing and "RP 20" not in missing and "RP 12" in missing
    assert rp_credits(ben)[0] == ("RP 1",)
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "group.version_move")).one()
    assert event.entity_id == group.id and event.detail == {"from": matrix16.id, "to": newer.id}


def test_make_up_credits_carry_over_by_code_and_orphans_block_the_move(running, newer, director, matrix16):
    group, ann, ben = running
    rp2 = module_of(matrix16, "RP 2")
    plan = MakeUp(participant_id=ben.id, module_id=rp2.id, method="homework", status="completed",
                  completed_at=db.func.now(), assigned_by_id=director.id)
    db.session.add(plan)
    db.session.flush()
    db.session.add(Credit(participant_id=ben.id, module_id=rp2.id, source="make-up", makeup_id=plan.id,
                          credited_on=date(2027, 1, 9), created_by_id=director.id))
    db.session.flush()
    moves.move_group(group, newer, director, TODAY)
    assert rp_credits(ben)[0] == ("RP 1", "RP 2")  # counted by code in the new version...
    assert db.session.scalars(select(Credit.module_id).where(Credit.participant_id == ben.id)).all() == [rp2.id]
    # ...while the Credit row still names matrix-16's RP 2, the module that was taught.
    # A credit for a module the target does not deliver cannot be placed: the move waits.
    back = drafts.fork(newer, director, "Without RP 1")
    editing.set_retired(back, module_of(back, "RP 1"), director, True)
    back = publishing.publish(back, director)
    db.session.add(Credit(participant_id=ann.id, module_id=module_of(matrix16, "RP 1").id, source="override",
                          reason="Attended at another site", credited_on=date(2027, 1, 5), created_by_id=director.id))
    db.session.flush()
    problems = moves.move_problems(group, back)
    assert "RP 1" in problems["version"] and "does not deliver" in problems["version"]
    with pytest.raises(drafts.EditRefused):
        moves.move_group(group, back, director, TODAY)


def test_unrecorded_past_meetings_keep_their_modules_and_starting_modules_follow_by_code(
        director, make_group, newer, matrix16):
    group = make_group(director.program, name="Unrecorded", start=START)
    group.starting_modules = {"RP": "RP 20", "ERS": "ERS 5"}
    db.session.flush()
    before = [(m.date, m.module) for m in group_calendar(group, TODAY - timedelta(days=1)).meetings]
    notes = moves.move_group(group, newer, director, TODAY)
    assert notes[0] == "6 past meeting(s) nobody recorded keep the modules they were planned with."
    assert notes[1] == "RP started at RP 20, which the new version does not deliver; it starts at RP 1."
    assert group.starting_modules == {"ERS": "ERS 5"}
    db.session.expire_all()
    assert [(m.date, m.module) for m in group_calendar(group, TODAY - timedelta(days=1)).meetings] == before
    stored = db.session.scalars(select(Meeting).where(Meeting.group_id == group.id)).all()
    assert {m.status for m in stored} == {"scheduled"} and all(m.module.version_id == matrix16.id for m in stored)


def test_a_move_needs_every_track_the_group_meets_for(director, running, matrix16):
    group, _ann, _ben = running
    draft = drafts.fork(matrix16, director, "No family track")
    fe = track_of(draft, "FE")
    draft.tracks.remove(fe)
    draft.pattern = [slot for slot in draft.pattern if slot["track"] != "FE"]
    db.session.flush()
    smaller = publishing.publish(draft, director)
    assert "has no FE modules" in moves.move_problems(group, smaller)["version"]
    assert moves.move_problems(group, matrix16) == {"version": "The group already runs this version."}


# --- the move page --------------------------------------------------------------------------------------

def _today(monkeypatch):
    from facilitator.curricula import views

    monkeypatch.setattr(views, "_today", lambda: TODAY)


def test_the_move_page_shows_the_effect_then_moves_and_audits(client, running, newer, director, monkeypatch):
    _today(monkeypatch)
    group, ann, ben = running
    login(client, director.email)
    url = f"/curricula/groups/{group.id}/version"
    page = client.get(url)
    assert page.status_code == 200 and "Our IOP 2027, version 1" in page.text
    token = csrf_token(page.text)
    effect = client.post(url, data={"csrf_token": token, "version": str(newer.id), "action": "preview"})
    assert effect.status_code == 200
    assert "<strong>RP 12</strong> Trust" in effect.text and "RP 33" in effect.text
    row = effect.text.split(">Ann <")[1].split("</tr>")[0]
    assert "RP 1, RP 2" in row or ("RP 1" in row and "RP 2" in row)
    db.session.expire_all()
    assert group.version_id != newer.id
    views = db.session.scalars(select(AuditEvent.participant_id).where(AuditEvent.action == "group.version_effect"))
    assert sorted(views) == sorted([ann.id, ben.id])
    moved = client.post(url, data={"csrf_token": token, "version": str(newer.id), "action": "apply"})
    assert moved.status_code == 303 and moved.headers["Location"].endswith(f"/groups/{group.id}")
    db.session.expire_all()
    assert group.version_id == newer.id


def test_the_move_page_is_for_directors_of_the_program(client, running, newer, make_user):
    group, _ann, _ben = running
    facilitator = make_user("facilitator", group.program)
    login(client, facilitator.email)
    assert client.get(f"/curricula/groups/{group.id}/version").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/today").text)})
    login(client, make_user("director").email)
    assert client.get(f"/curricula/groups/{group.id}/version").status_code == 404


def test_the_effect_page_takes_the_same_number_of_queries_for_5_and_40_members(
        client, director, make_group, make_participant, newer, count_queries, monkeypatch):
    _today(monkeypatch)
    counts = {}
    login(client, director.email)
    program_id, director_id, version_id = director.program_id, director.id, newer.id
    for size in (5, 40):
        program, recorder = db.session.get(Program, program_id), db.session.get(User, director_id)
        group = make_group(program, name=f"Group of {size}", start=START)
        people = [make_participant(program, group, admitted=START) for _ in range(size)]
        hold(group, recorder, people, [m for m in group_calendar(group, TODAY - timedelta(days=1)).meetings if m.held])
        url = f"/curricula/groups/{group.id}/version"
        token = csrf_token(client.get(url).text)
        data = {"csrf_token": token, "version": str(version_id), "action": "preview"}
        client.post(url, data=data)
        db.session.expire_all()  # as in a real request, nothing loaded is reused
        with count_queries() as counter:
            assert client.post(url, data=data).status_code == 200
        counts[size] = counter.count
    assert counts[5] == counts[40], counts
    assert counts[40] <= 50, counts


def test_a_local_module_without_worksheets_prints_its_guide_and_says_it_has_no_worksheets(director, matrix16):
    draft = drafts.fork(matrix16, director, "Our IOP 2027")
    module = editing.add_module(draft, track_of(draft, "RP"), director, title="Talking With an Employer")
    with pytest.raises(catalog.DocumentNotFound, match=f"{module.code} Talking With an Employer has no worksheets"):
        catalog.worksheet_order(module.code, version=draft)
    assert catalog.guide_order(module.code, version=draft).kind == "guide"
