"""Drug and breath tests, and the relapse analyses they open.

Rules (from the issue, and the choices made where it left room):
- A test is dated inside the participant's stay (first admission to last discharge), never in the
  future. Kind and result come from fixed lists. A positive result names at least one substance;
  any other result names none. A second test of the same kind on the same day is refused unless
  the earlier one was dilute or invalid (a retest).
- A positive test, a use the participant reports, or a strong craving they report opens a relapse
  analysis (status "open"). A positive test recorded within a week after a reported use joins that
  use's open analysis instead of opening a second one.
- Sobriety date (as Kipu does, kept simple): a positive test or a reported use on day D sets the
  sobriety date to D + 1 when it was unset or on or before D. A later sobriety date is kept (an
  older test recorded late does not move it back). A craving never changes it.
- An analysis is answered on the web against the relapse-analysis worksheet of the participant's
  curriculum version; once a counselor (staff, never a participant account) marks it reviewed it is
  read-only.

Services take plain data and the acting user, change rows, flush and return; the view commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..auth.models import User
from ..curricula.models import CurriculumVersion, Module, Track, Worksheet
from ..domain import curriculum as dom
from ..domain.curriculum_files import field_from_dict
from ..extensions import db
from ..groups.models import Group
from ..models_base import utcnow
from ..participants.models import Enrollment, Participant
from ..programs import services as programs
from ..programs.models import Program
from ..web.i18n import format_when
from .models import ANALYSIS_TRIGGERS, TEST_KINDS, TEST_RESULTS, DrugTest, RelapseAnalysis

KIND_LABELS = {"urine": _l("Urine"), "breath": _l("Breath"), "oral": _l("Oral fluid"), "other": _l("Other")}
RESULT_LABELS = {"negative": _l("Negative"), "positive": _l("Positive"), "dilute": _l("Dilute"),
                 "invalid": _l("Invalid"), "refused": _l("Refused")}
SUBSTANCES = {
    "methamphetamine": _l("Methamphetamine"), "cocaine": _l("Cocaine"), "amphetamine": _l("Amphetamine"),
    "opioids": _l("Opioids"), "fentanyl": _l("Fentanyl"), "benzodiazepines": _l("Benzodiazepines"),
    "alcohol": _l("Alcohol"), "cannabis": _l("Cannabis"), "other": _l("Other"),
}
TRIGGER_LABELS = {"positive_test": "Positive test", "reported_use": "Reported use", "craving": "Strong craving"}
# The same as people read them, in the current language (TRIGGER_LABELS stays English: records exports use it).
TRIGGER_TEXT = {"positive_test": _l("Positive test"), "reported_use": _l("Reported use"), "craving": _l("Strong craving")}
RETEST_AFTER = ("dilute", "invalid")  # results that call for a second sample the same day
JOIN_REPORTED_USE_DAYS = 7
RA_MODULE = "RA 1"


class ClinicalError(ValueError):
    """A change refused, with the form field it concerns (or None) and a plain message."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class NotAllowed(ClinicalError):
    """The signed-in account may not do this (a participant reviewing their own analysis)."""


@dataclass(frozen=True)
class Recorded:
    """What recording a test or a report did: the rows, and the sobriety date it set (if any)."""

    test: DrugTest | None
    analysis: RelapseAnalysis | None
    sobriety_date: date | None  # the new sobriety date, if it changed


def program_today(program_id: int) -> date:
    """Today in the program's time zone (a test logged at 11 pm belongs to that evening)."""
    return programs.program_today(db.session.get(Program, program_id))


def day_label(day: date) -> str:
    """"Jan 5, 2027": how dates read in messages (in the current language)."""
    return format_when(day, "year")


def _stay(participant: Participant) -> tuple[date, date | None] | None:
    """First admission and last discharge (None while any stay is open); None if never admitted."""
    rows = db.session.execute(select(Enrollment.admitted_on, Enrollment.discharged_on)
                              .where(Enrollment.participant_id == participant.id)).all()
    if not rows:
        return None
    discharged = None if any(d is None for _, d in rows) else max(d for _, d in rows)
    return min(a for a, _ in rows), discharged


def _check_day(participant: Participant, day: date | None, today: date, field: str, missing: str) -> date:
    if day is None:
        raise ClinicalError(missing, field)
    if day > today:
        raise ClinicalError(_("The date cannot be in the future (today is %(day)s).", day=day_label(today)), field)
    stay = _stay(participant)
    if stay is None:
        raise ClinicalError(_("This participant has no admission yet. Admit them to a group first."), field)
    admitted, discharged = stay
    if day < admitted:
        raise ClinicalError(_("The date is before admission on %(day)s.", day=day_label(admitted)), field)
    if discharged is not None and day > discharged:
        raise ClinicalError(_("The date is after discharge on %(day)s.", day=day_label(discharged)), field)
    return day


def _reset_sobriety(participant: Participant, day: date) -> date | None:
    """Sobriety restarts the day after a use; a later sobriety date already recorded is kept."""
    if participant.sobriety_date is None or participant.sobriety_date <= day:
        participant.sobriety_date = day + timedelta(days=1)
        return participant.sobriety_date
    return None


def record_test(participant: Participant, *, collected_on: date | None, kind: str, result: str,
                substances: list[str], observed: bool, user: User, today: date) -> Recorded:
    """Record a test; a positive result opens a relapse analysis and resets the sobriety date."""
    _check_day(participant, collected_on, today, "collected_on", _("Enter the date the sample was collected."))
    assert collected_on is not None
    if kind not in TEST_KINDS:
        raise ClinicalError(_("Choose the kind of test: urine, breath, oral fluid or other."), "kind")
    if result not in TEST_RESULTS:
        raise ClinicalError(_("Choose the result: negative, positive, dilute, invalid or refused."), "result")
    unknown = [s for s in substances if s not in SUBSTANCES]
    if unknown:
        raise ClinicalError(_("Choose substances from the list; use Other for anything else."), "substances")
    if result == "positive" and not substances:
        raise ClinicalError(_("A positive result needs at least one substance. Check what the test found."),
                            "substances")
    if result != "positive" and substances:
        raise ClinicalError(_("Substances are recorded only for a positive result, not a %(result)s one. "
                              "Clear the boxes or change the result.", result=str(RESULT_LABELS[result]).lower()),
                            "substances")
    earlier = db.session.scalars(select(DrugTest.result).where(
        DrugTest.participant_id == participant.id, DrugTest.collected_on == collected_on,
        DrugTest.kind == kind)).all()
    if any(r not in RETEST_AFTER for r in earlier):
        raise ClinicalError(_("A %(kind)s test on %(day)s is already recorded. A second one the same day is only "
                              "for a retest after a dilute or invalid result.", kind=str(KIND_LABELS[kind]).lower(),
                              day=day_label(collected_on)), "collected_on")
    test = DrugTest(participant_id=participant.id, collected_on=collected_on, kind=kind, result=result,
                    substances=[s for s in SUBSTANCES if s in substances], observed=bool(observed),
                    recorded_by_id=user.id, recorded_at=utcnow())
    db.session.add(test)
    db.session.flush()
    analysis, sober = None, None
    if result == "positive":
        analysis = _joinable_reported_use(participant, collected_on)
        if analysis is None:
            analysis = RelapseAnalysis(participant_id=participant.id, occurred_on=collected_on,
                                       opened_by="positive_test", answers={}, status="open", opened_at=utcnow())
            db.session.add(analysis)
        analysis.drug_test_id = test.id
        sober = _reset_sobriety(participant, collected_on)
        db.session.flush()
    return Recorded(test, analysis, sober)


def _joinable_reported_use(participant: Participant, day: date) -> RelapseAnalysis | None:
    """An open analysis of a use reported up to a week before, with no test attached yet."""
    return db.session.scalars(select(RelapseAnalysis).where(
        RelapseAnalysis.participant_id == participant.id, RelapseAnalysis.opened_by == "reported_use",
        RelapseAnalysis.status == "open", RelapseAnalysis.drug_test_id.is_(None),
        RelapseAnalysis.occurred_on <= day, RelapseAnalysis.occurred_on >= day - timedelta(days=JOIN_REPORTED_USE_DAYS),
    ).order_by(RelapseAnalysis.occurred_on.desc()).limit(1)).first()


def record_report(participant: Participant, *, occurred_on: date | None, opened_by: str, user: User,
                  today: date) -> Recorded:
    """A use or strong craving the participant reports: opens a relapse analysis (a use resets sobriety)."""
    if opened_by not in ANALYSIS_TRIGGERS or opened_by == "positive_test":
        raise ClinicalError(_("Choose what the participant reported: a use or a strong craving."), "opened_by")
    _check_day(participant, occurred_on, today, "occurred_on", _("Enter the date it happened."))
    assert occurred_on is not None
    duplicate = db.session.scalar(select(RelapseAnalysis.id).where(
        RelapseAnalysis.participant_id == participant.id, RelapseAnalysis.occurred_on == occurred_on,
        RelapseAnalysis.opened_by == opened_by))
    if duplicate is not None:
        raise ClinicalError(_("A relapse analysis for a %(what)s on %(day)s is already open. Add to that one instead.",
                              what=str(TRIGGER_TEXT[opened_by]).lower(), day=day_label(occurred_on)),
                            "occurred_on")
    analysis = RelapseAnalysis(participant_id=participant.id, occurred_on=occurred_on, opened_by=opened_by,
                               answers={}, status="open", opened_at=utcnow())
    db.session.add(analysis)
    sober = _reset_sobriety(participant, occurred_on) if opened_by == "reported_use" else None
    db.session.flush()
    return Recorded(None, analysis, sober)


def tests_of(participant: Participant) -> list[DrugTest]:
    """A participant's tests, newest first (one query)."""
    return list(db.session.scalars(select(DrugTest).where(DrugTest.participant_id == participant.id)
                                   .order_by(DrugTest.collected_on.desc(), DrugTest.id.desc())))


def analyses_of(participant: Participant) -> list[RelapseAnalysis]:
    """A participant's relapse analyses, newest first (one query)."""
    return list(db.session.scalars(select(RelapseAnalysis).where(RelapseAnalysis.participant_id == participant.id)
                                   .order_by(RelapseAnalysis.occurred_on.desc(), RelapseAnalysis.id.desc())))


def staff_names(user_ids: set[int]) -> dict[int, str]:
    """Display names of the staff who recorded or reviewed something (one query)."""
    if not user_ids:
        return {}
    return dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(user_ids))).all())


def find_analysis(participant: Participant, analysis_id: int) -> RelapseAnalysis | None:
    """The participant's analysis with this id (None if it is someone else's)."""
    analysis = db.session.get(RelapseAnalysis, analysis_id)
    return analysis if analysis is not None and analysis.participant_id == participant.id else None


# --- The worksheet an analysis is answered on -------------------------------------------------------------

_WORKSHEETS: dict[tuple[int, str], dom.Worksheet | None] = {}  # published versions never change: caching is safe


def version_on(participant: Participant, day: date) -> int | None:
    """The curriculum version of the group the participant was in on a day (else their latest group)."""
    rows = db.session.execute(
        select(Enrollment.admitted_on, Enrollment.discharged_on, Group.version_id)
        .join(Group, Group.id == Enrollment.group_id).where(Enrollment.participant_id == participant.id)
        .order_by(Enrollment.admitted_on, Enrollment.id)).all()
    for admitted, discharged, version_id in reversed(rows):
        if admitted <= day and (discharged is None or discharged >= day):
            return version_id
    return rows[-1][2] if rows else None


def analysis_worksheet(version_id: int | None, language: str = "en") -> dom.Worksheet | None:
    """The relapse-analysis worksheet of a version: module RA 1's first sheet, else the RA track's first;
    in `language` where the sheet has a twin there that is not awaiting review (else as written)."""
    if version_id is None:
        return None
    if (version_id, language) in _WORKSHEETS:
        return _WORKSHEETS[(version_id, language)]
    rows = db.session.execute(
        select(Module.code, CurriculumVersion.status, Worksheet, Module.translations)
        .join(Module, Module.id == Worksheet.module_id).join(Track, Track.id == Module.track_id)
        .join(CurriculumVersion, CurriculumVersion.id == Worksheet.version_id)
        .where(Worksheet.version_id == version_id, (Module.code == RA_MODULE) | (Track.code == "RA"))
        .order_by(Track.position, Module.position, Worksheet.position)).all()
    chosen = next((r for r in rows if r[0] == RA_MODULE), rows[0] if rows else None)
    if chosen is None:
        return None
    _code, status, row, module_translations = chosen
    twin, module_twin = (row.translations or {}).get(language), (module_translations or {}).get(language)
    if language != row.language and twin and module_twin and not module_twin.get("needs_review"):
        sheet = dom.Worksheet(code=row.code, title=twin["title"], intro=twin.get("intro", ""), pages=row.pages,
                              language=language, fields=tuple(field_from_dict(f) for f in twin["fields"]))
    else:
        sheet = dom.Worksheet(code=row.code, title=row.title, intro=row.intro, pages=row.pages, language=row.language,
                              fields=tuple(field_from_dict(f) for f in row.fields))
    if status == "published":
        _WORKSHEETS[(version_id, language)] = sheet
    return sheet


def save_answers(analysis: RelapseAnalysis, sheet: dom.Worksheet, answers: dict[str, Any], user: User) -> list[str]:
    """Store the answers to the sheet's fields (a draft); refused once reviewed. Returns the changed field ids."""
    if analysis.status == "reviewed":
        raise ClinicalError(_("This relapse analysis was reviewed and is now read-only."))
    before = dict(analysis.answers or {})
    after = {k: v for k, v in before.items() if k not in {f.id for f in sheet.fields}}
    # Keys the sheet does not have (another version's fields) are kept; empty answers are not stored.
    after.update({k: v for k, v in answers.items() if v not in ("", None, [], {})})
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    analysis.answers = after
    db.session.flush()
    return changed


def mark_reviewed(analysis: RelapseAnalysis, user: User) -> None:
    """A counselor marks the analysis reviewed; from then on it is read-only."""
    if not user.is_staff:
        raise NotAllowed(_("Only a counselor can mark a relapse analysis reviewed."))
    if analysis.status == "reviewed":
        raise ClinicalError(_("This relapse analysis was already reviewed."))
    if not analysis.answers:
        raise ClinicalError(_("Fill in the worksheet before marking it reviewed."))
    analysis.status, analysis.reviewed_by_id, analysis.reviewed_at = "reviewed", user.id, utcnow()
    db.session.flush()
