"""Benchmark the early-warning rules at the issue's size (issue 15): all windowed rules
over one day, and declaring a county high-risk over 14 days, each against a
hand-written SQL baseline in the same run.

Run: python benchmarks/warnings.py [--db-url URL] [--persons 1000000]
     [--registrations 10000000] [--last-day 1000000] [--days 14] [--reports 1000000]
     [--sites 2000] [--area 520123] [--rounds 3] [--keep-db NAME]
PostgreSQL. The data are generated inside the database (benchmarks/warnings_load.py:
people, sites with coordinates, registrations partitioned by day, daily reports with
stops). `--keep-db NAME` loads into database NAME and keeps it; a second run with the
same sizes on the same day reuses it (benchmarks/dashboard.py can run on the same data;
`bench_meta` holds the sizes). Without it the database is made and dropped.

Times, medians of --rounds (interleaved, so all see the same background load):
- `rules_day_s`: `warnings.engine.run_day` for the last day (every windowed rule, as the
  job runs it; alerts deleted before each round), vs `sql_day_s`: one hand-written
  SELECT of the fever and refused persons of that day;
- `declare_s`: declaring `--area` (修文县, a county) high-risk and flagging its visitors
  of the last 14 days, as the job runner does it (`service.scan_declarations`: the
  visitors in two parts by ID hash, at once on two connections, each part's alerts,
  flags, statuses and history in its own transaction; all reset before each round;
  the time ends when every part has committed),
  vs `sql_declare_s`: a hand-written SELECT DISTINCT of the (person, day) visits to the
  area's sites and reported stops. A declaration raises one alert per person (its
  visits as evidence, docs/warnings.md): `declare_matches_sql` checks, as sets, that
  the persons alerted are exactly the visitors of the baseline and the persons flagged
  (and now yellow) exactly those visitors known as people;
- `sql_floor_s`, `sql_floor_alerts_s`: the floor under any implementation here,
  hand-written SQL writing only a flag, its history row and the status per flagged
  person (and, for the second, an alert per visitor), on two connections at once
  (`FLOOR_SCAN`, `floor_timed`); `sql_floor_scan_s` is its scan alone.
CPU seconds of this process and of its PostgreSQL backends (scripts/checkpoint_env.py;
for the declaration, every backend it used) are reported beside each wall figure.
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from passtrace.areas.models import AreaRisk
from passtrace.core.areacodes import significant_prefix
from passtrace.core.clock import freeze, local_day_bounds, local_today, utcnow
from passtrace.core.config import Settings
from passtrace.core.runtime import Runtime
from passtrace.warnings import engine, service

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "scripts"))
sys.path.insert(0, str(HERE))
import warnings_load  # noqa: E402 - the loader
from checkpoint_env import backend_cpu, process_cpu  # noqa: E402 - shared benchmark helpers

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/passtrace_bench_warnings"
SIZES = ("persons", "registrations", "last_day", "days", "reports", "sites")


def _admin(url: str) -> Any:
    return create_engine(f"{url.rsplit('/', 1)[0]}/postgres", isolation_level="AUTOCOMMIT")


def _recreate(url: str, *, drop_only: bool = False) -> None:
    name = url.rsplit("/", 1)[1]
    admin = _admin(url)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if not drop_only:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def _kept(url: str, wanted: dict[str, Any]) -> dict[str, Any] | None:
    """The stored load of a kept database when it has the wanted sizes and day."""
    name = url.rsplit("/", 1)[1]
    admin = _admin(url)
    with admin.connect() as conn:
        there = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                             {"n": name}).scalar()
    admin.dispose()
    if not there:
        return None
    eng = create_engine(url)
    try:
        with eng.connect() as conn:
            if conn.execute(text("SELECT to_regclass('bench_meta')")).scalar() is None:
                return None
            meta = conn.execute(text("SELECT value FROM bench_meta WHERE key = 'load'")).scalar()
    finally:
        eng.dispose()
    if not meta or {k: meta["params"].get(k) for k in wanted} != wanted:
        return None
    return dict(meta)


def _reset(rt: Runtime) -> None:
    """Forget what a previous round (or run) raised: alerts, flags, statuses, risks."""
    with rt.engine.begin() as conn:
        # TRUNCATE: cheaper than deleting 200k flags and their history row by row.
        # Nothing else refers to these rows here.
        conn.execute(text("TRUNCATE status_history, status_appeals, status_flags, alerts; "
                          "DELETE FROM area_risks; "
                          "UPDATE people SET status = 'green' WHERE status <> 'green'"))


def timed(rt: Runtime, work: Callable[[Session], Any]) -> tuple[float, float, float, Any]:
    """Wall seconds, client CPU, backend CPU and the result of work(session), committed."""
    _reset(rt)
    with rt.sessions() as session:
        # The backend by its pid: after the commit the session may be handed another
        # pooled connection (the declaration's parts leave several in the pool).
        pid = session.execute(text("SELECT pg_backend_pid()")).scalar()
        before = backend_cpu(session)
        t0, c0 = time.perf_counter(), time.process_time()
        result = work(session)
        session.commit()
        spent, cpu_spent = time.perf_counter() - t0, time.process_time() - c0
        after = process_cpu(pid) if before is not None else None
    server = after - before if before is not None and after is not None else 0.0
    return spent, cpu_spent, server, result


def sql_timed(rt: Runtime, sql: str, params: dict[str, Any]) -> tuple[float, float, Any]:
    """Wall and backend CPU seconds of a hand-written statement; its rows."""
    with rt.sessions() as session:
        before = backend_cpu(session)
        t0 = time.perf_counter()
        rows = session.execute(text(sql), params).all()
        spent = time.perf_counter() - t0
        after = backend_cpu(session)
    server = after - before if before is not None and after is not None else 0.0
    return spent, server, rows


SQL_DAY = """
SELECT count(DISTINCT r.person_hash) FROM registrations r JOIN sites s ON s.id = r.site_id
WHERE r.occurred_at >= :start AND r.occurred_at < :end
  AND (r.temperature >= s.fever_threshold
       OR (r.decision = 'deny' AND r.reasons::text LIKE '%"revoked"%'))"""
# The visits the declaration must flag: (person, local day) at the area's sites or
# reported stops in it, since the look-back's first midnight and until now.
SQL_DECLARE = """
WITH v AS (
  SELECT r.person_hash AS h, (r.occurred_at AT TIME ZONE 'Asia/Shanghai')::date AS d
  FROM registrations r
  WHERE r.site_id IN (SELECT id FROM sites WHERE area_code LIKE :prefix)
    AND r.occurred_at >= :start AND r.occurred_at < :end AND r.person_hash IS NOT NULL
  UNION
  SELECT dr.person_hash, (st.arrive_at AT TIME ZONE 'Asia/Shanghai')::date
  FROM report_stops st JOIN daily_reports dr ON dr.id = st.report_id
  WHERE st.area_code LIKE :prefix AND st.arrive_at >= :start AND st.arrive_at < :end
    AND dr.person_hash IS NOT NULL)
SELECT count(*), count(DISTINCT h),
       (SELECT count(*) FROM people p WHERE p.id_hash IN (SELECT h FROM v)) FROM v"""


SQL_SAME = SQL_DECLARE.split("SELECT count(*), count(DISTINCT h)")[0].rstrip() + """
, a AS (SELECT DISTINCT person_hash AS h FROM alerts WHERE rule_code = 'risk_visit'),
  k AS (SELECT p.id, p.id_hash AS h FROM people p WHERE p.id_hash IN (SELECT h FROM v)),
  f AS (SELECT DISTINCT person_id AS id FROM status_flags)
SELECT (SELECT count(*) FROM (SELECT h FROM v EXCEPT SELECT h FROM a) x),
       (SELECT count(*) FROM (SELECT h FROM a EXCEPT SELECT h FROM v) x),
       (SELECT count(*) FROM (SELECT id FROM k EXCEPT SELECT id FROM f) x),
       (SELECT count(*) FROM (SELECT id FROM f EXCEPT SELECT id FROM k) x),
       (SELECT count(*) FROM (SELECT id FROM people WHERE status = 'yellow'
                              EXCEPT SELECT id FROM k) x)"""
# (Not `id NOT IN (SELECT id FROM k)`: 200,000 ids do not fit a hashed subplan in
# work_mem, and PostgreSQL then compares every yellow person with every visitor;
# at 10M registrations it ran for many minutes after the timings were taken.)


# The floor under any way of flagging a declaration's visitors here (`sql_floor_*`):
# hand-written SQL doing only what the issue itself asks per flagged person, at once on
# two connections (the machine's two cores). First the visitors known as people, with
# their visits as evidence, into an unlogged table in one statement (parallel workers
# allowed); then on each connection, for half the visitors by hash, one transaction
# writing a flag with its expiry, its history row and the stored status, with the
# schema's own indexes and keys. No alert, audit entry, notice or lock: `sql_floor_s`.
# `sql_floor_alerts_s` adds the officials' queue entry per visitor (an alert; the
# issue's dedupe key is per subject). Time ends when both connections have committed.
FLOOR_SCAN = """
CREATE UNLOGGED TABLE bench_floor AS
WITH v AS (
  SELECT r.person_hash AS h, r.occurred_at AS at, r.id AS registration, r.site_id AS site,
         NULL::uuid AS report
  FROM registrations r
  WHERE r.site_id IN (SELECT id FROM sites WHERE area_code LIKE :prefix)
    AND r.occurred_at >= :start AND r.occurred_at < :end AND r.person_hash IS NOT NULL
  UNION ALL
  SELECT dr.person_hash, st.arrive_at, NULL, NULL, dr.id
  FROM report_stops st JOIN daily_reports dr ON dr.id = st.report_id
  WHERE st.area_code LIKE :prefix AND st.arrive_at >= :start AND st.arrive_at < :end
    AND dr.person_hash IS NOT NULL)
SELECT v.h, p.id AS person_id, coalesce(p.name_masked, '') AS masked,
       json_build_object('area', CAST(:area AS text), 'visits', count(*), 'first', min(v.at),
                         'registration', min(v.registration::text),
                         'report', min(v.report::text)) AS evidence
FROM v LEFT JOIN people p ON p.id_hash = v.h GROUP BY v.h, p.id, p.name_masked"""
FLOOR_ALERTS = """
INSERT INTO alerts (created_at, rule_code, severity, subject_kind, subject_key,
  person_hash, subject_masked, area_code, queue_area, day, evidence, status, note,
  escalations)
SELECT now(), 'risk_visit', 'high', 'person', h, h, masked, CAST(:area AS text),
       CAST(:area AS text), CAST(:day AS date), evidence,
       'open', '', 0
FROM bench_floor WHERE (h COLLATE "C") >= :low AND (h COLLATE "C") < :high"""
FLOOR_FLAGS = """
WITH f AS (
  INSERT INTO status_flags (id, created_at, person_id, level, source, reason, evidence,
    starts_at, until, dedupe_key, area_code)
  SELECT gen_random_uuid(), now(), person_id, 'yellow', 'bench.floor', 'risk_area_visit',
         evidence, now(), now() + interval '7 days', 'floor:' || person_id, CAST(:area AS text)
  FROM bench_floor WHERE person_id IS NOT NULL
    AND (h COLLATE "C") >= :low AND (h COLLATE "C") < :high
  RETURNING id, person_id)
INSERT INTO status_history (id, person_id, at, event, flag_id, reason, before, after)
SELECT gen_random_uuid(), f.person_id, now(), 'raised', f.id, 'risk_area_visit', p.status,
       'yellow'
FROM f JOIN people p ON p.id = f.person_id"""
FLOOR_STATUS = """
UPDATE people p SET status = 'yellow' FROM bench_floor b
WHERE p.id = b.person_id AND (b.h COLLATE "C") >= :low AND (b.h COLLATE "C") < :high
  AND p.status <> 'yellow'"""


def floor_timed(rt: Runtime, params: dict[str, Any], *, alerts: bool) -> tuple[float, float]:
    """Wall seconds of the floor (with or without the alerts) and of its scan alone."""
    _reset(rt)
    with rt.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS bench_floor"))
    t0 = time.perf_counter()
    with rt.engine.begin() as conn:
        conn.execute(text("SET LOCAL work_mem = '64MB'"))
        conn.execute(text(FLOOR_SCAN), params)
    scanned = time.perf_counter() - t0

    def part(bounds: tuple[str, str]) -> None:
        with rt.engine.begin() as conn:
            conn.execute(text("SET LOCAL work_mem = '64MB'; SET LOCAL jit = off"))
            half = {**params, "low": bounds[0], "high": bounds[1]}
            if alerts:
                conn.execute(text(FLOOR_ALERTS), half)
            conn.execute(text(FLOOR_FLAGS), half)
            conn.execute(text(FLOOR_STATUS), half)

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(part, [("", "8"), ("8", "\U0010ffff")]))
    spent = time.perf_counter() - t0
    with rt.engine.begin() as conn:
        conn.execute(text("DROP TABLE bench_floor"))
    return spent, scanned


class Metered:
    """The runtime's sessions, noting each backend's CPU when its connection is first
    handed out: a declaration's parts run on connections of their own, and their
    backends' CPU is the declaration's as much as the timing session's is."""

    def __init__(self, sessions: Any) -> None:
        self.sessions = sessions
        self.start: dict[int, float] = {}

    def __call__(self, **kw: Any) -> Session:
        session = self.sessions(**kw)
        pid = session.execute(text("SELECT pg_backend_pid()")).scalar()
        self.start.setdefault(pid, process_cpu(pid))
        return session

    def spent(self) -> float:
        """CPU seconds the backends handed out have used since."""
        return sum(process_cpu(pid) - cpu for pid, cpu in self.start.items())


def declare(rt: Runtime, area: str, meter: Metered) -> Callable[[Session], tuple[int, int]]:
    """An official declares `area` high-risk (committed); the job runner scans it and
    raises the flags, its parts at once on connections of their own
    (`service.scan_declarations`); the timing ends when every part has committed."""
    def work(session: Session) -> tuple[int, int]:
        # The timing session stays on its own connection (its backend's CPU is measured
        # around the work); the declaration and the parts use others, metered.
        with meter() as official:
            official.add(AreaRisk(area_code=area, area_prefix=significant_prefix(area),
                                  level="high", valid_from=utcnow(), note="bench"))
            official.commit()
        done = service.scan_declarations(sessions=meter)
        return done.alerts, done.flags
    return work


def _load_or_reuse(url: str, rt: Runtime, args: argparse.Namespace,
                   today: date) -> dict[str, Any]:
    wanted = {k: getattr(args, k) for k in SIZES} | {"today": today.isoformat()}
    if args.keep_db and (meta := _kept(url, wanted)) is not None:
        return meta | {"reused": True}
    _recreate(url)
    t0 = time.perf_counter()
    loaded = warnings_load.load(url, rt, args, today)
    meta = {"params": wanted, **loaded, "load_wall_s": round(time.perf_counter() - t0, 1)}
    with rt.engine.begin() as conn:
        conn.execute(text("CREATE TABLE bench_meta (key text PRIMARY KEY, value json)"))
        conn.execute(text("INSERT INTO bench_meta VALUES ('load', :v)"),
                     {"v": json.dumps(meta)})
    return meta | {"reused": False}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db-url", default=DEFAULT_PG)
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--registrations", type=int, default=10_000_000)
    ap.add_argument("--last-day", type=int, default=1_000_000)
    ap.add_argument("--days", type=int, default=14)
    ap.add_argument("--reports", type=int, default=1_000_000)
    ap.add_argument("--sites", type=int, default=2000)
    ap.add_argument("--area", default="520123", help="the county declared high-risk")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--keep-db", metavar="NAME",
                    help="load into database NAME, keep it, reuse it on the next run")
    ap.add_argument("--load-only", action="store_true",
                    help="with --keep-db: load (or find) the database and stop")
    args = ap.parse_args(argv)
    if not args.db_url.startswith("postgresql"):
        print("the baselines are PostgreSQL SQL: give a postgresql URL", file=sys.stderr)
        return 2
    url = f"{args.db_url.rsplit('/', 1)[0]}/{args.keep_db}" if args.keep_db else args.db_url
    today = local_today()
    rt = Runtime.build(Settings(database_url=url))
    try:
        meta = _load_or_reuse(url, rt, args, today)
        if args.load_only and args.keep_db:
            print(json.dumps({"benchmark": "warnings", "params": meta, "results": {},
                              "ratios": {}}))
            return 0
        rt.engine.dispose()
        rt = Runtime.build(Settings(database_url=url))
        start, end = local_day_bounds(today)
        since = local_day_bounds(today - timedelta(days=13))[0]
        rows: dict[str, list[float]] = {}

        def add(key: str, value: float) -> None:
            rows.setdefault(key, []).append(value)

        counts: dict[str, int] = {}
        declared: tuple[int, int] = (0, 0)
        declared_at = utcnow()
        sql_day: Any = None
        sql_decl: Any = None
        for _ in range(args.rounds):
            spent, cpu, server, counts = timed(
                rt, lambda s: engine.run_day(session=s, day=today))
            add("day", spent), add("day_cpu", cpu), add("day_server", server)
            spent, server, sql_day = sql_timed(rt, SQL_DAY, {"start": start, "end": end})
            add("sql_day", spent), add("sql_day_server", server)
            # One "now" for the declaration and its baseline: today's rows run on past
            # it, and the two windows must end at the same moment.
            declared_at = utcnow()
            freeze(declared_at)
            try:
                # The floors first: the declaration's timing resets what they wrote.
                floor = {"prefix": significant_prefix(args.area) + "%", "start": since,
                         "end": declared_at, "area": args.area, "day": today}
                spent, scanned = floor_timed(rt, floor, alerts=False)
                add("floor", spent), add("floor_scan", scanned)
                spent, _ = floor_timed(rt, floor, alerts=True)
                add("floor_alerts", spent)
                meter = Metered(rt.sessions)
                spent, cpu, server, declared = timed(rt, declare(rt, args.area, meter))
                add("declare", spent), add("declare_cpu", cpu)
                add("declare_server", server + meter.spent())
                spent, server, sql_decl = sql_timed(rt, SQL_DECLARE, {
                    "prefix": significant_prefix(args.area) + "%", "start": since,
                    "end": utcnow()})
            finally:
                freeze(None)
            add("sql_declare", spent), add("sql_declare_server", server)
        freeze(declared_at)
        try:
            with rt.engine.connect() as conn:
                flagged = conn.execute(text(
                    "SELECT count(DISTINCT person_id) FROM status_flags")).scalar()
                yellow = conn.execute(text(
                    "SELECT count(*) FROM people WHERE status = 'yellow'")).scalar()
                # The sets themselves: persons alerted vs the baseline's visitors, persons
                # flagged / yellow vs the visitors known as people (0 rows each way).
                differ = conn.execute(text(SQL_SAME), {
                    "prefix": significant_prefix(args.area) + "%", "start": since,
                    "end": utcnow()}).one()
        finally:
            freeze(None)
        med = {k: statistics.median(v) for k, v in rows.items()}
        person_days, visitors, known = sql_decl[0]
        print(json.dumps({
            "benchmark": "warnings",
            "params": {**{k: getattr(args, k) for k in SIZES}, "area": args.area,
                       "rounds": args.rounds, "db": "postgresql", "sizes": meta["sizes"],
                       "load_s": meta["load_s"], "reused_db": meta["reused"],
                       "keep_db": args.keep_db, "loadavg": os.getloadavg()},
            "results": {
                "rules_day_s": round(med["day"], 3),
                "rules_day_client_cpu_s": round(med["day_cpu"], 3),
                "rules_day_server_cpu_s": round(med["day_server"], 3),
                "sql_day_s": round(med["sql_day"], 3),
                "sql_day_server_cpu_s": round(med["sql_day_server"], 3),
                "alerts_day": sum(counts.values()), "alerts_day_by_rule": counts,
                "sql_day_persons": sql_day[0][0],
                "declare_s": round(med["declare"], 3),
                "declare_client_cpu_s": round(med["declare_cpu"], 3),
                "declare_server_cpu_s": round(med["declare_server"], 3),
                "sql_declare_s": round(med["sql_declare"], 3),
                "sql_declare_server_cpu_s": round(med["sql_declare_server"], 3),
                "sql_floor_s": round(med["floor"], 3),
                "sql_floor_scan_s": round(med["floor_scan"], 3),
                "sql_floor_alerts_s": round(med["floor_alerts"], 3),
                "declare_alerts": declared[0], "declare_flags": declared[1],
                "declare_persons_flagged": flagged, "persons_yellow": yellow,
                "sql_declare_person_days": person_days, "sql_declare_visitors": visitors,
                "declare_set_differences": list(differ),
                "declare_matches_sql": declared[0] == visitors and flagged == known
                and yellow == known and declared[1] == known and not any(differ),
            },
            "ratios": {"rules_day_vs_sql": round(med["day"] / med["sql_day"], 2),
                       "declare_vs_sql": round(med["declare"] / med["sql_declare"], 2),
                       "declare_vs_floor_alerts": round(
                           med["declare"] / med["floor_alerts"], 2)},
        }))
    finally:
        rt.engine.dispose()
        if not args.keep_db:
            _recreate(url, drop_only=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
