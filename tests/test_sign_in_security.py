"""Sign-in security: lockout held in the database, the per-address limit, rehash on sign-in, who may
sign in at all, and two-factor sign-in (a code, a one-time recovery code, required for staff)."""

from __future__ import annotations

import itertools
from datetime import timedelta
from zoneinfo import ZoneInfo

import pyotp
import pytest
import time_machine
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from facilitator import clock
from facilitator.audit.models import AuditEvent
from facilitator.auth import mfa
from facilitator.auth.models import SignInAttempt
from facilitator.extensions import db
from facilitator.participants.models import Enrollment

from .conftest import PASSWORD, csrf_token

LOCKED = "Too many failed sign-ins for this account. Try again after"
GENERIC = "That email and password do not match an active account."
_addresses = itertools.count(1)


@pytest.fixture
def address(client):
    """An address of this test's own (the per-address limit counts other tests' failures elsewhere);
    every request of the test's client comes from it, as a browser's would (sessions are bound to
    the address they began from)."""
    n = next(_addresses)
    client.environ_base["REMOTE_ADDR"] = f"10.14.{n // 250}.{n % 250 + 1}"
    return client.environ_base["REMOTE_ADDR"]


def attempt(client, email: str, password: str, address: str, next_url: str = ""):
    """Post the sign-in form from an address, as a browser there would."""
    env = {"REMOTE_ADDR": address}
    page = client.get("/login", environ_base=env)
    return client.post("/login" + next_url, environ_base=env,
                       data={"email": email, "password": password, "csrf_token": csrf_token(page.text)})


def second_step(client, code: str, address: str):
    """Post the second step's form (the code or a recovery code)."""
    env = {"REMOTE_ADDR": address}
    page = client.get("/login/code", environ_base=env)
    return client.post("/login/code", environ_base=env, data={"code": code, "csrf_token": csrf_token(page.text)})


def actions(user) -> list[str]:
    """The account's audited sign-in actions, oldest first."""
    return list(
        db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.entity == "user", AuditEvent.entity_id == user.id,
                                            AuditEvent.action.like("auth.%")).order_by(AuditEvent.id)))


def signed_in(client, address: str) -> bool:
    """Whether the client's session opens a staff page."""
    return client.get("/today", environ_base={"REMOTE_ADDR": address}).status_code == 200


def test_five_failures_lock_the_account_even_for_the_right_password_until_15_minutes_after(
        client, make_user, address, session):
    user = make_user("facilitator")
    start = clock.utc_now()
    with time_machine.travel(start, tick=False) as traveller:
        for _ in range(4):
            assert attempt(client, user.email, "wrong-password-here", address).status_code == 422
            traveller.shift(timedelta(seconds=20))
        fifth = attempt(client, user.email, "wrong-password-here", address)
        assert fifth.status_code == 429
        locked_at = clock.utc_now()

        traveller.shift(timedelta(minutes=1))
        right = attempt(client, user.email, PASSWORD, address)
        assert right.status_code == 429 and LOCKED in right.text
        until = (locked_at + timedelta(minutes=15)).astimezone(ZoneInfo(user.program.timezone))
        assert until.strftime("%I:%M %p").lstrip("0") in right.text  # the program's clock time
        assert not signed_in(client, address)

        traveller.shift(timedelta(minutes=13, seconds=50))  # 14:50 after the fifth failure: still locked
        assert attempt(client, user.email, PASSWORD, address).status_code == 429

        traveller.shift(timedelta(seconds=20))  # 15:10 after it
        assert attempt(client, user.email, PASSWORD, address).status_code == 302
        assert signed_in(client, address)

    trail = actions(user)
    assert trail.count("auth.lockout") == 1
    assert trail.count("auth.login_failed") == 7  # 5 wrong passwords, 2 refused during the lockout
    assert trail[-1] == "auth.login"
    tries = session.scalars(select(SignInAttempt).where(SignInAttempt.user_id == user.id)).all()
    assert [t.succeeded for t in tries] == [False] * 7 + [True]
    assert {t.remote_addr for t in tries} == {address}
    details = session.scalars(select(AuditEvent.detail).where(AuditEvent.entity_id == user.id)).all()
    assert not any(PASSWORD in str(d) or "wrong-password" in str(d) for d in details)


def test_a_success_resets_the_count_and_failures_spread_over_more_than_15_minutes_do_not_lock(
        client, make_user, address):
    user = make_user("facilitator")
    with time_machine.travel(clock.utc_now(), tick=False) as traveller:
        for _ in range(4):
            attempt(client, user.email, "wrong-password-here", address)
        assert attempt(client, user.email, PASSWORD, address).status_code == 302
        client.post("/logout", data={"csrf_token": csrf_token(client.get("/account").text)})
        for _ in range(4):
            assert attempt(client, user.email, "wrong-password-here", address).status_code == 422
            traveller.shift(timedelta(minutes=5))
        # 8 failures in all, never 5 within 15 minutes since the success
        assert attempt(client, user.email, "wrong-password-here", address).status_code == 422
    assert "auth.lockout" not in actions(user)


def test_the_per_address_limit_refuses_the_31st_failed_try_with_a_clear_page(client, make_user, address):
    user = make_user("facilitator")
    other = "10.99.99.99"
    for n in range(30):  # unknown accounts: no lockout involved, only the address's count
        assert attempt(client, f"nobody{n}@example.org", "wrong-password-here", address).status_code == 422
    refused = attempt(client, user.email, PASSWORD, address)
    assert refused.status_code == 429
    assert "Too many failed sign-ins from this network. Wait 15 minutes and try again." in refused.text
    assert attempt(client, user.email, PASSWORD, other).status_code == 302  # another address is unaffected


def test_successful_sign_ins_do_not_count_against_the_address(client, make_user, address):
    user = make_user("facilitator")
    for _ in range(35):  # a clinic's people share one address
        assert attempt(client, user.email, PASSWORD, address).status_code == 302
        client.post("/logout", data={"csrf_token": csrf_token(client.get("/account").text)},
                    environ_base={"REMOTE_ADDR": address})


def test_an_older_werkzeug_hash_is_replaced_by_argon2_at_sign_in(client, make_user, address, session):
    user = make_user("director")
    user.password_hash = generate_password_hash(PASSWORD, method="pbkdf2:sha256")
    session.flush()
    assert attempt(client, user.email, PASSWORD, address).status_code == 302
    session.refresh(user)
    assert user.password_hash.startswith("$argon2id$")
    assert user.check_password(PASSWORD)


def test_a_deactivated_account_is_refused_with_the_generic_message(client, make_user, address, session):
    user = make_user("facilitator")
    user.active = False
    session.flush()
    refused = attempt(client, user.email, PASSWORD, address)
    assert refused.status_code == 422 and GENERIC in refused.text
    unknown = attempt(client, "no-such-person@example.org", PASSWORD, address)
    assert GENERIC in unknown.text
    assert actions(user) == ["auth.login_failed"]


@pytest.mark.parametrize(("discharged_days_ago", "still_enrolled", "may"), [
    (None, True, True),        # in a group now
    (10, False, True),         # discharged 10 days ago: within the program's 30 days
    (31, False, False),        # 31 days ago: portal access has ended
    (31, True, True),          # discharged from one group, still in another
])
def test_a_participants_portal_ends_some_days_after_discharge(client, make_user, make_program, make_group,
                                                              make_participant, address, session,
                                                              discharged_days_ago, still_enrolled, may):
    program = make_program()
    group = make_group(program)
    person = make_participant(program)
    today = clock.today(program.timezone)
    if discharged_days_ago is not None:
        session.add(Enrollment(participant_id=person.id, group_id=group.id, admitted_on=today - timedelta(days=90),
                               discharged_on=today - timedelta(days=discharged_days_ago), discharge_reason="completed"))
    if still_enrolled:
        session.add(Enrollment(participant_id=person.id, group_id=group.id, admitted_on=today - timedelta(days=5)))
    session.flush()
    user = make_user("participant", program=program, participant=person)
    response = attempt(client, user.email, PASSWORD, address)
    assert (response.status_code == 302) is may
    if not may:
        assert GENERIC in response.text


def test_two_factor_sign_in_with_a_code_and_with_a_recovery_code_that_works_once(client, make_user, address,
                                                                                 session):
    user = make_user("facilitator")
    key = mfa.new_key()
    codes = mfa.enable(user, key)
    session.flush()

    first = attempt(client, user.email, PASSWORD, address, next_url="?next=/groups/")
    assert first.status_code == 302 and first.headers["Location"].endswith("/login/code")
    assert not signed_in(client, address)  # the password alone does not sign in
    wrong = second_step(client, "000000" if pyotp.TOTP(key).now() != "000000" else "111111", address)
    assert wrong.status_code == 422 and "That code is not right." in wrong.text
    done = second_step(client, pyotp.TOTP(key).now(), address)
    assert done.status_code == 302 and done.headers["Location"].endswith("/groups/")
    assert signed_in(client, address)
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/account").text)})

    attempt(client, user.email, PASSWORD, address)
    assert second_step(client, codes[0].upper().replace("-", " "), address).status_code == 302  # as typed from paper
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/account").text)})
    attempt(client, user.email, PASSWORD, address)
    again = second_step(client, codes[0], address)
    assert again.status_code == 422 and not signed_in(client, address)
    assert mfa.recovery_codes_left(user) == 9


def test_a_code_signs_in_once_and_an_older_code_never(client, make_user, address, session):
    user = make_user("facilitator")
    key = mfa.new_key()
    totp = pyotp.TOTP(key)
    with time_machine.travel(clock.utc_now(), tick=False) as traveller:
        mfa.enable(user, key, totp.timecode(clock.utc_now()))  # set up with the code of this moment
        session.flush()
        attempt(client, user.email, PASSWORD, address)
        assert second_step(client, totp.now(), address).status_code == 422  # the code that set it up
        traveller.shift(timedelta(seconds=30))
        code = totp.now()
        assert second_step(client, code, address).status_code == 302
        client.post("/logout", data={"csrf_token": csrf_token(client.get("/account").text)})
        attempt(client, user.email, PASSWORD, address)
        reused = second_step(client, code, address)  # seen over a shoulder, typed again in the same minute
        assert reused.status_code == 422 and not signed_in(client, address)
        earlier = totp.at(clock.utc_now() - timedelta(seconds=30))  # still inside the drift window
        assert second_step(client, earlier, address).status_code == 422
        traveller.shift(timedelta(seconds=30))
        assert second_step(client, totp.now(), address).status_code == 302


def test_wrong_codes_count_toward_the_lockout(client, make_user, address):
    user = make_user("facilitator")
    mfa.enable(user, mfa.new_key())
    attempt(client, user.email, PASSWORD, address)
    statuses = [second_step(client, "12345x", address).status_code for _ in range(5)]
    assert statuses == [422] * 4 + [429]
    assert "auth.lockout" in actions(user)
    assert attempt(client, user.email, PASSWORD, address).status_code == 429


def test_staff_must_set_up_two_factor_first_when_the_program_requires_it(client, make_user, make_program,
                                                                         make_participant, address, session):
    program = make_program()
    program.require_mfa_staff = True
    staff = make_user("facilitator", program=program)
    session.flush()
    response = attempt(client, staff.email, PASSWORD, address)
    assert response.headers["Location"].endswith("/account/two-factor")
    elsewhere = client.get("/today")
    assert elsewhere.status_code == 302 and elsewhere.headers["Location"].endswith("/account/two-factor")
    setup = client.get("/account/two-factor")
    assert "Your program requires two-factor sign-in for staff" in setup.text
    with client.session_transaction() as browser_session:
        key = browser_session["mfa_new_key"]
    client.post("/account/two-factor", data={"code": pyotp.TOTP(key).now(), "csrf_token": csrf_token(setup.text)})
    assert client.get("/today").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/account").text)})

    person = make_participant(program)
    participant = make_user("participant", program=program, participant=person)
    assert attempt(client, participant.email, PASSWORD, address).headers["Location"].endswith("/")
    assert client.get("/account").status_code == 200  # participants are not asked
