"""Before stage 3: runs alone in their chain that cannot grow into a passage are dropped in
numpy, so per-pair Python never sees them (nor the pairs left with no run).

On newspaper pages most candidate pairs (two thirds at 2,294 pages) share a single run of
four or five words: two overlapping shingles of a common phrase. Alignment would give each a
`_Window`, an `_extend` and two set tests only to find nothing. What `align._extend` can add
to a lone run [a0, a1) x [b0, b1) of n words is bounded without running it:

- the margins (MARGIN words before and after on each side) add matches only when they share
  a word bigram (`align._blocks(..., 2)` finds none otherwise);
- without a shared bigram in the margins, the word-by-word exact extension adds at most one
  word at each end (two would be a shared bigram at the margins' edges).

So a lone run with no bigram shared in either margin matches at most n + (the words just
before agree) + (the words just after agree) words; when that is under `min_words` (or the
run is too short for `chain_boxes`'s own test) the pair gives no passage and is dropped. The
same holds for each of two runs of a pair too far apart to share a chain (`alone`), since
alignment treats them as two lone runs. The pruning is exact: `align_pair` gives every pair
the same passages with and without the dropped runs, which a test checks pair by pair on
real newspaper pages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from annotate.reuse.fingerprint import Fingerprint
from annotate.reuse.params import DEFAULT_GAP, MARGIN, HashArray, IntArray
from annotate.reuse.seeds import Runs

BoolArray = npt.NDArray[np.bool_]
# Lone runs judged at a time.
_BATCH = 100_000


def prune_runs(
    runs: Runs,
    fps: Sequence[Fingerprint] | Mapping[int, Fingerprint],
    *,
    min_words: int,
    margin: int = MARGIN,
    gap: int = DEFAULT_GAP,
) -> Runs:
    """`runs` without the runs that are alone in their chain (see `alone`) and cannot become
    a passage of `min_words` (see the module's docstring); `fps[i]` is document i's
    fingerprint. A pair left with no run is left out."""
    n_runs = len(runs.a)
    if n_runs == 0 or margin < 2:
        return runs
    rows = alone(runs, gap)
    if len(rows) == 0:
        return runs
    # In batches: the margins' temporaries take about 700 bytes a run.
    hopeless = np.concatenate([_hopeless(runs, rows[i : i + _BATCH], fps, min_words, margin)
                               for i in range(0, len(rows), _BATCH)])
    if not hopeless.any():
        return runs
    keep = np.ones(n_runs, dtype=bool)
    keep[rows[hopeless]] = False
    return Runs(runs.a[keep], runs.b[keep], runs.a0[keep], runs.a1[keep], runs.b0[keep],
                runs.b1[keep])


def alone(runs: Runs, gap: int = DEFAULT_GAP) -> IntArray:
    """Rows of runs that `align.chain_boxes` can only put in a chain of their own: the only
    run of their pair, or one of two runs of a pair that are more than `gap` words apart in
    either document (neither chains to the other, nor do their chains merge)."""
    new = np.ones(len(runs.a) + 1, dtype=bool)
    new[1:-1] = (runs.a[1:] != runs.a[:-1]) | (runs.b[1:] != runs.b[:-1])
    firsts = np.flatnonzero(new)
    size = np.diff(firsts)
    lone = firsts[:-1][size == 1]
    first = firsts[:-1][size == 2]  # with the second run at first + 1 (sorted by a0)
    second = first + 1
    apart = ((runs.a0[second] > runs.a1[first] + gap)
             | (runs.b0[second] > runs.b1[first] + gap)
             | (runs.b0[first] > runs.b1[second] + gap))
    two = np.concatenate([first[apart], second[apart]])
    return np.sort(np.concatenate([lone, two]))


def _hopeless(
    runs: Runs,
    rows: IntArray,
    fps: Sequence[Fingerprint] | Mapping[int, Fingerprint],
    min_words: int,
    margin: int,
) -> BoolArray:
    a, b = runs.a[rows], runs.b[rows]
    a0, a1, b0, b1 = runs.a0[rows], runs.a1[rows], runs.b0[rows], runs.b1[rows]
    n = np.minimum(a1 - a0, b1 - b0)
    # Word positions of the margins, one row a run: `margin` before, `margin` after.
    steps = np.r_[np.arange(-margin, 0), np.arange(margin)]
    at_a = np.where(steps < 0, a0[:, None], a1[:, None]) + steps
    at_b = np.where(steps < 0, b0[:, None], b1[:, None]) + steps
    wa, ok_a = _words_at(fps, np.repeat(a, 2 * margin), at_a.ravel())
    wb, ok_b = _words_at(fps, np.repeat(b, 2 * margin), at_b.ravel())
    shape = (len(rows), 2 * margin)
    wa, ok_a, wb, ok_b = wa.reshape(shape), ok_a.reshape(shape), wb.reshape(shape), \
        ok_b.reshape(shape)
    grows = np.zeros(len(rows), dtype=int)
    bigram = np.zeros(len(rows), dtype=bool)
    for side in (slice(0, margin), slice(margin, 2 * margin)):
        same = (wa[:, side, None] == wb[:, None, side]) & ok_a[:, side, None] \
            & ok_b[:, None, side]
        bigram |= (same[:, :-1, :-1] & same[:, 1:, 1:]).any(axis=(1, 2))
        # The words next to the run: the last of the margin before, the first after.
        edge = margin - 1 if side.start == 0 else 0
        grows += same[:, edge, edge]
    hopeless: BoolArray = (2 * n < min_words) | (~bigram & (n + grows < min_words))
    return hopeless


def _words_at(
    fps: Sequence[Fingerprint] | Mapping[int, Fingerprint], docs: IntArray, pos: IntArray
) -> tuple[HashArray, BoolArray]:
    """The word hash at (document, position) for each pair of `docs` and `pos`, and whether
    that position is inside its document (the hash is 0 where it is not)."""
    words = np.zeros(len(docs), dtype=np.uint64)
    ok = np.zeros(len(docs), dtype=bool)
    order = np.argsort(docs, kind="stable")
    sorted_docs = docs[order]
    cuts = np.flatnonzero(np.r_[True, sorted_docs[1:] != sorted_docs[:-1], True])
    for lo, hi in zip(cuts[:-1].tolist(), cuts[1:].tolist(), strict=True):
        doc_words = fps[int(sorted_docs[lo])].words
        idx = order[lo:hi]
        p = pos[idx]
        inside = (p >= 0) & (p < len(doc_words))
        idx, p = idx[inside], p[inside]
        words[idx] = doc_words[p]
        ok[idx] = True
    return words, ok
