"""Shortcuts of alignment that must not change its result: the numpy pre-pass that drops
hopeless runs alone in their chain (every pair aligns as before; a pair it drops aligned to
nothing) and the matching blocks that stand
in for difflib's."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotate.corpus import load_corpus
from annotate.reuse import fingerprint, make_shard
from annotate.reuse.align import align_pair
from annotate.reuse.fingerprint import Fingerprint
from annotate.reuse.params import DEFAULT_GAP
from annotate.reuse.prune import prune_runs
from annotate.reuse.seeds import Runs, group_shard, pair_slices, seed_runs
from tests.conftest import ROOT, SEEDS

CHRONAM = ROOT.parent / "shared" / "corpora" / "chronam-1916-01"


def _runs(fps: list[Fingerprint], min_words: int) -> Runs:
    seeds = group_shard(make_shard(fps, 0, 1), len(fps))
    return seed_runs(seeds, min_words=min_words)


def _check_exact(fps: list[Fingerprint], runs: Runs, min_words: int) -> int:
    """Asserts the pruning is exact (every pair aligns as it did with all its runs; a pair
    left out aligned to nothing); returns how many pairs it left out."""
    pruned = prune_runs(runs, fps, min_words=min_words)
    kept = {(a, b): (first, stop) for a, b, first, stop in pair_slices(pruned)}

    def aligned(r: Runs, a: int, b: int, first: int, stop: int) -> list[object]:
        boxes = [c[first:stop].tolist() for c in (r.a0, r.a1, r.b0, r.b1)]
        return list(align_pair(a, b, fps[a], fps[b], zip(*boxes, strict=True),
                               min_words=min_words, gap=DEFAULT_GAP))

    dropped = 0
    for a, b, first, stop in pair_slices(runs):
        found = aligned(runs, a, b, first, stop)
        if (a, b) in kept:
            assert aligned(pruned, a, b, *kept[(a, b)]) == found, (a, b)
        else:
            dropped += 1
            assert found == [], (a, b, found)
    return dropped


def test_pruning_is_exact_on_newspaper_pages() -> None:
    if not CHRONAM.is_dir():
        pytest.skip(f"{CHRONAM} is absent (the shared corpora are not part of the repository)")
    corpus = load_corpus(sorted(CHRONAM.glob("*.txt"))[:150])
    fps = [fingerprint(d.id, d.text) for d in corpus.documents]
    for min_words in (6, 8, 12):
        runs = _runs(fps, min_words)
        dropped = _check_exact(fps, runs, min_words)
        if min_words == 6:  # the default: many candidate pairs are lone chance runs
            assert dropped > len(pair_slices(runs)) // 10


_WORDS = "the migrants boats crossing channel smugglers return deal route people right".split()


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(4, 9))
def test_pruning_is_exact_on_texts_sharing_short_phrases(seed: int, min_words: int) -> None:
    # A small vocabulary makes short shared phrases, bigrams in the margins and words
    # agreeing just beyond a run common: the cases the bound must get right.
    rng = random.Random(seed)
    texts = [" ".join(rng.choice(_WORDS) for _ in range(rng.randint(20, 120)))
             for _ in range(4)]
    fps = [fingerprint(str(i), t) for i, t in enumerate(texts)]
    runs = _runs(fps, min_words)
    _check_exact(fps, runs, min_words)


def test_pruning_drops_a_hopeless_pair_of_the_seeds() -> None:
    # Always run (the newspaper test needs the shared corpora): a real pair is dropped, and
    # its alignment finds nothing.
    fps = [fingerprint(d.id, d.text) for d in load_corpus([SEEDS]).documents]
    assert _check_exact(fps, _runs(fps, 6), 6) >= 1


def test_nothing_to_prune() -> None:
    e = np.zeros(0, dtype=np.int64)
    empty = Runs(e, e, e, e, e, e)
    assert prune_runs(empty, [], min_words=6) is empty


@given(st.lists(st.integers(0, 4), max_size=14), st.lists(st.integers(0, 4), max_size=14))
def test_matching_blocks_are_difflibs(a: list[int], b: list[int]) -> None:
    # align.matching_blocks stands in for SequenceMatcher on a passage's margins: the same
    # blocks, so the same passages (a small alphabet makes ties and repeats common).
    from difflib import SequenceMatcher

    from annotate.reuse.align import matching_blocks

    expected = [tuple(m) for m in SequenceMatcher(None, a, b, autojunk=False)
                .get_matching_blocks() if m.size]
    assert matching_blocks(a, b) == expected


def test_pruning_in_batches_is_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    from annotate.reuse import prune

    fps = [fingerprint(d.id, d.text) for d in load_corpus([SEEDS]).documents]
    runs = _runs(fps, 6)
    whole = prune_runs(runs, fps, min_words=6)
    monkeypatch.setattr(prune, "_BATCH", 1)
    batched = prune_runs(runs, fps, min_words=6)
    assert len(whole.a) < len(runs.a)
    assert all(np.array_equal(getattr(whole, f), getattr(batched, f))
               for f in ("a", "b", "a0", "a1", "b0", "b1"))


def test_runs_alone_in_their_chain() -> None:
    from annotate.reuse.prune import alone

    def runs(*rows: tuple[int, int, int, int, int, int]) -> Runs:
        return Runs(*(np.array(c, dtype=np.int64) for c in zip(*rows, strict=True)))

    # Pair (0, 1): one run. Pair (0, 2): two runs 40 words apart in a. Pair (0, 3): two
    # runs close in a but far apart in b. Pair (1, 2): two runs close in both (one chain).
    # Pair (1, 3): three runs (not judged).
    table = runs((0, 1, 5, 10, 5, 10),
                 (0, 2, 0, 5, 0, 5), (0, 2, 45, 50, 5, 10),
                 (0, 3, 0, 5, 100, 105), (0, 3, 8, 13, 0, 5),
                 (1, 2, 0, 5, 0, 5), (1, 2, 20, 25, 20, 25),
                 (1, 3, 0, 5, 0, 5), (1, 3, 100, 105, 100, 105), (1, 3, 200, 205, 200, 205))
    assert alone(table, gap=30).tolist() == [0, 1, 2, 3, 4]


@given(st.lists(st.tuples(st.integers(0, 5), st.integers(1, 9), st.integers(0, 5),
                          st.integers(1, 9)), min_size=2, max_size=12))
def test_runs_end_to_end_are_the_heaviest_chain(steps: list[tuple[int, int, int, int]]) -> None:
    # align._anchors takes every run when each starts where the one before ends (in both
    # documents): the search it skips would find the same chain.
    from annotate.reuse.align import _heaviest

    runs, a, b = [], 0, 0
    for skip_a, n, skip_b, _weight in steps:
        runs.append((a + skip_a, a + skip_a + n, b + skip_b, b + skip_b + n))
        a, b = runs[-1][1], runs[-1][3]
    weights = [min(w, r[1] - r[0]) for (_, _, _, w), r in zip(steps, runs, strict=True)]
    assert _heaviest(runs, weights) == list(range(len(runs)))
