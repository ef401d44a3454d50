"""The curricula screens: forking, the draft editor (tracks, modules, worksheets), publishing with the
CLI's checks, published versions that never change, and who may do what."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from facilitator.curricula.models import Curriculum, CurriculumVersion, Module, PublishedVersionChanged, Worksheet
from facilitator.extensions import db

from .conftest import csrf_token, login


def post(client, url, data=None, page=None):
    """Post a form the way a browser does: with the CSRF token of the page it is on."""
    token = csrf_token(client.get(page or url).text)
    return client.post(url, data={"csrf_token": token, **(data or {})})


def fork(client, source, title="Our IOP 2027") -> CurriculumVersion:
    """Fork through the web; return the new draft."""
    reply = post(client, f"/curricula/versions/{source.id}/fork", {"title": title})
    assert reply.status_code == 303, reply.text
    return db.session.get(CurriculumVersion, int(reply.headers["Location"].rstrip("/").split("/")[-1]))


def module_of(version, code) -> Module:
    return db.session.scalar(select(Module).where(Module.version_id == version.id, Module.code == code))


def rp_order(version) -> list[str]:
    return list(db.session.scalars(select(Module.code).join(Module.track)
                                   .where(Module.version_id == version.id, Module.code.like("RP %"))
                                   .order_by(Module.position)))


@pytest.fixture(autouse=True)
def fresh_structures():
    """groups.calendars caches published structures by version id; SQLite reuses the ids of rolled-back
    rows, so a structure cached by an earlier test must not answer for this test's versions."""
    from facilitator.groups import calendars

    calendars._STRUCTURES.clear()
    yield
    calendars._STRUCTURES.clear()


@pytest.fixture
def director(make_user, session):
    return make_user("director")


@pytest.fixture
def draft(client, director, matrix16):
    login(client, director.email)
    return fork(client, matrix16)


# --- who may do what ------------------------------------------------------------------------------

def test_facilitators_get_403_and_other_programs_get_404(client, draft, director, make_user, matrix16):
    rp12 = module_of(draft, "RP 12")
    pages = [f"/curricula/versions/{draft.id}", f"/curricula/versions/{draft.id}/tracks/RP",
             f"/curricula/versions/{draft.id}/modules/{rp12.id}",
             f"/curricula/versions/{draft.id}/worksheets/{rp12.worksheets[0].id}"]
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/curricula/").text)})
    facilitator = make_user("facilitator", director.program)
    login(client, facilitator.email)
    assert client.get("/curricula/").status_code == 403
    assert client.get(pages[0]).status_code == 403
    token = csrf_token(client.get("/today").text)
    assert client.post(f"/curricula/versions/{matrix16.id}/fork", data={"title": "Mine", "csrf_token": token}).status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/today").text)})
    stranger = make_user("director")  # a director of another program
    login(client, stranger.email)
    for url in pages:
        assert client.get(url).status_code == 404, url
    token = csrf_token(client.get("/curricula/").text)
    assert client.post(f"/curricula/versions/{draft.id}/publish", data={"csrf_token": token}).status_code == 404
    assert client.get(f"/curricula/versions/{draft.id}/export.zip").status_code == 404
    assert client.get(f"/curricula/versions/{matrix16.id}").status_code == 200  # shipped: visible to every director
    assert "Our IOP 2027" not in client.get("/curricula/").text


def test_the_list_shows_shipped_and_own_curricula_with_their_versions(client, draft, matrix16):
    page = client.get("/curricula/").text
    assert "Stimulant IOP, 16 weeks" in page and "Ships with facilitator" in page
    assert "Our IOP 2027" in page and "Your program" in page
    assert f'href="/curricula/versions/{draft.id}"' in page and "Draft" in page
    assert f"/curricula/versions/{matrix16.id}/export.zip" in page


# --- forking ----------------------------------------------------------------------------------------

def test_a_fork_belongs_to_the_program_and_copies_everything(client, draft, director, matrix16):
    assert draft.curriculum.program_id == director.program_id
    assert draft.status == "draft" and draft.parent_id == matrix16.id and draft.title == "Our IOP 2027"
    assert draft.curriculum.name == "our-iop-2027"
    copied = db.session.scalar(select(func.count(Module.id)).where(Module.version_id == draft.id))
    original = db.session.scalar(select(func.count(Module.id)).where(Module.version_id == matrix16.id))
    assert copied == original == 92
    assert rp_order(draft) == rp_order(matrix16)
    assert module_of(draft, "RP 12").worksheets[0].fields == module_of(matrix16, "RP 12").worksheets[0].fields


def test_forking_twice_gives_independent_drafts(client, draft, matrix16):
    second = fork(client, matrix16)  # the same title: a second curriculum with its own name
    assert second.id != draft.id and second.curriculum_id != draft.curriculum_id
    assert second.curriculum.name == "our-iop-2027-2"
    rp12 = module_of(draft, "RP 12")
    post(client, f"/curricula/versions/{draft.id}/tracks/RP/move", {"step": f"{rp12.id}:up"},
         page=f"/curricula/versions/{draft.id}/tracks/RP")
    assert rp_order(draft)[10:12] == ["RP 12", "RP 11"]
    assert rp_order(second) == rp_order(matrix16)  # the other draft did not move
    title = post(client, f"/curricula/versions/{second.id}/settings",
                 {"title": "Second site", "label": "B", "description": ""}, page=f"/curricula/versions/{second.id}")
    assert title.status_code == 303
    db.session.expire_all()
    assert draft.title == "Our IOP 2027" and second.title == "Second site"


def test_a_fork_needs_a_title(client, director, matrix16):
    login(client, director.email)
    reply = post(client, f"/curricula/versions/{matrix16.id}/fork", {"title": "  "})
    assert reply.status_code == 422
    assert "Enter a title of at least 3 characters." in reply.text


# --- the track page: order, move buttons, local modules, retiring ---------------------------------------

def test_the_track_page_lists_modules_in_order_with_named_move_buttons(client, draft):
    page = client.get(f"/curricula/versions/{draft.id}/tracks/RP").text
    codes = re.findall(r'<span class="cu-code">(RP \d+)</span>', page)
    assert codes == rp_order(draft)
    assert 'Move <span class="sr-only">RP 12 </span>up</button>' in page
    assert 'Move <span class="sr-only">RP 12 </span>down</button>' in page
    assert '<label for="module">Move</label>' in page and '<label for="before">before</label>' in page


def test_move_before_puts_rp12_right_after_rp2(client, draft):
    rp12, rp3 = module_of(draft, "RP 12"), module_of(draft, "RP 3")
    reply = post(client, f"/curricula/versions/{draft.id}/tracks/RP/move",
                 {"module": str(rp12.id), "before": str(rp3.id)}, page=f"/curricula/versions/{draft.id}/tracks/RP")
    assert reply.status_code == 303 and reply.headers["Location"].endswith(f"#module-{rp12.id}")
    assert rp_order(draft)[:5] == ["RP 1", "RP 2", "RP 12", "RP 3", "RP 4"]
    assert "Moved RP 12 Trust: now after RP 2." in client.get(f"/curricula/versions/{draft.id}").text


def test_the_first_module_cannot_move_up(client, draft):
    rp1 = module_of(draft, "RP 1")
    reply = post(client, f"/curricula/versions/{draft.id}/tracks/RP/move", {"step": f"{rp1.id}:up"},
                 page=f"/curricula/versions/{draft.id}/tracks/RP")
    assert reply.status_code == 422 and "RP 1 is already first." in reply.text


def test_a_local_module_gets_the_next_number_of_its_track(client, draft):
    reply = post(client, f"/curricula/versions/{draft.id}/tracks/RP", {"form": "new", "new-title": "Holidays and Family Events"})
    assert reply.status_code == 303
    local = module_of(draft, "RP 33")
    assert local.title == "Holidays and Family Events" and local.minutes == 90 and rp_order(draft)[-1] == "RP 33"
    bad = post(client, f"/curricula/versions/{draft.id}/tracks/RP", {"form": "new", "new-title": "X", "new-minutes": "-5"})
    assert bad.status_code == 422
    assert 'id="new-title-error">Enter a title of at least 3 characters.' in bad.text
    assert 'id="new-minutes-error">Enter the minutes from 5 to 480, not -5.' in bad.text
    assert module_of(draft, "RP 34") is None


def test_track_settings_refuse_bad_numbers_and_save_good_ones(client, draft):
    url = f"/curricula/versions/{draft.id}/tracks/RP"
    bad = post(client, url, {"form": "track", "minutes": "9000", "first_week": "3", "last_week": "2"})
    assert bad.status_code == 422
    assert "Enter the minutes from 5 to 480, not 9000." in bad.text and "before the first week" in bad.text
    good = post(client, url, {"form": "track", "minutes": "60", "first_week": "2", "last_week": "", "required": "y"})
    assert good.status_code == 303
    track = module_of(draft, "RP 1").track
    assert (track.minutes, track.first_week, track.last_week, track.required) == (60, 2, None, True)


def test_retiring_keeps_the_module_and_is_refused_for_the_last_delivered_one(client, draft):
    rp20 = module_of(draft, "RP 20")
    url = f"/curricula/versions/{draft.id}/modules/{rp20.id}/retire"
    page = f"/curricula/versions/{draft.id}/modules/{rp20.id}"
    assert post(client, url, {"retired": "1"}, page=page).status_code == 303
    db.session.refresh(rp20)
    assert rp20.retired and module_of(draft, "RP 20") is not None
    assert "Retired RP 20" in client.get(f"/curricula/versions/{draft.id}").text
    ra = db.session.scalar(select(Module).where(Module.version_id == draft.id, Module.code.like("RA %")))
    refused = post(client, f"/curricula/versions/{draft.id}/modules/{ra.id}/retire", {"retired": "1"},
                   page=f"/curricula/versions/{draft.id}/modules/{ra.id}")
    assert refused.status_code == 303
    db.session.refresh(ra)
    assert not ra.retired


# --- the module page -----------------------------------------------------------------------------------

def _module_data(module, **changes) -> dict:
    data = {"title": module.title, "minutes": str(module.minutes), "goals": "\n".join(module.goals),
            "key_points": module.key_points, "questions": "\n".join(module.questions)}
    for i, step in enumerate(module.outline):
        data[f"outline-{i}-minutes"], data[f"outline-{i}-activity"] = str(step["minutes"]), step["activity"]
    for i, c in enumerate(module.considerations):
        data[f"considerations-{i}-when"], data[f"considerations-{i}-do"] = c["when"], c["do"]
    data.update(changes)
    return data


def test_the_module_guide_saves_and_markdown_is_sanitized_on_display(client, draft):
    rp5 = module_of(draft, "RP 5")
    url = f"/curricula/versions/{draft.id}/modules/{rp5.id}"
    points = "## Key points\n\n- **Plan the weekend.**\n\n<script>alert(1)</script>\n[a link](https://example.org)"
    reply = post(client, url, _module_data(rp5, title="Weekend Plans", key_points=points))
    assert reply.status_code == 303
    db.session.refresh(rp5)
    assert rp5.title == "Weekend Plans" and rp5.key_points.endswith("\n")
    page = client.get(url).text
    assert "<strong>Plan the weekend.</strong>" in page
    assert "<script>alert(1)</script>" not in page and 'href="https://example.org"' not in page


def test_bad_guide_input_is_refused_next_to_its_field(client, draft):
    rp5 = module_of(draft, "RP 5")
    url = f"/curricula/versions/{draft.id}/modules/{rp5.id}"
    reply = post(client, url, _module_data(rp5, minutes="ninety", **{"outline-0-minutes": "999",
                                                                     "considerations-0-do": ""}))
    assert reply.status_code == 422
    assert 'id="minutes-error">Enter the minutes as a whole number from 5 to 480.' in reply.text
    assert 'id="outline-0-minutes-error">Enter the step&#39;s minutes from 1 to 240, not 999.' in reply.text
    assert 'id="considerations-0-do-error">Say what to do, or clear the situation.' in reply.text
    db.session.refresh(rp5)
    assert rp5.minutes == 90


# --- the worksheet page ---------------------------------------------------------------------------------

def _sheet_data(sheet: Worksheet, rows: list[dict], **head) -> dict:
    data = {"title": sheet.title, "intro": sheet.intro, "pages": str(sheet.pages), **head}
    for i, row in enumerate(rows):
        for key, value in row.items():
            if value is True:
                data[f"fields-{i}-{key}"] = "y"
            elif value is not False:
                data[f"fields-{i}-{key}"] = "\n".join(value) if isinstance(value, list) else str(value)
    return data


def test_worksheet_fields_are_added_retyped_reordered_and_removed(client, draft):
    sheet = module_of(draft, "RP 12").worksheets[0]
    url = f"/curricula/versions/{draft.id}/worksheets/{sheet.id}"
    rows = [dict(f) for f in sheet.fields]
    added = post(client, url, {**_sheet_data(sheet, rows), "action": "add", "new_type": "scale"})
    assert added.status_code == 303 and added.headers["Location"].endswith(f"#field-{len(rows)}")
    db.session.refresh(sheet)
    assert sheet.fields[-1] == {"id": "scale", "type": "scale", "min": 0, "max": 10}
    rows = [dict(f) for f in sheet.fields]
    rows[-1].update(label="How sure I am that I can keep my promise", low_label="Not sure", high_label="Very sure")
    rows[0].update(type="lines", lines="4")  # the table becomes answer lines; its columns are dropped
    reply = post(client, url, {**_sheet_data(sheet, rows), "action": f"up:{len(rows) - 1}"})
    assert reply.status_code == 303
    db.session.refresh(sheet)
    assert sheet.fields[0] == {"id": "trust_people", "type": "lines",
                               "label": "People whose trust I want to earn back", "lines": 4}
    assert sheet.fields[-2]["type"] == "scale" and sheet.fields[-2]["high_label"] == "Very sure"
    assert post(client, url, {**_sheet_data(sheet, [dict(f) for f in sheet.fields]), "action": "remove:0"}).status_code == 303
    db.session.refresh(sheet)
    assert [f["id"] for f in sheet.fields][0] == "show_it"


def test_the_worksheet_page_shows_typed_settings_and_the_printed_page(client, draft):
    sheet = module_of(draft, "RP 12").worksheets[0]
    page = client.get(f"/curricula/versions/{draft.id}/worksheets/{sheet.id}").text
    assert '<label for="fields-0-columns">Column headers, one per line</label>' in page
    assert "Person\nWhat broke their trust\nOne thing I can do again and again</textarea>" in page
    assert 'data-for="lines"' in page and 'data-for="lines" hidden' in page  # settings of other types hidden
    assert 'title="Printed page of RP 12A"' in page and "srcdoc=" in page
    assert "Earning Back Trust" in page and "What broke their trust" in page
    token = csrf_token(page)
    rows = [dict(f) for f in sheet.fields]
    rows[3]["label"] = "A calm answer I can give"
    preview = client.post(f"/curricula/versions/{draft.id}/worksheets/{sheet.id}/preview",
                          data={"csrf_token": token, **_sheet_data(sheet, rows)})
    assert preview.status_code == 200 and "A calm answer I can give" in preview.text
    db.session.refresh(sheet)
    assert sheet.fields[3]["label"] != "A calm answer I can give"  # a preview saves nothing


def test_bad_worksheet_settings_are_refused_next_to_the_field(client, draft):
    sheet = module_of(draft, "RP 12").worksheets[0]
    url = f"/curricula/versions/{draft.id}/worksheets/{sheet.id}"
    rows = [dict(f) for f in sheet.fields]
    rows[0]["rows"] = "99"
    rows[2]["lines"] = "-1"
    rows[3]["id"] = rows[4]["id"]
    reply = post(client, url, {**_sheet_data(sheet, rows), "action": "save"})
    assert reply.status_code == 422
    assert 'id="fields-0-rows-error">Enter the number of rows from 0 to 24, not 99.' in reply.text
    assert 'id="fields-2-lines-error">Enter the number of lines from 1 to 20, not -1.' in reply.text
    assert "Another field of this worksheet is already named trusted_now." in reply.text
    db.session.refresh(sheet)
    assert sheet.fields[0]["rows"] == 3


def test_a_new_worksheet_is_coded_after_its_module(client, draft):
    rp7 = module_of(draft, "RP 7")
    reply = post(client, f"/curricula/versions/{draft.id}/modules/{rp7.id}/worksheets", {"sheet-title": "My Week Ahead"},
                 page=f"/curricula/versions/{draft.id}/modules/{rp7.id}")
    assert reply.status_code == 303
    db.session.refresh(rp7)
    assert [w.code for w in rp7.worksheets] == ["RP 7A", "RP 7B", "RP 7C"]  # RP 7 ships with two
    assert rp7.worksheets[-1].title == "My Week Ahead" and rp7.worksheets[-1].fields == []


# --- publishing ---------------------------------------------------------------------------------------

def test_an_invalid_draft_is_not_published_and_each_message_sits_with_its_module(client, draft):
    rp4, rp12 = module_of(draft, "RP 4"), module_of(draft, "RP 12")
    steps = {"outline-0-minutes": str(rp4.outline[0]["minutes"] + 5)}  # the outline no longer adds up to 90
    assert post(client, f"/curricula/versions/{draft.id}/modules/{rp4.id}", _module_data(rp4, **steps)).status_code == 303
    sheet = rp12.worksheets[0]
    rows = [dict(f) for f in sheet.fields]
    rows[0]["columns"] = []  # a table without headers
    assert post(client, f"/curricula/versions/{draft.id}/worksheets/{sheet.id}",
                {**_sheet_data(sheet, rows), "action": "save"}).status_code == 303
    reply = post(client, f"/curricula/versions/{draft.id}/publish", page=f"/curricula/versions/{draft.id}")
    assert reply.status_code == 422
    text = reply.text
    assert "Not published: 2 problems to fix" in text
    assert text.index('id="problems-RP-4"') < text.index('id="problems-RP-12"')  # in curriculum order
    rp4_section = text.split('id="problems-RP-4"')[1].split("<h3")[0]
    assert "outline minutes add up to 95, not 90" in rp4_section
    assert "the last step must be 30 minutes" not in rp4_section
    rp12_section = text.split('id="problems-RP-12"')[1].split("<h3")[0]
    assert "Worksheet RP 12A, field 1:</strong> needs column headers" in rp12_section
    db.session.refresh(draft)
    assert draft.status == "draft" and draft.published_at is None
    # The module and worksheet pages say the same, next to the guide and the fields.
    assert "outline minutes add up to 95, not 90" in client.get(f"/curricula/versions/{draft.id}/modules/{rp4.id}").text
    sheet_page = client.get(f"/curricula/versions/{draft.id}/worksheets/{sheet.id}").text
    assert "Worksheet RP 12A, field 1:</strong> needs column headers" in sheet_page
    assert "&#9888; 1 to fix" in client.get(f"/curricula/versions/{draft.id}/tracks/RP").text


def test_publishing_makes_an_immutable_version_with_a_change_summary(client, draft, director, matrix16):
    rp12, rp3, rp20 = module_of(draft, "RP 12"), module_of(draft, "RP 3"), module_of(draft, "RP 20")
    base = f"/curricula/versions/{draft.id}"
    post(client, f"{base}/tracks/RP/move", {"module": str(rp12.id), "before": str(rp3.id)}, page=f"{base}/tracks/RP")
    post(client, f"{base}/modules/{rp20.id}/retire", {"retired": "1"}, page=f"{base}/modules/{rp20.id}")
    rp5 = module_of(draft, "RP 5")
    post(client, f"{base}/modules/{rp5.id}", _module_data(rp5, title="Weekend Plans"))
    reply = post(client, f"{base}/publish", page=base)
    assert reply.status_code == 303, reply.text
    db.session.refresh(draft)
    assert draft.status == "published" and draft.published_by_id == director.id and len(draft.content_hash) == 64
    lines = draft.change_summary.splitlines()
    assert lines[0] == "Title: Stimulant IOP, 16 weeks (Matrix-Model-style) → Our IOP 2027."
    assert "Moved RP 12 Trust: now after RP 2." in lines
    assert f"Retitled RP 5: {module_of(matrix16, 'RP 5').title} → Weekend Plans." in lines
    assert f"Retired RP 20 {rp20.title}." in lines
    # The retitled module's Spanish now trails its English: it waits for review (and prints in English).
    assert "RP 5: the English changed; its Spanish text awaits review and prints in English until then." in lines
    assert "Edited the guide of RP 5." not in lines and len(lines) == 5
    page = client.get(base).text
    assert "Moved RP 12 Trust: now after RP 2." in page and "Fork into a new draft" in page
    assert "Start the next version of Our IOP 2027" in page


def test_a_published_version_cannot_change_through_the_web_or_the_model(client, draft, matrix16):
    assert post(client, f"/curricula/versions/{draft.id}/publish", page=f"/curricula/versions/{draft.id}").status_code == 303
    rp12 = module_of(draft, "RP 12")
    base = f"/curricula/versions/{draft.id}"
    token = csrf_token(client.get(f"/curricula/versions/{matrix16.id}").text)
    attempts = [
        (f"{base}/modules/{rp12.id}", _module_data(rp12, title="Changed")),
        (f"{base}/tracks/RP/move", {"step": f"{rp12.id}:up"}),
        (f"{base}/tracks/RP", {"form": "new", "new-title": "Another topic"}),
        (f"{base}/modules/{rp12.id}/retire", {"retired": "1"}),
        (f"{base}/worksheets/{rp12.worksheets[0].id}", {"title": "Changed", "pages": "1", "action": "save"}),
        (f"{base}/settings", {"title": "Changed", "label": "9"}),
        (f"{base}/publish", {}),
        (f"/curricula/versions/{matrix16.id}/modules/{module_of(matrix16, 'RP 12').id}", {"title": "Changed"}),
    ]
    for url, data in attempts:
        reply = client.post(url, data={"csrf_token": token, **data})
        assert reply.status_code == 409, (url, reply.status_code)
        assert "Published versions never change" in reply.text
    db.session.expire_all()
    assert module_of(draft, "RP 12").title == "Trust" and rp_order(draft)[11] == "RP 12"
    page = client.get(f"{base}/modules/{rp12.id}").text
    assert "<form" not in page.split("Facilitator guide")[1].split("Worksheets")[0]  # read-only guide
    rp12 = module_of(draft, "RP 12")
    rp12.title = "Changed behind the web's back"
    with pytest.raises(PublishedVersionChanged):
        db.session.flush()
    db.session.rollback()


def test_a_draft_can_be_deleted_with_its_new_curriculum(client, draft):
    curriculum_id = draft.curriculum_id
    reply = post(client, f"/curricula/versions/{draft.id}/discard", page=f"/curricula/versions/{draft.id}")
    assert reply.status_code == 303
    assert db.session.get(Curriculum, curriculum_id) is None
    assert db.session.scalar(select(func.count(Module.id)).where(Module.version_id == draft.id)) == 0


def test_the_version_and_track_pages_take_the_same_number_of_queries_for_a_small_and_a_large_curriculum(
        client, draft, matrix16, count_queries):
    large = fork(client, matrix16, "Large copy")
    for track in draft.tracks:  # the small one: one module per track
        for module in list(track.modules)[1:]:
            track.modules.remove(module)
    db.session.flush()
    counts = {}
    for name, version_id in (("small", draft.id), ("large", large.id)):
        for page in ("", "/tracks/RP"):
            client.get(f"/curricula/versions/{version_id}{page}")
            db.session.expire_all()  # as in a real request, nothing loaded is reused
            with count_queries() as counter:
                assert client.get(f"/curricula/versions/{version_id}{page}").status_code == 200
            counts[name + page] = counter.count
    assert counts["small"] == counts["large"] and counts["small/tracks/RP"] == counts["large/tracks/RP"], counts
    assert counts["large"] <= 16 and counts["large/tracks/RP"] <= 8, counts
