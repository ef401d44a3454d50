"""Sign-in and account forms."""

from __future__ import annotations

from wtforms import EmailField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from ..web.forms import AppForm
from .passwords import MAX_LENGTH


class LoginForm(AppForm):
    """Email and password; both required, the email must look like one. No "keep me signed in":
    a remembered sign-in would outlive automatic logoff."""

    email = EmailField("Email", validators=[DataRequired("Enter your email address."),
                                            Email("Enter an email address like name@example.org."),
                                            Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired("Enter your password."), Length(max=MAX_LENGTH)])
    submit = SubmitField("Sign in")


class SecondFactorForm(AppForm):
    """The 6-digit code from the authenticator app, or a recovery code."""

    code = StringField("Code", validators=[DataRequired("Enter the 6-digit code from your app, or a recovery code."),
                                           Length(max=20, message="A code has at most 11 characters.")])
    submit = SubmitField("Continue")


class PasswordChangeForm(AppForm):
    """The current password, and the new one typed twice."""

    current = PasswordField("Current password", validators=[DataRequired("Enter your current password."),
                                                            Length(max=MAX_LENGTH)])
    new = PasswordField("New password", validators=[DataRequired("Enter a new password."), Length(max=MAX_LENGTH)])
    confirm = PasswordField("New password again", validators=[
        DataRequired("Type the new password again."), EqualTo("new", "The two new passwords are not the same.")])
    submit = SubmitField("Change password")


class MfaConfirmForm(AppForm):
    """The first code from the authenticator app, which proves it holds the key."""

    code = StringField("Code from the app", validators=[DataRequired("Enter the 6-digit code your app shows."),
                                                        Length(max=20)])
    submit = SubmitField("Turn on two-factor sign-in")


class PasswordConfirmForm(AppForm):
    """The password, asked again before removing two-factor sign-in."""

    password = PasswordField("Your password", validators=[DataRequired("Enter your password."), Length(max=MAX_LENGTH)])
    submit = SubmitField("Remove two-factor sign-in")


class ConfirmForm(AppForm):
    """A button with a CSRF token (sign out everywhere else)."""

    submit = SubmitField("Sign out everywhere else")
