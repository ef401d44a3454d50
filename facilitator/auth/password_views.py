"""Pages for people who are not signed in: setting a password from a one-time link, and "Forgot
password?".

| method    | URL                    | who    |
|-----------|------------------------|--------|
| GET, POST | /set-password/<token>  | anyone |
| GET, POST | /forgot-password       | anyone |
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from ..audit import services as audit
from ..audit.models import AuditEvent
from ..clock import naive_utc_now
from ..extensions import db, limiter
from ..programs.models import Program
from . import mail
from .account_forms import ForgotForm, SetPasswordForm
from .invites import LinkError, PasswordRefused, find_link, make_link, use_link
from .passwords import MIN_LENGTH
from .services import find_by_email

bp = Blueprint("passwords", __name__)


def _private(html: str, status: int = 200):
    response = make_response(html, status)
    # The address holds the token: no Referer carries it anywhere, not even to the app's own files.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def _invalid(error: LinkError):
    program = db.session.get(Program, error.user.program_id) if error.user is not None else None
    status = 404 if error.reason == "unknown" else 410
    return _private(render_template("auth/link_invalid.html", reason=error.reason, program=program,
                                    user=error.user, staff=False), status)


@bp.route("/set-password/<token>", methods=["GET", "POST"])
def set_password(token: str):
    """Choose a password from a one-time link (an invitation or a reset)."""
    try:
        row = find_link(token[:100])
    except LinkError as error:
        return _invalid(error)
    user = row.user
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            use_link(token, form.password.data, request.remote_addr or "")
        except LinkError as error:  # used in another tab a moment ago
            return _invalid(error)
        except PasswordRefused as refused:
            form.password.errors = [*form.password.errors, str(refused)]
        else:
            db.session.commit()
            flash(_("Your password is set. Sign in with your email address and your new password."), "info")
            return redirect(url_for("auth.login"), 303)
    html = render_template("auth/set_password.html", form=form, user=user, purpose=row.purpose,
                           shortest=MIN_LENGTH[user.role], program=db.session.get(Program, user.program_id))
    return _private(html, 422 if form.errors or any(f.errors for f in form) else 200)


def _resets_in_the_last_hour(user_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "auth.reset_requested", AuditEvent.entity == "user", AuditEvent.entity_id == user_id,
        AuditEvent.at > naive_utc_now() - timedelta(hours=1))) or 0


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_PASSWORD_RESET"], methods=["POST"],
               error_message=lambda: _("Too many requests for a new password from this network. "
                                       "Wait an hour and try again."))
def forgot_password():
    """Ask for a reset link by email; the answer is the same whether or not the address has an account."""
    form = ForgotForm()
    mail_on = mail.mail_configured()
    if mail_on and form.validate_on_submit():
        user = find_by_email(form.email.data)
        if (user is not None and user.active
                and _resets_in_the_last_hour(user.id) >= current_app.config["RESET_EMAILS_PER_HOUR"]):
            # The same answer as a sent link: the page must not tell a stranger anything about the account.
            audit.record("auth.reset_throttled", "user", user.id, program_id=user.program_id,
                         remote_addr=request.remote_addr or "")
            db.session.commit()
        elif user is not None and user.active:
            program = db.session.get(Program, user.program_id)
            link = make_link(user, "reset")
            audit.record("auth.reset_requested", "user", user.id, program_id=user.program_id,
                         remote_addr=request.remote_addr or "")
            db.session.commit()
            mail.send_link(user, link, program)
        return render_template("auth/forgot_sent.html")
    status = 422 if form.errors else 200
    return render_template("auth/forgot.html", form=form, mail_on=mail_on), status
