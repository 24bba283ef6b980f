"""Benchmark population analytics: Ibis vs hand-written DuckDB SQL, Spark local, lake export.

How to run: `PYTHONPATH=src python benchmarks/analytics.py --registrations 1000000`
(the issue's scale: `--registrations 10000000`; add `--no-spark` or `--no-export` to
skip parts). In one run, from a fixed seed:

* a lake of --registrations registrations over --days days (plus stays, ~30 % of the
  allowed ones) at --sites sites in 20 counties is written straight as Parquet;
* `companions` for --cases index persons and `flows` over all --days days, through Ibis
  on DuckDB and through the same queries hand-written in DuckDB SQL: median wall of
  --runs runs each, rows checked identical; `ratios.ibis_vs_sql` is the slower job's;
* the same two jobs through Ibis on Spark local[2]: wall (session start apart) and the
  JVM's peak resident memory (VmHWM);
* `lake export` from PostgreSQL (127.0.0.1:5432, trust auth; a database named
  passtrace_analytics_bench_<pid>, dropped at the end) of the same registrations:
  rows/s against raw `COPY (SELECT … same columns) TO STDOUT` read and thrown away,
  with the PostgreSQL backend's CPU seconds for each.

Wall figures are noisy on a loaded machine: CPU seconds and the load average are
printed beside them. Prints one JSON line (DESIGN.md, "Benchmarks").
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from passtrace.analytics.lake.tables import BY_NAME, TABLES, UTC_TS
from passtrace.analytics.queries import Params

ROOT_SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
sys.path.insert(0, str(ROOT_SCRIPTS))
from checkpoint_env import process_cpu  # noqa: E402 - shared benchmark helpers

DAY0 = date(2026, 11, 1)
COUNTIES = [f"52{c:02d}{d:02d}" for c in range(1, 5) for d in range(1, 6)]  # 20


def _lake(path: Path, n: int, days: int, sites: int, seed: int) -> dict[str, Any]:
    """Write the generated lake; return what the benchmark needs (index persons …)."""
    rng = np.random.default_rng(seed)
    people = max(1000, n // (days * 4))
    hashes = pa.array([f"{p:064x}" for p in range(1, people + 1)])
    site_ids = [f"20000000-0000-0000-0000-{s:012d}" for s in range(sites)]
    site_area = [COUNTIES[int(c)] + "001001" for c in rng.integers(0, len(COUNTIES), sites)]
    sites_tbl = pa.table({"id": site_ids, "code": [f"S{s}" for s in range(sites)],
                          "name": [f"S{s}" for s in range(sites)],
                          "kind": ["checkpoint"] * sites, "area_code": site_area,
                          "community_code": [""] * sites, "active": [True] * sites},
                         schema=BY_NAME["sites"].schema)
    (path / "sites").mkdir(parents=True)
    pq.write_table(sites_tbl, path / "sites" / "part-0.parquet")
    for t in TABLES:
        if t.partition_by is None and t.name != "sites":
            (path / t.name).mkdir(parents=True)
            pq.write_table(t.schema.empty_table(), path / t.name / "part-0.parquet")
    person = rng.integers(0, people, n)
    # People mostly stay in their county: a site of their own county 80 % of the time.
    site = rng.integers(0, sites, n)
    day = np.sort(rng.integers(0, days, n))
    micros = (day.astype(np.int64) * 86_400_000_000
              + rng.integers(0, 86_400_000_000, n))
    base = int(datetime(DAY0.year, DAY0.month, DAY0.day, tzinfo=UTC).timestamp() * 1e6)
    at = pa.array(micros + base, pa.int64()).cast(UTC_TS)
    deny = rng.random(n) < 0.05
    reason_codes = np.array(["fever", "expired", "no_pass"])[rng.integers(0, 3, n)]
    reasons = pa.array([[r] if d else [] for r, d in zip(reason_codes.tolist(),
                                                         deny.tolist(), strict=True)],
                       pa.list_(pa.string()))
    ids = pa.array([f"10000000-0000-0000-{i >> 48:04x}-{i & 0xFFFFFFFFFFFF:012x}"
                    for i in range(n)])
    regs = pa.table({
        "id": ids, "site_id": pa.array(site_ids).take(pa.array(site)), "lane": ["1"] * n,
        "occurred_at": at, "received_at": at, "direction": ["in"] * n, "method": ["qr"] * n,
        "person_hash": hashes.take(pa.array(person)),
        "decision": pa.array(np.where(deny, "deny", "allow")), "reasons": reasons,
        "future_flagged": pa.array(np.zeros(n, dtype=bool))},
        schema=BY_NAME["registrations"].schema)
    stay_mask = (~deny) & (rng.random(n) < 0.3)
    stay_idx = pa.array(np.nonzero(stay_mask)[0])
    length = rng.integers(5 * 60_000_000, 4 * 3600_000_000, len(stay_idx))
    starts = regs.column("occurred_at").take(stay_idx)
    ends = pa.array(micros[stay_mask] + base + length, pa.int64()).cast(UTC_TS)
    stays = pa.table({"id": regs.column("id").take(stay_idx),
                      "person_hash": regs.column("person_hash").take(stay_idx),
                      "site_id": regs.column("site_id").take(stay_idx),
                      "started_at": starts, "ended_at": ends,
                      "closed_by": ["out"] * len(stay_idx)}, schema=BY_NAME["stays"].schema)
    bounds = np.searchsorted(day, np.arange(days + 1))
    stay_day = day[stay_mask]
    sbounds = np.searchsorted(stay_day, np.arange(days + 1))
    for d in range(days):
        iso = (DAY0 + timedelta(days=d)).isoformat()
        for name, tbl, b in (("registrations", regs, bounds), ("stays", stays, sbounds)):
            out = path / name / f"date={iso}"
            out.mkdir(parents=True)
            pq.write_table(tbl.slice(b[d], b[d + 1] - b[d]), out / "part-0.parquet",
                           compression="zstd")
    for name in ("reports", "report_stops"):
        (path / name).mkdir(parents=True)
    (path / "_manifest.json").write_text('{"schema_version": 1, "tables": {}}')
    return {"regs": regs, "hashes": hashes, "sites": sites_tbl, "people": people}


COMPANIONS_SQL = """
WITH regs AS (
  SELECT * FROM read_parquet('{lake}/registrations/date=*/*.parquet', hive_partitioning=true)
  WHERE CAST(date AS DATE) BETWEEN DATE '{lo}' AND DATE '{hi}' AND person_hash IS NOT NULL),
idx AS (SELECT person_hash AS ihash, site_id AS isite,
               CAST(floor(epoch(occurred_at)) AS BIGINT) AS isec
        FROM regs WHERE person_hash IN ({hashes})),
probes AS (SELECT ihash, isite, isec, isec // {w} + k AS ibucket
           FROM idx, (VALUES (-1), (0), (1)) v(k)),
other AS (SELECT person_hash, site_id, CAST(floor(epoch(occurred_at)) AS BIGINT) AS sec,
                 CAST(occurred_at AS DATE) AS day, occurred_at
          FROM regs WHERE person_hash NOT IN ({hashes})),
win AS (SELECT o.day, p.ihash, o.person_hash, count(*) AS n, min(o.occurred_at) AS f,
               max(o.occurred_at) AS l
        FROM other o JOIN probes p ON o.site_id = p.isite AND o.sec // {w} = p.ibucket
        WHERE abs(o.sec - p.isec) <= {w} GROUP BY ALL),
stays AS (
  SELECT * FROM read_parquet('{lake}/stays/date=*/*.parquet', hive_partitioning=true)
  WHERE CAST(date AS DATE) BETWEEN DATE '{lo}' - INTERVAL 1 DAY AND DATE '{hi}'
    AND started_at < TIMESTAMPTZ '{hi}' + INTERVAL 1 DAY AND ended_at > TIMESTAMPTZ '{lo}'),
ist AS (SELECT person_hash AS ihash, site_id AS isite, started_at AS istart,
               ended_at AS iend
        FROM stays WHERE person_hash IN ({hashes})),
st AS (SELECT CAST(greatest(o.started_at, i.istart) AS DATE) AS day, i.ihash,
              o.person_hash, count(*) AS n, min(greatest(o.started_at, i.istart)) AS f,
              max(least(o.ended_at, i.iend)) AS l
       FROM stays o JOIN ist i ON o.site_id = i.isite
       WHERE o.person_hash NOT IN ({hashes}) AND o.started_at < i.iend AND i.istart < o.ended_at
       GROUP BY ALL)
SELECT day AS date, ihash AS index_hash, person_hash, CAST(sum(w) AS BIGINT) AS window_hits,
       CAST(sum(s) AS BIGINT) AS stay_overlaps, min(f) AS first_at, max(l) AS last_at
FROM (SELECT day, ihash, person_hash, n AS w, 0 AS s, f, l FROM win
      UNION ALL SELECT day, ihash, person_hash, 0, n, f, l FROM st
                WHERE day BETWEEN DATE '{lo}' AND DATE '{hi}')
GROUP BY ALL ORDER BY 1, 2, 3
"""

FLOWS_SQL = """
WITH regs AS (
  SELECT * FROM read_parquet('{lake}/registrations/date=*/*.parquet', hive_partitioning=true)
  WHERE CAST(date AS DATE) BETWEEN DATE '{lo}' AND DATE '{hi}' AND person_hash IS NOT NULL
    AND decision = 'allow'),
moves AS (
  SELECT CAST(r.occurred_at AS DATE) AS day,
         lag(substr(s.area_code, 1, 6)) OVER (PARTITION BY r.person_hash
                                              ORDER BY r.occurred_at, r.id) AS origin,
         substr(s.area_code, 1, 6) AS destination
  FROM regs r JOIN read_parquet('{lake}/sites/part-0.parquet') s ON r.site_id = s.id)
SELECT day AS date, origin, destination, count(*) AS moves FROM moves
WHERE origin IS NOT NULL AND origin <> destination GROUP BY ALL ORDER BY 1, 2, 3
"""


def _median_run(fn: Any, runs: int) -> tuple[float, float, Any]:
    walls, cpus, result = [], [], None
    for _ in range(runs):
        w0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus), result


def _duckdb_part(lake: Path, params: dict[str, Params], runs: int) -> dict[str, Any]:
    import duckdb

    from passtrace.analytics import run as runner
    from passtrace.analytics.engines import Lake, connect
    from passtrace.analytics.queries import SORT_KEYS

    out: dict[str, Any] = {}
    ibis_lake = Lake(connect("duckdb"), lake)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for job, sql in (("companions", COMPANIONS_SQL), ("flows", FLOWS_SQL)):
        p = params[job]
        text = sql.format(lake=lake, lo=p.day_from, hi=p.day_to, w=p.window_minutes * 60,
                          hashes=", ".join(f"'{h}'" for h in p.person_hashes) or "''")
        iw, ic, ires = _median_run(lambda j=job, p=p: runner.run(j, lake, p, lake=ibis_lake),
                                   runs)
        sw, sc, sres = _median_run(lambda t=text: con.execute(t).to_arrow_table(), runs)
        sres = runner.normalise(sres, SORT_KEYS[job])
        out[job] = {"ibis_s": round(iw, 3), "ibis_cpu_s": round(ic, 3), "sql_s": round(sw, 3),
                    "sql_cpu_s": round(sc, 3), "rows": ires.num_rows,
                    "identical": ires.to_pylist() == sres.to_pylist(),
                    "ratio": round(iw / sw, 3)}
    return out


def _jvm_peak_mb() -> float | None:
    me = str(os.getpid())
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
            if stat.split(") ", 1)[1].split()[1] != me or "java" not in stat:
                continue
            for line in (proc / "status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            continue
    return None


def _spark_part(lake: Path, params: dict[str, Params]) -> dict[str, Any]:
    from passtrace.analytics import run as runner
    from passtrace.analytics.engines import Lake, connect

    w0 = time.perf_counter()
    con = connect("spark", "local[2]")
    start = time.perf_counter() - w0
    spark_lake = Lake(con, lake)
    out: dict[str, Any] = {"spark_start_s": round(start, 1)}
    w0 = time.perf_counter()
    for job in ("companions", "flows"):
        t = time.perf_counter()
        rows = runner.run(job, lake, params[job], lake=spark_lake).num_rows
        out[f"spark_{job}_s"] = round(time.perf_counter() - t, 2)
        out[f"spark_{job}_rows"] = rows
    out["spark_wall_s"] = round(time.perf_counter() - w0, 2)
    out["spark_peak_mb"] = round(_jvm_peak_mb() or 0, 0)
    return out



def _export_part(data: dict[str, Any], runs: int) -> dict[str, Any]:
    import pyarrow.csv as pacsv
    from sqlalchemy import create_engine, text

    from passtrace.analytics.lake.export import export
    from passtrace.analytics.lake.source import Source
    from passtrace.core import migrate
    from passtrace.core.db import make_engine

    name = f"passtrace_analytics_bench_{os.getpid()}"
    admin = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f"CREATE DATABASE {name}"))
    engine = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}")
    tmp = Path(tempfile.mkdtemp(prefix="analytics-bench-"))
    try:
        migrate.upgrade(engine)
        regs, sites = data["regs"], data["sites"]
        n = regs.num_rows
        with engine.begin() as c:
            c.execute(text("INSERT INTO sites (id, code, name, kind, area_code, lanes, "
                           "opening_hours, fever_threshold, community_code, active, created_at)"
                           " VALUES (:id, :code, :name, 'checkpoint', :area, '[\"1\"]', '[]', "
                           "37.3, '', true, now())"),
                      [{"id": r["id"], "code": r["code"], "name": r["name"],
                        "area": r["area_code"]} for r in sites.to_pylist()])
        load = pa.table({
            "id": regs["id"], "site_id": regs["site_id"], "lane": regs["lane"],
            "device_key": pa.array(["bench"] * n), "occurred_at": regs["occurred_at"],
            "received_at": regs["received_at"], "direction": regs["direction"],
            "method": regs["method"], "person_hash": regs["person_hash"],
            "decision": regs["decision"],
            "reasons": pa.array([f'["{r[0]}"]' if r else "[]"
                                 for r in regs["reasons"].to_pylist()])})
        csv_path = tmp / "regs.csv"
        pacsv.write_csv(load, csv_path, pacsv.WriteOptions(include_header=False))
        cols = ", ".join(load.column_names)
        # The columns the app fills in Python: database defaults for the bulk load.
        with engine.begin() as c:
            for col, default in (("skew_flagged", "false"), ("future_flagged", "false"),
                                 ("person_masked", "''"), ("id_last4", "''"),
                                 ("companions", "0"), ("origin", "''"),
                                 ("destination", "''"), ("decided_by", "'server'")):
                c.execute(text(f"ALTER TABLE registrations ALTER COLUMN {col} "
                               f"SET DEFAULT {default}"))
        raw = engine.raw_connection()
        try:
            copy_in = f"COPY registrations ({cols}) FROM STDIN (FORMAT csv)"
            with raw.cursor() as cur, cur.copy(copy_in) as cp, \
                    csv_path.open("rb") as fh:  # type: ignore[attr-defined]
                while chunk := fh.read(1 << 20):
                    cp.write(chunk)
            raw.commit()
        finally:
            raw.close()
        with engine.connect() as c:
            c.execute(text("ANALYZE registrations"))
        # Open the pool's connections up front (the export reads dates on two at once),
        # so every backend whose CPU is counted exists before the first run.
        held = [engine.connect() for _ in range(3)]
        pids = [c.execute(text("SELECT pg_backend_pid()")).scalar_one() for c in held]
        for c in held:
            c.close()
        source = Source(engine)
        table = BY_NAME["registrations"]
        select_sql, _ = source._select(table, None)

        def raw_copy() -> int:
            got = 0
            conn = engine.raw_connection()
            try:
                copy_out = f"COPY ({select_sql}) TO STDOUT WITH (FORMAT csv)"
                with conn.cursor() as cur, cur.copy(copy_out) as cp:  # type: ignore[attr-defined]
                    for chunk in cp:
                        got += len(chunk)
            finally:
                conn.close()
            return got

        def lake_export(workers: int) -> Callable[[], int]:
            def run() -> int:
                out = tmp / "lake"
                shutil.rmtree(out, ignore_errors=True)
                return export(source, out, workers=workers).rows
            return run

        def backends_cpu() -> float:
            return sum(process_cpu(p) for p in pids)

        res: dict[str, Any] = {"rows": n}
        for label, fn in (("copy", raw_copy), ("export", lake_export(2)),
                          ("export_serial", lake_export(1))):
            walls, cpus, pg = [], [], []
            for _ in range(runs):
                b0 = backends_cpu()
                w0, c0 = time.perf_counter(), time.process_time()
                fn()
                walls.append(time.perf_counter() - w0)
                cpus.append(time.process_time() - c0)
                pg.append(backends_cpu() - b0)
            res[f"{label}_s"] = round(statistics.median(walls), 2)
            res[f"{label}_client_cpu_s"] = round(statistics.median(cpus), 2)
            res[f"{label}_pg_cpu_s"] = round(statistics.median(pg), 2)
        res["lake_export_rows_per_s"] = round(n / res["export_s"])
        res["lake_export_serial_rows_per_s"] = round(n / res["export_serial_s"])
        res["copy_rows_per_s"] = round(n / res["copy_s"])
        return res
    finally:
        engine.dispose()
        with admin.connect() as c:
            c.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--registrations", type=int, default=1_000_000)
    ap.add_argument("--days", type=int, default=14)
    ap.add_argument("--sites", type=int, default=0, help="default: registrations / 5000")
    ap.add_argument("--cases", type=int, default=50)
    ap.add_argument("--window-minutes", type=int, default=30)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=20261203)
    ap.add_argument("--no-spark", action="store_true")
    ap.add_argument("--no-export", action="store_true")
    args = ap.parse_args(argv)
    sites = args.sites or max(100, args.registrations // 5000)
    load0 = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="analytics-lake-"))
    try:
        t0 = time.perf_counter()
        data = _lake(work / "lake", args.registrations, args.days, sites, args.seed)
        gen_s = time.perf_counter() - t0
        lo, hi = DAY0, DAY0 + timedelta(days=args.days - 1)
        index = tuple(data["hashes"].take(pa.array(np.arange(args.cases) * 7 + 1))
                      .to_pylist())
        params = {"companions": Params(day_from=lo, day_to=hi, person_hashes=index,
                                       window_minutes=args.window_minutes),
                  "flows": Params(day_from=lo, day_to=hi)}
        jobs = _duckdb_part(work / "lake", params, args.runs)
        results: dict[str, Any] = {"lake_generate_s": round(gen_s, 1), **{
            f"{job}_{k}": v for job, d in jobs.items() for k, v in d.items()}}
        # Partial figures on stderr as each part ends: a long run cut short still tells.
        print(json.dumps({"partial": results}), file=sys.stderr, flush=True)
        if not args.no_spark:
            results.update(_spark_part(work / "lake", params))
            print(json.dumps({"partial": results}), file=sys.stderr, flush=True)
        if not args.no_export:
            exp = _export_part(data, args.runs)
            results.update({f"export_{k}": v for k, v in exp.items()
                            if k not in ("lake_export_rows_per_s",)})
            results["lake_export_rows_per_s"] = exp["lake_export_rows_per_s"]
        ratios = {"ibis_vs_sql": max(d["ratio"] for d in jobs.values())}
        if "lake_export_rows_per_s" in results:
            ratios["export_vs_copy"] = round(
                results["export_export_s"] / results["export_copy_s"], 2)
        results["identical_rows"] = all(d["identical"] for d in jobs.values())
        results["load_avg_start"] = [round(x, 2) for x in load0]
        results["load_avg_end"] = [round(x, 2) for x in os.getloadavg()]
        print(json.dumps({
            "benchmark": "analytics",
            "params": {"registrations": args.registrations, "days": args.days, "sites": sites,
                       "people": data["people"], "cases": args.cases,
                       "window_minutes": args.window_minutes, "runs": args.runs,
                       "seed": args.seed, "cpus": os.cpu_count()},
            "results": results, "ratios": ratios}))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
