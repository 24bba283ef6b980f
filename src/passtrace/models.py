"""Import every table so the metadata (and Alembic) sees the whole schema."""

from passtrace.accounts.models import AuthSession, RecoveryCode, RoleBinding, User
from passtrace.analytics.models import AnalyticsRun
from passtrace.areas.models import Area, AreaRisk
from passtrace.audit.models import AuditEntry
from passtrace.cases.models import Case, CaseEvent
from passtrace.communities.compounds.models import (
    Building,
    Community,
    Household,
    Outing,
    Resident,
)
from passtrace.communities.deliveries.models import Delivery
from passtrace.communities.visits.models import Visit
from passtrace.core.db import Base
from passtrace.core.outbox import OutboxMessage
from passtrace.dashboard.models import (
    RegistrationAhead,
    RegistrationHour,
    RegistrationHourDelta,
)
from passtrace.enterprises.models import (
    Department,
    Employee,
    Enterprise,
    ResumptionApplication,
)
from passtrace.health.models import StatusAppeal, StatusChange, StatusFlag, StatusProposal
from passtrace.notices.models import Notice
from passtrace.passes.models import Pass, Revocation, SigningKeyRecord
from passtrace.people.models import Person
from passtrace.registrations.models import Registration, Stay
from passtrace.reports.models import (
    DailyReport,
    ReportDayCount,
    ReportReminder,
    ReportStop,
)
from passtrace.sites.models import Device, DeviceSync, Site, ThermalReading
from passtrace.supplies.models import (
    Depot,
    LedgerEntry,
    StockBalance,
    SupplyItem,
    SupplyLot,
    SupplyRequest,
    SupplyTransfer,
)
from passtrace.supplies.submissions import FormSubmission
from passtrace.tracing.models import Contact, ReportFinding, TracingTask
from passtrace.warnings.models import Alert, RuleSetting

__all__ = [
    "Alert", "RuleSetting",
    "StatusAppeal", "StatusChange", "StatusFlag", "StatusProposal",
    "AnalyticsRun",
    "Area", "AreaRisk", "Case", "CaseEvent", "Contact", "ReportFinding", "Stay",
    "TracingTask", "AuditEntry", "AuthSession", "Base", "Building", "Community",
    "DailyReport", "Delivery", "Department", "Device", "DeviceSync", "Employee", "Enterprise",
    "Household", "Notice", "Outing", "OutboxMessage", "Pass", "Person", "Registration",
    "ReportDayCount",
    "ReportReminder", "ReportStop", "Resident", "ResumptionApplication", "Revocation",
    "RecoveryCode", "RoleBinding", "SigningKeyRecord", "Site", "ThermalReading", "User", "Visit",
    "Depot", "LedgerEntry", "StockBalance", "SupplyItem", "SupplyLot", "SupplyRequest",
    "SupplyTransfer", "FormSubmission", "RegistrationHour", "RegistrationHourDelta",
    "RegistrationAhead",
]
