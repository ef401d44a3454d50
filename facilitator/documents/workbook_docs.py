"""A participant's worksheet printed with their answers in place (the workbook's "Print my answers").

The same sheet as the printed worksheet (templates/documents/_fields.html), each answer where a pen
would have written it, on the version the answer was given on; tagged like every document, with the
participant's name on every page and the 42 CFR 2.32 notice. The answers are part of the cache key,
so a changed answer makes a new file.
"""

from __future__ import annotations

from ..participants.models import Participant
from ..programs.models import Program
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
    sheet = workbook.sheet_of(row)
    size, language, heading = catalog.page_size_for(program, None), sheet.language, catalog.program_heading(program)
    try:
        builders.chrome(language)  # the sheet prints in its own language, which needs the template's words
    except builders.UnknownLanguage as exc:
        raise DocumentNotFound(str(exc)) from exc
    enrollment = catalog.current_enrollments([person]).get(person.id)
    copy = catalog.identity(person, enrollment, catalog.program_today(program))
    sheets = (builders.Sheet(sheet, row.module.code, row.module.title),)
    answers = {sheet.code: dict(answer.answers or {})}
    title = f"{sheet.code} {sheet.title}: my answers"
    key = cache_key("worksheet-answers", {"worksheet": row.id, "answers": answers, "size": size, "lang": language,
                                          "heading": heading, "copy": copy, "fields": row.fields})

    def build() -> RenderInput:
        html = builders.worksheets_html(list(sheets), title=title, lang=language, answers=answers)
        return RenderInput(html, size, language, False, sheets, (copy,), heading, notice=True,
                           stylesheets=STYLESHEETS)

    return Order("worksheet-answers", key, f"{sheet.code.replace(' ', '-')}-my-answers.pdf", sheet.pages, build,
                 (person.id,), program.id, {"codes": [sheet.code], "variant": "answers", "answer": answer.id})
