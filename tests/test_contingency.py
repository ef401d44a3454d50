"""Contingency management through the app: tests recorded in the clinical log earn draws or vouchers at
once, draws are made and prizes handed over, the cap and the budget refuse what would pass them, the
pages and exports show it, and other programs see nothing. Runs on SQLite and PostgreSQL alike."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from facilitator.audit.models import AuditEvent
from facilitator.clinical import services as clinical
from facilitator.contingency import ledger as reads
from facilitator.contingency import services
from facilitator.contingency.models import CmDraw
from facilitator.domain import contingency as cm
from facilitator.extensions import db
from facilitator.programs.services import program_today

from .conftest import csrf_token, login

SCRIPT = "N N N N M P N N N N"
FISHBOWL = cm.Protocol(kind="prize", first_draws=1, draw_step=1, max_draws=8, return_after=3)
VOUCHERS = cm.Protocol(kind="voucher", return_after=3)


@pytest.fixture
def clinic(session, make_program, make_user, make_group, make_participant):
    """A program with a director, a facilitator and a participant admitted twelve weeks ago."""
    program = make_program()
    today = program_today(program)
    director = make_user("director", program)
    staff = make_user("facilitator", program)
    group = make_group(program, start=today - timedelta(weeks=14))
    person = make_participant(program, group, admitted=today - timedelta(weeks=12), name="Jordan")
    return program, today, director, staff, person


def run_protocol(program, director, protocol, start):
    """Turn CM on from a past day (a service refuses the past, as it should; tests set the history up)."""
    row = services.save_protocol(program, replace(protocol, effective_from=start), director, start)
    db.session.flush()
    return row


def script(person, staff, today, text=SCRIPT):
    """Record a scripted test history, one test a week ending today: N negative, P positive, M missed."""
    codes = text.split()
    for n, code in enumerate(codes):
        day = today - timedelta(weeks=len(codes) - 1 - n)
        if code == "M":
            services.record_missed(person, day, staff, today)
        else:
            clinical.record_test(person, collected_on=day, kind="urine", result="negative" if code == "N" else "positive",
                                 substances=["methamphetamine"] if code == "P" else [], observed=True, user=staff,
                                 today=today)


def test_fishbowl_draws_follow_the_recorded_tests_with_reset_and_return(clinic):
    program, today, director, staff, person = clinic
    run_protocol(program, director, FISHBOWL, today - timedelta(weeks=12))
    script(person, staff, today)
    ledger = reads.ledger_of(person, reads.protocols_of(program.id))
    assert [o.draws for o in ledger.outcomes] == [1, 2, 3, 4, 0, 0, 1, 2, 4, 5]
    assert [o.why for o in ledger.outcomes if o.verdict == "failure"] == ["missed", "positive"]
    assert ledger.draws_owed == 22
    panel = reads.panel_for(person, today)
    assert (panel.standing.streak, panel.standing.next_draws, panel.draws_owed) == (4, 6, 22)


def test_vouchers_follow_the_recorded_tests_and_are_exchanged_up_to_the_credit(clinic):
    program, today, director, staff, person = clinic
    run_protocol(program, director, VOUCHERS, today - timedelta(weeks=12))
    script(person, staff, today)
    ledger = reads.ledger_of(person, reads.protocols_of(program.id))
    assert [o.voucher_cents for o in ledger.outcomes] == [250, 375, 1500, 625, 0, 0, 250, 375, 1625, 750]
    assert ledger.voucher_balance == 5750
    services.exchange_voucher(person, 2500, "Bus pass", staff, today)
    with pytest.raises(services.CmRefused, match=r"has \$32.50 of voucher credit"):
        services.exchange_voucher(person, 3300, "Groceries", staff, today)
    assert reads.ledger_of(person, reads.protocols_of(program.id)).voucher_balance == 3250


def test_a_draw_picks_the_slip_at_a_secure_random_number_and_the_prize_leaves_the_cabinet(clinic):
    program, today, director, staff, person = clinic
    run_protocol(program, director, FISHBOWL, today - timedelta(weeks=12))
    script(person, staff, today, "N N")
    small = services.add_prize(program, "small", "Bus token", 100, 3, director)
    asked = []
    drawn = services.make_draw(person, staff, today, randbelow=lambda n: asked.append(n) or 300)
    assert asked == [500] and drawn.draw.size == "small" and drawn.still_owed == 2
    assert drawn.draw.number == 300 and drawn.draw.bowl == cm.DEFAULT_BOWL
    first_test = min(t.id for t in clinical.tests_of(person))
    assert drawn.draw.drug_test_id == first_test  # the oldest test with draws waiting
    large = services.add_prize(program, "large", "Gift card", 2000, 1, director)
    with pytest.raises(services.CmRefused, match="Choose a small prize: the slip says so"):
        services.give_prize(person, drawn.draw, large.id, staff, today)
    services.give_prize(person, drawn.draw, small.id, staff, today)
    assert small.in_stock == 2 and drawn.draw.prize_cents == 100
    with pytest.raises(services.CmRefused, match="already handed over"):
        services.give_prize(person, drawn.draw, small.id, staff, today)
    good = services.make_draw(person, staff, today, randbelow=lambda n: 0)
    assert good.draw.size == "good_job"
    with pytest.raises(services.CmRefused, match="wins no prize"):
        services.give_prize(person, good.draw, small.id, staff, today)


def test_a_draw_that_could_pass_the_yearly_cap_is_refused_and_says_why(clinic):
    program, today, director, staff, person = clinic
    run_protocol(program, director, replace(FISHBOWL, yearly_cap_cents=10500), today - timedelta(weeks=12))
    script(person, staff, today, "N N N")
    gift = services.add_prize(program, "jumbo", "Phone", 10000, 1, director)
    token = services.add_prize(program, "small", "Bus token", 100, 10, director)
    first = services.make_draw(person, staff, today, randbelow=lambda n: 499)  # the jumbo slip
    services.give_prize(person, first.draw, gift.id, staff, today)
    # $105 cap, $100 given: a draw could give the $100 jumbo prize again.
    with pytest.raises(services.CmRefused) as refused:
        services.make_draw(person, staff, today, randbelow=lambda n: 1)
    assert str(refused.value).startswith("No draw was made: a draw can give a jumbo prize worth $100.00, and Jordan "
                                         "has $5.00 left under the yearly cap of $105.00.")
    assert token.in_stock == 10 and len(reads.ledger_of(person, reads.protocols_of(program.id)).draws) == 1


def test_a_voucher_that_would_pass_the_cap_is_not_given_and_the_page_says_why(clinic, client):
    program, today, director, staff, person = clinic
    run_protocol(program, director, replace(VOUCHERS, yearly_cap_cents=2000), today - timedelta(weeks=12))
    script(person, staff, today, "N N N N")
    ledger = reads.ledger_of(person, reads.protocols_of(program.id))
    assert [(o.voucher_cents, o.refused_cents) for o in ledger.outcomes] == [(250, 0), (375, 0), (0, 1500), (625, 0)]
    login(client, staff.email)
    page = client.get(f"/participants/{person.id}/incentives")
    assert page.status_code == 200
    assert "No voucher: $15.00 would pass the yearly cap" in page.text


def test_the_budget_shows_spent_and_committed_and_refuses_a_draw_past_it(clinic, make_participant, client):
    program, today, director, staff, person = clinic
    run_protocol(program, director, replace(FISHBOWL, budget_cents=15000), today - timedelta(weeks=12))
    script(person, staff, today, "N N N")
    prize = services.add_prize(program, "large", "Gift card", 2000, 5, director)
    drawn = services.make_draw(person, staff, today, randbelow=lambda n: 460)  # a large slip
    services.give_prize(person, drawn.draw, prize.id, staff, today)
    services.make_draw(person, staff, today, randbelow=lambda n: 461)  # large, not handed over yet
    protocols = reads.protocols_of(program.id)
    budget = reads.budget_of(cm.protocol_on(protocols, today), reads.ledgers(program.id, protocols).values(), today)
    assert (budget.spent, budget.slips_waiting, budget.draws_owed) == (2000, 2000, 4)
    assert budget.committed == 2000 + 4 * 222 and budget.left == 15000 - 2000 - 2000 - 888
    # $150 budget, $40 spent or owed: a draw that could give the $100 jumbo still fits ($110 left)...
    services.give_prize(person, services.make_draw(person, staff, today, randbelow=lambda n: 462).draw, prize.id,
                        staff, today)
    # ...then $60 is spent or owed, and the next draw could pass the budget.
    with pytest.raises(services.CmRefused, match=r"the program has \$90.00 left of its budget of \$150.00"):
        services.make_draw(person, staff, today)
    login(client, director.email)
    page = client.get("/contingency/")
    assert page.status_code == 200 and "$150.00" in page.text and "Jordan" in page.text


def test_settings_apply_from_today_on_and_bad_values_are_refused_next_to_their_field(clinic, client):
    program, today, director, staff, person = clinic
    login(client, director.email)
    form = client.get("/contingency/settings")
    assert form.status_code == 200
    data = {"csrf_token": csrf_token(form.text), "kind": "prize", "effective_from": today.isoformat(),
            "test_kinds": ["urine", "oral"], "unclear_counts_as": "positive", "max_days_between_tests": "0",
            "return_after": "3", "first_draws": "1", "draw_step": "1", "max_draws": "8", "bonus_draws_all_clear": "0",
            "attendance_draws": "0", "bowl_good_job": "250", "bowl_small": "209", "bowl_large": "40", "bowl_jumbo": "1",
            "prize_small": "1.00", "prize_large": "20.00", "prize_jumbo": "100.00", "voucher_start_cents": "2.50",
            "voucher_step_cents": "1.25", "voucher_bonus_cents": "10.00", "voucher_bonus_every": "3",
            "yearly_cap_cents": "750.00", "budget_cents": "5000.00", "year_starts_month": "1"}
    refused = client.post("/contingency/settings", data={**data, "effective_from": (today - timedelta(days=1)).isoformat(),
                                                         "max_draws": "0"})
    assert refused.status_code == 422
    assert "A change applies from today" in refused.text and "The most draws must be from 1 to 30." in refused.text
    assert reads.protocols_of(program.id) == []
    saved = client.post("/contingency/settings", data=data)
    assert saved.status_code == 303
    [protocol] = reads.protocols_of(program.id)
    assert (protocol.kind, protocol.yearly_cap_cents, protocol.budget_cents, protocol.bowl) == (
        "prize", 75000, 500000, cm.DEFAULT_BOWL)
    assert protocol.test_kinds == {"urine", "oral"} and protocol.effective_from == today
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.entity == "cm_protocol")) == "cm.settings"


def test_a_draw_on_the_page_is_recorded_audited_and_shown(clinic, client):
    program, today, director, staff, person = clinic
    run_protocol(program, director, FISHBOWL, today - timedelta(weeks=12))
    script(person, staff, today, "N")
    services.add_prize(program, "small", "Bus token", 100, 3, director)
    login(client, staff.email)
    page = client.get(f"/participants/{person.id}/incentives")
    assert "Draw a slip" in page.text and "1 waiting" in page.text
    done = client.post(f"/participants/{person.id}/incentives/draws", data={"csrf_token": csrf_token(page.text)})
    assert done.status_code == 303
    draw = db.session.scalars(select(CmDraw).where(CmDraw.participant_id == person.id)).one()
    assert 0 <= draw.number < 500 and draw.slips == 500
    shown = client.get(done.headers["Location"])
    assert f"The slip says: {reads.SIZE_LABELS[draw.size]}" in shown.text
    actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.participant_id == person.id)))
    assert {"cm.draw", "cm.view"} <= actions
    again = client.post(f"/participants/{person.id}/incentives/draws", data={"csrf_token": csrf_token(page.text)})
    assert again.status_code == 422 and "Jordan has no draws waiting." in again.text


def test_participants_read_only_their_own_incentives_and_other_programs_see_nothing(
        clinic, client, make_participant, make_user, make_program):
    program, today, director, staff, person = clinic
    run_protocol(program, director, FISHBOWL, today - timedelta(weeks=12))
    script(person, staff, today, "N N")
    own = make_user("participant", program, participant=person)
    login(client, own.email)
    mine = client.get(f"/participants/{person.id}/incentives")
    assert mine.status_code == 200 and "My incentives" in mine.text and "Draw a slip" not in mine.text
    me = client.get("/me")
    assert "Negative tests in a row" in me.text and "3 draws" in me.text
    assert client.post(f"/participants/{person.id}/incentives/draws").status_code in (400, 403)
    client.post("/logout", data={"csrf_token": csrf_token(me.text)})
    elsewhere = make_user("director", make_program())
    login(client, elsewhere.email)
    assert client.get(f"/participants/{person.id}/incentives").status_code == 404
    token = csrf_token(client.get("/contingency/settings").text)
    assert client.post(f"/participants/{person.id}/incentives/draws", data={"csrf_token": token}).status_code == 404


def test_reports_carry_the_notice_and_count_earnings_by_month(clinic, client):
    program, today, director, staff, person = clinic
    run_protocol(program, director, FISHBOWL, today - timedelta(weeks=12))
    script(person, staff, today, "N N P N")
    services.make_draw(person, staff, today, randbelow=lambda n: 0)
    login(client, director.email)
    start = (today - timedelta(weeks=8)).isoformat()
    earnings = client.get(f"/contingency/reports/earnings.csv?start={start}&end={today.isoformat()}")
    assert earnings.status_code == 200 and "confidential-42-CFR-part-2" in earnings.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(earnings.text)))
    assert sum(int(r["tests_counted"]) for r in rows) == 4 and sum(int(r["draws_earned"]) for r in rows) == 4
    assert sum(int(r["draws_made"]) for r in rows) == 1
    assert all(r["notice"].startswith("42 CFR part 2") for r in rows)
    shares = list(csv.DictReader(io.StringIO(client.get(f"/contingency/reports/negative-tests.csv?start={start}").text)))
    assert sum(int(r["tests_counted"]) for r in shares) == 4 and sum(int(r["negative_tests"]) for r in shares) == 3
    for kind in ("earnings", "negative-tests", "draws", "prizes"):
        assert client.get(f"/contingency/reports/{kind}.xlsx?start={start}").status_code == 200
    assert client.get("/contingency/reports/nothing.csv").status_code == 404
    page = client.get(f"/contingency/reports?start={start}")
    assert page.status_code == 200 and "Share negative" in page.text


def test_the_demo_runs_a_fishbowl_with_history_and_draws_waiting_for_the_demo_participant(runner, session):
    from facilitator.auth.models import User
    from facilitator.programs.services import find_program

    assert runner.invoke(args=["demo"]).exit_code == 0
    program = find_program("demo")
    today = program_today(program)
    protocols = reads.protocols_of(program.id)
    assert cm.protocol_on(protocols, today).kind == "prize"
    ledgers = reads.ledgers(program.id, protocols)
    account = db.session.scalar(select(User).where(User.email == "participant@demo.example"))
    mine = ledgers[account.participant_id]
    assert mine.draws_owed > 0 and len(mine.draws) > 10
    assert sum(len(lg.draws) for lg in ledgers.values()) > 100
    assert any(o.why == "missed" for lg in ledgers.values() for o in lg.outcomes)
    assert all(lg.committed_in(cm.year_start(today, 1)) < 75000 for lg in ledgers.values())
    budget = reads.budget_of(cm.protocol_on(protocols, today), ledgers.values(), today)
    assert 0 < budget.spent < budget.budget
    assert all(p.in_stock >= 0 for p in services.prizes_of(program.id))


def test_recording_a_test_says_at_once_what_it_earned(clinic, client):
    program, today, director, staff, person = clinic
    run_protocol(program, director, FISHBOWL, today - timedelta(weeks=12))
    script(person, staff, today - timedelta(days=7), "N N")
    login(client, staff.email)
    page = client.get(f"/participants/{person.id}/tests")
    done = client.post(f"/participants/{person.id}/tests", data={
        "csrf_token": csrf_token(page.text), "collected_on": today.isoformat(), "kind": "urine", "result": "negative",
        "observed": "y"}, follow_redirects=True)
    assert "Negative urine test" in done.text
    assert "Incentives: this negative test earns Jordan 3 draws; 6 waiting." in done.text
    page = client.get(f"/participants/{person.id}/tests")
    done = client.post(f"/participants/{person.id}/tests", data={
        "csrf_token": csrf_token(page.text), "collected_on": today.isoformat(), "kind": "breath",
        "result": "negative"}, follow_redirects=True)
    assert "Incentives: this test does not count under the program&#39;s settings." in done.text


def test_the_panel_costs_three_queries_however_long_the_history(clinic, make_participant, count_queries):
    program, today, director, staff, person = clinic
    run_protocol(program, director, replace(FISHBOWL, attendance_draws=1), today - timedelta(weeks=12))
    newcomer = make_participant(program, None, name="Sky")
    script(person, staff, today, SCRIPT)
    for _ in range(5):
        services.make_draw(person, staff, today, randbelow=lambda n: 0)
    counts = []
    for who in (newcomer, person):
        db.session.expire_all()
        assert who.program_id == program.id  # loaded, as the page has it
        with count_queries() as counter:
            reads.panel_for(who, today)
        counts.append(counter.count)
    assert counts == [3, 3]


def test_bad_input_is_refused_with_a_message_and_changes_nothing(clinic, client):
    program, today, director, staff, person = clinic
    run_protocol(program, director, VOUCHERS, today - timedelta(weeks=12))
    script(person, staff, today - timedelta(days=1), "N N")
    login(client, staff.email)
    page = client.get(f"/participants/{person.id}/incentives")
    token = csrf_token(page.text)
    future = client.post(f"/participants/{person.id}/incentives/missed",
                         data={"csrf_token": token, "missed_on": (today + timedelta(days=1)).isoformat()})
    assert future.status_code == 422 and "cannot be in the future" in future.text
    tested = client.post(f"/participants/{person.id}/incentives/missed",
                         data={"csrf_token": token, "missed_on": (today - timedelta(days=1)).isoformat()})
    assert tested.status_code == 422 and "A missed test is for a day with no test." in tested.text
    earlier = client.post(f"/participants/{person.id}/incentives/missed",
                          data={"csrf_token": token, "missed_on": (today - timedelta(days=3)).isoformat()})
    assert earlier.status_code == 422 and "only after the last test" in earlier.text
    assert client.post(f"/participants/{person.id}/incentives/missed",
                       data={"csrf_token": token, "missed_on": today.isoformat()}).status_code == 303
    again = client.post(f"/participants/{person.id}/incentives/missed",
                        data={"csrf_token": token, "missed_on": today.isoformat()})
    assert again.status_code == 422 and "is already recorded" in again.text
    cash = client.post(f"/participants/{person.id}/incentives/exchanges",
                       data={"csrf_token": token, "amount": "99.00", "item": "Groceries"})
    assert cash.status_code == 422 and "has $6.25 of voucher credit" in cash.text
    nothing = client.post(f"/participants/{person.id}/incentives/exchanges",
                          data={"csrf_token": token, "amount": "abc", "item": ""})
    assert nothing.status_code == 422 and "Enter an amount in dollars" in nothing.text
    done = client.post(f"/participants/{person.id}/incentives/exchanges",
                       data={"csrf_token": token, "amount": "5", "item": "Bus pass"}, follow_redirects=True)
    assert "$5.00 of voucher credit exchanged." in done.text and "Bus pass" in done.text
    client.post("/logout", data={"csrf_token": token})
    login(client, director.email)
    token = csrf_token(client.get("/contingency/prizes").text)
    assert client.post("/contingency/prizes", data={"csrf_token": token, "size": "small", "name": "Bus token",
                                                    "value": "1", "count": "3"}).status_code == 303
    twice = client.post("/contingency/prizes", data={"csrf_token": token, "size": "small", "name": "bus token",
                                                     "value": "1", "count": "3"})
    assert twice.status_code == 422 and "already has a prize named bus token" in twice.text
    prize = services.prizes_of(program.id)[0]
    too_many = client.post(f"/contingency/prizes/{prize.id}/stock",
                           data={"csrf_token": token, f"stock-{prize.id}-change": "-4"})
    assert too_many.status_code == 422 and "Only 3 Bus token are in stock" in too_many.text
    assert prize.in_stock == 3
    actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("cm.%"))))
    assert {"cm.missed", "cm.exchange", "cm.prize_add", "cm.view"} <= actions


def test_meetings_attended_earn_draws_when_the_program_says_so(clinic):
    from datetime import time

    from facilitator.attendance.models import Attendance
    from facilitator.curricula.models import Module
    from facilitator.groups.models import Group, Meeting
    from facilitator.participants.models import Enrollment
    from facilitator.programs.models import AttendanceStatus

    program, today, director, staff, person = clinic
    run_protocol(program, director, replace(FISHBOWL, attendance_draws=2), today - timedelta(weeks=12))
    group_id = db.session.scalar(select(Enrollment.group_id).where(Enrollment.participant_id == person.id))
    status = {s.code: s.id for s in db.session.scalars(select(AttendanceStatus).where(
        AttendanceStatus.program_id == program.id))}
    version_id = db.session.get(Group, group_id).version_id
    module_id = db.session.scalar(select(Module.id).where(Module.version_id == version_id, Module.code == "RP 1"))
    for n, code in enumerate(("present", "absent", "late")):
        meeting = Meeting(group_id=group_id, date=today - timedelta(days=n + 1), start_time=time(18), track_code="RP",
                          minutes=90, status="held", module_id=module_id)
        db.session.add(meeting)
        db.session.flush()
        db.session.add(Attendance(meeting_id=meeting.id, participant_id=person.id, status_id=status[code],
                                  minutes=90 if code != "absent" else 0, recorded_by_id=staff.id))
    db.session.flush()
    ledger = reads.ledger_of(person, reads.protocols_of(program.id))
    assert [(o.kind, o.draws) for o in ledger.outcomes] == [("attendance", 2), ("attendance", 2)]
    drawn = services.make_draw(person, staff, today, randbelow=lambda n: 0)
    assert drawn.draw.attendance_id is not None and drawn.draw.drug_test_id is None and drawn.still_owed == 3
