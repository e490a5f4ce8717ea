"""Candidate keys → record rows, in arrays: the inverted index behind search and deduplication.

Keys are kept as 64-bit hashes. The bulk of the postings sit in sorted arrays (compact, searched
with ``searchsorted``); records added one at a time go to a small dictionary first and are
merged in when it grows. Pairs for deduplication come straight from the arrays, block by block.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
from numpy.typing import NDArray

from liaison.matching.keys import KEY_KINDS

I64 = NDArray[np.int64]
I32 = NDArray[np.int32]
KIND_CODES = {kind: code for code, kind in enumerate(KEY_KINDS)}


def key_hash(key: str) -> int:
    return hash(key)


class Postings:
    """Rows by key hash: sorted arrays plus a dictionary of recent additions."""

    def __init__(self) -> None:
        self.keys: I64 = np.empty(0, dtype=np.int64)
        self.kinds: NDArray[np.int8] = np.empty(0, dtype=np.int8)
        self.offsets: I64 = np.zeros(1, dtype=np.int64)
        self.rows: I32 = np.empty(0, dtype=np.int32)
        self.recent: dict[int, list[int]] = {}
        self.recent_kinds: dict[int, int] = {}
        self.recent_size = 0

    def add(self, row: int, keys: Iterable[str]) -> None:
        """Post one record's keys (merged into the arrays when the recent part grows)."""
        for key in keys:
            h = key_hash(key)
            self.recent.setdefault(h, []).append(row)
            self.recent_kinds[h] = KIND_CODES[key[:2]]
            self.recent_size += 1
        if self.recent_size > max(100_000, len(self.rows) // 8):
            self.compact()

    def add_arrays(self, hashes: I64, kinds: NDArray[np.int8], rows: I64) -> None:
        """Post many keys at once (rows must not decrease along the arrays)."""
        self.compact()
        if len(hashes) == 0:
            return
        old_hashes = np.repeat(self.keys, np.diff(self.offsets))
        all_hashes = np.concatenate([old_hashes, hashes])
        all_rows = np.concatenate([self.rows.astype(np.int64), rows])
        old_kinds = np.repeat(self.kinds, np.diff(self.offsets))
        all_kinds = np.concatenate([old_kinds, kinds])
        self._build(all_hashes, all_kinds, all_rows)

    def _build(self, hashes: I64, kinds: NDArray[np.int8], rows: I64) -> None:
        order = np.argsort(hashes, kind="stable")
        hashes = hashes[order]
        starts = np.flatnonzero(np.r_[True, hashes[1:] != hashes[:-1]])
        self.keys = hashes[starts]
        self.kinds = kinds[order][starts]
        self.offsets = np.append(starts, len(hashes)).astype(np.int64)
        self.rows = rows[order].astype(np.int32)

    def compact(self) -> None:
        """Merge the recent postings into the arrays."""
        if not self.recent:
            return
        hashes = np.fromiter(
            (h for h, rows in self.recent.items() for _ in rows), dtype=np.int64, count=-1
        )
        kinds = np.fromiter(
            (self.recent_kinds[h] for h, rows in self.recent.items() for _ in rows),
            dtype=np.int8,
            count=-1,
        )
        rows = np.fromiter(
            (r for postings in self.recent.values() for r in postings), dtype=np.int64, count=-1
        )
        self.recent, self.recent_kinds, self.recent_size = {}, {}, 0
        # Rows of one key must stay in increasing order: merge, then sort by (hash, row).
        old_hashes = np.repeat(self.keys, np.diff(self.offsets))
        old_kinds = np.repeat(self.kinds, np.diff(self.offsets))
        all_hashes = np.concatenate([old_hashes, hashes])
        all_rows = np.concatenate([self.rows.astype(np.int64), rows])
        all_kinds = np.concatenate([old_kinds, kinds])
        order = np.lexsort((all_rows, all_hashes))
        self._build(all_hashes[order], all_kinds[order], all_rows[order])

    def lookup_many(self, owners: I64, hashes: I64, *, max_postings: int) -> tuple[I64, I64]:
        """The rows posted under each key: (owner of the key, row) for every row posted under
        each key of ``hashes`` (``owners`` says whose key it is), leaving out keys held by more
        than ``max_postings`` rows."""
        owners = np.asarray(owners, dtype=np.int64)
        hashes = np.asarray(hashes, dtype=np.int64)
        extra = [self.recent.get(h, ()) for h in hashes.tolist()] if self.recent else []
        extra_sizes = np.array([len(e) for e in extra], dtype=np.int64)
        if not len(self.keys) or not len(hashes):
            sizes = np.zeros(len(hashes), dtype=np.int64)
            starts = np.zeros(len(hashes), dtype=np.int64)
        else:
            at = np.minimum(np.searchsorted(self.keys, hashes), len(self.keys) - 1)
            present = self.keys[at] == hashes
            starts = self.offsets[at]
            sizes = np.where(present, self.offsets[at + 1] - starts, 0)
        total = sizes + extra_sizes if len(extra_sizes) else sizes
        kept = (total > 0) & (total <= max_postings)
        sizes = np.where(kept, sizes, 0)
        count = int(sizes.sum())
        # Positions start[k] .. start[k] + size[k] - 1 for each kept key, in one array.
        ends = np.cumsum(sizes)
        positions = np.arange(count, dtype=np.int64) + np.repeat(starts - (ends - sizes), sizes)
        found_owners = [np.repeat(owners, sizes)]
        found_rows = [self.rows[positions].astype(np.int64)]
        for k in np.flatnonzero(kept & (extra_sizes > 0) if len(extra_sizes) else []).tolist():
            found_owners.append(np.full(len(extra[k]), owners[k], dtype=np.int64))
            found_rows.append(np.array(extra[k], dtype=np.int64))
        return np.concatenate(found_owners), np.concatenate(found_rows)

    def blocks(self, *, kinds: Iterable[str] = KEY_KINDS, max_block: int) -> Iterator[I32]:
        """Arrays of rows sharing one key, for keys held by 2 to ``max_block`` rows,
        grouped by block size: each item is a (blocks, size) array."""
        self.compact()
        wanted = np.isin(self.kinds, [KIND_CODES[k] for k in kinds])
        sizes = np.diff(self.offsets)
        keep = wanted & (sizes >= 2) & (sizes <= max_block)
        for size in np.unique(sizes[keep]).tolist():
            starts = self.offsets[:-1][keep & (sizes == size)]
            yield self.rows[starts[:, None] + np.arange(size)]


def within_pairs(
    postings: Postings, size: int, *, max_block: int, kinds: Iterable[str] = KEY_KINDS
) -> tuple[I64, I64]:
    """Every pair of rows sharing a key held by at most ``max_block`` rows, once
    (left < right), in order.

    A key shared by more rows generates no pairs: its rows still meet through their other
    keys, and the quadratic blow-up of a common key is avoided.
    """
    size = max(size, 1)
    chunks: list[I64] = []
    pending = 0
    for block in postings.blocks(kinds=kinds, max_block=max_block):
        upper_i, upper_j = np.triu_indices(block.shape[1], k=1)
        left = block[:, upper_i].astype(np.int64).ravel()
        right = block[:, upper_j].astype(np.int64).ravel()
        chunks.append(np.minimum(left, right) * size + np.maximum(left, right))
        pending += len(left)
        if pending > 20_000_000:
            chunks, pending = [np.unique(np.concatenate(chunks))], 0
    if not chunks:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    codes = np.unique(np.concatenate(chunks))
    left, right = np.divmod(codes, size)
    return left, right
