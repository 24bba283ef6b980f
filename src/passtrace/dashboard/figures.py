"""Every figure of the command dashboard, for a scope and a window: counts only.

Each figure is one set-based statement bounded by indexed columns: registrations from
their hourly counts (dashboard/rollup.py: kept by triggers, exact for every hour), alerts by
(queue_area, status), cases by (area_code, status), tracing tasks by (area_code, status,
due_at), daily reports through the per-day counters. No person is read, so nothing
reaches an access log here; the lists the numbers link to log their own reads.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Select, and_, case, func, literal, null, or_, select, text, union_all
from sqlalchemy.orm import Session

from passtrace.areas.models import AreaRisk
from passtrace.cases.models import Case
from passtrace.core.clock import local_today
from passtrace.dashboard import rollup
from passtrace.dashboard import staff as staff_counts
from passtrace.dashboard.models import OPEN_ALERT
from passtrace.dashboard.rollup import HOUR
from passtrace.dashboard.scope import Scope
from passtrace.dashboard.window import HOURS, Window
from passtrace.enterprises.models import Enterprise
from passtrace.health import roster
from passtrace.health.models import StatusFlag
from passtrace.reports.models import DailyReport, ReportDayCount
from passtrace.sites.models import Site
from passtrace.tracing.models import TracingTask
from passtrace.warnings.models import Alert

# Age buckets of open alerts: (key, lower bound). An alert is in the last bucket whose
# lower bound it has reached.
AGES: tuple[tuple[str, timedelta], ...] = (
    ("lt1h", timedelta(0)), ("h1to24", timedelta(hours=1)),
    ("d1to3", timedelta(days=1)), ("gt3d", timedelta(days=3)))
TRACING_DAYS = 14  # a contact's quarantine: the tasks the contacts figure covers
TOP_SITES = 10


@dataclass
class RegistrationFigures:
    """Registrations in the window: per hour by site kind; today's totals."""

    by_kind: dict[str, list[int]] = field(default_factory=dict)
    denied_per_hour: list[int] = field(default_factory=lambda: [0] * HOURS)
    fevers_per_hour: list[int] = field(default_factory=lambda: [0] * HOURS)
    today: int = 0
    today_denied: int = 0
    today_fevers: int = 0
    denials_by_reason: dict[str, int] = field(default_factory=dict)


@dataclass
class SiteFigures:
    """One site's day so far (the sites with the most denials and fevers first)."""

    code: str
    name: str
    kind: str
    total: int
    denied: int
    fevers: int


@dataclass
class ReportFigures:
    """Today's daily reports: submitted of expected, flagged (fever or symptoms)."""

    submitted: int = 0
    expected: int = 0
    flagged: int = 0

    @property
    def rate(self) -> float | None:
        return round(self.submitted / self.expected, 4) if self.expected else None


@dataclass
class TracingFigures:
    """Tracing tasks of the last 14 days: reached within 24 h of being made, and late."""

    tasks: int = 0
    due: int = 0  # whose 24 h have passed, or reached already
    reached_in_time: int = 0
    overdue: int = 0  # not reached and past due

    @property
    def reached_share(self) -> float | None:
        return round(self.reached_in_time / self.due, 4) if self.due else None


@dataclass
class Figures:
    """The whole dashboard."""

    window: Window
    registrations: RegistrationFigures
    sites: list[SiteFigures]
    reports: ReportFigures
    alerts: dict[str, dict[str, int]]  # rule -> age bucket -> open alerts
    cases: dict[str, int]  # classification -> open cases
    cases_today: int
    tracing: TracingFigures
    risks: dict[str, int]  # level -> risk areas in force
    status: dict[str, int]  # yellow/red -> persons


S = TypeVar("S", bound=Select)


def _scoped(stmt: S, scope: Scope, column: Any) -> S:
    where = scope.where(column)
    return stmt if where is None else stmt.where(where)


def _sites(scope: Scope) -> Select[Any] | None:
    """The ids of the scope's sites (None: every site)."""
    return None if scope.prefixes is None else _scoped(select(Site.id), scope, Site.area_code)


def _as_utc(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def registrations_statement(session: Session, scope: Scope, window: Window) -> Any:
    """The window's registrations and today's busiest sites, in ONE statement over the
    hourly counts (dashboard/rollup.py), their live rows read once: part 0 rows are grouped by
    hour, site kind, verdict and denial reasons; part 1 rows are the TOP_SITES sites of
    today (from local midnight) with the most denials, then fevers, then registrations.

    Why one statement: the counts' live part (the rows of the open hour still ahead of
    `now`, read from registrations) was read once per figure; and the two figures now
    come from one snapshot, so they agree with each other."""
    # Only the live rows are shared (a CTE, materialized once): sharing the whole counts
    # materialized ~50k rows for the city and cost more than reading them twice.
    # Both figures and the live rows compare with one reading of the database's clock.
    db_clock = rollup.clock(session)
    ahead = rollup.ahead_rows(session, now=window.end, sites=_sites(scope),
                              db_clock=db_clock).cte("ahead")
    until = window.start + HOURS * HOUR
    c = rollup.counts(session, since=window.start, until=until, now=window.end,
                      sites=_sites(scope), ahead=ahead, db_clock=db_clock).subquery("counted")
    t = rollup.counts(session, since=window.today_start, until=until, now=window.end,
                      sites=_sites(scope), ahead=ahead, db_clock=db_clock).subquery("today")
    by_hour = _scoped(
        select(literal(0).label("part"), c.c.hour, Site.kind, c.c.decision, c.c.reasons,
               func.sum(c.c.n).label("n"), func.sum(c.c.fevers).label("fevers"),
               null().label("code"), null().label("name"), null().label("denied"))
        .join(Site, Site.id == c.c.site_id)
        .group_by(c.c.hour, Site.kind, c.c.decision, c.c.reasons), scope, Site.area_code)
    fever = func.sum(t.c.fevers)
    denied = func.sum(case((t.c.decision == "deny", t.c.n), else_=0))
    total = func.sum(t.c.n)
    top = _scoped(
        select(Site.code, Site.name, Site.kind, total.label("n"), fever.label("fevers"),
               denied.label("denied"))
        .join(Site, Site.id == t.c.site_id)
        .group_by(Site.code, Site.name, Site.kind)
        .having(total > 0)
        .order_by(denied.desc(), fever.desc(), total.desc(), Site.code)
        .limit(TOP_SITES), scope, Site.area_code).subquery("top")
    sites = select(literal(1), null(), top.c.kind, null(), null(), top.c.n, top.c.fevers,
                   top.c.code, top.c.name, top.c.denied)
    return union_all(by_hour, sites)


def registrations(*, session: Session, scope: Scope, window: Window
                  ) -> tuple[RegistrationFigures, list[SiteFigures]]:
    """The window's counts, grouped by hour, site kind and verdict; today's top sites.

    Denied rows keep their reasons' text in the grouping, so the reasons are counted from
    the (small) grouped result; allowed rows have none.
    """
    out = RegistrationFigures()
    sites: list[SiteFigures] = []
    for part, at, kind, decision, reason_text, n, fevers, code, name, denied in (
            session.execute(registrations_statement(session, scope, window))):
        n, fevers = int(n or 0), int(fevers or 0)
        if part == 1:
            sites.append(SiteFigures(code, name, kind, n, int(denied or 0), fevers))
            continue
        start = _as_utc(at)
        i = window.bucket(start)
        if i is None or (n == 0 and fevers == 0):
            continue
        out.by_kind.setdefault(kind, [0] * HOURS)[i] += n
        out.fevers_per_hour[i] += fevers
        if decision == "deny":
            out.denied_per_hour[i] += n
        if start < window.today_start:
            continue
        out.today += n
        out.today_fevers += fevers
        if decision == "deny":
            out.today_denied += n
            for code in _codes(reason_text):
                out.denials_by_reason[code] = out.denials_by_reason.get(code, 0) + n
    # A UNION ALL keeps no order: sort as the statement chose them.
    sites.sort(key=lambda s: (-s.denied, -s.fevers, -s.total, s.code))
    return out, sites


def _codes(text: str | None) -> list[str]:
    try:
        value = json.loads(text or "[]")
    except ValueError:
        return []
    return [c for c in value if isinstance(c, str)] if isinstance(value, list) else []


def reports(*, session: Session, scope: Scope, now: datetime) -> ReportFigures:
    """Today's reports submitted (the per-day counters) of the active staff expected
    (dashboard/staff.py: kept by triggers, one row per enterprise)."""
    today = local_today(now)
    submitted = session.scalar(_scoped(
        select(func.coalesce(func.sum(ReportDayCount.submitted), 0))
        .join(Enterprise, Enterprise.id == ReportDayCount.enterprise_id)
        .where(ReportDayCount.report_date == today), scope, Enterprise.area_code))
    staff = staff_counts.active_rows()
    expected = session.scalar(_scoped(
        select(func.coalesce(func.sum(staff.c.n), 0)).select_from(staff)
        .join(Enterprise, Enterprise.id == staff.c.enterprise_id), scope,
        Enterprise.area_code))
    flagged = session.scalar(_scoped(
        select(func.count()).select_from(DailyReport)
        .join(Enterprise, Enterprise.id == DailyReport.enterprise_id)
        .where(DailyReport.report_date == today, DailyReport.flagged), scope,
        Enterprise.area_code))
    return ReportFigures(int(submitted or 0), int(expected or 0), int(flagged or 0))


def open_alerts(*, session: Session, scope: Scope, now: datetime) -> dict[str, dict[str, int]]:
    """Open (and acknowledged, not yet closed) alerts by rule and age.

    One count per age bucket, grouped by rule only (a handful of groups): from the
    partial index ix_alerts_open_queue alone (dashboard/models.py) on PostgreSQL.
    """
    counts = []
    for i, (_, low) in enumerate(AGES):
        older = AGES[i + 1][1] if i + 1 < len(AGES) else None
        reached = Alert.created_at <= now - low if i else None
        younger = Alert.created_at > now - older if older is not None else None
        bounds = [c for c in (reached, younger) if c is not None]
        counts.append(func.count().filter(and_(*bounds)))
    stmt = (select(Alert.rule_code, *counts).where(Alert.status.in_(OPEN_ALERT))
            .group_by(Alert.rule_code))
    out: dict[str, dict[str, int]] = {}
    for rule, *by_age in session.execute(_scoped(stmt, scope, Alert.queue_area)):
        ages = {key: int(n) for (key, _), n in zip(AGES, by_age, strict=True) if n}
        if ages:
            out[rule] = ages
    return out


def cases(*, session: Session, scope: Scope, window: Window) -> tuple[dict[str, int], int]:
    """Open cases by classification, and cases opened today."""
    stmt = (select(Case.classification, func.count()).where(Case.status == "open")
            .group_by(Case.classification))
    by_class = {c: n for c, n in session.execute(_scoped(stmt, scope, Case.area_code))}
    today = session.scalar(_scoped(
        select(func.count()).select_from(Case).where(Case.created_at >= window.today_start),
        scope, Case.area_code))
    return by_class, int(today or 0)


def tracing(*, session: Session, scope: Scope, now: datetime) -> TracingFigures:
    """Tasks made in the last 14 days: due, reached within their 24 h, overdue."""
    in_time = and_(TracingTask.reached_at.is_not(None),
                   TracingTask.reached_at <= TracingTask.due_at)
    due = or_(TracingTask.due_at <= now, in_time)
    stmt = select(
        func.count(),
        func.sum(case((due, 1), else_=0)),
        func.sum(case((in_time, 1), else_=0)),
        func.sum(case((and_(TracingTask.status == "not_reached", TracingTask.due_at < now),
                       1), else_=0)),
    ).where(TracingTask.created_at >= now - timedelta(days=TRACING_DAYS))
    tasks, due_n, reached, overdue = session.execute(
        _scoped(stmt, scope, TracingTask.area_code)).one()
    return TracingFigures(int(tasks or 0), int(due_n or 0), int(reached or 0),
                          int(overdue or 0))


def risks(*, session: Session, scope: Scope, now: datetime) -> dict[str, int]:
    """Risk areas in force now, by level: inside the scope or covering it."""
    stmt = (select(AreaRisk.level, func.count())
            .where(AreaRisk.valid_from <= now,
                   or_(AreaRisk.valid_until.is_(None), AreaRisk.valid_until > now))
            .group_by(AreaRisk.level))
    if scope.prefixes is not None:
        inside = scope.where(AreaRisk.area_code)
        covering = [AreaRisk.area_prefix == p[:n] for p in scope.prefixes
                    for n in range(2, len(p) + 1)]
        stmt = stmt.where(or_(inside, *covering) if inside is not None else or_(*covering))
    return {level: n for level, n in session.execute(stmt)}


def status(*, session: Session, scope: Scope, now: datetime) -> dict[str, int]:
    """Persons yellow or red now, from their live flags (green is everyone else).

    In an area, a flag counts where its reason arose (`StatusFlag.area_code`: the
    alert's area, or for a manual change the person's area the approving official
    covers); a flag with no area (raised before areas were kept on flags) counts
    city-wide only.
    """
    # The same live flags and worst level as the list the count links to
    # (health.roster), so the number and its list agree.
    live, rank = roster.live(now), roster.worst_rank()
    per_person = _scoped(select(StatusFlag.person_id, rank.label("rank")).where(live),
                         scope, StatusFlag.area_code)
    sub = per_person.group_by(StatusFlag.person_id).subquery()
    rows = session.execute(select(sub.c.rank, func.count()).group_by(sub.c.rank))
    names = {2: "red", 1: "yellow"}
    out = {"red": 0, "yellow": 0}
    for r, n in rows:
        if r in names:
            out[names[r]] = n
    return out


def compute(*, session: Session, scope: Scope, window: Window) -> Figures:
    """Every figure of the dashboard for a scope and window."""
    if session.get_bind().dialect.name == "postgresql":
        # psycopg prepares a statement after its fifth run on a connection, and PostgreSQL
        # may then switch to a generic plan that cannot prune day partitions by the window:
        # replayed through one connection, the hourly counts went from ~40 ms to 5.5 s on
        # their tenth run. These reads are few and cheap to plan: always plan them afresh.
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    now = window.end
    by_class, cases_today = cases(session=session, scope=scope, window=window)
    counted, sites = registrations(session=session, scope=scope, window=window)
    return Figures(
        window=window, registrations=counted, sites=sites,
        reports=reports(session=session, scope=scope, now=now),
        alerts=open_alerts(session=session, scope=scope, now=now),
        cases=by_class, cases_today=cases_today,
        tracing=tracing(session=session, scope=scope, now=now),
        risks=risks(session=session, scope=scope, now=now),
        status=status(session=session, scope=scope, now=now))
