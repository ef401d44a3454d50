"""/account: change the password (the current one asked, the rules applied, other sessions end),
set up and remove two-factor sign-in, recent sign-ins, sign out everywhere else."""

from __future__ import annotations

import re

import pyotp
import time_machine
from sqlalchemy import select

from facilitator import clock
from facilitator.audit.models import AuditEvent
from facilitator.auth import mfa
from facilitator.auth.models import RecoveryCode

from .conftest import PASSWORD, csrf_token, login

NEW_PASSWORD = "lantern-orchard-nineteen"


def post(client, path: str, data: dict):
    """Post a form of the account page with its CSRF token."""
    page = client.get("/account")
    return client.post(path, data={**data, "csrf_token": csrf_token(page.text)})


def audited(session, user, action: str) -> int:
    """How many times the action was audited for the account."""
    return len(session.scalars(select(AuditEvent.id).where(AuditEvent.entity_id == user.id,
                                                           AuditEvent.action == action)).all())


def test_everyone_signed_in_has_an_account_page_and_nobody_else(client, app, make_user, make_program,
                                                                 make_participant):
    assert client.get("/account").status_code == 302
    program = make_program()
    participant = make_user("participant", program=program, participant=make_participant(program))
    login(client, participant.email)
    page = client.get("/account")
    assert page.status_code == 200
    assert "Change your password" in page.text and "Two-factor sign-in" in page.text
    assert "Recent sign-ins" in page.text and "Sign out everywhere else" in page.text


def test_a_password_change_needs_the_current_password_and_follows_the_rules(client, app, make_user, session):
    user = make_user("facilitator")
    login(client, user.email)
    wrong = post(client, "/account/password", {"current": "not-my-password", "new": NEW_PASSWORD,
                                               "confirm": NEW_PASSWORD})
    assert wrong.status_code == 422 and "That is not your current password." in wrong.text
    short = post(client, "/account/password", {"current": PASSWORD, "new": "short-one", "confirm": "short-one"})
    assert short.status_code == 422 and "Use at least 12 characters." in short.text
    common = post(client, "/account/password", {"current": PASSWORD, "new": "password1234", "confirm": "password1234"})
    assert common.status_code == 422 and "too common" in common.text
    mismatch = post(client, "/account/password", {"current": PASSWORD, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x"})
    assert mismatch.status_code == 422 and "The two new passwords are not the same." in mismatch.text
    session.refresh(user)
    assert user.check_password(PASSWORD) and audited(session, user, "auth.password_change") == 0

    done = post(client, "/account/password", {"current": PASSWORD, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302
    session.refresh(user)
    assert user.check_password(NEW_PASSWORD) and not user.check_password(PASSWORD)
    assert audited(session, user, "auth.password_change") == 1
    assert client.get("/today").status_code == 200  # this session stays


def on_own(app, work):
    """Run a client's requests in an app context of their own: the tests' shared context would
    carry one browser's signed-in user (flask.g) into another's requests."""
    with app.app_context():
        return work()


def test_a_password_change_ends_the_other_sessions(app, make_user, session):
    user = make_user("facilitator")
    here, elsewhere = app.test_client(), app.test_client()
    on_own(app, lambda: login(here, user.email))
    on_own(app, lambda: login(elsewhere, user.email))
    on_own(app, lambda: post(here, "/account/password", {"current": PASSWORD, "new": NEW_PASSWORD,
                                                         "confirm": NEW_PASSWORD}))
    assert on_own(app, lambda: here.get("/today")).status_code == 200
    ended = on_own(app, lambda: elsewhere.get("/today"))
    assert ended.status_code == 302 and "/login" in ended.headers["Location"]
    assert "your sessions were ended" in on_own(app, lambda: elsewhere.get("/login")).text


def test_sign_out_everywhere_else_keeps_this_session(app, make_user, session):
    user = make_user("director")
    here, elsewhere = app.test_client(), app.test_client()
    on_own(app, lambda: login(here, user.email))
    on_own(app, lambda: login(elsewhere, user.email))
    assert on_own(app, lambda: post(here, "/account/sign-out-others", {})).status_code == 302
    assert on_own(app, lambda: here.get("/today")).status_code == 200
    assert on_own(app, lambda: elsewhere.get("/today")).status_code == 302
    assert audited(session, user, "auth.sessions_ended") == 1


def test_two_factor_set_up_shows_a_qr_code_and_the_key_then_ten_recovery_codes_once(client, make_user, session):
    user = make_user("facilitator")
    login(client, user.email)
    setup = client.get("/account/two-factor")
    assert setup.status_code == 200
    assert "<svg" in setup.text and "<title>QR code for your authenticator app</title>" in setup.text
    assert "style=" not in setup.text and "<script>" not in setup.text  # the CSP allows neither
    with client.session_transaction() as browser_session:
        key = browser_session["mfa_new_key"]
    assert " ".join(key[i:i + 4] for i in range(0, len(key), 4)) in setup.text
    assert client.get("/account/two-factor").text.count(key[:4]) >= 1  # the same key on a second visit

    wrong = client.post("/account/two-factor", data={"code": "000000" if pyotp.TOTP(key).now() != "000000" else "111111",
                                                     "csrf_token": csrf_token(setup.text)})
    assert wrong.status_code == 422 and "That code does not match." in wrong.text
    session.refresh(user)
    assert not user.mfa_enabled

    done = client.post("/account/two-factor", data={"code": pyotp.TOTP(key).now(), "csrf_token": csrf_token(setup.text)})
    assert done.status_code == 200 and done.headers["Cache-Control"] == "no-store"
    codes = re.findall(r"<code>([a-z0-9]{5}-[a-z0-9]{5})</code>", done.text)
    assert len(set(codes)) == 10
    session.refresh(user)
    assert user.mfa_enabled and user.totp_secret == key
    stored = session.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id)).all()
    assert len(stored) == 10 and not any(code.replace("-", "") in h for code in codes for h in stored)
    assert audited(session, user, "auth.mfa_setup") == 1
    assert "already on" in client.get("/account/two-factor", follow_redirects=True).text  # not shown again
    assert "Recovery codes left: 10." in client.get("/account").text


def test_removing_two_factor_asks_for_the_password(client, make_user, session):
    user = make_user("facilitator")
    mfa.enable(user, mfa.new_key())
    session.flush()
    login(client, user.email)
    code_page = client.get("/login/code")
    client.post("/login/code", data={"code": pyotp.TOTP(user.totp_secret).now(), "csrf_token": csrf_token(code_page.text)})
    wrong = post(client, "/account/two-factor/remove", {"password": "not-my-password"})
    assert wrong.status_code == 422 and "That is not your password." in wrong.text
    session.refresh(user)
    assert user.mfa_enabled
    assert post(client, "/account/two-factor/remove", {"password": PASSWORD}).status_code == 302
    session.refresh(user)
    assert not user.mfa_enabled and mfa.recovery_codes_left(user) == 0
    assert audited(session, user, "auth.mfa_removed") == 1


def test_recent_sign_ins_list_the_last_ten_tries_in_the_programs_time(client, make_user, session):
    user = make_user("facilitator")
    user.program.timezone = "America/New_York"
    session.flush()
    with time_machine.travel(clock.utc_now(), tick=False):
        _sign_in_many_times(client, user)
        page = client.get("/account").text
        shown = clock.now("America/New_York").strftime("%a %b %-d, %Y, %-I:%M %p")
    table = page[page.index("Recent sign-ins"):page.index("Other devices")]
    assert table.count("<tr>") == 11  # the header and ten rows
    assert "Failed" not in table  # the three failures are older than the ten latest
    assert table.count(shown) == 10  # New York's clock, not the server's or UTC


def _sign_in_many_times(client, user) -> None:
    for _ in range(3):
        client.post("/login", data={"email": user.email, "password": "wrong-password-here",
                                    "csrf_token": csrf_token(client.get("/login").text)},
                    environ_base={"REMOTE_ADDR": "10.77.0.1"})
    for _ in range(9):
        login(client, user.email)
        client.post("/logout", data={"csrf_token": csrf_token(client.get("/account").text)})
    login(client, user.email)
