"""Set-password links by email, through a real SMTP server on 127.0.0.1 (aiosmtpd) started here:
invitations and "Forgot password?", whose answer is the same for any address."""

from __future__ import annotations

import email
import email.policy
import re
import socket
from collections.abc import Iterator
from datetime import timedelta

import pytest
import time_machine
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from facilitator import clock
from facilitator.audit.models import AuditEvent
from facilitator.auth import invites
from facilitator.auth.models import AccountToken
from facilitator.extensions import db

from .conftest import csrf_token, login
from .test_accounts import LINK


class Inbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802  (aiosmtpd's hook name)
        """Keep the message and its envelope recipients."""
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content,
                                                                                policy=email.policy.default)))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def inbox(app, monkeypatch) -> Iterator[Inbox]:
    """A real SMTP server on a free port of 127.0.0.1, and the app configured to send through it."""
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", controller.port)
    monkeypatch.setitem(app.config, "MAIL_DEFAULT_SENDER", "Harbor Clinic <no-reply@harbor.example>")
    try:
        yield handler
    finally:
        controller.stop()


def _body(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def test_an_invitation_is_emailed_to_the_person_with_the_link_and_no_health_information(
        client, inbox, make_user, make_participant):
    boss = make_user("director")
    login(client, boss.email)
    reply = client.post("/staff/invite", data={"csrf_token": csrf_token(client.get("/staff").text),
                                               "email": "nia@example.org", "name": "Nia", "role": "facilitator"})
    assert reply.status_code == 201 and "It was emailed to nia@example.org." in reply.text
    url = LINK.search(reply.text).group(1)
    assert len(inbox.messages) == 1
    recipients, message = inbox.messages[0]
    assert recipients == ["nia@example.org"] and message["To"] == "nia@example.org"
    assert message["From"] == "Harbor Clinic <no-reply@harbor.example>"
    assert url in _body(message) and boss.program.name in message["Subject"]

    person = make_participant(boss.program, name="Robin")
    page = f"/participants/{person.id}"
    client.post(f"{page}/portal", data={"csrf_token": csrf_token(client.get(page).text), "email": "robin@example.org"})
    recipients, message = inbox.messages[1]
    text = _body(message)
    assert recipients == ["robin@example.org"] and "/set-password/" in text
    # Nothing says treatment: not the program's name, the record, or the word participant.
    for secret in (boss.program.name, person.record_number, "participant", "treatment", "recovery"):
        assert secret.lower() not in (text + message["Subject"]).lower()


def test_forgot_password_emails_a_reset_link_to_an_active_account(client, inbox, make_user):
    user = make_user("facilitator")
    form = client.get("/forgot-password")
    reply = client.post("/forgot-password", data={"csrf_token": csrf_token(form.text), "email": user.email.upper()})
    assert reply.status_code == 200 and "Check your email" in reply.text
    recipients, message = inbox.messages[0]
    assert recipients == [user.email]
    token = _body(message).split("/set-password/")[1].split()[0]
    assert invites.find_link(token).purpose == "reset"
    assert client.get(f"/set-password/{token}").status_code == 200


def test_forgot_password_answers_the_same_page_for_unknown_and_deactivated_addresses_and_sends_nothing(
        client, inbox, make_user):
    known = make_user("facilitator")
    gone = make_user("facilitator", program=known.program)
    gone.active = False
    db.session.flush()

    def ask(address: str):
        form = client.get("/forgot-password")
        return client.post("/forgot-password", data={"csrf_token": csrf_token(form.text), "email": address})

    tokens_before = db.session.scalar(select(func.count()).select_from(AccountToken))
    unknown, deactivated = ask("nobody@example.org"), ask(gone.email)
    assert inbox.messages == []
    assert db.session.scalar(select(func.count()).select_from(AccountToken)) == tokens_before
    sent = ask(known.email)
    assert len(inbox.messages) == 1
    assert unknown.status_code == deactivated.status_code == sent.status_code == 200
    # The same page, byte for byte, but for the form's CSRF token: it is signed with the time, and the
    # three answers may fall on either side of a second.
    unknown, deactivated, sent = (re.sub(r'((?:csrf_token"(?: type="hidden")? value|data-csrf)=")[^"]+', r"\1",
                                         reply.text) for reply in (unknown, deactivated, sent))
    assert unknown == deactivated == sent


def test_without_mail_forgot_password_says_whom_to_ask(client, make_user):
    page = client.get("/forgot-password")
    assert "Ask your program's director" in page.text and 'name="email"' not in page.text
    assert "Forgot password?" in client.get("/login").text


def test_a_mail_server_that_is_down_leaves_the_link_on_the_page(client, app, monkeypatch, make_user):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", _free_port())  # nothing listens there
    boss = make_user("director")
    login(client, boss.email)
    reply = client.post("/staff/invite", data={"csrf_token": csrf_token(client.get("/staff").text),
                                               "email": "lee@example.org", "name": "Lee", "role": "facilitator"})
    assert reply.status_code == 201 and "could not be sent" in reply.text and LINK.search(reply.text)


def _ask_for_reset(client, address: str, remote: str):
    form = client.get("/forgot-password", environ_base={"REMOTE_ADDR": remote})
    return client.post("/forgot-password", data={"csrf_token": csrf_token(form.text), "email": address},
                       environ_base={"REMOTE_ADDR": remote})


def test_reset_emails_for_one_account_stop_after_three_an_hour_and_the_page_does_not_say_so(client, inbox, make_user):
    user = make_user("facilitator")
    with time_machine.travel(clock.utc_now(), tick=False) as traveller:
        answers = [_ask_for_reset(client, user.email, f"10.31.0.{n}") for n in range(1, 5)]
        assert len(inbox.messages) == 3  # the fourth, from yet another address, sends nothing
        assert {a.status_code for a in answers} == {200} and len({a.text for a in answers}) == 1
        throttled = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "auth.reset_throttled", AuditEvent.entity_id == user.id)).all()
        assert len(throttled) == 1
        traveller.shift(timedelta(minutes=61))
        _ask_for_reset(client, user.email, "10.31.0.9")
        assert len(inbox.messages) == 4  # an hour later a link can be asked for again


def test_one_network_may_ask_for_ten_resets_an_hour(client, inbox):
    for n in range(10):
        assert _ask_for_reset(client, f"nobody{n}@example.org", "10.32.0.1").status_code == 200
    refused = _ask_for_reset(client, "nobody@example.org", "10.32.0.1")
    assert refused.status_code == 429
    assert "Too many requests for a new password from this network. Wait an hour and try again." in refused.text
    assert _ask_for_reset(client, "nobody@example.org", "10.32.0.2").status_code == 200  # another network
    assert inbox.messages == []
