"""Pairwise precision, recall and F1, threshold sweeps, latency percentiles."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Scores:
    precision: float
    recall: float
    f1: float
    threshold: float


def pair_key(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


def scores(
    predicted: Iterable[tuple[str, str, float]], truth: set[tuple[str, str]], threshold: float
) -> Scores:
    chosen = {pair_key(a, b) for a, b, p in predicted if p >= threshold}
    true_positive = len(chosen & truth)
    precision = true_positive / len(chosen) if chosen else 0.0
    recall = true_positive / len(truth) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Scores(precision, recall, f1, threshold)


def best_over_thresholds(
    predicted: Sequence[tuple[str, str, float]], truth: set[tuple[str, str]]
) -> Scores:
    candidates = [0.01, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999]
    return max((scores(predicted, truth, t) for t in candidates), key=lambda s: s.f1)


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]
