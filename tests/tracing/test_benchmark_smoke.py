"""benchmarks/tracing.py at a tiny size: it loads, measures and prints the agreed JSON."""

from __future__ import annotations

from tests import benchmark_smoke

TINY = ["--persons", "1000", "--registrations", "8000", "--reports", "1000",
        "--cases", "5", "--secondary-cases", "2", "--import-rows", "2000"]


def test_the_tracing_benchmark_prints_its_figures_at_a_tiny_size() -> None:
    summary = benchmark_smoke.summary("tracing.py", *TINY, timeout=240)
    assert set(summary) >= {"benchmark", "params", "results", "ratios"}
    assert summary["benchmark"] == "tracing"
    results = summary["results"]
    for key in ("contacts_p50_ms", "contacts_p95_ms", "contacts_sql_p95_ms",
                "contacts_rerun_p95_ms", "secondary_p95_ms", "secondary_sql_p95_ms",
                "verify_reports_per_s", "verify_rerun_reports_per_s",
                "verify_sql_reports_per_s", "import_rows_per_s", "import_copy_rows_per_s"):
        assert isinstance(results[key], int | float) and results[key] > 0, key
    assert {"contacts_http_vs_sql_p95", "verify_vs_sql", "import_vs_copy"} <= set(
        summary["ratios"])
    sizes = summary["params"]["sizes"]
    assert sizes["persons"] == 1000 and sizes["registrations"] >= 8000
    assert sizes["reports"] == 1000 and sizes["stays"] > 0
    # The generated rows lie in their days' partitions (the loader refuses invalid
    # indexes), so reads prune and probe indexes as they do in production.
    assert sizes["registration_partitions"] >= 28 and sizes["registrations_in_default"] == 0
    # The searches found people, and the API and the hand-written SQL agree on how many.
    assert results["contacts_per_case_median"] > 0
    assert results["verify_reports"] > 0 and results["verify_findings"] > 0
