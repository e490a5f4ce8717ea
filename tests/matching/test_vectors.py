"""The vectorised scoring agrees with the pure one, and pruning by the floor loses no pair.

``batch.score_pairs`` must give the bits ``MatchModel.score`` gives pair by pair; with a floor it
may skip the name comparison only for pairs that could not reach the floor anyway.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from liaison.matching.batch import name_ceiling, score_pairs
from liaison.matching.index import Index
from liaison.matching.record import prepare
from liaison.matching.scoring import MatchModel, default_model
from liaison.synth import iter_world


@pytest.fixture(scope="module")
def world() -> tuple[Index, list]:
    index = Index(default_model())
    records = []
    queries = []
    for n, unit in enumerate(iter_world(1500, seed=23)):
        for record in unit.records:
            raw = {k: v for k, v in record.items() if isinstance(v, str)}
            records.append(prepare(raw, record["record_id"]))
        name = unit.person.name
        spelled = (
            f"{name.given_native} {name.family_native}"
            if n % 2
            else f"{name.given_latin} {name.family_latin}"
        )
        raw_query = {"full_name": spelled}
        if n % 5:  # some queries without a date of birth: nothing can be pruned for them
            raw_query["dob"] = unit.person.born.isoformat()
        queries.append(prepare(raw_query, f"q{n}"))
    index.add_all(records)
    return index, queries


def _pairs(index: Index, queries: list) -> tuple:
    columns = index._query_columns(queries)
    rows = [index.candidates(q) for q in queries]
    left = np.repeat(np.arange(len(queries)), [len(r) for r in rows])
    right = np.concatenate(rows)
    return columns, left, right


def test_vectorised_bits_equal_the_pure_model(world: tuple[Index, list]) -> None:
    index, queries = world
    columns, left, right = _pairs(index, queries[:300])
    assert len(left) > 1000
    scores = score_pairs(
        index.model,
        columns,
        left,
        index.columns,
        right,
        population=len(index),
        log2p=index.log2p(),
    )
    frequencies = index.frequencies()
    for k in range(0, len(left), 7):
        pure = index.model.score(
            queries[int(left[k])],
            index.columns.prepared(int(right[k])),
            population=len(index),
            frequencies=frequencies,
        )
        assert scores.bits[k] == pytest.approx(pure.bits, abs=1e-6), (pure.explanation(), k)


@pytest.mark.parametrize("floor", [0.3, 0.5, 0.9])
def test_pruning_keeps_every_pair_that_reaches_the_floor(
    world: tuple[Index, list], floor: float
) -> None:
    index, queries = world
    columns, left, right = _pairs(index, queries)
    common = {
        "population": len(index),
        "log2p": index.log2p(),
    }
    full = score_pairs(index.model, columns, left, index.columns, right, **common)
    floor_bits = math.log2(floor / (1 - floor))
    pruned = score_pairs(
        index.model, columns, left, index.columns, right, floor_bits=floor_bits, **common
    )
    assert pruned.pruned is not None
    # The pruning does its job: most candidates are strangers that share one key.
    assert pruned.pruned.mean() > 0.3
    # No pruned pair could have reached the floor, and its stated bits bound the true ones.
    assert not (full.bits[pruned.pruned] >= floor_bits).any()
    assert (pruned.bits[pruned.pruned] >= full.bits[pruned.pruned] - 1e-9).all()
    assert (pruned.bits[pruned.pruned] < floor_bits).all()
    kept = ~pruned.pruned
    np.testing.assert_array_equal(pruned.bits[kept], full.bits[kept])
    for feature, levels in full.levels.items():
        np.testing.assert_array_equal(pruned.levels[feature][kept], levels[kept])


def test_name_ceiling_bounds_every_name_weight() -> None:
    model = MatchModel()
    plain = name_ceiling(model, None)
    assert plain == pytest.approx(max(model.level_bits("name")))
    # With frequencies a rare agreeing name can add up to the bonus on top.
    assert name_ceiling(model, np.array([-20.0])) == pytest.approx(plain + model.tf_bonus_bits)


def test_search_finds_what_scoring_every_candidate_finds(world: tuple[Index, list]) -> None:
    index, queries = world
    frequencies = index.frequencies()
    batch = index.search_many(queries[:150])
    found = 0
    for query, hits in zip(queries[:150], batch, strict=True):
        expected = []
        for row in index.candidates(query).tolist():
            pure = index.model.score(
                query,
                index.columns.prepared(row),
                population=len(index),
                frequencies=frequencies,
            )
            if pure.probability >= 0.5:
                expected.append((pure.right, round(pure.probability, 6)))
        expected.sort(key=lambda hit: (-hit[1], hit[0]))
        assert [(h.right, round(h.probability, 6)) for h in hits] == expected[:20]
        found += len(hits)
    assert found > 100


def test_kernels_agree_with_the_features_on_the_level_cases() -> None:
    from tests.matching.test_cases import LEVEL_CASES

    from liaison.matching.columns import Columns
    from liaison.matching.features import FEATURES, LEVELS
    from liaison.matching.vectors import KERNELS

    columns = Columns()
    left = [prepare(case[2], f"l{n}") for n, case in enumerate(LEVEL_CASES)]
    right = [prepare(case[3], f"r{n}") for n, case in enumerate(LEVEL_CASES)]
    columns.extend(left + right)
    ia = np.arange(len(left), dtype=np.int64)
    ib = ia + len(left)
    for feature in {case[1] for case in LEVEL_CASES}:
        levels = KERNELS[feature](columns, ia, columns, ib)
        for n, (a, b) in enumerate(zip(left, right, strict=True)):
            pure = FEATURES[feature](a, b).level
            vector = "missing" if levels[n] < 0 else LEVELS[feature][levels[n]]
            assert vector == pure, (LEVEL_CASES[n][0], feature)


def test_search_explains_as_the_pure_model(world: tuple[Index, list]) -> None:
    """Hits are explained from the levels and bits already scored (``batch.explained``): the
    same features, levels, wording and bits as ``MatchModel.score`` on the two records."""
    index, _ = world
    # Stored records as queries (under other refs): hits agree and differ on every feature.
    queries = []
    for row in range(0, len(index), 9):
        stored = index.columns.prepared(row)
        queries.append(dataclasses.replace(stored, ref=f"again-{stored.ref}"))
    found = index.search_many(queries, threshold=0.01, limit=50)
    frequencies = index.frequencies()
    compared = 0
    seen: set[tuple[str, str]] = set()
    for query, hits in zip(queries, found, strict=True):
        for hit in hits:
            stored = index.get(hit.right)
            assert stored is not None
            pure = index.model.score(query, stored, population=len(index), frequencies=frequencies)
            assert hit.probability == pytest.approx(pure.probability, abs=1e-9)
            assert hit.bits == pytest.approx(pure.bits, abs=1e-6)
            for ours, theirs in zip(hit.contributions, pure.contributions, strict=True):
                assert (ours.feature, ours.level, ours.detail) == (
                    theirs.feature,
                    theirs.level,
                    theirs.detail,
                )
                assert ours.bits == pytest.approx(theirs.bits, abs=1e-6)
                seen.add((ours.feature, ours.level))
            compared += 1
    assert compared > 500
    # Every feature was explained; those the world's records mostly carry at several levels.
    assert {feature for feature, _ in seen} == set(index.model.features)
    for feature in ("name", "birth_date", "gender", "nationality", "address", "email", "phone"):
        levels = {level for f, level in seen if f == feature}
        assert len(levels - {"missing"}) >= 2, (feature, levels)
