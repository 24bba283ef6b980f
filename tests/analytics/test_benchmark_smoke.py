"""benchmarks/analytics.py at a tiny size (no Spark: the Spark tests start their own):
it generates, measures, checks rows identical and prints the agreed JSON."""

from __future__ import annotations

import os

from tests import benchmark_smoke


def test_the_analytics_benchmark_prints_its_figures_at_a_tiny_size() -> None:
    env = {**os.environ, "PYTHONPATH": str(benchmark_smoke.ROOT / "src")}
    summary = benchmark_smoke.summary("analytics.py", "--registrations", "20000", "--runs",
                                      "1", "--cases", "5", "--no-spark", timeout=300, env=env)
    assert summary["benchmark"] == "analytics"
    results = summary["results"]
    assert results["identical_rows"] is True
    assert results["companions_rows"] > 0 and results["flows_rows"] > 0
    assert results["lake_export_rows_per_s"] > 0 and results["export_rows"] == 20000
    assert summary["ratios"]["ibis_vs_sql"] > 0
