"""Scoring many pairs at once: feature levels from ``vectors``, weights from the model.

``score_pairs`` gives the same bits as ``MatchModel.score`` pair by pair (the tests compare
them) at a small fraction of the cost; explanations are built afterwards for the pairs kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from liaison.matching.columns import IDENTIFIER_KINDS, PRESENCE_BIT, Columns
from liaison.matching.features import IDENTIFIER_FEATURE_KINDS, LEVELS, MISSING, describe
from liaison.matching.record import Prepared
from liaison.matching.scoring import (
    _FLOOR,
    TF_LEVELS,
    Contribution,
    MatchModel,
    MatchResult,
    Thresholds,
)
from liaison.matching.vectors import KERNELS, name_levels

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
_TF_INDEX = np.array([level in TF_LEVELS for level in LEVELS["name"]] + [False])


@dataclass(frozen=True, slots=True)
class PairScores:
    """Scores of pairs (rows ``left`` of one set against rows ``right`` of another)."""

    left: I64
    right: I64
    bits: F64
    levels: dict[str, NDArray[np.int8]]
    feature_bits: F64
    # Pairs left below the floor without comparing names (see ``score_pairs``), if any.
    pruned: NDArray[np.bool_] | None = None

    @property
    def probability(self) -> F64:
        return np.asarray(1.0 / (1.0 + np.exp2(-np.clip(self.bits, -1000, 60))), dtype=np.float64)


def _name_bits(
    model: MatchModel, levels: NDArray[np.int8], symbols: NDArray[np.int32], log2p: F64 | None
) -> F64:
    bits = model.level_bits("name")[levels]
    if log2p is None:
        return np.asarray(bits, dtype=np.float64)
    agreeing = symbols >= 0
    tf = _TF_INDEX[levels] & agreeing.any(axis=1)
    if not tf.any():
        return np.asarray(bits, dtype=np.float64)
    rows = np.flatnonzero(tf)
    total = np.where(agreeing[rows], log2p[np.maximum(symbols[rows], 0)], 0.0).sum(axis=1)
    level = levels[rows]
    m = np.log2(np.maximum(np.array(model.m["name"]), _FLOOR))[level]
    log2u = np.log2(np.maximum(np.array(model.u["name"]), _FLOOR))[level]
    adjusted = np.minimum(
        np.maximum(total, log2u - model.tf_bonus_bits), log2u + model.tf_penalty_bits
    )
    out = np.asarray(bits, dtype=np.float64).copy()
    out[rows] = m - adjusted
    return out


def _identifier_bits(
    model: MatchModel, feature: str, levels: NDArray[np.int8], a: Columns, ia: I64
) -> F64:
    bits = np.asarray(model.level_bits(feature)[levels], dtype=np.float64)
    exact = np.flatnonzero(levels == 0)
    if len(exact):
        k = IDENTIFIER_KINDS.index(feature)
        m = max(model.m[feature][0], _FLOOR)
        u = max(model.u[feature][0], _FLOOR)
        chance = np.exp2(-a.ident_bits[ia[exact], k].astype(np.float64))
        bits[exact] = np.log2(m / np.maximum(u, chance))
    return bits


# Compared last, and only for the pairs that can still reach the floor: the costly features.
COSTLY = ("address", "name")
# The order features are compared in: the cheap ones that say most about strangers first, so
# that a floor leaves out most pairs before the rest are compared; the costly ones last.
STAGES = (
    "birth_date",
    *IDENTIFIER_FEATURE_KINDS,
    "gender",
    "nationality",
    "birth_place",
    *COSTLY,
)


def _both(present: NDArray[np.uint16], feature: str) -> NDArray[np.bool_]:
    """Pairs whose two sides have the field ``feature`` compares, given the ``Columns.present``
    bits both sides share: a pair lacking it on either side is at the missing level (-1)
    without comparing anything."""
    bit = PRESENCE_BIT.get(feature)
    if bit is None:
        return np.ones(len(present), dtype=bool)
    return np.asarray((present & bit) != 0)


def name_ceiling(model: MatchModel, log2p: F64 | None) -> float:
    """The most bits a name comparison can add under ``model`` (frequency bonus included)."""
    ceiling = float(model.level_bits("name").max())
    if log2p is None:
        return ceiling
    m = np.log2(np.maximum(np.array(model.m["name"]), _FLOOR))
    log2u = np.log2(np.maximum(np.array(model.u["name"]), _FLOOR))
    boosted = (m - (log2u - model.tf_bonus_bits))[_TF_INDEX[:-1]]
    return max(ceiling, float(boosted.max(initial=ceiling)))


def _ceiling(model: MatchModel, feature: str, log2p: F64 | None) -> float:
    if feature == "name":
        return name_ceiling(model, log2p)
    return float(model.level_bits(feature).max())


def _feature(
    model: MatchModel,
    feature: str,
    a: Columns,
    ia: I64,
    b: Columns,
    ib: I64,
    log2p: F64 | None,
) -> tuple[NDArray[np.int8], F64]:
    """Levels and bits of one feature for the pairs."""
    if feature == "name":
        level, symbols = name_levels(a, ia, b, ib)
        return level, _name_bits(model, level, symbols, log2p)
    level = KERNELS[feature](a, ia, b, ib)
    if feature in IDENTIFIER_KINDS:
        return level, _identifier_bits(model, feature, level, a, ia)
    return level, np.asarray(model.level_bits(feature)[level], dtype=np.float64)


def score_pairs(
    model: MatchModel,
    a: Columns,
    ia: I64,
    b: Columns,
    ib: I64,
    *,
    population: int,
    log2p: F64 | None = None,
    floor_bits: float | None = None,
) -> PairScores:
    """Bits for every pair (``a`` row ``ia[k]`` against ``b`` row ``ib[k]``).

    ``log2p`` gives log2 of each name symbol's frequency by part number (None: no frequency
    weighting); ``population`` sets the prior as in ``MatchModel.score``.

    Each feature is compared only for the pairs that have it on both sides (the others are at
    its missing level), one feature after another in ``STAGES`` order. With ``floor_bits``, a
    pair is compared on the next feature only while it can still reach the floor given the
    best agreement the model allows on what is left: one that cannot keeps those ceilings as
    the bits of the features not compared (so its bits stay an upper bound, below the floor),
    level -1 ("not compared") for them, and is marked in ``pruned``. Pairs at or above the
    floor get exactly the bits they get without a floor.
    """
    ia = np.asarray(ia, dtype=np.int64)
    ib = np.asarray(ib, dtype=np.int64)
    prior = model.prior_bits(population)
    columns = {feature: column for column, feature in enumerate(model.features)}
    order = [f for f in STAGES if f in columns]
    order = [f for f in model.features if f not in order] + order
    weight = np.zeros((len(ia), len(model.features)))
    levels = {f: np.full(len(ia), -1, dtype=np.int8) for f in model.features}
    # The fields both sides of each pair have: one read of each side's presence bits.
    present = a.present[ia] & b.present[ib]
    both = {f: _both(present, f) for f in order}
    # Features no pair has on both sides are at their missing level for every pair.
    order = [f for f in order if both[f].any()]
    # What each pair can still reach: the prior, the bits known, the ceilings of the rest.
    upper: F64 | None = None
    ceilings: dict[str, float] = {}
    if floor_bits is not None:
        absent = sum(float(model.level_bits(f)[-1]) for f in model.features if f not in order)
        upper = np.full(len(ia), prior + absent)
        for feature in order:
            missing = float(model.level_bits(feature)[-1])
            ceilings[feature] = max(_ceiling(model, feature, log2p), missing)
            upper += np.where(both[feature], ceilings[feature], missing)
    for feature in model.features:
        missing = float(model.level_bits(feature)[-1])
        if missing:
            weight[:, columns[feature]] = missing
    alive = np.arange(len(ia))
    pruned: NDArray[np.bool_] | None = None if upper is None else np.zeros(len(ia), dtype=bool)
    for stage, feature in enumerate(order):
        if upper is not None and pruned is not None and floor_bits is not None:
            reach = upper[alive] >= floor_bits
            dropped = alive[~reach]
            if len(dropped):
                # Left out: the ceilings of the features they are not compared on.
                for later in order[stage:]:
                    weight[dropped[both[later][dropped]], columns[later]] = ceilings[later]
                pruned[dropped] = True
                alive = alive[reach]
        rows = alive[both[feature][alive]]
        if not len(rows):
            continue
        level, bits = _feature(model, feature, a, ia[rows], b, ib[rows], log2p)
        levels[feature][rows] = level
        weight[rows, columns[feature]] = bits
        if upper is not None:
            upper[rows] += bits - ceilings[feature]
    # Summed in the model's feature order, as ``MatchModel.score`` does.
    bits_total = np.full(len(ia), prior)
    for column in range(len(model.features)):
        bits_total += weight[:, column]
    return PairScores(ia, ib, bits_total, levels, weight, pruned)


def explained(
    model: MatchModel,
    scores: PairScores,
    row: int,
    left: Prepared,
    right: Prepared,
    thresholds: Thresholds,
    probability: float,
) -> MatchResult:
    """The MatchResult of pair ``row`` of ``scores`` with the explanation ``MatchModel.score``
    gives for ``left`` and ``right`` (its records): the levels and bits already scored, the
    wording of each feature from ``features.describe``, nothing compared again. The pair must
    have been compared on every feature (not ``pruned``); ``probability`` is its entry in
    ``scores.probability`` (worked out once for all pairs by the caller)."""
    contributions = []
    for column, feature in enumerate(model.features):
        index = int(scores.levels[feature][row])
        level = MISSING if index < 0 else LEVELS[feature][index]
        contributions.append(
            Contribution(
                feature,
                level,
                float(scores.feature_bits[row, column]),
                describe(feature, level, left, right),
            )
        )
    return MatchResult(
        left.ref,
        right.ref,
        probability,
        float(scores.bits[row]),
        thresholds.band(probability),
        tuple(contributions),
    )


def results(
    model: MatchModel,
    scores: PairScores,
    rows: NDArray[np.int64],
    a: Columns,
    b: Columns,
    thresholds: Thresholds,
) -> list[MatchResult]:
    """MatchResults for the chosen rows of ``scores``, with the level of every feature.

    The detail of each contribution names the level; ``MatchModel.score`` on the two prepared
    records gives the fuller wording (the values compared) when a person reads it.
    """
    out = []
    probability = scores.probability
    for row in rows.tolist():
        contributions = []
        for column, feature in enumerate(model.features):
            index = int(scores.levels[feature][row])
            level = MISSING if index < 0 else LEVELS[feature][index]
            bits = float(scores.feature_bits[row, column])
            contributions.append(Contribution(feature, level, bits, level.replace("_", " ")))
        p = float(probability[row])
        out.append(
            MatchResult(
                a.ref(int(scores.left[row])),
                b.ref(int(scores.right[row])),
                p,
                float(scores.bits[row]),
                thresholds.band(p),
                tuple(contributions),
            )
        )
    return out
