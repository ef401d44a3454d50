"""The app in English and Spanish: which language a request is in, dates and times in it, the switch.

The language is the person's own choice (`/account`, or the footer switch), else a participant's
record, else the language chosen on this browser before signing in, else the browser's
Accept-Language. Text is marked with gettext in templates and code (Flask-Babel) and translated in
facilitator/translations/es/LC_MESSAGES/messages.po; `make translations` compiles it.
"""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

from babel.dates import format_date
from babel.dates import format_time as babel_time
from flask import (
    Blueprint,
    Flask,
    abort,
    flash,
    g,
    has_app_context,
    has_request_context,
    redirect,
    request,
    session,
    url_for,
)
from flask_babel import Babel, Domain, force_locale, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import func, select

from ..domain.problems import WORD_PARAMS, Problem
from ..extensions import db

LANGUAGES = ("en", "es")
LANGUAGE_NAMES = {"en": "English", "es": "Español"}  # each in its own language, for the switch
# Formats of the US variant of each language (Spanish as written in the US: "5:30 p.m.").
FORMAT_LOCALES = {"en": "en_US", "es": "es_US"}
TRANSLATIONS = Path(__file__).resolve().parents[1] / "translations"

# Named date styles for templates: `{{ day|when('day_year') }}`. English keeps the app's own formats;
# Spanish has its own pattern for the same parts (Babel patterns: weekday, day, "de", month, year).
DATE_STYLES = {
    "day_year": ("%a %b %-d, %Y", {"es": "EEE d 'de' MMM 'de' y"}),  # Mon Dec 7, 2026 / lun 7 de dic de 2026
    "year": ("%b %-d, %Y", {"es": "d 'de' MMM 'de' y"}),  # Dec 7, 2026
    "day": ("%a %b %-d", {"es": "EEE d 'de' MMM"}),  # Mon Dec 7
    "short": ("%b %-d", {"es": "d 'de' MMM"}),  # Dec 7
    "long": ("%A, %B %-d, %Y", {"es": "EEEE, d 'de' MMMM 'de' y"}),  # Monday, December 7, 2026
    "long_day": ("%A, %B %-d", {"es": "EEEE d 'de' MMMM"}),  # Monday, December 7
    "month_day_year": ("%B %-d, %Y", {"es": "d 'de' MMMM 'de' y"}),  # December 7, 2026
    "month_year": ("%B %Y", {"es": "MMMM 'de' y"}),  # December 2026
    "month": ("%B", {"es": "MMMM"}),  # December
    "month_short": ("%b", {"es": "MMM"}),  # Dec
    "weekday": ("%A", {"es": "EEEE"}),  # Monday
    "weekday_short": ("%a", {"es": "EEE"}),  # Mon
}

# Role codes as people read them (the codes themselves stay English in the database and exports).
ROLE_NAMES = {"director": _l("director"), "facilitator": _l("facilitator"), "participant": _l("participant")}

bp = Blueprint("language", __name__)


def current_language() -> str:
    """The language of this request ("en" or "es")."""
    # Flask-Babel keeps the request's locale on g once chosen; reading it there skips its lookups.
    locale = getattr(g.get("_flask_babel"), "babel_locale", None) if has_request_context() else None
    locale = locale or get_locale()
    return locale.language if locale else "en"


class RememberingDomain(Domain):
    """Flask-Babel's domain, finding a context's catalog once per locale: Flask-Babel looks up the
    locale and its catalog again on every gettext, and a page calls gettext hundreds of times. Kept
    with the locale object it belongs to, so force_locale (documents in a person's language) and
    refresh (the language switch) are obeyed."""

    def get_translations(self):
        """The catalog of the context's current locale."""
        state = g.get("_flask_babel") if has_app_context() else None
        locale = getattr(state, "babel_locale", None)
        if locale is None:  # not chosen yet: Flask-Babel chooses it (and keeps it on g)
            return super().get_translations()
        found = getattr(state, "translations_of", None)
        if found is None or found[0] is not locale:
            found = state.translations_of = (locale, super().get_translations())
        return found[1]


_DOMAIN = RememberingDomain()
_translations = _DOMAIN.get_translations  # templates call it directly, without finding the domain first


def select_language() -> str:
    """Flask-Babel's locale selector: the person's choice, their record, this browser's, Accept-Language."""
    if not has_request_context():
        return "en"  # the command line and the worker: English unless a document forces its language
    if current_user and current_user.is_authenticated:
        if current_user.language in LANGUAGES:
            return current_user.language
        if current_user.participant_id:
            from ..participants.models import Participant  # the participant's record (identity map first)

            person = db.session.get(Participant, current_user.participant_id)
            if person is not None and person.language in LANGUAGES:
                return person.language
    chosen = session.get("language")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES) or "en"


def role_name(role: str) -> str:
    """A role as people read it, in the current language."""
    return str(ROLE_NAMES.get(role, role))


def problem_text(problem: Problem) -> str:
    """A curriculum problem's message in the current language, its values filled in (English if the
    translation cannot be formatted). Language names, schema nouns and forms are translated too."""
    params = dict(problem.params)
    for name in WORD_PARAMS & {key for key, value in params.items() if value}:  # gettext("") is the header
        word = _(str(params[name]))
        params[name] = word.lower() if name == "language" and current_language() != "en" else word
    try:
        return _(problem.message) % params if problem.params else _(problem.message)
    except (KeyError, TypeError, ValueError):
        pass
    try:
        return problem.text
    except (KeyError, TypeError, ValueError):
        return problem.message


def format_when(value: date | datetime | None, style: str = "year") -> str:
    """A date (or a datetime's date) in a named style, in the current language."""
    if value is None:
        return ""
    english, patterns = DATE_STYLES[style]
    language = current_language()
    if language not in patterns:
        return value.strftime(english)
    return format_date(value, patterns[language], locale=FORMAT_LOCALES[language])


def format_clock(value: time | datetime | str | None) -> str:
    """A time of day as people read it: 5:30 PM, 5:30 p.m. (also from "17:30")."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = time.fromisoformat(value)
    language = current_language()
    if language == "en":
        return value.strftime("%-I:%M %p")
    return babel_time(value, "short", locale=FORMAT_LOCALES[language]).replace("\u202f", " ")


@bp.route("/language", methods=["POST"])
def switch():
    """The footer switch: a signed-in person's setting, or this browser's choice before signing in."""
    language = request.form.get("language", "")
    if language not in LANGUAGES:
        abort(400, description="Choose English or Español.")
    if current_user.is_authenticated:
        current_user.language = language
        db.session.commit()
    else:
        session["language"] = language
    target = request.form.get("next", "")
    # Only a path on this site: never an address elsewhere (//host or a scheme).
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        target = url_for("web.home")
    return redirect(target)


# {(language, stamp of the published versions): {English title or name: its translation}}
_CURRICULUM_WORDS: dict[tuple[str, tuple], dict[str, str]] = {}


def curriculum_text(text: str) -> str:
    """A module or worksheet title or a track name, as stored in English, in the page's language
    (from the published versions' twins; as it is when no twin has it)."""
    language = current_language()
    if language == "en" or not text:
        return text
    return _curriculum_words(language).get(text, text)


def _curriculum_words(language: str) -> dict[str, str]:
    """The translations of every published title and track name, read once per process and version set."""
    from ..curricula.models import CurriculumVersion, Module, Track, Worksheet  # upward only at call time

    found = g.get("curriculum_words")
    if found is not None and found[0] == language:
        return found[1]
    published = CurriculumVersion.status == "published"
    stamp = tuple(db.session.execute(select(func.max(CurriculumVersion.id), func.count(CurriculumVersion.id))
                                     .where(published)).one())
    words = _CURRICULUM_WORDS.get((language, stamp))
    if words is None:
        words = {}
        for model, column, key in ((Track, Track.name, "name"), (Module, Module.title, "title"),
                                   (Worksheet, Worksheet.title, "title")):
            translated = model.translations[language][key].as_string()
            rows = db.session.execute(select(column, translated).join(CurriculumVersion, model.version_id == CurriculumVersion.id)
                                      .where(published, translated.is_not(None)))
            words.update({english: other for english, other in rows if other})
        _CURRICULUM_WORDS.clear()  # one set at a time: older stamps are never asked for again
        _CURRICULUM_WORDS[(language, stamp)] = words
    g.curriculum_words = (language, words)
    return words


@bp.route("/account/language", methods=["POST"])
@login_required
def choose():
    """The language setting on /account: English, Spanish, or none (follow the record or the browser)."""
    language = request.form.get("language", "")
    if language and language not in LANGUAGES:
        abort(400, description="Choose English or Español.")
    current_user.language = language or None
    db.session.commit()
    with force_locale(language or select_language()):
        flash(_("Language saved."), "success")
    return redirect(url_for("account.index"))


def init_app(app: Flask) -> None:
    """Flask-Babel with the app's translations, the date filters and the language switch."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "en")
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    Babel(app, locale_selector=select_language)
    app.extensions["babel"].domain_instance = _DOMAIN  # gettext in code finds its catalog once too
    app.jinja_env.install_gettext_callables(
        gettext=lambda text: _translations().ugettext(text),
        ngettext=lambda singular, plural, n: _translations().ungettext(singular, plural, n),
        pgettext=lambda context, text: _translations().upgettext(context, text),
        npgettext=lambda context, singular, plural, n: _translations().unpgettext(context, singular, plural, n),
        newstyle=True)
    app.jinja_env.filters["when"] = format_when
    app.jinja_env.filters["clock"] = format_clock
    app.jinja_env.filters["curriculum_text"] = curriculum_text
    app.jinja_env.filters["problem_text"] = problem_text
    app.jinja_env.globals.update(current_language=current_language, LANGUAGE_NAMES=LANGUAGE_NAMES, role_name=role_name,
                                  problem_text=problem_text)
    app.register_blueprint(bp)
