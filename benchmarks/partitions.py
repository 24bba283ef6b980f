"""Benchmark what day partitions cost a hot statement: one table vs partitioned by day.

Run: PYTHONPATH=src python benchmarks/partitions.py [--past-days 29] [--rows 2000]
     [--statements 2000] [--runs 3]

Creates two PostgreSQL databases (dropped at the end): the baseline migrated to the
revision before partitioning (one registrations table), the other to head with day
partitions from --past-days back to the default days ahead (what a 28-day retention
keeps). Into each: --rows single-row INSERT ... ON CONFLICT (id) DO NOTHING (the fast
path's write), then --statements runs of the fast path's read (registrations.fastpath:
"stored already?" by id, and the holder's last allowed in/out here: bounded by one stay cap
and the ids that can hold it where the code has registrations/lookback.py, else not),
each prepared. Reports the backend's CPU ms per statement (the machine is shared: CPU,
not wall time), median of --runs.

Prints one JSON object as its last line (see DESIGN.md, "Benchmarks").
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import psycopg
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from checkpoint_env import (  # noqa: E402
    create_pg_database,
    drop_pg_database,
    process_cpu,
)

import passtrace.models  # noqa: E402, F401 - every table
from passtrace.core import migrate  # noqa: E402
from passtrace.core.clock import utcnow  # noqa: E402
from passtrace.core.db import make_engine  # noqa: E402
from passtrace.core.ids import uuid7  # noqa: E402
from passtrace.registrations import fastpath, partitions  # noqa: E402
from passtrace.sites.models import Site  # noqa: E402

BEFORE = "c5e1a7f3b914"
_INSERT = (
    "INSERT INTO registrations (id, site_id, lane, device_key, occurred_at, received_at, "
    "skew_flagged, future_flagged, direction, method, person_hash, person_masked, id_last4, "
    "companions, origin, destination, decision, reasons, decided_by) VALUES (%s, %s, '1', "
    "'d', now(), now(), false, false, 'in', 'qr', %s, 'x', '1234', 0, '', '', 'allow', "
    "'[]'::json, 'server') ON CONFLICT (id) DO NOTHING RETURNING id")
_READ = f"SELECT {fastpath._STORED}, {fastpath._LAST_MOVE.format(hash='%s')}"
_BOUNDED = fastpath._LAST_MOVE.count("%s") > 2  # the code bounds the read (lookback.py)
_CAP = timedelta(hours=12)


def _read_params(site_id: object, person: str) -> tuple[object, ...]:
    """The read's parameters; bounded as registrations/lookback.py makes them."""
    if not _BOUNDED:
        return (uuid7(), site_id, person)
    since = utcnow() - _CAP
    floor_ms = int((since - timedelta(days=1)).timestamp() * 1000)
    return (uuid7(), site_id, person, since, uuid.UUID(f"{floor_ms:012x}{'0' * 20}"))



def _measure(url: str, revision: str, past_days: int, rows: int,
             statements: int) -> dict[str, float]:
    engine = make_engine(url)
    migrate.upgrade(engine, revision)
    with Session(engine) as session:
        site = Site(id=uuid7(), code="BENCH", name="bench", kind="road_checkpoint",
                    area_code="520102", lanes=["1"])
        session.add(site)
        if revision != BEFORE:
            today = utcnow().date()
            partitions.create_ahead(session, today=today, days_ahead=2,
                                    since=today - timedelta(days=past_days))
        session.commit()
        count = len(partitions.partitions(session)) if revision != BEFORE else 1
        site_id = site.id
    engine.dispose()
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        pid = conn.info.backend_pid
        start = process_cpu(pid)
        for i in range(rows):
            conn.execute(_INSERT, (uuid7(), site_id, f"h{i % 50}"), prepare=True)
        inserted = process_cpu(pid) - start
        conn.execute("ANALYZE registrations")
        start = process_cpu(pid)
        for i in range(statements):
            conn.execute(_READ, _read_params(site_id, f"h{i % 50}"), prepare=True)
        read = process_cpu(pid) - start
    return {"partitions": count, "insert_cpu_ms": inserted * 1000 / rows,
            "read_cpu_ms": read * 1000 / statements}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--past-days", type=int, default=29)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--statements", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    runs: dict[str, list[dict[str, float]]] = {"one_table": [], "by_day": []}
    for n in range(args.runs):
        for label, revision in (("one_table", BEFORE), ("by_day", "head")):
            name = f"passtrace_bench_partitions_{os.getpid()}_{n}_{label}"
            url = create_pg_database(name)
            try:
                runs[label].append(_measure(url, revision, args.past_days, args.rows,
                                            args.statements))
            finally:
                drop_pg_database(name)
            print(label, runs[label][-1], file=sys.stderr)
    results = {f"{label}_{key}": round(statistics.median(r[key] for r in got), 4)
               for label, got in runs.items() for key in ("partitions", "insert_cpu_ms",
                                                           "read_cpu_ms")}
    print(json.dumps({
        "benchmark": "partitions",
        "params": {**vars(args), "statistic": "median of runs", "read_bounded": _BOUNDED,
                   "baseline": "one registrations table (revision before partitioning)"},
        "results": results,
        "ratios": {"insert_by_day_vs_one_table": round(
                       results["by_day_insert_cpu_ms"] / results["one_table_insert_cpu_ms"], 2),
                   "read_by_day_vs_one_table": round(
                       results["by_day_read_cpu_ms"] / results["one_table_read_cpu_ms"], 2)}}))


if __name__ == "__main__":
    main()
