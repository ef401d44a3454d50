"""Contingency management rules on scripted histories: draws and voucher values at each step, the
reset, the return, the cap and the budget. Pure domain: no app, no database."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest

from facilitator.domain import contingency as cm

MONDAY = date(2027, 1, 4)
FISHBOWL = cm.Protocol(kind="prize", effective_from=date(2026, 1, 1), first_draws=1, draw_step=1, max_draws=8,
                       return_after=3)
VOUCHERS = cm.Protocol(kind="voucher", effective_from=date(2026, 1, 1), voucher_start_cents=250,
                       voucher_step_cents=125, voucher_bonus_cents=1000, voucher_bonus_every=3, return_after=3)
SCRIPT = "N N N N M P N N N N"  # negative x4, missed, positive, negative x4: one test a week


def history(script: str, start: date = MONDAY, every: int = 7, **test) -> list[cm.Event]:
    """Events from a script: N negative, P positive (methamphetamine), M missed, R refused, D dilute."""
    out = []
    for n, code in enumerate(script.split()):
        day = start + timedelta(days=every * n)
        if code == "M":
            out.append(cm.Event(day, "missed", f"missed:{n}", order=n))
            continue
        result = {"N": "negative", "P": "positive", "R": "refused", "D": "dilute"}[code]
        out.append(cm.Event(day, "test", f"test:{n}", result=result, test_kind=test.get("kind", "urine"),
                            substances=("methamphetamine",) if code == "P" else (), observed=test.get("observed", True),
                            order=n))
    return out


def test_fishbowl_escalates_resets_on_a_miss_and_returns_after_three_negatives():
    results, ladder = cm.outcomes([FISHBOWL], history(SCRIPT))
    assert [(o.verdict, o.draws) for o in results] == [
        ("success", 1), ("success", 2), ("success", 3), ("success", 4),
        ("failure", 0),  # missed: counts as positive, the streak resets
        ("failure", 0),  # positive
        ("success", 1), ("success", 2),
        ("success", 4),  # the third negative after the reset: back at the level reached before it
        ("success", 5),
    ]
    assert [o.why for o in results if o.verdict == "failure"] == ["missed", "positive"]
    assert results[4].reset and not results[5].reset  # the positive had no streak left to end
    assert [o.returned for o in results].index(True) == 8
    assert [o.streak for o in results] == [1, 2, 3, 4, 0, 0, 1, 2, 3, 4]
    standing = cm.standing(FISHBOWL, ladder, MONDAY + timedelta(weeks=10))
    assert (standing.streak, standing.next_draws, standing.returns_in) == (4, 6, 0)


def test_vouchers_escalate_with_a_bonus_every_third_and_return_after_a_reset():
    results, ladder = cm.outcomes([VOUCHERS], history(SCRIPT))
    assert [o.voucher_cents for o in results] == [250, 375, 500 + 1000, 625, 0, 0, 250, 375, 625 + 1000, 750]
    assert [o.bonus_cents for o in results if o.bonus_cents] == [1000, 1000]
    assert results[8].returned and results[8].level == 4
    standing = cm.standing(VOUCHERS, ladder, MONDAY + timedelta(weeks=10))
    assert (standing.next_cents, standing.next_bonus) == (875, False)


def test_the_standing_during_a_return_says_how_far_the_old_level_is():
    _, ladder = cm.outcomes([FISHBOWL], history("N N N N N P N"))
    standing = cm.standing(FISHBOWL, ladder, MONDAY + timedelta(weeks=7))
    assert (standing.streak, standing.next_draws, standing.returns_in, standing.return_level_draws) == (1, 2, 2, 5)


def test_draws_stop_rising_at_the_maximum_and_a_refused_test_resets():
    capped = cm.Protocol(kind="prize", first_draws=2, draw_step=2, max_draws=5, return_after=0)
    results, _ = cm.outcomes([capped], history("N N N N R N"))
    assert [o.draws for o in results] == [2, 4, 5, 5, 0, 2]
    assert results[4].why == "refused"


def test_without_a_return_a_reset_starts_over():
    plain = cm.Protocol(kind="prize", return_after=0)
    results, _ = cm.outcomes([plain], history("N N N N P N N N N"))
    assert [o.draws for o in results] == [1, 2, 3, 4, 0, 1, 2, 3, 4]


def test_the_yearly_cap_refuses_a_voucher_that_would_pass_it_and_says_how_much():
    tight = cm.Protocol(**{**VOUCHERS.__dict__, "yearly_cap_cents": 2000})
    results, _ = cm.outcomes([tight], history("N N N N"))
    assert [(o.voucher_cents, o.refused_cents, o.why) for o in results] == [
        (250, 0, ""), (375, 0, ""), (0, 1500, "cap"), (625, 0, "")]
    # The refused voucher still counts for the streak: the fourth is paid at level 4.
    assert results[3].level == 4


def test_the_cap_starts_again_with_the_year_and_counts_prizes_given_that_year():
    tight = cm.Protocol(**{**VOUCHERS.__dict__, "yearly_cap_cents": 1000, "voucher_bonus_every": 0})
    december = history("N N N", start=date(2026, 12, 14))
    spent = [cm.Event(date(2026, 12, 1), "spent", "spent:1", cents=400)]
    results, _ = cm.outcomes([tight], december + spent)
    assert [(o.day, o.voucher_cents, o.refused_cents) for o in results] == [
        (date(2026, 12, 14), 250, 0), (date(2026, 12, 21), 0, 375), (date(2026, 12, 28), 0, 500)]
    results, _ = cm.outcomes([tight], history("N N N N", start=date(2026, 12, 21)))
    # 250 + 375 in 2026; 500 in January 2027, and 625 more would pass the 2027 cap of $10
    assert [o.voucher_cents for o in results] == [250, 375, 500, 0]
    fiscal = cm.Protocol(**{**tight.__dict__, "year_starts_month": 7})
    assert cm.year_start(date(2027, 3, 1), 7) == date(2026, 7, 1)
    results, _ = cm.outcomes([fiscal], history("N N N N", start=date(2026, 12, 21)))
    assert [o.voucher_cents for o in results] == [250, 375, 0, 0]


def test_which_tests_count_is_a_setting():
    picky = cm.Protocol(kind="prize", test_kinds=frozenset({"urine"}), observed_only=True,
                        target_substances=frozenset({"methamphetamine", "cocaine"}), unclear_counts_as="ignored")
    events = [
        cm.Event(MONDAY, "test", "test:1", result="negative", test_kind="breath", observed=True, order=1),
        cm.Event(MONDAY, "test", "test:2", result="negative", test_kind="urine", observed=False, order=2),
        cm.Event(MONDAY, "test", "test:3", result="positive", test_kind="urine", substances=("cannabis",),
                 observed=True, order=3),
        cm.Event(MONDAY + timedelta(days=3), "test", "test:4", result="dilute", test_kind="urine", observed=True,
                 order=4),
        cm.Event(MONDAY + timedelta(days=7), "test", "test:5", result="positive", test_kind="urine",
                 substances=("cocaine", "cannabis"), observed=True, order=5),
        cm.Event(MONDAY + timedelta(days=8), "test", "test:6", result="refused", test_kind="urine", observed=False,
                 order=6),
    ]
    results, _ = cm.outcomes([picky], events)
    assert [(o.verdict, o.why) for o in results] == [
        ("not_counted", "kind"), ("not_counted", "observed"),
        ("success", ""),  # positive only for cannabis, which the program does not target
        ("not_counted", "unclear"), ("failure", "positive"),
        ("failure", "refused"),  # a refusal counts even when collection was not observed
    ]
    strict = cm.Protocol(kind="prize")
    results, _ = cm.outcomes([strict], events[3:4])
    assert (results[0].verdict, results[0].why) == ("failure", "unclear")


def test_a_long_gap_between_tests_counts_as_a_missed_test():
    weekly = cm.Protocol(kind="prize", max_days_between_tests=8, return_after=0)
    events = history("N N N") + history("N", start=MONDAY + timedelta(days=30))
    results, ladder = cm.outcomes([weekly], events)
    assert [(o.kind, o.verdict, o.draws) for o in results] == [
        ("test", "success", 1), ("test", "success", 2), ("test", "success", 3),
        ("gap", "failure", 0), ("test", "success", 1)]
    assert results[3].day == MONDAY + timedelta(days=14 + 9)
    assert cm.standing(weekly, ladder, MONDAY + timedelta(days=38)).overdue is False
    late = cm.standing(weekly, ladder, MONDAY + timedelta(days=39))
    assert late.overdue and late.next_draws == 1


def test_attendance_earns_draws_without_touching_the_streak_when_the_program_says_so():
    with_attendance = cm.Protocol(kind="prize", attendance_draws=1)
    events = history("N N") + [cm.Event(MONDAY + timedelta(days=9), "attendance", "attendance:1", order=1)]
    results, _ = cm.outcomes([with_attendance], events)
    assert [(o.kind, o.draws, o.streak) for o in results] == [("test", 1, 1), ("test", 2, 2), ("attendance", 1, 2)]
    results, _ = cm.outcomes([cm.Protocol(kind="prize")], events)
    assert results[-1].verdict == "not_counted" and results[-1].draws == 0


def test_a_protocol_change_applies_from_its_day_on_and_never_rewrites_the_past():
    richer = cm.Protocol(**{**FISHBOWL.__dict__, "effective_from": MONDAY + timedelta(weeks=2), "first_draws": 3,
                            "max_draws": 10})
    before, _ = cm.outcomes([FISHBOWL], history("N N"))
    after, _ = cm.outcomes([FISHBOWL, richer], history("N N N N"))
    assert [o.draws for o in after[:2]] == [o.draws for o in before] == [1, 2]
    assert [o.draws for o in after[2:]] == [5, 6]  # the ladder carries on under the new rule
    off = cm.Protocol(kind="off", effective_from=MONDAY + timedelta(weeks=1))
    results, _ = cm.outcomes([FISHBOWL, off], history("N N"))
    assert [o.verdict for o in results] == ["success", "off"]
    assert cm.outcomes([], history("N"))[0][0].verdict == "off"


def test_the_same_history_always_gives_the_same_outcomes_whatever_order_it_arrives_in():
    events = history(SCRIPT)
    assert cm.outcomes([VOUCHERS], events)[0] == cm.outcomes([VOUCHERS], list(reversed(events)))[0]


def test_bonus_draws_when_a_test_finds_nothing_at_all():
    bonus = cm.Protocol(kind="prize", bonus_draws_all_clear=2, target_substances=frozenset({"cocaine"}))
    events = history("N") + [cm.Event(MONDAY + timedelta(days=7), "test", "test:9", result="positive",
                                      test_kind="urine", substances=("cannabis",), order=9)]
    results, _ = cm.outcomes([bonus], events)
    assert [(o.draws, o.bonus_draws) for o in results] == [(3, 2), (2, 0)]


def test_slips_cover_the_bowl_exactly_once():
    bowl = cm.DEFAULT_BOWL
    assert cm.bowl_total(bowl) == 500
    drawn = Counter(cm.slip_at(bowl, n) for n in range(500))
    assert drawn == Counter(bowl)
    with pytest.raises(ValueError):
        cm.slip_at(bowl, 500)


def test_the_cost_of_a_draw_and_the_largest_prize():
    assert cm.expected_cents(cm.DEFAULT_BOWL, cm.DEFAULT_PRIZE_CENTS) == 222  # (209*100 + 40*2000 + 10000) / 500, rounded up
    assert cm.largest_cents(cm.DEFAULT_BOWL, cm.DEFAULT_PRIZE_CENTS) == ("jumbo", 10000)
    assert cm.largest_cents({**cm.DEFAULT_BOWL, "jumbo": 0}, cm.DEFAULT_PRIZE_CENTS) == ("large", 2000)


def test_a_draw_that_could_pass_the_cap_or_the_budget_is_refused_with_the_figures():
    p = cm.Protocol(kind="prize", yearly_cap_cents=75000, budget_cents=500000)
    assert cm.check_draw(p, 65000, 100000) is None
    refusal = cm.check_draw(p, 65001, 100000)
    assert (refusal.limit, refusal.size, refusal.at_stake, refusal.left) == ("cap", "jumbo", 10000, 9999)
    refusal = cm.check_draw(p, 0, 495000)
    assert (refusal.limit, refusal.left) == ("budget", 5000)
    assert cm.check_draw(cm.Protocol(kind="prize", budget_cents=0), 0, 10**9) is None  # no budget set


def test_settings_are_checked_with_a_message_per_setting():
    assert cm.check_protocol(FISHBOWL) == {}
    assert cm.check_protocol(VOUCHERS) == {}
    bad = cm.Protocol(kind="prize", test_kinds=frozenset(), first_draws=4, max_draws=2,
                      bowl={"good_job": 0, "small": 0, "large": 0, "jumbo": 0}, year_starts_month=13)
    problems = cm.check_protocol(bad)
    assert set(problems) == {"test_kinds", "max_draws", "bowl_good_job", "year_starts_month"}
    assert "fewer than the first draws" in problems["max_draws"]
    low_cap = cm.Protocol(kind="prize", yearly_cap_cents=5000)
    assert "largest prize" in cm.check_protocol(low_cap)["yearly_cap_cents"]
