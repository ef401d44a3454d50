"""Account management: invitations and set-password links (single use, expiry, stored as hashes),
the staff page (roles, deactivation, the last-director rule, two-factor reset), portal access from
the participant page, and the printed handout."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
import time_machine
from pypdf import PdfReader
from sqlalchemy import func, select

from facilitator import clock
from facilitator.audit.models import AuditEvent
from facilitator.auth import accounts, invites
from facilitator.auth.models import AccountToken, RecoveryCode, User
from facilitator.auth.services import AccountError
from facilitator.extensions import db

from .conftest import PASSWORD, csrf_token, login

NEW_PASSWORD = "lantern-orchard-violet"
LINK = re.compile(r'value="(https?://[^"]+/set-password/([^"]+))"')


@pytest.fixture
def director(make_user):
    """A signed-in director's client and account."""
    def sign_in(client, user):
        assert login(client, user.email).status_code in (302, 303), "sign-in failed"
        return user

    return sign_in


def _post(client, url: str, data: dict | None = None, page: str = "/staff"):
    return client.post(url, data={"csrf_token": csrf_token(client.get(page).text), **(data or {})})


def _link_from(html: str) -> tuple[str, str]:
    match = LINK.search(html)
    assert match, "no link on the page"
    return match.group(1), match.group(2)


def _actions(user_id: int) -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.entity == "user",
                                                                    AuditEvent.entity_id == user_id)
                                   .order_by(AuditEvent.id)))


def _set_password(client, token: str, password: str, confirm: str | None = None):
    form = client.get(f"/set-password/{token}")
    return client.post(f"/set-password/{token}", data={"csrf_token": csrf_token(form.text), "password": password,
                                                       "confirm": password if confirm is None else confirm})


def test_an_invited_facilitator_sets_a_password_from_the_link_and_signs_in(app, client, make_user, director):
    boss = director(client, make_user("director"))
    reply = _post(client, "/staff/invite", {"email": "New.Counselor@Example.org", "name": "Nia Counselor",
                                            "role": "facilitator"})
    assert reply.status_code == 201
    url, token = _link_from(reply.text)
    assert url.startswith(app.config["APP_BASE_URL"]) and reply.headers["Cache-Control"] == "no-store"
    person = db.session.scalar(select(User).where(User.email == "new.counselor@example.org"))
    assert person.password_hash is None and person.program_id == boss.program_id and person.role == "facilitator"
    newcomer = app.test_client()
    assert login(newcomer, person.email, "no-password-yet").status_code == 422  # no password yet: no way in
    form = newcomer.get(f"/set-password/{token}")
    assert form.status_code == 200 and "Welcome, Nia Counselor" in form.text and "at least 12 characters" in form.text
    done = _set_password(newcomer, token, NEW_PASSWORD)
    assert done.status_code == 303 and done.headers["Location"].endswith("/login")
    assert login(newcomer, person.email, NEW_PASSWORD).status_code in (302, 303)
    assert [a for a in _actions(person.id) if a in ("auth.invite", "auth.password_set")] == \
        ["auth.invite", "auth.password_set"]


def test_the_token_is_stored_only_as_its_hash(client, make_user, director):
    director(client, make_user("director"))
    _, token = _link_from(_post(client, "/staff/invite", {"email": "hash@example.org", "name": "Hash Only",
                                                          "role": "facilitator"}).text)
    stored = db.session.scalar(select(AccountToken.token_hash).order_by(AccountToken.id.desc()))
    assert stored == invites.token_hash(token) and len(stored) == 64
    for table in db.metadata.sorted_tables:  # every value of every row of every table
        for row in db.session.execute(select(table)):
            assert not any(token in str(value) for value in row), table.name


def test_a_link_works_once(client, make_user):
    user = make_user("facilitator")
    link = invites.make_link(user, "reset")
    assert _set_password(client, link.token, NEW_PASSWORD).status_code == 303
    again = client.get(f"/set-password/{link.token}")
    assert again.status_code == 410 and "already been used" in again.text
    with pytest.raises(invites.LinkError) as refused:
        invites.use_link(link.token, "another-good-passphrase")
    assert refused.value.reason == "used" and user.check_password(NEW_PASSWORD)


def test_a_link_expires_after_72_hours(client, make_user):
    user = make_user("facilitator")
    program = user.program
    program.phone = "(555) 010-2000"
    link = invites.make_link(user, "invite")
    with time_machine.travel(clock.utc_now() + timedelta(hours=71, minutes=59)):
        assert invites.find_link(link.token).user_id == user.id
    with time_machine.travel(clock.utc_now() + timedelta(hours=72, minutes=1)):
        page = client.get(f"/set-password/{link.token}")
        assert page.status_code == 410 and "expired" in page.text and "(555) 010-2000" in page.text
        with pytest.raises(invites.LinkError, match="expired"):
            invites.use_link(link.token, NEW_PASSWORD)
    assert user.check_password(PASSWORD)  # unchanged


def test_a_new_link_voids_the_older_unused_one(client, make_user):
    user = make_user("facilitator")
    first, second = invites.make_link(user, "reset"), invites.make_link(user, "reset")
    assert client.get(f"/set-password/{first.token}").status_code == 410
    assert client.get(f"/set-password/{second.token}").status_code == 200


def test_an_unknown_link_says_so_and_whom_to_ask(client):
    page = client.get("/set-password/not-a-real-token")
    assert page.status_code == 404 and "not a set-password link we know" in page.text
    assert page.headers["Referrer-Policy"] == "no-referrer"


def test_password_rules_are_shown_and_each_refusal_is_tied_to_its_field(client, make_participant, make_program):
    program = make_program()
    person = make_participant(program)
    link = accounts.give_portal(person, "robin@example.org").link
    form = client.get(f"/set-password/{link.token}")
    assert "at least 8 characters" in form.text  # a participant's minimum
    for password, confirm, message in (("short", None, "Use at least 8 characters."),
                                       ("password1", None, "That password is too common"),
                                       ("good-passphrase", "good-passphrase!", "The two passwords do not match.")):
        reply = _set_password(client, link.token, password, confirm)
        assert reply.status_code == 422 and message in reply.text
        assert 'aria-invalid="true"' in reply.text
    assert client.get(f"/set-password/{link.token}").status_code == 200  # still unused


def test_staff_page_lists_role_status_last_sign_in_in_program_time_and_two_factor(client, make_user, director):
    boss = director(client, make_user("director"))
    colleague = make_user("facilitator", program=boss.program)
    colleague.last_login_at = clock.naive_utc_now().replace(hour=3, minute=30)  # 03:30 UTC: the evening before in LA
    colleague.totp_secret, colleague.mfa_enabled_at = "JBSWY3DPEHPK3PXP", clock.naive_utc_now()
    stranger = make_user("facilitator")  # another program
    page = client.get("/staff")
    assert page.status_code == 200
    assert colleague.email in page.text and stranger.email not in page.text
    evening = (colleague.last_login_at - timedelta(hours=8 if _winter(colleague.last_login_at) else 7))
    assert evening.strftime("%-I:%M %p") in page.text
    row = page.text[page.text.index(colleague.email):]
    assert '<td data-label="Two-factor">On</td>' in row[:2000] and "Reset two-factor" in row[:3000]


def _winter(moment) -> bool:
    from zoneinfo import ZoneInfo

    return moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo("America/Los_Angeles")).utcoffset() == \
        timedelta(hours=-8)


def test_only_directors_manage_staff_and_only_their_own_programs(client, make_user, director):
    counselor = make_user("facilitator")
    login(client, counselor.email)
    assert client.get("/staff").status_code == 403
    boss = client.application.test_client()
    director(boss, make_user("director"))
    other = make_user("facilitator")
    assert _post(boss, f"/staff/{other.id}/deactivate").status_code == 404
    assert other.active


def test_the_last_active_director_cannot_be_deactivated_or_demoted(client, make_user, director):
    boss = director(client, make_user("director"))
    refused = _post(client, f"/staff/{boss.id}/deactivate")
    assert refused.status_code == 409 and "only active director" in refused.text
    assert _post(client, f"/staff/{boss.id}/role", {"role": "facilitator"}).status_code == 409
    assert boss.active and boss.role == "director"

    second = make_user("director", program=boss.program)
    assert _post(client, f"/staff/{second.id}/deactivate").status_code == 303
    with pytest.raises(AccountError, match="only active director"):
        accounts.deactivate(boss)  # the other director is deactivated now: boss is the last again
    accounts.activate(second)
    accounts.deactivate(boss, acting_user=second)  # two active directors: one may go, even oneself
    assert not boss.active


def test_deactivation_ends_sign_in_sessions_and_links_and_reactivation_restores_sign_in(client, make_user, director):
    boss = director(client, make_user("director"))
    counselor = make_user("facilitator", program=boss.program)
    link = invites.make_link(counselor, "reset")
    epoch = counselor.session_epoch
    assert _post(client, f"/staff/{counselor.id}/deactivate").status_code == 303
    assert not counselor.active and counselor.deactivated_at is not None and counselor.session_epoch == epoch + 1
    with pytest.raises(invites.LinkError):
        invites.find_link(link.token)
    assert "Deactivated" in client.get("/staff").text
    assert _post(client, f"/staff/{counselor.id}/reset").status_code == 409  # reactivate first

    other = client.application.test_client()
    assert login(other, counselor.email).status_code == 422
    assert _post(client, f"/staff/{counselor.id}/activate").status_code == 303
    assert login(other, counselor.email).status_code in (302, 303)
    assert [a for a in _actions(counselor.id) if a.endswith("activate")] == ["auth.deactivate", "auth.activate"]


def test_a_director_changes_a_role(client, make_user, director):
    boss = director(client, make_user("director"))
    counselor = make_user("facilitator", program=boss.program)
    assert _post(client, f"/staff/{counselor.id}/role", {"role": "director"}).status_code == 303
    assert counselor.role == "director"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "auth.role_change"))
    assert event.detail == {"before": "facilitator", "after": "director"} and event.user_id == boss.id
    assert _post(client, f"/staff/{counselor.id}/role", {"role": "participant"}).status_code == 400


def test_resetting_two_factor_removes_the_key_and_recovery_codes(client, make_user, director):
    boss = director(client, make_user("director"))
    counselor = make_user("facilitator", program=boss.program)
    counselor.totp_secret, counselor.mfa_enabled_at = "JBSWY3DPEHPK3PXP", clock.naive_utc_now()
    db.session.add_all([RecoveryCode(user_id=counselor.id, code_hash=f"h{n}") for n in range(10)])
    db.session.flush()
    assert _post(client, f"/staff/{counselor.id}/mfa-reset").status_code == 303
    assert not counselor.mfa_enabled and counselor.totp_secret is None
    assert db.session.scalar(select(func.count()).select_from(RecoveryCode)
                             .where(RecoveryCode.user_id == counselor.id)) == 0
    assert "auth.mfa_reset" in _actions(counselor.id)


def test_a_new_link_for_a_staff_member_is_shown_once(client, make_user, director):
    boss = director(client, make_user("director"))
    counselor = make_user("facilitator", program=boss.program)
    reply = _post(client, f"/staff/{counselor.id}/reset")
    _, token = _link_from(reply.text)
    assert token not in client.get("/staff").text
    assert _set_password(client.application.test_client(), token, NEW_PASSWORD).status_code == 303


def test_inviting_an_existing_email_is_refused_next_to_the_field(client, make_user, director):
    boss = director(client, make_user("director"))
    reply = _post(client, "/staff/invite", {"email": boss.email.upper(), "name": "Twin", "role": "facilitator"})
    assert reply.status_code == 422 and "There is already an account with the email" in reply.text
    assert db.session.scalar(select(func.count()).select_from(User).where(User.display_name == "Twin")) == 0


def test_portal_access_is_given_removed_and_given_again_from_the_participant_page(client, make_user, director,
                                                                                make_participant):
    boss = director(client, make_user("director"))
    person = make_participant(boss.program, name="Robin")
    page = f"/participants/{person.id}"
    assert "Give portal access" in client.get(page).text
    missing = _post(client, f"{page}/portal", {"email": ""}, page=page)
    assert missing.status_code == 303 and "Enter the email address Robin will sign in with." in client.get(page).text
    reply = _post(client, f"{page}/portal", {"email": "robin@example.org"}, page=page)
    assert reply.status_code == 201
    _, token = _link_from(reply.text)
    account = accounts.portal_account(person)
    assert account.role == "participant" and account.display_name == "Robin" and account.active
    assert "Remove portal access" in client.get(page).text

    assert _post(client, f"{page}/portal/remove", page=page).status_code == 303
    assert not account.active and client.get(f"/set-password/{token}").status_code == 410
    again = _post(client, f"{page}/portal", {"email": ""}, page=page)  # the same account, a new link
    assert again.status_code == 201 and account.active and accounts.portal_account(person).id == account.id
    events = db.session.scalars(select(AuditEvent.action).where(AuditEvent.participant_id == person.id,
                                                                AuditEvent.action.like("auth.%")))
    assert {"auth.invite", "auth.portal_granted", "auth.portal_removed"} <= set(events)


def _handout(client, token: str, page: str = "/staff"):
    return client.post("/account-links/handout", data={"csrf_token": csrf_token(client.get(page).text), "token": token})


def test_the_handout_is_a_one_page_pdf_with_the_link_its_qr_code_and_the_notice(client, make_user, director,
                                                                                make_participant):
    boss = director(client, make_user("director"))
    boss.program.phone = "(555) 010-3000"
    person = make_participant(boss.program, name="Robin")
    link = accounts.give_portal(person, "robin@example.org").link
    reply = _handout(client, link.token)
    assert reply.status_code == 200 and reply.mimetype == "application/pdf"
    assert reply.headers["Cache-Control"] == "no-store"
    pdf = PdfReader(io.BytesIO(reply.data))
    assert len(pdf.pages) == 1
    text = " ".join(pdf.pages[0].extract_text().split())
    assert link.url in text.replace(" ", "") or link.url in text
    assert "For Robin" in text and "(555) 010-3000" in text and "42 CFR" in text
    assert person.record_number not in text and "robin@example.org" not in text  # no more than the name
    images = pdf.pages[0].images
    assert len(images) == 1 and images[0].image.size[0] >= 250  # the QR code, about 37 modules of 10 px

    staff_link = invites.make_link(make_user("facilitator", program=boss.program), "invite")
    staff_text = PdfReader(io.BytesIO(_handout(client, staff_link.token).data)).pages[0].extract_text()
    assert "42 CFR" not in staff_text


def test_a_handout_is_refused_for_a_used_or_foreign_link_and_a_facilitator_prints_only_participants(
        client, make_user, director, make_participant):
    counselor = make_user("facilitator")
    login(client, counselor.email)
    foreign = invites.make_link(make_user("facilitator"), "invite")
    assert _handout(client, foreign.token, "/participants/").status_code == 404
    colleague = invites.make_link(make_user("director", program=counselor.program), "invite")
    assert _handout(client, colleague.token, "/participants/").status_code == 404
    own = accounts.give_portal(make_participant(counselor.program), "p@example.org").link
    assert _handout(client, own.token, "/participants/").status_code == 200
    invites.use_link(own.token, NEW_PASSWORD)
    assert _handout(client, own.token, "/participants/").status_code == 410


def test_create_user_applies_the_password_rules(make_program):
    from facilitator.auth.services import create_user

    with pytest.raises(AccountError, match="at least 12"):
        create_user(make_program(), "short@example.org", "eleven-char", "facilitator", "Short")
    with pytest.raises(AccountError, match="too common"):
        create_user(make_program(), "common@example.org", "password1234", "director", "Common")
