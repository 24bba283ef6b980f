"""benchmarks/analytics.py at a tiny size (no Spark: the Spark tests start their own):
it generates, measures, checks rows identical and prints the agreed JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.communities.test_benchmark_smoke import _postgres_up

ROOT = Path(__file__).resolve().parents[2]


def test_the_analytics_benchmark_prints_its_figures_at_a_tiny_size() -> None:
    _postgres_up()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "analytics.py"),
                           "--registrations", "20000", "--runs", "1", "--cases", "5",
                           "--no-spark"], capture_output=True, text=True, timeout=300,
                          cwd=ROOT, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["benchmark"] == "analytics"
    results = summary["results"]
    assert results["identical_rows"] is True
    assert results["companions_rows"] > 0 and results["flows_rows"] > 0
    assert results["lake_export_rows_per_s"] > 0 and results["export_rows"] == 20000
    assert summary["ratios"]["ibis_vs_sql"] > 0
