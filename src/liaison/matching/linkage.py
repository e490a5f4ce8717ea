"""Deduplicate one set of records or link two: block, train, score, cluster.

``dedupe`` and ``link`` take prepared records and return a ``Linkage``: the scored pairs at or
above the threshold (built into ``MatchResult``s only when read) and, for deduplication, the
cluster of every record.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import overload

import numpy as np
from numpy.typing import NDArray

from liaison.matching.batch import results, score_pairs
from liaison.matching.columns import Columns
from liaison.matching.estimate import (
    PLAUSIBLE_MATCHES_PER_RECORD,
    TRAINING_RULES,
    fit,
    matches_per_record,
    sample,
)
from liaison.matching.index import MAX_BLOCK, TRAINING_BLOCK, Index
from liaison.matching.keys import candidate_keys
from liaison.matching.parallel import score_all
from liaison.matching.postings import KIND_CODES, Postings, key_hash, within_pairs
from liaison.matching.record import Prepared
from liaison.matching.scoring import PRESETS, MatchModel, MatchResult, Thresholds, default_model

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]
Progress = Callable[[int, int], None]

TRAINING_PAIRS = 200_000
CALIBRATION_PAIRS = 200_000


class PairList(Sequence[MatchResult]):
    """Scored pairs, made into ``MatchResult``s (with the level of every feature) when read."""

    def __init__(
        self,
        model: MatchModel,
        a: Columns,
        b: Columns,
        left: I64,
        right: I64,
        thresholds: Thresholds,
        population: int,
        log2p: F64 | None,
    ) -> None:
        self.model, self.a, self.b = model, a, b
        self.left, self.right = left, right
        self.thresholds, self.population, self.log2p = thresholds, population, log2p

    def __len__(self) -> int:
        return len(self.left)

    @overload
    def __getitem__(self, index: int) -> MatchResult: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[MatchResult]: ...

    def __getitem__(self, index: int | slice) -> MatchResult | Sequence[MatchResult]:
        if isinstance(index, slice):
            return self._build(np.arange(len(self))[index])
        if not -len(self) <= index < len(self):
            raise IndexError(index)
        return self._build(np.array([index % len(self)]))[0]

    def __iter__(self) -> Iterator[MatchResult]:
        for start in range(0, len(self), 10_000):
            yield from self._build(np.arange(start, min(start + 10_000, len(self))))

    def _build(self, rows: I64) -> list[MatchResult]:
        scores = score_pairs(
            self.model,
            self.a,
            self.left[rows],
            self.b,
            self.right[rows],
            population=self.population,
            log2p=self.log2p,
        )
        return results(self.model, scores, np.arange(len(rows)), self.a, self.b, self.thresholds)

    def rows(self) -> Iterator[tuple[str, str, float]]:
        """(left ref, right ref, probability) of every pair, without explanations (fast)."""
        for start in range(0, len(self), 50_000):
            end = min(start + 50_000, len(self))
            scores = score_pairs(
                self.model,
                self.a,
                self.left[start:end],
                self.b,
                self.right[start:end],
                population=self.population,
                log2p=self.log2p,
            )
            for i, j, p in zip(
                self.left[start:end].tolist(),
                self.right[start:end].tolist(),
                scores.probability.tolist(),
                strict=True,
            ):
                yield self.a.ref(i), self.b.ref(j), p


@dataclass(frozen=True, slots=True)
class Linkage:
    """Scored pairs at or above the threshold, best first, and (deduplication) clusters:
    every record's ref → the ref of the first record of its cluster (in input order)."""

    pairs: Sequence[MatchResult]
    clusters: dict[str, str] = field(default_factory=dict)
    model: MatchModel | None = None


def _thresholds(threshold: float | None) -> Thresholds:
    if threshold is None:
        return PRESETS["dedupe"]
    return Thresholds(threshold, min(threshold, PRESETS["dedupe"].possible))


def _logit(probability: float) -> float:
    return float(np.log2(probability / (1 - probability)))


def clusters(size: int, left: I64, right: I64) -> I64:
    """Connected components of rows joined by pairs: each row's label is the smallest row of
    its component (label propagation with pointer jumping, all in numpy)."""
    labels = np.arange(size, dtype=np.int64)
    if len(left) == 0:
        return labels
    while True:
        low = np.minimum(labels[left], labels[right])
        before = labels.copy()
        np.minimum.at(labels, left, low)
        np.minimum.at(labels, right, low)
        while True:
            jumped = labels[labels]
            if np.array_equal(jumped, labels):
                break
            labels = jumped
        if np.array_equal(before, labels):
            return labels


def train(
    index: Index,
    *,
    candidates: tuple[I64, I64] | None = None,
    pairs_per_match: float = 2.0,
    seed: int = 1,
) -> MatchModel:
    """Estimate the model's weights from the records in ``index`` (deduplication).

    u from random pairs, m by EM on pairs sharing a birth date and on pairs sharing names,
    then ``matches_per_record`` from the candidate pairs (``index.pair_arrays()`` by default).
    Falls back to the index's model when the estimates are implausible.
    """
    columns = index.columns
    rows = np.flatnonzero(~index.removed[: columns.size]).astype(np.int64)
    rule_pairs = [
        (rule, *index.sample_pairs(rule.kind, limit=TRAINING_PAIRS, seed=seed))
        for rule in TRAINING_RULES
    ]
    trained = fit(
        index.model, columns, columns, random_rows=(rows, rows), rule_pairs=rule_pairs, seed=seed
    )
    left, right = candidates if candidates is not None else index.pair_arrays()
    return _calibrate(
        trained,
        index.model,
        columns,
        left,
        columns,
        right,
        records=len(rows),
        population=max(len(rows) - 1, 1),
        pairs_per_match=pairs_per_match,
        log2p=index.log2p(),
        seed=seed,
    )


def _calibrate(
    trained: MatchModel,
    fallback: MatchModel,
    a: Columns,
    left: I64,
    b: Columns,
    right: I64,
    *,
    records: int,
    population: int,
    pairs_per_match: float,
    log2p: F64 | None,
    seed: int,
) -> MatchModel:
    sample_left, sample_right = sample(left, right, CALIBRATION_PAIRS, seed)
    scores = score_pairs(
        trained, a, sample_left, b, sample_right, population=population, log2p=log2p
    )
    without_prior = scores.bits - trained.prior_bits(population)
    estimate = matches_per_record(
        trained,
        without_prior,
        candidates=len(left),
        records=records,
        population=population,
        pairs_per_match=pairs_per_match,
    )
    if estimate > PLAUSIBLE_MATCHES_PER_RECORD:
        return fallback.copy()
    trained.matches_per_record = max(estimate, 0.01)
    return trained


def dedupe(
    records: Sequence[Prepared],
    *,
    threshold: float | None = None,
    model: MatchModel | None = None,
    estimate: bool = True,
    progress: Progress | None = None,
    workers: int | None = None,
) -> Linkage:
    """Find the records that are the same person.

    ``threshold`` is the match probability a pair needs (default 0.9); ``estimate`` trains the
    model on these records first (``model`` or the shipped default is the starting point);
    ``workers`` caps the processes used for scoring (default: every core).
    """
    thresholds = _thresholds(threshold)
    index = Index(model.copy() if model else default_model())
    index.add_all(records)
    left, right = index.pair_arrays()
    if estimate:
        index.model = train(index, candidates=(left, right))
    columns = index.columns
    population = max(len(index) - 1, 1)
    log2p = index.log2p()
    bits = score_all(
        index.model,
        columns,
        left,
        columns,
        right,
        population=population,
        log2p=log2p,
        workers=workers,
        progress=progress,
        # Pairs that cannot reach the threshold are not compared in full (see score_pairs).
        floor_bits=_logit(thresholds.match) - 1e-6,
    )
    keep = np.flatnonzero(bits >= _logit(thresholds.match))
    keep = keep[np.lexsort((right[keep], left[keep], -bits[keep]))]
    kept_left, kept_right = left[keep], right[keep]
    labels = clusters(columns.size, kept_left, kept_right)
    refs = [columns.ref(i) for i in range(columns.size)]
    pairs = PairList(
        index.model, columns, columns, kept_left, kept_right, thresholds, population, log2p
    )
    return Linkage(
        pairs, {refs[i]: refs[label] for i, label in enumerate(labels.tolist())}, index.model
    )


def _query_postings(records: Sequence[Prepared], first_row: int) -> Postings:
    hashes, kinds, rows = [], [], []
    for offset, record in enumerate(records):
        for key in candidate_keys(record, query=True):
            hashes.append(key_hash(key))
            kinds.append(KIND_CODES[key[:2]])
            rows.append(first_row + offset)
    postings = Postings()
    postings.add_arrays(
        np.array(hashes, dtype=np.int64),
        np.array(kinds, dtype=np.int8),
        np.array(rows, dtype=np.int64),
    )
    return postings


def cross_pairs(
    queries: Postings, stored: Postings, *, max_block: int = MAX_BLOCK
) -> tuple[I64, I64]:
    """Pairs (query row, stored row) sharing a key that neither side holds too often."""
    stored.compact()
    common, qi, si = np.intersect1d(queries.keys, stored.keys, return_indices=True)
    q_size = np.diff(queries.offsets)[qi]
    s_size = np.diff(stored.offsets)[si]
    keep = (q_size <= max_block) & (s_size <= max_block)
    chunks: list[I64] = []
    stored_rows = max(int(stored.rows.max(initial=0)) + 1, 1)
    for q, s in {(int(a), int(b)) for a, b in zip(q_size[keep], s_size[keep], strict=True)}:
        group = keep & (q_size == q) & (s_size == s)
        q_rows = queries.rows[queries.offsets[:-1][qi[group]][:, None] + np.arange(q)]
        s_rows = stored.rows[stored.offsets[:-1][si[group]][:, None] + np.arange(s)]
        left = np.repeat(q_rows, s, axis=1).astype(np.int64).ravel()
        right = np.tile(s_rows, (1, q)).astype(np.int64).ravel()
        chunks.append(left * stored_rows + right)
    del common
    if not chunks:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    codes = np.unique(np.concatenate(chunks))
    return np.divmod(codes, stored_rows)


def link(
    left: Sequence[Prepared],
    right: Sequence[Prepared],
    *,
    threshold: float | None = None,
    model: MatchModel | None = None,
    estimate: bool = True,
    one_to_one: bool = False,
    progress: Progress | None = None,
    workers: int | None = None,
) -> Linkage:
    """Pairs of records, one from each set, that are the same person.

    ``one_to_one`` keeps each record's best partner only (when each set holds a person once).
    """
    thresholds = _thresholds(threshold)
    base = model.copy() if model else default_model()
    index = Index(base)
    index.add_all(right)
    queries = Columns(index.vocabulary, capacity=len(left))
    queries.extend(left)
    pair_left, pair_right = cross_pairs(_query_postings(left, 0), index.postings)
    population = max(len(index), 1)
    if estimate:
        index.model = _train_link(base, left, right, index, queries, pair_left, pair_right)
    log2p = index.log2p()
    bits = score_all(
        index.model,
        queries,
        pair_left,
        index.columns,
        pair_right,
        population=population,
        log2p=log2p,
        workers=workers,
        progress=progress,
        # Pairs that cannot reach the threshold are not compared in full (see score_pairs).
        floor_bits=_logit(thresholds.match) - 1e-6,
    )
    keep = np.flatnonzero(bits >= _logit(thresholds.match))
    keep = keep[np.lexsort((pair_right[keep], pair_left[keep], -bits[keep]))]
    if one_to_one:
        keep = _best_one_to_one(keep, pair_left, pair_right)
    pairs = PairList(
        index.model,
        queries,
        index.columns,
        pair_left[keep],
        pair_right[keep],
        thresholds,
        population,
        log2p,
    )
    return Linkage(pairs, {}, index.model)


def _train_link(
    base: MatchModel,
    left: Sequence[Prepared],
    right: Sequence[Prepared],
    index: Index,
    queries: Columns,
    pair_left: I64,
    pair_right: I64,
) -> MatchModel:
    """Train on both sets together: random pairs and blocked pairs across the two."""
    combined = Columns(index.vocabulary, capacity=len(left) + len(right))
    combined.extend(left)
    combined.extend(right)
    postings = Postings()
    hashes, kinds, rows = [], [], []
    for row, record in enumerate([*left, *right]):
        for key in candidate_keys(record):
            hashes.append(key_hash(key))
            kinds.append(KIND_CODES[key[:2]])
            rows.append(row)
    postings.add_arrays(
        np.array(hashes, dtype=np.int64),
        np.array(kinds, dtype=np.int8),
        np.array(rows, dtype=np.int64),
    )
    split = len(left)
    rule_pairs = []
    for rule in TRAINING_RULES:
        within = within_pairs(postings, combined.size, max_block=TRAINING_BLOCK, kinds=(rule.kind,))
        cross = _cross_only(*within, split)
        rule_pairs.append((rule, *sample(*cross, TRAINING_PAIRS, 1)))
    every = np.arange(combined.size, dtype=np.int64)
    trained = fit(
        base, combined, combined, random_rows=(every[:split], every[split:]), rule_pairs=rule_pairs
    )
    return _calibrate(
        trained,
        base,
        queries,
        pair_left,
        index.columns,
        pair_right,
        records=len(left),
        population=max(len(index), 1),
        pairs_per_match=1.0,
        log2p=index.log2p(),
        seed=1,
    )


def _cross_only(left: I64, right: I64, split: int) -> tuple[I64, I64]:
    """Training pairs of a combined index, restricted to one record from each set."""
    cross = (left < split) != (right < split)
    low, high = np.minimum(left, right)[cross], np.maximum(left, right)[cross]
    return low, high


def _best_one_to_one(order: I64, left: I64, right: I64) -> I64:
    """Keep each record's best partner only (``order`` is best first)."""
    used_left: set[int] = set()
    used_right: set[int] = set()
    kept = []
    for k in order.tolist():
        i, j = int(left[k]), int(right[k])
        if i in used_left or j in used_right:
            continue
        used_left.add(i)
        used_right.add(j)
        kept.append(k)
    return np.array(kept, dtype=np.int64)
