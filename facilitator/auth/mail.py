"""Sending set-password links by email (Flask-Mailman over SMTP), when MAIL_SERVER is configured.

The message holds the link, the program's name and phone, and nothing about anyone's health: not
even that the person is a participant (an email crosses servers the program does not control).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_mailman import EmailMessage, Mail

from ..extensions import db
from ..participants.models import Participant
from ..programs.models import Program
from ..web.i18n import LANGUAGES, current_language
from .invites import Link
from .models import User

log = logging.getLogger("facilitator.mail")
mail = Mail()



def init_app(app: Flask) -> None:
    """Bind Flask-Mailman to the app (its settings are read again at each send)."""
    mail.init_app(app)


def mail_configured() -> bool:
    """Whether the app may send email (MAIL_SERVER is set)."""
    return bool(current_app.config.get("MAIL_SERVER"))


def local_time(moment: datetime, program: Program) -> datetime:
    """A stored UTC time as the program's wall-clock time."""
    return moment.replace(tzinfo=UTC).astimezone(ZoneInfo(program.timezone))


def _subject(user: User, program: Program) -> str:
    """A participant's subject names no program: others may read it, and a program's name can say what
    kind of treatment it gives."""
    if user.role == "participant":
        return _("Reset your password") if user.password_hash else _("Set your password")
    if user.password_hash:
        return _("Reset your password for %(program)s", program=program.name)
    return _("Set your password for %(program)s", program=program.name)


def recipient_language(user: User) -> str:
    """The language of an email to this person: their own choice, else (a participant) their record's,
    else the language of the page that sends it."""
    if user.language in LANGUAGES:
        return user.language
    if user.participant_id is not None:
        person = db.session.get(Participant, user.participant_id)
        if person is not None and person.language in LANGUAGES:
            return person.language
    return current_language()


def send_link(user: User, link: Link, program: Program) -> bool:
    """Email the link to the account's address, in the person's language; False (and a log line without
    the address) if it failed."""
    config = current_app.config
    template = "auth/mail/reset.txt" if user.password_hash else "auth/mail/invite.txt"
    with force_locale(recipient_language(user)):
        body = render_template(template, user=user, link=link, program=program,
                               expires=local_time(link.expires_at, program))
        subject = _subject(user, program)
    try:
        # The backend is named: under TESTING Flask-Mailman would otherwise keep messages in memory.
        connection = mail.get_connection(
            backend="smtp", host=config["MAIL_SERVER"], port=int(config.get("MAIL_PORT") or 25),
            username=config.get("MAIL_USERNAME") or None, password=config.get("MAIL_PASSWORD") or None,
            use_tls=bool(config.get("MAIL_USE_TLS")), timeout=int(config.get("MAIL_TIMEOUT") or 10))
        message = EmailMessage(subject, body, config.get("MAIL_DEFAULT_SENDER") or "facilitator@localhost", [user.email],
                               connection=connection)
        message.send()
    except OSError as exc:  # smtplib's errors are OSErrors; the address stays out of the log
        log.warning("could not send a set-password link to user %s: %s", user.id, type(exc).__name__)
        return False
    return True
