"""Fault test driver: upload batches while the server is SIGKILLed and restarted.

Run: python scripts/fault_ingest.py [--backend postgresql|sqlite] [--kills 6] [--seconds 30]

Uploader threads send batches of fresh UUIDv7 registrations to the real server
(`python -m passtrace serve`, loopback) and retry each batch with the SAME ids
until it is answered 200 (connection errors, timeouts and 5xx are retried).
A killer thread SIGKILLs the server's process group at random moments and
restarts it. At the end every id acknowledged as stored/duplicate must be in
the database exactly once, no id is stored twice, no id is reported "stored"
twice, and the number of rows equals the number of distinct acknowledged ids
(every batch ends acknowledged, so nothing unacknowledged may be left over).
Prints one JSON summary as its last line; exits 1 when a check fails.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from checkpoint_env import (  # noqa: E402
    Seeded,
    Server,
    create_pg_database,
    drop_pg_database,
    seed,
)

from passtrace.core.ids import uuid7  # noqa: E402


@dataclass
class Tally:
    """What the uploaders saw (guarded by a lock)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    acked: set[str] = field(default_factory=set)
    stored_reports: Counter[str] = field(default_factory=Counter)
    sent: set[str] = field(default_factory=set)
    batches: int = 0
    attempts: int = 0
    retries: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    rejected: list[str] = field(default_factory=list)


def make_batch(seeded: Seeded, device: str, size: int, rnd: random.Random) -> dict[str, object]:
    """A device's batch: rows decided offline, by pass id or typed ID number."""
    now = datetime.now(UTC).isoformat()
    rows = []
    for _ in range(size):
        row: dict[str, object] = {"id": str(uuid7()), "lane": rnd.choice(["1", "2"]),
                                  "occurred_at": now, "direction": rnd.choice(["in", "out"]),
                                  "temperature": 36.5, "decision": "allow", "reasons": []}
        if rnd.random() < 0.8:
            row |= {"method": "qr", "pass_id": rnd.choice(seeded.pass_ids)}
        else:
            row |= {"method": "id_typed", "id_number": rnd.choice(seeded.id_numbers)}
        rows.append(row)
    return {"site": seeded.site, "device_key": device, "sent_at": now, "pending": 0,
            "registrations": rows}


def upload(server: Server, seeded: Seeded, tally: Tally, *, device: str, size: int,
           stop: threading.Event, hard_deadline: float, rnd: random.Random) -> None:
    """Send batches until told to stop; each batch is retried until acknowledged."""
    headers = {"Authorization": f"Bearer {seeded.token}"}
    with httpx.Client(base_url=server.base, headers=headers, timeout=10.0) as client:
        while not stop.is_set():
            body = make_batch(seeded, device, size, rnd)
            ids = [r["id"] for r in body["registrations"]]  # type: ignore[union-attr, index]
            with tally.lock:
                tally.sent.update(ids)  # type: ignore[arg-type]
            first = True
            while True:  # the same body (same ids) until a 200
                if time.monotonic() > hard_deadline:
                    raise TimeoutError(f"{device}: a batch was never acknowledged")
                with tally.lock:
                    tally.attempts += 1
                    tally.retries += 0 if first else 1
                first = False
                try:
                    resp = client.post("/api/v1/registrations/batch", json=body)
                except httpx.HTTPError as exc:
                    with tally.lock:
                        tally.errors[type(exc).__name__] += 1
                    time.sleep(0.05)
                    continue
                if resp.status_code >= 500:
                    with tally.lock:
                        tally.errors[f"http_{resp.status_code}"] += 1
                    time.sleep(0.05)
                    continue
                if resp.status_code != 200:  # a 4xx is a bug in this test or the server
                    raise AssertionError(f"{device}: {resp.status_code} {resp.text[:300]}")
                out = resp.json()
                with tally.lock:
                    tally.batches += 1
                    for r in out["results"]:
                        if r["status"] in ("stored", "duplicate"):
                            tally.acked.add(r["id"])
                        else:
                            tally.rejected.append(f"{r['id']}: {r.get('error')}")
                        if r["status"] == "stored":
                            tally.stored_reports[r["id"]] += 1
                break


def kill_loop(server: Server, *, kills: int, window: float, rnd: random.Random,
              done: list[float]) -> None:
    """SIGKILL the server `kills` times at random moments within `window` seconds."""
    gaps = [rnd.uniform(0.3, 1.0) for _ in range(kills)]
    scale = window / (sum(gaps) + kills * 1.5)  # leave ~1.5 s per restart
    for gap in gaps:
        time.sleep(gap * scale * rnd.uniform(0.5, 1.5))
        server.kill()
        done.append(time.monotonic())
        time.sleep(rnd.uniform(0.0, 0.3))  # clients meet a closed port meanwhile
        server.start()


def check(db_url: str, site: str, tally: Tally) -> dict[str, object]:
    """Compare what the database holds with what the clients were told."""
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT r.id FROM registrations r JOIN sites s ON s.id = r.site_id "
                "WHERE s.code = :site"), {"site": site}).scalars().all()
    finally:
        engine.dispose()
    stored = Counter(str(uuid.UUID(str(r))) if not isinstance(r, uuid.UUID) else str(r)
                     for r in rows)
    acked = {str(uuid.UUID(i)) for i in tally.acked}
    problems = []
    twice = [i for i, n in stored.items() if n > 1]
    if twice:
        problems.append(f"{len(twice)} ids stored more than once")
    missing = acked - stored.keys()
    if missing:
        problems.append(f"{len(missing)} acknowledged ids missing, e.g. {sorted(missing)[:3]}")
    extra = stored.keys() - acked
    if extra:
        problems.append(f"{len(extra)} rows never acknowledged")
    if len(stored) != len(acked):
        problems.append(f"{len(stored)} rows for {len(acked)} acknowledged ids")
    if tally.sent != tally.acked:
        problems.append(f"{len(tally.sent - tally.acked)} sent ids never acknowledged")
    reported_twice = [i for i, n in tally.stored_reports.items() if n > 1]
    if reported_twice:
        problems.append(f"{len(reported_twice)} ids reported 'stored' twice")
    if tally.rejected:
        problems.append(f"{len(tally.rejected)} rows rejected, e.g. {tally.rejected[:2]}")
    return {"rows": sum(stored.values()), "distinct_rows": len(stored),
            "acknowledged": len(acked),
            "stored_reports": sum(tally.stored_reports.values()), "problems": problems}


def run(backend: str, *, kills: int = 6, seconds: float = 30.0, uploaders: int = 2,
        batch_size: int = 300, seed_value: int | None = None,
        workdir: Path | None = None) -> dict[str, object]:
    """Run the whole scenario on a fresh database; return the summary (problems listed)."""
    rnd = random.Random(seed_value)
    tmp = Path(workdir or tempfile.mkdtemp(prefix="passtrace-fault-"))
    db_name = f"passtrace_fault_{uuid.uuid4().hex[:8]}"
    if backend == "postgresql":
        db_url = create_pg_database(db_name)
    elif backend == "sqlite":
        db_url = f"sqlite:///{tmp / 'fault.db'}"
    else:
        raise ValueError(backend)
    server = Server(db_url, log=tmp / "server.log")
    started = time.monotonic()
    try:
        seeded = seed(db_url, residents=5)
        server.start()
        tally = Tally()
        stop = threading.Event()
        hard_deadline = started + seconds + 45
        failures: list[BaseException] = []

        def guarded(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
            try:
                fn(*args, **kwargs)
            except BaseException as exc:  # noqa: BLE001 - reported by the main thread
                failures.append(exc)
                stop.set()

        workers = [threading.Thread(target=guarded, args=(upload, server, seeded, tally), kwargs={
            "device": f"fault-dev-{n}", "size": batch_size, "stop": stop,
            "hard_deadline": hard_deadline, "rnd": random.Random(rnd.random())}, daemon=True)
            for n in range(uploaders)]
        kill_times: list[float] = []
        for w in workers:
            w.start()
        # Kill in the first 80 % of the window; the rest runs on a live server.
        guarded(kill_loop, server, kills=kills, window=seconds * 0.8, rnd=rnd, done=kill_times)
        time.sleep(max(0.0, started + seconds - time.monotonic()))
        stop.set()
        for w in workers:
            w.join(timeout=max(1.0, hard_deadline - time.monotonic()))
        if any(w.is_alive() for w in workers):
            failures.append(TimeoutError("an uploader did not finish"))
        server.stop()
        summary: dict[str, object] = {
            "backend": backend, "kills": len(kill_times), "server_starts": server.starts,
            "batches_acknowledged": tally.batches, "attempts": tally.attempts,
            "retries": tally.retries, "client_errors": dict(tally.errors),
            "seconds": round(time.monotonic() - started, 1)}
        summary |= check(db_url, seeded.site, tally)
        if failures:
            summary["problems"] = [*summary["problems"],  # type: ignore[misc]
                                   *(f"{type(e).__name__}: {e}" for e in failures)]
        return summary
    finally:
        server.kill()
        if backend == "postgresql":
            drop_pg_database(db_name)


def main(argv: list[str] | None = None) -> int:
    """Run from the command line; exit 1 on any problem."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--kills", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--uploaders", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=300)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    summary = run(args.backend, kills=args.kills, seconds=args.seconds,
                  uploaders=args.uploaders, batch_size=args.batch_size, seed_value=args.seed)
    print(json.dumps(summary))
    return 1 if summary["problems"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
