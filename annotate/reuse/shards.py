"""The shingle index cut into shards by hash: every occurrence of a shingle lands in the same
shard, so each shard is grouped on its own (`seeds.group_shard`) and no process ever holds
the whole corpus's index. An engine maps the grouping over `range(n_shards)`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from annotate.reuse.fingerprint import Fingerprint
from annotate.reuse.params import SHARD_SHINGLES, HashArray, IntArray


@dataclass(frozen=True, eq=False)
class Shard:
    """The shingle occurrences of one shard, in (document, position) order: occurrence i is
    shingle `hashes[i]` starting at token `pos[i]` of document `docs[i]` (an index into the
    fingerprint list)."""

    hashes: HashArray
    docs: IntArray
    pos: IntArray


def shard_count(fps: Sequence[Fingerprint], shard_shingles: int = SHARD_SHINGLES) -> int:
    """How many shards keep each under `shard_shingles` occurrences (on average)."""
    total = sum(len(f.hashes) for f in fps)
    return max(1, math.ceil(total / max(1, shard_shingles)))


def shard_of(hashes: HashArray, n_shards: int) -> HashArray:
    """The shard of each shingle hash: its high half modulo `n_shards` (the low bits also
    serve the grouping's packed sort). Every engine cuts by this."""
    shard: HashArray = (hashes >> np.uint64(32)) % np.uint64(max(1, n_shards))
    return shard


def make_shard(fps: Sequence[Fingerprint], k: int, n_shards: int) -> Shard:
    """Shard `k` of `n_shards`, cut from the fingerprints (stopword-only shingles, hashed 0,
    left out)."""
    hashes, docs, pos = [], [], []
    for i, f in enumerate(fps):
        mask = f.hashes != 0
        if n_shards > 1:
            mask &= shard_of(f.hashes, n_shards) == k
        p = np.flatnonzero(mask).astype(np.int32)
        hashes.append(f.hashes[p])
        pos.append(p)
        docs.append(np.full(len(p), i, dtype=np.int32))
    if not hashes:
        return Shard(np.zeros(0, np.uint64), np.zeros(0, np.int32), np.zeros(0, np.int32))
    return Shard(np.concatenate(hashes), np.concatenate(docs), np.concatenate(pos))
