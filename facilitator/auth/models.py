"""Users of the system: directors, facilitators and participants, each within one program."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..models_base import one_of, utcnow
from ..programs.models import Program
from . import passwords

ROLES = ("director", "facilitator", "participant")
TOKEN_PURPOSES = ("invite", "reset")


class User(UserMixin, db.Model):
    """A person who signs in; a participant's account points at their participant record."""

    __tablename__ = "user_account"  # "user" is reserved in PostgreSQL
    __table_args__ = (
        one_of("role", ROLES),
        CheckConstraint(
            "(role = 'participant' AND participant_id IS NOT NULL) OR "
            "(role <> 'participant' AND participant_id IS NULL)",
            name="participant_link",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    # None until the person sets one from their invitation link.
    password_hash: Mapped[str | None] = mapped_column(String(256))
    display_name: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(12))
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id"), index=True)
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participant.id"), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    deactivated_at: Mapped[datetime | None]
    # Every session carries the epoch it began in; raising it ends the others (deactivation,
    # password change, "sign out everywhere else") at their next request.
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")
    # Two-factor sign-in: the TOTP key (base32) once confirmed; None while not set up.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    mfa_enabled_at: Mapped[datetime | None]
    # The 30-second step of the last code accepted: a code (or an older one) is never accepted twice,
    # so a code seen over someone's shoulder or in a proxy log cannot sign in again.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    # The language the person chose for the app ("en", "es"); None follows their record or browser.
    language: Mapped[str | None] = mapped_column(String(5))

    program: Mapped[Program] = relationship()

    def set_password(self, password: str) -> None:
        """Store a memory-hard hash of the password (argon2id), never the password."""
        self.password_hash = passwords.hash_password(password, current_app.config.get("PASSWORD_HASH_COST", "standard"))

    def check_password(self, password: str) -> bool:
        """True if the password matches the stored hash (False when none is set yet)."""
        return self.password_hash is not None and passwords.verify_password(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        """Whether the account may sign in."""
        return self.active

    @property
    def is_staff(self) -> bool:
        """Directors and facilitators: the people who see participants' records."""
        return self.role in ("director", "facilitator")

    @property
    def mfa_enabled(self) -> bool:
        """Whether sign-in asks for a code from an authenticator app."""
        return self.totp_secret is not None and self.mfa_enabled_at is not None


class AccountToken(db.Model):
    """A one-time set-password link (an invitation or a reset): only its SHA-256 is stored."""

    __tablename__ = "account_token"
    __table_args__ = (one_of("purpose", TOKEN_PURPOSES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(10))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class RecoveryCode(db.Model):
    """A one-time code for signing in without the authenticator app; stored hashed."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(128))
    used_at: Mapped[datetime | None]


class SignInAttempt(db.Model):
    """One sign-in try for an account, kept in the database so that lockout holds across processes
    and machines, and so that people can see their recent sign-ins."""

    __tablename__ = "sign_in_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    succeeded: Mapped[bool]
    remote_addr: Mapped[str] = mapped_column(String(45), default="")
    user_agent: Mapped[str] = mapped_column(String(200), default="")
