"""The chance rule: a shared passage counts as reuse only when its matching words are unlikely
to line up by chance.

Each word carries `-log2 p(word)` bits, p being how often the word occurs in running text; a
passage's evidence is the sum over the words its two sides share (each as often as the side
with fewer of it: close to the aligned matching words, and cheap to count). Common words are
cheap ("the" is 4 bits, "free" 11) and rare ones dear ("smuggling" 18), so six rare words in
a row (about 90 bits) are strong evidence while a stock phrase of six common ones ("no such
thing as a free", 54 bits) is not. A passage needs `DEFAULT_MIN_BITS`; one that is part of
a cluster (the same words in three or more documents: chance phrases rarely travel) needs
RECUR_BITS fewer. So the Home Office formula "with no right to be in the UK" (61 bits), in
four statements from 2007 to 2025, is reuse, while a 7-word stock phrase between two
speeches ("we will not stand by and let", 62) is not. The defaults were chosen on the
planted-passage benchmark (benchmarks/bench_reuse.py), which prints the figures.

p blends the corpus's own word frequencies with a general English list (`wordfreq`'s
"large" list, shipped offline inside that package): the corpus counts for
`T / (T + PRIOR_TOKENS)` of it, T being the corpus's length in words, so a big corpus of
newspaper OCR speaks for itself while five statements lean on general English.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from operator import mul

import numpy as np
import numpy.typing as npt

from annotate.reuse.fingerprint import Fingerprint
from annotate.reuse.params import HashArray
from annotate.reuse.tokens import hash_words
from annotate.text import normalise

DEFAULT_MIN_BITS = 66.0
# A passage that is part of a cluster (the same words in three or more documents) needs this
# many bits fewer: a chance phrase rarely travels.
RECUR_BITS = 8.0
# Corpus length (words) at which the corpus's own frequencies count as much as the list's.
PRIOR_TOKENS = 250_000
# Frequency given to a word the general list lacks (its rarest words are about 1e-8).
UNKNOWN_FREQ = 1e-9

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class WordBits:
    """Bits of each word of a corpus: `bits[i]` for the word hashed `hashes[i]` (sorted)."""

    hashes: HashArray
    bits: FloatArray

    # Bits by word hash, filled as passages need them: one dict look-up a word afterwards,
    # where a numpy search per passage would cost more than the rest of the sum.
    known: dict[int, float] = field(default_factory=dict, repr=False)

    def shared_bits(self, a: HashArray, b: HashArray) -> float:
        """Evidence of two aligned stretches of words: the bits of the words both have
        (each as often as the side with fewer of it)."""
        la, lb = a.tolist(), b.tolist()
        count = Counter(la)
        # map() over C callables, not comprehensions: this runs for every passage found.
        if la == lb:  # verbatim passages (the usual case) share every word
            words: Iterable[int] = count.keys()
            times: Iterable[int] = count.values()
        else:
            other = Counter(lb)
            words = list(filter(other.__contains__, count))
            times = list(map(min, map(count.__getitem__, words),
                             map(other.__getitem__, words)))
        try:
            return sum(map(mul, map(self.known.__getitem__, words), times), 0.0)
        except KeyError:  # words not met before: looked up together, then summed again
            self._learn([w for w in words if w not in self.known])
            return sum(map(mul, map(self.known.__getitem__, words), times), 0.0)

    def _learn(self, words: list[int]) -> None:
        if len(self.known) > 2_000_000:
            self.known.clear()  # bound memory; values are recomputable
        keys = np.array(words, dtype=np.uint64)
        unknown = -math.log2(UNKNOWN_FREQ)
        if len(self.hashes) == 0:
            self.known.update(dict.fromkeys(words, unknown))
            return
        at = np.minimum(np.searchsorted(self.hashes, keys), len(self.hashes) - 1)
        bits = np.where(self.hashes[at] == keys, self.bits[at], unknown)
        self.known.update(zip(words, bits.tolist(), strict=True))


@lru_cache(maxsize=1)
def general_frequencies() -> tuple[HashArray, FloatArray]:
    """The general English list as (sorted word hashes, frequencies), read once a process."""
    from wordfreq import get_frequency_dict

    freq = get_frequency_dict("en", wordlist="large")
    # The list is lower case already; only words with typographic marks need `normalise`.
    hashes = hash_words([w if w.isascii() else normalise(w) for w in freq])
    values = np.fromiter(freq.values(), np.float64, len(freq))
    order = np.argsort(hashes, kind="stable")
    hashes, values = hashes[order], values[order]
    # Words that normalise alike (rare) keep their summed frequency.
    first = np.flatnonzero(np.r_[True, hashes[1:] != hashes[:-1]])
    return hashes[first], np.add.reduceat(values, first) if len(values) else values


def word_counts(fp: Fingerprint) -> tuple[HashArray, npt.NDArray[np.int64]]:
    """Per document (mappable): its distinct words and how often each occurs."""
    words, counts = np.unique(fp.words, return_counts=True)
    return words, counts.astype(np.int64)


def merge_counts(
    counts: Sequence[tuple[HashArray, npt.NDArray[np.int64]]],
) -> tuple[HashArray, npt.NDArray[np.int64]]:
    """Several (distinct words, counts) as one, in hash order, the counts of a word summed
    (a reduction: parts of parts merge alike)."""
    words = np.concatenate([w for w, _ in counts])
    n = np.concatenate([c for _, c in counts])
    order = np.argsort(words, kind="stable")
    words, n = words[order], n[order]
    del order
    if len(words) == 0:
        return words, n
    first = np.flatnonzero(np.r_[True, words[1:] != words[:-1]])
    return words[first], np.add.reduceat(n, first)


def word_bits(
    counts: Sequence[tuple[HashArray, npt.NDArray[np.int64]]], general: bool = True
) -> WordBits:
    """Bits of every word of the corpus from the per-document `word_counts` (a reduction),
    blended with the general list (`general=False` leaves it out: the corpus alone)."""
    if not counts:
        return WordBits(np.zeros(0, np.uint64), np.zeros(0, np.float64))
    words, n = merge_counts(counts)
    total = max(1, int(n.sum()))
    p_corpus = n / total
    if general:
        g_hashes, g_freq = general_frequencies()
        at = np.minimum(np.searchsorted(g_hashes, words), max(0, len(g_hashes) - 1))
        p_general = np.where(g_hashes[at] == words, g_freq[at], UNKNOWN_FREQ)
        weight = total / (total + PRIOR_TOKENS)
        p = weight * p_corpus + (1 - weight) * p_general
    else:
        p = p_corpus
    return WordBits(words, -np.log2(p))
