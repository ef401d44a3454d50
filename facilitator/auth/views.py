"""Sign in (password, then the second factor when it is on), sign out, and the session's keep-alive."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from .. import clock, db_setup
from ..audit import services as audit
from ..extensions import db, limiter, login_manager
from . import mfa, security
from .forms import LoginForm, SecondFactorForm
from .models import User
from .services import find_by_email, signed_in_user

bp = Blueprint("auth", __name__)
bp.before_app_request(security.guard)

GENERIC = _l("That email and password do not match an active account.")
PENDING_SECONDS = 5 * 60  # the second step must follow the password within this time


@bp.app_context_processor
def _session_timer():
    """What templates/auth/session_timer.html needs on every page."""
    return {"session_seconds_left": lambda: round(security.seconds_left(current_user)),
            "session_warn_seconds": security.WARN_SECONDS}


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Load the signed-in user for Flask-Login, with their program (every page reads its settings)."""
    if not user_id.isdigit():
        return None
    return signed_in_user(int(user_id))


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an absolute URL here would be an open redirect.
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("web.home")


def _sign_in_limit() -> str:
    return current_app.config.get("RATELIMIT_SIGN_IN", "30 per 15 minutes")


def _failed(response) -> bool:
    # Only tries that did not sign in count against the address: a clinic's staff and participants
    # often share one address, and their successful sign-ins must not lock each other out.
    return response.status_code != 302


# One count per address for both steps (password and code).
sign_in_limit = limiter.shared_limit(
    _sign_in_limit, scope="sign-in", methods=["POST"], deduct_when=_failed,
    error_message=lambda: _("Too many failed sign-ins from this network. Wait 15 minutes and try again."))


def _locked_response(user: User, until, form, template: str = "auth/login.html"):
    message = _("Too many failed sign-ins for this account. Try again after %(time)s or ask your director.",
                time=security.local_time(user, until))
    db.session.commit()
    return render_template(template, form=form, locked=message), 429


@bp.route("/login", methods=["GET", "POST"])
@sign_in_limit
def login():
    """Show the sign-in form and check the password (the second step follows when two-factor is on)."""
    if current_user.is_authenticated:
        return redirect(url_for("web.home"))
    form = LoginForm()
    if form.validate_on_submit():
        with db_setup.reading():  # the slow password hash must not hold SQLite's write lock
            user = find_by_email(form.email.data)
            if user is None:
                security.spend_hash_time(form.password.data)
            password_ok = user is not None and user.check_password(form.password.data)
            db.session.commit()  # end the read; what follows writes in a transaction of its own
        if user is None:
            audit.record("auth.login_failed", "user", None, detail={"reason": "unknown_email"},
                         remote_addr=request.remote_addr or "")
            db.session.commit()
            form.password.errors.append(str(GENERIC))
            return render_template("auth/login.html", form=form), 422
        until = security.locked_until(user)
        if until is not None:
            security.record_failure(user, "locked")
            return _locked_response(user, until, form)
        reason = ("password" if not password_ok else "inactive" if not user.active
                  else "portal_ended" if security.portal_ended(user) else None)
        if reason is not None:  # the same message whatever the reason: it must not confirm the account
            until = security.record_failure(user, reason)
            if until is not None:
                return _locked_response(user, until, form)
            db.session.commit()
            form.password.errors.append(str(GENERIC))
            return render_template("auth/login.html", form=form), 422
        security.rehash_if_needed(user, form.password.data)
        target = _safe_next(request.args.get("next"))
        if user.mfa_enabled:
            # Nothing is recorded yet: a success would reset the failure count, and the code is still to
            # be tried (its failures count toward the lockout like a wrong password's).
            session["mfa_pending"] = {"user": user.id, "epoch": user.session_epoch,
                                      "at": clock.utc_now().timestamp(), "next": target}
            db.session.commit()
            return redirect(url_for("auth.second_factor"))
        security.start_session(user)
        db.session.commit()
        if security.mfa_setup_required(user):
            return redirect(url_for("account.mfa_setup"))
        return redirect(target)
    status = 422 if form.errors else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/login/code", methods=["GET", "POST"])
@sign_in_limit
def second_factor():
    """The second step: the code from the authenticator app, or a recovery code."""
    pending = session.get("mfa_pending")
    user = db.session.get(User, pending["user"]) if pending else None
    if user is None or clock.utc_now().timestamp() - pending["at"] > PENDING_SECONDS \
            or pending["epoch"] != user.session_epoch or not user.mfa_enabled:
        session.pop("mfa_pending", None)
        flash(_("Sign in again: the code must follow the password within 5 minutes."), "info")
        return redirect(url_for("auth.login"))
    form = SecondFactorForm()
    if form.validate_on_submit():
        until = security.locked_until(user)
        if until is not None:
            security.record_failure(user, "locked")
            session.pop("mfa_pending", None)
            return _locked_response(user, until, form, "auth/mfa_code.html")
        if not security.may_sign_in(user) or not mfa.second_factor_ok(user, form.code.data):
            until = security.record_failure(user, "code")
            if until is not None:
                session.pop("mfa_pending", None)
                return _locked_response(user, until, form, "auth/mfa_code.html")
            db.session.commit()
            form.code.errors.append(_("That code is not right. Type the code your app shows now, or a recovery code."))
            return render_template("auth/mfa_code.html", form=form), 422
        target = pending["next"]
        security.start_session(user)
        db.session.commit()
        return redirect(_safe_next(target))
    status = 422 if form.errors else 200
    return render_template("auth/mfa_code.html", form=form), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Sign out (POST only, so a link cannot sign someone out)."""
    audit.record("auth.logout", "user", current_user.id, user=current_user, remote_addr=request.remote_addr or "")
    db.session.commit()
    message = _("You are signed out.")  # in the person's language, before the sign-out forgets who they are
    security.end_session()
    flash(message, "info")
    return redirect(url_for("auth.login"))


@bp.route("/session/status")
def session_status():
    """Seconds left before automatic logoff; asking does not count as activity."""
    if not current_user.is_authenticated:
        return jsonify(signed_in=False, login_url=url_for("auth.login")), 401
    return jsonify(signed_in=True, remaining=round(security.seconds_left(current_user)),
                   warn=security.WARN_SECONDS)


@bp.route("/session/stay", methods=["POST"])
def session_stay():
    """"Stay signed in": counts as activity (the guard noted it), so the idle time starts again."""
    if not current_user.is_authenticated:
        return jsonify(signed_in=False, login_url=url_for("auth.login")), 401
    return jsonify(signed_in=True, remaining=round(security.seconds_left(current_user)),
                   warn=security.WARN_SECONDS)
