"""The schema: migrations equal the models, and the database itself enforces integrity."""

from __future__ import annotations

from datetime import date, time

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
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


def test_upgrading_a_sqlite_database_that_holds_rows_keeps_them_and_their_references(tmp_path):
    """Later migrations rebuild tables (SQLite's batch mode); a database in use must come through
    whole: every row kept, every reference still pointing at its row."""
    from flask_migrate import upgrade

    from facilitator import create_app
    from facilitator.curricula.services import find_version
    from facilitator.setup_cli import load_shipped_curricula

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/in-use.sqlite", "SECRET_KEY": "x"})
    with app.app_context():
        upgrade(revision="0001")
        # The curricula are loaded through today's models, whose language columns (0010) 0001 lacks:
        # added for the load, then dropped again so that 0010 adds them to tables holding rows. So are the
        # data revisions (0011, 0012) that a commit of today's models sets.
        later = [("curriculum_version", "translations", "'{}'"), ("track", "translations", "'{}'"),
                 ("module", "translations", "'{}'"), ("worksheet", "translations", "'{}'")]
        for table, column, default in later:
            db.session.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} JSON NOT NULL DEFAULT {default}"))
        db.session.execute(text("CREATE TABLE data_revision (id INTEGER PRIMARY KEY, number BIGINT NOT NULL)"))
        db.session.execute(text("CREATE TABLE table_revision (name VARCHAR(64) PRIMARY KEY, number BIGINT NOT NULL)"))
        load_shipped_curricula()
        # Rows as 0001 knew them (today's models have columns 0001 lacks, so plain SQL).
        db.session.execute(text(
            "INSERT INTO program (slug, name, timezone, hours_floor_minutes, absence_alert_consecutive, "
            "attendance_alert_rate, page_size, signin_naming, billable_minimum_minutes, service_code, revenue_code, "
            "created_at) VALUES ('old', 'Old Program', 'America/Chicago', 540, 2, 0.75, 'letter', 'preferred', 180, "
            "'H0015', '0906', '2027-01-01 00:00:00')"))
        program_id = db.session.execute(text("SELECT id FROM program")).scalar_one()
        for code, position in (("present", 0), ("absent", 1), ("phone", 1000)):  # 0001 retired from 1000 on
            db.session.execute(text(
                "INSERT INTO attendance_status (program_id, code, label, counts_attended, counts_hours, excused, "
                "billable, is_default, position) VALUES (:p, :c, :c, :a, :a, 0, :a, :d, :n)"),
                {"p": program_id, "c": code, "a": code != "absent", "d": code == "present", "n": position})
        db.session.execute(text(
            "INSERT INTO care_group (program_id, name, version_id, mode, start_date, cancellation_policy, "
            "starting_modules, location, active, created_at) VALUES (:p, 'Evening', :v, 'open', '2027-01-04', "
            "'postpone', '{}', '', 1, '2027-01-01 00:00:00')"), {"p": program_id, "v": find_version("matrix-16").id})
        group_id = db.session.execute(text("SELECT id FROM care_group")).scalar_one()
        db.session.execute(text(
            "INSERT INTO participant (program_id, preferred_name, initials, record_number, language, created_at) "
            "VALUES (:p, 'Ana', 'AR', '1', 'en', '2027-01-01 00:00:00')"), {"p": program_id})
        person_id = db.session.execute(text("SELECT id FROM participant")).scalar_one()
        db.session.add(Enrollment(participant_id=person_id, group_id=group_id, admitted_on=date(2027, 1, 4)))
        db.session.flush()
        for table, column, _ in later:
            db.session.execute(text(f"ALTER TABLE {table} DROP COLUMN {column}"))
        db.session.commit()
        db.session.execute(text("DROP TABLE data_revision"))
        db.session.execute(text("DROP TABLE table_revision"))
        db.session.commit()
        upgrade()
        joined = db.session.execute(text(
            "SELECT participant.preferred_name, care_group.name, care_group.feed_token FROM enrollment "
            "JOIN participant ON participant.id = enrollment.participant_id "
            "JOIN care_group ON care_group.id = enrollment.group_id")).all()
        assert joined == [("Ana", "Evening", None)]
        assert db.session.execute(text("PRAGMA foreign_key_check")).all() == []
        statuses = db.session.execute(text("SELECT code, retired, position FROM attendance_status ORDER BY code")).all()
        assert statuses == [("absent", 0, 1), ("phone", 1, 0), ("present", 0, 0)], "retired by flag now"
        assert db.session.execute(text("PRAGMA foreign_keys")).scalar_one() == 1, "back on for the app"
        db.engine.dispose()
