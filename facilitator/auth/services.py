"""Account operations: create users, check credentials."""

from __future__ import annotations

from sqlalchemy import func, select

from ..extensions import db
from ..models_base import utcnow
from ..programs.models import Program
from .models import ROLES, User
from .passwords import password_problem


class AccountError(ValueError):
    """An account cannot be created or changed as asked; the message says why."""


def find_by_email(email: str) -> User | None:
    """The user with this email, compared without regard to case."""
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def create_user(program: Program, email: str, password: str | None, role: str, display_name: str,
                participant_id: int | None = None) -> User:
    """Create a user in a program; refuse duplicates, unknown roles and weak passwords (None: no
    password yet, to be set from an invitation link)."""
    email = email.strip().lower()
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if "@" not in email or len(email) > 254:
        raise AccountError("enter a valid email address")
    if password is not None and (problem := password_problem(password, role, email)):
        raise AccountError(problem)
    if find_by_email(email):
        raise AccountError(f"a user with the email {email} already exists")
    if (role == "participant") != (participant_id is not None):
        raise AccountError("participant accounts, and only they, link to a participant record")
    user = User(email=email, role=role, display_name=display_name.strip() or email.split("@")[0],
                program_id=program.id, participant_id=participant_id)
    if password is not None:
        user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def authenticate(email: str, password: str) -> User | None:
    """The active user with these credentials, or None (the caller says nothing more specific)."""
    user = find_by_email(email)
    if user is None or not user.active or not user.check_password(password):
        return None
    user.last_login_at = utcnow()
    return user
