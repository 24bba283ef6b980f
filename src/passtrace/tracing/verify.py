"""Trajectory verification: each daily report's stops against what the sites recorded.

Set-based: reports are verified a chunk at a time (keyset on report date and id) with a
fixed number of statements per chunk: the page of report ids (locked), then one statement
that classifies every stop and finds the unreported visits (tracing/verify_sql.py). On
PostgreSQL with pgcrypto that statement also compares its findings with the stored ones
and writes the difference itself, the ids made by pgcrypto's SHA-1 (verify_sql.STORE);
without pgcrypto it returns only what changed (verify_sql.CHANGES) and Python gives the
new findings their stable ids (UUIDv5) and COPYs them; on SQLite Python compares, deletes
and inserts. A span of days runs in parts at once on PostgreSQL (verify_in_parts). The
classes and the accuracy figure are defined in docs/tracing.md ("Verification").
"""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ARRAY,
    Integer,
    Uuid,
    any_,
    bindparam,
    cast,
    column,
    delete,
    func,
    insert,
    select,
    text,
    tuple_,
)
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.types import NullType

from passtrace.core.clock import local_day_bounds as _local_day_bounds
from passtrace.core.clock import utcnow
from passtrace.core.db import UTCDateTime, own_connections, session_scope
from passtrace.core.errors import InvalidState
from passtrace.core.i18n import N_
from passtrace.registrations import partitions
from passtrace.registrations import stays as stay_rules
from passtrace.reports.models import DailyReport
from passtrace.tracing import verify_sql
from passtrace.tracing.models import ReportFinding

# Finding ids are UUIDv5 in this namespace of (report, class, stop, registration).
NAMESPACE = uuid.UUID("6f1d3c2a-9b7e-5d41-8a60-2c4e7f90b1d3")
DEFAULT_TOLERANCE = 30
MIN_TOLERANCE, MAX_TOLERANCE = 5, 240
CHUNK = 2000
PARTS = 2  # verify_in_parts: one part per core of the machine we run on
OBSERVABLE = ("corroborated", "contradiction", "uncorroborated")


@lru_cache(maxsize=64)
def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC bounds of a local day (cached: called for every report of a run)."""
    return _local_day_bounds(day)


def _in(session: Session, column: Any, values: Collection[Any], kind: Any) -> Any:
    """`column IN values`; on PostgreSQL `= ANY(array)`, one parameter instead of
    thousands (psycopg spent more time parsing the expanded IN than the server running it)."""
    if session.get_bind().dialect.name == "postgresql":
        # Untyped (NullType): the server reads the parameter as the array type and
        # plans it as a constant; a text-typed one would be cast again for every row.
        return column == any_(cast(bindparam(None, pg_array(values), type_=NullType()),
                                   ARRAY(kind)))
    return column.in_(list(values))


def pg_array(values: Collection[Any]) -> str:
    """A PostgreSQL array literal of uuids or numbers: one text parameter that the server
    parses (psycopg adapts a list element by element in Python: 10% of a run's CPU)."""
    return "{" + ",".join(map(str, values)) + "}"


def check_tolerance(minutes: int) -> int:
    """Refuse a tolerance outside MIN_TOLERANCE..MAX_TOLERANCE minutes."""
    if not MIN_TOLERANCE <= minutes <= MAX_TOLERANCE:
        raise InvalidState(N_("The tolerance must be between %(low)s and %(high)s minutes."),
                           low=MIN_TOLERANCE, high=MAX_TOLERANCE)
    return minutes


def finding_id(report_id: uuid.UUID | str, finding_class: str, stop_seq: int | None,
               registration_id: uuid.UUID | str | None) -> uuid.UUID:
    """The stable id of a finding: the same inputs give the same id on every run.

    uuid.uuid5(NAMESPACE, name), computed without its per-call set-up (a run makes tens
    of thousands): SHA-1 of the namespace and the name, version 5, RFC 4122 variant.
    The ids may be given as UUIDs or as their canonical text (PostgreSQL's).
    """
    h = _NS_SHA1.copy()
    h.update(f"{report_id}/{finding_class}/{stop_seq or ''}/{registration_id or ''}".encode())
    return uuid.UUID(int=int.from_bytes(h.digest()[:16], "big") & _V5_KEEP | _V5_SET)


_NS_SHA1 = hashlib.sha1(NAMESPACE.bytes, usedforsecurity=False)
_V5_KEEP = ~((0xF << 76) | (0x3 << 62)) & ((1 << 128) - 1)
_V5_SET = (0x5 << 76) | (0x2 << 62)


def accuracy(counts: dict[str, int]) -> float | None:
    """Share of observable stops that were corroborated (None when no stop was observable)."""
    observable = sum(counts.get(c, 0) for c in OBSERVABLE)
    return counts.get("corroborated", 0) / observable if observable else None


@dataclass
class Stats:
    reports: int = 0
    findings: int = 0
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))


Key = tuple[date, uuid.UUID]  # a report's place in the run's order: (report_date, id)


def verify(*, session: Session, first: date, last: date, tolerance: int | None = None,
           enterprise_id: uuid.UUID | None = None,
           report_ids: Sequence[uuid.UUID] | None = None, chunk: int = CHUNK,
           start: Key | None = None, stop: Key | None = None,
           progress: Callable[[int], object] | None = None) -> Stats:
    """Verify the reports dated first..last (optionally one enterprise's, or some reports,
    or those keyed from `start` up to, not including, `stop`), replacing their findings;
    tolerance overrides each enterprise's own setting. `progress(n)` after each chunk of
    n reports."""
    _check(first, last, tolerance)
    stats = Stats()
    if session.get_bind().dialect.name == "postgresql":
        # psycopg prepares a statement run 5 times, and PostgreSQL then moves to a generic
        # plan that does not know the chunk's arrays: it ran the chunk statement 50-100
        # times slower. Plan each chunk for its own values (this transaction only).
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
        # And no JIT: a statement over the day partitions of registrations is compiled
        # per partition (29 of 33 s of one statement over 40 partitions, see
        # tracing/contacts.no_jit), while the chunk statement runs in tens of ms.
        session.execute(text("SET LOCAL jit = off"))
    where = _dated(first, last)
    if enterprise_id is not None:
        where.append(DailyReport.enterprise_id == enterprise_id)
    if report_ids is not None:
        where.append(DailyReport.id.in_(list(report_ids)))
    key = tuple_(DailyReport.report_date, DailyReport.id)
    if start is not None:
        where.append(key >= start)
    if stop is not None:
        where.append(key < stop)
    # When each day partition's rows occurred, read once for the run: each chunk then
    # reads only the partitions whose rows occurred in its span (registrations/
    # partitions.occurrence_spans). A registration stored meanwhile in a partition left
    # out is not seen, as if it had been stored after the run.
    spans = partitions.occurrence_spans(session)
    # pgcrypto's digest (PostgreSQL): the chunk statement stores its findings itself.
    digest = (verify_sql.pgcrypto_digest(session.connection())
              if session.get_bind().dialect.name == "postgresql" else None)
    after: tuple[date, uuid.UUID] | None = None
    while True:
        # Race: two runs (the job and an official's "verify now") replacing one report's
        # findings at once: each deletes, then both insert the same ids and the second
        # fails. The page's rows are locked until commit, so the second run waits and then
        # replaces the first's findings (SQLite lets one writer in at a time anyway).
        # Keyed by (report_date, id), the order of ix_daily_reports_date_id: by id alone
        # PostgreSQL walked the primary key and filtered by date, and as ids follow the
        # filing time the first page read every report filed before the span.
        page = (select(DailyReport.id, DailyReport.report_date).where(*where)
                .order_by(DailyReport.report_date, DailyReport.id).limit(chunk)
                .with_for_update())
        if after is not None:
            page = page.where(tuple_(DailyReport.report_date, DailyReport.id) > after)
        reports = session.connection().execute(page).all()  # Core: plain rows
        if not reports:
            return stats
        after = (reports[-1].report_date, reports[-1].id)
        days = {d: local_day_bounds(d) for d in {r.report_date for r in reports}}
        _verify_chunk(session, [r.id for r in reports], tolerance, days, stats, spans, digest)
        if progress is not None:
            progress(len(reports))


def _check(first: date, last: date, tolerance: int | None) -> None:
    if tolerance is not None:
        check_tolerance(tolerance)
    if last < first:
        raise InvalidState(N_("The first date is after the last."))


def verify_in_parts(*, sessions: sessionmaker[Session], first: date, last: date,
                    tolerance: int | None = None, parts: int = PARTS,
                    progress: Callable[[int], object] | None = None,
                    count: int | None = None) -> Stats:
    """Verify the reports dated first..last in `parts` parts at once, each a run of
    consecutive reports (by date and id) on a connection and in a transaction of its
    own: what the job and the command line run, a day's reports on two cores.

    The chunk statement is all PostgreSQL's work (the findings are stored where they are
    found), one backend each: one part at a time left the second core idle. Each part
    commits on its own; a part that fails leaves its reports' findings as they were
    (the hourly job runs them again). Elsewhere (SQLite: one writer; sessions sharing
    one connection, as in the tests' rolled-back runtime) one run in one transaction.
    `progress(n)` after each chunk of n reports, from the part's thread. `count`: the
    reports dated first..last when the caller counted them already (for its progress
    bar), so they are not counted again to cut the parts.
    """
    _check(first, last, tolerance)
    if parts <= 1 or not own_connections(sessions):
        for session in session_scope(sessions, write=True):
            stats = verify(session=session, first=first, last=last, tolerance=tolerance,
                           progress=progress)
        return stats
    for session in session_scope(sessions):
        cuts = _cuts(session, first, last, parts, count)
    bounds = list(zip([None, *cuts], [*cuts, None], strict=True))

    # A part that fails, or Ctrl-C at the command line, stops the others: each stops
    # before its next chunk (its transaction rolled back), and the statement running now
    # is cancelled. Without it a Ctrl-C waited for the parts and they committed.
    stopping = threading.Event()
    guard = threading.Lock()
    running: dict[int, Any] = {}  # part -> its driver connection, while the part runs

    def tick(n: int) -> None:
        if stopping.is_set():
            raise _Stopped
        if progress is not None:
            progress(n)

    def part(k: int) -> Stats:
        try:
            for session in session_scope(sessions, write=True):
                with guard:
                    running[k] = session.connection().connection.driver_connection
                done = verify(session=session, first=first, last=last, tolerance=tolerance,
                              start=bounds[k][0], stop=bounds[k][1], progress=tick)
            return done
        except BaseException:
            stopping.set()
            raise
        finally:
            # Back in the pool it may serve someone else: never cancel it then.
            with guard:
                running.pop(k, None)

    with ThreadPoolExecutor(max_workers=len(bounds), thread_name_prefix="verify") as pool:
        futures = [pool.submit(part, k) for k in range(len(bounds))]
        try:
            wait(futures)
        except BaseException:  # Ctrl-C: stop the parts, then leave
            stopping.set()
            with guard:
                for conn in running.values():
                    conn.cancel()  # psycopg: safe from another thread
            raise
    # The first part's own error, not a part stopped because of it.
    errors = [e for f in futures if (e := f.exception()) is not None]
    for error in sorted(errors, key=lambda e: isinstance(e, _Stopped)):
        raise error
    total = Stats()
    for future in futures:
        done = future.result()
        total.reports += done.reports
        total.findings += done.findings
        for cls, n in done.counts.items():
            total.counts[cls] += n
    return total


class _Stopped(Exception):
    """A part stopping because another failed (its own transaction rolls back)."""


def count_reports(session: Session, first: date, last: date) -> int:
    """How many reports are dated first..last (what a run over them pages through)."""
    return session.scalar(select(func.count()).select_from(DailyReport)
                          .where(*_dated(first, last))) or 0


def _dated(first: date, last: date) -> list[Any]:
    """The reports dated first..last: what a run, its count and its cuts all select."""
    return [DailyReport.report_date >= first, DailyReport.report_date <= last]


def _cuts(session: Session, first: date, last: date, parts: int,
          count: int | None = None) -> list[Key]:
    """The keys cutting the reports dated first..last into `parts` runs of equal size
    (fewer when there are fewer reports), in the order verify pages them; `count`: how
    many there are, when known."""
    if count is None:
        count = count_reports(session, first, last)
    cuts: list[Key] = []
    for k in range(1, parts):
        row = session.execute(
            select(DailyReport.report_date, DailyReport.id).where(*_dated(first, last))
            .order_by(DailyReport.report_date, DailyReport.id)
            .offset(count * k // parts).limit(1)).first()
        if row is not None and (not cuts or (row[0], row[1]) > cuts[-1]):
            cuts.append((row[0], row[1]))
    return cuts


def _verify_chunk(session: Session, ids: list[uuid.UUID], tolerance: int | None,
                  days: dict[date, tuple[datetime, datetime]], stats: Stats,
                  spans: list[partitions.Span] | None = None,
                  digest: str | None = None) -> None:
    dialect = session.get_bind().dialect.name
    # A stay ends at most the longest cap after it starts (registrations/stays): the floor
    # keeps the (person, started_at) index scan to the window instead of the person's past.
    cap = max(stay_rules.cap_for(kind) for kind in stay_rules.STAY_KINDS)
    # Core, not the ORM session's execute: tens of thousands of plain rows a run. On
    # PostgreSQL the report and registration ids come back as text (see verify_sql): the
    # keys below hash as strings (a uuid.UUID hashes in Python, and the dict lookups of
    # the comparison were a third of this function's CPU).
    conn = session.connection()
    tables = _registrations(session, ids, tolerance, days, spans) if spans else None
    params = {"ids": pg_array(ids) if dialect == "postgresql" else ids, "tol": tolerance,
              "default_tol": DEFAULT_TOLERANCE, "cap": int(cap.total_seconds() // 60) + 1}
    if dialect == "postgresql" and digest is not None:
        # Found, compared and stored by one statement (verify_sql.STORE): it returns each
        # class's count of the chunk's findings.
        for cls, n in conn.execute(
                verify_sql.statement(dialect, days, tables, store=digest),
                {**params, "ns": NAMESPACE.hex, "now": utcnow()}).all():
            stats.counts[cls] += n
            stats.findings += n
        stats.reports += len(ids)
        return
    if dialect == "postgresql":
        # Without pgcrypto: the statement returns what changed, Python makes the ids.
        _replace_changed(session, conn.execute(
            verify_sql.statement(dialect, days, tables, changes=True), params).all(), stats)
        stats.reports += len(ids)
        return
    rows = conn.execute(verify_sql.statement(dialect, days, tables), params).all()
    counts = stats.counts
    # Key: (report, class, stop, registration), what a finding's id is made of.
    new: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    for report_id, tol, cls, seq, reg, area, at in rows:
        counts[cls] += 1
        new[report_id, cls, seq, reg] = (tol, area, at.astimezone(UTC).isoformat()
                                         if at is not None else None)
    # Replace only what changed: a finding with the same key, tolerance and detail keeps
    # its row (the hourly job re-verifies yesterday and today: rewriting unchanged rows
    # was most of its cost). The details are compared field by field, not parsed.
    stale = []
    for fid, *key, tol, area, old_area, at in conn.execute(
            _stored_findings(ids)).all():
        k = tuple(key)
        if new.get(k) == (tol, area if at is not None else old_area, at):
            del new[k]
        else:
            stale.append(fid)
    if stale:
        conn.execute(delete(ReportFinding).where(_in(session, ReportFinding.id, stale, Uuid)))
    if new:
        now = utcnow()
        _store(session, [
            (finding_id(*k), *k, tol, {"site_area_code": area, "at": at} if at is not None
             else {"area_code": area}, now) for k, (tol, area, at) in new.items()])
    stats.reports += len(ids)
    stats.findings += len(rows)


def _replace_changed(session: Session, rows: Sequence[Any], stats: Stats) -> None:
    """Apply what verify_sql.CHANGES found (PostgreSQL): delete the stale findings,
    insert the new ones, count every finding of the chunk by class."""
    stale = []
    # By key, as the SQLite path keeps them: one row per finding id.
    new: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    for change, fid, report_id, tol, cls, seq, reg, area, at, n in rows:
        if change == "count":
            stats.counts[cls] += n
            stats.findings += n
        elif change == "stale":
            stale.append(fid)
        else:
            new[report_id, cls, seq, reg] = (tol, area, at)
    if stale:
        session.connection().execute(
            delete(ReportFinding).where(_in(session, ReportFinding.id, stale, Uuid)))
    if new:
        now = utcnow()
        _store(session, [
            (finding_id(*k), *k, tol,
             {"site_area_code": area, "at": at.astimezone(UTC).isoformat()}
             if at is not None else {"area_code": area}, now)
            for k, (tol, area, at) in new.items()])


# PostgreSQL: the chunk's rows by index, one probe per report (LATERAL with OFFSET 0
# cannot be flattened). With `report_id = ANY(:ids)` the planner scanned the whole
# table for every chunk (report_stops: 54,000 of 60,000 rows read and dropped per chunk
# of a 20,000-report day), a cost per report that grew with the day's size.
_PG_SPAN = text(
    "SELECT min(st.arrive_at), max(GREATEST(st.arrive_at, "
    "COALESCE(st.depart_at, st.arrive_at))), max(e.verify_tolerance_minutes) "
    "FROM unnest(CAST(:ids AS uuid[])) AS i (id) CROSS JOIN LATERAL "
    "(SELECT d.enterprise_id FROM daily_reports d WHERE d.id = i.id OFFSET 0) d "
    "LEFT JOIN LATERAL (SELECT st.arrive_at, st.depart_at FROM report_stops st "
    "WHERE st.report_id = i.id OFFSET 0) st ON true "
    "LEFT JOIN enterprises e ON e.id = d.enterprise_id").columns(
        column("low", UTCDateTime()), column("high", UTCDateTime()), column("widest", Integer))


def _stored_findings(ids: list[uuid.UUID]) -> Any:
    """The chunk's stored findings (SQLite): (id, report, class, stop, registration,
    tolerance, the detail's site area, area and time)."""
    detail = ReportFinding.detail
    return select(
        ReportFinding.id, ReportFinding.report_id, ReportFinding.finding_class,
        ReportFinding.stop_seq, ReportFinding.registration_id, ReportFinding.tolerance_minutes,
        detail["site_area_code"].as_string(), detail["area_code"].as_string(),
        detail["at"].as_string()).where(ReportFinding.report_id.in_(ids))


def _registrations(session: Session, ids: list[uuid.UUID], tolerance: int | None,
                   days: dict[date, tuple[datetime, datetime]],
                   spans: list[partitions.Span]) -> Callable[[str], str]:
    """The partitions the chunk's statement may read (partitions.relation), from its span.

    Every read of registrations in verify_sql lies in [the earliest of its days' starts
    and its stops' arrivals less the tolerance, the latest of its days' ends and its
    stops' arrivals and departures plus the tolerance] (a stop's end is its departure,
    the next arrival or the day's end): one short statement by the reports' ids finds
    it, with the largest tolerance any of them is verified with.
    """
    low, high, widest = session.connection().execute(_PG_SPAN, {"ids": pg_array(ids)}).one()
    margin = timedelta(minutes=max(tolerance or 0, widest or 0, DEFAULT_TOLERANCE))
    first = min([start for start, _ in days.values()] + ([low] if low else [])) - margin
    last = max([end for _, end in days.values()] + ([high] if high else [])) + margin
    return lambda columns: partitions.relation(spans, first, last, columns, latest_first=True)


COLUMNS = ("id", "report_id", "finding_class", "stop_seq", "registration_id",
           "tolerance_minutes", "detail", "computed_at")


def _store(session: Session, rows: list[tuple[Any, ...]]) -> None:
    """Insert findings (tuples in COLUMNS order): COPY on PostgreSQL (several times faster
    than executemany), a Core executemany elsewhere."""
    if session.get_bind().dialect.name != "postgresql":
        session.execute(insert(ReportFinding), [dict(zip(COLUMNS, r, strict=True))
                                                for r in rows])
        return
    raw: Any = session.connection().connection.driver_connection
    # COPY's text format written by hand, one string per chunk: write_row's per-value
    # adaptation was most of this function's CPU. Every field is a uuid, a class name, a
    # number, an ISO time or the detail's JSON (area codes and ISO times): only the JSON
    # could hold a backslash or a control character, and those are escaped.
    dumps = json.dumps
    lines = []
    for fid, report_id, cls, seq, reg, tol, detail, at in rows:
        text_ = dumps(detail)
        if "\\" in text_ or not text_.isprintable():
            text_ = text_.replace("\\", "\\\\").replace("\n", "\\n").replace(
                "\r", "\\r").replace("\t", "\\t")
        lines.append(f"{fid}\t{report_id}\t{cls}\t{_NULL if seq is None else seq}\t"
                     f"{_NULL if reg is None else reg}\t{tol}\t{text_}\t{at.isoformat()}\n")
    with raw.cursor() as cur, cur.copy(
            f"COPY report_findings ({', '.join(COLUMNS)}) FROM STDIN") as copy:
        copy.write("".join(lines))


_NULL = "\\N"
