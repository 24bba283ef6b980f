"""benchmarks/supplies.py at its --quick size: it loads, measures and prints the agreed
JSON, and the hand-written baselines ran beside each figure."""

from __future__ import annotations

from tests import benchmark_smoke


def test_the_supplies_benchmark_prints_its_figures_at_the_quick_size() -> None:
    summary = benchmark_smoke.summary("supplies.py", "--quick", timeout=900)
    assert set(summary) >= {"benchmark", "params", "results", "ratios"}
    assert summary["benchmark"] == "supplies"
    results = summary["results"]
    for key in ("stock_report_p95_ms", "stock_report_sql_p95_ms", "allocate_s",
                "allocate_sql_s", "issue_p99_ms", "issue_sql_p99_ms"):
        assert isinstance(results[key], int | float) and results[key] > 0, key
    assert {"stock_report_vs_sql_p95", "allocate_vs_sql", "issue_vs_sql_p99"} <= set(
        summary["ratios"])
    sizes = summary["params"]["sizes"]
    assert sizes["supply_ledger"] == 50_000 and sizes["supply_requests"] == 1_000
    # Every open request was in a warehouse x item that was allocated, and some got stock.
    assert results["allocate_requests"] == 1_000 and results["allocate_transfers_to_requests"] > 0
    assert results["issues_per_run"] == 8 * 20 and results["stock_report_lines_per_run"] > 0
