"""The schema: migrations equal the models, and the database itself enforces integrity."""

from __future__ import annotations

from datetime import date, time

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.exc import IntegrityError

from facilitator.auth.models import User
from facilitator.curricula.models import PublishedVersionChanged
from facilitator.extensions import db
from facilitator.groups.models import Meeting
from facilitator.participants.models import Enrollment, Participant


def test_migrations_from_empty_equal_the_models(app, session):
    context = MigrationContext.configure(session.connection(), opts={"compare_type": True})
    assert compare_metadata(context, db.metadata) == []


def _refused(session, obj) -> None:
    with pytest.raises(IntegrityError):
        with session.begin_nested():
            session.add(obj)
            session.flush()


def test_unknown_role_is_refused_by_the_database(session, make_program):
    program = make_program()
    _refused(session, User(email="x@example.org", password_hash="h", display_name="X", role="admin",
                           program_id=program.id))


def test_participant_account_must_point_at_a_participant(session, make_program):
    program = make_program()
    _refused(session, User(email="p@example.org", password_hash="h", display_name="P", role="participant",
                           program_id=program.id))


def test_discharge_before_admission_is_refused(session, make_program, make_group, make_participant):
    program = make_program()
    group = make_group(program)
    person = make_participant(program)
    _refused(session, Enrollment(participant_id=person.id, group_id=group.id, admitted_on=date(2027, 2, 1),
                                 discharged_on=date(2027, 1, 1), discharge_reason="completed"))


def test_discharge_needs_a_national_reason_category(session, make_program, make_group, make_participant):
    program = make_program()
    group = make_group(program)
    person = make_participant(program)
    _refused(session, Enrollment(participant_id=person.id, group_id=group.id, admitted_on=date(2027, 1, 1),
                                 discharged_on=date(2027, 2, 1), discharge_reason="graduated"))
    _refused(session, Enrollment(participant_id=person.id, group_id=group.id, admitted_on=date(2027, 1, 1),
                                 discharged_on=date(2027, 2, 1)))


def test_record_numbers_are_unique_within_a_program(session, make_program):
    program = make_program()
    session.add(Participant(program_id=program.id, preferred_name="Ana", initials="AR", record_number="42"))
    session.flush()
    _refused(session, Participant(program_id=program.id, preferred_name="Ben", initials="BT", record_number="42"))


def test_foreign_keys_are_enforced(session):
    _refused(session, Participant(program_id=999_999, preferred_name="Ana", initials="AR", record_number="1"))


def test_held_meeting_must_name_its_module(session, make_program, make_group):
    group = make_group(make_program())
    _refused(session, Meeting(group_id=group.id, date=date(2027, 1, 4), start_time=time(18, 30),
                              track_code="RP", minutes=90, status="held"))


def test_a_published_version_cannot_change(session, matrix16):
    module = matrix16.tracks[0].modules[0]
    module.title = "Something else"
    with pytest.raises(PublishedVersionChanged):
        session.flush()
    session.rollback()
