"""Stage 1, per document: word tokens with offsets, and the hashes of their word n-grams.

Tokens are `annotate.text.TOKEN` matches (found by `tokens`), compared in their
`normalise`d form (case, typographic quotes and dashes, line breaks and punctuation do not
count). A shingle is `ngram` consecutive words, kept unless made of stopwords only.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from annotate.reuse.params import DEFAULT_NGRAM, PARALLEL_CHARS, HashArray, IntArray
from annotate.reuse.tokens import OUTSIDE, word_hashes
from annotate.text import TOKEN

_MULT = np.uint64(0x9E3779B97F4A7C15)
# Characters tokenised at a time: numpy's temporaries (some 40 bytes a character) stay small
# whatever the document's length.
_CHARS = 1 << 20
# Shingles hashed at a time (numpy temporaries stay small).
_BATCH = 1 << 16


@dataclass(frozen=True, eq=False)
class Fingerprint:
    """Stage 1 output for one document. `words[i]` is the hash of token i's normalised form
    (lowest bit set for a stopword) and `starts[i]` its offset; `hashes[i]` is the shingle
    of tokens i .. i + ngram - 1, or 0 when they are all stopwords (no evidence). A token's
    end is found again from the text (`end`): one array fewer for a 200 MB document."""

    doc: str
    starts: IntArray
    words: HashArray
    hashes: HashArray

    def end(self, i: int, text: str) -> int:
        """Where token `i` ends in `text` (the text this fingerprint was made from)."""
        m = TOKEN.match(text, int(self.starts[i]))
        assert m is not None
        return m.end()


def fingerprint(doc: str, text: str, ngram: int = DEFAULT_NGRAM) -> Fingerprint:
    """Tokens with offsets and the hashed word n-grams of one document."""
    if len(text) <= _CHARS:
        found, words = word_hashes(text)
        # int32 halves the memory of a large corpus; no document is 2 GB long.
        starts = found.astype(np.int32)
    else:
        # Each piece's tokens are written into arrays sized for the most tokens the text
        # can have (one a character): only the pages written ever take memory, and no
        # piece's results are left scattered between the temporaries of the next (which
        # kept hundreds of megabytes of freed memory from going back to the system).
        starts = np.empty(len(text), dtype=np.int32)
        words = np.empty(len(text), dtype=np.uint64)
        n = 0
        for base, piece in _slices(text):
            found, hashed = word_hashes(piece)
            starts[n : n + len(found)] = found + base
            words[n : n + len(found)] = hashed
            n += len(found)
            del found, hashed
        starts, words = starts[:n], words[:n]
    count = max(0, len(words) - ngram + 1)
    hashes = np.empty(count, dtype=np.uint64)
    # In slices, so the temporaries stay small whatever the document's length.
    for lo in range(0, count, _BATCH * 16):
        hi = min(count, lo + _BATCH * 16)
        h = hashes[lo:hi]
        h[:] = words[lo:hi]
        stop = (words[lo:hi] & np.uint64(1)).astype(bool)
        for k in range(1, ngram):
            h *= _MULT
            h += words[lo + k : hi + k]
            stop &= (words[lo + k : hi + k] & np.uint64(1)).astype(bool)
        h[stop] = 0  # (a real shingle hashing to 0, 1 in 2**64, is lost with them)
    return Fingerprint(doc, starts, words, hashes)


def _slices(text: str) -> Iterator[tuple[int, str]]:
    """The text in pieces of about _CHARS characters, cut before a character no token holds
    (white space, say), with the offset of each."""
    pos, n = 0, len(text)
    while pos < n:
        cut = OUTSIDE.search(text, pos + _CHARS) if n - pos > _CHARS else None
        end = cut.start() if cut else n
        yield pos, text[pos:end] if pos or end < n else text
        pos = end


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

    from annotate.reuse.forked import die_with_parent

    chunks = _chunks(docs, workers * 8)
    results: list[Fingerprint] = []
    with ProcessPoolExecutor(max_workers=workers, initializer=die_with_parent) as pool:
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
