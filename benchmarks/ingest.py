"""Benchmark checkpoint ingest over real HTTP: batch upload vs raw COPY, and single checks.

Run: python benchmarks/ingest.py [--batch-size 5000] [--rounds 5] [--batches-per-round 4]
     [--workers 2] [--connections 32] [--single-runs 5] [--single-seconds 6]

Creates a fresh PostgreSQL database (dropped at the end), migrates and seeds it
(a site, its staff with an API token, residents with approved passes) and
starts `python -m passtrace serve` on 127.0.0.1. Then:

* batch: POST /api/v1/registrations/batch with pre-encoded bodies of
  --batch-size rows (fresh UUIDv7 ids), --batch-concurrency uploads at a time;
  wall time measured by the client. Baseline in the same round: psycopg binary
  COPY of exactly the rows the server stored (read back before timing), same
  columns, same batch sizes and one commit per batch, into a fresh copy of the
  registrations table with the same indexes. Rounds alternate the two and the
  ratio is the median of per-round ratios (the machine is noisy).
* single: POST /api/v1/registrations from --connections keep-alive connections
  for --single-seconds, --single-runs times (after a warm-up; the median run is
  reported, each run's figures beside it), each a fresh UUIDv7 with a valid pass
  QR text (or, for --id-share of them, a typed ID number). The load generator is
  a minimal asyncio HTTP/1.1 client, so it costs the shared CPU as little as
  possible; every answer must be a 200 with a decision.

Prints one JSON object as its last line (see DESIGN.md, "Benchmarks").
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import http.client
import json
import os
import platform
import random
import statistics
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import orjson
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from checkpoint_env import (  # noqa: E402
    CpuMeter,
    Seeded,
    Server,
    create_pg_database,
    drop_pg_database,
    package_version,
    seed,
)

from passtrace.core.ids import uuid7  # noqa: E402
from passtrace.registrations.ingest import COLUMNS  # noqa: E402


def make_batch(seeded: Seeded, rnd: random.Random, size: int, device: str) -> bytes:
    """One device batch, JSON-encoded: 80 % scanned passes, 20 % typed ID numbers.

    A scanned row carries the pass text as a device uploads it (the server verifies
    its signature again) beside the pass id the device read from it.
    """
    now = datetime.now(UTC).isoformat()
    rows = []
    for _ in range(size):
        row: dict[str, object] = {"id": str(uuid7()), "lane": rnd.choice(("1", "2")),
                                  "occurred_at": now, "direction": rnd.choice(("in", "out")),
                                  "temperature": round(rnd.uniform(36.0, 37.2), 1),
                                  "decision": "allow", "reasons": []}
        if rnd.random() < 0.8:
            i = rnd.randrange(len(seeded.pass_ids))
            row |= {"method": "qr", "pass_id": seeded.pass_ids[i],
                    "token": seeded.pass_tokens[i]}
        else:
            row |= {"method": "id_typed", "id_number": rnd.choice(seeded.id_numbers)}
        rows.append(row)
    return orjson.dumps({"site": seeded.site, "device_key": device, "sent_at": now,
                         "pending": 0, "registrations": rows})


def post_batches(server: Server, token: str, bodies: list[bytes], concurrency: int,
                 keep_alive: bool = True) -> float:
    """Upload the bodies (`concurrency` at a time); return the wall time in seconds.

    Each uploader is a plain HTTP/1.1 connection (http.client): real HTTP, every answer
    read and checked, at a fraction of httpx's CPU per request (the client shares the
    two cores with the server it measures). A batch is sent on a connection of its own,
    as a phone back online sends its queue, unless `keep_alive`: then each uploader
    keeps one connection for all its batches, and the worker process that accepted it
    serves them all. uvicorn's workers share one listening socket and the kernel decides
    which accepts: a round's two connections often land on the same worker, which then
    serves the round alone (the per-process CPU printed for each round shows it). A
    connection per batch did not spread them much better here (docs/checkpoint.md).
    """
    queue = list(enumerate(bodies))
    lock = threading.Lock()
    errors: list[str] = []
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120.0)
        try:
            while True:
                with lock:
                    if not queue or errors:
                        return
                    _, body = queue.pop(0)
                if not keep_alive:
                    conn.close()  # http.client reconnects on the next request
                conn.request("POST", "/api/v1/registrations/batch", body=body, headers=headers)
                resp = conn.getresponse()
                payload = resp.read()
                out = orjson.loads(payload) if resp.status == 200 else {}
                if (resp.status != 200 or out.get("rejected") or out.get("duplicates")
                        or out.get("stored") != len(out.get("results", ()))):
                    with lock:
                        errors.append(f"{resp.status} {payload[:300]!r}")
        finally:
            conn.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise RuntimeError(f"batch upload failed: {errors[0]}")
    return elapsed


class CopyBaseline:
    """psycopg binary COPY of the stored rows into a same-shaped, same-indexed table."""

    def __init__(self, dsn: str) -> None:
        self.conn = psycopg.connect(dsn)
        with self.conn.cursor() as cur:
            cur.execute("CREATE TABLE registrations_copy (LIKE registrations INCLUDING ALL)")
            cur.execute(
                "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
                "WHERE a.attrelid = 'registrations'::regclass AND a.attnum > 0 "
                "AND NOT a.attisdropped")
            types = dict(cur.fetchall())
        self.conn.commit()
        self.types = [types[c].split("(")[0] for c in COLUMNS]

    def fetch(self, ids: list[uuid.UUID]) -> list[tuple[object, ...]]:
        """Read back exactly what the server stored for these ids (the same values)."""
        with self.conn.cursor() as cur:
            cur.execute(f"SELECT {', '.join(COLUMNS)} FROM registrations WHERE id = ANY(%s)",
                        (ids,))
            rows = cur.fetchall()
        self.conn.commit()
        return rows

    def copy(self, batches: list[list[tuple[object, ...]]]) -> float:
        """COPY each batch in its own transaction; return the wall time in seconds."""
        cols = ", ".join(COLUMNS)
        start = time.perf_counter()
        for rows in batches:
            with self.conn.cursor() as cur, cur.copy(
                    f"COPY registrations_copy ({cols}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(self.types)
                for row in rows:
                    copy.write_row(row)
            self.conn.commit()
        return time.perf_counter() - start

    def close(self) -> None:
        self.conn.close()


def warm_up(server: Server, seeded: Seeded, rnd: random.Random,
            args: argparse.Namespace) -> None:
    """Upload until every worker has served batches: each fills its caches, compiles its
    statements and lets psycopg prepare them once, as a server does after its start.

    Four small batches used to do it, but their connections could all land on one
    worker: the other then paid all of that in the first timed round (measured: a cold
    worker's first 5,000-row batch took about 30 % more server CPU than its next).
    """
    assert server.proc is not None
    start = process_cpu(server)
    for attempt in range(20):
        post_batches(server, seeded.token, [make_batch(seeded, rnd, 1000, f"warm-{attempt}-{i}")
                                            for i in range(4)], args.batch_concurrency,
                     keep_alive=False)
        now = process_cpu(server)
        # A 1,000-row batch costs a worker 20-30 ms: 0.1 s is a few batches each.
        served = [pid for pid, cpu in now.items()
                  if pid != server.proc.pid and cpu - start.get(pid, 0.0) >= 0.1]
        if len(served) >= args.workers:
            return
    print("warm-up: not every worker was reached", file=sys.stderr)


def process_cpu(server: Server) -> dict[int, float]:
    """CPU seconds of each process of the server (parent, job runner and workers)."""
    assert server.proc is not None
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[2]) == server.proc.pid:
            out[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    return out


def batch_ids(body: bytes) -> list[uuid.UUID]:
    return [uuid.UUID(r["id"]) for r in orjson.loads(body)["registrations"]]


# --- single registrations: a minimal keep-alive HTTP/1.1 load generator -------------------


async def _one_connection(port: int, head: bytes, make_body, until: float,  # type: ignore[no-untyped-def]
                          latencies: list[float], failures: list[str]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < until and len(failures) < 20:
            body = make_body()
            start = time.perf_counter()
            writer.write(head + str(len(body)).encode() + b"\r\n\r\n" + body)
            status_line = await reader.readline()
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            payload = await reader.readexactly(length)
            latencies.append(time.perf_counter() - start)
            if b" 200 " not in status_line or b'"decision"' not in payload:
                failures.append(f"{status_line!r} {payload[:200]!r}")
    finally:
        writer.close()


async def _load(port: int, token: str, make_body, connections: int,  # type: ignore[no-untyped-def]
                seconds: float) -> tuple[list[float], list[str], float]:
    head = (f"POST /api/v1/registrations HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            "Content-Length: ").encode()
    latencies: list[float] = []
    failures: list[str] = []
    start = time.perf_counter()
    until = start + seconds
    await asyncio.gather(*(_one_connection(port, head, make_body, until, latencies, failures)
                           for _ in range(connections)))
    return latencies, failures, time.perf_counter() - start


def single_load(server: Server, seeded: Seeded, *, connections: int, seconds: float,
                id_share: float, rnd: random.Random) -> dict[str, float]:
    """Drive the single-registration endpoint; return rate and latency percentiles."""
    prefix = orjson.dumps({"site": seeded.site, "lane": "1", "device_key": "bench",
                           "method": "qr", "temperature": 36.6})[:-1]

    def make_body() -> bytes:
        now = datetime.now(UTC).isoformat()
        if rnd.random() < id_share:
            who = {"method": "id_typed", "id_number": rnd.choice(seeded.id_numbers)}
        else:
            who = {"token": rnd.choice(seeded.pass_tokens)}
        tail = orjson.dumps({"id": str(uuid7()), "occurred_at": now, "sent_at": now,
                             "direction": rnd.choice(("in", "out"))} | who)
        return prefix + b"," + tail[1:]

    try:
        import uvloop  # type: ignore[import-not-found]

        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    latencies, failures, elapsed = runner(_load(server.port, seeded.token, make_body,
                                                connections, seconds))
    if failures:
        raise RuntimeError(f"single registrations failed: {failures[:3]}")
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return {"single_req_per_s": round(len(latencies) / elapsed, 1),
            "single_p50_ms": round(pct(0.50), 2), "single_p99_ms": round(pct(0.99), 2),
            "single_max_ms": round(latencies[-1] * 1000, 2), "single_requests": len(latencies)}


async def _count_statuses(port: int, head: bytes, make_body, until: float,  # type: ignore[no-untyped-def]
                          statuses: dict[int, int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < until:
            body = make_body()
            writer.write(head + str(len(body)).encode() + b"\r\n\r\n" + body)
            status = int((await reader.readline()).split(b" ", 2)[1])
            length, closing = 0, False
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
                closing |= name.strip().lower() == b"connection" and b"close" in value.lower()
            await reader.readexactly(length)
            statuses[status] = statuses.get(status, 0) + 1
            if closing:
                break
    finally:
        writer.close()


def sqlite_busy(*, connections: int, seconds: float, id_share: float, residents: int,
                rnd: random.Random) -> dict[str, object]:
    """16 guards at once against the embedded default: the share answered 503 "busy"."""
    import tempfile

    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='passtrace-bench-sqlite-')) / 'bench.db'}"
    print(f"seeding {url} ...", file=sys.stderr)
    seeded = seed(url, residents=residents)
    server = Server(url, workers=1)
    try:
        server.start(timeout=120)
        head = (f"POST /api/v1/registrations HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
                f"Authorization: Bearer {seeded.token}\r\nContent-Type: application/json\r\n"
                "Content-Length: ").encode()
        prefix = orjson.dumps({"site": seeded.site, "lane": "1", "device_key": "bench",
                               "method": "qr", "temperature": 36.6})[:-1]

        def make_body() -> bytes:
            now = datetime.now(UTC).isoformat()
            who = ({"method": "id_typed", "id_number": rnd.choice(seeded.id_numbers)}
                   if rnd.random() < id_share else {"token": rnd.choice(seeded.pass_tokens)})
            return prefix + b"," + orjson.dumps({"id": str(uuid7()), "occurred_at": now,
                                                 "direction": rnd.choice(("in", "out"))}
                                                | who)[1:]

        async def load() -> tuple[dict[int, int], float]:
            statuses: dict[int, int] = {}
            start = time.perf_counter()
            await asyncio.gather(*(_count_statuses(server.port, head, make_body,
                                                   start + seconds, statuses)
                                   for _ in range(connections)))
            return statuses, time.perf_counter() - start

        statuses, elapsed = asyncio.run(load())
    finally:
        server.stop()
    total = sum(statuses.values())
    busy = statuses.get(503, 0)
    others = {str(k): v for k, v in statuses.items() if k not in (200, 503)}
    print(f"sqlite: {statuses} in {elapsed:.1f} s", file=sys.stderr)
    return {"sqlite_busy_share": round(busy / total, 4) if total else None,
            "sqlite_stored_per_s": round(statuses.get(200, 0) / elapsed, 1),
            "sqlite_requests": total, "sqlite_other_statuses": others}


def main(argv: list[str] | None = None) -> dict[str, object]:
    """Run the benchmark and print the JSON summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=5000, help="rows per batch request")
    parser.add_argument("--rounds", type=int, default=5, help="alternating HTTP/COPY rounds")
    parser.add_argument("--batches-per-round", type=int, default=4)
    parser.add_argument("--batch-concurrency", type=int, default=2,
                        help="batch uploads in flight at once")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--connections", type=int, default=32, help="single: connections")
    parser.add_argument("--single-seconds", type=float, default=6.0, help="seconds per run")
    parser.add_argument("--single-runs", type=int, default=5,
                        help="single: runs (results are their medians)")
    parser.add_argument("--warmup-seconds", type=float, default=2.0)
    parser.add_argument("--id-share", type=float, default=0.2,
                        help="share of single requests by typed ID number (rest: QR)")
    parser.add_argument("--residents", type=int, default=50, help="people with passes")
    parser.add_argument("--skip-single", action="store_true")
    parser.add_argument("--skip-batch", action="store_true")
    parser.add_argument("--sqlite-connections", type=int, default=16,
                        help="SQLite: single checks at once (results.sqlite_busy_share)")
    parser.add_argument("--sqlite-seconds", type=float, default=15.0)
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--sqlite-only", action="store_true",
                        help="only the SQLite busy share (no PostgreSQL)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--site-kind", default="road_checkpoint",
                        help="kind of the seeded site (venue: every in/out keeps stays)")
    parser.add_argument("--keep-log", type=Path, default=None, help="server log file")
    parser.add_argument("--connection-per-batch", action="store_true",
                        help="batch: each batch on a connection of its own (default: one "
                             "keep-alive connection per uploader; see post_batches)")
    args = parser.parse_args(argv)
    rnd = random.Random(args.seed)
    results: dict[str, object] = {}
    ratios: dict[str, object] = {}
    if not args.skip_sqlite:
        results |= sqlite_busy(connections=args.sqlite_connections, seconds=args.sqlite_seconds,
                               id_share=args.id_share, residents=args.residents, rnd=rnd)
    if not args.sqlite_only:
        db_name = f"passtrace_bench_{uuid.uuid4().hex[:8]}"
        url = create_pg_database(db_name)
        dsn = url.replace("postgresql+psycopg://", "postgresql://")
        server = Server(url, workers=args.workers, log=args.keep_log)
        try:
            print(f"seeding {db_name} ...", file=sys.stderr)
            seeded = seed(url, residents=args.residents)
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute("UPDATE sites SET kind = %s", (args.site_kind,))
            server.start(timeout=180)  # a loaded machine starts two workers slowly
            meter = CpuMeter(server, db_name)
            warm_up(server, seeded, rnd, args)
            if not args.skip_batch:
                baseline = CopyBaseline(dsn)
                http_rates, copy_rates, per_round = [], [], []
                round_cpu: list[list[float]] = []  # (server, postgres, client) per round
                cpu_used = [0.0, 0.0, 0.0]
                copy_pg = 0.0  # the baseline's PostgreSQL CPU, to compare with the server's
                try:
                    for n in range(args.rounds):
                        bodies = [make_batch(seeded, rnd, args.batch_size, f"dev-{n}-{i}")
                                  for i in range(args.batches_per_round)]
                        rows = args.batch_size * len(bodies)
                        # The client's own full collections (its heap grows by the rows it
                        # reads back each round) ran inside a timed upload: a 2-core
                        # machine then lent them a server core. Collected before, not during.
                        gc.collect()
                        gc.disable()
                        before, started = meter.sample(), time.time()
                        workers_before = process_cpu(server)
                        http_s = post_batches(server, seeded.token, bodies, args.batch_concurrency,
                                              keep_alive=not args.connection_per_batch)
                        workers = process_cpu(server)
                        after = meter.sample()
                        gc.enable()
                        split = sorted((round(workers[p] - workers_before.get(p, 0.0), 2)
                                        for p in workers), reverse=True)
                        cpu_used = [u + a - b for u, b, a in zip(cpu_used, before, after,
                                                                  strict=True)]
                        # Per round, to tell a slow round's cause (more CPU per row, or
                        # the same CPU spread over a longer wall time: something else ran).
                        round_cpu.append([round((a - b) * 1e6 / rows, 2)
                                          for b, a in zip(before, after, strict=True)])
                        stored = [baseline.fetch(batch_ids(b)) for b in bodies]
                        assert sum(map(len, stored)) == rows, "the server did not store every row"
                        copy_before = meter.sample()
                        copy_s = baseline.copy(stored)
                        copy_pg += meter.sample()[1] - copy_before[1]
                        http_rates.append(rows / http_s)
                        copy_rates.append(rows / copy_s)
                        per_round.append(copy_s / http_s)
                        print(f"round {n + 1}/{args.rounds}: http {http_rates[-1]:,.0f} rows/s, "
                              f"copy {copy_rates[-1]:,.0f} rows/s; CPU ms per 1k rows "
                              f"server {round_cpu[-1][0]}, postgres {round_cpu[-1][1]}, "
                              f"client {round_cpu[-1][2]}; http from {started:.2f} for "
                              f"{http_s:.2f} s; CPU s by server process {split}",
                              file=sys.stderr)
                finally:
                    baseline.close()
                results |= {"batch_regs_per_s": round(statistics.median(http_rates), 1),
                            "copy_regs_per_s": round(statistics.median(copy_rates), 1),
                            "batch_regs_per_s_rounds": [round(r) for r in http_rates],
                            "batch_server_cpu_ms_per_1k_rows_rounds": [c[0] for c in round_cpu],
                            "batch_postgres_cpu_ms_per_1k_rows_rounds": [c[1] for c in round_cpu]}
                results |= CpuMeter.per_unit((0.0, 0.0, 0.0), tuple(cpu_used),  # type: ignore[arg-type]
                                             args.rounds * args.batches_per_round
                                             * args.batch_size // 1000, "batch", "1k_rows")
                results["copy_postgres_cpu_ms_per_1k_rows"] = round(
                    copy_pg * 1000 / (args.rounds * args.batches_per_round
                                      * args.batch_size // 1000), 3)
                ratios["batch_vs_copy"] = round(statistics.median(per_round), 3)
            if not args.skip_single:
                single_load(server, seeded, connections=args.connections,
                            seconds=args.warmup_seconds, id_share=args.id_share, rnd=rnd)
                runs = []
                for _ in range(args.single_runs):
                    before = meter.sample()
                    run = single_load(server, seeded, connections=args.connections,
                                      seconds=args.single_seconds, id_share=args.id_share,
                                      rnd=rnd)
                    run |= CpuMeter.per_unit(before, meter.sample(),
                                             int(run["single_requests"]), "single", "req")
                    print(f"single run: {run}", file=sys.stderr)
                    runs.append(run)
                # The median of each figure over the runs (a run is noisy on a shared machine).
                figures = {key: round(statistics.median(r[key] for r in runs), 3)
                           for key in runs[0]}
                figures |= {"single_req_per_s_runs": [r["single_req_per_s"] for r in runs],
                            "single_p99_ms_runs": [r["single_p99_ms"] for r in runs]}
                print(f"single: {figures}", file=sys.stderr)
                results |= figures
        finally:
            server.stop()
            drop_pg_database(db_name)

    summary: dict[str, object] = {
        "benchmark": "ingest",
        "params": {
            "batch_size": args.batch_size, "rounds": args.rounds,
            "batches_per_round": args.batches_per_round,
            "batch_concurrency": args.batch_concurrency, "workers": args.workers,
            "batch_connections": "one per batch" if args.connection_per_batch
                                 else "one per uploader",
            "connections": args.connections, "single_seconds": args.single_seconds,
            "single_runs": args.single_runs,
            "id_share": args.id_share, "residents": args.residents,
            "site_kind": args.site_kind,
            "sqlite_connections": args.sqlite_connections,
            "sqlite_seconds": args.sqlite_seconds, "sqlite_workers": 1,
            "statistic": "median of rounds (batch) and of runs (single)",
            "baseline": "psycopg binary COPY of the stored rows, one commit per batch, "
                        "same columns and indexes",
            "python": platform.python_version(), "postgresql": "15",
            "psycopg": package_version("psycopg"), "uvicorn": package_version("uvicorn"),
            "uvloop": package_version("uvloop"), "httptools": package_version("httptools"),
        },
        "results": results,
        "ratios": ratios,
    }
    print(json.dumps(summary, ensure_ascii=False))
    return summary


if __name__ == "__main__":
    main()
