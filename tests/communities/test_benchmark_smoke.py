"""benchmarks/community.py at its tiniest: it runs end to end and prints the agreed JSON."""

from __future__ import annotations

from tests import benchmark_smoke

TINY = ["--compounds", "3", "--households", "20", "--history-days", "2",
        "--gate-compounds", "2", "--gate-requests", "30", "--rate", "60",
        "--concurrent-requests", "30", "--concurrent-rate", "80", "--warmup-requests", "20",
        "--list-requests", "10", "--list-rate", "50", "--workers", "1"]


def test_the_community_benchmark_prints_its_figures_at_the_tiniest_size() -> None:
    summary = benchmark_smoke.summary("community.py", *TINY, timeout=90)
    assert summary["benchmark"] == "community"
    results = summary["results"]
    for key in ("gate_decision_p99_ms", "who_is_out_p95_ms", "checkpoint_decision_p99_ms",
                "who_is_out_sql_p95_ms", "gate_seq_p50_ms", "gate_c4_p99_ms", "load_s"):
        assert isinstance(results[key], int | float) and results[key] > 0, key
    assert set(summary["goals"]) == set(summary["met"]) == {"gate_decision_p99_ms",
                                                            "who_is_out_p95_ms"}
    assert all(isinstance(v, bool) for v in summary["met"].values())
    assert {"gate_vs_checkpoint_p99", "who_is_out_http_vs_sql_p95"} <= set(summary["ratios"])
    sizes = summary["params"]["sizes"]
    assert sizes["communities"] == 3 and sizes["households"] == 60
    assert sizes["people"] == sizes["residents"] == sizes["passes"] > 60
    assert summary["params"]["machine"]["cpus"] >= 1
    # Residents went out and came back through the gates; the checkpoint let them through.
    assert results["gate_outcomes"]["allow"] > 0
    assert set(results["checkpoint_outcomes"]) == {"allow"}
    assert results["who_is_out_rows"] >= 0


def test_the_gate_cpu_benchmark_compares_both_paths_at_the_tiniest_size() -> None:
    summary = benchmark_smoke.summary("gate_cpu.py", "--households", "2", "--decisions", "10",
                                      "--rounds", "1", timeout=120)
    assert summary["benchmark"] == "gate_cpu"
    results = summary["results"]
    for path in ("generic", "fast"):
        assert results[f"{path}_server_cpu_ms_per_decision"] > 0
    assert sum(results["outcomes"].values()) == 2 * 10  # the measured block of each path
    assert summary["ratios"]["fast_vs_generic_server_cpu"] > 0
