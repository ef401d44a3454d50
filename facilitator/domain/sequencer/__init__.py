"""The sequencer: weekly pattern + rotation + holidays -> meetings and modules (calendar), and
attendance + credits -> completion, projections and hours (progress). Pure domain code.
"""

from .calendar import Calendar, Timeline, build_calendar, check_group, extend_calendar, week_label
from .makeups import Deliveries, MakeupSuggestion, makeup_suggestions
from .model import (
    MODES,
    POLICIES,
    Cancellation,
    GroupSpec,
    Meeting,
    RecordedMeeting,
    TopicPick,
    TrackPlan,
    track_plans,
)
from .progress import (
    Attendance,
    Credit,
    ExplicitCredit,
    Progress,
    Rules,
    Stay,
    TrackProgress,
    WeekMinutes,
    iso_week,
    participant_progress,
    program_week,
)
from .scenario import (
    Scenario,
    ScenarioError,
    ScenarioParticipant,
    check_names,
    format_problem,
    load_scenario_curriculum,
    parse_scenario,
)
from .simulator import run_scenario, scenario_calendar, simulate

__all__ = [
    "MODES", "POLICIES", "Attendance", "Calendar", "Cancellation", "Credit", "Deliveries", "ExplicitCredit", "GroupSpec",
    "MakeupSuggestion", "Meeting", "Progress", "RecordedMeeting", "Rules", "Scenario", "ScenarioError",
    "ScenarioParticipant", "Stay", "Timeline", "TopicPick", "TrackPlan", "TrackProgress", "WeekMinutes", "build_calendar",
    "check_group", "check_names", "extend_calendar", "format_problem", "iso_week", "load_scenario_curriculum",
    "makeup_suggestions", "parse_scenario", "participant_progress", "program_week", "run_scenario",
    "scenario_calendar", "simulate", "track_plans", "week_label",
]
