"""Trajectory verification: each daily report's stops against what the sites recorded.

Set-based: reports are verified a chunk at a time with a fixed number of queries per
chunk (reports + stops, the persons' registrations, their stays, the delete and the
insert) plus one query per local day for which areas recorded anyone when
("observability"). The classes and the accuracy figure are defined in docs/tracing.md
("Verification").
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ARRAY,
    Integer,
    String,
    Uuid,
    any_,
    bindparam,
    cast,
    delete,
    func,
    insert,
    literal_column,
    select,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from passtrace.core.areacodes import significant_prefix
from passtrace.core.clock import local_day_bounds as _local_day_bounds
from passtrace.core.clock import utcnow
from passtrace.core.errors import InvalidState
from passtrace.core.i18n import N_
from passtrace.enterprises.models import Enterprise
from passtrace.registrations.models import Registration, Stay
from passtrace.reports.models import DailyReport, ReportStop
from passtrace.sites.models import Site
from passtrace.tracing.models import ReportFinding

# Finding ids are UUIDv5 in this namespace of (report, class, stop, registration).
NAMESPACE = uuid.UUID("6f1d3c2a-9b7e-5d41-8a60-2c4e7f90b1d3")
DEFAULT_TOLERANCE = 30
MIN_TOLERANCE, MAX_TOLERANCE = 5, 240
# Observability is read per (site area, 5-minute bucket) with the earliest and latest
# registration in it. A stop's window is at least 2 x MIN_TOLERANCE = 10 minutes wide, so
# it always spans several buckets and the answer is exact (see Observed.any_between).
BUCKET_S = 300
CHUNK = 2000
OBSERVABLE = ("corroborated", "contradiction", "uncorroborated")


@lru_cache(maxsize=64)
def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC bounds of a local day (cached: called for every report of a run)."""
    return _local_day_bounds(day)


def _in(session: Session, column: Any, values: Collection[Any], kind: Any) -> Any:
    """`column IN values`; on PostgreSQL `= ANY(array)`, one parameter instead of
    thousands (psycopg spent more time parsing the expanded IN than the server running it)."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(kind)))
    return column.in_(list(values))


def check_tolerance(minutes: int) -> int:
    """Refuse a tolerance outside MIN_TOLERANCE..MAX_TOLERANCE minutes."""
    if not MIN_TOLERANCE <= minutes <= MAX_TOLERANCE:
        raise InvalidState(N_("The tolerance must be between %(low)s and %(high)s minutes."),
                           low=MIN_TOLERANCE, high=MAX_TOLERANCE)
    return minutes


def finding_id(report_id: uuid.UUID, finding_class: str, stop_seq: int | None,
               registration_id: uuid.UUID | None) -> uuid.UUID:
    """The stable id of a finding: the same inputs give the same id on every run."""
    return uuid.uuid5(NAMESPACE, f"{report_id}/{finding_class}/{stop_seq or ''}/"
                                 f"{registration_id or ''}")


def accuracy(counts: dict[str, int]) -> float | None:
    """Share of observable stops that were corroborated (None when no stop was observable)."""
    observable = sum(counts.get(c, 0) for c in OBSERVABLE)
    return counts.get("corroborated", 0) / observable if observable else None


@dataclass(frozen=True)
class StopIn:
    seq: int
    area_code: str
    arrive_at: datetime
    depart_at: datetime | None


@dataclass(frozen=True)
class Seen:
    """A registration (instant: ended_at is None) or a stay of the person, with its area."""

    id: uuid.UUID
    area_code: str
    at: datetime
    ended_at: datetime | None = None

    def meets(self, lo: datetime, hi: datetime) -> bool:
        return self.at <= hi and (self.ended_at or self.at) >= lo


@dataclass
class Finding:
    finding_class: str
    stop_seq: int | None = None
    registration_id: uuid.UUID | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def stop_intervals(stops: Sequence[StopIn], day: date) -> list[tuple[datetime, datetime]]:
    """Each stop's [arrive, end]: its departure, else the next arrival, else midnight."""
    day_end = local_day_bounds(day)[1]
    out = []
    for i, s in enumerate(stops):
        end = s.depart_at or (stops[i + 1].arrive_at if i + 1 < len(stops) else day_end)
        out.append((s.arrive_at, max(end, s.arrive_at)))
    return out


def classify(*, day: date, stops: Sequence[StopIn], registrations: Sequence[Seen],
             stays: Sequence[Seen], tolerance: timedelta,
             observable: Callable[[str, datetime, datetime], bool]) -> list[Finding]:
    """Classify one report's stops and the person's registrations (pure; see docs)."""
    intervals = stop_intervals(stops, day)
    prefixes = [significant_prefix(s.area_code) for s in stops]
    windows = [(a - tolerance, e + tolerance) for a, e in intervals]
    covered: set[uuid.UUID] = set()
    for r in registrations:
        if any(r.area_code.startswith(p) and lo <= r.at <= hi
               for p, (lo, hi) in zip(prefixes, windows, strict=True)):
            covered.add(r.id)
    findings: list[Finding] = []
    cited: set[uuid.UUID] = set()
    for s, p, (arrive, end), (lo, hi) in zip(stops, prefixes, intervals, windows, strict=True):
        match = next((r for r in (*registrations, *stays)
                      if r.area_code.startswith(p) and r.meets(lo, hi)), None)
        if match is not None:
            findings.append(Finding("corroborated", s.seq, match.id, _detail(match)))
            continue
        # At that time (no tolerance) somewhere not inside the reported area, and not
        # explained by another stop's window (travel between two stops).
        other = next((r for r in registrations if arrive <= r.at <= end
                      and not r.area_code.startswith(p) and r.id not in covered), None)
        if other is not None:
            cited.add(other.id)
            findings.append(Finding("contradiction", s.seq, other.id, _detail(other)))
        elif observable(p, lo, hi):
            findings.append(Finding("uncorroborated", s.seq, None, {"area_code": s.area_code}))
        else:
            findings.append(Finding("unobservable", s.seq, None, {"area_code": s.area_code}))
    day_start, day_end = local_day_bounds(day)
    for r in registrations:
        if day_start <= r.at < day_end and r.id not in covered and r.id not in cited:
            findings.append(Finding("unreported_visit", None, r.id, _detail(r)))
    return findings


def _detail(seen: Seen) -> dict[str, Any]:
    return {"site_area_code": seen.area_code, "at": seen.at.isoformat()}


class Observed:
    """Which site areas recorded anyone when, in 5-minute buckets (earliest, latest)."""

    def __init__(self, rows: Iterable[tuple[str, int, datetime, datetime]]) -> None:
        self._by_area: dict[str, dict[int, tuple[datetime, datetime]]] = defaultdict(dict)
        for area, bucket, first, last in rows:
            # A database may split one bucket into several groups: merge them.
            old = self._by_area[area].get(int(bucket))
            self._by_area[area][int(bucket)] = (first, last) if old is None else (
                min(old[0], first), max(old[1], last))
        self._merged: dict[str, dict[int, tuple[datetime, datetime]]] = {}

    def _for(self, prefix: str) -> dict[int, tuple[datetime, datetime]]:
        if prefix not in self._merged:
            merged: dict[int, tuple[datetime, datetime]] = {}
            for area, buckets in self._by_area.items():
                if area.startswith(prefix):
                    for b, (first, last) in buckets.items():
                        old = merged.get(b)
                        merged[b] = (first, last) if old is None else (
                            min(old[0], first), max(old[1], last))
            self._merged[prefix] = merged
        return self._merged[prefix]

    def any_between(self, prefix: str, lo: datetime, hi: datetime) -> bool:
        """Tell whether a site in the area recorded anyone in [lo, hi] (exact: lo, hi are
        at least two buckets apart, so only the edge buckets need their first/last)."""
        m = self._for(prefix)
        b0, b1 = int(lo.timestamp()) // BUCKET_S, int(hi.timestamp()) // BUCKET_S
        if b0 in m and m[b0][1] >= lo:
            return True
        if b1 in m and m[b1][0] <= hi:
            return True
        return any(b in m for b in range(b0 + 1, b1))


def _bucket(session: Session) -> ColumnElement[Any]:
    size: ColumnElement[Any] = literal_column(str(BUCKET_S))
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.floor(func.extract("epoch", Registration.occurred_at) / size), Integer)
    return cast(func.strftime("%s", Registration.occurred_at), Integer) / size


def observed(session: Session, lo: datetime, hi: datetime) -> Observed:
    """One query: per site area and bucket, the first and last registration in [lo, hi]."""
    bucket = _bucket(session).label("bucket")
    rows = session.execute(
        select(Site.area_code, bucket, func.min(Registration.occurred_at),
               func.max(Registration.occurred_at))
        .join(Site, Site.id == Registration.site_id)
        .where(Registration.occurred_at >= lo, Registration.occurred_at <= hi)
        .group_by(Site.area_code, bucket)).all()
    return Observed(rows)


@dataclass
class Stats:
    reports: int = 0
    findings: int = 0
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def verify(*, session: Session, first: date, last: date, tolerance: int | None = None,
           enterprise_id: uuid.UUID | None = None,
           report_ids: Sequence[uuid.UUID] | None = None, chunk: int = CHUNK) -> Stats:
    """Verify the reports dated first..last (optionally one enterprise's, or some reports),
    replacing their findings; tolerance overrides each enterprise's own setting."""
    if tolerance is not None:
        check_tolerance(tolerance)
    if last < first:
        raise InvalidState(N_("The first date is after the last."))
    stats = Stats()
    days: dict[date, Observed] = {}
    where = [DailyReport.report_date >= first, DailyReport.report_date <= last]
    if enterprise_id is not None:
        where.append(DailyReport.enterprise_id == enterprise_id)
    if report_ids is not None:
        where.append(DailyReport.id.in_(list(report_ids)))
    after: uuid.UUID | None = None
    while True:
        page = select(DailyReport.id).where(*where).order_by(DailyReport.id).limit(chunk)
        if after is not None:
            page = page.where(DailyReport.id > after)
        ids = list(session.scalars(page))
        if not ids:
            return stats
        after = ids[-1]
        _verify_chunk(session, ids, tolerance, days, stats)


def _verify_chunk(session: Session, ids: list[uuid.UUID], tolerance: int | None,
                  days: dict[date, Observed], stats: Stats) -> None:
    # Race: two runs (the job and an official's "verify now") replacing one report's
    # findings at once: each deletes, then both insert the same ids and the second fails.
    # The reports' rows are held until commit, so the second run waits and then replaces
    # the first's findings (SQLite lets one writer in at a time anyway).
    reports = session.execute(
        select(DailyReport.id, DailyReport.report_date, DailyReport.person_hash,
               Enterprise.verify_tolerance_minutes)
        .join(Enterprise, Enterprise.id == DailyReport.enterprise_id)
        .where(_in(session, DailyReport.id, ids, Uuid)).order_by(DailyReport.id)
        .with_for_update(of=DailyReport)).all()
    stops: dict[uuid.UUID, list[StopIn]] = defaultdict(list)
    for rid, seq, area, arrive, depart in session.execute(
            select(ReportStop.report_id, ReportStop.seq, ReportStop.area_code,
                   ReportStop.arrive_at, ReportStop.depart_at)
            .where(_in(session, ReportStop.report_id, ids, Uuid)).order_by(ReportStop.report_id,
                                                           ReportStop.seq)):
        stops[rid].append(StopIn(seq, area, arrive, depart))
    tol = {r.id: timedelta(minutes=tolerance or r.verify_tolerance_minutes or
                           DEFAULT_TOLERANCE) for r in reports}
    hashes = {r.person_hash for r in reports if r.person_hash}
    lo = min(local_day_bounds(r.report_date)[0] - tol[r.id] for r in reports)
    hi = max(local_day_bounds(r.report_date)[1] + tol[r.id] for r in reports)
    regs: dict[str, list[Seen]] = defaultdict(list)
    stays: dict[str, list[Seen]] = defaultdict(list)
    if hashes:
        for h, rid, area, at in session.execute(
                select(Registration.person_hash, Registration.id, Site.area_code,
                       Registration.occurred_at)
                .join(Site, Site.id == Registration.site_id)
                .where(_in(session, Registration.person_hash, hashes, String),
                       Registration.occurred_at >= lo,
                       Registration.occurred_at <= hi)):
            regs[h or ""].append(Seen(rid, area, at))
        for h, sid, area, started, ended in session.execute(
                select(Stay.person_hash, Stay.id, Site.area_code, Stay.started_at,
                       Stay.ended_at)
                .join(Site, Site.id == Stay.site_id)
                .where(_in(session, Stay.person_hash, hashes, String), Stay.started_at <= hi,
                       Stay.ended_at >= lo)):
            stays[h].append(Seen(sid, area, started, ended))
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for r in reports:
        if r.report_date not in days:
            start, end = local_day_bounds(r.report_date)
            days[r.report_date] = observed(session, start - timedelta(minutes=MAX_TOLERANCE),
                                           end + timedelta(minutes=MAX_TOLERANCE))
        person_regs = sorted(regs.get(r.person_hash or "", ()), key=lambda s: (s.at, s.id))
        found = classify(day=r.report_date, stops=stops.get(r.id, []),
                         registrations=person_regs,
                         stays=sorted(stays.get(r.person_hash or "", ()),
                                      key=lambda s: (s.at, s.id)),
                         tolerance=tol[r.id], observable=days[r.report_date].any_between)
        for f in found:
            stats.counts[f.finding_class] += 1
            rows.append({"id": finding_id(r.id, f.finding_class, f.stop_seq,
                                          f.registration_id),
                         "report_id": r.id, "finding_class": f.finding_class,
                         "stop_seq": f.stop_seq, "registration_id": f.registration_id,
                         "tolerance_minutes": int(tol[r.id].total_seconds() // 60),
                         "detail": f.detail, "computed_at": now})
    session.execute(delete(ReportFinding).where(_in(session, ReportFinding.report_id, ids, Uuid)))
    if rows:
        _store(session, rows)
    stats.reports += len(reports)
    stats.findings += len(rows)


COLUMNS = ("id", "report_id", "finding_class", "stop_seq", "registration_id",
           "tolerance_minutes", "detail", "computed_at")


def _store(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert findings: COPY on PostgreSQL (several times faster than executemany, the
    bulk of a run's time), a Core executemany elsewhere."""
    if session.get_bind().dialect.name != "postgresql":
        session.execute(insert(ReportFinding), rows)
        return
    raw: Any = session.connection().connection.driver_connection
    with raw.cursor() as cur, cur.copy(
            f"COPY report_findings ({', '.join(COLUMNS)}) FROM STDIN") as copy:
        for r in rows:
            copy.write_row((r["id"], r["report_id"], r["finding_class"], r["stop_seq"],
                            r["registration_id"], r["tolerance_minutes"],
                            json.dumps(r["detail"]), r["computed_at"]))
