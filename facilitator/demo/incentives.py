"""The demo program's incentives: prize-based contingency management (the published fishbowl mix) since
its oldest stays began, a stocked prize cabinet, the draws of past weeks made and their prizes handed
over, one missed test, and the latest test's draws still waiting for the demo participant."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, datetime, time, timedelta

from ..auth.models import User
from ..contingency import ledger as reads
from ..contingency import services
from ..contingency.models import CmDraw, CmMissedTest
from ..domain import contingency as cm
from ..extensions import db
from ..participants.models import Participant
from ..programs.models import Program

PROTOCOL = cm.Protocol(kind="prize", first_draws=1, draw_step=1, max_draws=8, return_after=3,
                       max_days_between_tests=10, test_kinds=frozenset({"urine", "oral"}),
                       target_substances=frozenset({"methamphetamine", "amphetamine", "cocaine"}),
                       yearly_cap_cents=75000, budget_cents=500000)
CABINET = (("small", "Bus token", 100, 220), ("small", "Snack pack", 100, 160), ("small", "Coffee card", 150, 120),
           ("large", "Grocery gift card", 2000, 45), ("large", "Movie tickets for two", 2000, 30),
           ("jumbo", "Tablet", 10000, 3))


def build_incentives(program: Program, people: list[Participant], demo_participant: Participant, director: User,
                     staff: User, today: date, rng: random.Random) -> None:
    """Turn CM on, fill the cabinet, and make the past weeks' draws (fixed seed: the same demo everywhere)."""
    start = today - timedelta(weeks=11)
    services.save_protocol(program, replace(PROTOCOL, effective_from=start), director, start)
    cabinet = {size: [] for size in cm.PRIZE_SIZES}
    for size, name, cents, count in CABINET:
        cabinet[size].append(services.add_prize(program, size, name, cents, count, director))
    missed_for = people[2]
    last_test = max((o.day for o in reads.ledger_of(missed_for, [PROTOCOL]).outcomes), default=None)
    if last_test is not None and last_test - timedelta(days=3) > start:
        # History written after the fact (as the demo's tests are): a miss three days before the last test.
        db.session.add(CmMissedTest(participant_id=missed_for.id, missed_on=last_test - timedelta(days=3),
                                    recorded_by_id=staff.id, recorded_at=datetime.combine(last_test, time(9))))
        db.session.flush()
    protocols = reads.protocols_of(program.id)
    for pid, ledger in reads.ledgers(program.id, protocols, [p.id for p in people]).items():
        sources = [o for o in ledger.outcomes if o.draws]
        if pid == demo_participant.id:
            sources = sources[:-1]  # the latest test's draws wait for the demo
        for outcome in sources:
            kind, _, row_id = outcome.key.partition(":")
            for _ in range(outcome.draws):
                number = rng.randrange(cm.bowl_total(PROTOCOL.bowl))
                size = cm.slip_at(PROTOCOL.bowl, number)
                draw = CmDraw(participant_id=pid, drug_test_id=int(row_id) if kind == "test" else None,
                              attendance_id=int(row_id) if kind == "attendance" else None, drawn_on=outcome.day,
                              drawn_at=datetime.combine(outcome.day, time(19)), drawn_by_id=staff.id, number=number,
                              slips=cm.bowl_total(PROTOCOL.bowl), bowl=dict(PROTOCOL.bowl), size=size,
                              size_cents=PROTOCOL.prize_cents.get(size, 0) if size != "good_job" else 0)
                stocked = [p for p in cabinet.get(size, []) if p.in_stock > 0]
                if stocked:
                    prize = rng.choice(stocked)
                    prize.in_stock -= 1
                    draw.prize_id, draw.prize_cents = prize.id, prize.value_cents
                    draw.given_at, draw.given_by_id = draw.drawn_at, staff.id
                db.session.add(draw)
    db.session.flush()
