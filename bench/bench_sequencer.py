"""Benchmark the sequencer: a year of meetings for 50 groups, plans for 2,000 participants.

The web app's view of a program in mid-year: 50 groups with a year's calendar each (26 weeks of
history, 26 weeks planned with the year's holidays), 2,000 participants admitted over the past
26 weeks, each with credits, missing modules, hours, a projected completion and make-up
suggestions across all 50 groups.

Run: .venv/bin/python bench/bench_sequencer.py [--groups 50] [--participants 2000] [--repeat 3]

Prints the time of each stage and the ratio of the whole run to a single group with its share of
participants (about 50 when the work grows linearly with the number of groups). Target: the
whole run under 1 s. The structure is matrix-16's (IC 3, ERS 8, RP 32, FE 12, SS 36, RA 1),
built in code so the figures do not depend on the module texts.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import date, timedelta

from facilitator.domain.curriculum import PatternSlot
from facilitator.domain.sequencer import (
    Attendance,
    Cancellation,
    Deliveries,
    GroupSpec,
    Rules,
    Stay,
    TrackPlan,
    build_calendar,
    makeup_suggestions,
    participant_progress,
)

YEAR_START = date(2027, 1, 4)
UNTIL = YEAR_START + timedelta(days=364)
TODAY = YEAR_START + timedelta(weeks=26)  # records up to here; the rest of the year is planned
HOLIDAYS = [date(2027, 1, 18), date(2027, 2, 15), date(2027, 5, 31), date(2027, 7, 5), date(2027, 9, 6),
            date(2027, 11, 25), date(2027, 11, 26), date(2027, 12, 24), date(2027, 12, 31)]
PATTERN = (
    PatternSlot("mon", "17:30", "ERS", 50), PatternSlot("mon", "18:30", "RP", 90),
    PatternSlot("wed", "18:30", "FE", 90), PatternSlot("wed", "18:30", "SS", 90),
    PatternSlot("fri", "17:30", "ERS", 50), PatternSlot("fri", "18:30", "RP", 90),
)


def plan(code: str, n: int, kind: str = "group", ordering: str = "rotating", minutes: int = 90,
         required: bool = True, first_week: int = 1) -> TrackPlan:
    return TrackPlan(code, kind, ordering, tuple(f"{code} {i}" for i in range(1, n + 1)), (minutes,) * n,
                     required, first_week)


TRACKS = (
    plan("IC", 3, "individual", "as-needed", 50), plan("ERS", 8, minutes=50), plan("RP", 32),
    plan("FE", 12, "family"), plan("SS", 36, ordering="pool", required=False, first_week=13),
    plan("RA", 1, "individual", "as-needed", 50, required=False),
)


def make_groups(count: int, rng: random.Random) -> list[tuple[GroupSpec, list[Cancellation]]]:
    """Groups that started at different rotation points, each with a few cancellations."""
    out = []
    for g in range(count):
        starts = tuple((t.code, rng.choice(t.modules)) for t in TRACKS if t.code in ("ERS", "RP", "FE", "SS"))
        spec = GroupSpec(f"g{g}", YEAR_START + timedelta(days=rng.randrange(0, 7)), PATTERN, TRACKS, starts)
        cancels = [Cancellation(YEAR_START + timedelta(days=rng.randrange(0, 364)), rng.choice([None, "RP", "FE"]))
                   for _ in range(3)]
        out.append((spec, cancels))
    return out


def make_people(count: int, groups: int, rng: random.Random) -> list[tuple[int, Stay, set[date]]]:
    """Admissions over the 26 weeks before today; a third discharged early; a few days missed."""
    people = []
    for _ in range(count):
        admitted = YEAR_START + timedelta(days=rng.randrange(0, 26 * 7))
        discharged = admitted + timedelta(weeks=rng.randrange(2, 20)) if rng.random() < 0.33 else None
        absent = {admitted + timedelta(days=rng.randrange(0, 140)) for _ in range(rng.randrange(0, 8))}
        people.append((rng.randrange(groups), Stay(admitted, discharged), absent))
    return people


def run(groups, people) -> dict[str, float]:
    """One full pass as of `TODAY`; returns the seconds spent in each stage."""
    t0 = time.perf_counter()
    calendars = [build_calendar(spec, UNTIL, HOLIDAYS, cancels, "postpone") for spec, cancels in groups]
    t1 = time.perf_counter()
    rules = Rules(unrecorded="present")  # the absences are the rows, as in the simulator
    by_day = []
    for cal in calendars:
        index: dict[date, list] = {}
        for m in cal.meetings:
            if m.held and m.date <= TODAY:
                index.setdefault(m.date, []).append(m)
        by_day.append(index)
    results = []
    for g, stay, absent in people:
        rows = [Attendance(m, False, 0) for day in absent for m in by_day[g].get(day, ())]
        results.append(participant_progress(stay, calendars[g], rows, as_of=TODAY, rules=rules))
    t2 = time.perf_counter()
    deliveries = Deliveries(calendars)
    suggestions = sum(len(makeup_suggestions(progress, deliveries)) for progress in results)
    t3 = time.perf_counter()
    return {"calendars": t1 - t0, "progress": t2 - t1, "makeups": t3 - t2, "total": t3 - t0,
            "meetings": sum(len(c.meetings) for c in calendars), "suggestions": suggestions}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=50)
    parser.add_argument("--participants", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(2027)
    groups = make_groups(args.groups, rng)
    people = make_people(args.participants, args.groups, rng)
    share = [(0, stay, absent) for g, stay, absent in people if g == 0]

    full = [run(groups, people) for _ in range(args.repeat)]
    single = [run(groups[:1], share) for _ in range(args.repeat)]
    med = {k: statistics.median(r[k] for r in full) for k in full[0]}
    one = {k: statistics.median(r[k] for r in single) for k in single[0]}
    print(f"{args.groups} groups x 1 year: {med['meetings']:.0f} meetings; {len(people)} participants;"
          f" {med['suggestions']:.0f} make-up suggestions (median of {args.repeat} runs)")
    for stage in ("calendars", "progress", "makeups", "total"):
        ratio = med[stage] / one[stage] if one[stage] else float("nan")
        print(f"  {stage:<10} {med[stage] * 1000:8.1f} ms   one group ({len(share)} participants):"
              f" {one[stage] * 1000:6.1f} ms   ratio {ratio:5.1f}")
    per = med["progress"] / len(people) * 1e6
    print(f"  per participant: {per:.0f} us; target total < 1000 ms: {'met' if med['total'] < 1 else 'MISSED'}")


if __name__ == "__main__":
    main()
