"""/account: a signed-in person's own password, two-factor sign-in, recent sign-ins and sessions."""

from __future__ import annotations

from datetime import UTC
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from .. import clock
from ..audit import services as audit
from ..extensions import db
from . import mfa, passwords, security
from .forms import ConfirmForm, MfaConfirmForm, PasswordChangeForm, PasswordConfirmForm
from .models import SignInAttempt, User

bp = Blueprint("account", __name__, url_prefix="/account")

RECENT = 10


@bp.before_request
@login_required
def _signed_in():
    """Every page here is the signed-in person's own."""


def _me() -> User:
    return current_user._get_current_object()


def _recent_sign_ins(user: User) -> list[dict]:
    zone = ZoneInfo(user.program.timezone or clock.DEFAULT_ZONE)
    rows = db.session.scalars(select(SignInAttempt).where(SignInAttempt.user_id == user.id)
                              .order_by(SignInAttempt.at.desc(), SignInAttempt.id.desc()).limit(RECENT)).all()
    return [{"at": row.at.replace(tzinfo=UTC).astimezone(zone), "succeeded": row.succeeded,
             "address": row.remote_addr, "browser": row.user_agent} for row in rows]


def _page(status: int = 200, password_form=None, remove_form=None):
    user = _me()
    return render_template(
        "auth/account.html", user=user, password_form=password_form or PasswordChangeForm(formdata=None),
        remove_form=remove_form or PasswordConfirmForm(formdata=None), others_form=ConfirmForm(formdata=None),
        sign_ins=_recent_sign_ins(user), codes_left=mfa.recovery_codes_left(user) if user.mfa_enabled else 0,
        shortest=passwords.MIN_LENGTH.get(user.role, 12), mfa_required=user.is_staff and user.program.require_mfa_staff,
    ), status


@bp.route("")
def index():
    """The person's account page."""
    return _page()


@bp.route("/password", methods=["POST"])
def password():
    """Change the password: the current one is asked; other sessions end, this one stays."""
    user = _me()
    form = PasswordChangeForm()
    if form.validate_on_submit():
        if not user.check_password(form.current.data):
            form.current.errors.append(_("That is not your current password."))
        elif problem := passwords.password_problem(form.new.data, user.role, user.email):
            form.new.errors.append(problem)
        else:
            user.set_password(form.new.data)
            user.session_epoch += 1
            security.keep_epoch(user)
            audit.record("auth.password_change", "user", user.id, user=user, remote_addr=request.remote_addr or "")
            db.session.commit()
            flash(_("Your password is changed. You were signed out on every other device."), "info")
            return redirect(url_for("account.index"))
    return _page(422, password_form=form)


@bp.route("/sign-out-others", methods=["POST"])
def end_other_sessions():
    """Sign out everywhere else: every other session ends at its next request."""
    user = _me()
    if ConfirmForm().validate_on_submit():
        user.session_epoch += 1
        security.keep_epoch(user)
        audit.record("auth.sessions_ended", "user", user.id, user=user, detail={"kept_this_one": True},
                     remote_addr=request.remote_addr or "")
        db.session.commit()
        flash(_("You were signed out on every other device. This one stays signed in."), "info")
    return redirect(url_for("account.index"))


@bp.route("/two-factor", methods=["GET", "POST"])
def mfa_setup():
    """Set up two-factor sign-in: scan the QR code (or type the key), confirm with a code, keep the
    recovery codes (shown once)."""
    user = _me()
    if user.mfa_enabled:
        flash(_("Two-factor sign-in is already on. To use another phone, remove it and set it up again."), "info")
        return redirect(url_for("account.index"))
    # The key waits in this browser's signed session until a code confirms it (nothing half-set in
    # the database); a new visit to this page keeps the same key, so a scanned code stays valid.
    key = session.get("mfa_new_key") or mfa.new_key()
    session["mfa_new_key"] = key
    form = MfaConfirmForm()
    status = 200
    if form.validate_on_submit():
        step = mfa.matching_step(key, form.code.data.replace(" ", ""))
        if step is not None:
            codes = mfa.enable(user, key, step)
            session.pop("mfa_new_key", None)
            db.session.commit()
            response = render_template("auth/mfa_recovery_codes.html", codes=codes)
            # The codes are shown once: no browser or proxy may keep a copy of this page.
            return response, 200, {"Cache-Control": "no-store"}
        form.code.errors.append(_("That code does not match. Type the code your app shows now (it changes every "
                                  "30 seconds)."))
    if form.errors:
        status = 422
    return render_template("auth/mfa_setup.html", form=form, qr=mfa.qr_svg(user, key), key=mfa.grouped(key),
                           required=security.mfa_setup_required(user)), status


@bp.route("/two-factor/remove", methods=["POST"])
def mfa_remove():
    """Remove two-factor sign-in (the password is asked again)."""
    user = _me()
    form = PasswordConfirmForm()
    if form.validate_on_submit():
        if not user.mfa_enabled:
            return redirect(url_for("account.index"))
        if user.check_password(form.password.data):
            mfa.disable(user)
            db.session.commit()
            flash(_("Two-factor sign-in is off. Your recovery codes no longer work."), "info")
            return redirect(url_for("account.index"))
        form.password.errors.append(_("That is not your password."))
    return _page(422, remove_form=form)
