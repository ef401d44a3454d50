"""Core staff pages reused whole while nothing they show has changed (facilitator/web/remembered_pages.py):
the same page as a fresh one, audited again, with this request's CSRF token and a fresh "who opened
this record"; rebuilt after any change; never another person's, another language's or a stale one."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import event, func, select

from facilitator import clock
from facilitator.audit.models import AuditEvent
from facilitator.extensions import db
from facilitator.groups.calendars import group_calendar
from facilitator.meetings.services import AttendanceLine, save_attendance

from .conftest import csrf_token, login

TOKEN = re.compile(r'(csrf_token"(?: type="hidden")? value="|data-csrf=")[^"]+"')  # prefixed forms' too
OPENED = re.compile(r"<!--live:opened-->.*<!--/live:opened-->", re.S)


def _same_parts(html: str) -> str:
    """The page without what is made for each request: CSRF tokens and "who opened this record"."""
    return OPENED.sub("", TOKEN.sub(r'\1"', html))


def _audited() -> int:
    return db.session.scalar(select(func.count(AuditEvent.id)))


class Statements:
    """Counts the SQL statements of the requests made inside `with`."""

    def __enter__(self):
        self.count = 0
        event.listen(db.engine, "before_cursor_execute", self._seen)
        return self

    def _seen(self, *_args) -> None:
        self.count += 1

    def __exit__(self, *_exc) -> None:
        event.remove(db.engine, "before_cursor_execute", self._seen)


def _program_with_a_held_meeting(session, make_program, make_user, make_group, make_participant):
    program = make_program()
    user = make_user("facilitator", program)
    director = make_user("director", program)
    today = clock.today()
    start = today - timedelta(weeks=3, days=today.weekday())
    group = make_group(program, start=start)
    group.facilitator_id = user.id
    people = [make_participant(program, group, admitted=start, name=name) for name in ("Ana Reuse", "Ben Reuse")]
    held = [m for m in group_calendar(group, today).meetings if m.held and m.module and m.date < today]
    save_attendance(group, held[0], [AttendanceLine(p.id, "present", held[0].minutes) for p in people], "", {}, user)
    session.commit()
    # The meeting both were recorded at: on its roster whatever the track and the week (the clock varies by run).
    meeting = f"/groups/{group.id}/meetings/{held[0].date.isoformat()}/{held[0].time.replace(':', '')}/{held[0].track}"
    return user, director, group, people, meeting


def test_a_page_shown_again_is_the_same_page_audited_again(client, session, make_program, make_user, make_group,
                                                          make_participant):
    user, _director, group, people, meeting = _program_with_a_held_meeting(
        session, make_program, make_user, make_group, make_participant)
    login(client, user.email)
    for path in ("/today", meeting, f"/participants/{people[0].id}", f"/groups/{group.id}", "/participants/"):
        before = _audited()
        with Statements() as built:
            first = client.get(path)
        recorded = _audited() - before
        with Statements() as reused:
            second = client.get(path)
        assert first.status_code == second.status_code == 200, path
        assert _same_parts(second.text) == _same_parts(first.text), path
        assert reused.count < built.count, path  # reused, not built again
        assert _audited() - before == 2 * recorded and recorded > 0, path  # each view audited, the reused one too
        assert csrf_token(second.text) and second.text.count("csrf_token") == first.text.count("csrf_token")


def test_who_opened_the_record_is_counted_on_a_reused_page(client, session, make_program, make_user, make_group,
                                                          make_participant):
    user, _director, _group, people, _meeting = _program_with_a_held_meeting(
        session, make_program, make_user, make_group, make_participant)
    login(client, user.email)
    times = []
    for _ in range(3):
        section = OPENED.search(client.get(f"/participants/{people[0].id}").text).group(0)
        times.append(re.search(r"<td>Opened the participant page</td>\s*<td>(\d+)</td>", section).group(1))
    assert times == ["1", "2", "3"]


def test_a_reused_page_s_form_saves_from_another_browser(app, client, session, make_program, make_user, make_group,
                                                         make_participant):
    user, _director, _group, people, meeting = _program_with_a_held_meeting(
        session, make_program, make_user, make_group, make_participant)
    tablet = app.test_client()  # the same person on the group room's tablet: a session of its own
    login(client, user.email)
    login(tablet, user.email)  # (a sign-in changes the data: both first, so the tablet is served the reused page)
    with Statements() as built:
        client.get(meeting)
    with Statements() as reused:
        page = tablet.get(meeting).text  # reused, with this session's token in place of the first one's
    assert reused.count < built.count
    form = {"csrf_token": csrf_token(page), "version": re.search(r'name="version"[^>]*value="(\d+)"', page).group(1),
            "note": "Talked about triggers."}
    for index, person in enumerate(people):
        form |= {f"rows-{index}-participant_id": str(person.id), f"rows-{index}-status": "present",
                 f"rows-{index}-minutes": "90", f"rows-{index}-note": ""}
    saved = tablet.post(f"{meeting}/attendance", data=form, follow_redirects=True)
    assert saved.status_code == 200 and "Attendance saved for 2 people" in saved.text
    again = tablet.get(meeting).text  # built again after the change, and the message shown only once
    assert "Talked about triggers." in again and "Attendance saved" not in again


def test_a_change_shows_on_the_next_view(client, session, make_program, make_user, make_group, make_participant):
    user, _director, group, people, _meeting = _program_with_a_held_meeting(
        session, make_program, make_user, make_group, make_participant)
    login(client, user.email)
    assert "Evening group" in client.get(f"/groups/{group.id}").text
    assert "Evening group" in client.get(f"/groups/{group.id}").text
    group.name = "Tuesday group"
    people[1].preferred_name = "Benjamin Reuse"
    session.commit()  # another person's save, as the database has it
    assert "Tuesday group" in client.get(f"/groups/{group.id}").text
    assert "Benjamin Reuse" in client.get("/participants/").text


def test_each_person_and_language_gets_their_own_page(app, client, session, make_program, make_user, make_group,
                                                     make_participant):
    user, director, group, _people, _meeting = _program_with_a_held_meeting(
        session, make_program, make_user, make_group, make_participant)
    office = app.test_client()  # the director, at the same time
    phone = app.test_client()  # the facilitator again, on a phone that asks for Spanish
    phone.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es"
    for browser, person in ((client, user), (office, director), (phone, user)):
        login(browser, person.email)  # (a sign-in changes the data: all first, so that pages can be reused)
    edit = f'href="/groups/{group.id}/edit"'  # only a director may edit a group
    page = client.get(f"/groups/{group.id}").text
    assert edit not in page and "Members (2)" in page
    assert edit in office.get(f"/groups/{group.id}").text
    assert edit not in client.get(f"/groups/{group.id}").text
    spanish = phone.get(f"/groups/{group.id}").text  # no language saved for this person: the browser's
    assert 'lang="es"' in spanish and "Miembros (2)" in spanish and "Members (2)" not in spanish
    assert "Members (2)" in client.get(f"/groups/{group.id}").text
