"""Account management on the web: the staff list (directors) and participants' portal access (staff).
A new link is shown once, on the answer to the POST that made it: it is stored nowhere the server
could show it from again (the handout is printed by sending the link back).

| method | URL                                      | who      |
|--------|------------------------------------------|----------|
| GET    | /staff                                   | director |
| POST   | /staff/invite                            | director |
| POST   | /staff/<id>/role                         | director |
| POST   | /staff/<id>/deactivate                   | director |
| POST   | /staff/<id>/activate                     | director |
| POST   | /staff/<id>/reset                        | director |
| POST   | /staff/<id>/mfa-reset                    | director |
| POST   | /participants/<id>/portal                | staff    |
| POST   | /participants/<id>/portal/remove         | staff    |
| POST   | /account-links/handout                   | staff    |
"""

from __future__ import annotations

import io

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..extensions import db
from ..participants.models import Participant
from ..web.access import director_required, own_participant_or_404, staff_required
from ..web.i18n import role_name
from . import accounts, mail
from .account_forms import ActionForm, HandoutForm, InviteForm, PortalForm, RoleForm
from .handout import handout_pdf
from .invites import Link, LinkError, find_link, link_url
from .models import User
from .services import AccountError

bp = Blueprint("accounts", __name__)
bp.record_once(lambda state: mail.init_app(state.app))


def _addr() -> str:
    return request.remote_addr or ""


def _staff_member(user_id: int) -> User:
    """A director or facilitator of the signed-in director's program (404 for anyone else)."""
    user = accounts.program_user(current_user.program_id, user_id)
    if user is None or user.role not in accounts.STAFF_ROLES:
        abort(404)
    return user


def _checked(form: ActionForm) -> None:
    if not form.validate_on_submit():
        abort(400)


def _link_page(link: Link, back: str, *, participant: Participant | None = None, status: int = 200):
    """The one page that shows a new link: to copy, to print as a handout, and whether it was emailed."""
    sent = mail.send_link(link.user, link, current_user.program) if mail.mail_configured() else None
    html = render_template("auth/staff_link.html", link=link, back=back, sent=sent, participant=participant,
                           expires=mail.local_time(link.expires_at, current_user.program),
                           handout=HandoutForm(token=link.token))
    db.session.commit()  # after rendering: a commit expires the rows the page reads
    response = make_response(html, status)
    response.headers["Cache-Control"] = "no-store"  # the link is a credential
    return response


def _staff_page(invite: InviteForm | None = None, status: int = 200):
    people = accounts.staff_of(current_user.program_id)
    return render_template("auth/staff.html", people=people, invite=invite or InviteForm(), role_form=RoleForm,
                           action=ActionForm(), program=current_user.program, mail_on=mail.mail_configured(),
                           local_time=mail.local_time), status


@bp.route("/staff")
@director_required
def index():
    """Staff of the program: role, status, last sign-in, two-factor; invite and manage."""
    return _staff_page()


@bp.route("/staff/invite", methods=["POST"])
@director_required
def invite():
    """Invite a director or facilitator by email: an account without a password, and a link to set one."""
    form = InviteForm()
    if form.validate_on_submit():
        try:
            invitation = accounts.invite_user(current_user.program, form.email.data, form.role.data, form.name.data,
                                              current_user, remote_addr=_addr())
        except AccountError as exc:
            form.email.errors = [*form.email.errors, str(exc)]
        else:
            return _link_page(invitation.link, url_for(".index"), status=201)
    return _staff_page(form, 422)


@bp.route("/staff/<int:user_id>/role", methods=["POST"])
@director_required
def role(user_id: int):
    """Make a staff member a director or a facilitator."""
    person = _staff_member(user_id)
    form = RoleForm()
    if not form.validate_on_submit():
        abort(400)
    return _change(lambda: accounts.change_role(person, form.role.data, current_user, _addr()),
                   _("%(name)s is now a %(role)s.", name=person.display_name, role=role_name(form.role.data)))


@bp.route("/staff/<int:user_id>/deactivate", methods=["POST"])
@director_required
def deactivate(user_id: int):
    """End a staff member's access; their open sessions end at their next request."""
    person = _staff_member(user_id)
    _checked(ActionForm())
    return _change(lambda: accounts.deactivate(person, current_user, _addr()),
                   _("%(name)s is deactivated and can no longer sign in.", name=person.display_name))


@bp.route("/staff/<int:user_id>/activate", methods=["POST"])
@director_required
def activate(user_id: int):
    """Let a deactivated staff member sign in again."""
    person = _staff_member(user_id)
    _checked(ActionForm())
    return _change(lambda: accounts.activate(person, current_user, _addr()),
                   _("%(name)s can sign in again.", name=person.display_name))


@bp.route("/staff/<int:user_id>/mfa-reset", methods=["POST"])
@director_required
def mfa_reset(user_id: int):
    """Remove a staff member's two-factor sign-in (a lost phone); they set it up again."""
    person = _staff_member(user_id)
    _checked(ActionForm())
    return _change(lambda: accounts.reset_mfa(person, current_user, _addr()),
                   _("Two-factor sign-in of %(name)s is removed; they can set it up again.", name=person.display_name))


def _change(operation, done: str):
    try:
        operation()
    except AccountError as exc:
        flash(str(exc), "error")
        return _staff_page(status=409)
    db.session.commit()
    flash(done, "info")
    return redirect(url_for(".index"), 303)


@bp.route("/staff/<int:user_id>/reset", methods=["POST"])
@director_required
def reset(user_id: int):
    """A new one-time set-password link for a staff member (older links stop working)."""
    person = _staff_member(user_id)
    _checked(ActionForm())
    try:
        link = accounts.reset_link(person, current_user, _addr())
    except AccountError as exc:
        flash(str(exc), "error")
        return _staff_page(status=409)
    return _link_page(link, url_for(".index"))


# --- participants' portal access -------------------------------------------------------------------

@bp.route("/participants/<int:participant_id>/portal", methods=["POST"])
@staff_required
def give_portal(participant_id: int):
    """Give a participant portal access: an invitation (or a new link) to set their password."""
    person = own_participant_or_404(participant_id)
    form = PortalForm()
    back = url_for("participants.show", participant_id=person.id)
    problem = None
    if not form.validate_on_submit():
        problem = " ".join(map(str, form.email.errors)) or _("The form has expired. Reload the page and try again.")
    elif not form.email.data and accounts.portal_account(person) is None:
        problem = _("Enter the email address %(name)s will sign in with.", name=person.preferred_name)
    else:
        try:
            invitation = accounts.give_portal(person, form.email.data or "", current_user, _addr())
        except AccountError as exc:
            problem = str(exc)
        else:
            return _link_page(invitation.link, back, participant=person, status=201)
    flash(problem, "error")
    return redirect(back, 303)


@bp.route("/participants/<int:participant_id>/portal/remove", methods=["POST"])
@staff_required
def remove_portal(participant_id: int):
    """End a participant's portal access."""
    person = own_participant_or_404(participant_id)
    _checked(ActionForm())
    accounts.remove_portal(person, current_user, _addr())
    db.session.commit()
    flash(_("%(name)s can no longer sign in to the portal.", name=person.preferred_name), "info")
    return redirect(url_for("participants.show", participant_id=person.id), 303)


@bp.route("/account-links/handout", methods=["POST"])
@staff_required
def handout():
    """The one-page handout of a link just made (sent back from the link page; never cached)."""
    form = HandoutForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        row = find_link(form.token.data)
    except LinkError:
        return render_template("auth/link_invalid.html", program=current_user.program, staff=True), 410
    user = row.user
    # Another program's link, or a staff member's printed by someone who may not manage staff: not found.
    if user.program_id != current_user.program_id or (user.is_staff and current_user.role != "director"):
        abort(404)
    link = Link(form.token.data, link_url(form.token.data), row.expires_at, user)
    data = handout_pdf(link, current_user.program)
    response = send_file(io.BytesIO(data), mimetype="application/pdf", download_name="set-password-handout.pdf",
                         max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response
