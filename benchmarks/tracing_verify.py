"""Benchmark trajectory verification of one day's reports against a hand-written SQL baseline.

Run: python benchmarks/tracing_verify.py [--db-url URL] [--reports 20000] [--sites 400]
     [--rounds 3]
Defaults: PostgreSQL (own database, dropped at the end). A generated day (fixed seed):
N employees each filing a report of three stops (home, office, home), about three
registrations per person (most at the reported places, some elsewhere, some missing), and
background registrations of other people. Times `tracing.verify.verify_in_parts` for the
day, as the job and the command line run it (classify every stop, replace and store the
findings, commit; two parts at once, each on a connection of its own; round 1 stores them
all, later rounds find them unchanged, `first_run_reports_per_s` is round 1 alone; CPU
seconds per 1,000 reports of this process and of the database's PostgreSQL backends,
read from /proc) and a
hand-written SQL query that computes the per-stop classes (corroborated / observable) and
the unreported visits without storing anything. Prints one JSON line (medians of --rounds).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
import uuid
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, text

from passtrace.core import migrate
from passtrace.core.clock import LOCAL_TZ
from passtrace.core.config import Settings
from passtrace.core.db import session_scope
from passtrace.core.ids import uuid7
from passtrace.core.runtime import Runtime
from passtrace.enterprises.models import Department, Employee, Enterprise
from passtrace.people.models import Person
from passtrace.registrations.models import Registration
from passtrace.reports.models import DailyReport, ReportStop
from passtrace.sites.models import Site
from passtrace.tracing import verify

ROOT_SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
sys.path.insert(0, str(ROOT_SCRIPTS))
from checkpoint_env import cpu_seconds  # noqa: E402 - shared benchmark helpers

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/passtrace_bench_verify"
DAY = date(2026, 11, 20)
AREAS = [f"520102{i:03d}" for i in range(1, 21)] + [f"520103{i:03d}" for i in range(1, 21)]

SQL_BASELINE = """
WITH s AS (
  SELECT st.report_id, st.seq, r.person_hash, st.area_code || '%' AS pat,
         st.arrive_at - make_interval(mins => :tol) AS lo,
         COALESCE(st.depart_at,
                  lead(st.arrive_at) OVER (PARTITION BY st.report_id ORDER BY st.seq),
                  CAST(:day_end AS timestamptz)) + make_interval(mins => :tol) AS hi
  FROM report_stops st JOIN daily_reports r ON r.id = st.report_id
  WHERE r.report_date = :day
), c AS (
  SELECT s.report_id, s.seq,
    EXISTS (SELECT 1 FROM registrations g JOIN sites t ON t.id = g.site_id
            WHERE g.person_hash = s.person_hash AND g.occurred_at BETWEEN s.lo AND s.hi
              AND t.area_code LIKE s.pat) AS corroborated,
    EXISTS (SELECT 1 FROM registrations g JOIN sites t ON t.id = g.site_id
            WHERE g.occurred_at BETWEEN s.lo AND s.hi AND t.area_code LIKE s.pat) AS observable
  FROM s
)
SELECT (SELECT count(*) FROM c WHERE corroborated),
       (SELECT count(*) FROM c WHERE NOT corroborated AND observable),
       (SELECT count(*) FROM registrations g JOIN sites t ON t.id = g.site_id
          JOIN daily_reports r ON r.person_hash = g.person_hash AND r.report_date = :day
        WHERE g.occurred_at >= :day_start AND g.occurred_at < :day_end
          AND NOT EXISTS (SELECT 1 FROM s WHERE s.report_id = r.id
                          AND g.occurred_at BETWEEN s.lo AND s.hi AND t.area_code LIKE s.pat))
"""


def _local(hh: int, mm: int = 0) -> datetime:
    return datetime.combine(DAY, dtime(hh, mm), LOCAL_TZ)


def _setup_db(url: str, drop_only: bool = False) -> None:
    if url.startswith("postgresql"):
        base, name = url.rsplit("/", 1)
        admin = create_engine(base + "/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            if not drop_only:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()


def generate(rt: Runtime, n: int, n_sites: int, seed: int = 13) -> None:
    """Bulk-load the day: people, employees, reports with stops, sites, registrations."""
    rnd = random.Random(seed)
    for session in session_scope(rt.sessions):
        ent = Enterprise(credit_code="91520102MA6J5GQX4T", name="基准测试企业",
                         area_code="520102006")
        session.add(ent)
        session.flush()
        dept = Department(enterprise_id=ent.id, name="基准部门")
        session.add(dept)
        session.flush()
        sites = [{"id": uuid.uuid4(), "code": f"B{i:05d}", "name": f"卡口{i}", "kind": "gate",
                  "area_code": AREAS[i % len(AREAS)] + f"{i % 7:03d}", "lanes": ["1"],
                  "opening_hours": [], "fever_threshold": 37.3, "community_code": "",
                  "active": True} for i in range(n_sites)]
        session.execute(insert(Site.__table__), sites)
        by_area: dict[str, list[uuid.UUID]] = {}
        for s in sites:
            by_area.setdefault(s["area_code"][:9], []).append(s["id"])
        people, emps, reports, stops, regs = [], [], [], [], []

        def reg(person_hash: str | None, site: uuid.UUID, at: datetime,
                regs: list[dict[str, Any]] = regs) -> None:
            regs.append({"id": uuid7(), "site_id": site, "lane": "1", "device_key": "bench",
                         "occurred_at": at, "received_at": at, "direction": "in",
                         "method": "scan", "person_hash": person_hash, "person_masked": "张*",
                         "id_last4": "1234", "decision": "allow", "reasons": []})

        for i in range(n):
            pid, eid, rid = uuid.uuid4(), uuid.uuid4(), uuid7()
            h = f"{i:064x}"
            people.append({"id": pid, "id_hash": h, "id_enc": b"x", "id_masked": "52*",
                           "name_enc": b"x", "name_masked": "张*"})
            emps.append({"id": eid, "enterprise_id": ent.id, "department_id": dept.id,
                         "person_id": pid, "employee_no": f"E{i}", "status": "active"})
            home, office = rnd.choice(AREAS), rnd.choice(AREAS)
            reports.append({"id": rid, "employee_id": eid, "enterprise_id": ent.id,
                            "department_id": dept.id, "report_date": DAY,
                            "temperature": 36.5, "symptoms": [], "submitted_at": _local(21),
                            "person_hash": h})
            go, back = _local(7, rnd.randrange(60)), _local(17, rnd.randrange(60))
            for seq, (area, a, d) in enumerate(((home, _local(0), go),
                                                (office, go + timedelta(minutes=40), back),
                                                (home, back + timedelta(minutes=40), None)),
                                               start=1):
                stops.append({"report_id": rid, "seq": seq, "area_code": area, "place": "",
                              "arrive_at": a, "depart_at": d})
            roll = rnd.random()
            if roll < 0.8:      # seen at work, and coming home
                reg(h, rnd.choice(by_area[office]), go + timedelta(minutes=rnd.randrange(30, 50)))
                reg(h, rnd.choice(by_area[home]), back + timedelta(minutes=rnd.randrange(30, 50)))
            elif roll < 0.9:    # seen somewhere else during the day
                reg(h, rnd.choice(sites)["id"], _local(12, rnd.randrange(60)))
            if rnd.random() < 0.3:  # an evening errand not reported
                reg(h, rnd.choice(sites)["id"], _local(20, rnd.randrange(60)))
        for _ in range(n // 2):  # other people passing the sites
            reg(None, rnd.choice(sites)["id"], _local(rnd.randrange(6, 22), rnd.randrange(60)))
        for table, rows in ((Person, people), (Employee, emps), (DailyReport, reports),
                            (ReportStop, stops), (Registration, regs)):
            for k in range(0, len(rows), 5000):
                session.execute(insert(table.__table__), rows[k:k + 5000])
    with rt.engine.begin() as conn:
        conn.execute(text("ANALYZE"))



def time_verify(rt: Runtime) -> tuple[float, int, float, float | None]:
    """Wall seconds, findings, client CPU seconds, server (backend) CPU seconds."""
    start, cpu = time.perf_counter(), time.process_time()
    # As the job and the command line run it: in parts at once, each on a connection of
    # its own; the server's CPU is every backend of the database's (the pool keeps them).
    # (" name ": a backend's title has spaces around it; this process's arguments do not.)
    db_name = f" {rt.engine.url.database} "
    before = cpu_seconds(cmd_contains=db_name)
    stats = verify.verify_in_parts(sessions=rt.sessions, first=DAY, last=DAY)
    server = cpu_seconds(cmd_contains=db_name) - before
    return time.perf_counter() - start, stats.findings, time.process_time() - cpu, server


def time_sql(rt: Runtime) -> tuple[float, tuple[Any, ...]]:
    day_start = datetime.combine(DAY, dtime(0), LOCAL_TZ)
    day_end = day_start + timedelta(days=1)
    start = time.perf_counter()
    with rt.engine.connect() as conn:
        # No JIT, as tracing.verify runs: over the day partitions of registrations the
        # compile alone took 29 of this statement's 33 s (200k registrations).
        conn.execute(text("SET LOCAL jit = off"))
        row = tuple(conn.execute(text(SQL_BASELINE), {
            "tol": verify.DEFAULT_TOLERANCE, "day": DAY, "day_start": day_start,
            "day_end": day_end}).one())
    return time.perf_counter() - start, row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--db-url", default=DEFAULT_PG)
    ap.add_argument("--reports", type=int, default=20_000)
    ap.add_argument("--sites", type=int, default=400)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    # The machine is shared: wall times move with its load, CPU per report does not.
    load_start = round(os.getloadavg()[0], 2)
    if not args.db_url.startswith("postgresql"):
        print("the SQL baseline is PostgreSQL SQL: give a postgresql URL", file=sys.stderr)
        return 2
    _setup_db(args.db_url)
    rt = Runtime.build(Settings(database_url=args.db_url))
    try:
        migrate.upgrade(rt.engine)
        t0 = time.perf_counter()
        generate(rt, args.reports, args.sites)
        load_s = time.perf_counter() - t0
        ours, sql, findings, sql_row = [], [], 0, ()
        client_cpu, server_cpu = [], []
        for _ in range(args.rounds):  # interleaved: both see the same background load
            spent, findings, cpu, server = time_verify(rt)
            ours.append(spent)
            client_cpu.append(cpu)
            if server is not None:
                server_cpu.append(server)
            spent, sql_row = time_sql(rt)
            sql.append(spent)
        ours_rate = args.reports / statistics.median(ours)
        sql_rate = args.reports / statistics.median(sql)
        print(json.dumps({
            "benchmark": "tracing_verify",
            "params": {"reports": args.reports, "sites": args.sites, "rounds": args.rounds,
                       "tolerance_minutes": verify.DEFAULT_TOLERANCE,
                       "db": "postgresql", "load_s": round(load_s, 1),
                       "load_1m": load_start, "load_1m_end": round(os.getloadavg()[0], 2)},
            "results": {"verify_reports_per_s": round(ours_rate),
                        "sql_baseline_reports_per_s": round(sql_rate),
                        # Round 1 stores every finding; later rounds find them unchanged
                        # and write nothing (what the hourly job mostly does).
                        "first_run_reports_per_s": round(args.reports / ours[0]),
                        "client_cpu_s_per_1000": round(
                            statistics.median(client_cpu) * 1000 / args.reports, 3),
                        "server_cpu_s_per_1000": round(
                            statistics.median(server_cpu) * 1000 / args.reports, 3)
                        if server_cpu else None,
                        "findings": findings,
                        "sql_baseline_counts": {"corroborated": sql_row[0],
                                                "uncorroborated_or_contradiction": sql_row[1],
                                                "unreported_visits": sql_row[2]}},
            "ratios": {"verify_vs_sql": round(ours_rate / sql_rate, 2)},
        }))
    finally:
        rt.engine.dispose()
        _setup_db(args.db_url, drop_only=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
