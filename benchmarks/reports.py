"""Benchmark daily reports: HTTP filing, dashboard latency at scale, streamed export.

Run: python benchmarks/reports.py [--db-url URL] [--employees 10000] [--days 100]
     [--filers 200] [--dashboard-runs 30]
Defaults: PostgreSQL (own database, dropped at the end), an enterprise of 10,000
employees with 1,000,000 reports (one stop each) bulk-loaded with COPY (executemany on
SQLite). Prints one JSON object as its last line.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import multiprocessing
import os
import socket
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import create_engine, insert, text, update

from passtrace.accounts import service as account_service
from passtrace.app import create_app
from passtrace.areas import service as area_service
from passtrace.core import migrate
from passtrace.core.clock import LOCAL_TZ, local_today
from passtrace.core.config import Settings
from passtrace.core.db import session_scope
from passtrace.core.export import csv_batched_chunks, xlsx_chunks
from passtrace.core.ids import uuid7
from passtrace.core.runtime import Runtime
from passtrace.enterprises.models import Department, Employee, Enterprise
from passtrace.people.models import Person
from passtrace.reports import counts
from passtrace.reports import export as export_service
from passtrace.wiring import wire

CODE = "91520102MA6J5GQX4T"
PASSWORD = "bench-password-1"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/passtrace_bench_reports"


def _setup_db(url: str) -> None:
    if url.startswith("postgresql"):
        base, name = url.rsplit("/", 1)
        admin = create_engine(base + "/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()


def _drop_db(url: str) -> None:
    if url.startswith("postgresql"):
        base, name = url.rsplit("/", 1)
        admin = create_engine(base + "/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _people_and_staff(rt: Runtime, employees: int, filers: int) -> tuple[Any, list[Any],
                                                                       list[str]]:
    """An enterprise, 20 departments, N employees (bulk), and `filers` logins bound to them."""
    tokens: list[str] = []
    for session in session_scope(rt.sessions):
        area_service.load_bundled(session=session)
        ent = Enterprise(credit_code=CODE, name="基准测试企业", area_code="520102006")
        session.add(ent)
        session.flush()
        depts = [Department(enterprise_id=ent.id, name=f"部门{i:02d}") for i in range(20)]
        session.add_all(depts)
        session.flush()
        people, staff = [], []
        for i in range(employees):
            pid = uuid7()
            people.append({"id": pid, "id_hash": f"{i:064d}", "id_enc": b"x",
                           "id_masked": "5201**********123X", "name_enc": b"x",
                           "name_masked": "张*", "status": "green"})
            staff.append({"id": uuid7(), "enterprise_id": ent.id,
                          "department_id": depts[i % 20].id, "person_id": pid,
                          "employee_no": f"E{i:06d}", "status": "active"})
        session.execute(insert(Person), people)
        session.execute(insert(Employee), staff)
        users = []
        for i in range(filers):
            user = account_service.create(session=session, rt=rt, actor=None,
                                          username=f"filer{i}", password=PASSWORD,
                                          display_name=f"filer{i}")
            account_service.grant(session=session, actor=None, user=user, role="public")
            session.execute(update(Employee).where(Employee.id == staff[i]["id"])
                            .values(user_id=user.id))
            users.append(user)
        admin = account_service.create(session=session, rt=rt, actor=None, username="hr_admin",
                                       password=PASSWORD, display_name="hr")
        account_service.grant(session=session, actor=None, user=admin,
                              role="enterprise_admin", scope_type="enterprise",
                              scope_value=CODE)
        ent_id = ent.id
        dept_ids = [d.id for d in depts]
        emp_rows = [(s["id"], s["department_id"]) for s in staff]
    return ent_id, [dept_ids, emp_rows], tokens


def _report_rows(ent_id: Any, emp_rows: list[Any], days: int, today: date):
    for back in range(days, 0, -1):
        day = today - timedelta(days=back)
        start = datetime.combine(day, dtime(8, 30), LOCAL_TZ)
        submitted = datetime.combine(day, dtime(9, 0), LOCAL_TZ)
        for n, (emp_id, dept_id) in enumerate(emp_rows):
            rid = uuid7()
            temp = 37.6 if n % 500 == 0 else 36.5
            yield ((rid, emp_id, ent_id, dept_id, day, temp, "[]", False, "form", submitted,
                    False, temp >= 37.3),
                   (rid, 1, "520103003", "公司", start, start + timedelta(hours=9)))


def _bulk_load(rt: Runtime, ent_id: Any, emp_rows: list[Any], days: int) -> tuple[int, float]:
    """Load days x employees reports (one stop each); COPY on PostgreSQL."""
    today = local_today()
    t0 = time.perf_counter()
    n = 0
    rcols = ("id, employee_id, enterprise_id, department_id, report_date, temperature, "
             "symptoms, stayed_home, source, submitted_at, late, flagged")
    scols = "report_id, seq, area_code, place, arrive_at, depart_at"
    if rt.settings.is_sqlite:
        with rt.engine.begin() as conn:
            batch_r: list[Any] = []
            batch_s: list[Any] = []
            for r, s in _report_rows(ent_id, emp_rows, days, today):
                batch_r.append((r[0].hex, r[1].hex, r[2].hex, r[3].hex, r[4].isoformat(),
                                *r[5:9], r[9].astimezone().isoformat(" "), *r[10:]))
                batch_s.append((s[0].hex, *s[1:4], s[4].isoformat(" "), s[5].isoformat(" ")))
                n += 1
                if len(batch_r) >= 20000:
                    _flush_sqlite(conn, rcols, scols, batch_r, batch_s)
            _flush_sqlite(conn, rcols, scols, batch_r, batch_s)
    else:
        raw = rt.engine.raw_connection()
        try:
            cur = raw.cursor()
            stops = io.StringIO()
            with cur.copy(f"COPY daily_reports ({rcols}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                for r, s in _report_rows(ent_id, emp_rows, days, today):
                    copy.write_row(r)
                    stops.write("\t".join((str(s[0]), "1", s[2], s[3], s[4].isoformat(),
                                           s[5].isoformat())) + "\n")
                    n += 1
            stops.seek(0)
            with cur.copy(f"COPY report_stops ({scols}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                while chunk := stops.read(1 << 20):
                    copy.write(chunk)
            raw.commit()
        finally:
            raw.close()
    # Bulk-loaded past filing: the dashboard's per-day counts are recounted once.
    for session in session_scope(rt.sessions):
        counts.rebuild(session=session, enterprise_id=ent_id)
    if not rt.settings.is_sqlite:
        with rt.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE daily_reports"))
            conn.execute(text("VACUUM ANALYZE report_stops"))
            conn.execute(text("VACUUM ANALYZE employees"))
            conn.execute(text("VACUUM ANALYZE report_day_counts"))
    return n, time.perf_counter() - t0


def _flush_sqlite(conn: Any, rcols: str, scols: str, rows: list[Any], stops: list[Any]) -> None:
    if not rows:
        return
    dbapi = conn.connection.driver_connection
    dbapi.executemany(f"INSERT INTO daily_reports ({rcols}) VALUES "
                      f"({','.join('?' * 12)})", rows)
    dbapi.executemany(f"INSERT INTO report_stops ({scols}) VALUES ({','.join('?' * 6)})", stops)
    rows.clear()
    stops.clear()


def _run_server(settings: Settings, sock: socket.socket) -> None:
    rt = Runtime.build(settings)  # its own engine and pool: nothing shared with the parent
    uvicorn.Server(uvicorn.Config(create_app(runtime=rt), log_level="warning",
                                  access_log=False, lifespan="off")).run(sockets=[sock])


def _serve(rt: Runtime) -> tuple[str, Any]:
    """Start uvicorn (one worker) in a child process, as it runs in production.

    In a thread of this process it would share one interpreter lock with the
    benchmark's own HTTP clients and measure both.
    """
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    host, port = sock.getsockname()
    rt.engine.dispose()  # no pooled connections inherited across fork
    proc = multiprocessing.get_context("fork").Process(
        target=_run_server, args=(rt.settings, sock), daemon=True)
    proc.start()
    url = f"http://{host}:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"{url}/api/v1/reports/mine", timeout=5)  # a 401; builds the router
            break
        except httpx.TransportError:
            if time.monotonic() > deadline or not proc.is_alive():
                raise RuntimeError("the server did not start") from None
            time.sleep(0.1)
    return url, proc


def _stop(proc: Any) -> None:
    proc.terminate()
    proc.join(timeout=10)


def _token(url: str, username: str) -> str:
    r = httpx.post(f"{url}/api/v1/auth/token", json={"username": username,
                                                      "password": PASSWORD}, timeout=30)
    r.raise_for_status()
    return str(r.json()["access_token"])


def _filing_body(today: date) -> dict[str, Any]:
    def at(hh: int, mm: int) -> str:
        return datetime.combine(today, dtime(hh, mm), LOCAL_TZ).isoformat()
    return {"temperature": 36.5, "stops": [
        {"area_code": "520102006001", "place": "家", "arrive_at": at(0, 0),
         "depart_at": at(7, 50)},
        {"area_code": "520103003", "place": "公司", "arrive_at": at(8, 40),
         "depart_at": at(17, 30), "mode": "train", "ref": "G1234", "seat": "05车12F"}]}


def bench_filing(url: str, tokens: list[str], workers: int) -> float:
    """Each worker is one kept-alive client filing for its share of the employees.

    (A new httpx.Client per request builds an SSL context from the CA bundle each
    time, ~10 ms of CPU in this very process, which the server then waits for.)
    """
    body = _filing_body(local_today())
    shares = [tokens[i::workers] for i in range(workers)]

    def share(mine: list[str]) -> None:
        with httpx.Client(base_url=url, timeout=60) as c:
            for token in mine:
                for _ in range(20):  # SQLite answers 503 "busy, retry" to concurrent writers
                    r = c.post("/api/v1/reports", json=body,
                               headers={"Authorization": f"Bearer {token}"})
                    if r.status_code != 503:
                        break
                    time.sleep(0.05)
                assert r.status_code == 201, r.text

    t0 = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(share, shares))
    return len(tokens) / (time.perf_counter() - t0)


def bench_raw_insert(rt: Runtime, ent_id: Any, emp_rows: list[Any], n: int) -> float:
    """Baseline: the same report + 2 stops inserted straight into the database."""
    from passtrace.reports.models import DailyReport, ReportStop

    day = local_today() - timedelta(days=365)  # a day no one used
    t0 = time.perf_counter()
    for emp_id, dept_id in emp_rows[-n:]:
        with rt.engine.begin() as conn:  # one transaction per report, like the API
            rid = uuid7()
            at = datetime.combine(day, dtime(8, 40), LOCAL_TZ)
            conn.execute(insert(DailyReport), [{
                "id": rid, "employee_id": emp_id, "enterprise_id": ent_id,
                "department_id": dept_id, "report_date": day, "temperature": 36.5,
                "symptoms": [], "stayed_home": False, "source": "form", "submitted_at": at,
                "late": False, "flagged": False}])
            conn.execute(insert(ReportStop), [
                {"report_id": rid, "seq": 1, "area_code": "520102006001", "place": "家",
                 "arrive_at": at - timedelta(hours=8), "depart_at": at - timedelta(hours=1)},
                {"report_id": rid, "seq": 2, "area_code": "520103003", "place": "公司",
                 "arrive_at": at, "depart_at": at + timedelta(hours=9), "mode": "train",
                 "ref": "G1234", "seat": "05-12F"}])
    return n / (time.perf_counter() - t0)


def bench_dashboard(url: str, token: str, runs: int) -> list[float]:
    times = []
    with httpx.Client(base_url=url, timeout=60,
                      headers={"Authorization": f"Bearer {token}"}) as c:
        for _ in range(runs):
            t0 = time.perf_counter()
            r = c.get("/api/v1/reports/dashboard", params={"enterprise": CODE})
            times.append((time.perf_counter() - t0) * 1000)
            assert r.status_code == 200, r.text
    return times


def bench_dashboard_raw(rt: Runtime, ent_id: Any, runs: int) -> list[float]:
    """Baseline: just the core per-department count for today, in SQL."""
    times = []
    with rt.engine.connect() as conn:
        for _ in range(runs):
            t0 = time.perf_counter()
            conn.execute(text("SELECT department_id, count(*) FROM daily_reports WHERE "
                              "enterprise_id = :e AND report_date = :d GROUP BY 1"),
                         {"e": ent_id if not rt.settings.is_sqlite else ent_id.hex,
                          "d": local_today() - timedelta(days=1)}).all()
            times.append((time.perf_counter() - t0) * 1000)
    return times


def bench_export(rt: Runtime, ent_id: Any, days: int) -> tuple[int, float, float]:
    """Our export (joins, masking, neutraliser, CSV) vs a raw cursor into csv.writer."""
    today = local_today()
    start, end = today - timedelta(days=days), today
    t0 = time.perf_counter()
    n = 0
    with rt.sessions() as session:
        ent = session.get(Enterprise, ent_id)
        assert ent is not None
        batches = export_service.batches(session=session, enterprise=ent, start=start, end=end)
        with tempfile.TemporaryFile() as fh:
            for chunk in csv_batched_chunks(export_service.header(), batches):
                fh.write(chunk)
                n += chunk.count(b"\n")
    ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    m = 0
    with rt.engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=5000).execute(text(
            "SELECT r.report_date, r.temperature, r.submitted_at, s.seq, s.area_code, "
            "s.place, s.arrive_at, s.depart_at FROM daily_reports r LEFT JOIN report_stops s "
            "ON s.report_id = r.id WHERE r.enterprise_id = :e AND r.report_date BETWEEN :a "
            "AND :b"), {"e": ent_id if not rt.settings.is_sqlite else ent_id.hex, "a": start,
                        "b": end})
        with tempfile.TemporaryFile("w") as fh:
            writer = csv.writer(fh)
            for row in result:
                writer.writerow(row)
                m += 1
    raw = time.perf_counter() - t0
    return n - 1, (n - 1) / ours, m / raw


def bench_export_xlsx(rt: Runtime, ent_id: Any) -> tuple[int, float]:
    """The .xlsx path (openpyxl, every cell neutralised) over the last loaded day."""
    day = local_today() - timedelta(days=1)
    t0 = time.perf_counter()
    n = 0
    with rt.sessions() as session:
        ent = session.get(Enterprise, ent_id)
        assert ent is not None

        def counted() -> Any:
            nonlocal n
            for batch in export_service.batches(session=session, enterprise=ent, start=day,
                                                end=day):
                n += len(batch)
                yield from batch

        with tempfile.TemporaryFile() as fh:
            for chunk in xlsx_chunks(export_service.header(), counted()):
                fh.write(chunk)
    return n, n / (time.perf_counter() - t0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db-url", default=os.environ.get("PASSTRACE_BENCH_DB", DEFAULT_PG))
    ap.add_argument("--employees", type=int, default=10_000)
    ap.add_argument("--days", type=int, default=100)
    ap.add_argument("--filers", type=int, default=200)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--dashboard-runs", type=int, default=30)
    ap.add_argument("--keep", action="store_true", help="keep the database")
    args = ap.parse_args(argv)
    url = args.db_url
    tmp = None
    if url == "sqlite":
        tmp = tempfile.mkdtemp(prefix="passtrace-bench-")
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
    _setup_db(url)
    settings = Settings(env="test", database_url=url, secret_key="bench-" + "x" * 40,
                        argon2_time_cost=1, argon2_memory_kib=64, login_max_failures=100)
    rt = Runtime.build(settings)
    wire(rt)
    try:
        migrate.upgrade(rt.engine)
        ent_id, (dept_ids, emp_rows), _ = _people_and_staff(rt, args.employees, args.filers)
        loaded, load_s = _bulk_load(rt, ent_id, emp_rows, args.days)
        base, server = _serve(rt)
        try:
            tokens = [_token(base, f"filer{i}") for i in range(args.filers)]
            admin = _token(base, "hr_admin")
            # FastAPI builds a router's routes on its first request: not part of filing.
            httpx.get(f"{base}/api/v1/reports/mine", timeout=60,
                      headers={"Authorization": f"Bearer {admin}"}).raise_for_status()
            filing = bench_filing(base, tokens, args.workers)
            raw_insert = bench_raw_insert(rt, ent_id, emp_rows, min(args.filers, 200))
            bench_dashboard(base, admin, 3)  # warm up
            dash = bench_dashboard(base, admin, args.dashboard_runs)
            dash_raw = bench_dashboard_raw(rt, ent_id, args.dashboard_runs)
        finally:
            _stop(server)
        rows, export_rps, raw_rps = bench_export(rt, ent_id, args.days)
        xlsx_rows, xlsx_rps = bench_export_xlsx(rt, ent_id)
    finally:
        rt.engine.dispose()
        if not args.keep:
            _drop_db(url)
    p95 = statistics.quantiles(dash, n=20)[18] if len(dash) >= 2 else dash[0]
    raw_p95 = statistics.quantiles(dash_raw, n=20)[18] if len(dash_raw) >= 2 else dash_raw[0]
    out = {
        "benchmark": "reports",
        "params": {"db": "sqlite" if url.startswith("sqlite") else "postgresql",
                   "employees": args.employees, "days": args.days,
                   "reports_in_db": loaded + args.filers, "filers": args.filers,
                   "workers": args.workers, "dashboard_runs": args.dashboard_runs,
                   "python": sys.version.split()[0]},
        "results": {
            "bulk_load_reports_per_s": round(loaded / load_s),
            "filing_reports_per_s": round(filing, 1),
            "raw_insert_reports_per_s": round(raw_insert, 1),
            "dashboard_p50_ms": round(statistics.median(dash), 1),
            "dashboard_p95_ms": round(p95, 1),
            "raw_count_query_p95_ms": round(raw_p95, 2),
            "export_rows": rows,
            "export_rows_per_s": round(export_rps),
            "raw_csv_rows_per_s": round(raw_rps),
            "export_xlsx_rows": xlsx_rows,
            "export_xlsx_rows_per_s": round(xlsx_rps),
            "goals_met": {"dashboard_p95_le_300ms": p95 <= 300,
                          "export_ge_50000_rows_per_s": export_rps >= 50_000},
        },
        "ratios": {
            "filing_vs_raw_insert": round(filing / raw_insert, 3),
            "dashboard_p95_vs_raw_count_p95": round(p95 / raw_p95, 1) if raw_p95 else None,
            "export_vs_raw_csv": round(export_rps / raw_rps, 3),
        },
    }
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
