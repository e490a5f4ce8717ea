"""Scoring many pairs at once: feature levels from ``vectors``, weights from the model.

``score_pairs`` gives the same bits as ``MatchModel.score`` pair by pair (the tests compare
them) at a small fraction of the cost; explanations are built afterwards for the pairs kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from liaison.matching.columns import IDENTIFIER_KINDS, Columns
from liaison.matching.features import LEVELS, MISSING
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
    feature_bits: NDArray[np.float32]
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


def name_ceiling(model: MatchModel, log2p: F64 | None) -> float:
    """The most bits a name comparison can add under ``model`` (frequency bonus included)."""
    ceiling = float(model.level_bits("name").max())
    if log2p is None:
        return ceiling
    m = np.log2(np.maximum(np.array(model.m["name"]), _FLOOR))
    log2u = np.log2(np.maximum(np.array(model.u["name"]), _FLOOR))
    boosted = (m - (log2u - model.tf_bonus_bits))[_TF_INDEX[:-1]]
    return max(ceiling, float(boosted.max(initial=ceiling)))


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

    With ``floor_bits``, the names (the costly comparison) are compared only for pairs whose
    other features leave them able to reach it: a pair that stays below the floor even with the
    best name agreement the model allows keeps that ceiling as its bits (below the floor), name
    level -1 ("not compared"), and is marked in ``pruned``. Pairs at or above the floor get
    exactly the bits they get without a floor.
    """
    ia = np.asarray(ia, dtype=np.int64)
    ib = np.asarray(ib, dtype=np.int64)
    prior = model.prior_bits(population)
    weight = np.zeros((len(ia), len(model.features)))
    levels: dict[str, NDArray[np.int8]] = {}
    name_column = -1
    for column, feature in enumerate(model.features):
        if feature == "name":
            name_column = column
            continue
        level = KERNELS[feature](a, ia, b, ib)
        if feature in IDENTIFIER_KINDS:
            weights = _identifier_bits(model, feature, level, a, ia)
        else:
            weights = np.asarray(model.level_bits(feature)[level], dtype=np.float64)
        levels[feature] = level
        weight[:, column] = weights
    pruned: NDArray[np.bool_] | None = None
    if name_column >= 0:
        compared = np.arange(len(ia))
        if floor_bits is not None and len(ia):
            others = prior + weight.sum(axis=1)
            pruned = others + name_ceiling(model, log2p) < floor_bits
            compared = np.flatnonzero(~pruned)
        level = np.full(len(ia), -1, dtype=np.int8)
        weights = np.zeros(len(ia))
        if len(compared):
            level[compared], symbols = name_levels(a, ia[compared], b, ib[compared])
            weights[compared] = _name_bits(model, level[compared], symbols, log2p)
        if pruned is not None:
            weights[pruned] = name_ceiling(model, log2p)
        levels["name"] = level
        weight[:, name_column] = weights
    levels = {feature: levels[feature] for feature in model.features}
    # Summed in the model's feature order, as ``MatchModel.score`` does.
    bits = np.full(len(ia), prior)
    for column in range(len(model.features)):
        bits += weight[:, column]
    return PairScores(ia, ib, bits, levels, weight.astype(np.float32), pruned)


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
