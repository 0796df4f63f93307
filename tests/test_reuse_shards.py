"""The shingle index cut into shards by hash gives the same passages as one index."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from annotate.corpus import Corpus, load_corpus
from annotate.model import Document, Metadata
from annotate.reuse import find_reuse, fingerprint, make_shard, shard_count
from annotate.reuse.shards import Shard
from tests.conftest import SEEDS


def test_shards_partition_the_index() -> None:
    fps = [fingerprint(str(i), p.read_text(encoding="utf-8"))
           for i, p in enumerate(sorted(SEEDS.glob("*.txt")))]
    whole = make_shard(fps, 0, 1)
    parts = [make_shard(fps, k, 7) for k in range(7)]
    assert sum(len(p.hashes) for p in parts) == len(whole.hashes)
    seen = [set(p.hashes.tolist()) for p in parts]
    assert all(not (seen[i] & seen[j]) for i in range(7) for j in range(i + 1, 7))
    assert shard_count(fps, 100) == -(-sum(len(f.hashes) for f in fps) // 100)
    # Stopword-only shingles (hashed 0) seed nothing and are left out of every shard.
    assert 0 not in whole.hashes and len(whole.hashes) < sum(len(f.hashes) for f in fps)


def test_chunks_cut_into_shards_gather_to_the_same_shards(tmp_path: Path,
                                                           monkeypatch: Any) -> None:
    # The chunked engines cut each chunk's shingles by shard (`chunked._split`); each
    # shard's pieces, gathered in chunk order, are the shard the local engine cuts whole.
    from annotate.reuse import chunked, ondisk

    monkeypatch.setattr(ondisk, "_DIR", str(tmp_path))
    docs = [(str(i), p.read_text(encoding="utf-8"))
            for i, p in enumerate(sorted(SEEDS.glob("*.txt")))]
    items = [(d, "", len(t), "", t) for d, t in docs]
    fps = [fingerprint(d, t) for d, t in docs]
    pieces = [chunked._split(chunked._fingerprint_chunk(items[:2], 3), 0, 3),
              chunked._split(chunked._fingerprint_chunk(items[2:], 3), 2, 3)]
    for k in range(3):
        gathered = [chunked._part(piece, k).load() for piece in pieces]
        whole = make_shard(fps, k, 3)
        for field in ("hashes", "docs", "pos"):
            assert [x for g in gathered for x in g[field].tolist()] == \
                getattr(whole, field).tolist()


def test_sharded_result_is_identical() -> None:
    corpus = load_corpus([SEEDS])
    one = find_reuse(corpus, min_bits=0, min_words=4)
    many = find_reuse(corpus, min_bits=0, min_words=4, shard_shingles=500)
    assert many.shards > 5 and one.shards == 1
    assert many.passages == one.passages and many.clusters == one.clusters


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), shard_shingles=st.integers(20, 400))
def test_any_shard_size_gives_the_same_passages(seed: int, shard_shingles: int) -> None:
    rng = random.Random(seed)
    words = ("border asylum returns gangs vessel channel funding agency summit treaty route "
             "the of and to in a is that for").split()
    shared = " ".join(rng.choice(words) for _ in range(40))
    texts = []
    for _ in range(4):
        body = [rng.choice(words) for _ in range(150)]
        cut = rng.randrange(150)
        texts.append(" ".join(body[:cut]) + " " + shared + " " + " ".join(body[cut:]))
    corpus = Corpus(tuple(Document(Path(f"d{i}.txt"), t, Metadata(f"d{i}"))
                          for i, t in enumerate(texts)))
    one = find_reuse(corpus, min_bits=0)
    many = find_reuse(corpus, min_bits=0, shard_shingles=shard_shingles)
    assert many.passages == one.passages and many.clusters == one.clusters


def test_hashes_alike_but_for_their_low_bits_do_not_seed_each_other() -> None:
    # Grouping sorts hashes with their low bits replaced by the occurrence's index; two
    # shingles whose hashes differ only there must still be told apart (else the passages
    # found would depend on how the index was cut into shards).
    import numpy as np

    from annotate.reuse.seeds import group_shard

    hashes = np.array([8, 9, 8, 9, 8 + 2**40, 9], dtype=np.uint64)
    shard = Shard(hashes, np.array([0, 1, 2, 3, 4, 5], dtype=np.int32),
                  np.array([0, 0, 0, 0, 0, 7], dtype=np.int32))
    seeds = group_shard(shard, 6)
    found = sorted(zip(seeds.a.tolist(), seeds.b.tolist(), strict=True))
    assert found == [(0, 2), (1, 3), (1, 5), (3, 5)]
