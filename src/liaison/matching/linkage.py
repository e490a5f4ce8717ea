"""Deduplicate one set of records or link two: train, block, score, cluster."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from liaison.matching.index import Index
from liaison.matching.record import Prepared
from liaison.matching.scoring import PRESETS, MatchModel, MatchResult, Thresholds, default_model

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Linkage:
    """Scored pairs at or above the threshold, and (for deduplication) clusters."""

    pairs: list[MatchResult]
    clusters: dict[str, str]


# Training rounds: pairs blocked on one kind of key, and the features that kind of key decides.
TRAINING_RULES: tuple[tuple[str, frozenset[str]], ...] = (
    ("dd:", frozenset({"birth_date"})),
    ("nn:", frozenset({"name"})),
)


# When EM implies more matching pairs per record than people are ever recorded, it has learnt
# another cluster (namesakes, relatives sharing an address) instead of "same person".
PLAUSIBLE_MATCHES_PER_RECORD = 3.0


def calibrate(
    model: MatchModel,
    pairs: Sequence[tuple[Prepared, Prepared]],
    expert: MatchModel,
    *,
    candidates: int,
    records: int,
) -> MatchModel:
    """Estimate the prior on candidate pairs; fall back to the expert model if EM went astray."""
    model.estimate_prior(pairs)
    if model.prior * candidates > PLAUSIBLE_MATCHES_PER_RECORD * max(1, records):
        model.m = {feature: list(values) for feature, values in expert.m.items()}
        model.u = {feature: list(values) for feature, values in expert.u.items()}
        model.prior = expert.prior
    return model


def train(index: Index, *, sample: int = 100_000, seed: int = 1) -> MatchModel:
    """Estimate u from random pairs and m by EM per blocking rule, on the data in ``index``."""
    model = index.model
    records = [r for i, r in enumerate(index.records) if i not in index.removed]
    model.estimate_u(records, seed=seed)
    priors = []
    for prefix, decided in TRAINING_RULES:
        pairs = index.sample_pairs(prefix, limit=sample, seed=seed)
        if len(pairs) >= 100:
            priors.append(model.estimate_m(pairs, exclude=decided))
    index.refresh_frequencies()
    return model


def _clusters(refs: Sequence[str], pairs: Sequence[MatchResult]) -> dict[str, str]:
    parent = {ref: ref for ref in refs}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for pair in pairs:
        a, b = find(pair.left), find(pair.right)
        if a != b:
            parent[max(a, b)] = min(a, b)
    return {ref: find(ref) for ref in refs}


def _thresholds(threshold: float | None) -> Thresholds:
    preset = PRESETS["dedupe"]
    return Thresholds(threshold, min(threshold, preset.possible)) if threshold else preset


def _snapshot(model: MatchModel) -> MatchModel:
    """The model's m and u before estimation, to fall back on."""
    return MatchModel(
        m={k: list(v) for k, v in model.m.items()}, u={k: list(v) for k, v in model.u.items()}
    )


def _estimate(
    model: MatchModel,
    training: Index,
    pairs: Sequence[tuple[Prepared, Prepared]],
    *,
    candidates: int,
    records: int,
) -> None:
    expert = _snapshot(model)
    train(training)
    calibrate(model, pairs, expert, candidates=candidates, records=records)


def _score(
    model: MatchModel,
    left: Sequence[Prepared],
    right: Sequence[Prepared],
    candidate: Sequence[tuple[int, int]],
    thresholds: Thresholds,
    progress: Progress | None,
) -> list[MatchResult]:
    results = []
    for done, (i, j) in enumerate(candidate, start=1):
        # Explanations are built only for the pairs that are kept.
        if model.probability(left[i], right[j]) >= thresholds.match:
            results.append(model.score(left[i], right[j], thresholds))
        if progress is not None and done % 10_000 == 0:
            progress(done, len(candidate))
    return results


def _sample(
    left: Sequence[Prepared], right: Sequence[Prepared], candidate: Sequence[tuple[int, int]]
) -> list[tuple[Prepared, Prepared]]:
    step = max(1, len(candidate) // 100_000)
    return [(left[i], right[j]) for i, j in candidate[::step]]


def dedupe(
    records: Sequence[Prepared],
    *,
    threshold: float | None = None,
    model: MatchModel | None = None,
    estimate: bool = True,
    progress: Progress | None = None,
) -> Linkage:
    """Find the records that are the same person; cluster ids are the smallest ref of a cluster."""
    thresholds = _thresholds(threshold)
    index = Index(model or default_model())
    index.add_all(records)
    candidate = list(index.pairs())
    if estimate:
        _estimate(
            index.model,
            index,
            _sample(records, records, candidate),
            candidates=len(candidate),
            records=len(records),
        )
    results = _score(index.model, records, records, candidate, thresholds, progress)
    return Linkage(results, _clusters([r.ref for r in records], results))


def link(
    left: Sequence[Prepared],
    right: Sequence[Prepared],
    *,
    threshold: float | None = None,
    model: MatchModel | None = None,
    estimate: bool = True,
    one_to_one: bool = False,
    progress: Progress | None = None,
) -> Linkage:
    """Pairs between two sets of records that are the same person."""
    thresholds = _thresholds(threshold)
    index = Index(model or default_model())
    index.add_all(right)
    candidate = [(i, j) for i, record in enumerate(left) for j in index.candidates(record)]
    if estimate:
        both = Index(index.model)
        both.add_all([*left, *right])
        _estimate(
            index.model,
            both,
            _sample(left, right, candidate),
            candidates=len(candidate),
            records=len(left),
        )
        index.refresh_frequencies()
    results = _score(index.model, left, right, candidate, thresholds, progress)
    if one_to_one:
        results = _best_one_to_one(results)
    return Linkage(results, {})


def _best_one_to_one(results: list[MatchResult]) -> list[MatchResult]:
    """Keep each record's best partner only (when both files hold each person at most once)."""
    results = sorted(results, key=lambda r: (-r.probability, r.left, r.right))
    used_left: set[str] = set()
    used_right: set[str] = set()
    kept = []
    for result in results:
        if result.left in used_left or result.right in used_right:
            continue
        used_left.add(result.left)
        used_right.add(result.right)
        kept.append(result)
    return kept
