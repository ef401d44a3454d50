"""The data revision: every commit that changes program data names a new state, reading never does,
and figures remembered at one state are never shown for another (the dashboard, a participant's
progress)."""

from __future__ import annotations

from datetime import date, time

import pytest
from sqlalchemy import delete, event, select, update

from facilitator import clock, data_revision
from facilitator.audit import services as audit
from facilitator.data_revision import DataRevision, TableRevision
from facilitator.extensions import db
from facilitator.groups.models import Meeting
from facilitator.participants.models import Participant
from facilitator.programs.models import Holiday
from facilitator.reports import services
from facilitator.reports.services import Period

from .conftest import login

START = date(2026, 9, 7)


def number(session) -> int:
    """The committed revision as the database holds it."""
    return session.scalar(select(DataRevision.number).where(DataRevision.id == 1))


def test_a_committed_change_names_a_new_state_and_reading_or_auditing_does_not(
        client, session, make_program, make_user, make_group, make_participant):
    program = make_program()
    user = make_user("facilitator", program)
    person = make_participant(program, make_group(program, start=START), admitted=START)
    session.commit()
    login(client, user.email)
    before = number(session)
    page = client.get(f"/participants/{person.id}")
    assert page.status_code == 200 and person.preferred_name in page.text
    audit.record("participant.note", "participant", person.id, user=user)  # an audit row alone
    session.commit()
    assert number(session) == before  # a page view (audited) and an audit row change no data
    person.preferred_name = "Renamed"
    session.commit()
    changed = number(session)
    assert changed != before
    session.add(Participant(program_id=program.id, preferred_name="New", initials="NW", record_number="R-new"))
    session.commit()
    assert number(session) not in (before, changed)


def _dashboard(app, program):
    """The dashboard as one read request computes it (its own app context: a fresh `g`)."""
    with app.app_context(), app.test_request_context("/reports/", method="GET"):
        return services.dashboard(program, Period(START, clock.today()), clock.today())


@pytest.fixture
def one_member(session, make_program, make_group, make_participant):
    """A program whose group has one member, committed (a state with its own revision)."""
    program = make_program()
    group = make_group(program, start=START)
    make_participant(program, group, admitted=START)
    session.commit()
    return program, group


def test_the_dashboard_is_reused_at_one_state_and_recomputed_after_a_change(app, session, one_member,
                                                                             make_participant):
    program, group = one_member
    statements: list[str] = []

    def counting(conn, cursor, statement, *args) -> None:
        if not statement.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO")):  # the test's own transaction
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", counting)
    try:
        first = _dashboard(app, program)
        computed = len(statements)
        again = _dashboard(app, program)
        reused = len(statements) - computed
        make_participant(program, group, admitted=START)
        session.commit()
        after = _dashboard(app, program)
    finally:
        event.remove(db.engine, "before_cursor_execute", counting)
    assert again is first and reused == 1, reused  # only the revision was read
    assert first.census.active == 1 and after.census.active == 2


def test_uncommitted_changes_are_never_served_from_what_was_remembered(app, session, one_member):
    program, _ = one_member
    calls: list[int] = []

    def active_now() -> int:
        calls.append(1)
        return len(session.scalars(select(Participant).where(Participant.program_id == program.id)).all())

    with app.test_request_context("/", method="GET"):
        assert data_revision.remembered("test", (program.id,), active_now) == 1
        assert data_revision.remembered("test", (program.id,), active_now) == 1 and len(calls) == 1
        session.add(Participant(program_id=program.id, preferred_name="Pending", initials="PE", record_number="R-p"))
        # Not flushed yet: reading the revision flushes it, and the transaction is then seen as changed.
        assert data_revision.remembered("test", (program.id,), active_now) == 2 and len(calls) == 2
    session.rollback()
    with app.app_context(), app.test_request_context("/", method="POST"):  # a save, before and after it writes
        assert data_revision.remembered("test", (program.id,), active_now) == 1 and len(calls) == 2
        session.add(Participant(program_id=program.id, preferred_name="Saved", initials="SA", record_number="R-s"))
        session.flush()
        assert data_revision.current() is None
        assert data_revision.remembered("test", (program.id,), active_now) == 2 and len(calls) == 3
        session.commit()
        assert data_revision.remembered("test", (program.id,), active_now) == 2 and len(calls) == 4


def _holidays_of(session, program_id: int, calls: list[int]) -> tuple[date, ...]:
    calls.append(1)
    return tuple(session.scalars(select(Holiday.date).where(Holiday.program_id == program_id).order_by(Holiday.date)))


def test_a_figure_naming_its_tables_outlives_changes_elsewhere_and_not_changes_to_them(app, session, one_member):
    program, _ = one_member
    session.add(Holiday(program_id=program.id, date=date(2026, 11, 26), name="Thanksgiving"))
    session.commit()
    calls: list[int] = []

    def holidays() -> tuple[date, ...]:
        with app.test_request_context("/", method="GET"):  # each read is a request of its own
            return data_revision.remembered("test holidays", (program.id,),
                                            lambda: _holidays_of(session, program.id, calls), reads=("holiday",))

    assert holidays() == (date(2026, 11, 26),) and len(calls) == 1
    person = session.scalars(select(Participant).where(Participant.program_id == program.id)).one()
    person.preferred_name = "Renamed"  # another table: the whole state changes, the holidays do not
    session.commit()
    assert holidays() == (date(2026, 11, 26),) and len(calls) == 1
    session.add(Holiday(program_id=program.id, date=date(2026, 12, 25), name="Christmas"))
    session.commit()
    assert holidays() == (date(2026, 11, 26), date(2026, 12, 25)) and len(calls) == 2


def test_a_table_without_a_number_follows_the_whole_state(app, session, one_member):
    program, _ = one_member
    # As for a table a later migration adds, until it is first written: any change counts for it.
    session.execute(delete(TableRevision).where(TableRevision.name == "holiday"))
    session.commit()
    calls: list[int] = []
    with app.test_request_context("/", method="GET"):
        data_revision.remembered("test holidays, never written", (program.id,),
                                 lambda: _holidays_of(session, program.id, calls), reads=("holiday",))
    person = session.scalars(select(Participant).where(Participant.program_id == program.id)).one()
    person.preferred_name = "Renamed"
    session.commit()
    with app.test_request_context("/", method="GET"):
        data_revision.remembered("test holidays, never written", (program.id,),
                                 lambda: _holidays_of(session, program.id, calls), reads=("holiday",))
    assert len(calls) == 2


def test_under_test_a_figure_reading_a_table_it_does_not_name_is_refused(app, session, one_member):
    program, _ = one_member

    def everyone() -> int:
        return len(session.scalars(select(Participant).where(Participant.program_id == program.id)).all())

    with app.test_request_context("/", method="GET"):
        with pytest.raises(AssertionError, match=r"'test people' read \['participant'\]"):
            data_revision.remembered("test people", (program.id,), everyone, reads=("holiday",))
        # Nor may it lean on a figure remembered for the whole state (that one changes with anything).
        with pytest.raises(AssertionError, match=r"'test outer' read \['\*'\]"):
            data_revision.remembered(
                "test outer", (program.id,),
                lambda: data_revision.remembered("test inner", (program.id,), everyone), reads=("participant",))


def _numbers(session) -> dict[str, int]:
    """Every table's committed number, and the whole state's under "*"."""
    return dict(session.execute(select(TableRevision.name, TableRevision.number)).all()) | {"*": number(session)}


def test_a_save_that_only_moves_a_meetings_attendance_version_keeps_what_its_calendar_is_read_from(
        session, one_member):
    _, group = one_member
    meeting = Meeting(group_id=group.id, date=START, start_time=time(18), track_code="ER", minutes=60)
    session.add(meeting)
    session.commit()
    before = _numbers(session)
    meeting.attendance_version += 1  # as a save with no version to claim does, through the ORM
    session.commit()
    by_orm = _numbers(session)
    assert by_orm["meeting"] == before["meeting"] and by_orm["*"] != before["*"]
    assert by_orm["meeting.bookkeeping"] != before.get("meeting.bookkeeping")
    # As a save claiming the version it was built from does: one conditional UPDATE.
    session.execute(update(Meeting).where(Meeting.id == meeting.id).values(attendance_version=7))
    session.commit()
    by_statement = _numbers(session)
    assert by_statement["meeting"] == before["meeting"] and by_statement["*"] != by_orm["*"]
    meeting.status = "cancelled"  # what a calendar shows: the meeting's own number changes
    session.commit()
    cancelled = _numbers(session)
    assert cancelled["meeting"] != before["meeting"]
    assert meeting.status == "cancelled"  # read, as a save reads the meeting it records
    meeting.status = "cancelled"  # then set again to the same value: nothing stored changes
    session.commit()
    assert _numbers(session) == cancelled


def test_under_test_a_figure_reading_a_meetings_bookkeeping_must_name_it(app, session, one_member):
    _, group = one_member
    session.add(Meeting(group_id=group.id, date=START, start_time=time(18), track_code="ER", minutes=60))
    session.commit()

    def versions() -> list[int]:  # whole rows: the attendance version comes with them
        return [m.attendance_version for m in session.scalars(select(Meeting).where(Meeting.group_id == group.id))]

    with app.test_request_context("/", method="GET"):
        with pytest.raises(AssertionError, match=r"'test versions' read \['meeting.bookkeeping'\]"):
            data_revision.remembered("test versions", (group.id,), versions, reads=("meeting",))
        assert data_revision.remembered("test versions", (group.id,), versions,
                                        reads=("meeting", "meeting.bookkeeping")) == [0]


def test_a_page_reads_the_numbers_before_anything_it_shows(client, session, one_member, make_user):
    """On PostgreSQL each statement sees the latest commit: read first, the numbers are never newer than
    the data a page is built from, so nothing is remembered under a state it does not show."""
    program, group = one_member
    user = make_user("facilitator", program)
    session.commit()
    login(client, user.email)
    group.name = "Tuesday evening"  # a change: the next page reads new numbers
    session.commit()
    page = f"/groups/{group.id}"
    statements: list[str] = []

    def record(conn, cursor, statement, *args) -> None:
        if not statement.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO")):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert client.get(page).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert "data_revision" in statements[0] and "table_revision" in statements[0], statements[:2]
