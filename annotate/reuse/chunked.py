"""The chunked pipeline: the reuse stages as tasks over chunks of the corpus, with every
intermediate result on disk. It runs on any `Tasks`: a Dask cluster's workers
(`engine_dask`) or this machine's processes (`local_tasks`, the local engine's `--on-disk`).

The documents (sorted as the local engine sorts them) are cut into contiguous *chunks* of at
most CHUNK_CHARS characters. Every stage is a task over plain data, and only small results
travel to the client:

1. per chunk: read the texts and fingerprint them (`fingerprint`); count shingles and words;
   the workers keep the fingerprints, not the texts;
2. per chunk: cut its shingles into the `n_shards` hash shards, the same shards as the
   in-memory engine's (`shards.make_shard`), so seeds come out the same;
3. per shard: gather that shard's piece of every chunk, group it (`seeds.group_shard`), and
   order its seeds by *block*, the pair of chunks holding their two documents;
4. per block: gather that block's seeds from every shard, join them into runs and align each
   document pair (`align.align_pair`) with the fingerprints of just those two chunks; only
   the matches and their token offsets come back;
5. on the client, as in the in-memory engine: character spans from its texts, rank, the
   chance rule's cluster exception, ids, clusters (`engine.assemble`).

The chance rule's word table is built alongside: each chunk's word counts, cut into parts
of the vocabulary by word hash, are merged part by part, and the parts' bits are joined.

**Memory.** Every result that waits for later tasks (a chunk's fingerprints, its shard
pieces, a shard's seeds, word counts) is an `ondisk.OnDisk`: a file on the worker's local
disk, memory-mapped by the task that reads it. So a worker's memory holds only the task it
runs, bounded by the chunk and shard sizes (a shard task one shard, a block task two
chunks' fingerprints and the block's seeds), whatever the corpus's size; the corpus's worth
of intermediate results is on disk (about 8 bytes per byte of text at the peak, all removed
as the run goes). No process holds the whole shingle index or the whole vocabulary's counts.

**Documents.** Workers read the documents from the corpus path themselves, which assumes
they see the same files at the same paths as the client (on a cluster: a filesystem shared
by the workers, as on HPC clusters); each read is checked against the client's by length
and digest. With `send_text` the client sends the texts inside the tasks instead.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from annotate.errors import AnnotateError
from annotate.model import Document
from annotate.reuse.align import Match, align_pair
from annotate.reuse.chance import RECUR_BITS, WordBits, merge_counts, word_bits
from annotate.reuse.engine import ReuseResult, _rank, assemble, series_codes, without_gc
from annotate.reuse.fingerprint import Fingerprint, fingerprint
from annotate.reuse.ondisk import OnDisk
from annotate.reuse.prune import prune_runs
from annotate.reuse.seeds import Seeds, group_shard, pair_slices, seed_runs
from annotate.reuse.shards import Shard, shard_of
from annotate.text import TOKEN

# Characters of text per chunk: a chunk's fingerprints (about 2x its text, 3x with shingles)
# are what one task holds, and a block task holds two chunks'.
CHUNK_CHARS = 6_000_000
# Words of text per part of the vocabulary when the chance rule's word table is built (a
# part's distinct words, some 1.5 million for 35 million words of newspaper OCR, are what
# one task holds).
VOCAB_TOKENS = 20_000_000
# Chunks' word counts merged by one task (a tree of merges, not one task holding them all).
_FAN_IN = 4
# (id, path, length, digest, text or None): what a chunk task needs to get one document.
Item = tuple[str, str, int, str, str | None]
# A match with, per side, (document id, start of its first token, start of its last token).
Found = tuple[Match, tuple[str, int, int], tuple[str, int, int]]


class ClusterError(AnnotateError):
    """The workers (a Dask cluster, or this machine's processes) could not be reached or
    could not run the detection."""


class Tasks(Protocol):
    """Where the tasks run: `submit` takes a task function and its arguments, any of which
    may be an earlier `submit`'s handle (or a list of them), and returns a handle."""

    @property
    def n_workers(self) -> int: ...

    def submit(self, fn: Callable[..., Any], *args: Any, pure: bool = True) -> Any: ...

    def results(self, handles: Sequence[Any]) -> list[Any]:
        """The results of `handles`, in their order, once all are done."""
        ...

    def each_result(self, handles: list[Any]) -> list[Any]:
        """The results in their order, each fetched (and its handle dropped) as soon as it is
        done; empties `handles`."""
        ...

    def finish(self) -> None: ...


def run_chunked(
    tasks: Tasks,
    documents: Sequence[Document],
    focus: int | None,
    *,
    send_text: bool,
    min_words: int,
    max_df: float,
    ngram: int,
    gap: int,
    min_bits: float,
    series: Mapping[str, str] | None,
    within_series: bool,
    shard_shingles: int,
    chunk_chars: int,
    vocab_tokens: int,
) -> ReuseResult:
    """`engine.find_reuse`'s result for `documents` (sorted as it sorts them; `focus` the
    index of `--doc`'s document), computed by tasks on `tasks`."""
    n_workers = tasks.n_workers
    # Several chunks a worker: the blocks along the diagonal (pages of the same days, where
    # reprints cluster) are the heavy ones, and more, smaller blocks balance them.
    chunks = _chunk_items(documents, send_text, chunk_chars, 4 * n_workers)
    bounds = np.cumsum([0] + [len(c) for c in chunks])
    n_chunks = len(chunks)
    # Every intermediate result below is an `OnDisk`: it waits on its worker's disk, not in
    # its memory, for the tasks that need it (see annotate/reuse/ondisk.py).
    # Stage 1, per chunk (one submit a chunk: with --send-text, one modest graph each).
    # The texts are not kept on the workers: alignment needs only the fingerprints, and the
    # client, which has the texts, turns token offsets into character spans.
    prints = [tasks.submit(_fingerprint_chunk, c, ngram, pure=False) for c in chunks]
    summaries = tasks.results([tasks.submit(_summary, f) for f in prints])
    n_hashes = sum(s[0] for s in summaries)
    words = {d: n for s in summaries for d, n in s[1]}
    # As `shards.shard_count`, from a count (the client never sees the hashes).
    n_shards = max(1, math.ceil(n_hashes / max(1, shard_shingles))) if len(documents) > 1 else 0
    # Stage 2, per chunk: its piece of every shard; then the shingles are done with.
    lean = [tasks.submit(_lean, f) for f in prints]
    pieces: list[list[Any]] = []
    if n_shards:
        cut = [tasks.submit(_split, f, int(bounds[i]), n_shards) for i, f in enumerate(prints)]
        pieces = [[tasks.submit(_part, c, k) for c in cut] for k in range(n_shards)]
        del cut
    del prints
    bits = None
    if min_bits > 0 and n_shards:
        # The corpus's word counts, partitioned by word hash (so no task holds the whole
        # vocabulary) and each part merged a few chunks at a time; the bits, computed per
        # part, are then joined into the one sorted table every block task maps.
        n_tokens = sum(words.values())
        n_parts = max(1, math.ceil(n_tokens / max(1, vocab_tokens)))
        counts = [tasks.submit(_counts, f, n_parts) for f in lean]
        parts = []
        for p in range(n_parts):
            merged = [tasks.submit(_part, c, p) for c in counts]
            while len(merged) > 1:
                merged = [tasks.submit(_merge_counts, *merged[i : i + _FAN_IN])
                          for i in range(0, len(merged), _FAN_IN)]
            parts.append(tasks.submit(_word_bits, merged[0], n_tokens))
            del merged
        del counts
        bits = tasks.submit(_join_bits, *parts)
        del parts
    # Stage 3, per shard: grouped, then its seeds cut by block (pair of chunks).
    codes = series_codes(documents, series)
    drop = codes if codes is not None and not within_series else None
    blocks = [(i, j) for i in range(n_chunks) for j in range(i, n_chunks)]
    by_block: list[list[Any]] = [[] for _ in blocks]
    for k in range(n_shards):
        grouped = tasks.submit(_group, bounds, drop, len(documents), max_df, focus,
                               *pieces[k])
        pieces[k] = []
        for b in range(len(blocks)):
            by_block[b].append(tasks.submit(_part, grouped, b))
        del grouped
    del pieces
    # Stage 4, per block: runs and alignment; only matches and token offsets come back.
    floor = max(0.0, min_bits - RECUR_BITS)
    found = [
        tasks.submit(_align_block, by_block[b], lean[i], lean[j],
                     (int(bounds[i]), int(bounds[j])), bits, floor, ngram, gap, min_words)
        for b, (i, j) in enumerate(blocks)
    ] if n_shards else []
    del by_block, lean, bits
    # Each block's matches are fetched as soon as it is done, so the workers do not keep
    # them (half the result each, growing with the corpus) until the last block finishes.
    found_pairs: list[Found] = [p for part in tasks.each_result(found) for p in part]
    tasks.finish()
    found_pairs.sort(key=lambda p: _rank(p[0]))
    text = {d.id: d.text for d in documents}
    spans = [((da, sa, _token_end(text[da], la)), (db, sb, _token_end(text[db], lb)))
             for _, (da, sa, la), (db, sb, lb) in found_pairs]
    return assemble(documents, [m for m, _, _ in found_pairs], spans, codes=codes,
                    min_bits=min_bits, chance=min_bits > 0, words=words,
                    shards=max(1, n_shards))


def chunk_count(total_chars: int, n_docs: int, chunk_chars: int, least: int) -> int:
    """How many chunks `_chunk_items` cuts: one per `chunk_chars` of text, but at least
    `least` (as many as there are documents)."""
    return max(1, min(n_docs, max(least, math.ceil(total_chars / max(1, chunk_chars)))))


def _chunk_items(
    documents: Sequence[Document], send_text: bool, chunk_chars: int, least: int
) -> list[list[Item]]:
    """Contiguous runs of documents of about equal text, at least `least` of them (when
    there are as many documents) so every worker has work."""
    total = sum(len(d.text) for d in documents)
    n = chunk_count(total, len(documents), chunk_chars, least)
    target = total / n
    chunks: list[list[Item]] = [[]]
    size = 0
    for d in documents:
        if size >= target * len(chunks) and len(chunks) < n:
            chunks.append([])
        chunks[-1].append((d.id, str(d.path.resolve()), len(d.text), _digest(d.text),
                           d.text if send_text else None))
        size += len(d.text)
    return [c for c in chunks if c]


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


# --- the tasks: plain functions of plain data, run on the workers ------------------------------


def _load(items: Sequence[Item]) -> list[tuple[str, str]]:
    """The chunk's texts, read from the corpus path (or as sent), checked against the
    client's reading."""
    from annotate.corpus import read_document

    out = []
    for doc_id, path, length, digest, text in items:
        if text is None:
            text = read_document(Path(path)).text
            if len(text) != length or _digest(text) != digest:
                raise ClusterError(
                    f"{path} reads differently on a worker than on the client: it changed "
                    "since the corpus was read, or (Dask) the workers need the corpus at the "
                    "same path (a shared filesystem), or use --send-text"
                )
        out.append((doc_id, text))
    return out


@without_gc
def _fingerprint_chunk(items: Sequence[Item], ngram: int) -> OnDisk:
    """The chunk's fingerprints, joined into three arrays on disk; `meta` is the document
    ids and where each document's tokens and shingles begin."""
    fps = [fingerprint(d, t, ngram) for d, t in _load(items)]
    tokens = np.cumsum([0] + [len(f.words) for f in fps]).tolist()
    shingles = np.cumsum([0] + [len(f.hashes) for f in fps]).tolist()
    return OnDisk.save({"starts": _join([f.starts for f in fps], np.int32),
                        "words": _join([f.words for f in fps], np.uint64),
                        "hashes": _join([f.hashes for f in fps], np.uint64)},
                       ([f.doc for f in fps], tokens, shingles))


def _join(parts: list[Any], dtype: type) -> Any:
    return np.concatenate(parts) if parts else np.zeros(0, dtype)


def _fingerprints(chunk: OnDisk) -> list[Fingerprint]:
    """The chunk's fingerprints again, as views of its memory-mapped arrays (without the
    shingles, which alignment does not need)."""
    arrays = chunk.load()
    starts, words = arrays["starts"], arrays["words"]
    docs, tokens, _ = chunk.meta
    none = np.zeros(0, np.uint64)
    return [Fingerprint(d, starts[lo:hi], words[lo:hi], none)
            for d, lo, hi in zip(docs, tokens[:-1], tokens[1:], strict=True)]


def _token_end(text: str, start: int) -> int:
    """Where the token starting at `start` ends (as `Fingerprint.end`)."""
    m = TOKEN.match(text, start)
    assert m is not None
    return m.end()


def _summary(chunk: OnDisk) -> tuple[int, list[tuple[str, int]]]:
    """Shingles in the chunk (for the shard count) and words per document."""
    docs, tokens, shingles = chunk.meta
    return shingles[-1], [(d, hi - lo) for d, lo, hi in zip(docs, tokens[:-1], tokens[1:],
                                                          strict=True)]


def _lean(chunk: OnDisk) -> OnDisk:
    # Alignment needs only words and offsets: the shingles stay with the shards.
    return chunk.select(("starts", "words"))


def _split(chunk: OnDisk, offset: int, n_shards: int) -> OnDisk:
    """The chunk's piece of each shard, documents numbered corpus-wide: the chunk's
    shingles ordered by shard (stably, so each shard's piece is in (document, position)
    order, as `shards.make_shard` cuts it), with where each shard's rows begin in `meta`."""
    hashes = chunk.load()["hashes"]
    _, _, shingles = chunk.meta
    first = np.asarray(shingles, dtype=np.int64)
    lengths = first[1:] - first[:-1]
    docs = np.repeat(np.arange(len(lengths), dtype=np.int32) + np.int32(offset), lengths)
    pos = (np.arange(len(hashes), dtype=np.int64)
           - np.repeat(first[:-1], lengths)).astype(np.int32)
    keep = np.flatnonzero(hashes != 0)  # stopword-only shingles (hashed 0) are left out
    hashes, docs, pos = hashes[keep], docs[keep], pos[keep]
    del keep
    shard = shard_of(hashes, n_shards)
    order = np.argsort(shard, kind="stable")
    cuts = np.searchsorted(shard[order], np.arange(n_shards + 1, dtype=np.uint64)).tolist()
    del shard
    return OnDisk.save({"hashes": hashes[order], "docs": docs[order], "pos": pos[order]},
                       cuts)


def _part(whole: OnDisk, k: int) -> OnDisk:
    """Part `k` of a result cut in parts (a shard of a chunk's pieces, a block of a shard's
    seeds): the same file, its rows only (so only they travel to another worker)."""
    cuts = whole.meta
    return whole.rows(cuts[k], cuts[k + 1])


def _counts(chunk: OnDisk, n_parts: int) -> OnDisk:
    """The chunk's distinct words and their counts (summed, `word_bits` gives the same),
    in hash order, with where each of the `n_parts` hash ranges begins in `meta`."""
    words, counts = np.unique(chunk.load()["words"], return_counts=True)
    cuts = np.searchsorted(words, _vocab_bounds(n_parts)).tolist()
    return OnDisk.save({"words": words, "counts": counts.astype(np.int64)},
                       [0, *cuts, len(words)])


def _vocab_bounds(n_parts: int) -> Any:
    """Where the word-hash ranges of the vocabulary's parts begin (but the first)."""
    step = 2**64 // n_parts
    return np.array([p * step for p in range(1, n_parts)], dtype=np.uint64)


def _merge_counts(*parts: OnDisk) -> OnDisk:
    words, counts = merge_counts([(a["words"], a["counts"]) for a in (p.load() for p in parts)])
    return OnDisk.save({"words": words, "counts": counts})


def _word_bits(counts: OnDisk, n_tokens: int) -> OnDisk:
    """The bits of one part of the vocabulary, as `word_bits` over the whole corpus gives
    them: it takes the corpus's length from the counts it is given, so the rest of the
    corpus joins them as one stand-in word (a hash outside this part's range, left out of
    the result)."""
    arrays = counts.load()
    words, n = arrays["words"], arrays["counts"]
    rest = n_tokens - int(n.sum())
    if rest:
        # Below the part's least word (the first part, which starts at 0, ends far below
        # 2**64 - 1: with a single part, nothing is left over).
        stand_in = int(words[0]) - 1 if len(words) and words[0] > 0 else 2**64 - 1
        words = np.append(words, np.uint64(stand_in))
        n = np.append(n, np.int64(rest))
    bits = word_bits([(words, n)])
    keep = bits.hashes != np.uint64(stand_in) if rest else slice(None)
    return OnDisk.save({"hashes": bits.hashes[keep], "bits": bits.bits[keep]})


def _join_bits(*parts: OnDisk) -> OnDisk:
    # The parts are consecutive hash ranges: end to end, they are one sorted table.
    return OnDisk.concat(parts)


def _load_bits(bits: OnDisk) -> WordBits:
    arrays = bits.load()
    return WordBits(arrays["hashes"], arrays["bits"])


def _group(
    bounds: Any, drop: Any, n_docs: int, max_df: float, focus: int | None, *pieces: OnDisk
) -> OnDisk:
    """One shard: its pieces joined in chunk order (so in (document, position) order, as
    `make_shard` over the whole corpus), grouped, and its seeds ordered by block, with
    where each block's rows begin in `meta`."""
    arrays = [p.load() for p in pieces]
    shard = Shard(*(_join([a[f] for a in arrays], t)
                    for f, t in (("hashes", np.uint64), ("docs", np.int32), ("pos", np.int32))))
    del arrays, pieces
    seeds = group_shard(shard, n_docs, max_df=max_df, focus=focus)
    del shard
    if drop is not None:
        keep = drop[seeds.a] != drop[seeds.b]
        seeds = Seeds(seeds.a[keep], seeds.b[keep], seeds.pa[keep], seeds.pb[keep])
    n = len(bounds) - 1
    block = ((np.searchsorted(bounds, seeds.a, side="right") - 1) * n
             + np.searchsorted(bounds, seeds.b, side="right") - 1)
    # One stable sort by block, then slices: the seeds keep their order within a block.
    order = np.argsort(block, kind="stable")
    keys = [i * n + j for i in range(n) for j in range(i, n)]
    cuts = np.searchsorted(block[order], keys + [n * n]).tolist()
    del block
    return OnDisk.save({f: getattr(seeds, f)[order] for f in ("a", "b", "pa", "pb")}, cuts)


@without_gc
def _align_block(
    parts: Sequence[OnDisk],
    chunk_i: OnDisk,
    chunk_j: OnDisk,
    offsets: tuple[int, int],
    bits: OnDisk | None,
    floor: float,
    ngram: int,
    gap: int,
    min_words: int,
) -> list[Found]:
    """One block: the seeds of its document pairs from every shard, joined into runs (runs
    never cross pairs, so per block is as good as corpus-wide) and aligned per pair; each
    match with its sides' token starts (the client finds the ends in its texts)."""
    seeds = [p.load() for p in parts]
    runs = seed_runs(Seeds.concat([Seeds(s["a"], s["b"], s["pa"], s["pb"]) for s in seeds]),
                     ngram=ngram, gap=gap, min_words=min_words)
    del seeds
    fps = {offsets[0] + n: f for n, f in enumerate(_fingerprints(chunk_i))}
    fps.update({offsets[1] + n: f for n, f in enumerate(_fingerprints(chunk_j))})
    # Short runs alone in their chain that cannot become a passage go before any Python
    # sees them.
    runs = prune_runs(runs, fps, min_words=min_words, gap=gap)
    chance = None if bits is None else (_load_bits(bits), floor)
    # The alignment proper, pair by pair (the local engine's `align_all` does the same).
    a0, a1 = runs.a0.tolist(), runs.a1.tolist()
    b0, b1 = runs.b0.tolist(), runs.b1.tolist()
    out: list[Found] = []
    for a, b, first, stop in pair_slices(runs):
        fa, fb = fps[a], fps[b]
        boxes = zip(a0[first:stop], a1[first:stop], b0[first:stop], b1[first:stop],
                    strict=True)
        for m in align_pair(a, b, fa, fb, boxes, min_words=min_words, gap=gap,
                            chance=chance):
            out.append((m, (fa.doc, int(fa.starts[m.a0]), int(fa.starts[m.a1 - 1])),
                        (fb.doc, int(fb.starts[m.b0]), int(fb.starts[m.b1 - 1]))))
    return out

