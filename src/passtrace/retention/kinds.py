"""What the retention job deletes: one Kind per table, with the column that dates a row.

Each kind keeps rows for `settings.retention_days` (one period for all: they are all
records of one epidemic's movements, needed for contact tracing within one incubation
window and no longer), except auth sessions, which are useless once expired and go
`retention_session_days` after expiry, and cases, which go `case_retention_days` after
they were closed (a case file outlives the movements it was traced from; an open case
never goes).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, Select, Table, select, true

from passtrace.accounts.models import AuthSession, IdentityAttempt
from passtrace.cases.models import Case, CaseEvent
from passtrace.communities.compounds.models import Outing
from passtrace.communities.deliveries.models import Delivery
from passtrace.communities.visits.models import Visit
from passtrace.core.config import Settings
from passtrace.notices.models import Notice
from passtrace.registrations.models import Registration, RegistrationExternalId, Stay
from passtrace.reports.models import DailyReport, ReportStop
from passtrace.tracing.models import Contact, ReportFinding, TracingTask


def _always() -> ColumnElement[bool]:
    return true()


Via = Callable[[list[object]], Select[tuple[object]]]
Child = tuple[Table, str] | tuple[Table, str, Via]


@dataclass(frozen=True)
class Kind:
    """One table the job deletes from: `dated_by` older than the cutoff goes.

    `is_date`: the column holds a date, not a time (compared with the cutoff's date).
    `also`: a further condition (an open outing stays: the resident is still out).
    `children`: rows that go with this one's, in order, by (table, fk column, via): the
    child's fk column is in the deleted ids, or, with `via`, in what `via(ids)` selects
    (a case's tracing tasks point at its contacts, not at the case). Deleted explicitly,
    not left to ON DELETE CASCADE, so what goes does not hang on a pragma.
    `key`: the column that names a row (the primary key).
    """

    name: str
    table: Table
    dated_by: str
    period_days: Callable[[Settings], int]
    is_date: bool = False
    also: Callable[[], ColumnElement[bool]] = _always
    children: tuple[Child, ...] = field(default=())
    key: str = "id"

    def cutoff(self, settings: Settings, now: datetime) -> datetime | date:
        """Rows dated before this go."""
        moment = now - timedelta(days=self.period_days(settings))
        return moment.date() if self.is_date else moment


def _period(settings: Settings) -> int:
    return settings.retention_days


def _contacts_of(case_ids: list[object]) -> Select[tuple[object]]:
    return select(Contact.id).where(Contact.case_id.in_(case_ids))  # type: ignore[return-value]


KINDS: tuple[Kind, ...] = (
    # On PostgreSQL whole days go first, by dropping their partitions
    # (retention.service.drop_partitions); the batches take what is left.
    Kind("registrations", Registration.__table__, "occurred_at", _period),  # type: ignore[arg-type]
    # An imported registration's external id goes with it (the same time, the same period).
    Kind("registration_external_ids", RegistrationExternalId.__table__,  # type: ignore[arg-type]
         "occurred_at", _period, key="external_id"),
    # A stay goes with its "in" registration (its id, its time): the same period.
    Kind("stays", Stay.__table__, "started_at", _period),  # type: ignore[arg-type]
    Kind("outings", Outing.__table__, "back_at", _period,  # type: ignore[arg-type]
         also=lambda: Outing.back_at.is_not(None)),
    Kind("daily_reports", DailyReport.__table__, "report_date", _period,  # type: ignore[arg-type]
         is_date=True, children=((ReportStop.__table__, "report_id"),)),  # type: ignore[arg-type]
    Kind("visits", Visit.__table__, "visit_date", _period, is_date=True),  # type: ignore[arg-type]
    Kind("deliveries", Delivery.__table__, "created_at", _period),  # type: ignore[arg-type]
    # Verification findings are derived from a report and its registrations: the same
    # period (they also go with their report, by its foreign key's cascade).
    Kind("report_findings", ReportFinding.__table__, "computed_at", _period),  # type: ignore[arg-type]
    # A closed case goes with its contacts (their evidence is a column of theirs), their
    # tracing tasks and its history; an open case never goes, however old.
    Kind("cases", Case.__table__, "closed_at",  # type: ignore[arg-type]
         lambda s: s.case_retention_days,
         also=lambda: Case.status == "closed",
         children=((TracingTask.__table__, "contact_id", _contacts_of),  # type: ignore[arg-type]
                   (Contact.__table__, "case_id"),
                   (CaseEvent.__table__, "case_id"))),
    Kind("notices", Notice.__table__, "created_at", _period),  # type: ignore[arg-type]
    Kind("identity_attempts", IdentityAttempt.__table__, "window_start",  # type: ignore[arg-type]
         _period),
    Kind("auth_sessions", AuthSession.__table__, "expires_at",  # type: ignore[arg-type]
         lambda s: s.retention_session_days),
)


def by_name(name: str) -> Kind:
    """The kind called `name` (KeyError if none)."""
    return {k.name: k for k in KINDS}[name]
