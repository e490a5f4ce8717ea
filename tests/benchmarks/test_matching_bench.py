"""The matching benchmark's own figures: cross-script scores and the search measurement."""

from __future__ import annotations

import pytest
from benchmarks.__main__ import cross_script_scores, search_benchmark


def test_cross_script_scores_count_only_pairs_touching_non_latin_records() -> None:
    truth = {("a1", "a2"), ("b1", "b2"), ("c1", "c2")}
    non_latin = {"a1", "a2", "b1", "b2"}
    pairs = [
        ("a1", "a2", 0.999),  # true, cross-script
        ("b1", "b2", 0.6),  # true, cross-script, only below 0.9
        ("a1", "b1", 0.95),  # false, touches a non-Latin record
        ("c1", "c2", 0.99),  # true but Latin: not counted
        ("c1", "x9", 0.99),  # false, Latin: not counted
    ]
    result = cross_script_scores(pairs, truth, non_latin)
    assert result["cross_script_pairs"] == 2
    assert result["cross_script_precision"] == pytest.approx(0.5)
    assert result["cross_script_recall"] == pytest.approx(0.5)
    # At 0.99 only the true pair is left: precision 1.0, recall 0.5.
    assert result["cross_script_recall_at_p99"] == pytest.approx(0.5)
    assert result["cross_script_threshold_at_p99"] == 0.99


def test_search_benchmark_measures_latency_throughput_and_recall() -> None:
    result = search_benchmark(400, 120, batch=50)
    assert result["queries"] == 120
    assert 0 < result["cross_script_queries"] < 120
    assert result["records"] > 400
    assert 0 < result["p50_ms"] <= result["p95_ms"] <= result["p99_ms"]
    assert result["batch_per_s"] > 0
    assert result["single_per_s"] > 0
    assert result["latin_recall"] >= 0.9
    assert result["cross_script_recall"] >= 0.8
