"""Program settings on the web: name, time zone (IANA names), the address and phone printed on
documents, automatic sign-out for staff and participants, two-factor sign-in for staff and portal
access after discharge. Every bad value is refused next to its field and changes nothing; changes
are audited as program.settings; the program's day follows its zone."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from facilitator import clock
from facilitator.audit.models import AuditEvent
from facilitator.documents import catalog
from facilitator.extensions import db
from facilitator.programs import details
from facilitator.programs.services import program_today

from .conftest import csrf_token, login
from .test_settings import error_of, post

DETAILS = {"program-name": "Harbour IOP", "program-timezone": "America/Chicago",
           "program-address": "120 Harbor Way, Suite 4, Eugene OR 97401", "program-phone": "(541) 555-0100"}
RULES = {"idle_minutes_staff": "10", "idle_minutes_participant": "30", "require_mfa_staff": "y",
         "portal_days_after_discharge": "14"}


@pytest.fixture
def director(session, make_program, make_user):
    return make_user("director", make_program("Old name"))


def _settings_events() -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "program.settings")))


def test_the_page_shows_the_programs_details_and_rules(client, director):
    login(client, director.email)
    page = client.get("/programs/").text
    assert 'name="program-name" type="text" value="Old name"' in page
    assert '<option selected value="America/Los_Angeles">America/Los Angeles</option>' in page
    assert 'name="idle_minutes_staff" type="text" value="15"' in page
    assert 'name="portal_days_after_discharge" type="text" value="30"' in page


def test_details_are_saved_audited_and_move_the_programs_day(client, director):
    program = director.program
    login(client, director.email)
    response = post(client, "/programs/details", {**DETAILS, "program-timezone": "Pacific/Kiritimati"})
    assert response.status_code == 302
    db.session.refresh(program)
    assert (program.name, program.timezone, program.address, program.phone) == (
        "Harbour IOP", "Pacific/Kiritimati", "120 Harbor Way, Suite 4, Eugene OR 97401", "(541) 555-0100")
    assert program_today(program) == clock.today("Pacific/Kiritimati")  # UTC+14: often tomorrow in California
    [event] = _settings_events()
    assert set(event.detail["fields"]) == {"name", "timezone", "address", "phone"}
    assert event.user_id == director.id
    assert "Program details saved." in client.get("/programs/").text


def test_the_address_and_phone_are_printed_in_the_document_heading(director):
    program = director.program
    assert catalog.program_heading(program) == "Old name"
    program.address, program.phone = "120 Harbor Way, Eugene OR", "(541) 555-0100"
    # The phone number keeps together: no line break at its space or hyphen.
    assert catalog.program_heading(program) == "Old name · 120 Harbor Way, Eugene OR · (541)\u00a0555\u20110100"


def test_sign_in_rules_are_saved_and_audited(client, director):
    program = director.program
    login(client, director.email)
    # Signed in with two-factor already set up: requiring it does not send this director to set it up.
    director.totp_secret, director.mfa_enabled_at = "JBSWY3DPEHPK3PXP", clock.naive_utc_now()
    db.session.flush()
    response = post(client, "/programs/sign-in", RULES)
    assert response.status_code == 302
    db.session.refresh(program)
    assert (program.idle_minutes_staff, program.idle_minutes_participant, program.require_mfa_staff,
            program.portal_days_after_discharge) == (10, 30, True, 14)
    [event] = _settings_events()
    assert set(event.detail["fields"]) == {"idle_minutes_staff", "idle_minutes_participant", "require_mfa_staff",
                                           "portal_days_after_discharge"}
    # Unticking the box turns the requirement off again (a browser sends nothing for an unticked box).
    post(client, "/programs/sign-in", {k: v for k, v in RULES.items() if k != "require_mfa_staff"})
    db.session.refresh(program)
    assert program.require_mfa_staff is False


def test_saving_the_same_values_says_nothing_changed(client, director):
    login(client, director.email)
    post(client, "/programs/details", DETAILS)
    response = post(client, "/programs/details", DETAILS)
    assert response.status_code == 302
    assert "Nothing changed." in client.get("/programs/").text


BAD_DETAILS = [
    ("program-name", "", "Name the program, for example Harbour Outpatient IOP."),
    ("program-name", "   ", "Name the program, for example Harbour Outpatient IOP."),
    ("program-name", "x" * 121, "Keep the name to 120 characters or fewer."),
    ("program-name", "Harbour\x1bIOP", "Program name contains an invisible control character"),
    ("program-timezone", "Mars/Olympus_Mons", "Choose the program's time zone from the list"),
    ("program-timezone", "PST", "Choose the program's time zone from the list"),
    ("program-timezone", "america/chicago", "Choose the program's time zone from the list"),
    ("program-timezone", "", "Choose the program's time zone from the list"),
    ("program-address", "x" * 201, "Keep the address to 200 characters or fewer."),
    ("program-phone", "call us", "Enter a phone number with at least 7 digits"),
    ("program-phone", "555-01", "Enter a phone number with at least 7 digits"),
    ("program-phone", "=HYPERLINK(1)", "Enter a phone number with at least 7 digits"),
    ("program-phone", "5" * 41, "Keep the phone number to 40 characters or fewer."),
]


@pytest.mark.parametrize("field, value, message", BAD_DETAILS)
def test_a_bad_detail_is_refused_next_to_its_field_and_changes_nothing(client, director, field, value, message):
    program = director.program
    login(client, director.email)
    before = details.details_of(program)
    response = post(client, "/programs/details", {**DETAILS, field: value})
    assert response.status_code == 422
    assert error_of(response.text, field).startswith(message)
    db.session.refresh(program)
    assert details.details_of(program) == before
    assert _settings_events() == []


BAD_RULES = [
    ("idle_minutes_staff", "4", "Enter a whole number of minutes from 5 to 60."),
    ("idle_minutes_staff", "61", "Enter a whole number of minutes from 5 to 60."),
    ("idle_minutes_staff", "", "Enter a whole number of minutes, for example 15."),
    ("idle_minutes_staff", "ten", "Enter a whole number of minutes, for example 15."),
    ("idle_minutes_participant", "0", "Enter a whole number of minutes from 5 to 60."),
    ("idle_minutes_participant", "7.5", "Enter a whole number of minutes, for example 15."),
    ("idle_minutes_participant", "-10", "Enter a whole number of minutes, for example 15."),
    ("portal_days_after_discharge", "366", "Enter a whole number of days from 0 to 365."),
    ("portal_days_after_discharge", "-1", "Enter a whole number of days, for example 30."),
    ("portal_days_after_discharge", "99999", "Enter a whole number of days, for example 30."),
]


@pytest.mark.parametrize("field, value, message", BAD_RULES)
def test_a_bad_sign_in_rule_is_refused_next_to_its_field_and_changes_nothing(client, director, field, value,
                                                                             message):
    program = director.program
    login(client, director.email)
    before = details.rules_of(program)
    response = post(client, "/programs/sign-in", {**RULES, field: value})
    assert response.status_code == 422
    assert error_of(response.text, field) == message
    db.session.refresh(program)
    assert details.rules_of(program) == before
    assert _settings_events() == []


def test_a_legacy_zone_name_is_accepted_and_stays_selected(client, director):
    login(client, director.email)
    assert post(client, "/programs/details", {**DETAILS, "program-timezone": "US/Pacific"}).status_code == 302
    assert '<option selected value="US/Pacific">US/Pacific</option>' in client.get("/programs/").text


def test_facilitators_may_not_change_the_program(client, director, make_user):
    facilitator = make_user("facilitator", director.program)
    login(client, facilitator.email)
    token = csrf_token(client.get("/today").text)
    for url, data in (("/programs/details", DETAILS), ("/programs/sign-in", RULES)):
        assert client.post(url, data={**data, "csrf_token": token}).status_code == 403
    db.session.refresh(director.program)
    assert director.program.name == "Old name" and director.program.idle_minutes_staff == 15
