"""Registrations by the hour for the dashboard: the folded counts, the deltas not yet
folded, and a live correction for the part of the open hour that has not happened yet.

Counting (dashboard/models.py): triggers append each write's counts to the deltas in
the writer's transaction; `fold` moves them into registration_hours. A reader sums
registration_hours + deltas for the window's hours in ONE statement (one snapshot), so
each registration is counted once whatever the fold does meanwhile, for every hour,
the open one included, and a late offline upload or an import into a closed hour counts
as soon as it commits.

The window ends at `now`, not on the hour: rows of the open hour whose occurred_at is
still ahead (a device clock running fast) are in the counts but not yet in the window,
so the same statement subtracts them, read live from registrations (the id range prunes
to the open hour's partition; normally no row).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, case, cast, delete, func, literal, select, union_all
from sqlalchemy.orm import Session

from passtrace.core.clock import utcnow
from passtrace.core.db import UTCDateTime
from passtrace.dashboard import deltas
from passtrace.dashboard.models import RegistrationHour, RegistrationHourDelta
from passtrace.dashboard.window import SLACK
from passtrace.registrations.models import Registration
from passtrace.registrations.partitions import day_bound
from passtrace.sites.models import Site

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
_KEEP = bindparam("keep", type_=UTCDateTime())
# Folded hours older than this are dropped (the dashboard reads the last 24 hours).
KEEP = timedelta(days=2)


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def hour_of(session: Session, column: Any) -> Any:
    """The UTC hour of a time, as the triggers key it (migration d4a5b6c7e8f9)."""
    if _postgres(session):
        return func.date_trunc("hour", column, "UTC")
    return (func.substr(column, 1, 10) + " " + func.substr(column, 12, 2)
            + ":00:00.000000")


def counted(session: Session, *, since: datetime, until: datetime, now: datetime,
            sites: Any = None) -> Any:
    """`counts` as a subquery named "counted", to group."""
    return counts(session, since=since, until=until, now=now, sites=sites).subquery("counted")


def counts(session: Session, *, since: datetime, until: datetime, now: datetime,
           sites: Any = None, ahead: Any = None) -> Any:
    """(hour, site_id, decision, reasons, n, fevers) of registrations with occurred_at in
    [since, min(until, now)), `since` and `until` on the hour: a UNION ALL to group (as
    a subquery, or a CTE when one statement groups it twice). `sites`, a SELECT of site
    ids, keeps those sites' rows only (in every branch, so a district's read does not
    carry the whole city's rows up to the join). `ahead`: `ahead_rows` as a CTE, for
    a statement that reads the counts twice but the live rows once."""
    parts: list[Any] = []
    for table in (RegistrationHour, RegistrationHourDelta):
        part = (select(table.hour.label("hour"), table.site_id.label("site_id"),
                       table.decision.label("decision"), table.reasons.label("reasons"),
                       table.n.label("n"), table.fevers.label("fevers"))
                .where(table.hour >= since, table.hour < until))
        parts.append(part if sites is None else part.where(table.site_id.in_(sites)))
    top = now.replace(minute=0, second=0, microsecond=0)
    if top < until:  # the open hour is in the range: take away what has not happened yet
        # (`ahead.select()`, not `select(ahead)`: mypy 2.4 crashes inferring the latter
        # over an Any argument.)
        live = ahead_rows(session, now=now, sites=sites) if ahead is None else ahead.select()
        parts.append(live)
    return union_all(*parts)


def ahead_rows(session: Session, *, now: datetime, sites: Any = None) -> Any:
    """The open hour's registrations stamped at or after `now`, negated, as rows of
    `counts` (normally none: a device clock running fast)."""
    end = now.replace(minute=0, second=0, microsecond=0) + HOUR
    # The id range only prunes: to the partitions (whole UTC days) of the ids these
    # rows may have, so it is widened to those days' bounds. Bounded to the hour and
    # its slack instead, it prunes the same partitions but PostgreSQL also scans the
    # primary key over that range (~2.5 hours of rows) to AND it with occurred_at's
    # index, which alone finds the rows: at 10M rows a third of this part's time.
    reasons = cast(Registration.reasons, RegistrationHour.reasons.type)
    ahead = (
        select(hour_of(session, Registration.occurred_at).label("hour"),
               Registration.site_id.label("site_id"), Registration.decision.label("decision"),
               case((Registration.decision == "deny", reasons),
                    else_=literal("")).label("reasons"),
               literal(-1).label("n"),
               case((Registration.temperature >= Site.fever_threshold, -1),
                    else_=0).label("fevers"))
        .join(Site, Site.id == Registration.site_id)
        .where(Registration.id >= day_bound((now - SLACK).astimezone(UTC).date()),
               Registration.id < day_bound((end + SLACK).astimezone(UTC).date() + DAY),
               Registration.occurred_at >= now, Registration.occurred_at < end))
    return ahead if sites is None else ahead.where(Registration.site_id.in_(sites))


def fold(session: Session, *, now: datetime | None = None) -> int:
    """Move the deltas into registration_hours; drop hours older than KEEP. The rows
    folded (dashboard/deltas.py, which names the race and how it is prevented)."""
    keep = (now or utcnow()) - KEEP
    folded = deltas.fold(session, deltas="registration_hour_deltas",
                         totals="registration_hours", keys="hour, site_id, decision, reasons",
                         sums=("n", "fevers"), keep_if="hour >= :keep", binds=(_KEEP,),
                         params={"keep": keep})
    session.execute(delete(RegistrationHour).where(
        (RegistrationHour.hour < keep) | ((RegistrationHour.n == 0)
                                          & (RegistrationHour.fevers == 0))))
    return folded
