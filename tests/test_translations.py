"""Every string marked for translation in the code and templates has its Spanish, with the same
placeholders; the language a page is in comes from the person, their record, the switch or the browser."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from facilitator.auth.models import User
from facilitator.extensions import db
from facilitator.participants.models import Participant

from .conftest import PASSWORD, csrf_token, login

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "facilitator" / "translations" / "es" / "LC_MESSAGES" / "messages.po"


def _extracted(tmp_path) -> list:
    """The strings marked in the code now (as `make messages` collects them)."""
    pot = tmp_path / "messages.pot"
    pybabel = Path(sys.executable).with_name("pybabel")
    subprocess.run([str(pybabel), "-q", "extract", "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext", "-k", "N_", "-k", "lazy_pgettext:1c,2",
                    "--no-location", "-o", str(pot), "."], cwd=ROOT, check=True, capture_output=True)
    with pot.open("rb") as f:
        return [m for m in read_po(f) if m.id]


def test_every_marked_string_has_its_spanish_with_the_same_placeholders(tmp_path, app):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("database-independent: run once, in the SQLite run")
    with CATALOG.open("rb") as f:
        catalog = read_po(f, locale="es")
    missing, fuzzy = [], []
    for message in _extracted(tmp_path):
        found = catalog.get(message.id, message.context)
        strings = [] if found is None else ([found.string] if isinstance(found.string, str) else list(found.string))
        if not strings or not all(strings):
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
        elif "fuzzy" in found.flags:
            fuzzy.append(message.id)
    assert not missing, f"{len(missing)} string(s) have no Spanish; run `make messages`, translate them in " \
                        f"{CATALOG.relative_to(ROOT)}: {missing[:15]}"
    assert not fuzzy, f"fuzzy (unchecked) translations: {fuzzy[:15]}"
    # Babel's own checks: the same %(name)s placeholders in both languages, plural forms complete.
    problems = [(message.id, [str(e) for e in errors]) for message, errors in catalog.check()]
    assert not problems, problems[:15]


def _page_language(client, path: str = "/login") -> str:
    page = client.get(path).text
    return page.split('<html lang="', 1)[1].split('"', 1)[0]


def test_the_browser_language_then_the_switch_choose_before_signing_in(client):
    assert _page_language(client) == "en"
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es-MX,es;q=0.9,en;q=0.5"
    assert _page_language(client) == "es" and "Iniciar sesión" in client.get("/login").text
    token = csrf_token(client.get("/login").text)
    reply = client.post("/language", data={"language": "en", "next": "/login", "csrf_token": token})
    assert reply.status_code == 302 and reply.headers["Location"] == "/login"
    assert _page_language(client) == "en", "the switch beats the browser's language"


def test_a_participant_follows_their_record_until_they_choose(client, make_user, make_program, session):
    program = make_program()
    person = Participant(program_id=program.id, preferred_name="Carla", initials="CR", record_number="ES-1",
                         language="es")
    db.session.add(person)
    db.session.flush()
    user = make_user("participant", program=program, participant=person)
    login(client, user.email, PASSWORD)
    assert _page_language(client, "/me") == "es"
    token = csrf_token(client.get("/me").text)
    client.post("/language", data={"language": "en", "next": "/me", "csrf_token": token})
    assert db.session.get(User, user.id).language == "en", "the choice is kept on the account"
    assert _page_language(client, "/me") == "en"


def test_the_switch_refuses_other_languages_and_other_sites(client):
    token = csrf_token(client.get("/login").text)
    assert client.post("/language", data={"language": "fr", "csrf_token": token}).status_code == 400
    reply = client.post("/language", data={"language": "es", "next": "//evil.example/x", "csrf_token": token})
    assert reply.status_code == 302 and reply.headers["Location"] == "/"


def test_the_account_page_keeps_a_chosen_language_or_none(client, make_user):
    user = make_user("facilitator")
    login(client, user.email, PASSWORD)
    page = client.get("/account")
    assert 'name="language"' in page.text and "The language of my record, or of my browser" in page.text
    reply = client.post("/account/language", data={"language": "es", "csrf_token": csrf_token(page.text)})
    assert reply.status_code == 302 and db.session.get(User, user.id).language == "es"
    spanish = client.get("/account")
    assert _page_language(client, "/account") == "es" and "Se guardó el idioma." in spanish.text
    client.post("/account/language", data={"language": "", "csrf_token": csrf_token(spanish.text)})
    assert db.session.get(User, user.id).language is None, "back to following the record or the browser"
    bad = client.post("/account/language", data={"language": "xx", "csrf_token": csrf_token(spanish.text)})
    assert bad.status_code == 400 and db.session.get(User, user.id).language is None
