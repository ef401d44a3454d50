"""The signed-in person's account and program, kept by a process between requests while neither table
changes: the request after any change to them reads them again (a deactivation, a raised epoch, a new
idle limit), and the password hash is never kept.

Each request here runs in an app context of its own, so it starts with an empty session as in use (the
tests' shared context would keep the account loaded from one request to the next)."""

from __future__ import annotations

import re

from sqlalchemy import event

from facilitator.auth.models import User
from facilitator.extensions import db

from .conftest import PASSWORD, csrf_token, login

# The one statement that reads a signed-in person's account with their program (auth.services).
READS_ACCOUNT = re.compile(r"FROM user_account LEFT OUTER JOIN program\b")
NEW_PASSWORD = "lantern-orchard-nineteen"


def on_own(app, work):
    """Run a client's requests in an app context of their own; return the answer and the statements sent."""
    sent: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        with app.app_context():
            answer = work()
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
    return answer, sent


def reads_account(sent: list[str]) -> bool:
    """Whether the request read the signed-in account from the database."""
    return any(READS_ACCOUNT.search(statement) for statement in sent)


def signed_in(app, session, make_user, role: str = "facilitator", program=None):
    """A committed account, signed in on a browser of its own, whose first page has been read."""
    user = make_user(role, program=program)
    session.commit()  # in use, an account exists before anyone signs in with it
    browser = app.test_client()
    on_own(app, lambda: login(browser, user.email))
    first, sent = on_own(app, lambda: browser.get("/today"))
    assert first.status_code == 200 and reads_account(sent)
    return user, browser


def test_the_next_page_uses_the_account_this_process_read_while_nothing_about_it_changed(app, session, make_user):
    user, browser = signed_in(app, session, make_user)
    again, sent = on_own(app, lambda: browser.get("/today"))
    assert again.status_code == 200 and not reads_account(sent)
    assert f"{user.display_name} <span class=\"role\">facilitator</span>" in again.text
    assert 'data-remaining-seconds="900"' in again.text  # the program's idle limit, 15 minutes


def test_a_deactivation_by_a_director_ends_the_session_at_its_next_request(app, session, make_user):
    user, browser = signed_in(app, session, make_user)
    assert not reads_account(on_own(app, lambda: browser.get("/today"))[1])  # kept
    boss, director = signed_in(app, session, make_user, "director", program=user.program)

    def deactivate():
        return director.post(f"/staff/{user.id}/deactivate",
                             data={"csrf_token": csrf_token(director.get("/staff").text)})

    assert on_own(app, deactivate)[0].status_code == 303
    ended, sent = on_own(app, lambda: browser.get("/today"))
    assert ended.status_code == 302 and "/login" in ended.headers["Location"] and reads_account(sent)
    told, _ = on_own(app, lambda: browser.get("/login"))
    assert "this account can no longer sign in" in told.text


def test_a_raised_epoch_ends_the_session_at_its_next_request(app, session, make_user):
    user, browser = signed_in(app, session, make_user)
    assert not reads_account(on_own(app, lambda: browser.get("/today"))[1])
    session.get(User, user.id).session_epoch += 1  # what "sign out everywhere else" does elsewhere
    session.commit()
    ended, _ = on_own(app, lambda: browser.get("/today"))
    assert ended.status_code == 302 and "/login" in ended.headers["Location"]
    told, _ = on_own(app, lambda: browser.get("/login"))
    assert "your sessions were ended" in told.text


def test_a_new_idle_limit_of_the_program_holds_from_the_next_page(app, session, make_user):
    user, browser = signed_in(app, session, make_user)
    assert 'data-remaining-seconds="900"' in on_own(app, lambda: browser.get("/today"))[0].text
    session.get(User, user.id).program.idle_minutes_staff = 10
    session.commit()
    page, sent = on_own(app, lambda: browser.get("/today"))
    assert 'data-remaining-seconds="600"' in page.text and reads_account(sent)


def test_a_password_change_works_from_a_kept_account_whose_hash_was_never_kept(app, session, make_user):
    user, browser = signed_in(app, session, make_user)
    page, sent = on_own(app, lambda: browser.get("/account"))
    assert not reads_account(sent) and not any("password_hash" in statement for statement in sent)

    def change():
        return browser.post("/account/password", data={"current": PASSWORD, "new": NEW_PASSWORD,
                                                       "confirm": NEW_PASSWORD, "csrf_token": csrf_token(page.text)})

    changed, sent = on_own(app, change)
    assert changed.status_code == 302 and any("password_hash" in statement for statement in sent)
    elsewhere = app.test_client()
    assert on_own(app, lambda: login(elsewhere, user.email, NEW_PASSWORD))[0].status_code == 302
    assert on_own(app, lambda: login(app.test_client(), user.email))[0].status_code == 422
