"""Properties of the sequencer that must hold for any admission date, holiday set or absence."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from facilitator.domain.sequencer import (
    Attendance,
    Calendar,
    Cancellation,
    ExplicitCredit,
    GroupSpec,
    Rules,
    Stay,
    build_calendar,
    participant_progress,
    simulate,
    track_plans,
)

from .test_sequencer_support import DEFAULT_PATTERN, matrix_like, pattern_json

START = date(2027, 1, 4)  # a Monday
UNTIL = START + timedelta(days=520)
PERFECT = Rules(unrecorded="present")
CURRICULUM = matrix_like()
PLANS = track_plans(CURRICULUM)
ROTATING = ("ERS", "RP", "FE")
SIZES = {"ERS": 8, "RP": 32, "FE": 12}

admissions = st.integers(0, 200).map(lambda n: START + timedelta(days=n))
start_points = st.fixed_dictionaries({code: st.integers(1, size) for code, size in SIZES.items()})


def group(starts: dict[str, int] | None = None, gid: str = "g1") -> GroupSpec:
    """The default Mon/Wed/Fri group, optionally joining each rotation mid-way."""
    pairs = tuple((code, f"{code} {n}") for code, n in (starts or {}).items())
    return GroupSpec(gid, START, DEFAULT_PATTERN, PLANS, start_modules=pairs)


def held(calendar: Calendar, track: str, first: date, last: date | None = None):
    """The held meetings of a track dated first..last."""
    return [m for m in calendar.meetings if m.track == track and m.held and m.date >= first
            and (last is None or m.date <= last)]


@settings(max_examples=120, deadline=None)
@given(admissions, start_points)
def test_perfect_attendance_completes_each_track_in_one_rotation(admitted, starts):
    """ERS within 4 weeks + 1 meeting, FE within 12 weeks + 1, RP within 16 weeks + 1 meeting."""
    calendar = build_calendar(group(starts), UNTIL)
    progress = participant_progress(Stay(admitted), calendar, as_of=UNTIL, rules=PERFECT)
    for code, weeks in (("ERS", 4), ("FE", 12), ("RP", 16)):
        done = progress.track(code).completed_on
        assert done is not None
        one_more = held(calendar, code, admitted + timedelta(weeks=weeks))[0].date
        assert done <= one_more
        # Exactly one rotation: no meeting is wasted on a repeat.
        assert len(held(calendar, code, admitted, done)) == SIZES[code]
    assert progress.group_completed_on == max(progress.track(c).completed_on for c in ROTATING)
    assert progress.completed_on is None  # IC is credited only by individual sessions


holiday_sets = st.lists(st.integers(0, 400).map(lambda n: START + timedelta(days=n)), max_size=25)
cancel_sets = st.lists(st.tuples(st.integers(0, 400).map(lambda n: START + timedelta(days=n)),
                                 st.sampled_from([None, "ERS", "RP", "FE", "SS"])), max_size=25)


@settings(max_examples=80, deadline=None)
@given(admissions, holiday_sets, cancel_sets, start_points)
def test_postpone_never_skips_a_module(admitted, holidays, cancels, starts):
    """Under postpone the held meetings run through the modules without a gap, and so does
    every participant's chain of credits, whatever is cancelled."""
    cancellations = [Cancellation(d, t) for d, t in cancels]
    calendar = build_calendar(group(starts), UNTIL, holidays, cancellations, "postpone")
    progress = participant_progress(Stay(admitted), calendar, as_of=UNTIL, rules=PERFECT)
    for plan in PLANS:
        if not plan.scheduled:
            continue
        delivered = [plan.position[m.module] for m in held(calendar, plan.code, START)]
        assert all((b - a) % len(plan.modules) == 1 for a, b in zip(delivered, delivered[1:], strict=False))
        chain = [plan.position[c.module] for c in progress.track(plan.code).credits]
        assert all((b - a) % len(plan.modules) == 1 for a, b in zip(chain, chain[1:], strict=False))
    for code in ROTATING:
        done = progress.track(code).completed_on
        assert done is not None and len(held(calendar, code, admitted, done)) == SIZES[code]


@settings(max_examples=80, deadline=None)
@given(admissions, st.data())
def test_no_module_is_credited_twice(admitted, data):
    """Absences, partial minutes, another group's meetings and make-ups never credit a module twice."""
    policy = data.draw(st.sampled_from(["postpone", "skip"]))
    holidays = data.draw(holiday_sets)
    own = build_calendar(group(data.draw(start_points)), UNTIL, holidays, (), policy)
    other = build_calendar(group(data.draw(start_points), "g2"), UNTIL, (), (), policy)
    mine = [m for m in own.meetings if m.held and admitted <= m.date]
    theirs = [m for m in other.meetings if m.held and admitted <= m.date]
    rows = [Attendance(m, data.draw(st.booleans()), data.draw(st.sampled_from([0, 40, 70, 90])))
            for m in data.draw(st.lists(st.sampled_from(mine), max_size=40, unique=True))]
    rows += [Attendance(m, True, 90) for m in data.draw(st.lists(st.sampled_from(theirs), max_size=10, unique=True))]
    codes = [c for plan in PLANS for c in plan.modules]
    credits = [ExplicitCredit(c, admitted + timedelta(days=data.draw(st.integers(0, 300))),
                              data.draw(st.sampled_from(["make-up", "override"])), "counselor", "covered")
               for c in data.draw(st.lists(st.sampled_from(codes), max_size=10))]
    progress = participant_progress(Stay(admitted), own, rows, credits, as_of=UNTIL)
    for plan, track in zip(PLANS, progress.tracks, strict=True):
        credited = [c.module for c in track.credits]
        assert len(credited) == len(set(credited))
        assert sorted(credited + list(track.missing), key=plan.position.get) == list(plan.modules)
        assert all(c.date <= UNTIL for c in track.credits)
        assert (track.completed_on is not None) == (not track.missing)


@settings(max_examples=100, deadline=None)
@given(admissions, st.integers(0, 31), start_points)
def test_one_rp_absence_completes_one_rotation_later(admitted, k, starts):
    """Missing the k-th RP meeting moves RP completion to the next delivery of that module."""
    calendar = build_calendar(group(starts), UNTIL)
    rp = held(calendar, "RP", admitted)
    absent_day = rp[k].date
    missed = rp[k].module
    rows = [Attendance(m, False, 0) for m in calendar.meetings if m.held and m.date == absent_day]
    progress = participant_progress(Stay(admitted), calendar, rows, as_of=UNTIL, rules=PERFECT)
    again = next(m for m in rp if m.date > absent_day and m.module == missed)
    assert progress.track("RP").completed_on == again.date
    assert again is rp[k + 32]  # one whole rotation after the absence
    assert progress.track("RP").credits[-1].module == missed


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_cohort_equals_open_when_everyone_starts_together(data):
    """A cohort and an open group give the same output when all are admitted on the start date."""
    until = START + timedelta(days=data.draw(st.integers(0, 160)))
    span = (until - START).days
    some_day = st.integers(0, span).map(lambda n: (START + timedelta(days=n)).isoformat())
    scenario = {
        "start": START.isoformat(), "until": until.isoformat(), "slots": pattern_json(),
        "holidays": data.draw(st.lists(some_day, max_size=5)),
        "cancellations": [{"date": d} for d in data.draw(st.lists(some_day, max_size=3))],
        "policy": data.draw(st.sampled_from(["postpone", "skip"])),
        "participants": [
            {"id": f"p{i}", "admitted": START.isoformat(), "absent": data.draw(st.lists(some_day, max_size=6))}
            for i in range(data.draw(st.integers(1, 4)))
        ],
    }
    cohort = {**scenario, "mode": "cohort"}
    assert simulate(cohort, curriculum=CURRICULUM) == simulate(scenario, curriculum=CURRICULUM)
    # Leaving `admitted` out in a cohort means the start date too.
    bare = {**cohort, "participants": [{k: v for k, v in p.items() if k != "admitted"} for p in cohort["participants"]]}
    assert simulate(bare, curriculum=CURRICULUM) == simulate(scenario, curriculum=CURRICULUM)


@settings(max_examples=60, deadline=None)
@given(admissions, st.integers(0, 300), holiday_sets, start_points, st.sampled_from(["postpone", "skip"]))
def test_the_projection_does_not_depend_on_how_far_the_calendar_is_known(admitted, cut, holidays, starts, policy):
    """With no holidays known after as_of, a calendar known to a year from now and one known only
    to as_of (then extended) give the same credits, completion and projection."""
    as_of = START + timedelta(days=cut)
    past = [d for d in holidays if d <= as_of]
    long = build_calendar(group(starts), UNTIL, past, (), policy)
    short = build_calendar(group(starts), as_of, past, (), policy)
    a = participant_progress(Stay(admitted), long, as_of=as_of, rules=PERFECT)
    b = participant_progress(Stay(admitted), short, as_of=as_of, rules=PERFECT)
    assert a == b


@settings(max_examples=60, deadline=None)
@given(admissions, st.lists(st.integers(0, 200), max_size=12), start_points)
def test_recorded_attendance_agrees_with_assumed_attendance(admitted, absent_days, starts):
    """The web app's records (a row for every meeting attended, no row = absent) give the same
    credits and dates as the simulator's shortcut (present unless a row says absent)."""
    calendar = build_calendar(group(starts), UNTIL, [START + timedelta(days=99)])
    absent = {admitted + timedelta(days=n) for n in absent_days}
    first_week = {plan.code: plan.first_week for plan in PLANS}
    expected = [m for m in calendar.meetings if m.held and m.date >= admitted
                and (m.date - admitted).days // 7 + 1 >= first_week[m.track]]
    absences = [Attendance(m, False, 0) for m in expected if m.date in absent]
    presences = [Attendance(m, True, m.minutes) for m in expected if m.date not in absent]
    simulated = participant_progress(Stay(admitted), calendar, absences, as_of=UNTIL, rules=PERFECT)
    recorded = participant_progress(Stay(admitted), calendar, presences, as_of=UNTIL)
    assert simulated.tracks == recorded.tracks
    assert simulated.group_completed_on == recorded.group_completed_on
