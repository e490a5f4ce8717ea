"""Estimating a model's weights from unlabelled data, as Splink does.

- **u** (how often unrelated records agree) from random pairs: almost all are different people.
- **m** (how often the records of one person agree) by expectation–maximisation over pairs that
  share a candidate key, one kind of key at a time, leaving out the features that kind of key
  decides (pairs sharing a birth date say nothing about how often dates agree).
- Nationality and place of birth follow the name (same-name strangers often share them), so
  their **u** is estimated, with their m, among pairs that share a name.
- **matches_per_record**, which sets the prior, as the fixed point of "expected matches among
  the candidate pairs", scored exactly as they will be.

When the data cannot support an estimate (too few records, too few pairs, or estimates that
imply more records per person than registers ever hold), the starting values stay.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from liaison.matching.columns import Columns
from liaison.matching.features import LEVELS
from liaison.matching.scoring import MatchModel
from liaison.matching.vectors import KERNELS, name_levels

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]
Levels = NDArray[np.int8]

MIN_RECORDS_FOR_U = 500
MIN_PAIRS_FOR_M = 200
# Estimates implying more records of one person than this per record mean EM learnt another
# kind of cluster (namesakes, households) instead of "the same person".
PLAUSIBLE_MATCHES_PER_RECORD = 5.0


@dataclass(frozen=True, slots=True)
class TrainingRule:
    """Pairs sharing a key of ``kind`` train every feature but ``decided``; ``conditional_u``
    features get their u from these pairs too."""

    kind: str
    decided: frozenset[str]
    conditional_u: frozenset[str] = frozenset()


# Pairs found by name share more than the name: nationality, place of birth and the e-mail
# mailbox (often made of the name: anna.kowalska@…) agree among namesakes far more often than
# among random pairs. Their u comes from the name-blocked pairs the model takes for strangers;
# with u from random pairs, namesakes' shared mailboxes pass for strong evidence and the
# expectation-maximisation learns that true matches often differ in birth date.
TRAINING_RULES = (
    TrainingRule("dd", frozenset({"birth_date"})),
    TrainingRule("nn", frozenset({"name"}), frozenset({"nationality", "birth_place", "email"})),
)


def level_matrix(model: MatchModel, a: Columns, ia: I64, b: Columns, ib: I64) -> Levels:
    """Feature levels of many pairs: one column per model feature, -1 when missing."""
    matrix = np.full((len(ia), len(model.features)), -1, dtype=np.int8)
    for column, feature in enumerate(model.features):
        if feature == "name":
            matrix[:, column] = name_levels(a, ia, b, ib)[0]
        else:
            matrix[:, column] = KERNELS[feature](a, ia, b, ib)
    return matrix


def _smoothed(counts: F64) -> list[float]:
    # Half a count per level keeps unseen agreement rare but possible.
    return [float(x) for x in (counts + 0.5) / (counts.sum() + 0.5 * len(counts))]


def estimate_u(
    model: MatchModel,
    a: Columns,
    rows_a: I64,
    b: Columns,
    rows_b: I64,
    *,
    samples: int = 200_000,
    seed: int = 1,
) -> Levels | None:
    """u probabilities from random pairs of ``rows_a`` × ``rows_b`` (distinct rows); returns
    the levels of the pairs drawn (None when there are too few records)."""
    if min(len(rows_a), len(rows_b)) < MIN_RECORDS_FOR_U:
        return None
    rng = np.random.default_rng(seed)
    ia = rows_a[rng.integers(0, len(rows_a), samples)]
    ib = rows_b[rng.integers(0, len(rows_b), samples)]
    distinct = (ia != ib) | (a is not b)
    levels = level_matrix(model, a, ia[distinct], b, ib[distinct])
    for column, feature in enumerate(model.features):
        observed = levels[:, column][levels[:, column] >= 0]
        if len(observed) >= 100:
            counts = np.bincount(observed, minlength=len(LEVELS[feature])).astype(float)
            model.u[feature] = _smoothed(counts)
    return levels


def without_matches(
    model: MatchModel,
    levels: Levels,
    *,
    features: Sequence[str],
    records: int,
    iterations: int = 10,
) -> None:
    """Take the true matches back out of u.

    Random pairs of a small file include some of its true matches (one pair in ``records``
    when each record has one other), and these make agreement look commoner among strangers
    than it is: a full address shared by one pair in ten thousand instead of almost never.
    The pairs are weighted by the chance that they are strangers, under the trained m and u
    and a match share estimated alongside (starting from one match per record), and u is
    counted again from those weights. In a large file the weights are all but one and
    nothing changes.
    """
    columns = [model.features.index(f) for f in features]
    share = 1.0 / max(records, 2)
    for _ in range(iterations):
        bits = np.full(len(levels), np.log2(share / (1 - share)))
        for feature, column in zip(features, columns, strict=True):
            bits += model.level_bits(feature)[levels[:, column]]
        match = 1.0 / (1.0 + np.exp2(-np.clip(bits, -1000, 60)))
        share = float(np.clip(match.mean(), 1e-9, 0.5))
        for feature, column in zip(features, columns, strict=True):
            present = levels[:, column] >= 0
            counts = np.bincount(
                levels[present, column],
                weights=1.0 - match[present],
                minlength=len(LEVELS[feature]),
            ).astype(np.float64)
            if present.sum() >= 100:
                model.u[feature] = _smoothed(counts)


def expectation_maximisation(
    model: MatchModel,
    levels: Levels,
    rule: TrainingRule,
    *,
    iterations: int = 25,
) -> tuple[dict[str, list[float]], dict[str, list[float]], float]:
    """m (and conditional u) of the features a rule trains; returns them and the match share."""
    features = [f for f in model.features if f not in rule.decided]
    columns = [model.features.index(f) for f in features]
    m = {f: np.array(model.m[f], dtype=np.float64) for f in features}
    u = {f: np.array(model.u[f], dtype=np.float64) for f in features}
    share = 0.1
    posterior = np.zeros(len(levels))
    for _ in range(iterations):
        log_odds = np.full(len(levels), np.log(share / (1 - share)))
        for feature, column in zip(features, columns, strict=True):
            present = levels[:, column] >= 0
            index = levels[present, column]
            log_odds[present] += np.log(np.maximum(m[feature][index], 1e-12)) - np.log(
                np.maximum(u[feature][index], 1e-12)
            )
        posterior = 1.0 / (1.0 + np.exp(-np.clip(log_odds, -500, 500)))
        share = float(np.clip(posterior.mean(), 1e-6, 0.999))
        for feature, column in zip(features, columns, strict=True):
            present = levels[:, column] >= 0
            index = levels[present, column]
            size = len(LEVELS[feature])
            matched = np.bincount(index, weights=posterior[present], minlength=size)
            if matched.sum() > 1.0:
                m[feature] = (matched + 0.01) / (matched.sum() + 0.01 * size)
            if feature in rule.conditional_u:
                unmatched = np.bincount(index, weights=1 - posterior[present], minlength=size)
                if unmatched.sum() > 50:
                    u[feature] = (unmatched + 0.5) / (unmatched.sum() + 0.5 * size)
    return (
        {f: [float(x) for x in m[f]] for f in features},
        {f: [float(x) for x in u[f]] for f in features if f in rule.conditional_u},
        share,
    )


def matches_per_record(
    model: MatchModel,
    bits_without_prior: F64,
    *,
    candidates: int,
    records: int,
    population: int,
    pairs_per_match: float,
    iterations: int = 30,
) -> float:
    """The expected number of other records per person record, as the fixed point of scoring
    the candidate pairs with the prior it implies. ``bits_without_prior`` may be a sample of
    the candidates; ``pairs_per_match`` is 2 for deduplication (each pair counts for both
    records) and 1 for linkage."""
    if len(bits_without_prior) == 0 or records == 0:
        return model.matches_per_record
    scale = candidates / len(bits_without_prior)
    value = model.matches_per_record
    for _ in range(iterations):
        trial = model.copy()
        trial.matches_per_record = value
        bits = bits_without_prior + trial.prior_bits(population)
        expected = float((1.0 / (1.0 + np.exp2(-np.clip(bits, -1000, 60)))).sum()) * scale
        value = float(np.clip(pairs_per_match * expected / records, 1e-3, 1e5))
    return value


def sample(left: I64, right: I64, limit: int, seed: int) -> tuple[I64, I64]:
    """At most ``limit`` of the pairs, chosen at random but reproducibly."""
    if len(left) <= limit:
        return left, right
    chosen = np.sort(np.random.default_rng(seed).choice(len(left), limit, replace=False))
    return left[chosen], right[chosen]


def fit(
    model: MatchModel,
    a: Columns,
    b: Columns,
    *,
    random_rows: tuple[I64, I64],
    rule_pairs: Sequence[tuple[TrainingRule, I64, I64]],
    seed: int = 1,
) -> MatchModel:
    """Estimate u from random pairs and m per training rule; returns a new model."""
    trained = model.copy()
    random_levels = estimate_u(trained, a, random_rows[0], b, random_rows[1], seed=seed)
    estimates: dict[str, list[list[float]]] = {}
    conditional: set[str] = set()
    for rule, ia, ib in rule_pairs:
        if len(ia) < MIN_PAIRS_FOR_M:
            continue
        levels = level_matrix(trained, a, ia, b, ib)
        m, u, _share = expectation_maximisation(trained, levels, rule)
        for feature, values in m.items():
            estimates.setdefault(feature, []).append(values)
        for feature, values in u.items():
            trained.u[feature] = values
            conditional.add(feature)
    for feature, runs in estimates.items():
        trained.m[feature] = [float(x) for x in np.mean(np.array(runs), axis=0)]
    if random_levels is not None and estimates:
        without_matches(
            trained,
            random_levels,
            features=[f for f in trained.features if f not in conditional],
            records=max(len(random_rows[0]), len(random_rows[1])),
        )
    return trained
