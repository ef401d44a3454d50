"""Every model, imported in dependency order so metadata is complete (Alembic, tests, CLI)."""

from .attendance.models import Attendance
from .audit.models import AuditEvent
from .auth.models import AccountToken, RecoveryCode, SignInAttempt, User
from .clinical.models import DrugTest, RelapseAnalysis
from .contingency.models import CmDraw, CmMissedTest, CmPrize, CmProtocol, CmVoucherExchange
from .curricula.models import Curriculum, CurriculumVersion, Module, Track, Worksheet
from .data_revision import DataRevision, TableRevision
from .groups.models import Cancellation, Group, Meeting, MeetingAddendum, Slot
from .participants.models import Enrollment, FamilyGuest, Participant
from .programs.models import AttendanceStatus, Holiday, Program
from .progress.models import Credit, MakeUp
from .workbook.models import WorksheetAnswer

__all__ = [
    "CmDraw", "CmMissedTest", "CmPrize", "CmProtocol", "CmVoucherExchange",
    "AccountToken", "Attendance", "AttendanceStatus", "AuditEvent", "Cancellation", "Credit", "Curriculum",
    "CurriculumVersion", "DataRevision", "DrugTest", "Enrollment", "FamilyGuest", "Group", "Holiday", "MakeUp",
    "Meeting", "MeetingAddendum", "Module", "Participant", "Program", "RecoveryCode", "RelapseAnalysis", "SignInAttempt", "Slot",
    "TableRevision", "Track", "User", "Worksheet", "WorksheetAnswer",
]
