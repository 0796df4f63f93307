"""Stage 3, per document pair: seed runs chained into passages and aligned word by word.

Runs of one pair are chained along both documents across gaps of up to `DEFAULT_GAP` words
(inserted, deleted or substituted words; words moved about), so an edited passage is one
passage, not fragments. The heaviest path of runs through a chain is its alignment; the
chain is cut where a gap costs more than the matches either side are worth (GAP_COST per
unmatched word), then extended by up to MARGIN words that still match solidly and by any
exact agreement beyond. It is kept when at least `min_words` normalised words match;
similarity is 2 x matched / (words of a + words of b). Everything here is plain Python over
lists of word hashes: per pair, many tiny numpy operations would cost more.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from operator import eq
from typing import Any

from annotate.reuse.chance import WordBits
from annotate.reuse.fingerprint import Fingerprint
from annotate.reuse.params import (
    DEFAULT_GAP,
    DEFAULT_MIN_WORDS,
    GAP_COST,
    MARGIN,
    Box,
    HashArray,
)


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
    bits: float = 0.0  # evidence against chance (0 when the chance rule is off)
    # [start, end) in characters of side a, then of side b, where the aligner had the texts
    chars: tuple[int, int, int, int] | None = None


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
            if a1 > best[1]:
                best[1] = a1
            if b0 < best[2]:
                best[2] = b0
            if b1 > best[3]:
                best[3] = b1
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
    chance: tuple[WordBits, float] | None = None,
) -> list[Match]:
    """Stage 3 for one pair: chain the runs, align, keep passages of `min_words`+ words
    (and, with `chance` = (word bits, least bits), only those whose shared words carry that
    much evidence: see `annotate.reuse.chance`)."""
    found: list[tuple[int, int, int, int, int, float]] = []
    for (a0, a1, b0, b1), runs in chain_boxes(boxes, gap):
        if 2 * min(a1 - a0, b1 - b0) < min_words:
            continue  # too little seeded to reach min_words even with its margins
        # Runs left off the best path (the same phrase twice in one document, say) are
        # aligned in turn; the best use of each stretch of text wins below.
        # The chain's words as Python lists, once for every round below: many tiny numpy
        # operations would cost more than this.
        lo_a, lo_b = max(0, a0 - MARGIN), max(0, b0 - MARGIN)
        window = _Window(fa.words[lo_a : a1 + MARGIN].tolist(), lo_a, fa.words,
                         fb.words[lo_b : b1 + MARGIN].tolist(), lo_b, fb.words)
        rest = runs
        for _ in range(4):
            parts, rest = _align(window, rest, MARGIN)
            found.extend(p for p in parts if p[4] >= min_words)
            if not rest:
                break
    found.sort(key=lambda p: (-p[4], -p[5], p[0], p[2]))
    # One passage per stretch of text within a pair: a phrase repeated in both documents
    # pairs up once, best match first, rather than in every combination. A part under the
    # chance rule's `floor` is passed over as if it had never been found (its bits are
    # counted only for parts not already covered: the sum is the costly step).
    kept: list[Match] = []
    taken: list[Box] = []
    for p in found:
        p0, p1, p2, p3 = p[0], p[1], p[2], p[3]
        for k0, k1, k2, k3 in taken:
            if p0 < k1 and k0 < p1 or p2 < k3 and k2 < p3:
                break
        else:
            bits = 0.0
            if chance is not None:
                bits = chance[0].shared_bits(fa.words[p0:p1], fb.words[p2:p3])
                if bits < chance[1]:
                    continue
            kept.append(Match(a, b, *p, round(bits, 1)))
            taken.append((p0, p1, p2, p3))
    return kept


def _anchors(runs: list[Box], weight: list[int]) -> tuple[list[Box], list[Box]]:
    """The heaviest chain of runs that advances in both documents (overlaps trimmed), by
    `weight` (the words each run matches exactly), and the runs left off it."""
    if len(runs) == 1:
        return runs, []
    if all(weight) and all(p1 <= a0 and q1 <= b0 for (_, p1, _, q1), (a0, _, b0, _)
                           in zip(runs, runs[1:], strict=False)):
        # Each run starts where the one before ends, in both documents, and each matches a
        # word: the heaviest chain takes them all, as `_heaviest` would find (a test checks
        # it). The usual case of a passage with a few words changed.
        return runs, []
    on = _heaviest(runs, weight)
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


def _heaviest(runs: list[Box], weight: list[int]) -> list[int]:
    """Indices of the heaviest chain of `runs` (sorted) that advances in both documents, a
    run's overlap with the one before it costing its words."""
    if len(runs) > 400:  # quadratic below; a greedy path is good enough for huge chains
        on: list[int] = []
        for k, r in enumerate(runs):
            if not on or (r[0] >= runs[on[-1]][0] and r[2] >= runs[on[-1]][2]):
                on.append(k)
        return on
    score = list(weight)
    back = [-1] * len(runs)
    for i, (a0, _, b0, _) in enumerate(runs):
        w, best, best_j = weight[i], score[i], -1
        for j in range(i):  # the hot loop of alignment: no calls in it
            p0, p1, q0, q1 = runs[j]
            if p0 < a0 and q0 < b0:
                over = p1 - a0 if p1 - a0 > q1 - b0 else q1 - b0
                s = score[j] + w - (over if over > 0 else 0)
                if s > best:
                    best, best_j = s, j
        score[i] = best
        if best_j >= 0:
            back[i] = best_j
    i = max(range(len(runs)), key=lambda k: (score[k], -k))
    on = []
    while i >= 0:
        on.append(i)
        i = back[i]
    on.reverse()
    return on


def _solid(words: list[int], size: int, at: int) -> bool:
    """A match that can start or end a passage: three words, or two with a content word."""
    return size >= 3 or (size == 2 and any(w & 1 == 0 for w in words[at : at + 2]))


def _blocks(sa: list[int], sb: list[int], least: int = 1) -> list[tuple[int, int, int]]:
    """Matching blocks (i, j, size) of two short word lists; none when no `least`-word
    sequence is common, which a set test finds cheaply (the usual case at a passage's end)."""
    if set(sa).isdisjoint(sb):
        return []
    if least > 1 and set(zip(sa, sa[1:], strict=False)).isdisjoint(zip(sb, sb[1:],
                                                                      strict=False)):
        return []
    return matching_blocks(sa, sb)


def matching_blocks(sa: Sequence[int], sb: Sequence[int]) -> list[tuple[int, int, int]]:
    """What `difflib.SequenceMatcher(None, sa, sb, autojunk=False).get_matching_blocks()`
    gives (without its empty last block), for the few words of a passage's margins, where
    building a SequenceMatcher costs ten times the matching itself: the longest common
    block (earliest in `sa`, then in `sb`), the same on either side of it, adjacent blocks
    joined."""
    where: dict[int, list[int]] = {}
    for j, w in enumerate(sb):
        where.setdefault(w, []).append(j)
    found: list[tuple[int, int, int]] = []
    todo = [(0, len(sa), 0, len(sb))]
    while todo:
        alo, ahi, blo, bhi = todo.pop()
        bi = bj = bk = 0
        for i in range(alo, ahi):
            for j in where.get(sa[i], ()):
                if j < blo or j >= bhi:
                    continue
                k = 1
                while i + k < ahi and j + k < bhi and sa[i + k] == sb[j + k]:
                    k += 1
                if k > bk:
                    bi, bj, bk = i, j, k
        if bk:
            found.append((bi, bj, bk))
            if alo < bi and blo < bj:
                todo.append((alo, bi, blo, bj))
            if bi + bk < ahi and bj + bk < bhi:
                todo.append((bi + bk, ahi, bj + bk, bhi))
    found.sort()
    out: list[tuple[int, int, int]] = []
    for i, j, k in found:
        if out and out[-1][0] + out[-1][2] == i and out[-1][1] + out[-1][2] == j:
            out[-1] = (out[-1][0], out[-1][1], out[-1][2] + k)
        else:
            out.append((i, j, k))
    return out


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
    words: _Window, runs: list[Box], margin: int
) -> tuple[list[tuple[int, int, int, int, int, float]], list[Box]]:
    """Align a chain: its runs are anchors, the short gaps between them are aligned word by
    word, and the chain is cut where gaps cost more than the matches around them are worth
    (an unmatched word costs GAP_COST matched ones). Up to `margin` words beyond each end
    join when they match solidly (after a substituted word, say), as does any exact
    agreement beyond that. Returns (a0, a1, b0, b1, matched words, similarity) per part,
    and the runs that were not used. `words` must hold the runs' words and `margin` more
    on every side."""
    na, nb = len(words.wa), len(words.wb)
    A, B, lo_a, lo_b = words.a, words.b, words.lo_a, words.lo_b
    if len(runs) == 1:  # the usual case, kept short
        a0, a1, b0, b1 = runs[0]
        n = min(a1, na) - a0
        same = sum(map(eq, A[a0 - lo_a : a0 - lo_a + n], B[b0 - lo_b : b0 - lo_b + n]))
        part = _extend(words, a0, a0 + n, b0, b0 + n, same, margin)
        return ([] if part is None else [part]), []
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
    # Exact agreement beyond: inside the window's lists first (the usual case), then on.
    ia, ib = start_a - lo_a, start_b - lo_b
    while ia > 0 and ib > 0 and A[ia - 1] == B[ib - 1]:
        ia, ib = ia - 1, ib - 1
    matched += start_a - lo_a - ia
    start_a, start_b = ia + lo_a, ib + lo_b
    while start_a > 0 and start_b > 0 and w.word_a(start_a - 1) == w.word_b(start_b - 1):
        start_a, start_b, matched = start_a - 1, start_b - 1, matched + 1
    ia, ib = end_a - lo_a, end_b - lo_b
    while ia < len(A) and ib < len(B) and A[ia] == B[ib]:
        ia, ib = ia + 1, ib + 1
    matched += ia + lo_a - end_a
    end_a, end_b = ia + lo_a, ib + lo_b
    while end_a < na and end_b < nb and w.word_a(end_a) == w.word_b(end_b):
        end_a, end_b, matched = end_a + 1, end_b + 1, matched + 1
    la, lb = end_a - start_a, end_b - start_b
    if la <= 0 or lb <= 0:
        return None
    matched = min(matched, la, lb)
    return start_a, end_a, start_b, end_b, matched, round(2 * matched / (la + lb), 3)
