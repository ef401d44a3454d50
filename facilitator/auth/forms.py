"""Sign-in form."""

from __future__ import annotations

from wtforms import BooleanField, EmailField, PasswordField, SubmitField
from wtforms.validators import DataRequired, Email, Length

from ..web.forms import AppForm


class LoginForm(AppForm):
    """Email and password; both required, the email must look like one."""

    email = EmailField("Email", validators=[DataRequired("Enter your email address."),
                                            Email("Enter an email address like name@example.org."),
                                            Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired("Enter your password."), Length(max=200)])
    remember = BooleanField("Keep me signed in on this device")
    submit = SubmitField("Sign in")
