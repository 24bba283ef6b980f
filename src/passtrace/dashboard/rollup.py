"""Registrations by the hour for the dashboard: the folded counts, the deltas not yet
folded, the rows stamped ahead of their write (by their exact time), and a live
correction for what the counts hold of the open hour after the reader's `now`.

Counting (dashboard/models.py): triggers append each write's counts in the writer's
transaction, splitting the rows by the database's clock at the write (the writing
statement's start, `W`): a row with occurred_at <= W goes to the hourly deltas, which
`fold` moves into registration_hours; a row stamped ahead (occurred_at > W: a device
clock running fast, a load stamping the rest of the day) goes to registration_ahead,
keyed by its exact time, until `fold` sees the clock past it and moves it into its hour.

A reader at `now` (the app's clock) sums, in ONE statement (one snapshot, so each row
is counted once whatever a fold does meanwhile):
- the hourly counts of the range's hours: rows with occurred_at <= W of a write it
  sees. That write committed before the statement's snapshot, so W is before the
  database's clock `D` read during the statement: every such row is before D;
- the rows ahead with `at` before `now`;
- for the open hour, the correction of the hourly rows in [now, D): the registrations
  there (read live) minus the rows ahead there. Normally `now` and D are the same
  instant, so this reads next to nothing, however many rows are stamped ahead; it only
  grows when the app's clock is behind the database's (a test's frozen clock).
So every hour, the open one included, is exact at the instant of the request, and a
late offline batch or an import into an hour folded long ago counts as soon as it
commits.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, case, cast, delete, func, literal, select, union_all
from sqlalchemy.orm import Session

from passtrace.core.clock import utcnow
from passtrace.core.db import UTCDateTime
from passtrace.dashboard import deltas
from passtrace.dashboard.models import (
    RegistrationAhead,
    RegistrationHour,
    RegistrationHourDelta,
)
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


def clock(session: Session) -> Any:
    """The database's clock `D` as a scalar for one statement, read while it runs (after
    its snapshot is taken, so it is after the clock of every write the snapshot sees):
    on PostgreSQL clock_timestamp() in a CTE, read once however often the statement uses
    it (an InitPlan: a bound the index scans can take); SQLite's 'now' is constant
    within a statement, at the precision and in the form its triggers compare with."""
    if _postgres(session):
        return select(select(func.clock_timestamp().label("at")).cte("clock").c.at
                      ).scalar_subquery()
    return func.strftime("%Y-%m-%d %H:%M:%f", "now")


def _later(session: Session, a: Any, b: Any) -> Any:
    return (func.greatest if _postgres(session) else func.max)(a, b)


def counted(session: Session, *, since: datetime, until: datetime, now: datetime,
            sites: Any = None) -> Any:
    """`counts` as a subquery named "counted", to group."""
    return counts(session, since=since, until=until, now=now, sites=sites).subquery("counted")


def counts(session: Session, *, since: datetime, until: datetime, now: datetime,
           sites: Any = None, ahead: Any = None, db_clock: Any = None) -> Any:
    """(hour, site_id, decision, reasons, n, fevers) of registrations with occurred_at in
    [since, min(until, now)), `since` and `until` on the hour: a UNION ALL to group (as
    a subquery, or a CTE when one statement groups it twice). `sites`, a SELECT of site
    ids, keeps those sites' rows only (in every branch, so a district's read does not
    carry the whole city's rows up to the join). `ahead`: `ahead_rows` as a CTE, and
    `db_clock`: the `clock` it was made with, for a statement that reads the counts
    twice but the live rows once."""
    db_clock = clock(session) if db_clock is None else db_clock
    parts: list[Any] = []
    for table in (RegistrationHour, RegistrationHourDelta):
        part = (select(table.hour.label("hour"), table.site_id.label("site_id"),
                       table.decision.label("decision"), table.reasons.label("reasons"),
                       table.n.label("n"), table.fevers.label("fevers"))
                .where(table.hour >= since, table.hour < until))
        parts.append(part if sites is None else part.where(table.site_id.in_(sites)))
    # The rows stamped ahead that have happened by `now`, and those in [now, D) that the
    # live correction below takes away with the hourly rows there (it cannot tell them
    # apart): in the range, before the later of `now` and D.
    a = RegistrationAhead
    passed = (select(hour_of(session, a.at).label("hour"), a.site_id.label("site_id"),
                     a.decision.label("decision"), a.reasons.label("reasons"),
                     a.n.label("n"), a.fevers.label("fevers"))
              .where(a.at >= since, a.at < until,
                     a.at < _later(session, bindparam("now", now, type_=UTCDateTime()),
                                   db_clock)))
    parts.append(passed if sites is None else passed.where(a.site_id.in_(sites)))
    top = now.replace(minute=0, second=0, microsecond=0)
    if top < until:  # the open hour is in the range: take away what has not happened yet
        # (`ahead.select()`, not `select(ahead)`: mypy 2.4 crashes inferring the latter
        # over an Any argument.)
        live = (ahead_rows(session, now=now, sites=sites, db_clock=db_clock)
                if ahead is None else ahead.select())
        parts.append(live)
    return union_all(*parts)


def ahead_rows(session: Session, *, now: datetime, sites: Any = None,
               db_clock: Any = None) -> Any:
    """The open hour's registrations stamped at or after `now` and before the database's
    clock (`clock`), negated, as rows of `counts`: the hourly counts' rows after `now`
    together with the rows ahead there, which `counts` adds back. Normally none: `now`
    is the database's clock to the millisecond, whatever is stamped ahead."""
    db_clock = clock(session) if db_clock is None else db_clock
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
               Registration.occurred_at >= now, Registration.occurred_at < end,
               Registration.occurred_at < db_clock))
    return ahead if sites is None else ahead.where(Registration.site_id.in_(sites))


def fold(session: Session, *, now: datetime | None = None) -> int:
    """Move the deltas, and the rows ahead whose time the database's clock has passed,
    into registration_hours; drop hours older than KEEP. The rows folded
    (dashboard/deltas.py names the race and how it is prevented).

    A row ahead moves into its hour only once its `at` is before this fold's clock,
    hence before the commit that shows it in its hour, hence before the clock of any
    reader that sees it there: the hourly counts keep holding only rows that have
    happened by the reader's database clock (the module docstring)."""
    keep = (now or utcnow()) - KEEP
    keys = "hour, site_id, decision, reasons"
    folded = deltas.fold(session, deltas="registration_hour_deltas",
                         totals="registration_hours", keys=keys,
                         sums=("n", "fevers"), keep_if="hour >= :keep", binds=(_KEEP,),
                         params={"keep": keep})
    if _postgres(session):
        due, hour, params = "at <= statement_timestamp()", "date_trunc('hour', at, 'UTC')", {}
    else:  # one clock reading for the fold's two statements (the triggers' form)
        due, hour = "at <= :clock", "substr(at, 1, 13) || ':00:00.000000'"
        params = {"clock": session.scalar(select(clock(session)))}
    folded += deltas.fold(session, deltas="registration_ahead", totals="registration_hours",
                          keys=keys, key_values=f"{hour}, site_id, decision, reasons",
                          sums=("n", "fevers"), keep_if="at >= :keep", binds=(_KEEP,),
                          params={"keep": keep} | params, due=due)
    session.execute(delete(RegistrationHour).where(
        (RegistrationHour.hour < keep) | ((RegistrationHour.n == 0)
                                          & (RegistrationHour.fevers == 0))))
    return folded
