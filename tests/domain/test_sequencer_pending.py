"""Meetings of today that nobody has recorded yet are pending: not missed, not credited, and still
counted on by the projection (the web app computes progress at noon before the evening group)."""

from __future__ import annotations

from datetime import date

from facilitator.domain.sequencer import Attendance, RecordedMeeting, Rules, Stay, build_calendar, participant_progress

from .test_sequencer_examples import group

D = date.fromisoformat
STAY = Stay(D("2027-01-04"))


def _calendar(recorded=()):
    return build_calendar(group(), D("2027-03-31"), recorded=recorded)


def _rows(calendar, days):
    return [Attendance(m, True, m.minutes) for m in calendar.meetings if m.track == "RP" and m.date.isoformat() in days]


def test_an_unrecorded_meeting_today_is_pending_not_missed():
    held = [RecordedMeeting(D("2027-01-04"), "18:30", "RP", "held", "RP 1")]
    calendar = _calendar(held)
    rows = _rows(calendar, {"2027-01-04"})
    today = D("2027-01-08")  # Friday: RP 2 at 18:30, not yet recorded
    pending = participant_progress(STAY, calendar, rows, as_of=today, rules=Rules(pending_from=today))
    assert pending.track("RP").missed == ()
    assert pending.track("RP").credited == ("RP 1",)
    assert pending.track("RP").projected_completion == D("2027-01-15")  # RP 2 today, 3 Mon, 4 Fri
    absent = participant_progress(STAY, calendar, rows, as_of=today, rules=Rules())
    assert absent.track("RP").missed == ("RP 2",), "without pending_from an unrecorded meeting is missed"


def test_once_recorded_today_the_credit_counts_at_once():
    held = [RecordedMeeting(D("2027-01-04"), "18:30", "RP", "held", "RP 1"),
            RecordedMeeting(D("2027-01-08"), "18:30", "RP", "held", "RP 2")]
    calendar = _calendar(held)
    rows = _rows(calendar, {"2027-01-04", "2027-01-08"})
    today = D("2027-01-08")
    progress = participant_progress(STAY, calendar, rows, as_of=today, rules=Rules(pending_from=today))
    assert progress.track("RP").credited == ("RP 1", "RP 2")


def test_a_past_meeting_nobody_recorded_is_still_missed():
    calendar = _calendar()
    today = D("2027-01-13")
    progress = participant_progress(STAY, calendar, [], as_of=today, rules=Rules(pending_from=today))
    assert "RP 1" in progress.track("RP").missed
