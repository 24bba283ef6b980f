"""Import every table so the metadata (and Alembic) sees the whole schema."""

from passtrace.accounts.models import AuthSession, RecoveryCode, RoleBinding, User
from passtrace.areas.models import Area
from passtrace.audit.models import AuditEntry
from passtrace.communities.models import (
    Building,
    Community,
    Delivery,
    Household,
    Outing,
    Resident,
    Visit,
)
from passtrace.core.db import Base
from passtrace.core.outbox import OutboxMessage
from passtrace.enterprises.models import (
    Department,
    Employee,
    Enterprise,
    ResumptionApplication,
)
from passtrace.notices.models import Notice
from passtrace.passes.models import Pass, Revocation, SigningKeyRecord
from passtrace.people.models import Person
from passtrace.registrations.models import Registration
from passtrace.reports.models import (
    AreaRisk,
    DailyReport,
    ReportDayCount,
    ReportReminder,
    ReportStop,
)
from passtrace.sites.models import Device, DeviceSync, Site, ThermalReading

__all__ = [
    "Area", "AreaRisk", "AuditEntry", "AuthSession", "Base", "Building", "Community",
    "DailyReport", "Delivery", "Department", "Device", "DeviceSync", "Employee", "Enterprise",
    "Household", "Notice", "Outing", "OutboxMessage", "Pass", "Person", "Registration",
    "ReportDayCount",
    "ReportReminder", "ReportStop", "Resident", "ResumptionApplication", "Revocation",
    "RecoveryCode", "RoleBinding", "SigningKeyRecord", "Site", "ThermalReading", "User", "Visit",
]
