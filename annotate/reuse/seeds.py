"""Stage 2, per shard: shingles shared by two documents become *seeds* of that pair; then, over
all seeds, seeds on one diagonal are joined into *runs*.

Shingles found in one document only say nothing; shingles found in too many documents are
boilerplate and are dropped (see `df_limit`). Every remaining shingle shared by two documents
is a seed of that pair, so only pairs that share seeds are ever compared: cost grows with the
amount of shared text, not with the number of pairs. (A shingle in more than FULL_PAIRS
places seeds each place with the next only.)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import TypeVar

import numpy as np

from annotate.reuse.params import (
    DEFAULT_GAP,
    DEFAULT_MAX_DF,
    DEFAULT_NGRAM,
    DF_FLOOR,
    FULL_PAIRS,
    HashArray,
    IntArray,
)
from annotate.reuse.shards import Shard


@dataclass(frozen=True, eq=False)
class Seeds:
    """Shingles shared by two documents, one row per occurrence pair: token `pa` of document
    `a` starts the same shingle as token `pb` of document `b`. Documents are indices into
    the fingerprint list, `a < b`."""

    a: IntArray
    b: IntArray
    pa: IntArray
    pb: IntArray

    @staticmethod
    def concat(parts: Sequence[Seeds]) -> Seeds:
        return _joined(Seeds, parts)


def df_limit(n_docs: int, max_df: float = DEFAULT_MAX_DF) -> int:
    """Most documents a shingle may occur in before it counts as boilerplate: `max_df` as a
    fraction of the corpus (or, above 1, a number of documents), never below DF_FLOOR."""
    if max_df > 1:
        return int(max_df)
    return max(DF_FLOOR, math.ceil(max_df * n_docs))


def group_shard(
    shard: Shard, n_docs: int, *, max_df: float = DEFAULT_MAX_DF, focus: int | None = None
) -> Seeds:
    """Stage 2 on one shard: shingles shared by two documents, boilerplate dropped.

    A shingle is kept when it occurs in at least 2 and at most `df_limit` documents, and at
    most 4 x `df_limit` times in all (a phrase repeated all through a few documents seeds
    nothing but noise). A shingle with up to FULL_PAIRS occurrences seeds every pair of
    them; a more frequent one seeds only each occurrence with the next one in corpus order,
    so a phrase reprinted in 100 documents costs 99 seeds, not 4,950: its passages then form
    a chain that clustering joins into one cluster. With `focus`, only pairs involving that
    document are kept (and then every pair of it with the others).
    """
    empty = np.zeros(0, dtype=np.int64)
    hashes, docs, pos = shard.hashes, shard.docs, shard.pos
    if n_docs < 2 or len(hashes) == 0:
        return Seeds(empty, empty, empty, empty)
    limit = df_limit(n_docs, max_df)
    # Sort (hash, occurrence) packed in one integer: the low bits hold the occurrence's
    # index, so occurrences of one hash stay in (document, position) order, and a plain sort
    # of integers is several times faster than an argsort.
    bits = max(1, (len(hashes) - 1).bit_length())
    keys = np.sort((hashes >> np.uint64(bits)) << np.uint64(bits)
                   | np.arange(len(hashes), dtype=np.uint64))
    order = (keys & np.uint64((1 << bits) - 1)).astype(np.int64)
    del keys
    hashes = hashes[order]
    _whole_hashes_apart(hashes, order, bits)
    docs, pos = docs[order], pos[order]
    del order
    new_hash = np.empty(len(hashes), dtype=bool)
    new_hash[0] = True
    np.not_equal(hashes[1:], hashes[:-1], out=new_hash[1:])
    del hashes
    new_doc = new_hash.copy()
    new_doc[1:] |= docs[1:] != docs[:-1]
    starts = np.flatnonzero(new_hash)
    del new_hash
    sizes = np.diff(np.append(starts, len(docs)))
    dfs = np.add.reduceat(new_doc.astype(np.int64), starts)
    del new_doc
    keep = (dfs >= 2) & (dfs <= limit) & (sizes <= 4 * limit)
    if focus is not None:
        keep &= np.add.reduceat((docs == focus).astype(np.int64), starts) > 0
    starts, sizes = starts[keep], sizes[keep]
    full = (sizes <= FULL_PAIRS) | (focus is not None)
    left, right = _pairs_within(starts[full], sizes[full])
    # Frequent shingles: each occurrence with the next one.
    nxt = np.repeat(starts[~full], sizes[~full] - 1)
    nxt += np.arange(len(nxt), dtype=np.int64) - np.repeat(
        np.cumsum(sizes[~full] - 1) - (sizes[~full] - 1), sizes[~full] - 1
    )
    left, right = np.concatenate([left, nxt]), np.concatenate([right, nxt + 1])
    da, db, pa, pb = docs[left], docs[right], pos[left], pos[right]
    other = da != db
    if focus is not None:
        other &= (da == focus) | (db == focus)
    # Occurrences are in document order, so da < db for the pairs kept.
    return Seeds(da[other], db[other], pa[other], pb[other])


def _whole_hashes_apart(hashes: HashArray, order: IntArray, bits: int) -> None:
    """Occurrences sorted by their hashes without the low `bits` (`hashes`, whole, and
    `order`, their places), re-sorted in place by the whole hash, stably, where two
    different hashes lost their difference with those bits (rare). Without this, such a
    pair of shingles would seed each other's places, and the result would depend on how
    the index was cut into shards (how many low bits were dropped)."""
    shift = np.uint64(bits)
    cut = hashes >> shift
    clash = np.flatnonzero((cut[1:] == cut[:-1]) & (hashes[1:] != hashes[:-1]))
    if len(clash) == 0:
        return
    starts = np.flatnonzero(np.r_[True, cut[1:] != cut[:-1]])
    stops = np.r_[starts[1:], len(hashes)]
    for k in np.unique(np.searchsorted(starts, clash, side="right") - 1).tolist():
        first, stop = int(starts[k]), int(stops[k])
        by_hash = np.argsort(hashes[first:stop], kind="stable")
        order[first:stop] = order[first:stop][by_hash]
        hashes[first:stop] = hashes[first:stop][by_hash]


def _pairs_within(starts: IntArray, sizes: IntArray) -> tuple[IntArray, IntArray]:
    """All index pairs (i, j), i < j, inside each group [start, start + size)."""
    if len(starts) == 0:
        e = np.zeros(0, dtype=np.int64)
        return e, e
    total = int(sizes.sum())
    group_first = np.repeat(np.cumsum(sizes) - sizes, sizes)
    offset = np.arange(total, dtype=np.int64) - group_first
    idx = np.repeat(starts, sizes) + offset
    count = np.repeat(sizes, sizes) - 1 - offset
    n_pairs = int(count.sum())
    left = np.repeat(idx, count)
    first = np.repeat(np.cumsum(count) - count, count)
    right = left + 1 + (np.arange(n_pairs, dtype=np.int64) - first)
    return left, right


@dataclass(frozen=True, eq=False)
class Runs:
    """Seeds joined along exact diagonals: token boxes [a0, a1) x [b0, b1) per document pair,
    sorted by (a, b, a0, b0)."""

    a: IntArray
    b: IntArray
    a0: IntArray
    a1: IntArray
    b0: IntArray
    b1: IntArray

    @staticmethod
    def concat(parts: Sequence[Runs]) -> Runs:
        """Runs of consecutive ranges of first documents, joined (still sorted)."""
        return _joined(Runs, parts)


T = TypeVar("T", Seeds, Runs)


def _joined(cls: type[T], parts: Sequence[T]) -> T:
    """One table of arrays from several, field by field (empty when there are none)."""
    if len(parts) == 1:
        return parts[0]
    names = [f.name for f in fields(cls)]
    if not parts:
        return cls(*(np.zeros(0, dtype=np.int64) for _ in names))
    return cls(*(np.concatenate([getattr(p, n) for p in parts]) for n in names))


def _sort_order(*keys: IntArray) -> IntArray:
    """lexsort order of non-negative keys (last key most significant); one argsort of a
    combined key when it fits in 63 bits, which is several times faster."""
    spans = [int(k.max()) + 1 if len(k) else 1 for k in keys]
    if math.prod(spans) < 2**62:
        combined = np.zeros(len(keys[0]), dtype=np.int64)
        for k, span in zip(reversed(keys), reversed(spans), strict=True):
            combined *= span
            combined += k
        return np.argsort(combined, kind="stable")
    return np.lexsort(keys)


def seed_runs(
    seeds: Seeds, *, ngram: int = DEFAULT_NGRAM, gap: int = DEFAULT_GAP, min_words: int = 0
) -> Runs:
    """Join seeds on one diagonal (substitutions keep the diagonal) into runs, and drop lone
    seeds (and runs under half of `min_words`) with no other run of the same pair nearby:
    chance matches of a common phrase."""
    if len(seeds.a) == 0:
        e = np.zeros(0, dtype=np.int64)
        return Runs(e, e, e, e, e, e)
    n_docs = int(max(seeds.a.max(), seeds.b.max())) + 1
    pair = seeds.a.astype(np.int64) * n_docs + seeds.b
    diag = seeds.pb - seeds.pa
    shift = int(diag.min())
    order = _sort_order(seeds.pa, diag - shift, pair)
    pair, pa, dg = pair[order], seeds.pa[order], diag[order]
    del order
    new = np.ones(len(pair), dtype=bool)
    # Seeds on one diagonal join across a few substituted words; longer gaps are for the
    # chaining of stage 3, which weighs them.
    new[1:] = (pair[1:] != pair[:-1]) | (dg[1:] != dg[:-1]) | (pa[1:] - pa[:-1] > 2 * ngram)
    first = np.flatnonzero(new)
    rp, a0, d = pair[first], pa[first], dg[first]
    a1 = np.maximum.reduceat(pa, first) + ngram
    del pair, pa, dg, new
    order = _sort_order(a0, rp)
    rp, a0, a1, d = rp[order], a0[order], a1[order], d[order]
    b0, b1 = a0 + d, a1 + d
    if len(rp) > 1:
        near = np.zeros(len(rp), dtype=bool)
        for k in range(1, 4):
            close = (rp[k:] == rp[:-k]) & (a0[k:] - a1[:-k] <= gap) & (
                np.abs(b0[k:] - b0[:-k])
                <= np.maximum(a1[:-k] - a0[:-k], a1[k:] - a0[k:]) + gap
            )
            near[k:] |= close
            near[:-k] |= close
        # A lone seed is chance; a passage needs two overlapping or nearby seeds.
        keep = near | (a1 - a0 > max(ngram, min_words // 2))
        rp, a0, a1, b0, b1 = rp[keep], a0[keep], a1[keep], b0[keep], b1[keep]
    order = _sort_order(b0, a0, rp)
    rp, a0, a1, b0, b1 = rp[order], a0[order], a1[order], b0[order], b1[order]
    return Runs(rp // n_docs, rp % n_docs, a0, a1, b0, b1)


def pair_slices(runs: Runs) -> list[tuple[int, int, int, int]]:
    """(a, b, first, stop) row ranges of `runs` for each document pair."""
    if len(runs.a) == 0:
        return []
    new = np.ones(len(runs.a), dtype=bool)
    new[1:] = (runs.a[1:] != runs.a[:-1]) | (runs.b[1:] != runs.b[:-1])
    firsts = np.flatnonzero(new).tolist()
    stops = [*firsts[1:], len(runs.a)]
    a, b = runs.a[firsts].tolist(), runs.b[firsts].tolist()
    return list(zip(a, b, firsts, stops, strict=True))
