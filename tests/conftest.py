"""Fixtures in the flaskr/Indico style: one migrated database per run, a rolled-back transaction
per test, factory fixtures, and a query counter.

The database is SQLite in a temporary folder unless TEST_DATABASE_URL points at PostgreSQL
(`make test` runs the suite once on each).
"""

from __future__ import annotations

import os
import re
import threading
import time as clock
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time

import pytest
import time_machine
from flask import g, request_started
from flask_migrate import upgrade
from sqlalchemy import create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import scoped_session, sessionmaker

from facilitator import create_app
from facilitator.auth.services import create_user
from facilitator.config import TestConfig
from facilitator.extensions import db
from facilitator.setup_cli import load_shipped_curricula

PASSWORD = "correct-horse-battery"

# The test process and its subprocesses keep the programs' zone (America/Los_Angeles by default).
os.environ["TZ"] = "America/Los_Angeles"
clock.tzset()

# The whole run sees one fixed moment, moving on from there as time passes (the live test server's
# thread included). CI runs the date-sensitive tests again under other moments (New Year's Eve, the
# Sunday of a daylight-saving change, a leap day): `FACILITATOR_TEST_NOW=2028-02-29T12:00:00-08:00`.
DEFAULT_TEST_NOW = "2026-12-02T12:00:00-08:00"  # a Wednesday


def _test_moment() -> datetime:
    moment = datetime.fromisoformat(os.environ.get("FACILITATOR_TEST_NOW") or DEFAULT_TEST_NOW)
    if moment.tzinfo is None:
        raise pytest.UsageError("FACILITATOR_TEST_NOW needs a UTC offset, e.g. 2026-12-06T12:00:00-08:00")
    return moment


# Moved when this file is imported, before any test module or lower conftest: their module-level
# dates see the frozen day too.
_traveller = time_machine.travel(_test_moment(), tick=True)
_traveller.start()


# Test modules whose outcome does not depend on the day (pure domain examples with dates written out,
# curriculum content and editing, schema, blank and tagged documents, input rules, access codes,
# headers, account commands, serving and deployment): the extra date runs (`make test-dates`) skip
# them to keep `make test` near 20 minutes. Everything else (scheduling, meetings, make-ups, alerts,
# reports and exports, calendars, progress documents, sign-in timing, every browser test) runs there.
UNDATED = ("tests/domain/", "tests/test_curriculum_cli.py", "tests/test_schema.py", "tests/test_curriculum_editing.py",
           "tests/test_curricula_web.py", "tests/test_bad_input.py", "tests/test_settings.py",
           "tests/test_program_details.py", "tests/test_access_matrix.py", "tests/test_security_headers.py",
           "tests/test_account_cli.py", "tests/test_account_mail.py", "tests/test_web_shell.py",
           "tests/test_deploy_doc.py", "tests/test_serving.py", "tests/test_reports_scale.py",
           "tests/test_queue_jobs.py", "tests/documents/test_handbook.py", "tests/documents/test_sandbox.py",
           "tests/documents/test_worksheets.py", "tests/documents/test_tagged.py", "tests/documents/test_service.py",
           "tests/test_translations.py", "tests/test_spanish_pages.py", "tests/documents/test_spanish_fit.py",
           "tests/test_curriculum_languages.py")


def pytest_collection_modifyitems(config, items):
    """Mark the tests of UNDATED modules `undated`."""
    root = config.rootpath
    for item in items:
        where = item.path.relative_to(root).as_posix()
        if where.startswith(UNDATED):
            item.add_marker(pytest.mark.undated)


def pytest_unconfigure(config):
    """Give the process its real clock back."""
    if _traveller is not None:
        _traveller.stop()


def pytest_report_header(config):
    """Say which moment the run is frozen at (it explains a date in any failure)."""
    return f"clock: {os.environ.get('FACILITATOR_TEST_NOW') or DEFAULT_TEST_NOW} (FACILITATOR_TEST_NOW)"


def server_database_url(suffix: str = "") -> str | None:
    """The PostgreSQL database for this test process (None on SQLite): TEST_DATABASE_URL itself, or
    a database of its own per pytest-xdist worker (and per suffix, e.g. the live server's), created
    empty."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        return None
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker and not suffix:
        return base
    url = make_url(base)
    name = "_".join(part for part in (url.database, worker, suffix) if part)
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def _config(tmp_root: str) -> dict:
    url = server_database_url() or f"sqlite:///{tmp_root}/test.sqlite"
    config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    config["SQLALCHEMY_DATABASE_URI"] = url
    config["DOCUMENT_CACHE_DIR"] = f"{tmp_root}/document-cache"  # never the checkout's instance/
    return config


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    """The app on a migrated database with the shipped curricula loaded (once per run)."""
    root = tmp_path_factory.mktemp("db")
    application = create_app(_config(str(root)))
    with application.app_context():
        db.drop_all()  # a PostgreSQL test database may hold a previous run's tables
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        upgrade()
        load_shipped_curricula()
        db.session.commit()
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


class ThreadRoutedSession:
    """`db.session` during a test: the test's rolled-back session in the test's own thread, and
    Flask-SQLAlchemy's session in every other thread. A live server of the browser tests runs in a
    thread of the same process; a request it serves while another test runs must not use (and, in
    its teardown, roll back to a savepoint of) the test's connection."""

    def __init__(self, scoped: scoped_session, original) -> None:
        self._scoped, self._original, self._owner = scoped, original, threading.get_ident()

    def _current(self):
        return self._scoped if threading.get_ident() == self._owner else self._original

    def __call__(self, *args, **kwargs):
        return self._current()(*args, **kwargs)

    def __getattr__(self, name: str):
        return getattr(self._current(), name)


@pytest.fixture
def session(app) -> Iterator:
    """A database session whose work is rolled back after the test, even if the code commits."""
    from facilitator import data_revision
    from facilitator.groups import calendars
    from facilitator.web import remembered_pages

    # Rolled-back ids are reused by the next test: forget curriculum structures cached by id, and
    # what was remembered at a revision number the rollback brings back.
    calendars._STRUCTURES.clear()
    data_revision.forget()
    remembered_pages.forget()
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        # A plain session bound to the connection: Flask-SQLAlchemy's own Session.get_bind would
        # route mapped queries to the engine (a new connection) and commits would escape the rollback.
        scoped = scoped_session(sessionmaker(bind=connection, join_transaction_mode="create_savepoint"))
        original = db.session
        db.session = ThreadRoutedSession(scoped, original)
        try:
            yield scoped
        finally:
            scoped.remove()
            db.session = original
            outer.rollback()
            connection.close()


@pytest.fixture
def client(app, session):
    """A test client sharing the test's rolled-back session.

    The test's app context outlives each request, so what Flask-Login (the signed-in user) and
    Flask-WTF (the CSRF token) keep on `g` would carry from one request to the next, and a second
    client in the same test would act as the first person. Each request starts with an empty `g`,
    as it does in production (a fresh app context per request)."""

    def forget(sender, **extra) -> None:
        for name in list(g):
            g.pop(name)

    request_started.connect(forget, app)
    yield app.test_client()
    request_started.disconnect(forget, app)


@pytest.fixture
def runner(app, session):
    """A CLI runner for the app's commands, sharing the rolled-back session."""
    from facilitator.cli import register_commands

    if "curriculum" not in app.cli.commands:
        register_commands(app)
    return app.test_cli_runner()


class QueryCounter:
    """Counts SQL statements sent to the database inside a `with` block."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        """How many statements ran."""
        return len(self.statements)


@pytest.fixture
def count_queries(app, session):
    """Use as `with count_queries() as counter: ...; assert counter.count <= N`."""

    from facilitator import data_revision
    from facilitator.web import remembered_pages

    @contextmanager
    def counting():
        counter = QueryCounter()
        engine = db.engine
        # Counted cold: what this process remembers at a revision is not reused inside the block.
        data_revision.forget()
        remembered_pages.forget()

        def before(conn, cursor, statement, parameters, context, executemany):
            # Not counted: savepoints, and the new revision set when a page's commit (its audit) also
            # commits the test's own uncommitted set-up, which in use is committed before any page.
            if not re.match(r"\s*(SAVEPOINT|RELEASE|ROLLBACK TO|UPDATE data_revision|INSERT INTO table_revision)",
                            statement):
                counter.statements.append(statement)

        event.listen(engine, "before_cursor_execute", before)
        try:
            yield counter
        finally:
            event.remove(engine, "before_cursor_execute", before)

    return counting


@pytest.fixture
def make_program(session):
    """Factory: a program with the default statuses."""
    from facilitator.programs.services import create_program

    counter = iter(range(1, 10_000))

    def make(name: str | None = None):
        n = next(counter)
        return create_program(name or f"Program {n}", slug=f"program-{n}-{os.getpid()}")

    return make


@pytest.fixture
def make_user(session, make_program):
    """Factory: a user of a role in a program (a new program unless one is given)."""
    counter = iter(range(1, 10_000))

    def make(role: str = "facilitator", program=None, email: str | None = None, participant=None):
        program = program or make_program()
        n = next(counter)
        return create_user(program, email or f"{role}{n}-{program.id}@example.org", PASSWORD, role,
                           f"{role.title()} {n}", participant_id=participant.id if participant else None)

    return make


@pytest.fixture
def matrix16(session):
    """The shipped matrix-16 version as stored."""
    from facilitator.curricula.services import find_version, load_version

    return load_version(find_version("matrix-16").id)


@pytest.fixture
def make_group(session, matrix16):
    """Factory: a group running matrix-16 on its suggested pattern."""
    from facilitator.groups.models import Group, Slot

    weekdays = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

    def make(program, name: str = "Evening group", start: date = date(2027, 1, 4), mode: str = "open"):
        group = Group(program_id=program.id, name=name, version_id=matrix16.id, mode=mode, start_date=start)
        group.slots = [
            Slot(weekday=weekdays.index(s["weekday"]), start_time=time.fromisoformat(s["time"]),
                 track_code=s["track"], minutes=s["minutes"])
            for s in matrix16.pattern
        ]
        db.session.add(group)
        db.session.flush()
        return group

    return make


@pytest.fixture
def make_participant(session):
    """Factory: a participant in a program, optionally admitted to a group."""
    from facilitator.participants.models import Enrollment, Participant

    counter = iter(range(1, 10_000))

    def make(program, group=None, admitted: date = date(2027, 1, 4), name: str | None = None):
        n = next(counter)
        person = Participant(program_id=program.id, preferred_name=name or f"Person {n}",
                             initials=f"P{n % 100}"[:4], record_number=f"R-{program.id}-{n}")
        db.session.add(person)
        db.session.flush()
        if group is not None:
            db.session.add(Enrollment(participant_id=person.id, group_id=group.id, admitted_on=admitted))
            db.session.flush()
        return person

    return make


def csrf_token(html: str) -> str:
    """The CSRF token from a rendered form, as a browser would send it back."""
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def login(client, email: str, password: str = PASSWORD):
    """Sign in through the real form (with its CSRF token)."""
    page = client.get("/login")
    return client.post("/login", data={"email": email, "password": password, "csrf_token": csrf_token(page.text)})
