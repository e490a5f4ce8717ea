"""Preparing on several processes gives what preparing in place gives, in order."""

from __future__ import annotations

from liaison.matching.parallel import prepare_all, prepare_stream
from liaison.matching.record import prepare
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
