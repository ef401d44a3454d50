"""Every page each person can reach, in Spanish: no English left and no error.

The routes and the people are those of the access matrix (tests/test_access_matrix.py): each GET
route that answers 200 to a person there is requested again with that person's language set to
Spanish (the participant and the staff through their account setting, the visitor through
Accept-Language). A page's visible text and the words people read in attributes (aria-label, title,
placeholder, alt) are split into pieces; a piece is English left over when it holds two or more
common English words that Spanish does not use. What the program itself wrote (names of people,
groups, holidays, the test's sample answers) is data, not interface, and is left out. PDFs are read
with pdftotext the same way.
"""

from __future__ import annotations

import re
import subprocess
from html.parser import HTMLParser

import pytest

from facilitator.auth.models import User
from facilitator.extensions import db
from facilitator.participants.models import Participant

from .test_access_matrix import ROLES, _url, expected_codes, world  # noqa: F401  (world is a fixture)

# Words common in English interface text and not words of Spanish (so "no", "a", "me" are not here).
ENGLISH = set("""
the and of to with for your you this that these those is are was were has have had not on at by from
or all new save print add edit delete remove back next week weeks today group groups meeting meetings
session sessions participant participants attendance present absent late excused name date time
minutes hours none yes open close show hide more less sign signed out my we our who what when where
how why which there here after before than then each every only also can will would should must
been being do does did done it its they them their he she his her if so up down about into over under
again still just page pages report reports worksheet worksheets module modules track tracks version
versions draft published status notes note tests prize prizes draws choose enter select settings
program curriculum staff account password change changes download upload incentives schedule planned
missed make-up make-ups makeup completed complete progress calendar start end days day month year
record records answers answer comment comments reviewed review help first last name email address
code codes role roles active inactive sent send yet any one two three ago since until view list lists
""".split())
# The app's name and words that read the same in both languages.
KEEP = {"facilitator", "PDF", "CSV", "XLSX", "HIPAA", "CFR", "TOTP", "OK", "English"}
WORD = re.compile(r"[A-Za-z][A-Za-z'-]+")
SKIPPED_TAGS = {"script", "style"}
READ_ATTRIBUTES = ("aria-label", "title", "placeholder", "alt")
BILINGUAL = re.compile(r"Sign-in sheet\s*/\s*Hoja")


class _Text(HTMLParser):
    """The pieces of text a person reads on a page: text between tags and the read attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pieces: list[str] = []
        self._skip = 0
        self._english = 0  # inside an element marked lang="en" (the switch's "English")

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag in SKIPPED_TAGS:
            self._skip += 1
        if values.get("lang") == "en" and tag not in ("html",):
            self._english += 1
            self._english_tag = tag
        self.pieces += [values[name] for name in READ_ATTRIBUTES if values.get(name)]

    def handle_endtag(self, tag):
        if tag in SKIPPED_TAGS:
            self._skip = max(0, self._skip - 1)
        if self._english and tag == getattr(self, "_english_tag", None):
            self._english -= 1

    def handle_data(self, data):
        if not self._skip and not self._english and data.strip():
            self.pieces.append(" ".join(data.split()))


def english_left(pieces: list[str], data: set[str], content: tuple[str, ...] = ()) -> list[str]:
    """The pieces that still read as English: data written by the program's people, and pieces of the
    curriculum text being edited (`content`), left out."""
    found = []
    longest_first = sorted(data, key=len, reverse=True)  # a short value may sit inside a long one
    for piece in pieces:
        # A piece of the text being edited, whole, or shortened after an interface label ("Campo 6: The day…").
        tail = piece.split(": ", 1)[-1].rstrip(".… ")
        if content and any(piece in text or (len(tail) > 12 and tail in text) for text in content):
            continue
        text = piece
        for value in longest_first:
            text = text.replace(value, " ")
        words = [w.lower() for w in WORD.findall(text) if w not in KEEP]
        if sum(1 for w in words if w in ENGLISH) >= 2 or (len(words) == 1 and words[0] in ENGLISH
                                                          and len(words[0]) > 3):
            found.append(piece)
    return found


def _pdf_pieces(data: bytes, tmp_path) -> list[str]:
    """The lines of a PDF's pages, but for the sign-in sheet's: it is bilingual on purpose (English and
    Spanish speakers sign the same sheet)."""
    path = tmp_path / "page.pdf"
    path.write_bytes(data)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    pages = [page for page in text.split("\f") if not BILINGUAL.search(page)]
    return [" ".join(line.split()) for page in pages for line in page.splitlines() if line.strip()]


# What the access matrix's world wrote: names, places and answers of its people, not the app's words.
WORLD_DATA = {"Person 1", "Person 2", "Evening", "Matrix IOP", "Founders' day", "Staff training", "My sponsor",
              "Matrix draft", "Dir", "Facil", "Gone", "Target", "P1", "P2", "MX-1", "MX-2"}


def _edited_text(people_and_ids) -> tuple[str, ...]:
    """Every text of the curriculum versions the editor shows. The curriculum editor shows a version's
    own words (English), since those are the words a director edits; every other page shows stored
    titles in the reader's language."""
    from facilitator.curricula.services import load_version, to_domain
    from facilitator.domain.curriculum_rules import participant_text

    texts: list[str] = []
    for version_id in (people_and_ids["version_id"], people_and_ids["args"]["version_id"]):
        curriculum = to_domain(load_version(version_id))
        texts += [curriculum.title, curriculum.description]
        for track in curriculum.tracks:
            texts.append(track.name)
            for module in track.modules:
                texts += [module.title, *module.goals, *(s.activity for s in module.outline), *module.questions,
                          *(c.when for c in module.considerations), *(c.do for c in module.considerations)]
                texts += [" ".join(module.key_points.split()),
                          " ".join(module.key_points.replace("*", "").replace("#", "").split())]
                texts += [text for sheet in module.worksheets for text in participant_text(sheet)]
    return tuple(t for t in texts if t)


HANDBOOK_STAND_IN = b"%PDF-1.7 the program's Spanish handbook"


@pytest.fixture
def spanish_world(session, world):  # noqa: F811  (the access matrix's fixture)
    """The access matrix's world with every person's language set to Spanish (accounts and records), and
    the program's Spanish handbook in the document cache as the English one is (no 140-page render)."""
    from flask import current_app

    from facilitator.documents import catalog, service
    from facilitator.programs.models import Program

    for user_id, _, _ in world["users"].values():
        user = db.session.get(User, user_id)
        user.language = "es"
        if user.participant_id:
            db.session.get(Participant, user.participant_id).language = "es"
    program = db.session.get(Program, db.session.get(User, world["users"]["dir"][0]).program_id)
    order = catalog.handbook_order(version=catalog.find_version(None, program.id), program=program, lang="es")
    service.cache_for(current_app).put(order.key, HANDBOOK_STAND_IN)
    db.session.commit()
    return world


def test_every_page_each_person_reaches_reads_in_spanish(app, session, spanish_world, tmp_path):
    from .conftest import login

    table = expected_codes()
    people = {"anon": None, **{role: spanish_world["users"][role][1] for role in ("self", "facil", "dir")}}
    problems: dict[str, list[str]] = {}
    curriculum_text = _edited_text(spanish_world)
    session.remove()
    connection = session.get_bind()
    for role, email in people.items():
        column = ROLES.index(role)
        with app.app_context():
            client = app.test_client()
            client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es-US,es;q=0.9"
            if email:
                assert login(client, email).status_code in (302, 303)
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint):
            if rule.endpoint == "static" or "GET" not in rule.methods or table.get(rule.endpoint, ())[column:column + 1] != (200,):
                continue
            url = _url(app, rule, spanish_world)
            savepoint = connection.begin_nested()
            try:
                with app.app_context():
                    response = client.get(url)
            finally:
                session.remove()
                savepoint.rollback()
            where = f"{role} {rule.endpoint} {url}"
            if response.status_code != 200:
                problems[where] = [f"answered {response.status_code}"]
                continue
            kind = response.mimetype
            if kind == "text/html":
                parser = _Text()
                parser.feed(response.get_data(as_text=True))
                pieces = parser.pieces
            elif kind == "application/pdf":
                if response.get_data() == HANDBOOK_STAND_IN:
                    continue  # the stand-in put in the cache (tests/documents render the handbook)
                pieces = _pdf_pieces(response.get_data(), tmp_path)
            else:
                continue  # CSV, XLSX, iCalendar and JSON keep their English column names and keys
            edited = curriculum_text if rule.endpoint.startswith("curricula.") else ()
            if left := english_left(pieces, WORLD_DATA | set(edited), edited):
                problems[where] = left[:12]
    report = "\n".join(f"{where}:\n    " + "\n    ".join(left) for where, left in sorted(problems.items()))
    assert not problems, f"English left on {len(problems)} page(s):\n{report}"


def test_the_detector_finds_english_and_passes_spanish():
    assert english_left(["Save attendance for this meeting"], set()) == ["Save attendance for this meeting"]
    assert english_left(["Guardar la asistencia de esta sesión", "RP 7A", "5:30 p.m."], set()) == []
    assert english_left(["Person 1 no vino"], {"Person 1"}) == []
