"""Preparing records and scoring candidate pairs on every core.

Scoring: workers are forked after the columns exist, so they share them (copy-on-write) and
receive only ranges of pair numbers; they send back the bits of each pair. Preparing: workers
receive chunks of raw records and send back prepared ones, in order. Where forking is
unavailable, or the work is small, everything runs in the calling process.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from liaison.matching.batch import score_pairs
from liaison.matching.columns import Columns
from liaison.matching.record import PersonRecord, Prepared, prepare
from liaison.matching.scoring import MatchModel

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]
Progress = Callable[[int, int], None]

CHUNK = 100_000
# Below this many pairs the cost of starting workers outweighs what they save.
PARALLEL_FROM = 400_000
# Records are prepared in chunks of this many; fewer than two chunks are prepared in place.
PREPARE_CHUNK = 2_000

Raw = Mapping[str, object] | PersonRecord


@dataclass(frozen=True, slots=True)
class _Job:
    model: MatchModel
    a: Columns
    b: Columns
    left: I64
    right: I64
    population: int
    log2p: F64 | None
    floor_bits: float | None


_JOB: _Job | None = None


def _score_range(bounds: tuple[int, int]) -> F64:
    job = _JOB
    assert job is not None
    start, end = bounds
    scores = score_pairs(
        job.model,
        job.a,
        job.left[start:end],
        job.b,
        job.right[start:end],
        population=job.population,
        log2p=job.log2p,
        floor_bits=job.floor_bits,
    )
    return scores.bits


def default_workers() -> int:
    """Cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def score_all(
    model: MatchModel,
    a: Columns,
    left: I64,
    b: Columns,
    right: I64,
    *,
    population: int,
    log2p: F64 | None,
    workers: int | None = None,
    progress: Progress | None = None,
    floor_bits: float | None = None,
) -> F64:
    """Bits of every pair, in order, using up to ``workers`` processes.

    With ``floor_bits``, pairs that cannot reach it are not compared in full and get an upper
    bound below it (see ``batch.score_pairs``); the others get their exact bits."""
    global _JOB
    total = len(left)
    bounds = [(s, min(s + CHUNK, total)) for s in range(0, total, CHUNK)]
    workers = default_workers() if workers is None else workers
    # Build the shared arrays once in the parent so the children do not each rebuild them.
    a.vocabulary.table()
    _JOB = _Job(model, a, b, left, right, population, log2p, floor_bits)
    parts: list[F64] = []
    try:
        forkable = "fork" in multiprocessing.get_all_start_methods()
        if workers > 1 and total >= PARALLEL_FROM and forkable:
            context = multiprocessing.get_context("fork")
            with context.Pool(workers) as pool:
                for part in pool.imap(_score_range, bounds):
                    parts.append(part)
                    if progress is not None:
                        progress(sum(len(p) for p in parts), total)
        else:
            for bound in bounds:
                parts.append(_score_range(bound))
                if progress is not None:
                    progress(bound[1], total)
    finally:
        _JOB = None
    return np.concatenate(parts) if parts else np.empty(0)


def _prepare_chunk(chunk: Sequence[tuple[Raw, str | None]]) -> list[Prepared]:
    return [prepare(raw, ref) for raw, ref in chunk]


def _chunks(
    items: Iterable[tuple[Raw, str | None]], size: int
) -> Iterator[list[tuple[Raw, str | None]]]:
    chunk: list[tuple[Raw, str | None]] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def prepare_stream(
    items: Iterable[tuple[Raw, str | None]],
    *,
    workers: int | None = None,
    chunk: int = PREPARE_CHUNK,
) -> Iterator[list[Prepared]]:
    """``prepare(raw, ref)`` for each item, in order, chunk by chunk, on up to ``workers``
    processes. The items are read lazily, so a stream of any length fits in memory."""
    workers = default_workers() if workers is None else workers
    chunks = _chunks(items, chunk)
    first = next(chunks, None)
    if first is None:
        return
    second = next(chunks, None)
    forkable = "fork" in multiprocessing.get_all_start_methods()
    if second is None or workers <= 1 or not forkable:
        yield _prepare_chunk(first)
        if second is not None:
            yield _prepare_chunk(second)
            for rest in chunks:
                yield _prepare_chunk(rest)
        return
    context = multiprocessing.get_context("fork")
    with context.Pool(workers) as pool:
        yield from pool.imap(_prepare_chunk, itertools.chain((first, second), chunks))


def prepare_all(
    items: Iterable[tuple[Raw, str | None]], *, workers: int | None = None
) -> list[Prepared]:
    """Every item prepared (see ``prepare_stream``), in order, as one list."""
    return [record for chunk in prepare_stream(items, workers=workers) for record in chunk]
