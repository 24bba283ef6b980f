"""Benchmark contact tracing at scale: close and secondary contacts over HTTP, one day's
verification and the registrations import, on one loaded PostgreSQL database.

How to run: `python benchmarks/tracing.py` (PostgreSQL on 127.0.0.1:5432, trust auth)
builds a database with --persons people, --registrations registrations over 28 days
(with their stays), --reports daily reports (three stops each) at --sites sites,
generated inside PostgreSQL from a fixed seed (benchmarks/tracing_load.py: INSERT ...
SELECT over generate_series on two connections, the indexes and constraints made after
loading, then VACUUM ANALYZE). It then starts `python -m passtrace serve` (a real
uvicorn, one worker, on 127.0.0.1) and measures, in the same run:

* contacts: POST /api/v1/cases/{id}/contacts/run (depth 1, a 14-day window) as an
  official of the area, once for each of --cases cases (different people): p50/p95,
  against the same co-location written by hand in one SQL statement (p95);
* contacts again (`contacts_rerun_*`): the same searches once more, right after; nothing
  changed, so each finds what it stored and writes nothing (a search is run, not served
  from what is stored: this is what pressing "find contacts" again costs);
* secondary: the same with depth 2 for --secondary-cases of those cases (p95), against
  the same search written by hand (`SECONDARY_SQL`: finding the people only, p95);
* verify: `tracing.verify.verify_in_parts` of one day's reports (as the job and the
  command line run it: two parts at once), timed by benchmarks/tracing_verify.py's own
  helpers (reports/s), against that file's hand-written SQL baseline;
* import: `registrations.imports.import_registrations` of --import-rows rows (the CSV
  benchmarks/tracing_import.py writes) into the loaded table, against raw binary COPY of
  the same rows (that file's `copy_baseline`).

Quick run: `--persons 20000 --registrations 200000 --reports 20000`. `--keep-db NAME`
keeps (and on a second run reuses) the loaded database (about 2 minutes per million
registrations on a busy 2-core machine, see `params.load_s`); without it the database
is dropped at the end. Prints one JSON object as its last line (DESIGN.md, "Benchmarks").
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Json
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "benchmarks"))
import tracing_import  # noqa: E402 - the import benchmark's CSV writer and COPY baseline
import tracing_load  # noqa: E402 - the loader: generated inside PostgreSQL
import tracing_verify  # noqa: E402 - the verify benchmark's timed entry point and SQL
from checkpoint_env import (  # noqa: E402
    PG_ADMIN_URL,
    Server,
    create_pg_database,
    drop_pg_database,
    package_version,
    settings_env,
)

from passtrace.accounts import service as account_service  # noqa: E402
from passtrace.cases.models import Case  # noqa: E402
from passtrace.core.clock import LOCAL_TZ  # noqa: E402
from passtrace.core.config import Settings  # noqa: E402
from passtrace.core.runtime import Runtime  # noqa: E402
from passtrace.demo.accounts import demo_id_number  # noqa: E402
from passtrace.registrations import imports, stays  # noqa: E402
from passtrace.tracing import colocation  # noqa: E402
from passtrace.wiring import wire  # noqa: E402

DEFAULT_DB = "passtrace_bench_tracing"
# The verify day is the verify benchmark's; the 28 days of data surround it.
DAY: date = tracing_verify.DAY
FIRST_DAY = DAY - timedelta(days=20)
DAYS = 28
AREA = "5201"  # the official's area: every generated site lies inside it
STREETS = [f"520102{i:03d}" for i in range(1, 21)] + [f"520103{i:03d}" for i in range(1, 21)]
KINDS = (("road_checkpoint", 0.4), ("community_gate", 0.3), ("enterprise_gate", 0.2),
         ("venue", 0.1))
WINDOW_DAYS = 14
TEMPERATURE = Decimal("36.5")
BIG_TABLES = ("people", "employees", "registrations", "stays", "daily_reports",
              "report_stops")
PASSWORD = "bench-password-1"
IMPORT_SITES = 20

# The co-location of colocation.find written by hand: the case's allowed registrations
# and stays in the window, everyone else's at the same sites around them (same site
# within W; stays overlapping; instants inside a stay, both ways). Distinct people.
# Each read is a LATERAL probe (OFFSET 0): written as plain joins, the planner hashed a
# parallel scan of every partition for the cases with many stays (p95 380-780 ms at 1M
# registrations), which measured its estimates, not the database.
CONTACTS_SQL = """
WITH own_r AS MATERIALIZED (
  SELECT site_id, occurred_at AS at FROM registrations
  WHERE person_hash = %(h)s AND occurred_at >= %(s)s AND occurred_at < %(e)s
    AND decision = 'allow'),
own_s AS MATERIALIZED (
  SELECT site_id, started_at, ended_at FROM stays
  WHERE person_hash = %(h)s AND started_at >= %(s)s - %(cap)s AND started_at < %(e)s
    AND ended_at >= %(s)s)
SELECT count(DISTINCT x.person_hash) FROM (
  SELECT g.person_hash FROM own_r o CROSS JOIN LATERAL (
    SELECT g.person_hash FROM registrations g WHERE g.site_id = o.site_id
      AND g.occurred_at BETWEEN o.at - %(w)s AND o.at + %(w)s
      AND g.decision = 'allow' AND g.person_hash <> %(h)s OFFSET 0) g
  UNION ALL
  SELECT t.person_hash FROM own_s o CROSS JOIN LATERAL (
    SELECT t.person_hash FROM stays t WHERE t.site_id = o.site_id
      AND t.started_at BETWEEN o.started_at - %(cap)s AND o.ended_at
      AND t.ended_at >= o.started_at AND t.person_hash <> %(h)s OFFSET 0) t
  UNION ALL
  SELECT g.person_hash FROM own_s o CROSS JOIN LATERAL (
    SELECT g.person_hash FROM registrations g WHERE g.site_id = o.site_id
      AND g.occurred_at BETWEEN o.started_at AND o.ended_at
      AND g.decision = 'allow' AND g.person_hash <> %(h)s OFFSET 0) g
  UNION ALL
  SELECT t.person_hash FROM own_r o CROSS JOIN LATERAL (
    SELECT t.person_hash FROM stays t WHERE t.site_id = o.site_id
      AND t.started_at BETWEEN o.at - %(cap)s AND o.at AND t.ended_at >= o.at
      AND t.person_hash <> %(h)s OFFSET 0) t) x
"""

# Secondary contacts (depth 2) written by hand, as a floor under the API's: the case's
# contacts as above, each with its first exposure, then everyone at the same sites as
# those contacts' own registrations and stays from that first exposure to the window's
# end (the rule of docs/tracing.md), distinct people. Finding only: no evidence kept,
# nothing stored.
_PROBES = """
  SELECT g.person_hash, g.occurred_at AS at, o.who FROM {r} o CROSS JOIN LATERAL (
    SELECT g.person_hash, g.occurred_at FROM registrations g WHERE g.site_id = o.site_id
      AND g.occurred_at BETWEEN o.at - %(w)s AND o.at + %(w)s
      AND g.decision = 'allow' AND g.person_hash <> o.who OFFSET 0) g
  UNION ALL
  SELECT t.person_hash, greatest(t.started_at, o.started_at), o.who FROM {s} o
  CROSS JOIN LATERAL (
    SELECT t.person_hash, t.started_at FROM stays t WHERE t.site_id = o.site_id
      AND t.started_at BETWEEN o.started_at - %(cap)s AND o.ended_at
      AND t.ended_at >= o.started_at AND t.person_hash <> o.who OFFSET 0) t
  UNION ALL
  SELECT g.person_hash, g.occurred_at, o.who FROM {s} o CROSS JOIN LATERAL (
    SELECT g.person_hash, g.occurred_at FROM registrations g WHERE g.site_id = o.site_id
      AND g.occurred_at BETWEEN o.started_at AND o.ended_at
      AND g.decision = 'allow' AND g.person_hash <> o.who OFFSET 0) g
  UNION ALL
  SELECT t.person_hash, o.at, o.who FROM {r} o CROSS JOIN LATERAL (
    SELECT t.person_hash FROM stays t WHERE t.site_id = o.site_id
      AND t.started_at BETWEEN o.at - %(cap)s AND o.at AND t.ended_at >= o.at
      AND t.person_hash <> o.who OFFSET 0) t"""
SECONDARY_SQL = """
WITH own_r AS MATERIALIZED (
  SELECT site_id, occurred_at AS at, person_hash AS who FROM registrations
  WHERE person_hash = %(h)s AND occurred_at >= %(s)s AND occurred_at < %(e)s
    AND decision = 'allow'),
own_s AS MATERIALIZED (
  SELECT site_id, started_at, ended_at, person_hash AS who FROM stays
  WHERE person_hash = %(h)s AND started_at >= %(s)s - %(cap)s AND started_at < %(e)s
    AND ended_at >= %(s)s),
c1 AS MATERIALIZED (
  SELECT x.person_hash AS h, min(x.at) AS first FROM (""" + _PROBES.format(
    r="own_r", s="own_s") + """) x GROUP BY x.person_hash),
r2 AS MATERIALIZED (
  SELECT r.site_id, r.occurred_at AS at, c.h AS who FROM c1 c CROSS JOIN LATERAL (
    SELECT site_id, occurred_at FROM registrations WHERE person_hash = c.h
      AND occurred_at >= c.first AND occurred_at < %(e)s AND decision = 'allow'
    OFFSET 0) r),
s2 AS MATERIALIZED (
  SELECT x.site_id, x.started_at, x.ended_at, c.h AS who FROM c1 c CROSS JOIN LATERAL (
    SELECT site_id, started_at, ended_at FROM stays WHERE person_hash = c.h
      AND started_at >= c.first - %(cap)s AND started_at < %(e)s AND ended_at >= c.first
    OFFSET 0) x)
SELECT (SELECT count(*) FROM c1), count(DISTINCT y.person_hash) FILTER (
  WHERE y.person_hash <> %(h)s AND y.person_hash NOT IN (SELECT h FROM c1))
FROM (""" + _PROBES.format(r="r2", s="s2") + """) y
"""


def _local(day: date, minutes: float) -> datetime:
    return datetime.combine(day, dtime(0), LOCAL_TZ) + timedelta(minutes=minutes)


def load(url: str, rt: Runtime, args: argparse.Namespace) -> dict[str, Any]:
    """Generate the database inside PostgreSQL (benchmarks/tracing_load.py)."""
    return tracing_load.load(url, rt, args, first_day=FIRST_DAY, days=DAYS,
                             local_midnight=_local(FIRST_DAY, 0), area=AREA, streets=STREETS,
                             password=PASSWORD, import_sites=IMPORT_SITES)


# --- measuring ---------------------------------------------------------------------------


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of values, rounded to 0.01."""
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))], 2)


class Client:
    """One keep-alive HTTP/1.1 connection as the official."""

    def __init__(self, port: int, token: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def post(self, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        self.conn.request("POST", path, body=json.dumps(body), headers=self.headers)
        resp = self.conn.getresponse()
        return resp.status, json.loads(resp.read() or b"null")


def make_cases(rt: Runtime, n: int, seed: int) -> list[tuple[uuid.UUID, str, datetime,
                                                              datetime]]:
    """n cases of different people, each with registrations in its 14-day window."""
    rnd = random.Random(seed + 1)
    out = []
    with Session(rt.engine) as session:
        official = session.execute(text("SELECT id FROM users WHERE username = 'tracer'")
                                   ).scalar_one()
        tried: set[str] = set()
        starts = [FIRST_DAY + timedelta(days=1 + d) for d in range(DAYS - WINDOW_DAYS - 1)]
        while len(out) < n:
            start_day = rnd.choice(starts)
            start = _local(start_day, 0)
            end = start + timedelta(days=WINDOW_DAYS)
            # A random registration in the window picks the person (active people are
            # the ones cases come from); TABLESAMPLE would not be reproducible.
            row = session.execute(text(
                "SELECT r.person_hash, p.id FROM registrations r "
                "JOIN people p ON p.id_hash = r.person_hash "
                "WHERE r.occurred_at >= :t AND r.occurred_at < :e AND r.decision = 'allow' "
                "ORDER BY r.occurred_at LIMIT 1"),
                {"t": start + timedelta(seconds=rnd.randrange(WINDOW_DAYS * 86400 - 3600)),
                 "e": end}).first()
            if row is None or row[0] in tried:
                continue
            tried.add(row[0])
            case = Case(person_id=row[1], person_hash=row[0], classification="confirmed",
                        window_start=start, window_end=end, area_code=STREETS[0],
                        source="基准", created_by=official)
            session.add(case)
            session.flush()
            out.append((case.id, row[0], start, end))
        session.commit()
    return out


def drop_cases(rt: Runtime, case_ids: list[uuid.UUID]) -> None:
    """Remove the run's cases (their contacts and tasks go with them)."""
    with Session(rt.engine) as session:
        # case_contacts.via_contact_id has no index: a cascading delete would look for
        # each deleted contact's children with a scan. Delete in order, triggers off.
        session.execute(text("SET LOCAL session_replication_role = replica"))
        for table, column in (("tracing_tasks", "contact_id IN (SELECT id FROM case_contacts "
                                                "WHERE case_id = ANY(:ids))"),
                              ("case_contacts", "case_id = ANY(:ids)"),
                              ("case_events", "case_id = ANY(:ids)"),
                              ("cases", "id = ANY(:ids)")):
            session.execute(text(f"DELETE FROM {table} WHERE {column}"), {"ids": case_ids})
        session.commit()


def measure_contacts(port: int, token: str, cases: list[Any], depth: int
                     ) -> tuple[list[float], list[int]]:
    client = Client(port, token)
    lat, found = [], []
    for case_id, *_ in cases:
        t0 = time.perf_counter()
        status, body = client.post(f"/api/v1/cases/{case_id}/contacts/run", {"depth": depth})
        lat.append((time.perf_counter() - t0) * 1000)
        if status != 200:
            raise RuntimeError(f"contacts run answered {status}: {body}")
        found.append(len(body["items"]))
    return lat, found


def _ticks(pids: set[int] | None = None, pgid: int | None = None) -> float:
    """CPU seconds (user + system) of these processes, or of a process group's."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After the name: state ppid pgrp ... utime (12th) stime (13th).
        if (pids is not None and int(entry.name) in pids) or (
                pgid is not None and int(fields[2]) == pgid):
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def measure_contacts_cpu(port: int, token: str, cases: list[Any], depth: int, dsn: str,
                         server_pgid: int) -> tuple[list[float], list[int], float, float]:
    """measure_contacts, with the server's and its PostgreSQL backends' CPU ms per run."""
    with psycopg.connect(dsn) as conn:
        def backends() -> set[int]:
            return {r[0] for r in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()").fetchall()}
        before = backends()
        app0, pg0 = _ticks(pgid=server_pgid), _ticks(pids=before)
        lat, found = measure_contacts(port, token, cases, depth)
        after = backends()
        # Backends that ended meanwhile are not counted (the pool keeps its connections).
        app1, pg1 = _ticks(pgid=server_pgid), _ticks(pids=before & after)
        pg_new = _ticks(pids=after - before)
    n = max(len(cases), 1)
    return lat, found, round((app1 - app0) * 1000 / n, 1), round(
        (pg1 - pg0 + pg_new) * 1000 / n, 1)


def measure_sql(dsn: str, cases: list[Any], window_minutes: int, *,
                sql: str = "", column: int = 0) -> tuple[list[float], list[int]]:
    """A hand-written statement per case (CONTACTS_SQL unless `sql`): latencies (ms) and
    the people it counts (its `column`: SECONDARY_SQL's second)."""
    cap = max(stays.cap_for(k) for k in stays.STAY_KINDS)
    lat, counts = [], []
    with psycopg.connect(dsn) as conn:
        conn.execute("SET jit = off")  # as the API's search runs (tracing/colocation.prepared)
        for _case_id, h, start, end in cases:
            t0 = time.perf_counter()
            row = conn.execute(sql or CONTACTS_SQL, {
                "h": h, "s": start, "e": end, "cap": cap,
                "w": timedelta(minutes=window_minutes)}).fetchone()
            lat.append((time.perf_counter() - t0) * 1000)
            counts.append(row[column] if row else 0)
    return lat, counts


def _explained(conn: psycopg.Connection[Any], sql: str, names: list[str],
               types: list[str], rows: list[dict[str, Any]]) -> list[float]:
    """EXPLAIN (ANALYZE) execution times (ms) of `sql` as a prepared statement with a
    generic plan (as colocation.prepared runs it), once per parameter row."""
    text_ = sql.replace("%%", "%")
    for i, n in enumerate(names):
        text_ = text_.replace(f"%({n})s", f"${i + 1}")
    conn.execute("DEALLOCATE ALL")
    conn.execute(f"PREPARE bench_q ({', '.join(types)}) AS {text_}")
    out = []
    for params in rows:
        args = ", ".join(f"%s::{t}" for t in types)
        plan = conn.cursor().execute(f"EXPLAIN (ANALYZE, SUMMARY) EXECUTE bench_q ({args})",
                                     [params[n] for n in names]).fetchall()
        out += [float(r[0].split(":")[1].split()[0]) for r in plan
                if r[0].startswith("Execution Time")]
    return out


def explain_contacts(dsn: str, cases: list[Any], window_minutes: int) -> dict[str, float]:
    """The search statement's and the hand-written SQL's own execution times (EXPLAIN
    ANALYZE inside PostgreSQL: no network, no Python, no planning), p50 and p95."""
    cap = max(stays.cap_for(k) for k in stays.STAY_KINDS)
    w = timedelta(minutes=window_minutes)
    with psycopg.connect(dsn, cursor_factory=psycopg.ClientCursor) as conn:
        conn.execute("SET jit = off")
        conn.execute("SET plan_cache_mode = force_generic_plan")
        search = _explained(conn, colocation._FETCH_SQL, ["h", "st", "e", "w", "cap"],
                            ["text[]", "timestamptz[]", "timestamptz", "interval", "interval"],
                            [{"h": [h], "st": [s], "e": e, "w": w, "cap": cap}
                             for _c, h, s, e in cases])
        sql = _explained(conn, CONTACTS_SQL, ["h", "s", "e", "w", "cap"],
                         ["text", "timestamptz", "timestamptz", "interval", "interval"],
                         [{"h": h, "s": s, "e": e, "w": w, "cap": cap}
                          for _c, h, s, e in cases])
    return {"contacts_search_explain_p50_ms": pct(search, 50),
            "contacts_search_explain_p95_ms": pct(search, 95),
            "contacts_sql_explain_p50_ms": pct(sql, 50),
            "contacts_sql_explain_p95_ms": pct(sql, 95)}


def measure_verify(rt: Runtime, dsn: str, reports_that_day: int) -> dict[str, Any]:
    """tracing_verify's own helpers: the library entry point and the SQL baseline.

    First the day's findings are deleted, so the timed run is the day's first, which
    stores them all (what the job does for a day that has just ended), whatever an
    earlier run on a kept database left; then the same run again, which finds them
    unchanged and writes nothing (the hourly re-verification): `verify_rerun_*`."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DELETE FROM report_findings WHERE report_id IN "
                     "(SELECT id FROM daily_reports WHERE report_date = %s)", (DAY,))
        conn.execute("VACUUM ANALYZE report_findings")
    spent, findings, *_cpu = tracing_verify.time_verify(rt)
    again, *_ = tracing_verify.time_verify(rt)
    sql_spent, _row = tracing_verify.time_sql(rt)
    return {"verify_reports_per_s": round(reports_that_day / spent),
            "verify_rerun_reports_per_s": round(reports_that_day / again),
            "verify_sql_reports_per_s": round(reports_that_day / sql_spent),
            "verify_findings": findings, "verify_reports": reports_that_day}


def tidy(dsn: str) -> None:
    """VACUUM ANALYZE what a run deletes from (its cases, contacts, findings, imported
    rows): without it a kept database reused carries their dead rows and stale
    statistics into the next run (autovacuum may be off, as on the machines here): a
    second import of the same rows ran at 1,345 rows/s against 18,264, its stays' probes
    walking the first import's dead rows through an index chosen for an empty table."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        for table in ("registrations_default", "stays", "case_contacts", "tracing_tasks",
                      "case_events", "cases", "report_findings",
                      "registration_external_ids"):
            if conn.execute("SELECT to_regclass(%s)", (table,)).fetchone() != (None,):
                conn.execute(f"VACUUM ANALYZE {table}")


def measure_import(url: str, rt: Runtime, rows: int, seed: int) -> dict[str, Any]:
    """import_registrations (as tracing_import.py calls it) vs binary COPY of its rows."""
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    rnd = random.Random(seed + 2)
    tag = f"tb{int(time.time())}"
    codes = [f"TBI-{i:03d}" for i in range(IMPORT_SITES)]
    persons = [demo_id_number("520111", (date(1960, 1, 1) + timedelta(days=i // 900))
                              .strftime("%Y%m%d"), f"{100 + i % 900}")
               for i in range(max(100, rows // 10))]
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS registrations_copy")
        conn.execute("CREATE TABLE registrations_copy (LIKE registrations INCLUDING ALL)")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "import.csv"
            tracing_import.write_csv(path, rnd, rows=rows, tag=tag, sites=codes,
                                     persons=persons)
            with rt.sessions() as session, path.open("rb") as fh:
                t0 = time.perf_counter()
                done = imports.import_registrations(session=session, vault=rt.vault,
                                                    actor=None, stream=fh,
                                                    commit=session.commit)
                spent = time.perf_counter() - t0
            if done.imported != rows or done.refused:
                raise RuntimeError(f"import stored {done.imported}, refused {done.refused}")
            copy_s, copied, *_cpu = tracing_import.copy_baseline(dsn, tag, imports.CHUNK_ROWS)
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("DROP TABLE IF EXISTS registrations_copy")
            # The imported rows live at the import's own sites: remove them, so a kept
            # database stays as it was loaded.
            conn.execute("DELETE FROM stays WHERE site_id IN "
                         "(SELECT id FROM sites WHERE code LIKE 'TBI-%%')")
            conn.execute("DELETE FROM registrations WHERE site_id IN "
                         "(SELECT id FROM sites WHERE code LIKE 'TBI-%%')")
    rate, copy_rate = rows / spent, copied / copy_s
    return {"import_rows_per_s": round(rate), "copy_rows_per_s": round(copy_rate),
            "import_rows": rows, "ratio": round(rate / copy_rate, 3)}


def _loaded(name: str) -> bool:
    """Whether the database exists and a load into it finished (its meta row exists)."""
    engine = create_engine(PG_ADMIN_URL)
    try:
        with engine.connect() as conn:
            if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                {"n": name}).first():
                return False
    finally:
        engine.dispose()
    dsn = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(f"{dsn}/{name}") as conn:
        return conn.execute("SELECT to_regclass('bench_tracing_meta')").fetchone() != (None,)


def _loaded_sizes(dsn: str) -> dict[str, Any]:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT value FROM bench_tracing_meta WHERE key = 'load'"
                           ).fetchone()
        return dict(row[0]) if row else {}


def _uptime() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Load (or reuse) the database, measure, print the JSON summary."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--registrations", type=int, default=10_000_000)
    ap.add_argument("--reports", type=int, default=1_000_000)
    ap.add_argument("--sites", type=int, default=0,
                    help="default: one per 2,500 registrations (about 90 a day each)")
    ap.add_argument("--cases", type=int, default=50)
    ap.add_argument("--secondary-cases", type=int, default=20)
    ap.add_argument("--import-rows", type=int, default=0,
                    help="default: registrations / 100, at least 2,000")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--keep-db", metavar="NAME", default=None,
                    help="keep the loaded database under this name (reused when it exists)")
    ap.add_argument("--load-only", action="store_true",
                    help="with --keep-db: load the database and stop")
    ap.add_argument("--skip-verify-import", action="store_true",
                    help="measure contacts and secondary contacts only (their figures "
                         "then read 0)")
    args = ap.parse_args(argv)
    args.sites = args.sites or max(40, args.registrations // 2500)
    args.import_rows = args.import_rows or max(2_000, args.registrations // 100)
    name = args.keep_db or f"{DEFAULT_DB}_{os.getpid()}"
    reuse = args.keep_db is not None and _loaded(name)
    url = (PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}") if reuse else create_pg_database(name)
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    # The server's job runner must not verify or delete the generated days meanwhile.
    os.environ.update({"PASSTRACE_RETENTION_SECONDS": "0", "PASSTRACE_VERIFY_SECONDS": "0"})
    settings = Settings(**{k.removeprefix("PASSTRACE_").lower(): v
                           for k, v in settings_env(url).items()})
    rt = Runtime.build(settings)
    wire(rt)
    server = Server(url)
    case_ids: list[uuid.UUID] = []
    try:
        if reuse:
            loaded = _loaded_sizes(dsn)
            if loaded.get("params") != [args.persons, args.registrations, args.reports,
                                        args.sites, args.seed]:
                raise SystemExit(f"database {name} holds another size: {loaded.get('params')}")
        else:
            loaded = load(url, rt, args)
            loaded["params"] = [args.persons, args.registrations, args.reports, args.sites,
                                args.seed]
            with psycopg.connect(dsn) as conn:
                conn.execute("CREATE TABLE bench_tracing_meta (key text PRIMARY KEY, "
                             "value jsonb)")
                conn.execute("INSERT INTO bench_tracing_meta VALUES ('load', %s)",
                             (Json(loaded),))
        if args.load_only:
            print(json.dumps(loaded))
            return loaded
        with Session(rt.engine) as session:
            user = session.execute(text("SELECT id FROM users WHERE username = 'tracer'")
                                   ).scalar_one()
            from passtrace.accounts.models import User
            token, _ = account_service.start_session(session=session, rt=rt,
                                                     user=session.get_one(User, user),
                                                     kind="api", ip="127.0.0.1")
            session.commit()
        tidy(dsn)  # what a run killed before its own tidying left
        load_before = _uptime()
        cases = make_cases(rt, args.cases, args.seed)
        case_ids = [c[0] for c in cases]
        server.start(timeout=60)
        # Warm-up: one search on a case not measured (connections, caches, plans).
        warm = make_cases(rt, 1, args.seed + 100)
        case_ids += [c[0] for c in warm]
        measure_contacts(server.port, token, warm, 1)
        pgid = server.proc.pid if server.proc is not None else -1
        lat, found, app_cpu, pg_cpu = measure_contacts_cpu(server.port, token, cases, 1,
                                                           dsn, pgid)
        re_lat, _, re_app_cpu, re_pg_cpu = measure_contacts_cpu(server.port, token, cases, 1,
                                                                dsn, pgid)
        sql_lat, sql_found = measure_sql(dsn, cases, 30)
        explained = explain_contacts(dsn, cases, 30)
        sec_lat, sec_found, sec_app_cpu, sec_pg_cpu = measure_contacts_cpu(
            server.port, token, cases[:args.secondary_cases], 2, dsn, pgid)
        sec_sql_lat, sec_sql_found = measure_sql(
            dsn, cases[:args.secondary_cases], 30, sql=SECONDARY_SQL, column=1)
        load_contacts = _uptime()
        server.stop()
        with psycopg.connect(dsn) as conn:
            that_day = conn.execute("SELECT count(*) FROM daily_reports WHERE report_date = %s",
                                    (DAY,)).fetchone()[0]  # type: ignore[index]
        if args.skip_verify_import:
            verify = {"verify_reports_per_s": 0, "verify_sql_reports_per_s": 0,
                      "verify_findings": 0, "verify_reports": that_day}
            imported = {"import_rows_per_s": 0, "copy_rows_per_s": 0,
                        "import_rows": 0, "ratio": 0}
        else:
            verify = measure_verify(rt, dsn, that_day)
            imported = measure_import(url, rt, args.import_rows, args.seed)
        load_after = _uptime()
        results = {
            "contacts_p50_ms": pct(lat, 50), "contacts_p95_ms": pct(lat, 95),
            "contacts_sql_p50_ms": pct(sql_lat, 50), "contacts_sql_p95_ms": pct(sql_lat, 95),
            **explained,
            "contacts_per_case_median": statistics.median(found),
            "contacts_per_case_max": max(found),
            "contacts_sql_people_median": statistics.median(sql_found),
            "secondary_p50_ms": pct(sec_lat, 50), "secondary_p95_ms": pct(sec_lat, 95),
            "secondary_first_page_median": statistics.median(sec_found),
            "secondary_sql_p50_ms": pct(sec_sql_lat, 50),
            "secondary_sql_p95_ms": pct(sec_sql_lat, 95),
            "secondary_sql_people_median": statistics.median(sec_sql_found),
            "contacts_server_cpu_ms_per_run": app_cpu, "contacts_pg_cpu_ms_per_run": pg_cpu,
            "contacts_rerun_p50_ms": pct(re_lat, 50), "contacts_rerun_p95_ms": pct(re_lat, 95),
            "contacts_rerun_server_cpu_ms_per_run": re_app_cpu,
            "contacts_rerun_pg_cpu_ms_per_run": re_pg_cpu,
            "secondary_server_cpu_ms_per_run": sec_app_cpu,
            "secondary_pg_cpu_ms_per_run": sec_pg_cpu,
            "loadavg_after_contacts": load_contacts,
            "verify_reports_per_s": verify["verify_reports_per_s"],
            "verify_rerun_reports_per_s": verify.get("verify_rerun_reports_per_s", 0),
            "verify_sql_reports_per_s": verify["verify_sql_reports_per_s"],
            "verify_reports": verify["verify_reports"],
            "verify_findings": verify["verify_findings"],
            "import_rows_per_s": imported["import_rows_per_s"],
            "import_copy_rows_per_s": imported["copy_rows_per_s"],
        }
        summary: dict[str, Any] = {
            "benchmark": "tracing",
            "params": {"persons": args.persons, "registrations": args.registrations,
                       "reports": args.reports, "sites": args.sites, "cases": args.cases,
                       "secondary_cases": args.secondary_cases, "window_days": WINDOW_DAYS,
                       "window_minutes": 30, "import_rows": args.import_rows,
                       "seed": args.seed, "db": "postgresql", "reused_db": reuse,
                       "http": "uvicorn (python -m passtrace serve, 1 worker), http.client",
                       "sizes": loaded.get("sizes"), "load_s": loaded.get("load_s"),
                       "loadavg_before": load_before, "loadavg_after": load_after,
                       "cpus": os.cpu_count(), "python": platform.python_version(),
                       "psycopg": package_version("psycopg")},
            "results": results,
            "goals": {"contacts_p95_ms": 20, "secondary_p95_ms": 200,
                      "verify_reports_per_s": 5000, "import_rows_per_s": 50000},
            "ratios": {
                "contacts_http_vs_sql_p95": round(pct(lat, 95) / max(pct(sql_lat, 95), 0.01),
                                                  2),
                "verify_vs_sql": round(verify["verify_reports_per_s"]
                                       / max(verify["verify_sql_reports_per_s"], 1), 3),
                "import_vs_copy": imported["ratio"]},
        }
        summary["met"] = {k: (results[k] <= v if k.endswith("_ms") else results[k] >= v)
                          for k, v in summary["goals"].items()}
    finally:
        server.stop()
        if args.keep_db is not None and case_ids:
            drop_cases(rt, case_ids)
        if args.keep_db is not None:
            tidy(dsn)
        rt.engine.dispose()
        if args.keep_db is None:
            drop_pg_database(name)
    print(json.dumps(summary, ensure_ascii=False))
    return summary


if __name__ == "__main__":
    main()
