"""In Spanish, in a real browser: Carlos (his record says Spanish) signs in on a phone and finds /me, his
worksheet and its printout in Spanish; a facilitator prints the meeting packet for a group of English
and Spanish speakers and each person's copy is in their own language; the footer switch changes the
language of a page that was in English. axe-core on the Spanish pages."""

from __future__ import annotations

import re
import subprocess
from datetime import time, timedelta

import pytest
from playwright.sync_api import expect

from facilitator import clock
from facilitator.auth.services import create_user
from facilitator.curricula.services import find_version
from facilitator.extensions import db
from facilitator.groups.models import Group, Slot
from facilitator.participants.models import Enrollment, Participant
from facilitator.programs.services import create_program

from .conftest import axe_violations, sign_in

pytestmark = pytest.mark.browser
PASSWORD = "spanish-browser-password"
PHONE = {"width": 360, "height": 740}


@pytest.fixture(scope="module")
def bilingual_group(live_app):
    """A group meeting every day at 18:30 (RP, starting at RP 7), with Ana (English) and Carlos (Spanish,
    with a portal account) in it, and its facilitator; the path of today's meeting."""
    today = clock.today()
    with live_app.app_context():
        program = create_program("Bilingual Browser", slug="bilingual-browser")
        create_user(program, "pat@bilingual.example", PASSWORD, "facilitator", "Pat Facilitator")
        group = Group(program_id=program.id, name="Evening", version_id=find_version("matrix-16").id,
                      start_date=today, starting_modules={"RP": "RP 7"})
        group.slots = [Slot(weekday=d, start_time=time(18, 30), track_code="RP", minutes=90) for d in range(7)]
        db.session.add(group)
        people = {}
        for name, language in (("Ana", "en"), ("Carlos", "es")):
            person = Participant(program_id=program.id, preferred_name=name, initials=name[:2].upper(),
                                 record_number=f"BB-{name}", language=language)
            db.session.add(person)
            db.session.flush()
            db.session.add(Enrollment(participant_id=person.id, group_id=group.id, admitted_on=today - timedelta(days=1)))
            people[name] = person
        create_user(program, "carlos@bilingual.example", PASSWORD, "participant", "Carlos",
                    participant_id=people["Carlos"].id)
        db.session.commit()
        return f"/groups/{group.id}/meetings/{today.isoformat()}/1830/RP"


def _text(pdf: bytes, tmp_path, name: str) -> str:
    path = tmp_path / name
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_carlos_reads_fills_and_prints_his_worksheet_in_spanish(browser, live_server, bilingual_group, tmp_path):
    tab = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    sign_in(tab, live_server, "carlos@bilingual.example", PASSWORD)
    tab.goto(f"{live_server}/me")
    assert tab.locator("html").get_attribute("lang") == "es"
    expect(tab.get_by_role("link", name="Mi progreso")).to_be_visible()
    expect(tab.get_by_role("button", name="Cerrar sesión")).to_be_visible()
    assert tab.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert axe_violations(tab) == []

    tab.get_by_role("link", name=re.compile(r"^Llenar en la pantalla ?: RP 7A$")).first.click()
    expect(tab.get_by_role("heading", name="RP 7A Mis razones para la recuperación")).to_be_visible()
    assert axe_violations(tab) == []
    tab.get_by_label("Qué haría subir mi número un punto").fill("Dormir toda la noche")
    tab.get_by_role("button", name="Guardar borrador").click()
    expect(tab.get_by_text("Borrador guardado.").first).to_be_visible()
    assert tab.get_by_label("Qué haría subir mi número un punto").input_value() == "Dormir toda la noche"

    link = tab.get_by_role("link", name="Imprimir mis respuestas (PDF)")
    pdf = tab.request.get(live_server + link.get_attribute("href"))
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    words = _text(pdf.body(), tmp_path, "carlos.pdf")
    for spanish in ("Mis razones para la recuperación", "Dormir toda la noche", "Nombre", "Confidencial"):
        assert spanish in words, spanish
    assert "My Reasons for Recovery" not in words


def test_each_person_gets_the_packet_copy_in_their_own_language(browser, live_server, bilingual_group, tmp_path):
    tab = browser.new_context(viewport={"width": 1024, "height": 800}).new_page()
    sign_in(tab, live_server, "pat@bilingual.example", PASSWORD)
    tab.goto(live_server + bilingual_group)
    assert tab.locator("html").get_attribute("lang") == "en"
    href = tab.get_by_role("link", name="Print packet").get_attribute("href")
    pdf = tab.request.get(live_server + href)
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    path = tmp_path / "packet.pdf"
    path.write_bytes(pdf.body())
    pages = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                           check=True).stdout.split("\f")
    ana = [p for p in pages if re.search(r"Name\s+Ana\b", p)]
    carlos = [p for p in pages if re.search(r"Nombre\s+Carlos\b", p)]
    assert ana and carlos, "a named copy for each person"
    assert all("My Reasons for Recovery" in p or "A Letter for a Hard Day" in p for p in ana[:1])
    assert any("Mis razones para la recuperación" in p for p in carlos)
    assert not any("Mis razones" in p for p in ana) and not any("My Reasons" in p for p in carlos)
    signin = [p for p in pages if "Sign-in sheet / Hoja de" in p]
    assert signin and "Name / Nombre" in signin[0], "the sign-in sheet is bilingual"

    # The footer switch: the same meeting page, now in Spanish, and the choice kept for this person.
    tab.get_by_role("button", name="Español").click()
    expect(tab.get_by_role("link", name="Imprimir paquete")).to_be_visible()
    assert tab.locator("html").get_attribute("lang") == "es"
    assert axe_violations(tab) == []
    tab.goto(f"{live_server}/today")
    assert tab.locator("html").get_attribute("lang") == "es"
