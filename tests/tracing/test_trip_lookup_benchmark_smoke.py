"""benchmarks/trip_lookup.py at a tiny size: it loads, measures and prints the agreed JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.communities.test_benchmark_smoke import _postgres_up

ROOT = Path(__file__).resolve().parents[2]


def test_the_trip_lookup_benchmark_prints_its_figures_at_a_tiny_size() -> None:
    _postgres_up()
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "trip_lookup.py"),
                           "--reports", "3000", "--runs", "3", "--trains", "10"],
                          capture_output=True, text=True, timeout=240, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["benchmark"] == "trip_lookup"
    results = summary["results"]
    # With 10 trains the case shares its carriage with someone at this size (with the
    # default 2,000, contacts begin at 84,000 reports): the index and the baseline
    # compare real answers, not zero with zero.
    assert results["contacts"] > 0
    assert results["no_index_contacts"] == results["contacts"]
    for key in ("lookup_p50_ms", "no_index_p50_ms"):
        assert results[key] > 0, key
    assert summary["ratios"]["no_index_vs_index_wall"] > 0
