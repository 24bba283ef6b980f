"""What the retention job deletes: one Kind per table, with the column that dates a row.

Each kind keeps rows for `settings.retention_days` (one period for all: they are all
records of one epidemic's movements, needed for contact tracing within one incubation
window and no longer), except auth sessions, which are useless once expired and go
`retention_session_days` after expiry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, Table, true

from passtrace.accounts.models import AuthSession, IdentityAttempt
from passtrace.communities.compounds.models import Outing
from passtrace.communities.deliveries.models import Delivery
from passtrace.communities.visits.models import Visit
from passtrace.core.config import Settings
from passtrace.notices.models import Notice
from passtrace.registrations.models import Registration, Stay
from passtrace.reports.models import DailyReport, ReportStop


def _always() -> ColumnElement[bool]:
    return true()


@dataclass(frozen=True)
class Kind:
    """One table the job deletes from: `dated_by` older than the cutoff goes.

    `is_date`: the column holds a date, not a time (compared with the cutoff's date).
    `also`: a further condition (an open outing stays: the resident is still out).
    `children`: tables whose rows point at this one and go with it, by (table, fk column).
    """

    name: str
    table: Table
    dated_by: str
    period_days: Callable[[Settings], int]
    is_date: bool = False
    also: Callable[[], ColumnElement[bool]] = _always
    children: tuple[tuple[Table, str], ...] = field(default=())

    def cutoff(self, settings: Settings, now: datetime) -> datetime | date:
        """Rows dated before this go."""
        moment = now - timedelta(days=self.period_days(settings))
        return moment.date() if self.is_date else moment


def _period(settings: Settings) -> int:
    return settings.retention_days


KINDS: tuple[Kind, ...] = (
    Kind("registrations", Registration.__table__, "occurred_at", _period),  # type: ignore[arg-type]
    # A stay goes with its "in" registration (its id, its time): the same period.
    Kind("stays", Stay.__table__, "started_at", _period),  # type: ignore[arg-type]
    Kind("outings", Outing.__table__, "back_at", _period,  # type: ignore[arg-type]
         also=lambda: Outing.back_at.is_not(None)),
    Kind("daily_reports", DailyReport.__table__, "report_date", _period,  # type: ignore[arg-type]
         is_date=True, children=((ReportStop.__table__, "report_id"),)),  # type: ignore[arg-type]
    Kind("visits", Visit.__table__, "visit_date", _period, is_date=True),  # type: ignore[arg-type]
    Kind("deliveries", Delivery.__table__, "created_at", _period),  # type: ignore[arg-type]
    Kind("notices", Notice.__table__, "created_at", _period),  # type: ignore[arg-type]
    Kind("identity_attempts", IdentityAttempt.__table__, "window_start",  # type: ignore[arg-type]
         _period),
    Kind("auth_sessions", AuthSession.__table__, "expires_at",  # type: ignore[arg-type]
         lambda s: s.retention_session_days),
)


def by_name(name: str) -> Kind:
    """The kind called `name` (KeyError if none)."""
    return {k.name: k for k in KINDS}[name]
