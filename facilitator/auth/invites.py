"""One-time set-password links (an invitation or a reset).

The token goes into the link and nowhere else: the database keeps its SHA-256, so a copy of the
database cannot be turned into working links. A link is single use, expires after
ACCOUNT_LINK_HOURS (72 by default), and a new link for a person voids their older unused ones.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select, update

from ..audit import services as audit
from ..extensions import db
from ..models_base import utcnow
from .models import AccountToken, User
from .passwords import password_problem

DEFAULT_HOURS = 72
SET_PASSWORD_PATH = "/set-password/"  # the route of views: accounts.set_password


class LinkError(ValueError):
    """A link cannot be used: unknown, expired (or replaced by a newer one), or already used."""

    def __init__(self, reason: str, user: User | None = None) -> None:
        super().__init__(reason)
        self.reason = reason  # "unknown", "expired" or "used"
        self.user = user


class PasswordRefused(ValueError):
    """The new password breaks a rule; the message says which."""


@dataclass(frozen=True)
class Link:
    """A link just made: the token (shown once, never stored), its URL and when it expires (UTC)."""

    token: str
    url: str
    expires_at: datetime
    user: User


def token_hash(token: str) -> str:
    """The stored form of a token: its SHA-256 in hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def link_hours() -> int:
    """How long a new link stays valid (config ACCOUNT_LINK_HOURS)."""
    return int(current_app.config.get("ACCOUNT_LINK_HOURS") or DEFAULT_HOURS)


def link_url(token: str) -> str:
    """The full address of a set-password link (config APP_BASE_URL; links are also made by the CLI,
    where there is no request to take the host from)."""
    base = (current_app.config.get("APP_BASE_URL") or "http://127.0.0.1:5000").rstrip("/")
    return f"{base}{SET_PASSWORD_PATH}{token}"


def void_links(user: User) -> None:
    """End every unused link of the person (it then reads as expired)."""
    now = utcnow()
    db.session.execute(update(AccountToken)
                       .where(AccountToken.user_id == user.id, AccountToken.used_at.is_(None),
                              AccountToken.expires_at > now)
                       .values(expires_at=now))


def make_link(user: User, purpose: str, acting_user: Any = None) -> Link:
    """A new one-time link for the person (purpose "invite" or "reset"); voids their older ones."""
    void_links(user)
    token = secrets.token_urlsafe(32)
    expires = utcnow() + timedelta(hours=link_hours())
    db.session.add(AccountToken(user_id=user.id, purpose=purpose, token_hash=token_hash(token), expires_at=expires,
                                created_by_id=getattr(acting_user, "id", None)))
    db.session.flush()
    return Link(token, link_url(token), expires, user)


def find_link(token: str) -> AccountToken:
    """The stored link for a token if it can still be used; LinkError saying why not."""
    row = db.session.scalar(select(AccountToken).where(AccountToken.token_hash == token_hash(token)))
    if row is None:
        raise LinkError("unknown")
    if row.used_at is not None:
        raise LinkError("used", row.user)
    if row.expires_at <= utcnow() or not row.user.active:
        raise LinkError("expired", row.user)
    return row


def use_link(token: str, new_password: str, remote_addr: str = "") -> User:
    """Set the person's password from a link, once; LinkError or PasswordRefused change nothing."""
    row = find_link(token)
    user = row.user
    problem = password_problem(new_password, user.role, user.email)
    if problem:
        raise PasswordRefused(problem)
    # Marked used in the same statement that checks it is unused: of two tabs submitting the same
    # link at once, one wins.
    claimed = db.session.execute(update(AccountToken)
                                 .where(AccountToken.id == row.id, AccountToken.used_at.is_(None))
                                 .values(used_at=utcnow())).rowcount
    if claimed != 1:
        raise LinkError("used", user)
    user.set_password(new_password)
    user.session_epoch += 1  # a reset ends any session someone else may hold
    audit.record("auth.password_set", "user", user.id, user=user, detail={"purpose": row.purpose},
                 remote_addr=remote_addr)
    db.session.flush()
    return user
