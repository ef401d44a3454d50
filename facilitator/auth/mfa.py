"""Two-factor sign-in: a TOTP key (pyotp) confirmed with a code, and ten one-time recovery codes."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

import pyotp
import segno
from flask_babel import gettext
from sqlalchemy import delete, select

from .. import clock
from ..audit import services as audit
from ..extensions import db
from .models import RecoveryCode, User

ISSUER = "facilitator"
RECOVERY_CODES = 10
# No 0/o, 1/l/i: a code read from paper is typed without guessing.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_LENGTH = 10


def new_key() -> str:
    """A fresh random TOTP key (base32, 160 bits)."""
    return pyotp.random_base32()


def grouped(key: str) -> str:
    """The key in groups of four, easier to type into an app by hand."""
    return " ".join(key[i:i + 4] for i in range(0, len(key), 4))


def qr_svg(user: User, key: str) -> str:
    """An inline SVG QR code of the otpauth:// address (no script, no style attribute)."""
    uri = pyotp.TOTP(key).provisioning_uri(name=user.email, issuer_name=ISSUER)
    return segno.make(uri, error="m").svg_inline(scale=5, border=3, dark="#000", light="#fff", svgclass="qr",
                                                 title=gettext("QR code for your authenticator app"))


def matching_step(key: str, code: str) -> int | None:
    """The 30-second step whose code the 6-digit code is: the current one, or the one just before or
    after (clocks drift); None if it is none of them."""
    if not re.fullmatch(r"\d{6}", code):
        return None
    totp = pyotp.TOTP(key)
    now = clock.utc_now()
    current = totp.timecode(now)
    for step in (current, current - 1, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def use_code(user: User, code: str) -> bool:
    """Accept a code of the person's key once: a step at or before the last accepted one is refused."""
    step = matching_step(user.totp_secret or "", code) if user.totp_secret else None
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        return False
    user.totp_last_step = step
    db.session.flush()
    return True


def _hash(user_id: int, code: str) -> str:
    # Recovery codes are random (about 50 bits), not chosen by people, so there is no dictionary to
    # try: a fast salted SHA-256 is enough, and guessing online is limited by the account lockout.
    return hashlib.sha256(f"{user_id}:{code}".encode()).hexdigest()


def _normalized(code: str) -> str:
    return re.sub(r"[\s-]", "", code).lower()


def enable(user: User, key: str, confirmed_step: int | None = None) -> list[str]:
    """Turn two-factor sign-in on with a confirmed key (the step of the confirming code is used up);
    return ten new recovery codes (shown once)."""
    user.totp_secret = key
    user.mfa_enabled_at = clock.naive_utc_now()
    user.totp_last_step = confirmed_step
    codes = [
        "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH)) for _ in range(RECOVERY_CODES)
    ]
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_hash(user.id, code)) for code in codes)
    audit.record("auth.mfa_setup", "user", user.id, user=user)
    db.session.flush()
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def disable(user: User, action: str = "auth.mfa_removed", actor: User | None = None) -> None:
    """Turn two-factor sign-in off and delete the recovery codes (audited as `action`)."""
    user.totp_secret = None
    user.mfa_enabled_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    audit.record(action, "user", user.id, user=actor or user)
    db.session.flush()


def second_factor_ok(user: User, typed: str) -> bool:
    """Whether the typed text is a current code not used before or an unused recovery code (either is
    then used up)."""
    typed = typed.strip()
    if user.totp_secret and use_code(user, typed.replace(" ", "")):
        return True
    code = _normalized(typed)
    if len(code) != RECOVERY_LENGTH:
        return False
    row = db.session.scalar(select(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _hash(user.id, code),
        RecoveryCode.used_at.is_(None)))
    if row is None:
        return False
    row.used_at = clock.naive_utc_now()
    db.session.flush()
    return True


def recovery_codes_left(user: User) -> int:
    """How many recovery codes the person has not used."""
    return len(db.session.scalars(select(RecoveryCode.id).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))).all())
