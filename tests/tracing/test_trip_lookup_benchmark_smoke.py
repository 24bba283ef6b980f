"""benchmarks/trip_lookup.py at a tiny size: it loads, measures and prints the agreed JSON."""

from __future__ import annotations

from tests import benchmark_smoke


def test_the_trip_lookup_benchmark_prints_its_figures_at_a_tiny_size() -> None:
    summary = benchmark_smoke.summary("trip_lookup.py", "--reports", "3000", "--runs", "3",
                                      "--trains", "10", timeout=240)
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
