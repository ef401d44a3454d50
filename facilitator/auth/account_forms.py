"""Forms of account management: invitations, roles, set-password links, portal access."""

from __future__ import annotations

from wtforms import EmailField, HiddenField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from ..web.forms import AppForm

STAFF_ROLE_CHOICES = [SelectChoice("facilitator", "Facilitator (counselor)"), SelectChoice("director", "Director")]
EMAIL_RULES = [DataRequired("Enter an email address."), Email("Enter an email address like name@example.org."),
               Length(max=254, message="Use at most 254 characters.")]


class InviteForm(AppForm):
    """A new staff member: email, name and role."""

    email = EmailField("Email", validators=EMAIL_RULES)
    name = StringField("Name", validators=[DataRequired("Enter the person's name."),
                                           Length(max=80, message="Use at most 80 characters.")])
    role = SelectField("Role", choices=STAFF_ROLE_CHOICES, default="facilitator")


class RoleForm(AppForm):
    """Change a staff member's role."""

    role = SelectField("Role", choices=STAFF_ROLE_CHOICES)


class ActionForm(AppForm):
    """A button that changes an account (deactivate, reactivate, new link, reset two-factor): CSRF only."""


class SetPasswordForm(AppForm):
    """A new password, typed twice."""

    password = PasswordField("New password", validators=[DataRequired("Enter a new password."),
                                                         Length(max=256, message="Use at most 256 characters.")])
    confirm = PasswordField("Type it again", validators=[DataRequired("Type the new password again."),
                                                         EqualTo("password", "The two passwords do not match.")])


class ForgotForm(AppForm):
    """The email of the account whose password is forgotten."""

    email = EmailField("Email", validators=EMAIL_RULES)


class PortalForm(AppForm):
    """The email a participant will sign in with."""

    email = EmailField("Email to sign in with", validators=[Optional(), *EMAIL_RULES[1:]])


class HandoutForm(AppForm):
    """The link just shown, sent back to print it (it is stored nowhere the server could read it from)."""

    token = HiddenField(validators=[DataRequired(), Length(max=100)])
