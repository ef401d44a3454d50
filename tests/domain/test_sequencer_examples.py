"""Worked examples with every date written out: holidays, the skip policy, cancellations of one
track, pool picks, recorded history, the credit share, hours, make-ups and projections.

The little curriculum: RP (4 modules, Mon and Fri 18:30), FE (3, Wed 18:30), SS (a pool of 3 from
week 2, Wed 17:00, not required) and IC (2 individual sessions). January 2027: Mondays are the
4th, 11th, 18th (a holiday) and 25th; Wednesdays 6, 13, 20, 27; Fridays 8, 15, 22, 29.
"""

from __future__ import annotations

from datetime import date

import pytest

from facilitator.domain.curriculum import PatternSlot
from facilitator.domain.sequencer import (
    Attendance,
    Cancellation,
    ExplicitCredit,
    GroupSpec,
    Meeting,
    RecordedMeeting,
    Rules,
    Stay,
    TopicPick,
    build_calendar,
    extend_calendar,
    makeup_suggestions,
    participant_progress,
    simulate,
    track_plans,
)

from .test_sequencer_support import curriculum, track

D = date.fromisoformat
CUR = curriculum(
    track("RP", 4),
    track("FE", 3, kind="family"),
    track("SS", 3, ordering="pool", minutes=60, required=False, first_week=2),
    track("IC", 2, kind="individual", ordering="as-needed", minutes=50),
)
PATTERN = (
    PatternSlot("mon", "18:30", "RP", 90),
    PatternSlot("wed", "17:00", "SS", 60),
    PatternSlot("wed", "18:30", "FE", 90),
    PatternSlot("fri", "18:30", "RP", 90),
)
SLOTS = [{"weekday": s.weekday, "time": s.time, "track": s.track, "minutes": s.minutes} for s in PATTERN]
PERFECT = Rules(unrecorded="present")


def group(gid="A", starts=()):
    return GroupSpec(gid, D("2027-01-04"), PATTERN, track_plans(CUR), start_modules=starts)


def plan_of(calendar, track_code):
    """(date, module, status) of a track's meetings, as written in the examples."""
    return [(m.date.isoformat(), m.module, m.status) for m in calendar.meetings if m.track == track_code]


def run(**overrides):
    scenario = {"start": "2027-01-04", "until": "2027-01-29", "slots": SLOTS, **overrides}
    return simulate(scenario, curriculum=CUR)


def test_a_holiday_postpones_the_module_to_the_next_meeting():
    calendar = build_calendar(group(), D("2027-01-29"), holidays=[D("2027-01-18")])
    assert plan_of(calendar, "RP") == [
        ("2027-01-04", "RP 1", "held"), ("2027-01-08", "RP 2", "held"),
        ("2027-01-11", "RP 3", "held"), ("2027-01-15", "RP 4", "held"),
        ("2027-01-18", "RP 1", "cancelled"),  # Martin Luther King Jr. Day
        ("2027-01-22", "RP 1", "held"),  # postponed, not lost
        ("2027-01-25", "RP 2", "held"), ("2027-01-29", "RP 3", "held"),
    ]
    assert plan_of(calendar, "FE") == [
        ("2027-01-06", "FE 1", "held"), ("2027-01-13", "FE 2", "held"),
        ("2027-01-20", "FE 3", "held"), ("2027-01-27", "FE 1", "held"),
    ]
    assert next(m for m in calendar.meetings if m.date == D("2027-01-18")).reason == "holiday"


def test_the_skip_policy_advances_past_a_cancelled_module():
    calendar = build_calendar(group(), D("2027-01-29"), holidays=[D("2027-01-18")], policy="skip")
    assert plan_of(calendar, "RP")[4:] == [
        ("2027-01-18", "RP 1", "cancelled"),  # RP 1 is missed by everyone this rotation
        ("2027-01-22", "RP 2", "held"), ("2027-01-25", "RP 3", "held"), ("2027-01-29", "RP 4", "held"),
    ]
    assert [(m.date.isoformat(), m.module) for m in extend_calendar(calendar, D("2027-02-05")) if m.track == "RP"] == [
        ("2027-02-01", "RP 1"), ("2027-02-05", "RP 2"),
    ]


def test_holiday_worked_through_the_simulator():
    """Admitted Monday 11 January: RP 3, RP 4, (holiday), RP 1, RP 2 -> RP done on 25 January."""
    out = run(holidays=["2027-01-18"], participants=[{"id": "ana", "admitted": "2027-01-11"}])
    ana = out["participants"][0]
    assert ana["credited"] == {"RP": ["RP 1", "RP 2", "RP 3", "RP 4"], "FE": ["FE 1", "FE 2", "FE 3"],
                               "SS": ["SS 1", "SS 3"]}
    assert ana["missing"] == {"RP": [], "FE": [], "SS": ["SS 2"]}
    # SS starts in program week 2 (from Monday 18th): SS 3 on the 20th, SS 1 on the 27th.
    assert ana["track_completed_on"] == {"RP": "2027-01-25", "FE": "2027-01-27", "SS": None}
    assert ana["completed_on"] == "2027-01-27"
    assert ana["projected_completion"] == "2027-01-27"
    # Week 3 lost Monday's 90 minutes to the holiday; week 2 has no SS (program week 1).
    assert ana["weekly_minutes"] == {"2027-W02": 270, "2027-W03": 240, "2027-W04": 240}
    assert ana["weeks_under_floor"] == ["2027-W02", "2027-W03"]  # W04 ends after `until`


def test_skip_worked_through_the_simulator():
    """Under skip the holiday's RP 1 is gone: admitted on the 15th, RP ends on 1 February, not 29 January."""
    people = [{"id": "ben", "admitted": "2027-01-15"}, {"id": "cy", "admitted": "2027-01-04"}]
    postpone = run(holidays=["2027-01-18"], participants=people)["participants"]
    skip = run(holidays=["2027-01-18"], participants=people, policy="skip")["participants"]
    # postpone: RP 4 (15th), RP 1 (22nd), RP 2 (25th), RP 3 (29th)
    assert postpone[0]["track_completed_on"]["RP"] == "2027-01-29"
    # skip: RP 4 (15th), RP 2 (22nd), RP 3 (25th), RP 4 again (29th) ... RP 1 on Monday 1 February
    assert skip[0]["credited"]["RP"] == ["RP 2", "RP 3", "RP 4"]
    assert skip[0]["missing"]["RP"] == ["RP 1"]
    assert skip[0]["track_completed_on"]["RP"] is None
    # FE (3 on the 20th, 1 on the 27th, 2 on 3 February) is his last track either way.
    assert skip[0]["projected_completion"] == "2027-02-03"
    calendar = build_calendar(group(), D("2027-01-29"), holidays=[D("2027-01-18")], policy="skip")
    ben = participant_progress(Stay(D("2027-01-15")), calendar, as_of=D("2027-01-29"), rules=PERFECT)
    assert ben.track("RP").projected_completion == D("2027-02-01")
    # Admitted on the 4th, cy had RP 1-4 by the 15th: the skip costs her nothing.
    assert skip[1]["track_completed_on"]["RP"] == postpone[1]["track_completed_on"]["RP"] == "2027-01-15"


def test_cancelling_one_track_leaves_the_others_alone():
    calendar = build_calendar(group(), D("2027-01-29"), cancellations=[Cancellation(D("2027-01-13"), "FE")])
    assert plan_of(calendar, "FE") == [
        ("2027-01-06", "FE 1", "held"), ("2027-01-13", "FE 2", "cancelled"),
        ("2027-01-20", "FE 2", "held"), ("2027-01-27", "FE 3", "held"),
    ]
    assert [m for m in plan_of(calendar, "SS") if m[0] == "2027-01-13"] == [("2027-01-13", "SS 2", "held")]
    assert all(status == "held" for _d, _m, status in plan_of(calendar, "RP"))


def test_a_pool_pick_displaces_the_planned_topic_to_the_next_meeting():
    picks = [TopicPick(D("2027-01-13"), "SS", "SS 3")]
    calendar = build_calendar(group(), D("2027-02-03"), picks=picks)
    assert plan_of(calendar, "SS") == [
        ("2027-01-06", "SS 1", "held"), ("2027-01-13", "SS 3", "held"),  # picked
        ("2027-01-20", "SS 2", "held"), ("2027-01-27", "SS 3", "held"), ("2027-02-03", "SS 1", "held"),
    ]
    with pytest.raises(ValueError, match="pool"):
        build_calendar(group(), D("2027-02-03"), picks=[TopicPick(D("2027-01-11"), "RP", "RP 3")])


def test_recorded_history_decides_what_comes_next():
    recorded = [
        RecordedMeeting(D("2027-01-04"), "18:30", "RP", "held", "RP 3"),  # the facilitator taught RP 3
        RecordedMeeting(D("2027-01-11"), "18:30", "RP", "cancelled", None),  # snow
        RecordedMeeting(D("2027-01-12"), "18:30", "RP", "held", "RP 2"),  # an extra meeting on a Tuesday
    ]
    calendar = build_calendar(group(), D("2027-01-22"), recorded=recorded)
    assert plan_of(calendar, "RP") == [
        ("2027-01-04", "RP 3", "held"), ("2027-01-08", "RP 4", "held"),
        ("2027-01-11", "RP 1", "cancelled"), ("2027-01-12", "RP 2", "held"),
        ("2027-01-15", "RP 3", "held"), ("2027-01-18", "RP 4", "held"), ("2027-01-22", "RP 1", "held"),
    ]
    assert [m.recorded for m in calendar.meetings if m.track == "RP"][:4] == [True, False, True, True]


def test_a_rotation_can_start_mid_way():
    calendar = build_calendar(group(starts=(("RP", "RP 3"),)), D("2027-01-15"))
    assert [m for _d, m, _s in plan_of(calendar, "RP")] == ["RP 3", "RP 4", "RP 1", "RP 2"]


def test_the_credit_share_of_a_module_s_minutes():
    """75% of 90 minutes is 67.5: 67 minutes earn no credit, 68 do; both count as hours."""
    calendar = build_calendar(group(), D("2027-01-15"))
    rp = [m for m in calendar.meetings if m.track == "RP"]
    rows = [Attendance(rp[0], True, 67), Attendance(rp[1], True, 68), Attendance(rp[2], False, 0)]
    progress = participant_progress(Stay(D("2027-01-04")), calendar, rows, as_of=D("2027-01-15"))
    assert progress.track("RP").credited == ("RP 2",)
    assert progress.track("RP").missed == ("RP 1", "RP 3", "RP 4")  # no row for the 15th: absent
    assert [(w.week, w.expected, w.attended) for w in progress.weeks] == [
        ("2027-W01", 270, 135), ("2027-W02", 330, 0),  # FE on the 6th and 13th unrecorded: absent
    ]


def test_make_ups_and_individual_sessions_complete_the_program():
    calendar = build_calendar(group(), D("2027-01-29"))
    ana = Stay(D("2027-01-04"))
    rows = [Attendance(m, m.date != D("2027-01-08"), m.minutes) for m in calendar.meetings if m.held]
    credits = [
        ExplicitCredit("RP 2", D("2027-01-12"), "make-up", "counselor", "worksheet reviewed individually", 50),
        ExplicitCredit("IC 1", D("2027-01-04"), "make-up", "counselor", "orientation", 50),
        ExplicitCredit("IC 2", D("2027-01-26"), "override", "director", "transferred from another program"),
    ]
    progress = participant_progress(ana, calendar, rows, credits, as_of=D("2027-01-29"))
    rp = progress.track("RP")
    assert [(c.module, c.date.isoformat(), c.source) for c in rp.credits] == [
        ("RP 1", "2027-01-04", "attendance"), ("RP 3", "2027-01-11", "attendance"),
        ("RP 2", "2027-01-12", "make-up"), ("RP 4", "2027-01-15", "attendance"),
    ]
    assert rp.credits[2].by == "counselor" and rp.credits[2].reason == "worksheet reviewed individually"
    assert rp.completed_on == D("2027-01-15")
    assert progress.track("FE").completed_on == D("2027-01-20")
    assert progress.group_completed_on == D("2027-01-20")
    assert progress.track("IC").completed_on == D("2027-01-26")
    assert progress.completed_on == D("2027-01-26")  # IC 2 came last
    # The make-up's 50 minutes count in week 2 (11-17 January).
    assert next(w for w in progress.weeks if w.week == "2027-W02").attended == 90 + 60 + 90 + 90 + 50


def test_make_up_suggestions_look_at_every_group():
    """Group B's RP rotation started at RP 4; a participant of A who missed RP 2 on the 8th gets
    B's RP 2 on Monday the 11th before A's own next RP 2 on the 22nd."""
    a = build_calendar(group("A"), D("2027-02-26"))
    b = build_calendar(group("B", starts=(("RP", "RP 4"),)), D("2027-02-26"))
    rows = [Attendance(m, m.date != D("2027-01-08"), m.minutes) for m in a.meetings if m.held and m.date <= D("2027-01-08")]
    progress = participant_progress(Stay(D("2027-01-04")), a, rows, as_of=D("2027-01-08"))
    suggestions = {s.module: s for s in makeup_suggestions(progress, [a, b], limit=2)}
    rp2 = suggestions["RP 2"]
    assert rp2.missed and rp2.individual
    assert [(m.group, m.date.isoformat()) for m in rp2.meetings] == [("B", "2027-01-11"), ("A", "2027-01-22")]
    assert not suggestions["RP 3"].missed  # not delivered yet: simply still to come
    assert progress.track("RP").projected_completion == D("2027-01-22")


def test_discharge_ends_expectations_and_projection():
    calendar = build_calendar(group(), D("2027-01-29"))
    progress = participant_progress(Stay(D("2027-01-04"), D("2027-01-13")), calendar, as_of=D("2027-01-29"), rules=PERFECT)
    assert progress.track("RP").credited == ("RP 1", "RP 2", "RP 3")
    assert progress.track("RP").projected_completion is None
    assert progress.projected_completion is None
    assert [w.week for w in progress.weeks] == ["2027-W01", "2027-W02"]
    assert progress.weeks_under_floor == ("2027-W01",)  # week 2 was cut short by the discharge


def test_projection_extends_the_calendar_past_until():
    """Admitted on the 29th, the last known day: everything is projected with perfect attendance."""
    out = run(participants=[{"id": "dee", "admitted": "2027-01-29"}])["participants"][0]
    # RP 4 on Fri 29 Jan is known; RP 1 (1 Feb), RP 2 (5 Feb), RP 3 (8 Feb); FE 2, 3, 1: 3, 10, 17 Feb.
    assert out["credited"]["RP"] == ["RP 4"]
    assert out["projected_completion"] == "2027-02-17"
    assert out["weekly_minutes"] == {"2027-W04": 90}


def test_a_slot_too_short_for_the_credit_share_never_completes():
    slots = [dict(s, minutes=45) if s["track"] == "RP" else s for s in SLOTS]
    out = run(slots=slots, participants=[{"id": "eve", "admitted": "2027-01-04"}])["participants"][0]
    assert out["credited"]["RP"] == []
    assert out["projected_completion"] is None


def test_projection_through_known_future_meetings_respects_the_credit_share():
    """As of 15 January with the calendar known to 26 February: the projection walks the known
    meetings first (the Wednesday 10 February FE is cancelled), then the extension; a 45-minute
    RP slot (less than 75% of 90) can never credit, known or projected."""
    short_rp = tuple(PatternSlot(s.weekday, s.time, s.track, 45 if s.track == "RP" else s.minutes) for s in PATTERN)
    spec = GroupSpec("A", D("2027-01-04"), short_rp, track_plans(CUR))
    calendar = build_calendar(spec, D("2027-02-26"), cancellations=[Cancellation(D("2027-02-10"), "FE")])
    progress = participant_progress(Stay(D("2027-01-13")), calendar, as_of=D("2027-01-15"), rules=PERFECT)
    assert progress.track("RP").projected_completion is None
    # FE 2 on the 13th is credited; FE 3 on the 20th, FE 1 on the 27th: done by the known calendar.
    assert progress.track("FE").credited == ("FE 2",)
    assert progress.track("FE").projected_completion == D("2027-01-27")
    # Admitted on 3 February: FE 2 (3 Feb), FE 3 moves from the cancelled 10th to the 17th,
    # FE 1 on the 24th.
    late = participant_progress(Stay(D("2027-02-03")), calendar, as_of=D("2027-02-05"), rules=PERFECT)
    assert late.track("FE").projected_completion == D("2027-02-24")


def test_rows_from_stored_meetings_match_the_calendar_by_group_date_time_and_track():
    """The web app rebuilds meetings from its rows: equal keys are the same meeting, and a row on
    a meeting still marked "scheduled" counts (attendance was taken, so it met)."""
    calendar = build_calendar(group(), D("2027-01-15"))
    stored = Meeting("A", D("2027-01-04"), "18:30", "RP", 90, "RP 1", "scheduled", recorded=True)
    other = Meeting("B", D("2027-01-05"), "18:30", "RP", 90, "RP 3", "held", recorded=True)
    rows = [Attendance(stored, True, 90), Attendance(other, True, 80)]
    progress = participant_progress(Stay(D("2027-01-04")), calendar, rows, as_of=D("2027-01-15"))
    assert [(c.module, c.meeting.group) for c in progress.track("RP").credits] == [("RP 1", "A"), ("RP 3", "B")]
    assert progress.weeks[0].attended == 170


def test_a_status_may_count_toward_hours_without_earning_credit_and_the_other_way_round():
    """A program's statuses carry two flags: "counts as attended" (credit) and "counts toward
    hours". Monday 4 January: at RP 1 for 60 minutes under a status that counts hours only (no
    credit); Friday 8 January: at RP 2 under a status that credits but whose time is not counted."""
    calendar = build_calendar(group(), D("2027-01-15"))
    monday = Meeting("A", D("2027-01-04"), "18:30", "RP", 90, "RP 1", "held", recorded=True)
    friday = Meeting("A", D("2027-01-08"), "18:30", "RP", 90, "RP 2", "held", recorded=True)
    rows = [Attendance(monday, False, 60, counts_hours=True), Attendance(friday, True, 90, counts_hours=False)]
    progress = participant_progress(Stay(D("2027-01-04")), calendar, rows, as_of=D("2027-01-15"))
    assert progress.track("RP").credited == ("RP 2",)
    assert "RP 1" in progress.track("RP").missed
    assert progress.weeks[0].attended == 60


def test_a_transfer_does_not_make_the_new_group_s_earlier_meetings_misses():
    """Admitted to group B on Monday 4 January, moved to group A on Monday 18 January. A's RP
    meetings before the 18th were never theirs: not missed. What they attended in B (RP 3 on
    5 January) still credits, and A's meetings from the 18th are expected as usual."""
    calendar = build_calendar(group(), D("2027-02-05"))
    rows = [Attendance(Meeting("B", D("2027-01-05"), "18:30", "RP", 90, "RP 3", "held", recorded=True), True, 90)]
    moved = Stay(D("2027-01-04"), joined=D("2027-01-18"))
    on_the_17th = participant_progress(moved, calendar, rows, as_of=D("2027-01-17"))
    assert on_the_17th.track("RP").missed == ()
    assert [(c.module, c.date) for c in on_the_17th.track("RP").credits] == [("RP 3", D("2027-01-05"))]
    as_if_always_in_a = participant_progress(Stay(D("2027-01-04")), calendar, rows, as_of=D("2027-01-17"))
    assert as_if_always_in_a.track("RP").missed, "without the join date, A's first two weeks would count"
    on_the_29th = participant_progress(moved, calendar, rows, as_of=D("2027-01-29"))
    since = {m.module for m in calendar.meetings if m.track == "RP" and m.held
             and D("2027-01-18") <= m.date <= D("2027-01-29")}
    assert set(on_the_29th.track("RP").missed) == since - {"RP 3"}, "absent from A since joining: those are missed"
