"""Benchmark the CPU one gate decision costs: the PostgreSQL fast path against the ORM path.

How to run: `python benchmarks/gate_cpu.py` (PostgreSQL on 127.0.0.1:5432, trust auth;
about a minute). Builds a fresh database (dropped at the end) with one compound, one
gate, --households households of 3 residents and the outing rules of
benchmarks/community.py, then checks residents at the gate in-process (no HTTP), out
when in and in when out, alternating blocks of --decisions on the generic path
(registrations.service.register in a session, as the server runs it in a thread) and on
the fast path (communities/outings/gate_fast.register on an event loop). CPU is
time.process_time of this process (the "server") and the CPU of the database's
backends, per decision: figures the shared machine's load moves little. Prints one
JSON object as its last line (DESIGN.md, "Benchmarks").
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from checkpoint_env import (  # noqa: E402
    cpu_seconds,
    create_pg_database,
    drop_pg_database,
    package_version,
    settings_env,
)

from passtrace.accounts import service as account_service  # noqa: E402
from passtrace.areas import service as area_service  # noqa: E402
from passtrace.communities.compounds import service as community_service  # noqa: E402
from passtrace.communities.compounds.schemas import (  # noqa: E402
    CommunityCreate,
    ResidentCreate,
    RulesWrite,
)
from passtrace.communities.outings import gate_fast  # noqa: E402
from passtrace.core import migrate  # noqa: E402
from passtrace.core.config import Settings  # noqa: E402
from passtrace.core.ids import uuid7  # noqa: E402
from passtrace.core.runtime import Runtime  # noqa: E402
from passtrace.demo import demo_id_number  # noqa: E402
from passtrace.passes import keyring  # noqa: E402
from passtrace.registrations import fastpath  # noqa: E402
from passtrace.registrations.schemas import RegistrationIn  # noqa: E402
from passtrace.sites import service as site_service  # noqa: E402
from passtrace.sites.schemas import SiteWrite  # noqa: E402
from passtrace.wiring import wire  # noqa: E402

CODE = "520102006001"
GATE = "GATE-CPU-1"
# benchmarks/community.py's rules, with a quota this small compound does not use up
# (at 3 a day it would soon refuse nearly everyone: cheap denials, no outing written).
RULES = {"max_out_per_household": 1, "outings_per_window": 100, "window_days": 1,
         "max_out_minutes": 240}


def seed(rt: Runtime, households: int) -> tuple[Any, list[str]]:
    """A compound with one gate and its residents; returns an actor and their ID numbers."""
    ids = []
    with Session(rt.engine, expire_on_commit=False) as session:
        area_service.load_bundled(session=session)
        keyring.ensure(session=session, vault=rt.vault)
        admin = account_service.create(session=session, rt=rt, actor=None, username="admin",
                                       password="gate-cpu-pw-1", display_name="admin")
        account_service.grant(session=session, actor=None, user=admin, role="admin",
                              scope_type="global", scope_value="")
        actor = account_service.principal_for(admin)
        community_service.create(session=session, actor=actor,
                                 data=CommunityCreate(code=CODE, name="基准小区"))
        site_service.save(session=session, actor=actor, data=SiteWrite(
            code=GATE, name=GATE, kind="community_gate", area_code="520102006",
            community_code=CODE))
        community_service.add_building(session=session, actor=actor, code=CODE, name="1",
                                       units=["1"])
        for h in range(households):
            for m in range(3):
                n = 3 * h + m
                id_number = demo_id_number("520102", f"19{60 + n // 900:02d}0101",
                                           f"{n % 900 + 100:03d}")
                community_service.add_resident(
                    session=session, rt=rt, actor=actor, code=CODE, data=ResidentCreate(
                        building="1", unit="1", room=f"{101 + h}", id_number=id_number,
                        name="住户", role="family"))
                ids.append(id_number)
        community_service.set_rules(session=session, actor=actor, code=CODE,
                                    data=RulesWrite(**RULES),
                                    reason_code="directive", reason="区防控办通知")
        session.commit()
    return actor, ids


class Traffic:
    """Residents going out when in and in when out."""

    def __init__(self, ids: list[str], rng: random.Random) -> None:
        self.ids, self.rng, self.out = ids, rng, set()  # type: ignore[var-annotated]
        self.outcomes: dict[str, int] = {}

    def next(self) -> tuple[str, RegistrationIn]:
        who = self.rng.choice(self.ids)
        now = datetime.now(UTC)
        return who, RegistrationIn(
            id=uuid7(), site=GATE, lane="1", device_key="bench", occurred_at=now, sent_at=now,
            direction="in" if who in self.out else "out", method="id_typed", id_number=who,
            temperature=36.5)

    def done(self, who: str, row: Any) -> None:
        key = row.decision if row.decision == "allow" else ",".join(row.reasons)
        self.outcomes[key] = self.outcomes.get(key, 0) + 1
        if row.decision == "allow":
            (self.out.add if row.direction == "out" else self.out.discard)(who)


def backends_cpu(db_name: str) -> float:
    """CPU seconds of the database's live backends (sampled before any of them closes)."""
    return cpu_seconds(cmd_contains=db_name)


def run_generic(rt: Runtime, actor: Any, traffic: Traffic, n: int
                ) -> tuple[list[float], float]:
    """n decisions on the ORM path: latencies and the backends' CPU seconds."""
    p0 = backends_cpu(str(rt.engine.url.database))
    times = []
    for _ in range(n):
        who, data = traffic.next()
        t0 = time.perf_counter()
        checked = gate_fast._generic_in_session(rt, actor, data)
        times.append(time.perf_counter() - t0)
        traffic.done(who, checked.row)
    return times, backends_cpu(str(rt.engine.url.database)) - p0


def run_fast(rt: Runtime, actor: Any, traffic: Traffic, n: int) -> tuple[list[float], float]:
    """n decisions on the fast path (its own event loop and connections)."""
    fast = fastpath.for_runtime(rt)
    assert fast is not None
    db_name = str(rt.engine.url.database)

    async def go() -> tuple[list[float], float]:
        p0 = backends_cpu(db_name)  # its connections open later, at CPU 0
        times = []
        for _ in range(n):
            who, data = traffic.next()
            t0 = time.perf_counter()
            checked = await gate_fast.register(fast, rt=rt, actor=actor, data=data)
            times.append(time.perf_counter() - t0)
            traffic.done(who, checked.row)
        used = backends_cpu(db_name) - p0  # before its connections close
        await fast.close()
        return times, used

    return asyncio.run(go())


def _ratio(part: float, whole: float) -> float | None:
    """part / whole, or None when `whole` measured no CPU at all: CPU is read in 10 ms
    ticks, and at the smoke test's tiny size a block can take less than one."""
    return round(part / whole, 2) if whole else None


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark and print the JSON summary."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--households", type=int, default=60)
    ap.add_argument("--decisions", type=int, default=300, help="per block")
    ap.add_argument("--rounds", type=int, default=3, help="blocks per path")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    db_name = f"passtrace_bench_gatecpu_{uuid.uuid4().hex[:8]}"
    url = create_pg_database(db_name)
    started = time.perf_counter()
    try:
        env = settings_env(url)
        rt = Runtime.build(Settings(**{k.removeprefix("PASSTRACE_").lower(): v
                                       for k, v in env.items()}))
        wire(rt)
        migrate.upgrade(rt.engine)
        actor, ids = seed(rt, args.households)
        traffic = Traffic(ids, random.Random(args.seed))
        paths = {"generic": run_generic, "fast": run_fast}
        for run in paths.values():  # warm-up: caches, pools, prepared statements
            run(rt, actor, traffic, 50)
        traffic.outcomes.clear()
        cpu: dict[str, list[float]] = {p: [] for p in paths}
        pg: dict[str, list[float]] = {p: [] for p in paths}
        lat: dict[str, list[float]] = {p: [] for p in paths}
        for _ in range(args.rounds):
            for name, run in paths.items():
                c0 = time.process_time()
                times, backends = run(rt, actor, traffic, args.decisions)
                cpu[name].append((time.process_time() - c0) * 1000 / args.decisions)
                pg[name].append(backends * 1000 / args.decisions)
                lat[name] += times
        rt.engine.dispose()
    finally:
        drop_pg_database(db_name)
    results: dict[str, Any] = {}
    for name in paths:
        ordered = sorted(lat[name])
        results |= {
            f"{name}_server_cpu_ms_per_decision": round(statistics.median(cpu[name]), 3),
            f"{name}_postgres_cpu_ms_per_decision": round(statistics.median(pg[name]), 3),
            f"{name}_p50_ms": round(ordered[len(ordered) // 2] * 1000, 2),
            f"{name}_p99_ms": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 2)}
    results["outcomes"] = traffic.outcomes
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    summary = {
        "benchmark": "gate_cpu",
        "params": {"households": args.households, "decisions_per_block": args.decisions,
                   "rounds": args.rounds, "rules": RULES, "seed": args.seed,
                   "loadavg": load, "psycopg": package_version("psycopg"),
                   "baseline": "generic: registrations.service.register (ORM), same process, "
                               "same traffic, alternating blocks"},
        "results": results,
        "ratios": {
            "fast_vs_generic_server_cpu": _ratio(
                results["fast_server_cpu_ms_per_decision"],
                results["generic_server_cpu_ms_per_decision"]),
            "fast_vs_generic_postgres_cpu": _ratio(
                results["fast_postgres_cpu_ms_per_decision"],
                results["generic_postgres_cpu_ms_per_decision"])},
        "wall_s": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(summary, ensure_ascii=False))
    return summary


if __name__ == "__main__":
    main()
