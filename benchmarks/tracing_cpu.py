"""CPU of a contacts run, by phase, in process: the app's and its PostgreSQL backend's.

How to run: first load a database with `python benchmarks/tracing.py ... --keep-db NAME
--load-only`, then `PYTHONPATH=src python benchmarks/tracing_cpu.py --db NAME`. For each
of --cases cases (the same ones benchmarks/tracing.py measures: its `make_cases`, same
seed) it calls the API's view (`tracing.views.run_contacts`, depth 1) directly, with the
server's GC settings, twice in one transaction: a first run (everything new) and a re-run
(nothing changed: it must find the same and write nothing). The transaction is rolled
back, so every case's first run is a first run; the cases are deleted at the end.

CPU is read per phase (the search's statement, its matching, households, trips, storing,
tasks, the listing page, the reached share) from the app's process time and from the
backend's /proc/PID/schedstat (nanoseconds, not 10 ms ticks), so an old and a new tree
can be compared back to back on a shared machine where wall times are noise: run this
file from each tree (PYTHONPATH=src) alternately. Prints one JSON object as its last line
(DESIGN.md, "Benchmarks"); `ratios` compares the re-run with the first run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "benchmarks"))
from checkpoint_env import PG_ADMIN_URL, settings_env  # noqa: E402

import tracing as bench  # noqa: E402 - the tracing benchmark's cases
from passtrace.accounts import service as account_service  # noqa: E402
from passtrace.accounts.models import User  # noqa: E402
from passtrace.core.config import Settings  # noqa: E402
from passtrace.core.gc_tuning import tune_for_serving  # noqa: E402
from passtrace.core.runtime import Runtime  # noqa: E402
from passtrace.tracing import colocation, contacts, service, tasks, ties, views  # noqa: E402
from passtrace.wiring import wire  # noqa: E402

# (module, function, phase): each call's CPU is added to its phase.
PHASES = ((colocation, "_fetch_pg", "search_statement"), (colocation, "_match", "matching"),
          (ties, "households", "households"), (ties, "trips_many", "trips"),
          (contacts, "_store", "storing"), (tasks, "ensure", "tasks"),
          (service, "page", "listing_page"), (tasks, "reached_share", "reached_share"))


class Meter:
    """The app's process time and one PostgreSQL backend's CPU, in ms, per phase."""

    def __init__(self) -> None:
        self.backend = 0
        self.phases: dict[str, list[float]] = {}

    def pg_ms(self) -> float:
        with open(f"/proc/{self.backend}/schedstat") as fh:
            return int(fh.read().split()[0]) / 1e6

    def wrap(self, module: Any, name: str, phase: str) -> None:
        real: Callable[..., Any] = getattr(module, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            app0, pg0 = time.process_time(), self.pg_ms()
            try:
                return real(*args, **kwargs)
            finally:
                spent = self.phases.setdefault(phase, [0.0, 0.0])
                spent[0] += (time.process_time() - app0) * 1000
                spent[1] += self.pg_ms() - pg0

        setattr(module, name, timed)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True, help="a database loaded by benchmarks/tracing.py")
    ap.add_argument("--cases", type=int, default=30)
    ap.add_argument("--seed", type=int, default=13)
    args = ap.parse_args(argv)
    os.environ.update({"PASSTRACE_RETENTION_SECONDS": "0", "PASSTRACE_VERIFY_SECONDS": "0"})
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{args.db}"
    rt = Runtime.build(Settings(**{k.removeprefix("PASSTRACE_").lower(): v
                                   for k, v in settings_env(url).items()}))
    wire(rt)
    meter = Meter()
    for module, name, phase in PHASES:
        meter.wrap(module, name, phase)
    cases = bench.make_cases(rt, args.cases, args.seed)
    warm = bench.make_cases(rt, 1, args.seed + 100)
    with Session(rt.engine) as s:
        user = s.get_one(User, s.execute(text(
            "SELECT id FROM users WHERE username = 'tracer'")).scalar_one())
        principal = account_service.principal_for(user)
    tune_for_serving()
    runs: dict[str, list[dict[str, Any]]] = {"first": [], "rerun": []}
    try:
        for i, (case_id, *_rest) in enumerate(warm + cases):
            with rt.sessions() as session:
                meter.backend = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
                for mode in ("first", "rerun"):
                    meter.phases = {}
                    app0, pg0, wall0 = time.process_time(), meter.pg_ms(), time.perf_counter()
                    page = views.run_contacts(case_id, views.RunRequest(depth=1), session, rt,
                                              principal)
                    page.model_dump_json()
                    session.flush()
                    if i > 0:  # the first case warms up connections, caches and plans
                        runs[mode].append({
                            "app": (time.process_time() - app0) * 1000,
                            "pg": meter.pg_ms() - pg0,
                            "wall": (time.perf_counter() - wall0) * 1000,
                            "phases": dict(meter.phases)})
                session.rollback()
    finally:
        bench.drop_cases(rt, [c[0] for c in warm + cases])
        rt.engine.dispose()
    results: dict[str, Any] = {}
    for mode, measured in runs.items():
        app = [r["app"] for r in measured]
        pg = [r["pg"] for r in measured]
        # The costliest cases (the commuters): where p95 falls.
        top = sorted(measured, key=lambda r: -(r["app"] + r["pg"]))[:3]
        results |= {
            f"{mode}_app_cpu_ms_per_run": round(statistics.mean(app), 1),
            f"{mode}_pg_cpu_ms_per_run": round(statistics.mean(pg), 1),
            f"{mode}_app_cpu_p50_ms": round(statistics.median(app), 1),
            f"{mode}_pg_cpu_p50_ms": round(statistics.median(pg), 1),
            f"{mode}_cpu_p95_ms": bench.pct([a + p for a, p in zip(app, pg, strict=True)], 95),
            f"{mode}_wall_p95_ms": bench.pct([r["wall"] for r in measured], 95),
            f"{mode}_costliest_app_pg_ms": [[round(r["app"], 1), round(r["pg"], 1)]
                                            for r in top],
            f"{mode}_costliest_phases_app_pg_ms": {
                phase: [round(statistics.median(r["phases"].get(phase, [0, 0])[k]
                                                for r in top), 1) for k in (0, 1)]
                for phase in sorted({p for _m, _n, p in PHASES})},
        }
    summary = {
        "benchmark": "tracing_cpu",
        "params": {"db": args.db, "cases": args.cases, "seed": args.seed,
                   "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg()),
                   "cpus": os.cpu_count()},
        "results": results,
        "ratios": {"rerun_vs_first_cpu": round(
            (results["rerun_app_cpu_ms_per_run"] + results["rerun_pg_cpu_ms_per_run"])
            / max(results["first_app_cpu_ms_per_run"] + results["first_pg_cpu_ms_per_run"],
                  0.01), 3)},
    }
    print(json.dumps(summary, ensure_ascii=False))
    return summary


if __name__ == "__main__":
    main()
