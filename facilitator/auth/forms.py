"""Sign-in and account forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from ..web.forms import AppForm
from .passwords import MAX_LENGTH


class LoginForm(AppForm):
    """Email and password; both required, the email must look like one. No "keep me signed in":
    a remembered sign-in would outlive automatic logoff."""

    email = EmailField(_l("Email"), validators=[DataRequired(_l("Enter your email address.")),
                                                Email(_l("Enter an email address like name@example.org.")),
                                                Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password.")),
                                                         Length(max=MAX_LENGTH)])
    submit = SubmitField(_l("Sign in"))


class SecondFactorForm(AppForm):
    """The 6-digit code from the authenticator app, or a recovery code."""

    code = StringField(_l("Code"), validators=[
        DataRequired(_l("Enter the 6-digit code from your app, or a recovery code.")),
        Length(max=20, message=_l("A code has at most 11 characters."))])
    submit = SubmitField(_l("Continue"))


class PasswordChangeForm(AppForm):
    """The current password, and the new one typed twice."""

    current = PasswordField(_l("Current password"), validators=[DataRequired(_l("Enter your current password.")),
                                                            Length(max=MAX_LENGTH)])
    new = PasswordField(_l("New password"), validators=[DataRequired(_l("Enter a new password.")),
                                                        Length(max=MAX_LENGTH)])
    confirm = PasswordField(_l("New password again"), validators=[
        DataRequired(_l("Type the new password again.")),
        EqualTo("new", _l("The two new passwords are not the same."))])
    submit = SubmitField(_l("Change password"))


class MfaConfirmForm(AppForm):
    """The first code from the authenticator app, which proves it holds the key."""

    code = StringField(_l("Code from the app"), validators=[DataRequired(_l("Enter the 6-digit code your app shows.")),
                                                            Length(max=20)])
    submit = SubmitField(_l("Turn on two-factor sign-in"))


class PasswordConfirmForm(AppForm):
    """The password, asked again before removing two-factor sign-in."""

    password = PasswordField(_l("Your password"), validators=[DataRequired(_l("Enter your password.")),
                                                              Length(max=MAX_LENGTH)])
    submit = SubmitField(_l("Remove two-factor sign-in"))


class ConfirmForm(AppForm):
    """A button with a CSRF token (sign out everywhere else)."""

    submit = SubmitField(_l("Sign out everywhere else"))
