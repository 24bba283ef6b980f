"""Unusual access to personal data: bursts of reveals by one actor, reveals at night.

Both are found in Python over one period's reveals (a few thousand rows at most),
so they behave alike on SQLite and PostgreSQL. Thresholds are settings.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.audit.models import AuditEntry
from passtrace.core.config import Settings
from passtrace.core.errors import ValidationFailed
from passtrace.core.security import Principal
from passtrace.oversight import scope
from passtrace.oversight.review import LOCAL_TZ, check_days, local_day_start

MAX_DAYS = 31
REVEAL = "person.reveal"
ALERT = "person.reveal_alert"  # oversight.alerts: a user reached the hourly alert count


@dataclass(frozen=True)
class Burst:
    """The most reveals one actor made within one window (shown as role · office)."""

    actor_user_id: uuid.UUID | None
    count: int
    first: datetime
    last: datetime


@dataclass(frozen=True)
class Report:
    """Everything unusual in a period."""

    bursts: list[Burst]
    off_hours: list[AuditEntry]
    alerts: list[AuditEntry] = field(default_factory=list)


def _bursts(entries: list[AuditEntry], threshold: int, window: timedelta) -> list[Burst]:
    by_actor: dict[uuid.UUID | None, list[AuditEntry]] = defaultdict(list)
    for e in entries:
        by_actor[e.actor_user_id].append(e)
    found = []
    for actor, rows in by_actor.items():
        best, lo = None, 0
        for hi in range(len(rows)):  # rows are in time order: slide a window over them
            while rows[hi].at - rows[lo].at > window:
                lo += 1
            if hi - lo + 1 >= threshold and (best is None or hi - lo + 1 > best.count):
                best = Burst(actor, hi - lo + 1, rows[lo].at, rows[hi].at)
        if best is not None:
            found.append(best)
    return sorted(found, key=lambda b: (-b.count, str(b.actor_user_id)))


def _off_hours(entry: AuditEntry, start_hour: int, end_hour: int) -> bool:
    local = entry.at.astimezone(LOCAL_TZ)
    return local.weekday() >= 5 or not start_hour <= local.hour < end_hour


def report(*, session: Session, settings: Settings, principal: Principal, start: date,
           end: date, area: str | None = None) -> Report:
    """Find unusual reveals between two local dates (inclusive)."""
    check_days(start, end)
    if end < start or (end - start).days >= MAX_DAYS:
        raise ValidationFailed("Choose a period of 1 to %(days)s days.", days=MAX_DAYS)
    prefixes = scope.prefixes_for(principal, area)
    stmt = (select(AuditEntry)
            .where(AuditEntry.action.in_((REVEAL, ALERT)),
                   AuditEntry.at >= local_day_start(start),
                   AuditEntry.at < local_day_start(end + timedelta(days=1)))
            .order_by(AuditEntry.at, AuditEntry.id))
    if prefixes is not None:
        stmt = stmt.where(scope.actors_in(prefixes))
    found = list(session.scalars(stmt))
    entries = [e for e in found if e.action == REVEAL]
    alerts = [e for e in found if e.action == ALERT]
    bursts = _bursts(entries, settings.unusual_reveals_count,
                     timedelta(minutes=settings.unusual_reveals_minutes))
    night = [e for e in entries if _off_hours(e, settings.working_hours_start,
                                              settings.working_hours_end)]
    return Report(bursts, night[::-1], alerts[::-1])
