"""Managing accounts (directors, from the web and the CLI): invitations, set-password links,
deactivation, roles, a second factor's reset, and participants' portal access.

Operations take plain data and the acting user (None for the command line), audit, flush and
return; the caller commits. A refusal is an AccountError whose message is a whole sentence, raised
before anything has changed (so callers need no rollback).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from ..audit import services as audit
from ..extensions import db
from ..models_base import utcnow
from ..participants.models import Participant
from ..programs.models import Program
from .invites import Link, make_link, void_links
from .models import RecoveryCode, User
from .services import AccountError, create_user, find_by_email

STAFF_ROLES = ("director", "facilitator")


@dataclass(frozen=True)
class Invitation:
    """A new or re-invited account and its one-time link (the link is shown once, never stored)."""

    user: User
    link: Link


def _audit(action: str, user: User, acting_user: Any, remote_addr: str = "", **detail: Any) -> None:
    audit.record(action, "user", user.id, user=acting_user, program_id=user.program_id,
                 participant_id=user.participant_id, detail=detail or None, remote_addr=remote_addr)


def _check_email(email: str) -> str:
    email = (email or "").strip().lower()
    if find_by_email(email):
        raise AccountError(_("There is already an account with the email %(email)s.", email=email))
    return email


def invite_user(program: Program, email: str, role: str, name: str, acting_user: Any = None,
                participant: Participant | None = None, remote_addr: str = "") -> Invitation:
    """A new account with no password and an invitation link to set one."""
    email = _check_email(email)
    if role == "participant" and participant is None:
        raise AccountError(_("A participant account needs the participant's record."))
    if participant is not None:
        if participant.program_id != program.id:
            raise AccountError(_("That participant is not in this program."))
        if portal_account(participant) is not None:
            raise AccountError(_("%(name)s already has a portal account.", name=participant.preferred_name))
        name = name or participant.preferred_name
    try:
        user = create_user(program, email, None, role, name, participant.id if participant else None)
    except AccountError as exc:  # the core's messages are short phrases; the screens want sentences
        text = str(exc)
        raise AccountError(text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")) from exc
    link = make_link(user, "invite", acting_user)
    _audit("auth.invite", user, acting_user, remote_addr, role=role)
    return Invitation(user, link)


def reset_link(user: User, acting_user: Any = None, remote_addr: str = "") -> Link:
    """A new set-password link for an active account (an invitation again if no password was ever set)."""
    if not user.active:
        raise AccountError(_("The account of %(name)s is deactivated. Reactivate it first.", name=user.display_name))
    link = make_link(user, "reset" if user.password_hash else "invite", acting_user)
    _audit("auth.reset_link", user, acting_user, remote_addr)
    return link


def active_directors(program_id: int) -> int:
    """How many active directors the program has."""
    return db.session.scalar(select(func.count()).select_from(User).where(
        User.program_id == program_id, User.role == "director", User.active.is_(True))) or 0


def _keep_a_director(user: User) -> None:
    if user.role == "director" and user.active and active_directors(user.program_id) <= 1:
        raise AccountError(_("%(name)s is the only active director of the program. Make another person a director "
                               "first, so that someone can still manage accounts.", name=user.display_name))


def deactivate(user: User, acting_user: Any = None, remote_addr: str = "", action: str = "auth.deactivate") -> None:
    """End the account's access: it cannot sign in, its sessions end at their next request, its links die."""
    if not user.active:
        return
    _keep_a_director(user)
    user.active = False
    user.deactivated_at = utcnow()
    user.session_epoch += 1
    void_links(user)
    _audit(action, user, acting_user, remote_addr)
    db.session.flush()


def activate(user: User, acting_user: Any = None, remote_addr: str = "") -> None:
    """Let a deactivated account sign in again (with the password it had, or a new link)."""
    if user.active:
        return
    user.active = True
    user.deactivated_at = None
    _audit("auth.activate", user, acting_user, remote_addr)
    db.session.flush()


def change_role(user: User, role: str, acting_user: Any = None, remote_addr: str = "") -> None:
    """Make a staff member a director or a facilitator; the program keeps at least one active director."""
    if user.role not in STAFF_ROLES or role not in STAFF_ROLES:
        raise AccountError(_("Only staff accounts change role, between director and facilitator."))
    if role == user.role:
        return
    if user.role == "director":
        _keep_a_director(user)
    before, user.role = user.role, role
    _audit("auth.role_change", user, acting_user, remote_addr, before=before, after=role)
    db.session.flush()


def reset_mfa(user: User, acting_user: Any = None, remote_addr: str = "") -> None:
    """Remove the account's second factor and recovery codes (a lost phone); it sets them up again."""
    user.totp_secret = None
    user.mfa_enabled_at = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    _audit("auth.mfa_reset", user, acting_user, remote_addr)
    db.session.flush()


# --- participants' portal access ------------------------------------------------------------------

def portal_account(participant: Participant) -> User | None:
    """The participant's portal account, active or not (None if they never had one)."""
    return db.session.scalar(select(User).where(User.participant_id == participant.id))


def give_portal(participant: Participant, email: str, acting_user: Any = None, remote_addr: str = "") -> Invitation:
    """Portal access for a participant: a new account, or the old one reactivated, with a one-time link.

    The email is the sign-in name (and where a link is sent when mail is set up); a participant
    without email can use any address they can read, or a family member's with their consent."""
    program = db.session.get(Program, participant.program_id)
    account = portal_account(participant)
    if account is None:
        invitation = invite_user(program, email, "participant", participant.preferred_name, acting_user, participant,
                                 remote_addr)
    else:
        email = (email or "").strip().lower()
        if email and email != account.email:
            account.email = _check_email(email)
        account.active, account.deactivated_at = True, None
        invitation = Invitation(account, make_link(account, "reset" if account.password_hash else "invite",
                                                   acting_user))
    audit.record("auth.portal_granted", "user", invitation.user.id, user=acting_user, program_id=participant.program_id,
                 participant_id=participant.id, remote_addr=remote_addr)
    db.session.flush()
    return invitation


def remove_portal(participant: Participant, acting_user: Any = None, remote_addr: str = "") -> User | None:
    """End a participant's portal access (the account stays, deactivated, for the audit trail)."""
    account = portal_account(participant)
    if account is not None and account.active:
        deactivate(account, acting_user, remote_addr, action="auth.portal_removed")
    return account


# --- lists ------------------------------------------------------------------------------------------

def staff_of(program_id: int) -> list[User]:
    """The program's directors and facilitators: active first, then by name."""
    return list(db.session.scalars(select(User).where(User.program_id == program_id, User.role.in_(STAFF_ROLES))
                                   .order_by(User.active.desc(), func.lower(User.display_name), User.id)))


def program_user(program_id: int, user_id: int) -> User | None:
    """A user of the program (None for another program's: they are not to be found from here)."""
    user = db.session.get(User, user_id)
    return user if user is not None and user.program_id == program_id else None
