"""Forms of account management: invitations, roles, set-password links, portal access."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, HiddenField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from ..web.forms import AppForm

STAFF_ROLE_CHOICES = [SelectChoice("facilitator", _l("Facilitator (counselor)")),
                      SelectChoice("director", _l("Director"))]
EMAIL_RULES = [DataRequired(_l("Enter an email address.")), Email(_l("Enter an email address like name@example.org.")),
               Length(max=254, message=_l("Use at most 254 characters."))]


class InviteForm(AppForm):
    """A new staff member: email, name and role."""

    email = EmailField(_l("Email"), validators=EMAIL_RULES)
    name = StringField(_l("Name"), validators=[DataRequired(_l("Enter the person's name.")),
                                               Length(max=80, message=_l("Use at most 80 characters."))])
    role = SelectField(_l("Role"), choices=STAFF_ROLE_CHOICES, default="facilitator")


class RoleForm(AppForm):
    """Change a staff member's role."""

    role = SelectField(_l("Role"), choices=STAFF_ROLE_CHOICES)


class ActionForm(AppForm):
    """A button that changes an account (deactivate, reactivate, new link, reset two-factor): CSRF only."""


class SetPasswordForm(AppForm):
    """A new password, typed twice."""

    password = PasswordField(_l("New password"), validators=[DataRequired(_l("Enter a new password.")),
                                                             Length(max=256, message=_l("Use at most 256 characters."))])
    confirm = PasswordField(_l("Type it again"), validators=[DataRequired(_l("Type the new password again.")),
                                                             EqualTo("password", _l("The two passwords do not match."))])


class ForgotForm(AppForm):
    """The email of the account whose password is forgotten."""

    email = EmailField(_l("Email"), validators=EMAIL_RULES)


class PortalForm(AppForm):
    """The email a participant will sign in with."""

    email = EmailField(_l("Email to sign in with"), validators=[Optional(), *EMAIL_RULES[1:]])


class HandoutForm(AppForm):
    """The link just shown, sent back to print it (it is stored nowhere the server could read it from)."""

    token = HiddenField(validators=[DataRequired(), Length(max=100)])
