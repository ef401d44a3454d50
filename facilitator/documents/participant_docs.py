"""Two documents about one participant: the progress report and the completion certificate.

Both read the same data the participant page shows (participants.pages and progress.services), so
paper and screen never disagree. Their HTML is rendered when the order is made and its hash is the
cache key: any change to a datum shown (one attendance row, a test, a make-up) makes a new file,
and nothing is shown that was not hashed. Both carry the 42 CFR 2.32 notice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup
from sqlalchemy import func, select

from ..attendance.models import Attendance
from ..clinical.models import TEST_RESULTS, DrugTest
from ..domain.sequencer import WeekMinutes
from ..extensions import db
from ..groups.calendars import version_structure
from ..groups.models import Meeting
from ..participants.models import DISCHARGE_LABELS, Participant
from ..participants.pages import STATE_LABELS, STATE_SYMBOLS, ParticipantPage, participant_page
from ..programs.models import Program
from ..progress.services import ParticipantProgress, progress_for
from ..reports.charts import HBar, hbar_chart
from .builders import _env
from .catalog import DocumentNotFound, NotPrintable, Order, page_size_for
from .service import RenderInput, cache_key

NAME_MAX = 80  # the longest name the certificate prints (within two lines at a readable size)
TESTS_LISTED = 24  # the newest tests are listed one by one; every test is counted in the summary
CHART_WEEKS = 16  # the hours chart shows the latest weeks (as on screen); the table lists every week
TEST_RESULT_LABELS = {"negative": "Negative", "positive": "Positive", "dilute": "Dilute", "invalid": "Invalid",
                      "refused": "Refused"}
TEST_KIND_LABELS = {"urine": "Urine", "breath": "Breath", "oral": "Oral fluid", "other": "Other"}


def day(value: date | None, fmt: str = "%b %-d, %Y") -> str:
    """A date as printed on both documents: "Mar 1, 2027" ("" for none)."""
    return value.strftime(fmt) if value else ""


def _check_program(person: Participant, program: Program) -> None:
    # The same answer as for an id that does not exist: a program never learns of another's people.
    if person.program_id != program.id:
        raise DocumentNotFound(f"no participant with id {person.id}")


def _digest(html: str) -> str:
    return hashlib.sha256(html.encode("utf-8")).hexdigest()


# --- the progress report -------------------------------------------------------------------------

@dataclass(frozen=True)
class MeetingCounts:
    """Held meetings with an attendance record: attended long enough, missed, and excused."""

    attended: int
    missed: int
    excused: int


@dataclass(frozen=True)
class DrugTestSummary:
    """Drug and alcohol tests: how many of each result, the last date, and the newest few listed."""

    total: int
    counts: tuple[tuple[str, int], ...]  # (result label, count) for results that occur, in a fixed order
    last: date | None
    listed: tuple[DrugTest, ...]  # newest first

    @property
    def earlier(self) -> int:
        """Tests counted above but not listed one by one."""
        return self.total - len(self.listed)


def meeting_counts(page: ParticipantPage) -> MeetingCounts:
    """Attended, missed and excused meetings, consistent with the page's absences (one query)."""
    recorded = db.session.scalar(
        select(func.count()).select_from(Attendance).join(Meeting, Meeting.id == Attendance.meeting_id)
        .where(Attendance.participant_id == page.participant.id, Meeting.status == "held")) or 0
    excused = sum(1 for a in page.absences if a.excused)
    # An absence is every held meeting not attended long enough for credit (left early included).
    return MeetingCounts(recorded - len(page.absences), len(page.absences) - excused, excused)


def drug_test_summary(participant_id: int) -> DrugTestSummary:
    """Every test of the participant counted by result, the newest TESTS_LISTED listed (one query)."""
    tests = list(db.session.scalars(select(DrugTest).where(DrugTest.participant_id == participant_id)
                                    .order_by(DrugTest.collected_on.desc(), DrugTest.id.desc())))
    counts = tuple((TEST_RESULT_LABELS[r], n) for r in TEST_RESULTS if (n := sum(t.result == r for t in tests)))
    return DrugTestSummary(len(tests), counts, tests[0].collected_on if tests else None, tuple(tests[:TESTS_LISTED]))


def hours_chart(weeks: Sequence[WeekMinutes], floor_minutes: int) -> Markup:
    """Hours attended per week as horizontal bars against a dashed floor line, numbers printed.

    Bars differ by pattern as well as colour: solid for a week at or over the floor, hatched under
    it, dotted for a week only partly inside the stay (no floor applies to it).
    """
    floor = floor_minutes / 60
    bars = [HBar(day(w.monday, "%b %-d"), w.attended / 60, _week_words(w),
                 style="hatch" if w.under_floor else "solid" if w.whole else "dots") for w in weeks]
    under = sum(1 for w in weeks if w.under_floor)
    whole = sum(1 for w in weeks if w.whole)
    desc = (f"Hours attended in each of {len(weeks)} weeks against the weekly floor of {floor:g} hours: "
            f"{under} of {whole} whole weeks under the floor. The table below lists the same numbers.")
    top = max([floor, *(w.attended / 60 for w in weeks)])
    return hbar_chart("pr-hours", "Hours attended per week", desc, bars, maximum=top or 1,
                      reference=(floor, f"floor {floor:g} h"), width=640)


def _week_words(week: WeekMinutes) -> str:
    # Short on purpose: a longer text beside a bar that ends near the floor runs across its line.
    # Under the floor shows as the hatch (and "Under" in the table below the chart).
    hours = f"{week.attended / 60:.1f} h"
    return hours if week.whole else f"{hours} (part)"


def _stay_words(page: ParticipantPage) -> dict[str, str]:
    """Group, admission, and where the stay stands: a program week, or the discharge and its reason."""
    plan = page.plan
    if not plan.enrollments:
        return {"group": "", "admitted": "", "standing": "Not admitted to a group"}
    last = plan.enrollments[-1]
    if plan.current is not None:
        standing = f"Active, program week {page.program_week}"
    else:
        standing = f"Discharged {day(last.discharged_on)}: {DISCHARGE_LABELS.get(last.discharge_reason or '', 'Other')}"
    return {"group": plan.group.name if plan.group else "", "admitted": day(plan.progress.stay.admitted)
            if plan.progress else day(plan.enrollments[0].admitted_on), "standing": standing}


def completion_words(plan: ParticipantProgress) -> str:
    """Completed on a date, projected to complete on a date, or why there is no projection."""
    progress = plan.progress
    if progress is None:
        return "Completion is not projected: not admitted to a group."
    if progress.group_completed_on is not None:
        return f"Completed the group program on {day(progress.group_completed_on)}."
    if plan.current is None:
        return "Did not complete the group program before discharge."
    if progress.projected_completion is not None:
        return (f"Projected to complete the group program on {day(progress.projected_completion)}, "
                "attending every meeting from now on.")
    return "Completion is not projected: the group's schedule does not deliver every module still needed."


def progress_html(page: ParticipantPage, today: date, tests: DrugTestSummary) -> str:
    """The progress report as print HTML (no time of day in it: the cache key is its hash)."""
    progress = page.plan.progress
    all_weeks = progress.weeks if progress else ()
    floor = page.program.hours_floor_minutes
    missed = [c for t in page.tracks for c in t.cells if c.state == "missed"]
    makeups = [m for m in page.makeups if m.makeup.status in ("planned", "completed")]
    return _env.get_template("progress.html").render(
        page=page, person=page.participant, program=page.program, today=today, day=day, stay=_stay_words(page),
        status=completion_words(page.plan), missed=missed, makeups=makeups, counts=meeting_counts(page),
        tests=tests, weeks=all_weeks, floor_minutes=floor,
        chart=hours_chart(all_weeks[-CHART_WEEKS:], floor) if all_weeks else "", chart_weeks=CHART_WEEKS,
        symbols=STATE_SYMBOLS, labels=STATE_LABELS, kinds=TEST_KIND_LABELS, results=TEST_RESULT_LABELS)


def progress_order(person: Participant, *, program: Program, today: date, page_size: str | None = None) -> Order:
    """A participant's progress report: tracks and modules, hours against the floor, tests, make-ups."""
    _check_program(person, program)
    size = page_size_for(program, page_size)
    page = participant_page(person, today, for_staff=False)
    tests = drug_test_summary(person.id)
    html = progress_html(page, today, tests)
    key = cache_key("progress", {"html": _digest(html), "size": size, "program": program.id, "participant": person.id})

    def build() -> RenderInput:
        return RenderInput(html, size, "en", stylesheets=("progress.css",))

    # An estimate for progress bars: the grid and chart take about two pages, then ~40 table rows a page.
    rows = len(page.absences) + len(page.makeups) + len(tests.listed)
    pages = 2 + (len(page.plan.progress.weeks) if page.plan.progress else 0) // 30 + rows // 40
    return Order("progress", key, f"progress-report-{person.id}-{today.isoformat()}.pdf", pages, build,
                 (person.id,), program.id, {"page_size": size})


# --- the completion certificate ------------------------------------------------------------------

def certificate_name(person: Participant, name: str | None) -> str:
    """The name to print: the one the participant chooses (spaces tidied), else their preferred name."""
    if name is None:
        return person.preferred_name
    chosen = " ".join(name.split())
    if not chosen:
        raise NotPrintable("Enter the name to print on the certificate, or leave it out for the preferred name.")
    if len(chosen) > NAME_MAX:
        raise NotPrintable(f"The name is {len(chosen)} characters long; the certificate prints up to {NAME_MAX}.")
    if not chosen.isprintable():
        raise NotPrintable("The name contains characters that cannot be printed.")
    return chosen


def _not_completed(person: Participant, plan: ParticipantProgress) -> NotPrintable:
    progress = plan.progress
    if progress is None:
        why = "they have not been admitted to a group"
    elif plan.current is None:
        why = "they were discharged before completing it"
    elif progress.projected_completion is not None:
        why = f"projected to complete on {day(progress.projected_completion)}"
    else:
        why = "completion is not projected yet"
    return NotPrintable(f"{person.preferred_name} has not completed the program yet; {why}.")


def hours_words(minutes: int) -> str:
    """Attended time for a certificate, rounded down to the half hour (never overstated)."""
    hours = minutes // 30 / 2
    return f"{hours:g} hour{'' if hours == 1 else 's'}"


def certificate_html(plan: ParticipantProgress, *, program: Program, name: str, size: str) -> str:
    """The certificate as print HTML: who, what, when, the tracks completed and the hours attended."""
    progress = plan.progress
    structure = version_structure(plan.group.version_id)
    tracks = [structure.track(t.track).name for t in progress.tracks if t.completed_on is not None]
    minutes = sum(w.attended for w in progress.weeks)
    return _env.get_template("certificate.html").render(
        program=program, name=name, curriculum=structure.title, admitted=day(progress.stay.admitted),
        completed=day(progress.group_completed_on), tracks=tracks, hours=hours_words(minutes), size=size,
        name_class=_name_class(name))


def _name_class(name: str) -> str:
    # The name is the largest line; a long one steps down in size so it never leaves the page.
    return "ct-name-longer" if len(name) > 56 else "ct-name-long" if len(name) > 30 else ""


def certificate_order(person: Participant, *, program: Program, today: date, name: str | None = None,
                      page_size: str | None = None) -> Order:
    """The completion certificate (landscape, one page); NotPrintable before the participant completes."""
    _check_program(person, program)
    size = page_size_for(program, page_size)
    printed = certificate_name(person, name)
    plan = progress_for([person], today)[person.id]
    if plan.progress is None or plan.group is None or plan.progress.group_completed_on is None:
        raise _not_completed(person, plan)
    html = certificate_html(plan, program=program, name=printed, size=size)
    key = cache_key("certificate", {"html": _digest(html), "size": size, "program": program.id,
                                    "participant": person.id})

    def build() -> RenderInput:
        return RenderInput(html, size, "en", stylesheets=("certificate.css",))

    return Order("certificate", key, f"certificate-{person.id}.pdf", 1, build, (person.id,), program.id,
                 {"page_size": size, "name_given": name is not None})
