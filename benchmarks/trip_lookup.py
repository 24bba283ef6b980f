"""Benchmark the same-train/flight lookup (tracing.ties.trips_many) with and without the
upper(ref) index on report_stops.

How to run: `PYTHONPATH=src python benchmarks/trip_lookup.py --reports 700000`
(PostgreSQL at 127.0.0.1:5432, trust auth; a database passtrace_trip_bench_<pid>,
dropped at the end). From fixed formulas: --reports imported reports over --days days,
each with a walk stop and a train, flight or car leg (1/3 each, --trains trains (2,000)
and 1,500 flights). With 2,000 trains the case's first contact is report 84,000; a
small run (the smoke test) takes few trains so that its lookups find someone. One
case's lookup runs --runs times with the index, then in a transaction that drops the
index (the baseline: the query as it was before), rolled back after. Contacts must be
identical. Parallel workers are off, so the backend's CPU is all the query's CPU.
Prints one JSON line (DESIGN.md, "Benchmarks").
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from passtrace.core import migrate
from passtrace.core.clock import LOCAL_TZ
from passtrace.core.db import make_engine
from passtrace.tracing import ties
from passtrace.tracing.colocation import Source

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from checkpoint_env import (  # noqa: E402 - shared benchmark helpers
    backend_cpu,
    create_pg_database,
    drop_pg_database,
)

DAY0 = "2026-11-01"
FILL = """
INSERT INTO daily_reports (id, report_date, submitted_at, person_hash, temperature,
                           symptoms, source, stayed_home, late, flagged)
SELECT md5('r' || g)::uuid, date '{day0}' + (g % {days}), timestamptz '{day0}',
       md5('p' || (g / {days})), 36.5, '[]', 'import', false, false, false
FROM generate_series(0, {last}) g;
INSERT INTO report_stops (report_id, seq, area_code, place, arrive_at, mode, ref, seat)
SELECT md5('r' || g)::uuid, s, '520102', '',
       timestamptz '{day0}' + (g % {days}) * interval '1 day' + s * interval '2 hours',
       CASE WHEN s = 0 THEN 'walk' WHEN g % 3 = 0 THEN 'train' WHEN g % 3 = 1 THEN 'flight'
            ELSE 'car' END,
       CASE WHEN s = 0 THEN NULL WHEN g % 3 = 0 THEN 'G' || (1000 + (g / {days}) % {trains})
            WHEN g % 3 = 1 THEN 'CA' || (1000 + (g / {days}) % 1500)
            ELSE '贵A' || (g % 90000 + 10000) END,
       CASE WHEN s = 0 OR g % 3 = 2 THEN NULL
            WHEN g % 3 = 0 THEN lpad(((g / 7) % 16 + 1)::text, 2, '0') || '-'
                                || ((g / 3) % 20 + 1) || 'A'
            ELSE ((g / 5) % 40 + 1) || 'C' END
FROM generate_series(0, {last}) g, (VALUES (0), (1)) AS legs(s);
"""


def _lookups(session: Session, runs: int) -> dict[str, Any]:
    """Median wall and backend CPU of one case's lookup (report 0: train G1000, day 1)."""
    case = hashlib.md5(b"p0").hexdigest()
    start = datetime.fromisoformat(DAY0).replace(tzinfo=LOCAL_TZ)
    walls, cpus, found = [], [], None
    for _ in range(runs):
        c0, t0 = backend_cpu(session) or 0.0, time.perf_counter()
        hits = ties.trips_many(session, sources=[Source(case, start)],
                               end=start + timedelta(days=1))[case]
        walls.append((time.perf_counter() - t0) * 1000)
        cpus.append(((backend_cpu(session) or 0.0) - c0) * 1000)
        found = sorted(hit.person_hash for hit, _ in hits)
    return {"wall_ms": statistics.median(walls), "cpu_ms": sum(cpus) / runs,
            "contacts": found}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reports", type=int, default=700_000)
    ap.add_argument("--days", type=int, default=14)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--trains", type=int, default=2000)
    args = ap.parse_args()
    name = f"passtrace_trip_bench_{os.getpid()}"
    engine = make_engine(create_pg_database(name))
    try:
        migrate.upgrade(engine)
        t0 = time.perf_counter()
        with engine.begin() as conn:
            fill = FILL.format(day0=DAY0, days=args.days, last=args.reports - 1,
                               trains=args.trains)
            for statement in filter(str.strip, fill.split(";")):
                conn.execute(text(statement))  # text(): the modulo signs need no escaping
            conn.exec_driver_sql("ANALYZE daily_reports")
            conn.exec_driver_sql("ANALYZE report_stops")
        fill_s = time.perf_counter() - t0
        with Session(engine) as session:
            session.execute(text("SET max_parallel_workers_per_gather = 0"))
            indexed = _lookups(session, args.runs)
            session.execute(text("DROP INDEX ix_report_stops_trip_ref"))  # rolled back
            baseline = _lookups(session, args.runs)
            session.rollback()
    finally:
        engine.dispose()
        drop_pg_database(name)
    assert indexed["contacts"] == baseline["contacts"], "the index changed the answer"
    print(json.dumps({
        "benchmark": "trip_lookup",
        "params": {"reports": args.reports, "days": args.days, "runs": args.runs,
                   "trains": args.trains},
        "results": {"contacts": len(indexed["contacts"] or []),
                    "no_index_contacts": len(baseline["contacts"] or []),
                    "fill_s": round(fill_s, 1),
                    "lookup_p50_ms": round(indexed["wall_ms"], 2),
                    "lookup_cpu_ms": round(indexed["cpu_ms"], 2),
                    "no_index_p50_ms": round(baseline["wall_ms"], 2),
                    "no_index_cpu_ms": round(baseline["cpu_ms"], 2),
                    "load_1min": os.getloadavg()[0]},
        "ratios": {"no_index_vs_index_wall": round(baseline["wall_ms"] / indexed["wall_ms"], 1)},
    }))


if __name__ == "__main__":
    main()
