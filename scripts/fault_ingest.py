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
Every stored row must also hold what was sent: site, lane, device, direction,
method, occurred_at, temperature, the pass (the one sent, or the typed person's
pass), the holder's hash and masks (from the person record), and the decisions
(the device's as sent; the server's, which for these valid passes is "allow").
A batch answered only after a retry is counted as committed-but-unanswered when
the retry found all its rows already stored (the kill came between the commit
and the answer), or as lost-before-commit when the retry stored them; a batch
partly stored before the kill is a problem (a batch commits whole).
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
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent))
from checkpoint_env import (  # noqa: E402
    Seeded,
    Server,
    create_pg_database,
    drop_pg_database,
    seed,
)

from passtrace.core.ids import uuid7  # noqa: E402
from passtrace.passes.models import Pass  # noqa: E402
from passtrace.people.models import Person  # noqa: E402
from passtrace.registrations.models import Registration  # noqa: E402
from passtrace.sites.models import Site  # noqa: E402

# Below the site's fever threshold (37.3): every row is a valid pass, allowed.
TEMPERATURES = (36.1, 36.4, 36.5, 36.8, 37.0)
RESTART_TIMEOUT_S = 180.0  # a loaded machine can take long to start Python and the app
SETTLE_S = 180.0  # after the last restart, how long uploaders may take to finish


@dataclass
class Tally:
    """What the uploaders saw (guarded by a lock)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    acked: set[str] = field(default_factory=set)
    stored_reports: Counter[str] = field(default_factory=Counter)
    sent: dict[str, dict[str, object]] = field(default_factory=dict)  # id -> row + device
    batches: int = 0
    committed_unanswered: int = 0  # retried batches whose rows were all stored already
    lost_before_commit: int = 0  # retried batches the retry stored
    partly_committed: list[str] = field(default_factory=list)
    attempts: int = 0
    retries: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    rejected: list[str] = field(default_factory=list)


def make_batch(seeded: Seeded, device: str, size: int, rnd: random.Random) -> dict[str, object]:
    """A device's batch: rows decided offline, by pass id or typed ID number."""
    now = datetime.now(UTC)
    rows = []
    for _ in range(size):
        # Every field varies, so a server that stored a constant (or another row's
        # value, or its own clock) is caught by check().
        occurred = now - timedelta(seconds=rnd.randint(0, 600), microseconds=rnd.randint(0, 999999))
        row: dict[str, object] = {"id": str(uuid7()), "lane": rnd.choice(["1", "2"]),
                                  "occurred_at": occurred.isoformat(),
                                  "direction": rnd.choice(["in", "out"]),
                                  "temperature": rnd.choice(TEMPERATURES),
                                  "decision": "allow", "reasons": []}
        if rnd.random() < 0.8:
            row |= {"method": "qr", "pass_id": rnd.choice(seeded.pass_ids)}
        else:
            row |= {"method": "id_typed", "id_number": rnd.choice(seeded.id_numbers)}
        rows.append(row)
    return {"site": seeded.site, "device_key": device, "sent_at": now.isoformat(),
            "pending": 0, "registrations": rows}


def upload(server: Server, seeded: Seeded, tally: Tally, *, device: str, size: int,
           stop: threading.Event, hard_deadline: list[float], rnd: random.Random) -> None:
    """Send batches until told to stop; each batch is retried until acknowledged.

    hard_deadline[0] is moved by the main thread (later while the killer restarts the
    server, then to a bound once it is done): a slow restart is waited for, a server
    that never answers again is not.
    """
    headers = {"Authorization": f"Bearer {seeded.token}"}
    # Generous: a 300-row batch on a loaded machine can take seconds; a timeout only
    # means a retry, which the checks cover anyway.
    with httpx.Client(base_url=server.base, headers=headers, timeout=30.0) as client:
        while not stop.is_set():
            body = make_batch(seeded, device, size, rnd)
            rows = body["registrations"]
            with tally.lock:
                for r in rows:  # type: ignore[attr-defined]
                    tally.sent[r["id"]] = {**r, "device_key": device}
            first, tries = True, 0
            while True:  # the same body (same ids) until a 200
                if time.monotonic() > hard_deadline[0]:
                    raise TimeoutError(f"{device}: a batch was never acknowledged")
                with tally.lock:
                    tally.attempts += 1
                    tally.retries += 0 if first else 1
                first = False
                tries += 1
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
                statuses = {r["status"] for r in out["results"]}
                with tally.lock:
                    tally.batches += 1
                    if tries > 1:  # an earlier attempt went unanswered
                        if statuses == {"duplicate"}:
                            tally.committed_unanswered += 1
                        elif statuses == {"stored"}:
                            tally.lost_before_commit += 1
                        else:
                            tally.partly_committed.append(f"{device}: {sorted(statuses)}")
                    elif "duplicate" in statuses:  # fresh ids: nothing can be stored yet
                        tally.partly_committed.append(f"{device}: first answer {sorted(statuses)}")
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
        server.start(timeout=RESTART_TIMEOUT_S)


def _uuid(value: object) -> str:
    return str(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))


def expected_people(session: Session, seeded: Seeded) -> dict[str, tuple[str, str, str]]:
    """Pass id -> (holder's hash, masked name, last 4 of the ID), from the person records."""
    rows = session.execute(select(Pass.id, Person.id_hash, Person.name_masked, Person.id_masked)
                           .join(Person, Person.id == Pass.person_id)
                           .where(Pass.id.in_([uuid.UUID(p) for p in seeded.pass_ids])))
    return {str(pid): (h, name, masked[-4:]) for pid, h, name, masked in rows}


def compare(stored: Registration, code: str, sent: dict[str, object], seeded: Seeded,
            people: dict[str, tuple[str, str, str]]) -> list[tuple[str, object, object]]:
    """The fields of one stored row that differ from what was sent: (field, stored, sent)."""
    if "pass_id" in sent:
        pass_id = str(sent["pass_id"])
    else:  # a typed ID number: the seeded person's one approved pass
        pass_id = seeded.pass_ids[seeded.id_numbers.index(str(sent["id_number"]))]
    holder = people.get(pass_id, ("?", "?", "?"))
    occurred = datetime.fromisoformat(str(sent["occurred_at"]))
    want: dict[str, object] = {
        "site": seeded.site, "lane": sent["lane"], "device_key": sent["device_key"],
        "direction": sent["direction"], "method": sent["method"], "occurred_at": occurred,
        "temperature": sent["temperature"], "pass_id": pass_id, "person_hash": holder[0],
        "person_masked": holder[1], "id_last4": holder[2],
        "device_decision": sent["decision"], "device_reasons": sent["reasons"],
        "decided_by": "device", "decision": "allow", "reasons": [], "disagreement": None,
        "override_reason": None, "companions": 0, "plate": None}
    got: dict[str, object] = {name: getattr(stored, name) for name in want if name != "site"}
    got["site"] = code
    got["pass_id"] = None if stored.pass_id is None else _uuid(stored.pass_id)
    return [(name, got[name], value) for name, value in want.items() if got[name] != value]


def check(db_url: str, seeded: Seeded, tally: Tally) -> dict[str, object]:
    """Compare what the database holds with what the clients sent and were told."""
    engine = create_engine(db_url)
    wrong: Counter[str] = Counter()
    examples: dict[str, str] = {}
    stored: Counter[str] = Counter()
    try:
        with Session(engine) as session:
            people = expected_people(session, seeded)
            rows = session.execute(select(Registration, Site.code)
                                   .join(Site, Site.id == Registration.site_id)
                                   .where(Site.code == seeded.site))
            for row, code in rows:
                rid = _uuid(row.id)
                stored[rid] += 1
                sent = tally.sent.get(rid)
                if sent is None:
                    continue  # counted below as never sent/acknowledged
                for name, got, want in compare(row, code, sent, seeded, people):
                    wrong[name] += 1
                    examples.setdefault(name, f"{rid}: stored {got!r}, sent {want!r}")
    finally:
        engine.dispose()
    acked = {_uuid(i) for i in tally.acked}
    problems = [f"{n} rows with a wrong {name}, e.g. {examples[name]}"
                for name, n in sorted(wrong.items())]
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
    never = tally.sent.keys() - tally.acked
    if never:
        problems.append(f"{len(never)} sent ids never acknowledged")
    reported_twice = [i for i, n in tally.stored_reports.items() if n > 1]
    if reported_twice:
        problems.append(f"{len(reported_twice)} ids reported 'stored' twice")
    if tally.rejected:
        problems.append(f"{len(tally.rejected)} rows rejected, e.g. {tally.rejected[:2]}")
    if tally.partly_committed:
        problems.append(f"{len(tally.partly_committed)} batches partly stored before their "
                        f"answer, e.g. {tally.partly_committed[:2]}")
    return {"rows": sum(stored.values()), "distinct_rows": len(stored),
            "acknowledged": len(acked), "rows_compared": sum(stored.values()) - len(extra),
            "fields_compared": len(FIELDS),
            "stored_reports": sum(tally.stored_reports.values()),
            "committed_unanswered_batches": tally.committed_unanswered,
            "lost_before_commit_batches": tally.lost_before_commit, "problems": problems}


FIELDS = ("site", "lane", "device_key", "direction", "method", "occurred_at", "temperature",
          "pass_id", "person_hash", "person_masked", "id_last4", "device_decision",
          "device_reasons", "decided_by", "decision", "reasons", "disagreement",
          "override_reason", "companions", "plate")


def run(backend: str, *, kills: int = 6, seconds: float = 30.0, uploaders: int = 2,
        batch_size: int = 300, seed_value: int | None = None, workdir: Path | None = None,
        inspect: Callable[[str, Seeded, Tally], None] | None = None) -> dict[str, object]:
    """Run the whole scenario on a fresh database; return the summary (problems listed).

    inspect(db_url, seeded, tally) runs after the summary, before the database is
    dropped (the test uses it to check that check() catches a corrupted row).
    """
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
        server.start(timeout=RESTART_TIMEOUT_S)
        tally = Tally()
        stop = threading.Event()
        # Bounded, but generous: every restart may take RESTART_TIMEOUT_S on a loaded
        # machine; once the killer is done the uploaders get SETTLE_S to finish.
        hard_deadline = [started + seconds + kills * RESTART_TIMEOUT_S + SETTLE_S]
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
        hard_deadline[0] = max(time.monotonic(), started + seconds) + SETTLE_S
        time.sleep(max(0.0, started + seconds - time.monotonic()))
        stop.set()
        for w in workers:
            w.join(timeout=max(1.0, hard_deadline[0] + 5 - time.monotonic()))
        if any(w.is_alive() for w in workers):
            failures.append(TimeoutError("an uploader did not finish"))
        server.stop()
        summary: dict[str, object] = {
            "backend": backend, "kills": len(kill_times), "server_starts": server.starts,
            "batches_acknowledged": tally.batches, "attempts": tally.attempts,
            "retries": tally.retries, "client_errors": dict(tally.errors),
            "seconds": round(time.monotonic() - started, 1)}
        summary |= check(db_url, seeded, tally)
        if failures:
            summary["problems"] = [*summary["problems"],  # type: ignore[misc]
                                   *(f"{type(e).__name__}: {e}" for e in failures)]
        if inspect is not None:
            inspect(db_url, seeded, tally)
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
