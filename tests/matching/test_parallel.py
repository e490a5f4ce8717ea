"""Preparing on several processes gives what preparing in place gives, in order."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from liaison.matching import linkage, parallel
from liaison.matching.index import Index
from liaison.matching.parallel import prepare_all, prepare_stream, score_all
from liaison.matching.record import prepare
from liaison.matching.scoring import default_model
from liaison.synth import iter_world


def _items() -> list[tuple[dict[str, str], str]]:
    return [
        ({k: v for k, v in record.items() if isinstance(v, str)}, record["record_id"])
        for unit in iter_world(3000, seed=31)
        for record in unit.records
    ]


def test_prepare_all_on_two_processes_equals_prepare_in_place() -> None:
    items = _items()
    assert len(items) > 2 * 2000  # more than two chunks: the worker pool is used
    expected = [prepare(raw, ref) for raw, ref in items]
    assert prepare_all(iter(items), workers=2) == expected
    assert prepare_all(items, workers=1) == expected


def test_prepare_stream_yields_chunks_in_order_and_nothing_for_nothing() -> None:
    items = _items()[:4500]
    chunks = list(prepare_stream(items, workers=2, chunk=1000))
    assert [len(c) for c in chunks] == [1000, 1000, 1000, 1000, 500]
    assert [p.ref for c in chunks for p in c] == [ref for _, ref in items]
    assert list(prepare_stream([], workers=2)) == []
    one = list(prepare_stream(items[:10], workers=2))
    assert [p.ref for p in one[0]] == [ref for _, ref in items[:10]]


def test_score_all_with_a_floor_keeps_exact_bits_above_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    index = Index(default_model())
    index.add_all(prepare_all(_items()))
    left, right = index.pair_arrays()
    common = {"population": len(index) - 1, "log2p": index.log2p()}
    monkeypatch.setattr(parallel, "PARALLEL_FROM", 0)  # fork workers even for this small job
    monkeypatch.setattr(parallel, "CHUNK", 2_000)
    full = score_all(index.model, index.columns, left, index.columns, right, workers=2, **common)
    floor = 3.0
    floored = score_all(
        index.model,
        index.columns,
        left,
        index.columns,
        right,
        workers=2,
        floor_bits=floor,
        **common,
    )
    above = full >= floor
    assert above.sum() > 100
    assert (~above).sum() > 100
    np.testing.assert_array_equal(floored[above], full[above])
    assert (floored[~above] < floor).all()
    assert (floored >= full - 1e-9).all()


def test_dedupe_and_link_find_the_same_pairs_with_and_without_the_floor(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    records = prepare_all(_items())
    half = len(records) // 2

    def run() -> tuple[list[tuple[str, str, float]], list[tuple[str, str, float]]]:
        deduped = linkage.dedupe(records, threshold=0.8, estimate=False)
        linked = linkage.link(records[:half], records[half:], threshold=0.5, estimate=False)
        return (
            [(p.left, p.right, round(p.probability, 9)) for p in deduped.pairs],
            [(p.left, p.right, round(p.probability, 9)) for p in linked.pairs],
        )

    floored = run()
    real = parallel.score_all

    def without_floor(*args: Any, **kwargs: Any) -> Any:
        kwargs.pop("floor_bits", None)
        return real(*args, **kwargs)

    monkeypatch.setattr(linkage, "score_all", without_floor)
    plain = run()
    assert len(plain[0]) > 500
    assert len(plain[1]) > 10
    assert floored == plain
