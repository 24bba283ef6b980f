"""benchmarks/tracing_cpu.py on a tiny database: it measures both runs and prints its JSON."""

from __future__ import annotations

import json
import os

from tests import benchmark_smoke
from tests.concurrency import checkpoint_env

TINY = ["--persons", "1000", "--registrations", "8000", "--reports", "1000"]


def test_the_cpu_benchmark_measures_first_runs_and_reruns_at_a_tiny_size() -> None:
    benchmark_smoke.postgres_up()
    name = f"pt_tracing_cpu_smoke_{os.getpid()}"
    try:
        benchmark_smoke.run("tracing.py", *TINY, "--keep-db", name, "--load-only",
                            timeout=240)
        done = benchmark_smoke.run("tracing_cpu.py", "--db", name, "--cases", "4",
                                   timeout=240)
    finally:
        checkpoint_env.drop_pg_database(name)
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["benchmark"] == "tracing_cpu"
    results = summary["results"]
    for mode in ("first", "rerun"):
        assert results[f"{mode}_app_cpu_ms_per_run"] > 0
        assert results[f"{mode}_pg_cpu_ms_per_run"] > 0
    # The first runs stored contacts and made tasks; the re-runs stored nothing.
    first = results["first_costliest_phases_app_pg_ms"]
    rerun = results["rerun_costliest_phases_app_pg_ms"]
    assert first["storing"][1] > 0 and rerun["storing"][1] == 0
    assert summary["ratios"]["rerun_vs_first_cpu"] > 0
