"""A person's page is kept while attendance is saved for others, and built again when their own rows
change (or rows change in bulk, without saying whose); under test, a read said to be of some people's
rows must filter on them."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.engine import Engine

from facilitator import data_revision
from facilitator.attendance.models import Attendance
from facilitator.participants import pages

from .conftest import login
from .test_bad_input import browser_post

MONDAY = date(2026, 10, 5)  # a past day whatever date the run is frozen at


@pytest.fixture
def group_of_two(client, session, make_program, make_user, make_group, make_participant, monkeypatch):
    """Ana and Ben in one group, a facilitator signed in, and a count of participant pages built."""
    program = make_program()
    group = make_group(program, start=MONDAY)
    ana, ben = (make_participant(program, group, admitted=date(2026, 9, 20), name=n) for n in ("Ana", "Ben"))
    login(client, make_user("facilitator", program).email)
    built: list[int] = []
    real = pages.participant_page

    def counting(person, today, **kwargs):
        built.append(person.id)
        return real(person, today, **kwargs)

    monkeypatch.setattr(pages, "participant_page", counting)
    return group.id, ana.id, ben.id, built


def _save(client, group_id: int, ana: int, ben: int) -> None:
    """Save the Monday meeting's attendance through its form: each person's (status, minutes)."""
    url = f"/groups/{group_id}/meetings/{MONDAY.isoformat()}/1830/RP"
    fields = {}
    for i, (status, minutes) in enumerate(((ana and "present", ana), (ben and "present", ben))):
        fields |= {f"rows-{i}-status": status or "absent", f"rows-{i}-minutes": str(minutes), f"rows-{i}-note": ""}
    saved = browser_post(client, url, url + "/attendance", fields)
    assert saved.status_code == 302
    assert "Attendance saved" in client.get(saved.headers["Location"]).text  # as a browser follows it


def test_a_persons_page_is_kept_while_others_attendance_changes_and_built_when_theirs_does(
        client, session, group_of_two):
    group_id, ana, ben, built = group_of_two
    _save(client, group_id, 90, 90)
    session.expunge_all()  # as in a new request: nothing loaded before the page
    first = client.get(f"/participants/{ana}")
    assert first.status_code == 200 and built == [ana]

    _save(client, group_id, 90, 80)  # only Ben's line changes
    session.expunge_all()
    again = client.get(f"/participants/{ana}")
    assert again.status_code == 200 and built == [ana], "Ana's page is kept: only Ben's rows changed"
    assert client.get(f"/participants/{ben}").status_code == 200 and built == [ana, ben]

    _save(client, group_id, 60, 80)  # now Ana's: 60 of 90 minutes is too short for the module
    session.expunge_all()
    changed = client.get(f"/participants/{ana}")
    assert built == [ana, ben, ana], "Ana's page is built again after her own row changed"
    assert "60 of 90 min, too short for credit" in changed.text
    assert "too short for credit" not in first.text


def test_a_change_to_rows_that_does_not_say_whose_builds_every_persons_page_again(client, session, group_of_two):
    group_id, ana, _ben, built = group_of_two
    _save(client, group_id, 90, 90)
    session.expunge_all()
    client.get(f"/participants/{ana}")
    session.execute(update(Attendance).values(note="Seen"))  # one statement over many people's rows
    session.commit()
    session.expunge_all()
    client.get(f"/participants/{ana}")
    assert built == [ana, ana]


def test_under_test_a_read_of_some_peoples_rows_must_filter_on_them(app, session, group_of_two):
    _group_id, ana, ben, _built = group_of_two
    with app.test_request_context("/", method="GET"), data_revision.noting() as reads:
        with data_revision.people_rows([ana]):
            session.execute(select(Attendance.minutes).where(Attendance.participant_id == ana)).all()
            with pytest.raises(AssertionError, match="does not filter its rows on participant_id"):
                session.execute(select(Attendance.minutes)).all()
            with pytest.raises(AssertionError, match="does not filter its rows on participant_id"):
                session.execute(select(Attendance.minutes).where(Attendance.participant_id.in_([ana, ben]))).all()
    assert f"attendance/{ana}" in reads.names and "attendance" not in reads.names


def test_a_kept_page_asks_for_its_peoples_numbers_only_after_their_table_changed(client, session, group_of_two):
    group_id, ana, _ben, built = group_of_two
    _save(client, group_id, 90, 90)
    asked: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        if "person_revision" in statement and statement.lstrip().upper().startswith("SELECT"):
            asked.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        for _ in range(2):
            session.expunge_all()
            assert client.get(f"/participants/{ana}").status_code == 200
        assert built == [ana] and len(asked) == 1, "the second view reuses the page and the numbers read for it"
        _save(client, group_id, 90, 80)  # Ben's line: attendance changed, Ana's rows did not
        session.expunge_all()
        asked.clear()
        assert client.get(f"/participants/{ana}").status_code == 200
        assert built == [ana] and len(asked) == 1, "after a change to the table, her number is asked for again"
    finally:
        event.remove(Engine, "before_cursor_execute", count)
