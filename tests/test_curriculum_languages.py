"""The curriculum in two languages: the validator holds every twin to the English's shape and wording
rules; an edit of one language marks the other for review, in the app and through a curriculum file;
a twin awaiting review prints in English until someone reviews it."""

from __future__ import annotations

import shutil

import yaml

from facilitator.curricula import drafts, editing, publishing, services
from facilitator.domain.curriculum_files import load_folder, shipped_path
from facilitator.extensions import db

from .conftest import login
from .test_curriculum_editing import (  # noqa: F401  (director and newer are fixtures)
    _unzip,
    _upload,
    _zip,
    director,
    module_of,
    newer,
    write_local_module,
)


def _copy(tmp_path):
    folder = tmp_path / "matrix"
    shutil.copytree(shipped_path("matrix-16"), folder)
    return folder


def _errors(folder) -> list[str]:
    _, problems = load_folder(folder)
    return [str(p) for p in problems if p.severity == "error"]


def test_the_validator_names_a_missing_twin_a_changed_shape_and_a_stigmatizing_word(tmp_path):
    folder = _copy(tmp_path)
    (folder / "modules/rp/rp-07.es.md").unlink()
    twin = folder / "modules/rp/rp-08.es.md"
    text = twin.read_text()
    first_goal = text.index("goals:\n") + len("goals:\n")
    twin.write_text(text[:first_goal] + text[text.index("\n", first_goal) + 1:])  # one goal fewer
    sheet = folder / "modules/rp/rp-09.es.md"
    front, body = sheet.read_text()[4:].split("\n---\n", 1)
    data = yaml.safe_load(front)
    data["questions"][0] = "¿Qué le diría a un adicto?"
    sheet.write_text("---\n" + yaml.safe_dump(data, allow_unicode=True, sort_keys=False) + "---\n" + body)
    errors = _errors(folder)
    assert any("RP 7 has no Spanish twin (modules/rp/rp-07.es.md)" in e for e in errors), errors
    assert any(e.startswith("modules/rp/rp-08.es.md") and "goals" in e for e in errors), errors
    assert any(e.startswith("modules/rp/rp-09.es.md") and "'adicto'" in e for e in errors), errors


def test_a_twin_with_other_field_ids_or_item_counts_is_refused(tmp_path):
    folder = _copy(tmp_path)
    twin = folder / "modules/rp/rp-07.es.md"
    twin.write_text(twin.read_text().replace("id: motivation_today", "id: motivacion_hoy", 1))
    assert any("rp-07.es.md" in e and "motivacion_hoy" in e for e in _errors(folder))


def test_an_english_edit_in_the_app_marks_the_spanish_for_review_until_then_it_prints_in_english(director, matrix16):  # noqa: F811
    draft = drafts.fork(matrix16, director, "Our IOP")
    module = module_of(draft, "RP 7")
    editing.update_module(draft, module, director, editing.ModuleInput(
        title="Motivation for Recovery", minutes="90", goals=list(module.goals),
        outline=[(str(s["minutes"]), s["activity"]) for s in module.outline], key_points=module.key_points,
        questions=[*module.questions, "What would you tell a friend who wants to quit?"],
        considerations=[(c["when"], c["do"]) for c in module.considerations]))
    stored = services.domain_module(module_of(draft, "RP 7"))
    assert stored.needs_review == ("es",)
    assert stored.in_language("es") is stored, "prints in English until the Spanish is reviewed"
    review = publishing.review(draft)
    assert not review.problems.get("RP 7") or all(p.severity == "warning" for p in review.problems["RP 7"])
    published = publishing.publish(draft, director)
    assert "RP 7: the English changed; its Spanish text awaits review" in published.change_summary
    files = _unzip(services.export_zip(published))
    assert "review: true" in files["modules/rp/rp-07.es.md"] and "review: true" not in files["modules/rp/rp-08.es.md"]


def test_a_file_with_only_the_spanish_changed_asks_for_the_english_to_be_checked(client, director, newer):  # noqa: F811
    files = _unzip(services.export_zip(newer))
    files["curriculum.yaml"] = files["curriculum.yaml"].replace(f"version: '{newer.label}'", "version: two")
    files["modules/rp/rp-09.es.md"] = files["modules/rp/rp-09.es.md"].replace("title: ", "title: (revisado) ", 1)
    files["modules/rp/rp-10.md"] = files["modules/rp/rp-10.md"].replace("title: ", "title: Revised ", 1)
    login(client, director.email)
    assert _upload(client, _zip(files)).status_code == 303
    latest = services.latest_published(newer.curriculum_id)
    assert latest.parent_id == newer.id
    assert "Edited the Spanish text of RP 9; its English did not change" in latest.change_summary
    assert "RP 10: the English changed; its Spanish text awaits review" in latest.change_summary
    assert services.domain_module(module_of(latest, "RP 10")).needs_review == ("es",)
    assert services.domain_module(module_of(latest, "RP 9")).needs_review == ()
    assert services.domain_module(module_of(latest, "RP 9")).in_language("es").title.startswith("(revisado)")


def test_a_new_local_module_awaits_its_translation_and_blocks_nothing(director, matrix16):  # noqa: F811
    draft = drafts.fork(matrix16, director, "With a local module")
    local = services.domain_module(write_local_module(draft, director))
    assert local.needs_review == ("es",) and local.in_language("es") is local
    assert not [p for p in services.check_curriculum(services.to_domain(services.load_version(draft.id)))
                if p.severity == "error"]


def test_a_director_reading_spanish_sees_the_zip_import_problems_in_spanish(client, director, newer):  # noqa: F811
    files = _unzip(services.export_zip(newer))
    files["modules/rp/rp-33.md"] = files["modules/rp/rp-33.md"].replace("- minutes: 15\n", "- minutes: 16\n", 1)
    del files["modules/rp/rp-07.es.md"]
    director.language = "es"
    db.session.commit()
    login(client, director.email)
    reply = _upload(client, _zip(files))
    assert reply.status_code == 422
    text = reply.text
    assert "los minutos del esquema suman 91, no 90" in text, text
    assert "RP 7 no tiene su versión en español (modules/rp/rp-07.es.md)" in text
    assert "outline minutes add up to" not in text and "Spanish twin" not in text
