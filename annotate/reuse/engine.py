"""The local engine: the stages mapped over this machine's processes.

fingerprint (per document, in worker processes for large corpora) -> shards of the shingle
index, grouped one at a time (bounded memory) -> seeds of document pairs -> runs -> aligned
passages (per pair, in forked worker processes when there are many) -> clusters. Every
stage is a function of plain data, so another engine can map the same functions elsewhere.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import math
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import numpy as np

from annotate.errors import AnnotateError
from annotate.model import Cluster, Document, Passage, Side
from annotate.reuse.align import Match, align_pair
from annotate.reuse.chance import (
    DEFAULT_MIN_BITS,
    RECUR_BITS,
    WordBits,
    word_bits,
    word_counts,
)
from annotate.reuse.clusters import Span, cluster_groups, name_clusters
from annotate.reuse.fingerprint import Fingerprint, fingerprints
from annotate.reuse.forked import Background, can_fork, deaths_explained, fork_map
from annotate.reuse.params import (
    DEFAULT_GAP,
    DEFAULT_MAX_DF,
    DEFAULT_MIN_WORDS,
    DEFAULT_NGRAM,
    PARALLEL_RUNS,
    PARALLEL_WORDS,
    RUN_SEEDS,
    SHARD_SHINGLES,
)
from annotate.reuse.prune import prune_runs
from annotate.reuse.seeds import Runs, Seeds, group_shard, pair_slices, seed_runs
from annotate.reuse.shards import make_shard, shard_count

if TYPE_CHECKING:
    from annotate.corpus import Corpus


P = ParamSpec("P")
R = TypeVar("R")


_GC_LOCK = threading.Lock()
_gc_pauses = 0
_gc_was_enabled = False


def without_gc(fn: Callable[P, R]) -> Callable[P, R]:
    """Runs `fn` with Python's cyclic garbage collector paused. Reuse makes millions of small
    objects (word lists, boxes, matches) and no reference cycles, so the collector would
    only walk every live object again and again: a tenth of a newspaper month's run. Plain
    reference counting still frees everything; the collector resumes when the last pause
    ends (counted, as a Dask worker's threads may run several such tasks at once)."""

    @functools.wraps(fn)
    def paused(*args: P.args, **kwargs: P.kwargs) -> R:
        global _gc_pauses, _gc_was_enabled
        with _GC_LOCK:
            if _gc_pauses == 0:
                _gc_was_enabled = gc.isenabled()
                gc.disable()
            _gc_pauses += 1
        try:
            return fn(*args, **kwargs)
        finally:
            with _GC_LOCK:
                _gc_pauses -= 1
                if _gc_pauses == 0 and _gc_was_enabled:
                    gc.enable()

    return paused


@dataclass(frozen=True)
class ReuseResult:
    passages: tuple[Passage, ...]
    clusters: tuple[Cluster, ...]
    # Words per document id, counted by the fingerprints (outputs need not tokenise again).
    words: Mapping[str, int] = field(default_factory=dict)
    # How the work was cut (the local engine cuts smaller shards when it groups several at
    # once): not part of the result, so results of different engines compare equal.
    shards: int = field(default=1, compare=False)


@without_gc
@deaths_explained("; --on-disk holds less in memory")
def find_reuse(
    corpus: Corpus,
    *,
    min_words: int = DEFAULT_MIN_WORDS,
    doc: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    max_df: float = DEFAULT_MAX_DF,
    ngram: int = DEFAULT_NGRAM,
    gap: int = DEFAULT_GAP,
    workers: int | None = None,
    min_bits: float = DEFAULT_MIN_BITS,
    series: Mapping[str, str] | None = None,
    within_series: bool = False,
    shard_shingles: int = SHARD_SHINGLES,
    on_disk: bool = False,
) -> ReuseResult:
    """Every passage of `min_words`+ matching words, unlikely by chance (`min_bits`, see
    `annotate.reuse.chance`; 0 turns the rule off), shared by two documents, ranked longest
    and most similar first (`r1`, `r2`, ...), and clusters of passages across 3+ documents.

    `series` maps document ids to a series (a newspaper, say): passages between two
    documents of one series are left out, or with `within_series` kept and marked.

    The result does not depend on the order of the documents: they are processed in date
    order (then id). `progress(done, total)` counts documents fingerprinted, then document
    pairs aligned (`total` grows once the candidate pairs are known).

    `on_disk` computes the same result with the intermediate results on disk, in worker
    processes (`local_tasks`): memory bounded by chunk and shard, for corpora whose index
    would not fit in memory (`local_tasks.needs_disk` tells); `progress` then counts tasks.
    """
    if on_disk:
        from annotate.reuse.local_tasks import find_reuse_on_disk

        return find_reuse_on_disk(corpus, workers=workers, min_words=min_words, doc=doc,
                                  progress=progress, max_df=max_df, ngram=ngram, gap=gap,
                                  min_bits=min_bits, series=series,
                                  within_series=within_series, shard_shingles=shard_shingles)
    check_options(min_words, max_df, min_bits)
    documents, focus = in_order(corpus, doc)
    total = len(documents)
    done = 0

    def tick(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress(done, total)

    fps = fingerprints([(d.id, d.text) for d in documents], ngram, tick, workers)
    large = sum(len(f.words) for f in fps) > PARALLEL_WORDS
    # Shards grouped in forked processes on a large corpus, each shard that much smaller
    # so that the shards being grouped at one time stay within `shard_shingles` together.
    n_procs = _processes(workers) if large else 1
    n_shards = shard_count(fps, shard_shingles // n_procs) if len(fps) > 1 else 0
    n_shards = -(-n_shards // n_procs) * n_procs  # as many for each process
    # The chance rule's word bits need only the words: on a large corpus they are counted in
    # a forked process while the shards are grouped and the runs joined.
    early = min_bits > 0 and n_shards and n_procs > 1 and can_fork()
    pending = Background(_corpus_bits, fps) if early else None
    with pending or contextlib.nullcontext():
        seeds = Seeds.concat(fork_map(_group_one, range(n_shards),
                                      (fps, n_shards, max_df, focus), n_procs))
        # The shingles have done their work: alignment needs only words and offsets.
        fps = [replace(f, hashes=np.zeros(0, np.uint64)) for f in fps]
        codes = series_codes(documents, series)
        if codes is not None and not within_series:
            seeds = drop_same_series(seeds, codes)
        # Runs never cross document pairs, so seeds split by their first document make runs
        # apart, in order.
        runs = Runs.concat(fork_map(_runs_of, _first_doc_ranges(seeds, n_procs),
                                    (seeds, ngram, gap, min_words), n_procs))
        del seeds
        runs = prune_runs(runs, fps, min_words=min_words, gap=gap)
        bits = pending.result() if pending is not None else None
    slices = pair_slices(runs)
    total += len(slices)
    if bits is None and min_bits > 0 and slices:
        bits = _corpus_bits(fps)
    floor = max(0.0, min_bits - RECUR_BITS)
    matches = align_all(fps, runs, min_words=min_words, gap=gap, progress=tick,
                        workers=workers, chance=None if bits is None else (bits, floor),
                        texts=[d.text for d in documents])
    ranked = sorted(matches, key=_rank)
    del matches
    spans = _spans(documents, fps, ranked)
    words = {f.doc: len(f.words) for f in fps}
    return assemble(documents, ranked, spans, codes=codes, min_bits=min_bits,
                    chance=bits is not None, words=words, shards=max(1, n_shards))


def in_order(corpus: Corpus, doc: str | None) -> tuple[list[Document], int | None]:
    """The documents in the order every engine processes them (date, then id), and the
    index of `doc` (`--doc`) among them."""
    documents = sorted(corpus.documents, key=lambda d: d.meta.sort_key)
    if doc is None:
        return documents, None
    target = corpus.get(doc)
    return documents, next(i for i, d in enumerate(documents) if d.id == target.id)


def check_options(min_words: int, max_df: float, min_bits: float) -> None:
    """The options every engine refuses alike."""
    if min_words < 1:
        raise AnnotateError(f"--min-words must be at least 1, not {min_words}")
    if not (0 < max_df < math.inf):  # also refuses NaN
        raise AnnotateError(f"--max-df must be above 0, not {max_df}")
    if not (0 <= min_bits < math.inf):
        raise AnnotateError(f"--min-bits must be 0 or more, not {min_bits}")


@without_gc
def assemble(
    documents: Sequence[Document],
    ranked: list[Match],
    spans: list[tuple[Span, Span]],
    *,
    codes: np.ndarray | None,
    min_bits: float,
    chance: bool,
    words: Mapping[str, int],
    shards: int,
) -> ReuseResult:
    """The last, corpus-wide step of every engine: matches ranked by `_rank` with their
    character spans become numbered passages and clusters (the chance rule's cluster
    exception decided here, since it needs every passage)."""
    order = {d.id: i for i, d in enumerate(documents)}
    groups = cluster_groups(spans)
    if chance and any(m.bits < min_bits for m in ranked):
        # A phrase found in three or more documents is less likely chance than one pair's:
        # under `min_bits` (down to `floor`), a passage stays only as part of a cluster.
        # Those dropped belong to no cluster, so the clusters stay as they are, renumbered.
        clustered = {i for g in groups for i in g}
        keep = [i for i, m in enumerate(ranked) if m.bits >= min_bits or i in clustered]
        ranked, spans = [ranked[i] for i in keep], [spans[i] for i in keep]
        new_index = {old: new for new, old in enumerate(keep)}
        groups = [[new_index[i] for i in g] for g in groups]
    ids = [f"r{n}" for n in range(1, len(ranked) + 1)]
    labels, clusters = name_clusters(spans, [m.words for m in ranked], ids, order, groups)
    passages = tuple(
        Passage(pid, label, m.similarity, m.words,
                Side(sa[0], sa[1], sa[2], documents[m.a].text[sa[1] : sa[2]]),
                Side(sb[0], sb[1], sb[2], documents[m.b].text[sb[1] : sb[2]]), m.bits,
                codes is not None and bool(codes[m.a] == codes[m.b]))
        for pid, label, m, (sa, sb) in zip(ids, labels, ranked, spans, strict=True)
    )
    return ReuseResult(passages, clusters, words, shards)


def series_codes(
    documents: Sequence[Document], series: Mapping[str, str] | None
) -> np.ndarray | None:
    """A series number per document (documents without a series get one of their own), or
    None when no document has a series. The document's own `meta.series` wins over
    `series`, which maps ids (as `--series` finds them in file names)."""
    names = [d.meta.series or (series or {}).get(d.id) for d in documents]
    if not any(names):
        return None
    number: dict[str, int] = {}
    codes = [number.setdefault(n, len(number)) if n else -1 - i for i, n in enumerate(names)]
    return np.array(codes, dtype=np.int64)


def drop_same_series(seeds: Seeds, codes: np.ndarray) -> Seeds:
    """Seeds between documents of different series only (before any alignment is spent)."""
    keep = codes[seeds.a] != codes[seeds.b]
    return Seeds(seeds.a[keep], seeds.b[keep], seeds.pa[keep], seeds.pb[keep])


def align_all(
    fps: Sequence[Fingerprint],
    runs: Runs,
    *,
    min_words: int = DEFAULT_MIN_WORDS,
    gap: int = DEFAULT_GAP,
    progress: Callable[[int], None] | None = None,
    workers: int | None = None,
    chance: tuple[WordBits, float] | None = None,
    texts: Sequence[str] | None = None,
) -> list[Match]:
    """Stage 3 over every pair that shares seeds; many pairs are split over worker
    processes (forked, so they share the fingerprints without copying them). With the
    documents' `texts` (in the order of `fps`), each match also gets its `chars`."""
    slices = pair_slices(runs)
    if workers is None:
        workers = _processes(None) if len(runs.a) > PARALLEL_RUNS else 1
    # Arrays, not lists: forked workers would copy the pages of every int object they touch.
    shared = (fps, runs.a0, runs.a1, runs.b0, runs.b1, min_words, gap, chance, texts)
    size = max(1, len(slices) // (max(1, workers) * 8))
    chunks = [slices[i : i + size] for i in range(0, len(slices), size)]
    done = None if progress is None else (lambda chunk: progress(len(chunk)))
    return [m for part in fork_map(_align_slices, chunks, shared, workers, done) for m in part]


def _processes(workers: int | None) -> int:
    return min(os.cpu_count() or 1, 4) if workers is None else workers


def _corpus_bits(fps: Sequence[Fingerprint]) -> WordBits:
    return word_bits([word_counts(f) for f in fps])


def _group_one(shared: tuple[Sequence[Fingerprint], int, float, int | None], k: int) -> Seeds:
    fps, n_shards, max_df, focus = shared
    return group_shard(make_shard(fps, k, n_shards), len(fps), max_df=max_df, focus=focus)


def _first_doc_ranges(seeds: Seeds, procs: int) -> list[tuple[int, int]]:
    """Ranges [lo, hi) of first documents (`seeds.a`) covering every seed, one a process or
    more: about RUN_SEEDS seeds each, so that the memory of joining them stays bounded."""
    parts = max(procs, math.ceil(len(seeds.a) / RUN_SEEDS))
    if procs <= 1 or len(seeds.a) < 100_000:
        return [(0, 2**31)]
    cuts = np.quantile(seeds.a, np.linspace(0, 1, parts + 1)[1:-1]).astype(np.int64)
    bounds = [0, *sorted(set(cuts.tolist()) - {0}), 2**31]
    return list(zip(bounds[:-1], bounds[1:], strict=True))


def _runs_of(shared: tuple[Seeds, int, int, int], first_docs: tuple[int, int]) -> Runs:
    seeds, ngram, gap, min_words = shared
    lo, hi = first_docs
    if (lo, hi) != (0, 2**31):
        keep = (seeds.a >= lo) & (seeds.a < hi)
        seeds = Seeds(seeds.a[keep], seeds.b[keep], seeds.pa[keep], seeds.pb[keep])
    return seed_runs(seeds, ngram=ngram, gap=gap, min_words=min_words)


def _align_slices(shared: tuple[Any, ...], slices: Sequence[tuple[int, int, int, int]]
                  ) -> list[Match]:
    fps, a0, a1, b0, b1, min_words, gap, chance, texts = shared
    out: list[Match] = []
    for a, b, first, stop in slices:
        boxes = zip(a0[first:stop].tolist(), a1[first:stop].tolist(),
                    b0[first:stop].tolist(), b1[first:stop].tolist(), strict=True)
        found = align_pair(a, b, fps[a], fps[b], boxes, min_words=min_words, gap=gap,
                           chance=chance)
        if texts is not None:  # character spans here, in parallel, not after
            fa, fb = fps[a], fps[b]
            found = [Match(a, b, m.a0, m.a1, m.b0, m.b1, m.words, m.similarity, m.bits,
                           (int(fa.starts[m.a0]), fa.end(m.a1 - 1, texts[a]),
                            int(fb.starts[m.b0]), fb.end(m.b1 - 1, texts[b])))
                     for m in found]
        out.extend(found)
    return out


def _spans(
    documents: Sequence[Document], fps: Sequence[Fingerprint], matches: Sequence[Match]
) -> list[tuple[Span, Span]]:
    """Each match's sides as (document id, start, end) in characters."""
    out = []
    for m in matches:
        da, db = documents[m.a], documents[m.b]
        if m.chars is not None:
            out.append(((da.id, m.chars[0], m.chars[1]), (db.id, m.chars[2], m.chars[3])))
            continue
        fa, fb = fps[m.a], fps[m.b]
        out.append(((da.id, int(fa.starts[m.a0]), fa.end(m.a1 - 1, da.text)),
                    (db.id, int(fb.starts[m.b0]), fb.end(m.b1 - 1, db.text))))
    return out


def _rank(m: Match) -> tuple[int, float, int, int, int, int]:
    return (-m.words, -m.similarity, m.a, m.a0, m.b, m.b0)


def passages_between(result: ReuseResult, a: str, b: str) -> list[Passage]:
    """The passages shared by documents `a` and `b`, in `a`'s text order."""
    return sorted(
        (p for p in result.passages if {p.a.doc, p.b.doc} == {a, b}),
        key=lambda p: (p.a.start if p.a.doc == a else p.b.start),
    )
