"""Sign-in security: account lockout kept in the database (so it holds across processes and
machines), who may sign in at all, and the session guard that ends a session when its account is
deactivated, its epoch is raised, or it has been idle or open too long (HIPAA 164.312(a)(2)(iii))."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, flash, jsonify, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import func, select

from .. import clock
from ..audit import services as audit
from ..audit.models import AuditEvent
from ..extensions import db
from ..participants.models import Enrollment
from ..web.i18n import current_language, format_clock
from . import passwords
from .models import SignInAttempt, User

LOCK_FAILURES = 5
LOCK_WINDOW = timedelta(minutes=15)  # 5 failures within this window lock the account...
LOCK_DURATION = timedelta(minutes=15)  # ...for this long from the failure that made it 5
ABSOLUTE_LIMIT = timedelta(hours=12)  # a session ends after this however active it is
WARN_SECONDS = 60  # the page warns this long before the idle limit

# Requests that are not a person's activity: they must not keep an idle session alive.
PASSIVE_ENDPOINTS = {"auth.session_status"}
# Requests the guard lets through untouched (no user needed, no activity).
UNGUARDED_ENDPOINTS = {"static", "web.health"}
# Pages a staff member may reach before setting up a required second factor.
MFA_SETUP_ENDPOINTS = {"account.mfa_setup", "auth.logout", "auth.session_status", "auth.session_stay"}

SESSION_KEYS = ("epoch", "started", "seen")


# --- lockout ---------------------------------------------------------------------------------------

def locked_until(user: User) -> datetime | None:
    """The end (naive UTC) of the account's current lockout, or None if it may try to sign in."""
    started = db.session.scalar(
        select(func.max(AuditEvent.at)).where(AuditEvent.user_id == user.id, AuditEvent.action == "auth.lockout",
                                              AuditEvent.at > clock.naive_utc_now() - LOCK_DURATION))
    return started + LOCK_DURATION if started is not None else None


def record_attempt(user: User, succeeded: bool) -> None:
    """Remember one sign-in try for the account (its lockout and its "recent sign-ins" list)."""
    db.session.add(SignInAttempt(user_id=user.id, at=clock.naive_utc_now(), succeeded=succeeded,
                                 remote_addr=(request.remote_addr or "")[:45],
                                 user_agent=(request.user_agent.string or "")[:200]))


def record_failure(user: User, reason: str) -> datetime | None:
    """Record a failed try (audited, without what was typed); lock the account at the fifth failure
    within the window and return when the lockout ends (None if the account is not locked)."""
    now = clock.naive_utc_now()
    record_attempt(user, succeeded=False)
    audit.record("auth.login_failed", "user", user.id, user=user, detail={"reason": reason},
                 remote_addr=request.remote_addr or "")
    db.session.flush()
    # Count failures since the last success, the end of the last lockout, or the window's start,
    # whichever is latest: tries refused during a lockout do not start the next one.
    last_success = db.session.scalar(select(func.max(SignInAttempt.id)).where(
        SignInAttempt.user_id == user.id, SignInAttempt.succeeded.is_(True))) or 0
    last_lock = db.session.scalar(select(func.max(AuditEvent.at)).where(
        AuditEvent.user_id == user.id, AuditEvent.action == "auth.lockout"))
    since = max(now - LOCK_WINDOW, last_lock + LOCK_DURATION) if last_lock else now - LOCK_WINDOW
    failures = db.session.scalar(select(func.count()).select_from(SignInAttempt).where(
        SignInAttempt.user_id == user.id, SignInAttempt.succeeded.is_(False), SignInAttempt.at >= since,
        SignInAttempt.id > last_success))
    if failures < LOCK_FAILURES:
        return None
    audit.record("auth.lockout", "user", user.id, user=user, detail={"failures": failures},
                 remote_addr=request.remote_addr or "")
    return now + LOCK_DURATION


def local_time(user: User, moment: datetime) -> str:
    """A naive-UTC moment as a clock time in the program's zone, e.g. "6:42 PM" ("6:42 p. m." in Spanish)."""
    local = moment.replace(tzinfo=UTC).astimezone(ZoneInfo(user.program.timezone or clock.DEFAULT_ZONE))
    return format_clock(local)


def rehash_if_needed(user: User, password: str) -> None:
    """After a good password, store it again if its hash is older or cheaper than the configured cost."""
    cost = current_app.config.get("PASSWORD_HASH_COST", "standard")
    if user.password_hash and passwords.needs_rehash(user.password_hash, cost):
        user.set_password(password)


def spend_hash_time(password: str) -> None:
    """Verify against a throwaway hash so an unknown email takes as long as a wrong password."""
    passwords.verify_password(_dummy_hash(current_app.config.get("PASSWORD_HASH_COST", "standard")), password)


_DUMMIES: dict[str, str] = {}


def _dummy_hash(cost: str) -> str:
    if cost not in _DUMMIES:
        _DUMMIES[cost] = passwords.hash_password("not a password anyone has", cost)
    return _DUMMIES[cost]


# --- who may sign in -------------------------------------------------------------------------------

def portal_ended(user: User) -> bool:
    """Whether a participant's portal access has ended: no current stay, and the last discharge was
    more than the program's portal_days_after_discharge days ago. Staff: always False."""
    if user.role != "participant" or user.participant_id is None:
        return False
    stays = db.session.execute(select(Enrollment.discharged_on).where(
        Enrollment.participant_id == user.participant_id)).scalars().all()
    if not stays or any(day is None for day in stays):
        return False  # not admitted yet, or in a group now
    today = clock.today(user.program.timezone)
    return (today - max(stays)).days > user.program.portal_days_after_discharge


def may_sign_in(user: User) -> bool:
    """Active account, and (for a participant) portal access not ended."""
    return user.active and not portal_ended(user)


def idle_minutes(user: User) -> int:
    """Minutes without activity after which this person's session ends (a program setting)."""
    return user.program.idle_minutes_staff if user.is_staff else user.program.idle_minutes_participant


def mfa_setup_required(user: User) -> bool:
    """Staff of a program that requires two-factor sign-in, who have not set it up yet."""
    return user.is_staff and user.program.require_mfa_staff and not user.mfa_enabled


# --- sessions --------------------------------------------------------------------------------------

def start_session(user: User) -> None:
    """Sign the person in on this browser (never "remembered": it would outlive automatic logoff),
    record the success and note the session's epoch and start."""
    now = clock.utc_now().timestamp()
    # Flask's session is the signed cookie itself (no server-side id to fix in advance); only the
    # sign-in steps' own keys are dropped.
    for key in ("mfa_pending", "mfa_new_key"):
        session.pop(key, None)
    login_user(user, remember=False)
    session.update(epoch=user.session_epoch, started=now, seen=now)
    user.last_login_at = clock.naive_utc_now()
    record_attempt(user, succeeded=True)
    audit.record("auth.login", "user", user.id, user=user, remote_addr=request.remote_addr or "")


def end_session() -> None:
    """Sign out of this browser and forget the session's own keys; the sign-in page that follows stays in
    the language the person was reading."""
    language = current_language()
    logout_user()
    for key in (*SESSION_KEYS, "mfa_pending", "mfa_new_key"):
        session.pop(key, None)
    session["language"] = language


def keep_epoch(user: User) -> None:
    """After raising the user's epoch, keep this browser's session (the others end)."""
    session["epoch"] = user.session_epoch


def seconds_left(user: User) -> float:
    """Seconds until this session ends for idleness (or for its absolute limit, if sooner)."""
    now = clock.utc_now().timestamp()
    idle = session.get("seen", now) + idle_minutes(user) * 60 - now
    absolute = session.get("started", now) + ABSOLUTE_LIMIT.total_seconds() - now
    return max(0.0, min(idle, absolute))


def guard():
    """Before each request: end a session whose account can no longer sign in, whose epoch was
    raised, or that was idle or open too long; send staff who must set up two-factor there first;
    note activity (except for passive requests)."""
    if request.endpoint in UNGUARDED_ENDPOINTS or request.endpoint is None or "_user_id" not in session:
        return None
    # Flask-Login treats an inactive (or deleted) account as not signed in but keeps its session:
    # end it, so that reactivation does not bring an old session back.
    user: User | None = current_user._get_current_object() if current_user.is_authenticated else None
    now = clock.utc_now().timestamp()
    if user is not None and "epoch" not in session:
        # Signed in by login_user alone (code outside this module): adopt the session from now.
        session.update(epoch=user.session_epoch, started=now, seen=now)
    if user is None or not may_sign_in(user):
        return _signed_out(_("You were signed out because this account can no longer sign in. "
                             "Ask your program if you think this is a mistake."))
    if session["epoch"] != user.session_epoch:
        return _signed_out(_("You were signed out because your sessions were ended (a password change or "
                             "\u201csign out everywhere else\u201d). Sign in again to continue."))
    minutes = idle_minutes(user)
    if now - session["seen"] > minutes * 60:
        audit.record("auth.timeout", "user", user.id, user=user, detail={"limit": "idle", "minutes": minutes},
                     remote_addr=request.remote_addr or "")
        db.session.commit()
        return _signed_out(_("You were signed out after %(minutes)s minutes without activity.", minutes=minutes))
    if now - session["started"] > ABSOLUTE_LIMIT.total_seconds():
        audit.record("auth.timeout", "user", user.id, user=user, detail={"limit": "absolute", "hours": 12},
                     remote_addr=request.remote_addr or "")
        db.session.commit()
        return _signed_out(_("You were signed out because you had been signed in for 12 hours. "
                             "Sign in again to continue."))
    if request.endpoint not in PASSIVE_ENDPOINTS:
        session["seen"] = now
    if mfa_setup_required(user) and request.endpoint not in MFA_SETUP_ENDPOINTS:
        flash(_("Your program requires two-factor sign-in for staff. Set it up to continue."), "info")
        return redirect(url_for("account.mfa_setup"))
    return None


def _signed_out(message: str):
    end_session()
    flash(message, "info")
    if request.endpoint in PASSIVE_ENDPOINTS or request.path.startswith("/api/") or request.is_json \
            or request.accept_mimetypes.best == "application/json":
        return jsonify(signed_in=False, login_url=url_for("auth.login")), 401
    if request.method == "GET":
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    return redirect(url_for("auth.login"))
