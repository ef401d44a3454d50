"""Account operations: create users, check credentials, find the signed-in user."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, inspect, select
from sqlalchemy.orm import joinedload, make_transient_to_detached
from sqlalchemy.orm.util import identity_key

from .. import data_revision
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


# Every request reads the signed-in person's account and program. A process keeps both rows as read, under
# the numbers of their two tables: any change to an account or a program (a deactivation, a raised epoch,
# a new idle limit) gives new numbers, and the next request reads the rows again. The password hash is not
# kept (no page needs it): it is read when a sign-in or a password change does. The two-factor key is
# kept: whether it is set is asked on every request of a program that requires two-factor sign-in.
SIGNED_IN_READS = ("user_account", "program")
_NOT_KEPT = frozenset({"password_hash"})


def signed_in_user(user_id: int) -> User | None:
    """The user with this id and their program as of this request's numbers (no query while neither
    table has changed since this process last read them)."""
    found = _in_session(User, user_id)
    if found is not None:
        return found
    kept = data_revision.remembered("signed-in user", (user_id,), lambda: _rows_of_user(user_id),
                                    reads=SIGNED_IN_READS)
    found = _in_session(User, user_id)  # read just now (nothing kept yet, or this transaction has written)
    if kept is None or found is not None:
        return found
    user_row, program_row = kept
    program = _in_session(Program, program_row["id"]) or _as_read(Program, program_row)
    user = _as_read(User, {**user_row, "program": program})
    db.session.add(user)  # detached, as if read by this session: no query
    return user


def _in_session(model: type, key: int) -> Any:
    return db.session.identity_map.get(identity_key(model, key))


def _rows_of_user(user_id: int) -> tuple[dict, dict] | None:
    user = db.session.get(User, user_id, options=[joinedload(User.program)])
    return None if user is None else (_row(user), _row(user.program))


def _row(obj: Any) -> dict:
    # The columns as loaded (plain values: strings, numbers, times), without the password hash.
    state = inspect(obj)
    return {attr.key: state.dict[attr.key] for attr in state.mapper.column_attrs
            if attr.key in state.dict and attr.key not in _NOT_KEPT}


def _as_read(model: type, row: dict) -> Any:
    # An instance as a query would have loaded it; the columns not given load on first use.
    obj = inspect(model).class_manager.new_instance()
    inspect(obj).dict.update(row)
    make_transient_to_detached(obj)
    return obj
