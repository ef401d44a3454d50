"""A participant's worksheet printed with their answers in place (the workbook's "Print my answers").

The same sheet as the printed worksheet (templates/documents/_fields.html), each answer where a pen
would have written it, on the version the answer was given on; tagged like every document, with the
participant's name on every page and the 42 CFR 2.32 notice. The answers are part of the cache key,
so a changed answer makes a new file. It prints in the participant's language: the worksheet's twin in
it where the curriculum has one, as the workbook shows it on screen (same field ids; a checklist's ticks
read in the twin's words).
"""

from __future__ import annotations

from flask_babel import gettext as _

from ..participants.models import Participant
from ..programs.models import Program
from ..web.i18n import LANGUAGES
from ..workbook import services as workbook
from ..workbook.models import WorksheetAnswer
from . import builders, catalog
from .catalog import DocumentNotFound, Order
from .service import RenderInput, cache_key

STYLESHEETS = ("workbook.css",)


def answers_order(person: Participant, answer: WorksheetAnswer, *, program: Program) -> Order:
    """The filled worksheet of one answer of one participant (DocumentNotFound if it is not theirs)."""
    if answer.participant_id != person.id or person.program_id != program.id:
        raise DocumentNotFound(f"no worksheet answer with id {answer.id}")
    row = answer.worksheet
    # The twin the participant reads on screen (workbook.sheet_in), the answers as they read on it: a
    # checklist's ticks are stored as the version's own words.
    sheet = workbook.sheet_in(row, person.language if person.language in LANGUAGES else "en")
    language = sheet.language if sheet.language in LANGUAGES else "en"
    module_title = ((row.module.translations or {}).get(language) or {}).get("title") or row.module.title
    size, heading = catalog.page_size_for(program, None), catalog.program_heading(program)
    enrollment = catalog.current_enrollments([person]).get(person.id)
    copy = catalog.identity(person, enrollment, catalog.program_today(program), lang=language)
    sheets = (builders.Sheet(sheet, row.module.code, module_title),)
    answers = {sheet.code: workbook.shown_answers(row, sheet, answer.answers)}
    key = cache_key("worksheet-answers", {"worksheet": row.id, "answers": answers, "size": size, "lang": language,
                                          "heading": heading, "copy": copy, "fields": row.fields,
                                          "text": (sheet.title, sheet.intro, module_title, repr(sheet.fields))})

    def build() -> RenderInput:
        with builders.in_language(language):
            title = _("%(code)s %(title)s: my answers", code=sheet.code, title=sheet.title)
            html = builders.worksheets_html(list(sheets), title=title, lang=language, answers=answers)
            return RenderInput(html, size, language, False, sheets, (copy,), heading, notice=True,
                               stylesheets=STYLESHEETS)

    return Order("worksheet-answers", key, f"{sheet.code.replace(' ', '-')}-my-answers.pdf", sheet.pages, build,
                 (person.id,), program.id, {"codes": [sheet.code], "variant": "answers", "answer": answer.id})

