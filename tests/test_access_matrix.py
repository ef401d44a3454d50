"""The access matrix: every route of the app (from app.url_map, static files aside) requested as six
people, each answer compared with ONE table below, and every answer checked for the security headers.

The six columns:
  anon    nobody signed in
  self    a participant signed in to the portal; routes about a participant are about them
  other   another participant of the same program, asking about the first participant's record
  facil   a facilitator of the program
  dir     a director of the program
  gone    a facilitator deactivated after signing in (their session must end at the next request)

GET routes are requested with GET; POST-only routes with a POST carrying a valid CSRF token and an
empty body. Every request runs inside a savepoint that is rolled back, so a request that changes
something (a sign-out, a retired status, a deactivation) never changes what the next one sees.

ADDING A ROUTE: add one line to TABLE with the endpoint and the six expected codes; if its URL has an
argument not in ids() below, add the argument there (or per endpoint in URL_ARGS).
"""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from flask import current_app, url_for

from facilitator.auth import accounts, invites
from facilitator.auth.models import User
from facilitator.auth.services import create_user
from facilitator.clinical import services as clinical
from facilitator.clock import naive_utc_now
from facilitator.curricula import drafts
from facilitator.curricula.models import Module, Worksheet
from facilitator.curricula.services import find_version
from facilitator.documents import catalog, service
from facilitator.extensions import db
from facilitator.groups import schedule
from facilitator.groups.models import Group, Slot
from facilitator.participants.models import Enrollment, Participant
from facilitator.programs.models import AttendanceStatus
from facilitator.programs.services import create_program, program_today
from facilitator.progress.models import MakeUp
from facilitator.web.headers import CONTENT_SECURITY_POLICY
from facilitator.workbook.models import WorksheetAnswer

from .conftest import PASSWORD, csrf_token, login

ROLES = ("anon", "self", "other", "facil", "dir", "gone")
# same-origin everywhere; no-referrer (stricter) where the address holds a secret (set-password links).
STRICT_REFERRERS = ("same-origin", "no-referrer")

# 302 from anon/gone: to the sign-in page; 401: the JSON API and the session check ask for a sign-in.
# 404 for "other": a participant's record is invisible to another participant. POST codes are for an
# empty form (422: refused with messages; 303/302: done, back to the page).
TABLE = """
# endpoint                               anon  self other facil   dir  gone
account.end_other_sessions                302   302   302   302   302   302
account.index                             302   200   200   200   200   302
account.mfa_remove                        302   422   422   422   422   302
account.mfa_setup                         302   200   200   200   200   302
account.password                          302   422   422   422   422   302

accounts.activate                         302   403   403   403   303   302
accounts.deactivate                       302   403   403   403   303   302
accounts.give_portal                      302   403   403   201   201   302
accounts.handout                          302   403   403   400   400   302
accounts.index                            302   403   403   403   200   302
accounts.invite                           302   403   403   403   422   302
accounts.mfa_reset                        302   403   403   403   303   302
accounts.remove_portal                    302   403   403   303   303   302
accounts.reset                            302   403   403   403   200   302
accounts.role                             302   403   403   403   400   302

api.calendar                              401   200   200   200   200   401
api.meeting_roster                        401   403   403   200   200   401
api.plan                                  401   200   404   200   200   401
api.progress                              401   200   404   200   200   401

audit.export_csv                          302   403   403   403   200   302
audit.export_xlsx                         302   403   403   403   200   302
audit.index                               302   403   403   403   200   302

auth.login                                200   302   302   302   302   302
auth.logout                               302   302   302   302   302   302
auth.second_factor                        302   302   302   302   302   302
auth.session_status                       401   200   200   200   200   401
auth.session_stay                         401   200   200   200   200   302

clinical.analysis                         302   200   404   200   200   302
clinical.record_test                      302   403   403   422   422   302
clinical.report                           302   403   403   422   422   302
clinical.tests                            302   200   404   200   200   302

contingency.draw                          302   403   403   422   422   302
contingency.exchange                      302   403   403   422   422   302
contingency.give_prize                    302   403   403   404   404   302
contingency.missed                        302   403   403   422   422   302
contingency.participant                   302   200   404   200   200   302
contingency_program.add_prize             302   403   403   403   422   302
contingency_program.index                 302   403   403   200   200   302
contingency_program.prizes                302   403   403   200   200   302
contingency_program.report_csv            302   403   403   403   200   302
contingency_program.report_xlsx           302   403   403   403   200   302
contingency_program.reports_index         302   403   403   403   200   302
contingency_program.restock               302   403   403   403   404   302
contingency_program.save_settings         302   403   403   403   422   302
contingency_program.settings              302   403   403   403   200   302

curricula.add_worksheet                   302   403   403   403   422   302
curricula.delete_module                   302   403   403   403   303   302
curricula.delete_worksheet                302   403   403   403   303   302
curricula.discard                         302   403   403   403   303   302
curricula.export                          302   403   403   403   200   302
curricula.fork                            302   403   403   403   200   302
curricula.import_zip                      302   403   403   403   422   302
curricula.index                           302   403   403   403   200   302
curricula.module                          302   403   403   403   200   302
curricula.move                            302   403   403   403   404   302
curricula.move_group                      302   403   403   403   200   302
curricula.new_draft                       302   403   403   403   403   302
curricula.preview_css                     200   200   200   200   200   302
curricula.publish                         302   403   403   403   303   302
curricula.retire                          302   403   403   403   303   302
curricula.settings                        302   403   403   403   422   302
curricula.track                           302   403   403   403   200   302
curricula.version                         302   403   403   403   200   302
curricula.worksheet                       302   403   403   403   200   302
curricula.worksheet_preview               302   403   403   403   200   302

documents.calendar                        302   200   200   200   200   302
documents.certificate                     302   409   404   409   409   302
documents.guide                           302   403   403   200   200   302
documents.handbook                        302   200   200   200   200   302
documents.job_file                        302   404   404   404   404   302
documents.job_page                        302   404   404   404   404   302
documents.job_status                      302   404   404   404   404   302
documents.packet                          302   403   403   200   200   302
documents.progress                        302   200   404   200   200   302
documents.signin                          302   403   403   200   200   302
documents.worksheet                       302   200   200   200   200   302
documents.workbook_answers                302   200   404   200   200   302

groups.add_cancellation                   302   403   403   422   422   302
groups.add_holiday                        302   403   403   403   422   302
groups.edit                               302   403   403   403   200   302
groups.index                              302   403   403   200   200   302
groups.new                                302   403   403   403   200   302
groups.remove_cancellation                302   403   403   302   302   302
groups.remove_holiday                     302   403   403   403   302   302
groups.share_feed                         302   403   403   302   302   302
groups.show                               302   403   403   200   200   302

meetings.add_guest                        302   403   403   422   422   302
meetings.addendum                         302   403   403   404   404   302
meetings.cancel                           302   403   403   422   422   302
meetings.lock                             302   403   403   404   404   302
meetings.meeting                          302   403   403   200   200   302
meetings.reopen                           302   403   403   302   302   302
meetings.save_attendance                  302   403   403   422   422   302
meetings.today                            302   403   403   200   200   302

participants.admit                        302   403   403   200   200   302
participants.cancel_makeup                302   403   403   302   302   302
participants.complete_makeup              302   403   403   200   200   302
participants.discharge                    302   403   403   200   200   302
participants.index                        302   403   403   200   200   302
participants.me                           302   200   200   302   302   302
participants.new                          302   403   403   200   200   302
participants.new_makeup                   302   403   403   200   200   302
participants.profile                      302   403   403   200   200   302
participants.record_session               302   403   403   200   200   302
participants.show                         302   403   403   200   200   302
participants.transfer                     302   403   403   200   200   302

passwords.forgot_password                 200   200   200   200   200   302
passwords.set_password                    200   200   200   200   200   302

planning.index                            302   403   403   403   200   302
planning.what_if                          302   403   403   403   200   302

portal.participant_feed                   200   200   200   200   200   302
portal.records_json                       302   200   200   404   404   302
portal.records_pdf                        302   200   200   404   404   302
portal.remove_feed                        302   403   403   303   303   302
portal.share_feed                         302   302   302   404   404   302

programs.add_holiday                      302   403   403   403   422   302
programs.add_status                       302   403   403   403   422   302
programs.index                            302   403   403   403   200   302
programs.move_status                      302   403   403   403   302   302
programs.remove_holiday                   302   403   403   403   302   302
programs.restore_status                   302   403   403   403   422   302
programs.retire_status                    302   403   403   403   302   302
programs.save_details                     302   403   403   403   422   302
programs.save_settings                    302   403   403   403   422   302
programs.save_sign_in_rules               302   403   403   403   422   302
programs.update_status                    302   403   403   403   422   302

reports.export_csv                        302   403   403   403   200   302
reports.export_xlsx                       302   403   403   403   200   302
reports.group_calendar                    302   403   403   200   200   302
reports.group_feed                        200   200   200   200   200   302
reports.index                             302   403   403   403   200   302
reports.report_pdf                        302   403   403   403   200   302

web.health                                200   200   200   200   200   200
web.home                                  302   302   302   302   302   302

language.choose                           302   302   302   302   302   302
language.switch                           400   400   400   400   400   302
workbook.answer                           302   302   404   200   200   302
workbook.index                            302   200   200   403   403   302
workbook.review                           302   403   403   303   303   302
workbook.sheet                            302   200   200   403   403   302
"""


def expected_codes() -> dict[str, tuple[int, ...]]:
    """TABLE as endpoint -> one code per column of ROLES."""
    rows = {}
    for line in TABLE.strip().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        endpoint, *codes = line.split()
        assert len(codes) == len(ROLES), f"TABLE row {endpoint!r} needs {len(ROLES)} codes ({' '.join(ROLES)})"
        assert endpoint not in rows, f"TABLE lists {endpoint!r} twice"
        rows[endpoint] = tuple(int(c) for c in codes)
    return rows


@pytest.fixture
def world(session):
    """One program with two participants (each with a portal account), a facilitator, a director, a
    deactivated facilitator, a staff member to act on, a group meeting every day, a draft curriculum,
    a status, a holiday, a cancellation, a make-up, a relapse analysis and a sent worksheet; the ids the URLs
    need."""
    program = create_program("Matrix IOP", slug="matrix-access")
    today = program_today(program)
    director = create_user(program, "dir@matrix.example", PASSWORD, "director", "Dir")
    facilitator = create_user(program, "facil@matrix.example", PASSWORD, "facilitator", "Facil")
    gone = create_user(program, "gone@matrix.example", PASSWORD, "facilitator", "Gone")
    target = create_user(program, "target@matrix.example", PASSWORD, "facilitator", "Target")
    version = find_version("matrix-16")
    group = Group(program_id=program.id, name="Evening", version_id=version.id, start_date=today - timedelta(days=14),
                  facilitator_id=facilitator.id)
    group.slots = [Slot(weekday=d, start_time=time(18, 30), track_code="RP", minutes=90) for d in range(7)]
    db.session.add(group)
    people = []
    for n in (1, 2):
        person = Participant(program_id=program.id, preferred_name=f"Person {n}", initials=f"P{n}",
                             record_number=f"MX-{n}")
        db.session.add(person)
        db.session.flush()
        db.session.add(Enrollment(participant_id=person.id, group_id=group.id, admitted_on=group.start_date))
        people.append(person)
    db.session.flush()
    portal = [create_user(program, f"p{n}@matrix.example", PASSWORD, "participant", f"P{n}", participant_id=p.id)
              for n, p in enumerate(people, start=1)]
    first = people[0]
    module = db.session.scalars(db.select(Module).where(Module.version_id == version.id, Module.code == "RP 3")).one()
    db.session.add(MakeUp(participant_id=first.id, module_id=module.id, method="homework", assigned_by_id=director.id))
    draft = drafts.fork(version, director, "Matrix draft")
    draft_module = db.session.scalars(db.select(Module).where(Module.version_id == draft.id, Module.code == "RP 3")).one()
    draft_sheet = db.session.scalars(db.select(Worksheet).where(Worksheet.module_id == draft_module.id)).first()
    holiday = schedule.add_holiday(program.id, today + timedelta(days=30), "Founders' day", director, today)
    cancellation = schedule.add_cancellation(group, today + timedelta(days=20), None, "Staff training", director, today)
    analysis = clinical.record_report(first, occurred_on=today, opened_by="craving", user=director, today=today)
    sheet = db.session.scalars(db.select(Worksheet).where(Worksheet.version_id == version.id,
                                                         Worksheet.code == "RP 3A")).one()
    sent = WorksheetAnswer(participant_id=first.id, worksheet_id=sheet.id, status="submitted",
                           answers={"chart_partner": "My sponsor"}, submitted_at=naive_utc_now())
    db.session.add(sent)
    group.feed_token = "f" * 43
    first.feed_token = "m" * 43  # the first participant's own calendar address
    db.session.flush()
    link = invites.make_link(target, "reset", director)
    status = db.session.scalars(db.select(AttendanceStatus).where(AttendanceStatus.program_id == program.id,
                                                                 AttendanceStatus.code == "late")).one()
    makeup = db.session.scalars(db.select(MakeUp).where(MakeUp.participant_id == first.id)).one()
    # The handbook comes from the cache when it is there, else a worker renders 140 pages behind a
    # progress page (303): the program's handbook is put in the cache so that every run sees the
    # same answer (200) and none starts a render.
    order = catalog.handbook_order(version=catalog.find_version(None, program.id), program=program)
    service.cache_for(current_app).put(order.key, b"%PDF-1.7 the program's handbook")
    db.session.commit()  # into the test's outer transaction, rolled back at its end
    return {
        "users": {role: (u.id, u.email, u.role) for role, u in
                  (("self", portal[0]), ("other", portal[1]), ("facil", facilitator), ("dir", director), ("gone", gone))},
        "args": {"participant_id": first.id, "group_id": group.id, "version_id": draft.id, "module_id": draft_module.id,
                 "worksheet_id": draft_sheet.id, "code": "RP", "day": today.isoformat(), "at": "1830", "track": "RP",
                 "status_id": status.id, "direction": "up", "holiday_id": holiday.id,
                 "cancellation_id": cancellation.id, "makeup_id": makeup.id,
                 "analysis_id": analysis.analysis.id, "answer_id": sent.id,
                 "user_id": target.id, "job_id": "0" * 64, "token": link.token, "kind": "attendance"},
        "version_id": version.id,
    }


# Arguments that differ from ids() for one endpoint (a module code instead of a track code...).
URL_ARGS = {
    "documents.guide": {"code": "RP 3"},
    "documents.worksheet": {"code": "RP 3A"},
    "workbook.sheet": {"code": "RP 3A"},
    "reports.group_feed": {"token": "f" * 43},
    "portal.participant_feed": {"token": "m" * 43},
    "curricula.fork": {"version_id": "published"},
    "curricula.new_draft": {"version_id": "published"},
    "curricula.export": {"version_id": "published"},
    "contingency.give_prize": {"draw_id": 0},  # no such draw: 404 for staff
    "contingency_program.restock": {"prize_id": 0},
    "contingency_program.report_csv": {"kind": "earnings"},
    "contingency_program.report_xlsx": {"kind": "earnings"},
}


def _url(app, rule, world) -> str:
    values = {name: world["args"][name] for name in rule.arguments if name in world["args"]}
    for name, value in URL_ARGS.get(rule.endpoint, {}).items():
        values[name] = world["version_id"] if value == "published" else value
    missing = set(rule.arguments) - set(values)
    assert not missing, f"{rule.endpoint}: add a value for {sorted(missing)} to world()['args'] or URL_ARGS"
    with app.test_request_context():
        return url_for(rule.endpoint, **values)


def _sessions(app, world) -> dict[str, tuple[str | None, str]]:
    """Per column: the session cookie and a CSRF token of that person's session. Each person in an app
    context of their own: Flask-Login and Flask-WTF keep the user and the token in `g`."""
    out = {}
    with app.app_context():
        anon = app.test_client()
        token = csrf_token(anon.get("/login").text)
        out["anon"] = (anon.get_cookie("session").value, token)
    for role, (_, email, user_role) in world["users"].items():
        with app.app_context():
            client = app.test_client()
            response = login(client, email)
            assert response.status_code in (302, 303), f"{role} could not sign in"
            page = client.get("/me" if user_role == "participant" else "/today")
            out[role] = (client.get_cookie("session").value, csrf_token(page.text))
    with app.app_context():
        accounts.deactivate(db.session.get(User, world["users"]["gone"][0]),
                            db.session.get(User, world["users"]["dir"][0]))
        db.session.commit()
    return out


def observe(app, session, world) -> tuple[dict[str, tuple[int, ...]], list[str]]:
    """Every route's code per column, and every response missing a security header."""
    cookies = _sessions(app, world)
    connection = session.get_bind()  # the test's connection: each request runs in a savepoint of it
    codes, missing_headers = {}, []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint):
        if rule.endpoint == "static":
            continue
        url = _url(app, rule, world)
        method = "GET" if "GET" in rule.methods else "POST"
        row = []
        for role in ROLES:
            cookie, token = cookies[role]
            client = app.test_client()
            client.set_cookie("session", cookie, domain="localhost")
            savepoint = connection.begin_nested()
            try:
                with app.app_context():  # a fresh `g` per request, as a real server has
                    if method == "GET":
                        response = client.get(url)
                    else:
                        response = client.post(url, data={"csrf_token": token})
            finally:
                session.remove()
                savepoint.rollback()
            row.append(response.status_code)
            headers = response.headers
            if (headers.get("Content-Security-Policy") != CONTENT_SECURITY_POLICY
                    or headers.get("X-Frame-Options") != "DENY" or headers.get("X-Content-Type-Options") != "nosniff"
                    or headers.get("Referrer-Policy") not in STRICT_REFERRERS):
                missing_headers.append(f"{method} {url} as {role}")
            response.close()
        codes[rule.endpoint] = tuple(row)
    return codes, missing_headers


def _row(endpoint: str, codes: tuple[int, ...]) -> str:
    return f"{endpoint:<40}" + " ".join(f"{c:>5}" for c in codes)


def differences(codes: dict[str, tuple[int, ...]], table: dict[str, tuple[int, ...]]) -> str:
    """What a developer must fix, in words: routes without a row (with what they answer now, ready
    to paste), rows of routes that are gone, and routes answering differently from their row."""
    problems = []
    unlisted = [e for e in codes if e not in table]
    if unlisted:
        problems.append(
            "These routes have no row in TABLE (tests/test_access_matrix.py). Decide who may use each one and "
            f"add one line per route with the expected codes for: {' '.join(ROLES)}. What they answer now:\n"
            + "\n".join(_row(e, codes[e]) for e in unlisted))
    gone = [e for e in table if e not in codes]
    if gone:
        problems.append(f"TABLE has rows for routes that no longer exist; remove them: {', '.join(gone)}")
    wrong = [f"{_row(e, codes[e])}   <- now; TABLE says {' '.join(map(str, table[e]))}"
             for e in codes if e in table and codes[e] != table[e]]
    if wrong:
        problems.append(f"Routes answering differently from TABLE ({' '.join(ROLES)}):\n" + "\n".join(wrong))
    return "\n\n".join(problems)


def test_every_route_answers_each_person_as_the_table_says(app, session, world):
    codes, missing_headers = observe(app, session, world)
    problems = differences(codes, expected_codes())
    assert not problems, problems
    assert not missing_headers, f"responses without the security headers: {missing_headers[:20]}"


def test_a_route_without_a_row_fails_with_what_to_add():
    table = expected_codes()
    codes = {**table, "staff.brand_new": (302, 403, 403, 403, 200, 302)}
    del codes["web.health"]
    codes["web.home"] = (302, 200, 302, 302, 302, 302)
    message = differences(codes, table)
    assert "have no row in TABLE" in message and "anon self other facil dir gone" in message
    assert "staff.brand_new                           302   403   403   403   200   302" in message
    assert "no longer exist; remove them: web.health" in message
    assert "web.home" in message.split("answering differently")[1]
