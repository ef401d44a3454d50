"""Contingency management (CM): the protocol rules, as plain data in and plain data out.

A program runs a protocol: prize draws from a bowl of slips (the "fishbowl") or vouchers whose
value escalates. Each counted test is a success (negative for the target substances) or a failure
(positive, refused, or missed); each consecutive success earns more, a failure resets to the start,
and after `return_after` consecutive successes following a reset the participant is paid at the
level they had reached before it (one slip does not wipe out months of effort).

The outcome of every test follows from the protocols and the history alone: `outcomes` replays
the whole history in order, so the same sequence always gives the same draws or values. A protocol
change applies from its `effective_from` day on; earlier events keep the rules of their day.
Only the slip a draw picks is random, and the caller supplies the number (see `slip_at`).

Money is in whole cents throughout.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

KINDS = ("off", "prize", "voucher")
SIZES = ("good_job", "small", "large", "jumbo")  # slips in the bowl; "good job" wins no prize
PRIZE_SIZES = SIZES[1:]
TEST_KINDS = ("urine", "breath", "oral", "other")
UNCLEAR = ("dilute", "invalid")  # results that prove nothing either way
UNCLEAR_RULES = ("positive", "ignored")

# The typical published fishbowl (Petry): 500 slips, about half "good job", 42% small, 8% large,
# one jumbo; and the classic voucher schedule (Higgins). Every number is a program setting.
DEFAULT_BOWL = {"good_job": 250, "small": 209, "large": 40, "jumbo": 1}
DEFAULT_PRIZE_CENTS = {"good_job": 0, "small": 100, "large": 2000, "jumbo": 10000}


@dataclass(frozen=True)
class Protocol:
    """The CM rules a program runs from a day on."""

    kind: str = "off"
    effective_from: date = date(2000, 1, 1)
    # which tests count
    test_kinds: frozenset[str] = frozenset({"urine", "oral"})
    target_substances: frozenset[str] = frozenset()  # empty: any substance found makes a test positive
    observed_only: bool = False
    unclear_counts_as: str = "positive"  # a dilute or invalid result: "positive" or "ignored"
    max_days_between_tests: int = 0  # 0: no rule; else a longer gap counts as one missed test
    return_after: int = 3  # successes after a reset that bring back the level before it (0: never)
    # prize draws
    first_draws: int = 1
    draw_step: int = 1
    max_draws: int = 8
    bonus_draws_all_clear: int = 0  # extra draws when a test found no substance at all
    attendance_draws: int = 0  # draws per group meeting attended (0: attendance earns nothing)
    bowl: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_BOWL))
    prize_cents: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_PRIZE_CENTS))
    # vouchers
    voucher_start_cents: int = 250
    voucher_step_cents: int = 125
    voucher_bonus_cents: int = 1000
    voucher_bonus_every: int = 3
    # limits
    yearly_cap_cents: int = 75000
    budget_cents: int = 0  # the program's budget per year (0: none set)
    year_starts_month: int = 1

    @property
    def on(self) -> bool:
        """Whether CM runs under this protocol."""
        return self.kind != "off"

    def draws_at(self, level: int) -> int:
        """Draws earned by a success at a level of the ladder (1 = first success)."""
        return min(self.first_draws + self.draw_step * (level - 1), self.max_draws)

    def voucher_at(self, level: int) -> int:
        """The voucher value, in cents, of a success at a level (before any bonus)."""
        return self.voucher_start_cents + self.voucher_step_cents * (level - 1)


@dataclass(frozen=True)
class Event:
    """Something in a participant's history that CM may reward or count: a test, a missed test, a
    meeting attended, or money spent on them outside the vouchers (a prize given)."""

    day: date
    kind: str  # test | missed | attendance | spent
    key: str  # where it comes from: "test:12", "missed:3", "attendance:55", "spent:9"
    result: str = ""  # a test's result: negative, positive, dilute, invalid, refused
    test_kind: str = ""  # urine, breath, oral, other
    substances: tuple[str, ...] = ()
    observed: bool = False
    cents: int = 0  # a "spent" event's amount
    order: int = 0  # the order of events on the same day (the row id)


@dataclass(frozen=True)
class Outcome:
    """What one event earned under the protocol of its day."""

    key: str
    day: date
    kind: str  # test | missed | attendance | gap (a missed test found from the days between tests)
    verdict: str  # success | failure | attended | not_counted | off
    why: str = ""  # for not_counted: kind | observed | unclear; for failure: positive | refused | missed | unclear
    protocol: str = "off"
    level: int = 0  # the level on the ladder a success was paid at
    streak: int = 0  # consecutive successes after this event
    draws: int = 0  # draws earned (bonus and attendance draws included)
    bonus_draws: int = 0
    voucher_cents: int = 0  # the voucher earned
    bonus_cents: int = 0  # the part of voucher_cents that is the bonus
    refused_cents: int = 0  # a voucher not given because it would pass the yearly cap
    returned: bool = False  # this success brought back the level reached before the last reset
    reset: bool = False  # this failure ended a streak or a climb


@dataclass(frozen=True)
class Ladder:
    """Where a participant stands after their history: the next success's level and what to restore."""

    next_level: int = 1
    streak: int = 0
    since_reset: int | None = None  # successes since the last reset (None: never reset)
    restore_to: int = 0  # the level to come back to after return_after successes (0: none)
    last_test: date | None = None  # the last counted test or missed test


@dataclass(frozen=True)
class Standing:
    """A participant's CM position, for the pages: the streak and what comes next."""

    protocol: Protocol
    streak: int
    next_level: int
    next_draws: int
    next_cents: int  # the next voucher (bonus included)
    next_bonus: bool
    returns_in: int  # successes until the level before the reset comes back (0: none pending)
    return_level_draws: int
    return_level_cents: int
    overdue: bool  # the days since the last test pass the protocol's gap: the next test starts at 1


def year_start(day: date, first_month: int) -> date:
    """The first day of the cap year that holds the day (the year starts on the 1st of first_month)."""
    start = date(day.year, first_month, 1)
    return start if start <= day else date(day.year - 1, first_month, 1)


def protocol_on(protocols: Sequence[Protocol], day: date) -> Protocol:
    """The protocol in effect on a day: the last one (in the given order) starting on or before it."""
    chosen = Protocol()
    for p in protocols:
        if p.effective_from <= day:
            chosen = p
    return chosen


def judge(protocol: Protocol, event: Event) -> tuple[str, str]:
    """A test's verdict under a protocol: (success | failure | not_counted, why)."""
    if event.test_kind not in protocol.test_kinds:
        return "not_counted", "kind"
    if protocol.observed_only and not event.observed and event.result != "refused":
        return "not_counted", "observed"
    if event.result == "negative":
        return "success", ""
    if event.result == "refused":
        return "failure", "refused"
    if event.result in UNCLEAR:
        return ("failure", "unclear") if protocol.unclear_counts_as == "positive" else ("not_counted", "unclear")
    targets = protocol.target_substances
    if targets and not targets.intersection(event.substances):
        return "success", ""  # positive only for substances the program does not target
    return "failure", "positive"


def _fail(ladder: Ladder) -> tuple[Ladder, bool]:
    """A failure: back to level 1, remembering the level reached for the return."""
    reached = ladder.next_level - 1
    reset = ladder.streak > 0 or reached > 0
    return Ladder(next_level=1, streak=0, since_reset=0, restore_to=max(ladder.restore_to, reached),
                  last_test=ladder.last_test), reset


def _succeed(protocol: Protocol, ladder: Ladder) -> tuple[Ladder, int, bool]:
    """A success: the level it is paid at, and whether it is the return to the level before a reset."""
    level, returned = ladder.next_level, False
    since = None if ladder.since_reset is None else ladder.since_reset + 1
    if ladder.restore_to and protocol.return_after and since == protocol.return_after:
        if ladder.restore_to > level:
            level, returned = ladder.restore_to, True
        restore_to = 0
    else:
        restore_to = ladder.restore_to
    return Ladder(next_level=level + 1, streak=ladder.streak + 1, since_reset=since, restore_to=restore_to,
                  last_test=ladder.last_test), level, returned


def _sort_key(event: Event) -> tuple:
    # On one day: spending first (it was before the visit's reward), then tests and misses, attendance last.
    rank = {"spent": 0, "missed": 1, "test": 2, "attendance": 3}.get(event.kind, 4)
    return event.day, rank, event.order


def outcomes(protocols: Sequence[Protocol], events: Iterable[Event]) -> tuple[list[Outcome], Ladder]:
    """Replay a participant's history: the outcome of every event, and where they stand after it."""
    ladder = Ladder()
    spent: dict[date, int] = {}  # cents committed per cap year (vouchers earned and prizes given)
    out: list[Outcome] = []
    for event in sorted(events, key=_sort_key):
        protocol = protocol_on(protocols, event.day)
        year = year_start(event.day, protocol.year_starts_month)
        if event.kind == "spent":
            spent[year] = spent.get(year, 0) + event.cents
            continue
        if not protocol.on:
            out.append(Outcome(event.key, event.day, event.kind, "off"))
            continue
        if event.kind == "attendance":
            draws = protocol.attendance_draws if protocol.kind == "prize" else 0
            out.append(Outcome(event.key, event.day, "attendance", "attended" if draws else "not_counted",
                               protocol=protocol.kind, streak=ladder.streak, draws=draws))
            continue
        if event.kind == "missed":
            verdict, why = "failure", "missed"
        else:
            verdict, why = judge(protocol, event)
        if verdict == "not_counted":
            out.append(Outcome(event.key, event.day, event.kind, verdict, why, protocol.kind, streak=ladder.streak))
            continue
        gap = protocol.max_days_between_tests
        if gap and ladder.last_test is not None and (event.day - ladder.last_test).days > gap:
            ladder, reset = _fail(ladder)
            out.append(Outcome(f"gap:{event.key}", ladder.last_test + timedelta(days=gap + 1), "gap", "failure",
                               "missed", protocol.kind, reset=reset))
        ladder = replace(ladder, last_test=event.day)
        if verdict == "failure":
            ladder, reset = _fail(ladder)
            out.append(Outcome(event.key, event.day, event.kind, "failure", why, protocol.kind, reset=reset))
            continue
        ladder, level, returned = _succeed(protocol, ladder)
        if protocol.kind == "prize":
            bonus = protocol.bonus_draws_all_clear if event.result == "negative" and not event.substances else 0
            out.append(Outcome(event.key, event.day, event.kind, "success", "", "prize", level, ladder.streak,
                               protocol.draws_at(level) + bonus, bonus, returned=returned))
            continue
        every = protocol.voucher_bonus_every
        bonus = protocol.voucher_bonus_cents if every and ladder.streak % every == 0 else 0
        value = protocol.voucher_at(level) + bonus
        if spent.get(year, 0) + value > protocol.yearly_cap_cents:
            out.append(Outcome(event.key, event.day, event.kind, "success", "cap", "voucher", level, ladder.streak,
                               refused_cents=value, returned=returned))
            continue
        spent[year] = spent.get(year, 0) + value
        out.append(Outcome(event.key, event.day, event.kind, "success", "", "voucher", level, ladder.streak,
                           voucher_cents=value, bonus_cents=bonus, returned=returned))
    return out, ladder


def standing(protocol: Protocol, ladder: Ladder, today: date) -> Standing:
    """What the next test earns if it is negative, and how far the return to the old level is."""
    gap = protocol.max_days_between_tests
    overdue = bool(gap and ladder.last_test is not None and (today - ladder.last_test).days > gap)
    if overdue:
        ladder, _ = _fail(ladder)
    after, level, _ = _succeed(protocol, ladder)
    every = protocol.voucher_bonus_every
    bonus = bool(every and after.streak % every == 0)
    returns_in = 0
    if ladder.restore_to > ladder.next_level and protocol.return_after and ladder.since_reset is not None:
        returns_in = max(protocol.return_after - ladder.since_reset, 0)
    return Standing(protocol, ladder.streak, level, protocol.draws_at(level),
                    protocol.voucher_at(level) + (protocol.voucher_bonus_cents if bonus else 0), bonus, returns_in,
                    protocol.draws_at(ladder.restore_to) if returns_in else 0,
                    protocol.voucher_at(ladder.restore_to) if returns_in else 0, overdue)


# --- the bowl ----------------------------------------------------------------------------------

def bowl_total(bowl: Mapping[str, int]) -> int:
    """How many slips are in the bowl."""
    return sum(bowl.get(size, 0) for size in SIZES)


def slip_at(bowl: Mapping[str, int], number: int) -> str:
    """The slip at a position 0..total-1 of the bowl, the sizes laid out in a fixed order. A draw
    picks the position with a cryptographically sound random number; every slip goes back in."""
    if not 0 <= number < bowl_total(bowl):
        raise ValueError("the number must point at a slip in the bowl")
    for size in SIZES:
        count = bowl.get(size, 0)
        if number < count:
            return size
        number -= count
    raise AssertionError("unreachable")


def expected_cents(bowl: Mapping[str, int], prize_cents: Mapping[str, int]) -> int:
    """The average cost of one draw, in cents (rounded up: the budget plans for the larger figure)."""
    total = bowl_total(bowl)
    if not total:
        return 0
    worth = sum(bowl.get(s, 0) * prize_cents.get(s, 0) for s in SIZES)
    return -(-worth // total)


def largest_cents(bowl: Mapping[str, int], prize_cents: Mapping[str, int]) -> tuple[str, int]:
    """The largest prize a draw can give: its size and value."""
    best = ("good_job", 0)
    for size in SIZES:
        if bowl.get(size, 0) and prize_cents.get(size, 0) >= best[1]:
            best = (size, prize_cents.get(size, 0))
    return best


@dataclass(frozen=True)
class Refusal:
    """Why a reward cannot be given: the limit it would pass, and the figures."""

    limit: str  # cap | budget
    at_stake: int  # the most this reward could cost
    size: str  # the slip size that could cost it ("" for a voucher)
    left: int  # what is left under the limit
    limit_cents: int


def check_draw(protocol: Protocol, person_committed: int, program_committed: int) -> Refusal | None:
    """Refuse a draw whose largest possible prize would pass the participant's yearly cap or the
    program's budget. Committed: spent and owed so far (prizes given or drawn, vouchers earned)."""
    size, at_stake = largest_cents(protocol.bowl, protocol.prize_cents)
    left = protocol.yearly_cap_cents - person_committed
    if at_stake > left:
        return Refusal("cap", at_stake, size, max(left, 0), protocol.yearly_cap_cents)
    if protocol.budget_cents:
        left = protocol.budget_cents - program_committed
        if at_stake > left:
            return Refusal("budget", at_stake, size, max(left, 0), protocol.budget_cents)
    return None


def check_protocol(p: Protocol) -> dict[str, str]:
    """What is wrong with a protocol's settings, by setting name (empty when nothing is)."""
    problems: dict[str, str] = {}

    def within(name: str, value: int, low: int, high: int, what: str) -> None:
        if not low <= value <= high:
            problems[name] = f"{what} must be from {low} to {high}."

    if p.kind not in KINDS:
        problems["kind"] = "Choose off, prize draws or vouchers."
    if not p.test_kinds or not set(p.test_kinds) <= set(TEST_KINDS):
        problems["test_kinds"] = "Choose at least one kind of test that counts."
    if p.unclear_counts_as not in UNCLEAR_RULES:
        problems["unclear_counts_as"] = "Choose how a dilute or invalid result counts."
    within("max_days_between_tests", p.max_days_between_tests, 0, 60, "The days between tests")
    within("return_after", p.return_after, 0, 12, "The successes before the return")
    within("first_draws", p.first_draws, 1, 20, "The first draws")
    within("draw_step", p.draw_step, 0, 10, "The step")
    within("max_draws", p.max_draws, 1, 30, "The most draws")
    if "max_draws" not in problems and "first_draws" not in problems and p.max_draws < p.first_draws:
        problems["max_draws"] = "The most draws cannot be fewer than the first draws."
    within("bonus_draws_all_clear", p.bonus_draws_all_clear, 0, 10, "The bonus draws")
    within("attendance_draws", p.attendance_draws, 0, 10, "The draws per meeting")
    for size in SIZES:
        within(f"bowl_{size}", p.bowl.get(size, 0), 0, 10000, "The number of slips")
    if p.kind == "prize" and "bowl_good_job" not in problems and bowl_total(p.bowl) == 0:
        problems["bowl_good_job"] = "Put at least one slip in the bowl."
    def within_money(name: str, value: int, low: int, high: int, what: str) -> None:
        if not low <= value <= high:
            problems[name] = f"{what} must be from ${low / 100:,.2f} to ${high / 100:,.2f}."

    for size in PRIZE_SIZES:
        within_money(f"prize_{size}", p.prize_cents.get(size, 0), 0, 100000, "A prize's value")
    if p.kind == "prize" and not problems and largest_cents(p.bowl, p.prize_cents)[1] > p.yearly_cap_cents:
        problems["yearly_cap_cents"] = "The yearly cap must be at least the value of the largest prize in the bowl."
    within_money("voucher_start_cents", p.voucher_start_cents, 1, 100000, "The first voucher")
    within_money("voucher_step_cents", p.voucher_step_cents, 0, 100000, "The step")
    within_money("voucher_bonus_cents", p.voucher_bonus_cents, 0, 100000, "The bonus")
    within("voucher_bonus_every", p.voucher_bonus_every, 0, 20, "The bonus interval")
    within_money("yearly_cap_cents", p.yearly_cap_cents, 100, 10_000_000, "The yearly cap")
    within_money("budget_cents", p.budget_cents, 0, 1_000_000_000, "The budget")
    within("year_starts_month", p.year_starts_month, 1, 12, "The month the year starts")
    return problems
