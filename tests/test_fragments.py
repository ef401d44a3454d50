"""HTML fragments kept by the values they show (the progress grid, the hours chart, a group's calendar):
reused for the same values in the same language, rendered again for other values or another language,
and never kept for a key that cannot be compared."""

from __future__ import annotations

import re
from datetime import date, timedelta

from flask_babel import force_locale

from facilitator import clock
from facilitator.groups.calendars import group_calendar
from facilitator.meetings.services import AttendanceLine, save_attendance
from facilitator.web.fragments import remembered_html

from .conftest import csrf_token, login


def test_a_fragment_is_reused_for_the_same_values_and_language_only(app):
    renders: list[int] = []

    def caller() -> str:
        renders.append(1)
        return f"<p>render {len(renders)}</p>"

    with app.test_request_context("/"):
        first = remembered_html("test fragment", (1, date(2027, 1, 4)), caller=caller)
        assert remembered_html("test fragment", (1, date(2027, 1, 4)), caller=caller) == first
        assert remembered_html("test fragment", (2, date(2027, 1, 4)), caller=caller) != first  # other values
        with force_locale("es"):
            assert remembered_html("test fragment", (1, date(2027, 1, 4)), caller=caller) != first  # Spanish
        assert remembered_html("test fragment", [1], caller=caller) != remembered_html("test fragment", [1],
                                                                                      caller=caller)
    assert len(renders) == 5  # the unhashable key rendered both times


def _grid_states(html: str) -> list[str]:
    """The state words of each cell of the progress grid, in order."""
    return re.findall(r'<span class="pt-state"><span class="pt-sym" aria-hidden="true">.</span>\s*([^<\d]+?)\s',
                      html)


def test_the_progress_grid_follows_the_language_and_the_record(client, session, make_program, make_user,
                                                              make_group, make_participant):
    program = make_program()
    user = make_user("facilitator", program)
    today = clock.today()
    start = today - timedelta(weeks=3, days=today.weekday())
    group = make_group(program, start=start)
    person = make_participant(program, group, admitted=start, name="Grid Person")
    session.commit()
    login(client, user.email)
    page = client.get(f"/participants/{person.id}").text
    english = _grid_states(page)
    assert english and "Acreditado" not in page and "Credited" not in english  # nothing recorded yet
    assert _grid_states(client.get(f"/participants/{person.id}").text) == english  # the same again (reused)

    token = csrf_token(page)
    client.post("/language", data={"language": "es", "next": "/today", "csrf_token": token})
    spanish = _grid_states(client.get(f"/participants/{person.id}").text)
    assert len(spanish) == len(english) and not set(spanish) & {"Missed", "Coming", "Not yet scheduled"}

    held = next(m for m in group_calendar(group, today - timedelta(days=1)).meetings if m.held and m.module)
    save_attendance(group, held, [AttendanceLine(person.id, "present", held.minutes)], "", {}, user)
    session.commit()
    assert "Acreditado" in _grid_states(client.get(f"/participants/{person.id}").text)
