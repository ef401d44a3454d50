"""Two documents about one participant: the progress report and the completion certificate.

Both read the same data the participant page shows (participants.pages and progress.services), so
paper and screen never disagree. Their HTML is rendered when the order is made and its hash is the
cache key: any change to a datum shown (one attendance row, a test, a make-up) makes a new file,
and nothing is shown that was not hashed. Both carry the 42 CFR 2.32 notice, and both print in the
participant's language (Participant.language) unless another is asked for: the HTML is rendered in it
(builders.in_language), module titles and track names from the curriculum's twin where it has one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from markupsafe import Markup
from sqlalchemy import func, select

from ..attendance.models import Attendance
from ..clinical.models import TEST_RESULTS, DrugTest
from ..curricula.models import CurriculumVersion
from ..domain.sequencer import WeekMinutes
from ..extensions import db
from ..groups.calendars import version_structure
from ..groups.models import Meeting
from ..participants.models import DISCHARGE_LABELS, Participant
from ..participants.pages import STATE_LABELS, STATE_SYMBOLS, ParticipantPage, participant_page
from ..programs.models import Program
from ..progress.services import ParticipantProgress, progress_for
from ..reports.charts import HBar, hbar_chart
from ..web.i18n import LANGUAGES, format_when
from . import builders
from .builders import _env
from .catalog import DocumentNotFound, LanguageMissing, NotPrintable, Order, domain_of, page_size_for
from .service import RenderInput, cache_key

NAME_MAX = 80  # the longest name the certificate prints (within two lines at a readable size)
TESTS_LISTED = 24  # the newest tests are listed one by one; every test is counted in the summary
CHART_WEEKS = 16  # the hours chart shows the latest weeks (as on screen); the table lists every week
TEST_RESULT_LABELS = {"negative": _l("Negative"), "positive": _l("Positive"), "dilute": _l("Dilute"),
                      "invalid": _l("Invalid"), "refused": _l("Refused")}
TEST_KIND_LABELS = {"urine": _l("Urine"), "breath": _l("Breath"), "oral": _l("Oral fluid"), "other": _l("Other")}
# The progress grid's states as printed (the participant page's words, in the report's language).
STATE_PRINT_LABELS = {"credited": _l("Credited"), "missed": _l("Missed"), "planned": _l("Make-up planned"),
                      "coming": _l("Coming"), "later": _l("Not yet scheduled")}


def day(value: date | None, style: str = "year") -> str:
    """A date as printed on both documents, in the current language: "Mar 1, 2027" ("" for none)."""
    return format_when(value, style) if value else ""


def hours(minutes: float, digits: int | None = None) -> str:
    """Minutes as hours: 540 -> "9", 75 -> "1.2" with one digit."""
    return f"{minutes / 60:g}" if digits is None else f"{minutes / 60:.{digits}f}"


def report_language(person: Participant, lang: str | None) -> str:
    """The language of a participant's document: the one asked for, else theirs (English if unknown)."""
    if lang:
        if lang not in LANGUAGES:
            raise LanguageMissing(f"there are no printed documents in {lang!r}: use "
                                  + " or ".join(f"{code} ({builders.language_name(code)})" for code in LANGUAGES))
        return lang
    return person.language if person.language in LANGUAGES else "en"


def curriculum_words(version_id: int | None, lang: str) -> tuple[dict[str, str], dict[str, str]]:
    """Module titles and track names of a version in a language (empty where it has no text there)."""
    version = db.session.get(CurriculumVersion, version_id) if version_id else None
    if version is None:
        return {}, {}
    curriculum = domain_of(version)
    if lang == curriculum.language or lang not in curriculum.languages:
        return {}, {}
    twin = curriculum.in_language(lang)
    return {m.code: m.title for m in twin.modules()}, {t.code: t.name for t in twin.tracks}


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
    bars = [HBar(day(w.monday, "short"), w.attended / 60, _week_words(w),
                 style="hatch" if w.under_floor else "solid" if w.whole else "dots") for w in weeks]
    under = sum(1 for w in weeks if w.under_floor)
    whole = sum(1 for w in weeks if w.whole)
    floor_words = f"{floor:g}"
    desc = _("Hours attended in each of %(weeks)s weeks against the weekly floor of %(floor)s hours: "
             "%(under)s of %(whole)s whole weeks under the floor. The table below lists the same numbers.",
             weeks=len(weeks), floor=floor_words, under=under, whole=whole)
    top = max([floor, *(w.attended / 60 for w in weeks)])
    return hbar_chart("pr-hours", _("Hours attended per week"), desc, bars, maximum=top or 1,
                      reference=(floor, _("floor %(hours)s h", hours=floor_words)), width=640)


def _week_words(week: WeekMinutes) -> str:
    # Short on purpose: a longer text beside a bar that ends near the floor runs across its line.
    # Under the floor shows as the hatch (and "Under" in the table below the chart).
    attended = f"{week.attended / 60:.1f} h"
    return attended if week.whole else _("%(hours)s (part)", hours=attended)


def _stay_words(page: ParticipantPage) -> dict[str, str]:
    """Group, admission, and where the stay stands: a program week, or the discharge and its reason."""
    plan = page.plan
    if not plan.enrollments:
        return {"group": "", "admitted": "", "standing": _("Not admitted to a group")}
    last = plan.enrollments[-1]
    if plan.current is not None:
        standing = _("Active, program week %(week)s", week=page.program_week)
    else:
        reason = builders.translated(DISCHARGE_LABELS.get(last.discharge_reason or "")) or _("Other")
        standing = _("Discharged %(day)s: %(reason)s", day=day(last.discharged_on), reason=reason)
    return {"group": plan.group.name if plan.group else "", "admitted": day(plan.progress.stay.admitted)
            if plan.progress else day(plan.enrollments[0].admitted_on), "standing": standing}


def completion_words(plan: ParticipantProgress) -> str:
    """Completed on a date, projected to complete on a date, or why there is no projection."""
    progress = plan.progress
    if progress is None:
        return _("Completion is not projected: not admitted to a group.")
    if progress.group_completed_on is not None:
        return _("Completed the group program on %(day)s.", day=day(progress.group_completed_on))
    if plan.current is None:
        return _("Did not complete the group program before discharge.")
    if progress.projected_completion is not None:
        return _("Projected to complete the group program on %(day)s, attending every meeting from now on.",
                 day=day(progress.projected_completion))
    return _("Completion is not projected: the group's schedule does not deliver every module still needed.")


def progress_html(page: ParticipantPage, today: date, tests: DrugTestSummary, lang: str = "en") -> str:
    """The progress report as print HTML in a language (no time of day in it: the cache key is its hash)."""
    progress = page.plan.progress
    all_weeks = progress.weeks if progress else ()
    floor = page.program.hours_floor_minutes
    missed = [c for t in page.tracks for c in t.cells if c.state == "missed"]
    makeups = [m for m in page.makeups if m.makeup.status in ("planned", "completed")]
    titles, track_names = curriculum_words(page.plan.group.version_id if page.plan.group else None, lang)
    labels = {state: STATE_PRINT_LABELS.get(state, label) for state, label in STATE_LABELS.items()}
    with builders.in_language(lang):
        return _env.get_template("progress.html").render(
            page=page, person=page.participant, program=page.program, today=today, day=day, hours=hours,
            stay=_stay_words(page), status=completion_words(page.plan), missed=missed, makeups=makeups,
            counts=meeting_counts(page), tests=tests, weeks=all_weeks, floor_minutes=floor,
            chart=hours_chart(all_weeks[-CHART_WEEKS:], floor) if all_weeks else "", chart_weeks=CHART_WEEKS,
            symbols=STATE_SYMBOLS, labels=labels, kinds=TEST_KIND_LABELS, results=TEST_RESULT_LABELS,
            titles=titles, track_names=track_names, lang=lang)


def progress_order(person: Participant, *, program: Program, today: date, page_size: str | None = None,
                   lang: str | None = None) -> Order:
    """A participant's progress report: tracks and modules, hours against the floor, tests, make-ups; in
    the participant's language unless `lang` is given."""
    _check_program(person, program)
    size = page_size_for(program, page_size)
    language = report_language(person, lang)
    page = participant_page(person, today, for_staff=False)
    tests = drug_test_summary(person.id)
    html = progress_html(page, today, tests, language)
    key = cache_key("progress", {"html": _digest(html), "size": size, "program": program.id, "participant": person.id,
                                 "lang": language})

    def build() -> RenderInput:
        return RenderInput(html, size, language, stylesheets=("progress.css",))

    # An estimate for progress bars: the grid and chart take about two pages, then ~40 table rows a page.
    rows = len(page.absences) + len(page.makeups) + len(tests.listed)
    pages = 2 + (len(page.plan.progress.weeks) if page.plan.progress else 0) // 30 + rows // 40
    return Order("progress", key, f"progress-report-{person.id}-{today.isoformat()}.pdf", pages, build,
                 (person.id,), program.id, {"page_size": size, "lang": language})


# --- the completion certificate ------------------------------------------------------------------

def certificate_name(person: Participant, name: str | None) -> str:
    """The name to print: the one the participant chooses (spaces tidied), else their preferred name."""
    if name is None:
        return person.preferred_name
    chosen = " ".join(name.split())
    if not chosen:
        raise NotPrintable(_("Enter the name to print on the certificate, or leave it out for the preferred name."))
    if len(chosen) > NAME_MAX:
        raise NotPrintable(_("The name is %(length)s characters long; the certificate prints up to %(most)s.",
                             length=len(chosen), most=NAME_MAX))
    if not chosen.isprintable():
        raise NotPrintable(_("The name contains characters that cannot be printed."))
    return chosen


def _not_completed(person: Participant, plan: ParticipantProgress) -> NotPrintable:
    progress = plan.progress
    name = person.preferred_name
    if progress is None:
        return NotPrintable(_("%(name)s has not completed the program yet; they have not been admitted to a group.",
                              name=name))
    if plan.current is None:
        return NotPrintable(_("%(name)s has not completed the program yet; they were discharged before completing it.",
                              name=name))
    if progress.projected_completion is not None:
        return NotPrintable(_("%(name)s has not completed the program yet; projected to complete on %(day)s.",
                              name=name, day=day(progress.projected_completion)))
    return NotPrintable(_("%(name)s has not completed the program yet; completion is not projected yet.", name=name))


def hours_words(minutes: int) -> str:
    """Attended time for a certificate, rounded down to the half hour (never overstated)."""
    attended = minutes // 30 / 2
    if attended == int(attended):
        return ngettext("%(num)s hour", "%(num)s hours", int(attended))
    half = f"{attended:g}"
    return _("%(hours)s hours", hours=half)


def certificate_html(plan: ParticipantProgress, *, program: Program, name: str, size: str, lang: str = "en") -> str:
    """The certificate as print HTML in a language: who, what, when, the tracks completed and the hours attended."""
    progress = plan.progress
    structure = version_structure(plan.group.version_id)
    version = db.session.get(CurriculumVersion, plan.group.version_id)
    curriculum = domain_of(version)
    if lang in curriculum.languages:
        curriculum = curriculum.in_language(lang)
    names = {t.code: t.name for t in curriculum.tracks}
    tracks = [names.get(t.track, structure.track(t.track).name) for t in progress.tracks if t.completed_on is not None]
    minutes = sum(w.attended for w in progress.weeks)
    with builders.in_language(lang):
        return _env.get_template("certificate.html").render(
            program=program, name=name, curriculum=curriculum.title, admitted=day(progress.stay.admitted),
            completed=day(progress.group_completed_on), tracks=tracks, hours=hours_words(minutes), size=size,
            name_class=_name_class(name), lang=lang)


def _name_class(name: str) -> str:
    # The name is the largest line; a long one steps down in size so it never leaves the page.
    return "ct-name-longer" if len(name) > 56 else "ct-name-long" if len(name) > 30 else ""


def certificate_order(person: Participant, *, program: Program, today: date, name: str | None = None,
                      page_size: str | None = None, lang: str | None = None) -> Order:
    """The completion certificate (landscape, one page) in the participant's language unless `lang` is
    given; NotPrintable before the participant completes."""
    _check_program(person, program)
    size = page_size_for(program, page_size)
    language = report_language(person, lang)
    printed = certificate_name(person, name)
    plan = progress_for([person], today)[person.id]
    if plan.progress is None or plan.group is None or plan.progress.group_completed_on is None:
        raise _not_completed(person, plan)
    html = certificate_html(plan, program=program, name=printed, size=size, lang=language)
    key = cache_key("certificate", {"html": _digest(html), "size": size, "program": program.id,
                                    "participant": person.id, "lang": language})

    def build() -> RenderInput:
        return RenderInput(html, size, language, stylesheets=("certificate.css",))

    suffix = "" if language == "en" else f"-{language}"
    return Order("certificate", key, f"certificate-{person.id}{suffix}.pdf", 1, build, (person.id,), program.id,
                 {"page_size": size, "name_given": name is not None, "lang": language})
