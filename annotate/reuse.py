"""Shared-passage detection across a corpus: which words did one statement share with another,
verbatim or with small edits?

The detection runs as four stages, each a pure function over plain data (strings, tuples and
numpy arrays), so the same stages could run partitioned on a cluster engine:

1. `fingerprint` (per document): the normalised word tokens (`annotate.text.TOKEN`,
   `normalise`: case, typographic quotes and dashes, line breaks and punctuation do not count),
   each with its [start, end) offsets into the original text, and the hashes of every word
   n-gram ("shingle", `DEFAULT_NGRAM` words) that is not made of stopwords only.
2. `group_seeds` (corpus): an inverted index from shingle hash to (document, position), built by
   sorting all hashes at once. Shingles found in one document only say nothing; shingles found
   in too many documents are boilerplate and are dropped (see `df_limit`). Every remaining
   shingle shared by two documents is a *seed* of that pair, so only pairs that share seeds are
   ever compared: cost grows with the amount of shared text, not with the number of pairs.
   (A shingle in more than FULL_PAIRS places seeds each place with the next only.)
3. `align_pair` (per pair): seeds on one diagonal (a substituted word keeps the diagonal)
   are joined into runs; runs are chained along both documents across gaps of up to
   `DEFAULT_GAP` words (inserted, deleted or substituted words; words moved about), so an
   edited passage is one passage, not fragments. The heaviest path of runs through a chain
   is its alignment; the chain is cut where a gap costs more than the matches either side
   are worth (GAP_COST per unmatched word), then extended by up to MARGIN words that still
   match solidly and by any exact agreement beyond. It is kept when at least `min_words`
   normalised words match; similarity is 2 x matched / (words of a + words of b).
4. `cluster_passages` (corpus): passages whose sides overlap (by half the shorter side) in a
   document are joined (union-find); a group spanning three or more documents is a cluster.

Boilerplate ("the Home Secretary said", "in order to") is kept out three ways, all adjustable:
a passage needs `min_words` matching words (`--min-words`) and more than one seed (a lone
shared three-word sequence is chance); shingles made only of stopwords never seed a match;
and a shingle that occurs in more documents than `df_limit` allows
(`--max-df`) is ignored as a formula of the genre rather than evidence of reuse.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from difflib import SequenceMatcher
from multiprocessing import get_all_start_methods, get_context
from operator import eq
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from annotate.model import Cluster, Document, Passage, Side
from annotate.text import TOKEN, normalise

if TYPE_CHECKING:
    from annotate.corpus import Corpus

# Six matching words: on seeds/ this keeps the phrase that travels from 2007 to 2025 ("people
# with no right to be in the UK") and nothing else; at five, chance phrases appear ("who come
# to the UK", "our international partners ... to tackle").
DEFAULT_MIN_WORDS = 6
DEFAULT_NGRAM = 3
# A shingle in more than this fraction of the documents is boilerplate; a value above 1 is a
# number of documents instead. Small corpora never drop anything below DF_FLOOR documents,
# since there a phrase in every statement is exactly the travelling phrase we look for.
DEFAULT_MAX_DF = 0.05
DF_FLOOR = 10
# A shingle with at most this many occurrences seeds every pair of them (see `group_seeds`).
FULL_PAIRS = 10
# Most words allowed between two chained seeds on either side.
DEFAULT_GAP = 30
# Within a chain, an unmatched word costs this many matched ones: a passage is cut where its
# gaps outweigh the matches either side (so chance seeds far apart do not join up).
GAP_COST = 0.5
# Words beyond a passage's last seed that may still join it (see `_align`).
MARGIN = 6
# Corpora larger than this (characters) are fingerprinted in worker processes.
PARALLEL_CHARS = 8_000_000
# ... and more seed runs than this are aligned in worker processes.
PARALLEL_RUNS = 150_000

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been
    before being below between both but by can could did do does doing down during each
    few for from further had has have having he her here hers herself him himself his how i
    if in into is it its itself just let me more most my myself no nor not now of off on
    once only or other our ours ourselves out over own same she should so some such than
    that the their theirs them themselves then there these they this those through to too
    under until up upon very was we were what when where which while who whom why will with
    would you your yours yourself yourselves said says say mr mrs ms""".split()
)

IntArray = npt.NDArray[np.signedinteger[Any]]
HashArray = npt.NDArray[np.uint64]
_MULT = np.uint64(0x9E3779B97F4A7C15)


@dataclass(frozen=True)
class ReuseResult:
    passages: tuple[Passage, ...]
    clusters: tuple[Cluster, ...]


@dataclass(frozen=True, eq=False)
class Fingerprint:
    """Stage 1 output for one document. `words[i]` is the hash of token i's normalised form
    (lowest bit set for a stopword); `starts`/`ends` are its offsets; `hashes[k]` is the
    shingle starting at token `positions[k]`."""

    doc: str
    starts: IntArray
    ends: IntArray
    words: HashArray
    positions: IntArray
    hashes: HashArray


@dataclass(frozen=True, eq=False)
class Seeds:
    """Stage 2 output: shingles shared by two documents, one row per occurrence pair: token
    `pa` of document `a` starts the same shingle as token `pb` of document `b`. Documents
    are indices into the fingerprint list, `a < b`."""

    a: IntArray
    b: IntArray
    pa: IntArray
    pb: IntArray


@dataclass(frozen=True, slots=True)
class Match:
    """Stage 3 output: a shared passage as token ranges [a0, a1) and [b0, b1)."""

    a: int
    b: int
    a0: int
    a1: int
    b0: int
    b1: int
    words: int
    similarity: float


# --- stage 1: fingerprints ------------------------------------------------------------------


class _Vocabulary(dict[str, int]):
    """Raw word -> stable 64-bit hash of its normalised form, stopword flag in the lowest bit.
    Stable (not Python's salted `hash`) so worker processes agree."""

    def __missing__(self, word: str) -> int:
        norm = normalise(word)
        digest = hashlib.blake2b(norm.encode("utf-8", "surrogatepass"), digest_size=8)
        value = (int.from_bytes(digest.digest(), "little") & ~1) | (norm in STOPWORDS)
        self[word] = value
        return value


_VOCAB = _Vocabulary()


def fingerprint(doc: str, text: str, ngram: int = DEFAULT_NGRAM) -> Fingerprint:
    """Tokens with offsets and the hashed word n-grams of one document."""
    matches = list(TOKEN.finditer(text))
    n = len(matches)
    found = list(map(re.Match.group, matches))
    # int32 halves the memory of a large corpus; no document is 2 GB long.
    starts = np.fromiter(map(re.Match.start, matches), dtype=np.int32, count=n)
    ends = starts + np.fromiter(map(len, found), dtype=np.int32, count=n)
    words = np.fromiter(map(_VOCAB.__getitem__, found), dtype=np.uint64, count=n)
    if len(_VOCAB) > 2_000_000:
        _VOCAB.clear()  # bound memory on huge OCR vocabularies; values are recomputable
    count = max(0, n - ngram + 1)
    hashes = words[:count].copy()
    content = (words[:count] & np.uint64(1)) == 0
    for k in range(1, ngram):
        hashes = hashes * _MULT + words[k : k + count]
        content |= (words[k : k + count] & np.uint64(1)) == 0
    positions = np.flatnonzero(content).astype(np.int32)
    return Fingerprint(doc, starts, ends, words, positions, hashes[positions])


def _fingerprint_many(items: Sequence[tuple[str, str]], ngram: int) -> list[Fingerprint]:
    return [fingerprint(d, t, ngram) for d, t in items]


def fingerprints(
    docs: Sequence[tuple[str, str]],
    ngram: int = DEFAULT_NGRAM,
    progress: Callable[[int], None] | None = None,
    workers: int | None = None,
) -> list[Fingerprint]:
    """Stage 1 over a corpus of (id, text); large corpora are split over worker processes.
    `progress(n)` is called with the number of documents just finished."""
    size = sum(len(t) for _, t in docs)
    if workers is None:
        workers = min(os.cpu_count() or 1, 4) if size > PARALLEL_CHARS else 1
    if workers <= 1 or len(docs) < 2:
        out = []
        for d, t in docs:
            out.append(fingerprint(d, t, ngram))
            if progress:
                progress(1)
        return out
    from concurrent.futures import ProcessPoolExecutor

    chunks = _chunks(docs, workers * 8)
    results: list[Fingerprint] = []
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for chunk, fps in zip(chunks, pool.map(_fingerprint_many, chunks, [ngram] * len(chunks)),
                              strict=True):
            results.extend(fps)
            if progress:
                progress(len(chunk))
    return results


def _chunks(
    docs: Sequence[tuple[str, str]], n: int
) -> list[Sequence[tuple[str, str]]]:
    total = sum(len(t) for _, t in docs)
    target = max(1, total // n)
    chunks: list[Sequence[tuple[str, str]]] = []
    begin = size = 0
    for i, (_, t) in enumerate(docs):
        size += len(t)
        if size >= target:
            chunks.append(docs[begin : i + 1])
            begin, size = i + 1, 0
    if begin < len(docs):
        chunks.append(docs[begin:])
    return chunks


# --- stage 2: grouping ----------------------------------------------------------------------


def df_limit(n_docs: int, max_df: float = DEFAULT_MAX_DF) -> int:
    """Most documents a shingle may occur in before it counts as boilerplate: `max_df` as a
    fraction of the corpus (or, above 1, a number of documents), never below DF_FLOOR."""
    if max_df > 1:
        return int(max_df)
    return max(DF_FLOOR, math.ceil(max_df * n_docs))


def group_seeds(
    fps: Sequence[Fingerprint], *, max_df: float = DEFAULT_MAX_DF, focus: int | None = None
) -> Seeds:
    """Stage 2: shingles shared by two documents, boilerplate dropped.

    A shingle is kept when it occurs in at least 2 and at most `df_limit` documents, and at
    most 4 x `df_limit` times in all (a phrase repeated all through a few documents seeds
    nothing but noise). A shingle with up to FULL_PAIRS occurrences seeds every pair of
    them; a more frequent one seeds only each occurrence with the next one in corpus order,
    so a phrase reprinted in 100 documents costs 99 seeds, not 4,950: its passages then form
    a chain that clustering joins into one cluster. With `focus`, only pairs involving that
    document are kept (and then every pair of it with the others).
    """
    empty = np.zeros(0, dtype=np.int64)
    if len(fps) < 2:
        return Seeds(empty, empty, empty, empty)
    limit = df_limit(len(fps), max_df)
    hashes = np.concatenate([f.hashes for f in fps])
    if len(hashes) == 0:
        return Seeds(empty, empty, empty, empty)
    docs = np.concatenate(
        [np.full(len(f.hashes), i, dtype=np.int32) for i, f in enumerate(fps)]
    )
    pos = np.concatenate([f.positions for f in fps])
    # Sort (hash, occurrence) packed in one integer: the low bits hold the occurrence's
    # index, so occurrences of one hash stay in (document, position) order, and a plain sort
    # of integers is several times faster than an argsort. The hash loses those low bits;
    # a rare collision only proposes a seed that alignment then rejects.
    bits = max(1, (len(hashes) - 1).bit_length())
    keys = np.sort((hashes >> np.uint64(bits)) << np.uint64(bits)
                   | np.arange(len(hashes), dtype=np.uint64))
    order = (keys & np.uint64((1 << bits) - 1)).astype(np.int64)
    hashes = keys >> np.uint64(bits)
    del keys
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


# --- stage 3: extension and alignment -------------------------------------------------------


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


Box = tuple[int, int, int, int]


def chain_boxes(boxes: Iterable[Box], gap: int = DEFAULT_GAP) -> list[tuple[Box, list[Box]]]:
    """Chain runs (a0, a1, b0, b1), sorted by a0, into passages: a run joins a chain whose
    end is at most `gap` words away in both documents (the nearest diagonal wins). Chains
    that end up overlapping or touching are then merged, which also absorbs words moved
    about inside a passage. Returns each chain's bounding box and its runs."""
    chains: list[list[Any]] = []
    active: list[list[Any]] = []
    for box in boxes:
        a0, a1, b0, b1 = box
        active = [c for c in active if c[1] + gap >= a0]
        best: list[Any] | None = None
        best_shift = 0
        for c in active:
            if c[2] - gap <= b0 <= c[3] + gap:
                shift = abs((b0 - a0) - (c[3] - c[1]))
                if best is None or shift < best_shift:
                    best, best_shift = c, shift
        if best is None:
            c = [a0, a1, b0, b1, [box]]
            chains.append(c)
            active.append(c)
        else:
            best[1] = max(best[1], a1)
            best[2] = min(best[2], b0)
            best[3] = max(best[3], b1)
            best[4].append(box)
    merged = True
    while merged and len(chains) > 1:
        merged = False
        chains.sort(key=lambda c: c[:4])
        out: list[list[Any]] = []
        for c in chains:
            for o in reversed(out[-4:]):
                if c[0] <= o[1] + gap and c[2] <= o[3] + gap and o[2] <= c[3] + gap:
                    o[1], o[2], o[3] = max(o[1], c[1]), min(o[2], c[2]), max(o[3], c[3])
                    o[4].extend(c[4])
                    merged = True
                    break
            else:
                out.append(c)
        chains = out
    return [((c[0], c[1], c[2], c[3]), sorted(c[4])) for c in chains]


def align_pair(
    a: int,
    b: int,
    fa: Fingerprint,
    fb: Fingerprint,
    boxes: Iterable[Box],
    *,
    min_words: int = DEFAULT_MIN_WORDS,
    gap: int = DEFAULT_GAP,
) -> list[Match]:
    """Stage 3 for one pair: chain the runs, align, keep passages of `min_words`+ words."""
    found: list[Match] = []
    for (a0, a1, b0, b1), runs in chain_boxes(boxes, gap):
        if 2 * min(a1 - a0, b1 - b0) < min_words:
            continue  # too little seeded to reach min_words even with its margins
        # Runs left off the best path (the same phrase twice in one document, say) are
        # aligned in turn; the best use of each stretch of text wins below.
        rest = runs
        for _ in range(4):
            parts, rest = _align(fa.words, fb.words, rest, MARGIN)
            found.extend(Match(a, b, *p) for p in parts if p[4] >= min_words)
            if not rest:
                break
    found.sort(key=lambda m: (-m.words, -m.similarity, m.a0, m.b0))
    # One passage per stretch of text within a pair: a phrase repeated in both documents
    # pairs up once, best match first, rather than in every combination.
    kept: list[Match] = []
    for m in found:
        if not any(m.a0 < k.a1 and k.a0 < m.a1 or m.b0 < k.b1 and k.b0 < m.b1 for k in kept):
            kept.append(m)
    return kept


def _anchors(runs: list[Box], weight: list[int]) -> tuple[list[Box], list[Box]]:
    """The heaviest chain of runs that advances in both documents (overlaps trimmed), by
    `weight` (the words each run matches exactly), and the runs left off it."""
    if len(runs) == 1:
        return runs, []
    if len(runs) > 400:  # quadratic below; a greedy path is good enough for huge chains
        on: list[int] = []
        for k, r in enumerate(runs):
            if not on or (r[0] >= runs[on[-1]][0] and r[2] >= runs[on[-1]][2]):
                on.append(k)
    else:
        score = list(weight)
        back = [-1] * len(runs)
        for i, (a0, _, b0, _) in enumerate(runs):
            for j in range(i):
                p0, p1, q0, q1 = runs[j]
                if p0 < a0 and q0 < b0:
                    s = score[j] + weight[i] - max(0, p1 - a0, q1 - b0)
                    if s > score[i]:
                        score[i], back[i] = s, j
        i = max(range(len(runs)), key=lambda k: (score[k], -k))
        on = []
        while i >= 0:
            on.append(i)
            i = back[i]
        on.reverse()
    out: list[Box] = []
    for a0, a1, b0, b1 in (runs[k] for k in on):
        if out:
            cut = max(0, out[-1][1] - a0, out[-1][3] - b0)
            a0, b0 = a0 + cut, b0 + cut
            if a0 >= a1:
                continue
        out.append((a0, a1, b0, b1))
    taken = set(on)
    return out, [r for k, r in enumerate(runs) if k not in taken]


def _solid(words: list[int], size: int, at: int) -> bool:
    """A match that can start or end a passage: three words, or two with a content word."""
    return size >= 3 or (size == 2 and any(w & 1 == 0 for w in words[at : at + 2]))


def _blocks(sa: list[int], sb: list[int], least: int = 1) -> list[tuple[int, int, int]]:
    """Matching blocks (i, j, size) of two short word lists; none when no `least`-word
    sequence is common, which a set test finds cheaply (the usual case at a passage's end)."""
    if least == 1:
        if set(sa).isdisjoint(sb):
            return []
    elif set(zip(sa, sa[1:], strict=False)).isdisjoint(zip(sb, sb[1:], strict=False)):
        return []
    return [
        (m.a, m.b, m.size)
        for m in SequenceMatcher(None, sa, sb, autojunk=False).get_matching_blocks()
        if m.size
    ]


def _best_segments(gain: list[int], gaps: list[float]) -> list[tuple[int, int]]:
    """Disjoint runs of anchors worth keeping together, best first: the contiguous range
    maximising matched words minus the cost of the gaps inside it (Kadane's maximum
    subarray), then the same on what is left either side. `gaps[k]` is the net score of the
    gap before anchor k (gaps[0] is unused)."""
    if not gain:
        return []
    best, best_range = -1.0, (0, 0)
    run, start = 0.0, 0
    for k, g in enumerate(gain):
        if k and run + gaps[k] > 0:
            run += gaps[k] + g
        else:
            run, start = float(g), k
        if run > best:
            best, best_range = run, (start, k)
    i, j = best_range
    return [(i, j), *_best_segments(gain[:i], gaps[:i]),
            *[(a + j + 1, b + j + 1) for a, b in _best_segments(gain[j + 1 :],
                                                              [0.0, *gaps[j + 2 :]])]]


def _align(
    wa: HashArray, wb: HashArray, runs: list[Box], margin: int
) -> tuple[list[tuple[int, int, int, int, int, float]], list[Box]]:
    """Align a chain: its runs are anchors, the short gaps between them are aligned word by
    word, and the chain is cut where gaps cost more than the matches around them are worth
    (an unmatched word costs GAP_COST matched ones). Up to `margin` words beyond each end
    join when they match solidly (after a substituted word, say), as does any exact
    agreement beyond that. Returns (a0, a1, b0, b1, matched words, similarity) per part,
    and the runs that were not used."""
    na, nb = len(wa), len(wb)
    if len(runs) == 1:  # the usual case, kept short
        a0, a1, b0, b1 = runs[0]
        n = min(a1, na) - a0
        w = _Window(wa[max(0, a0 - margin) : a0 + n + margin].tolist(), max(0, a0 - margin), wa,
                    wb[max(0, b0 - margin) : b0 + n + margin].tolist(), max(0, b0 - margin), wb)
        same = sum(map(eq, w.a[a0 - w.lo_a : a0 - w.lo_a + n], w.b[b0 - w.lo_b : b0 - w.lo_b + n]))
        part = _extend(w, a0, a0 + n, b0, b0 + n, same, margin)
        return ([] if part is None else [part]), []
    # The chain's words as Python lists: many tiny numpy operations cost more than this.
    lo_a = max(0, min(r[0] for r in runs) - margin)
    lo_b = max(0, min(r[2] for r in runs) - margin)
    words = _Window(wa[lo_a : max(r[1] for r in runs) + margin].tolist(), lo_a, wa,
                    wb[lo_b : max(r[3] for r in runs) + margin].tolist(), lo_b, wb)
    A, B = words.a, words.b
    weight = []
    for a0, a1, b0, _ in runs:
        n = min(a1, na) - a0
        weight.append(sum(map(eq, A[a0 - lo_a : a0 - lo_a + n], B[b0 - lo_b : b0 - lo_b + n]))
                      if len(runs) > 1 else n)
    path, rest = _anchors(runs, weight)
    anchors: list[Box] = []
    gain: list[int] = []
    gap_words: list[int] = []
    gaps: list[float] = []
    for a0, a1, b0, b1 in path:
        a1, b1 = min(a1, na), min(b1, nb)
        n = min(a1 - a0, b1 - b0)
        if n <= 0:
            continue
        same = sum(map(eq, A[a0 - lo_a : a0 - lo_a + n], B[b0 - lo_b : b0 - lo_b + n]))
        shared = 0
        if anchors:
            pa1, pb1 = anchors[-1][1], anchors[-1][3]
            ga, gb = a0 - pa1, b0 - pb1
            if ga > 0 and gb > 0:
                # Words both gaps have (a bound on what aligns there, cheap to count).
                common = set(A[pa1 - lo_a : a0 - lo_a]).intersection(B[pb1 - lo_b : b0 - lo_b])
                shared = min(ga, gb, len(common))
            gaps.append(shared - GAP_COST * (max(ga, gb) - shared))
        else:
            gaps.append(0.0)
        anchors.append((a0, a0 + n, b0, b0 + n))
        gain.append(same)
        gap_words.append(shared)
    out = []
    for i, j in _best_segments(gain, gaps):
        matched = sum(gain[i : j + 1]) + sum(gap_words[i + 1 : j + 1])
        part = _extend(words, anchors[i][0], anchors[j][1], anchors[i][2], anchors[j][3],
                       matched, margin)
        if part is not None:
            out.append(part)
    return out, rest


@dataclass(frozen=True, slots=True)
class _Window:
    """Words of both documents around a chain as lists (`a[i]` is word `lo_a + i`), with the
    full arrays for the rare extension beyond."""

    a: list[int]
    lo_a: int
    wa: HashArray
    b: list[int]
    lo_b: int
    wb: HashArray

    def word_a(self, i: int) -> int:
        k = i - self.lo_a
        return self.a[k] if 0 <= k < len(self.a) else int(self.wa[i])

    def word_b(self, i: int) -> int:
        k = i - self.lo_b
        return self.b[k] if 0 <= k < len(self.b) else int(self.wb[i])


def _extend(
    w: _Window, start_a: int, end_a: int, start_b: int, end_b: int, matched: int, margin: int,
) -> tuple[int, int, int, int, int, float] | None:
    na, nb = len(w.wa), len(w.wb)
    A, B, lo_a, lo_b = w.a, w.b, w.lo_a, w.lo_b
    # Before the start: the earliest solid match in the margin, and what follows it.
    sa = A[max(0, start_a - margin - lo_a) : start_a - lo_a]
    sb = B[max(0, start_b - margin - lo_b) : start_b - lo_b]
    blocks = _blocks(sa, sb, 2)
    for k, (i, j, s) in enumerate(blocks):
        if _solid(sa, s, i):
            matched += sum(x[2] for x in blocks[k:])
            start_a, start_b = start_a - len(sa) + i, start_b - len(sb) + j
            break
    # After the end: the last solid match in the margin, and what precedes it.
    sa = A[end_a - lo_a : end_a - lo_a + margin]
    sb = B[end_b - lo_b : end_b - lo_b + margin]
    blocks = _blocks(sa, sb, 2)
    for k in range(len(blocks) - 1, -1, -1):
        i, j, s = blocks[k]
        if _solid(sa, s, i):
            matched += sum(x[2] for x in blocks[: k + 1])
            end_a, end_b = end_a + i + s, end_b + j + s
            break
    while start_a > 0 and start_b > 0 and w.word_a(start_a - 1) == w.word_b(start_b - 1):
        start_a, start_b, matched = start_a - 1, start_b - 1, matched + 1
    while end_a < na and end_b < nb and w.word_a(end_a) == w.word_b(end_b):
        end_a, end_b, matched = end_a + 1, end_b + 1, matched + 1
    la, lb = end_a - start_a, end_b - start_b
    if la <= 0 or lb <= 0:
        return None
    matched = min(matched, la, lb)
    return start_a, end_a, start_b, end_b, matched, round(2 * matched / (la + lb), 3)


def align_all(
    fps: Sequence[Fingerprint],
    runs: Runs,
    *,
    min_words: int = DEFAULT_MIN_WORDS,
    gap: int = DEFAULT_GAP,
    progress: Callable[[int], None] | None = None,
    workers: int | None = None,
) -> list[Match]:
    """Stage 3 over every pair that shares seeds; many pairs are split over worker
    processes (forked, so they share the fingerprints without copying them)."""
    slices = pair_slices(runs)
    if workers is None:
        workers = min(os.cpu_count() or 1, 4) if len(runs.a) > PARALLEL_RUNS else 1
    global _SHARED
    _SHARED = (fps, runs.a0.tolist(), runs.a1.tolist(), runs.b0.tolist(), runs.b1.tolist(),
               min_words, gap)
    try:
        if workers <= 1 or "fork" not in get_all_start_methods():
            return _align_slices(slices, progress)
        from concurrent.futures import ProcessPoolExecutor

        size = max(1, len(slices) // (workers * 8))
        chunks = [slices[i : i + size] for i in range(0, len(slices), size)]
        out: list[Match] = []
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("fork")) as pool:
            for chunk, found in zip(chunks, pool.map(_align_slices, chunks), strict=True):
                out.extend(found)
                if progress:
                    progress(len(chunk))
        return out
    finally:
        _SHARED = None


# What forked workers of `align_all` read: set just before the pool starts, cleared after.
_SHARED: tuple[Any, ...] | None = None


def _align_slices(
    slices: Sequence[tuple[int, int, int, int]],
    progress: Callable[[int], None] | None = None,
) -> list[Match]:
    assert _SHARED is not None
    fps, a0, a1, b0, b1, min_words, gap = _SHARED
    out: list[Match] = []
    for a, b, first, stop in slices:
        boxes = zip(a0[first:stop], a1[first:stop], b0[first:stop], b1[first:stop],
                    strict=True)
        out.extend(align_pair(a, b, fps[a], fps[b], boxes, min_words=min_words, gap=gap))
        if progress:
            progress(1)
    return out


# --- stage 4: clustering --------------------------------------------------------------------


def cluster_passages(passages: Sequence[Passage], order: dict[str, int]) -> tuple[
    tuple[Passage, ...], tuple[Cluster, ...]
]:
    """Join passages whose sides overlap by at least half the shorter side in the same
    document; a group spanning three or more documents becomes a cluster `c1`, `c2`, ...
    (most documents first, then most words). `order` ranks documents by date."""
    parent = list(range(len(passages)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    by_doc: dict[str, list[tuple[int, int, int]]] = {}
    for i, p in enumerate(passages):
        for s in (p.a, p.b):
            by_doc.setdefault(s.doc, []).append((s.start, s.end, i))
    for sides in by_doc.values():
        sides.sort()
        open_: list[tuple[int, int, int]] = []
        for start, end, i in sides:
            open_ = [o for o in open_ if o[1] > start]
            for o_start, o_end, j in open_:
                overlap = min(end, o_end) - start
                if overlap * 2 >= min(end - start, o_end - o_start):
                    parent[find(i)] = find(j)
            open_.append((start, end, i))
    groups: dict[int, list[int]] = {}
    for i in range(len(passages)):
        groups.setdefault(find(i), []).append(i)
    found = []
    for members in groups.values():
        docs = {d for i in members for d in (passages[i].a.doc, passages[i].b.doc)}
        if len(docs) >= 3:
            words = sum(passages[i].words for i in members)
            found.append((-len(docs), -words, min(members), members, docs))
    found.sort(key=lambda g: g[:3])
    clusters = []
    label: dict[int, str] = {}
    for n, (_, _, _, members, docs) in enumerate(found, 1):
        cid = f"c{n}"
        ordered = sorted(docs, key=order.__getitem__)
        clusters.append(Cluster(cid, tuple(passages[i].id for i in members), tuple(ordered),
                                ordered[0]))
        for i in members:
            label[i] = cid
    out = tuple(replace(p, cluster=label.get(i)) for i, p in enumerate(passages))
    return out, tuple(clusters)


# --- the whole pipeline ---------------------------------------------------------------------


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
) -> ReuseResult:
    """Every passage of `min_words`+ matching words shared by two documents, ranked longest
    and most similar first (`r1`, `r2`, ...), and clusters of passages across 3+ documents.

    The result does not depend on the order of the documents: they are processed in date
    order (then id). `progress(done, total)` counts documents fingerprinted, then document
    pairs aligned (`total` grows once the candidate pairs are known).
    """
    if min_words < 1:
        from annotate.errors import AnnotateError

        raise AnnotateError(f"--min-words must be at least 1, not {min_words}")
    if not (0 < max_df < math.inf):  # also refuses NaN
        from annotate.errors import AnnotateError

        raise AnnotateError(f"--max-df must be above 0, not {max_df}")
    documents = sorted(corpus.documents, key=lambda d: d.meta.sort_key)
    focus = None
    if doc is not None:
        target = corpus.get(doc)
        focus = next(i for i, d in enumerate(documents) if d.id == target.id)
    total = len(documents)
    done = 0

    def tick(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress(done, total)

    fps = fingerprints([(d.id, d.text) for d in documents], ngram, tick, workers)
    seeds = group_seeds(fps, max_df=max_df, focus=focus)
    runs = seed_runs(seeds, ngram=ngram, gap=gap, min_words=min_words)
    del seeds
    total += len(pair_slices(runs))
    matches = align_all(fps, runs, min_words=min_words, gap=gap, progress=tick,
                        workers=workers)
    passages = _passages(documents, fps, matches)
    order = {d.id: i for i, d in enumerate(documents)}
    passages, clusters = cluster_passages(passages, order)
    return ReuseResult(passages, clusters)


def _passages(
    documents: Sequence[Document], fps: Sequence[Fingerprint], matches: Iterable[Match]
) -> tuple[Passage, ...]:
    def side(i: int, t0: int, t1: int) -> Side:
        start, end = int(fps[i].starts[t0]), int(fps[i].ends[t1 - 1])
        d = documents[i]
        return Side(d.id, start, end, d.text[start:end])

    ranked = sorted(matches, key=lambda m: (-m.words, -m.similarity, m.a, m.a0, m.b, m.b0))
    return tuple(
        Passage(f"r{n}", None, m.similarity, m.words, side(m.a, m.a0, m.a1),
                side(m.b, m.b0, m.b1))
        for n, m in enumerate(ranked, 1)
    )


def passages_between(result: ReuseResult, a: str, b: str) -> list[Passage]:
    """The passages shared by documents `a` and `b`, in `a`'s text order."""
    return sorted(
        (p for p in result.passages if {p.a.doc, p.b.doc} == {a, b}),
        key=lambda p: (p.a.start if p.a.doc == a else p.b.start),
    )


def reuse_json(corpus: Corpus, result: ReuseResult) -> dict[str, Any]:
    """The `annotate reuse --json` shape (stable; the README documents it):

    - `documents`: `annotate.render.document_summary` of every document, in date order;
    - `passages`, ranked: `id` (`r1`...), `cluster` (a cluster id or null), `similarity`
      (0-1, on normalised words), `words` (matching words), and `a` and `b`, each
      `{doc, start, end, text}` with [start, end) code-point offsets into the document's
      text as read, `text` being exactly that slice; `a` is the earlier document by date
      (then id);
    - `clusters`: `id` (`c1`...), `passages` (ids), `documents` (ids, earliest first),
      `earliest` (a document id).
    """
    from annotate.render import document_summary

    def side(s: Side) -> dict[str, Any]:
        return {"doc": s.doc, "start": s.start, "end": s.end, "text": s.text}

    return {
        "documents": [document_summary(d) for d in corpus.documents],
        "passages": [
            {
                "id": p.id,
                "cluster": p.cluster,
                "similarity": p.similarity,
                "words": p.words,
                "a": side(p.a),
                "b": side(p.b),
            }
            for p in result.passages
        ],
        "clusters": [
            {
                "id": c.id,
                "passages": list(c.passages),
                "documents": list(c.documents),
                "earliest": c.earliest,
            }
            for c in result.clusters
        ],
    }
