"""benchmarks/warnings.py at a tiny size: it loads, measures the declaration, its SQL
baseline and its floors, and prints the agreed JSON."""

from __future__ import annotations

from tests import benchmark_smoke

TINY = ["--persons", "3000", "--registrations", "30000", "--last-day", "3000",
        "--reports", "3000", "--sites", "200", "--rounds", "1",
        "--db-url", "postgresql+psycopg://postgres@127.0.0.1:5432/passtrace_bench_w_smoke"]


def test_the_warnings_benchmark_prints_its_figures_at_a_tiny_size() -> None:
    summary = benchmark_smoke.summary("warnings.py", *TINY, timeout=300)
    assert summary["benchmark"] == "warnings"
    results = summary["results"]
    for key in ("rules_day_s", "declare_s", "sql_declare_s", "sql_floor_s",
                "sql_floor_scan_s", "sql_floor_alerts_s"):
        assert isinstance(results[key], int | float) and results[key] > 0, key
    # The declaration flags exactly the visitors the SQL finds, floors or not before it.
    assert results["declare_matches_sql"] is True, results
    assert results["declare_persons_flagged"] > 0
    assert {"declare_vs_sql", "declare_vs_floor_alerts"} <= set(summary["ratios"])
