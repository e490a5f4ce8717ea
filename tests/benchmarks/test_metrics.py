"""The benchmark's metrics: pairwise precision, recall, F1, threshold sweep, percentiles."""

from __future__ import annotations

from benchmarks.metrics import best_over_thresholds, pair_key, percentile, scores


def test_scores_count_unordered_pairs() -> None:
    truth = {pair_key("a", "b"), pair_key("c", "d")}
    predicted = [("b", "a", 0.95), ("a", "c", 0.92), ("c", "d", 0.5)]
    at = scores(predicted, truth, 0.9)
    assert (at.precision, at.recall) == (0.5, 0.5)
    best = best_over_thresholds(predicted, truth)
    assert best.f1 > at.f1
    assert best.threshold <= 0.5


def test_percentile() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) in (50.0, 51.0)
    assert percentile(values, 99) >= 99.0
