"""The rule all typed input shares: no control characters. One rule, applied in two places that
between them see every request: the base class of every form (each field, nested rows included,
with a message under the field), and a check of the address and any JSON body before any view runs.

Why: PostgreSQL cannot store NUL at all (the request would fail with a 500 there and pass on SQLite),
and the other control characters (Escape, backspace...) are invisible, break exports and printouts,
and are never typed on purpose. Multi-line text keeps its tabs and line breaks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from babel import support
from flask import Flask, abort, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, FieldList, Form, FormField
from wtforms.i18n import messages_path
from wtforms.validators import StopValidation
from wtforms.widgets import TextArea

from .i18n import current_language

# Unicode category Cc (U+0000-001F, U+007F-009F) and lone surrogates (category Cs), which no
# database encoding can store.
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
CONTROL_IN_LINES = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")  # keeps \t \n \r

# Messages in the request's language; the ones with a name are written where they are raised.
ANSWER_MESSAGE = _l("This answer contains an invisible control character (such as NUL or Escape) that cannot be "
                    "saved. Delete it, or type the text again.")


def has_control_character(text: str, multiline: bool = False) -> bool:
    """Whether a text holds a control character (tabs and line breaks are allowed in multi-line text)."""
    return (CONTROL_IN_LINES if multiline else CONTROL).search(text) is not None


def printable(text: str) -> str:
    """The text with its control characters removed, to name it in a message."""
    return CONTROL.sub("", text)


def refuse_control_characters(form: Any, field: Field) -> None:
    """A validator: refuse any submitted value of the field that holds a control character."""
    multiline = isinstance(field.widget, TextArea)
    if any(isinstance(value, str) and has_control_character(value, multiline) for value in field.raw_data or ()):
        raise StopValidation(_("%(field)s contains an invisible control character (such as NUL or Escape) that "
                               "cannot be saved. Delete it, or type the text again.",
                               field=field.label.text or field.name))


def stop_after_unreadable_input(form: Any, field: Field) -> None:
    """A validator: a typed value that could not be read (not a number, not a date) already has its
    message; stop there, so the rules after it say nothing about the empty value it left."""
    if field.process_errors and any(str(value).strip() for value in field.raw_data or ()):
        raise StopValidation()


FIRST_RULES = (refuse_control_characters, stop_after_unreadable_input)


def _leaf_fields(fields: Any) -> Iterator[Field]:
    """Every field of a form, through nested forms (FormField) and lists of rows (FieldList)."""
    for field in fields:
        if isinstance(field, FormField):
            yield from _leaf_fields(field.form)
        elif isinstance(field, FieldList):
            yield from _leaf_fields(field.entries)
        else:
            yield field


@lru_cache(maxsize=8)
def _wtforms_catalog(language: str) -> support.Translations:
    return support.Translations.load(messages_path(), [language], domain="wtforms")


class _InRequestLanguage:
    """WTForms' own messages ("Not a valid integer value.") in the request's language, from a catalog each
    process reads once per language (Flask-WTF reads the file again on every request, and a plain
    WTForms form, such as a row of a list, is not translated at all)."""

    def get_translations(self, form: Any) -> Any:
        """The catalog of the request's language."""
        return _wtforms_catalog(current_language())


class AppForm(FlaskForm):
    """The base of every form of the app: CSRF (FlaskForm), and no control characters in any field."""

    Meta = _InRequestLanguage

    def validate(self, extra_validators: Any = None) -> bool:
        """Validate with the control-character rule and the unreadable-input stop first on every field,
        rows added after binding included."""
        for field in _leaf_fields(self):
            if refuse_control_characters not in field.validators:
                # A new list: an unbound field's validators are shared by every instance of the form.
                field.validators = [*FIRST_RULES, *field.validators]
        return super().validate(extra_validators)


class RowForm(Form):
    """A form nested in an AppForm, one row of a list: checked with it (no CSRF of its own), and WTForms'
    own messages in the request's language as in every form."""

    Meta = _InRequestLanguage


def _json_strings(value: Any, name: str = "") -> Iterator[tuple[str, str]]:
    """(where, text) for every key and string in a JSON document."""
    if isinstance(value, str):
        yield name, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield name, str(key)
            yield from _json_strings(item, str(key))
    elif isinstance(value, list):
        for item in value:
            yield from _json_strings(item, name)


def refuse_control_characters_in_request() -> None:
    """Before any view: a control character in the path is not a page (404); in a query parameter
    or a JSON body it is a bad request (400) that names the parameter."""
    if any(isinstance(value, str) and has_control_character(value) for value in (request.view_args or {}).values()):
        abort(404, description=_("There is no such page: the address contains an invisible control character."))
    for name, values in request.args.lists():
        if has_control_character(name) or any(has_control_character(value) for value in values):
            abort(400, description=_("The address contains an invisible control character (such as NUL or Escape) "
                                     "in \u201c%(name)s\u201d. Correct the address and try again.",
                                     name=printable(name)))
    if request.is_json:
        body = request.get_json(silent=True)
        for name, text in _json_strings(body):
            if has_control_character(text, multiline=True):
                abort(400, description=_("The request contains an invisible control character (such as NUL or "
                                         "Escape) in \u201c%(name)s\u201d. Remove it and send the request again.",
                                         name=printable(name)))


def init_app(app: Flask) -> None:
    """Check every request's address and JSON body before its view runs."""
    app.before_request(refuse_control_characters_in_request)
