"""A located problem in a curriculum or a scenario, shared by the loaders and validators.

A problem's `message` is an English template marked with `N_` for translation, with `%(name)s`
placeholders filled from `params`; `text` is the English sentence (the command line and logs). The
web pages show `gettext(message) % params` in the page's language (facilitator.web.i18n.problem_text),
so the domain never imports Flask. Params named in WORD_PARAMS hold a word marked with N_ (a language
name, a schema noun or form), translated too on the pages; other params are shown as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

WORD_PARAMS = frozenset({"language", "noun", "form"})


def N_(text: str) -> str:
    """Mark a problem message for translation without translating it here (the web pages do)."""
    return text


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a curriculum, located as precisely as possible."""

    file: str
    message: str
    line: int | None = None
    field: str = ""
    severity: str = "error"  # or "warning"
    params: tuple[tuple[str, Any], ...] = ()

    @property
    def text(self) -> str:
        """The message in English with its values filled in."""
        return self.message % dict(self.params) if self.params else self.message

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        what = f" [{self.field}]" if self.field else ""
        return f"{where}:{what} {self.severity}: {self.text}"
