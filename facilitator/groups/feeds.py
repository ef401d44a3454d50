"""Calendar subscriptions: a secret address per group that calendar apps (which cannot sign in)
fetch the group's meetings from. The feed shows meetings and modules, never a participant."""

from __future__ import annotations

import secrets

from sqlalchemy import select

from ..auth.models import User
from ..extensions import db
from .models import Group


class FeedRefused(PermissionError):
    """Only the program's staff make or replace a group's subscription address."""


def _check_staff(user: User, group: Group) -> None:
    if not user.is_staff or user.program_id != group.program_id:
        raise FeedRefused("only the program's staff share a group's calendar")


def new_token() -> str:
    """A fresh unguessable token (32 random bytes, URL-safe: 43 characters)."""
    return secrets.token_urlsafe(32)


def share_feed(group: Group, user: User, *, replace: bool = False) -> str:
    """The group's feed token, made if it has none; replace=True makes a new one (the old address stops)."""
    _check_staff(user, group)
    if group.feed_token is None or replace:
        group.feed_token = new_token()
        db.session.flush()
    return group.feed_token


def group_by_feed(token: str) -> Group | None:
    """The group whose subscription address carries this token (None for anything else)."""
    if len(token) != 43:
        return None
    return db.session.scalar(select(Group).where(Group.feed_token == token))
