"""Build the demo program: two groups at different rotation points, 25 participants admitted over
the past 10 weeks, attendance history with absences, tests, make-ups and a few discharges.

The program runs a compliant IOP: three evenings (or mornings) of about 3 hours, 9 hours a week.
The shipped weekly pattern gives about 6.2 h in weeks 1-4 and 4.5 h after, so the demo director
adapts the curriculum as a real program would (its own version, forked and published through the
curriculum services): social support groups are open from the first week and meet on every
program day beside early recovery skills, relapse prevention and family education.

Everything is derived from the real sequencer, so the demo shows what the product computes.
A fixed random seed keeps it the same on every machine (relative to today's date).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from ..attendance.models import Attendance
from ..auth.models import User
from ..auth.services import create_user
from ..clinical.models import DrugTest, RelapseAnalysis
from ..curricula.drafts import fork
from ..curricula.editing import update_track
from ..curricula.models import CurriculumVersion, Module, Track
from ..curricula.publishing import publish
from ..curricula.services import find_version
from ..domain.curriculum import WEEKDAYS
from ..extensions import db
from ..groups.calendars import group_calendar
from ..groups.models import Group, Meeting, Slot
from ..participants.models import Enrollment, FamilyGuest, Participant
from ..programs.models import AttendanceStatus, Holiday, Program
from ..programs.services import create_program, find_program, program_today
from ..progress.models import Credit, MakeUp
from ..progress.services import progress_for
from .incentives import build_incentives
from .workbook import build_workbook

DEMO_SLUG = "demo"
LOCAL_TITLE = "Riverside IOP, 9 hours a week"
COMPLETER_WEEKS_AGO = 20  # the evening group is older than this, so every RP module has come round
DEMO_PASSWORD = "demo-password-2026"
DEMO_LOGINS = (
    ("director", "director@demo.example", DEMO_PASSWORD),
    ("facilitator", "facilitator@demo.example", DEMO_PASSWORD),
    ("facilitator", "rosa@demo.example", DEMO_PASSWORD),
    ("participant", "participant@demo.example", DEMO_PASSWORD),
    ("participant", "carlos@demo.example", DEMO_PASSWORD),  # Spanish-speaking: his pages are in Spanish
)
NAMES = (
    ("Alex", "AM"), ("Brianna", "BT"), ("Carlos", "CR"), ("Dee", "DW"), ("Eli", "EB"), ("Fatima", "FH"),
    ("Gabe", "GL"), ("Hannah", "HK"), ("Isaac", "IP"), ("Jasmine", "JC"), ("Kevin", "KO"), ("Lena", "LS"),
    ("Marco", "MV"), ("Nia", "NJ"), ("Omar", "OA"), ("Priya", "PD"), ("Quinn", "QF"), ("Rae", "RG"),
    ("Sam", "SN"), ("Tasha", "TB"), ("Uriel", "UM"), ("Val", "VE"), ("Wes", "WH"), ("Ximena", "XR"),
    ("Yusuf", "YK"),
)
GROUP_NOTES = (
    "Topic presented with the handout; members worked through it in pairs. Open discussion centred on "
    "weekend plans and staying away from old places.",
    "Handout reviewed aloud. Two members shared close calls this week and how they used their plan. "
    "Co-leader spoke about the first month of recovery.",
    "Good participation. Members practised the worksheet and set one goal each for the coming days.",
)


@dataclass(frozen=True)
class _GroupPlan:
    name: str
    weeks_ago: int
    slots: tuple[tuple[str, str, str, int], ...]  # weekday, time, track, minutes
    start_modules: dict[str, str]


# Each program day is about 3 hours: newcomers (weeks 1-4) start with early recovery skills; then
# everyone has relapse prevention (twice a week, 32 topics in 16 weeks) and social support; on the
# third day social support is followed by family education (weeks 1-12), which families join.
GROUPS = (
    _GroupPlan("Evening IOP (Mon/Wed/Fri)", 30, (
        ("mon", "17:00", "ERS", 50), ("mon", "18:00", "RP", 90), ("mon", "19:40", "SS", 90),
        ("wed", "17:00", "SS", 90), ("wed", "18:40", "FE", 90),
        ("fri", "17:00", "ERS", 50), ("fri", "18:00", "RP", 90), ("fri", "19:40", "SS", 90)), {}),
    _GroupPlan("Morning IOP (Tue/Thu/Sat)", 12, (
        ("tue", "09:00", "ERS", 50), ("tue", "10:00", "RP", 90), ("tue", "11:40", "SS", 90),
        ("thu", "09:00", "SS", 90), ("thu", "10:40", "FE", 90),
        ("sat", "09:00", "ERS", 50), ("sat", "10:00", "RP", 90), ("sat", "11:40", "SS", 90)),
        {"RP": "RP 17", "ERS": "ERS 5", "FE": "FE 7"}),
)
UNEVEN = (2, 6, 11, 15, 19)  # participants who miss meetings or come late (two of them drop out)


def _holidays(today: date) -> list[tuple[date, str]]:
    """US holidays near today (fixed rules), so the calendar shows postponed modules."""
    out = []
    for year in (today.year - 1, today.year, today.year + 1):
        november = [date(year, 11, d) for d in range(1, 31) if date(year, 11, d).weekday() == 3]
        september = [date(year, 9, d) for d in range(1, 31) if date(year, 9, d).weekday() == 0]
        out += [(november[3], "Thanksgiving"), (date(year, 12, 25), "Christmas Day"),
                (date(year, 1, 1), "New Year's Day"), (september[0], "Labor Day"), (date(year, 7, 4), "Independence Day")]
    return [(d, name) for d, name in out if today - timedelta(weeks=40) <= d <= today + timedelta(weeks=26)]


def build_demo(today: date | None = None) -> bool:
    """Create the demo program once; return False if it already exists."""
    if find_program(DEMO_SLUG) is not None:
        return False
    rng = random.Random(2026)
    program = create_program("Riverside Recovery Center IOP", slug=DEMO_SLUG)
    today = today or program_today(program)  # the demo's "now" is the program's, as every page's is
    program.holidays = [Holiday(date=d, name=name) for d, name in _holidays(today)]
    director = create_user(program, "director@demo.example", DEMO_PASSWORD, "director", "Dana Whitfield")
    marcus = create_user(program, "facilitator@demo.example", DEMO_PASSWORD, "facilitator", "Marcus Lee")
    rosa = create_user(program, "rosa@demo.example", DEMO_PASSWORD, "facilitator", "Rosa Alvarez")
    version = _local_version(find_version("matrix-16"), director)
    groups = [_make_group(program, plan, version, today, lead) for plan, lead in zip(GROUPS, (marcus, rosa), strict=True)]
    people = _admit_people(program, groups, today, rng, marcus)
    completer = _admit_completer(program, groups[0], today, marcus)
    stays = people + _discharge_some(people, groups, today, director) + [completer]
    _record_history(program, version, groups, stays, today, rng, (marcus, rosa))
    _clinical_records(people + [completer], version, today, rng, marcus)
    _discharge_on_completion(completer[1], today)
    build_incentives(program, [p for p, _, _ in people + [completer]], people[0][0], director, marcus, today,
                     random.Random(17))
    build_workbook(people[0][0], version, marcus, today)
    create_user(program, "participant@demo.example", DEMO_PASSWORD, "participant", people[0][0].preferred_name,
                participant_id=people[0][0].id)
    carlos = next(person for person, _, _ in people if person.preferred_name == "Carlos")
    create_user(program, "carlos@demo.example", DEMO_PASSWORD, "participant", carlos.preferred_name,
                participant_id=carlos.id)  # no language chosen: his record's Spanish is his pages' language
    db.session.flush()
    return True


def _local_version(shipped: CurriculumVersion, director: User) -> CurriculumVersion:
    """The director's adaptation of the shipped curriculum: social support from the first week, so
    that every program day is about 3 hours and a week of weeks 1-12 offers at least the 9-hour floor."""
    draft = fork(shipped, director, LOCAL_TITLE)
    support = db.session.scalar(select(Track).where(Track.version_id == draft.id, Track.code == "SS"))
    update_track(draft, support, director, minutes=support.minutes, required=support.required, first_week=1,
                 last_week=support.last_week or "")
    return publish(draft, director)


def _make_group(program: Program, plan: _GroupPlan, version: CurriculumVersion, today: date, lead: User) -> Group:
    start = today - timedelta(weeks=plan.weeks_ago)
    start -= timedelta(days=start.weekday())  # groups start on a Monday
    group = Group(program_id=program.id, name=plan.name, version_id=version.id, start_date=start,
                  starting_modules=plan.start_modules, facilitator_id=lead.id, location="Room 2")
    group.slots = [Slot(weekday=WEEKDAYS.index(day), start_time=time.fromisoformat(at), track_code=track, minutes=m)
                   for day, at, track, m in plan.slots]
    db.session.add(group)
    db.session.flush()
    return group


def _admit_people(program: Program, groups: list[Group], today: date, rng: random.Random,
                  staff: User) -> list[tuple[Participant, Enrollment, float]]:
    people = []
    for index, (name, initials) in enumerate(NAMES):
        admitted = today - timedelta(days=70 - index * 70 // len(NAMES) + rng.randint(0, 2))
        person = Participant(program_id=program.id, preferred_name=name, initials=initials,
                             record_number=f"RR-{1001 + index}", language="es" if name in ("Carlos", "Ximena") else "en")
        db.session.add(person)
        db.session.flush()
        group = groups[0] if index % 5 < 3 else groups[1]
        enrollment = Enrollment(participant_id=person.id, group_id=group.id, admitted_on=admitted, created_by_id=staff.id)
        db.session.add(enrollment)
        if index % 4 == 0:
            db.session.add(FamilyGuest(participant_id=person.id, name=rng.choice(("Maria", "James", "Linda", "Ray")),
                                       relationship_to=rng.choice(("partner", "mother", "brother", "friend"))))
        reliability = rng.uniform(0.72, 0.86) if index in UNEVEN else rng.uniform(0.985, 1.0)
        people.append((person, enrollment, reliability))
    db.session.flush()
    return people


def _admit_completer(program: Program, group: Group, today: date, staff: User
                     ) -> tuple[Participant, Enrollment, float]:
    """Someone admitted long enough ago to have finished every group track, never missing a meeting."""
    person = Participant(program_id=program.id, preferred_name="Zoe", initials="ZA", record_number="RR-1026")
    db.session.add(person)
    db.session.flush()
    enrollment = Enrollment(participant_id=person.id, group_id=group.id, created_by_id=staff.id,
                            admitted_on=today - timedelta(weeks=COMPLETER_WEEKS_AGO))
    db.session.add(enrollment)
    db.session.flush()
    return person, enrollment, 1.0


def _discharge_on_completion(enrollment: Enrollment, today: date) -> None:
    """Discharge the completer on the day the sequencer says they finished the group tracks."""
    person = db.session.get(Participant, enrollment.participant_id)
    progress = progress_for([person], today)[person.id].progress
    if progress is not None and progress.group_completed_on is not None:
        enrollment.discharged_on = progress.group_completed_on
        enrollment.discharge_reason = "completed"
        enrollment.discharge_note = "Completed every group topic; continuing care plan in place."
        db.session.flush()


def _status_and_minutes(rng: random.Random, reliability: float, minutes: int) -> tuple[str, int]:
    """One attendance: absent with probability 1 - reliability, late half as often, leaving early less."""
    if reliability >= 1:
        return "present", minutes  # the completer: there every time, on time
    roll, miss = rng.random(), 1 - reliability
    if roll < miss:
        return ("excused", 0) if rng.random() < 0.25 else ("absent", 0)
    if roll < miss * 1.5:
        return "late", minutes - 15
    if roll < miss * 1.8:
        return "left_early", minutes - 25
    return "present", minutes


def _record_history(program: Program, version: CurriculumVersion, groups: list[Group],
                    people: list[tuple[Participant, Enrollment, float]], today: date, rng: random.Random,
                    leads: tuple[User, User]) -> None:
    """Store past meetings as held or cancelled, with attendance for everyone expected."""
    module_ids = dict(db.session.execute(select(Module.code, Module.id).where(Module.version_id == version.id)).all())
    track_sizes = {}
    for code in module_ids:
        track_sizes[code.split()[0]] = track_sizes.get(code.split()[0], 0) + 1
    first_weeks = dict(db.session.execute(select(Track.code, Track.first_week).where(
        Track.version_id == version.id)).all())
    statuses = {s.code: s for s in db.session.scalars(select(AttendanceStatus).where(
        AttendanceStatus.program_id == program.id))}
    credited: dict[tuple[int, str], set[str]] = {}
    for group, lead in zip(groups, leads, strict=True):
        members = [(p, e, r) for p, e, r in people if e.group_id == group.id]
        calendar = group_calendar(group, today - timedelta(days=1))
        for item in calendar.meetings:
            meeting = Meeting(group_id=group.id, date=item.date, start_time=time.fromisoformat(item.time),
                              track_code=item.track, minutes=item.minutes, status=item.status,
                              module_id=module_ids.get(item.module) if item.module else None,
                              cancel_reason="Holiday" if item.reason == "holiday" else "")
            db.session.add(meeting)
            if item.status != "held":
                continue
            meeting.note = rng.choice(GROUP_NOTES)
            meeting.fidelity = {"handout": True, "open_discussion": item.track == "RP", "tests_collected": rng.random() < .5}
            meeting.locked_at = datetime.combine(item.date, time(21, 0))
            meeting.locked_by_id = lead.id
            db.session.flush()
            for person, enrollment, reliability in members:
                week = (item.date - enrollment.admitted_on).days // 7 + 1
                done = credited.setdefault((person.id, item.track), set())
                if not enrollment.admitted_on <= item.date <= (enrollment.discharged_on or today):
                    continue
                if week < first_weeks[item.track]:
                    continue
                if len(done) >= track_sizes[item.track]:
                    continue  # the track is complete: no longer expected
                code, minutes = _status_and_minutes(rng, reliability, item.minutes)
                db.session.add(Attendance(meeting_id=meeting.id, participant_id=person.id, status_id=statuses[code].id,
                                          minutes=minutes, recorded_by_id=lead.id,
                                          note="Shared a plan for the weekend." if rng.random() < .1 else ""))
                if statuses[code].counts_attended and minutes >= 0.75 * item.minutes:
                    done.add(item.module)
    db.session.flush()
    ic1 = module_ids["IC 1"]
    first_stays: dict[int, Enrollment] = {}
    for person, enrollment, _ in people:
        first_stays.setdefault(person.id, enrollment)  # one orientation per person, at the first admission
    for person_id, enrollment in first_stays.items():
        db.session.add(Credit(participant_id=person_id, module_id=ic1, source="individual",
                              credited_on=enrollment.admitted_on, created_by_id=leads[0].id,
                              reason="Orientation session and service agreement"))


def _discharge_some(people: list[tuple[Participant, Enrollment, float]], groups: list[Group], today: date,
                    director: User) -> list[tuple[Participant, Enrollment, float]]:
    """Two people stop coming and are discharged; one moves to the morning group (history kept)."""
    for _, enrollment, _ in sorted(people, key=lambda row: row[2])[:2]:
        enrollment.discharged_on = today - timedelta(days=9)
        enrollment.discharge_reason = "dropped_out"
        enrollment.discharge_note = "No contact after repeated outreach."
    mover = next((p, e) for p, e, _ in people[5:] if e.group_id == groups[0].id and e.discharged_on is None
                 and e.admitted_on < today - timedelta(days=30))
    person, enrollment = mover
    moved_on = today - timedelta(days=12)
    enrollment.discharged_on = moved_on
    enrollment.discharge_reason = "transferred"
    enrollment.discharge_note = "New work schedule: moved to the morning group."
    moved = Enrollment(participant_id=person.id, group_id=groups[1].id, admitted_on=moved_on + timedelta(days=1),
                       created_by_id=director.id)
    db.session.add(moved)
    db.session.flush()
    return [(person, moved, 0.95)]


def _clinical_records(people: list[tuple[Participant, Enrollment, float]], version: CurriculumVersion, today: date,
                      rng: random.Random, staff: User) -> None:
    """Weekly urine tests; two positives, one with a reviewed relapse analysis and one still waiting."""
    positives = {people[4][0].id: "with analysis", people[9][0].id: "waiting"}
    for person, enrollment, _ in people:
        day = enrollment.admitted_on + timedelta(days=rng.randint(1, 4))
        while day < (enrollment.discharged_on or today):
            result = "negative"
            if person.id in positives and today - day < timedelta(days=14):
                result = "positive"
            test = DrugTest(participant_id=person.id, collected_on=day, kind="urine", result=result,
                            substances=["methamphetamine"] if result == "positive" else [],
                            observed=rng.random() < 0.3, recorded_by_id=staff.id)
            db.session.add(test)
            if result == "positive" and positives[person.id] == "with analysis":
                db.session.flush()
                db.session.add(RelapseAnalysis(
                    participant_id=person.id, drug_test_id=test.id, occurred_on=day, opened_by="positive_test",
                    status="reviewed", reviewed_by_id=staff.id, reviewed_at=datetime.combine(day, time(12)),
                    answers={"what_happened": "Used at a party after payday.",
                             "weeks_before": {"r1_c4": "Got paid, kept all the cash on me.",
                                              "r4_c5": "Went to a friend's place where people use."},
                             "differently": "Called my sponsor before going to the party.",
                             "plan_from_now": "Direct deposit; no cash over $20; leave when people use."}))
                positives[person.id] = "done"
            day += timedelta(days=7 + rng.randint(-2, 2))
    first_module = db.session.scalar(select(Module).where(Module.code == "RP 5", Module.version_id == version.id))
    for person, _, _ in people[6:9]:
        db.session.add(MakeUp(participant_id=person.id, module_id=first_module.id, method="homework",
                              planned_on=today + timedelta(days=3), assigned_by_id=staff.id,
                              note="Complete the RP 5 worksheet and review it at the next individual session."))
    db.session.flush()
