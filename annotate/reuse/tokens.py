"""Word tokens of a text and the hashes of their normalised forms, found with numpy over the
text's characters instead of a regular expression and a dictionary look-up per token: the
fingerprints of a newspaper month take a fifth of the time.

The tokens are exactly `annotate.text.TOKEN`'s matches (tests compare them on random text).
TOKEN is a number or a word:

    number = C? D+ (S D+)* %?        word = L A* (J A+)*

where L is a letter (`[^\\W\\d_]`), D a digit (`\\d`), A either, J an apostrophe or hyphen, S a
full stop or comma and C a currency sign. Read left to right, that cuts a text like this:

- a *chain* is a stretch of A's joined by single J's (an A on both sides);
- a chain's first letter starts a word that runs to the chain's end (a word takes every A,
  and every J followed by an A);
- the digits before it are number digits; a stretch of them, or several joined by single
  S's, is a number, with the currency sign just before it and the % just after it.

Every token, whichever way it was found, is hashed by one function of its normalised form's
UTF-8 bytes (`hash_words`), so the words of a text agree with those of the general word list.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from annotate.reuse.params import STOPWORDS, HashArray, IntArray
from annotate.text import normalise

# Character classes (bits), as TOKEN's pattern has them.
_L, _D, _J, _S, _C, _P = 1, 2, 4, 8, 16, 32
_LETTER = re.compile(r"[^\W\d_]")
_DIGIT = re.compile(r"\d")
_JOINERS = "'\u2019-\u2010\u2011"
# Characters no token holds: a long text is cut into pieces before one of them.
OUTSIDE = re.compile(r"[^\w.,%£$€" + re.escape(_JOINERS) + "]")

# The word hash: a polynomial over the bytes modulo 2**64 (odd base, so it has an inverse),
# its length mixed in, then a 64-bit finaliser so that every bit depends on every byte.
_BASE = 0x100000001B3
_BASE_INVERSE = pow(_BASE, -1, 2**64)
_LENGTH = np.uint64(0x9E3779B97F4A7C15)
_MIX1, _MIX2 = np.uint64(0xFF51AFD7ED558CCD), np.uint64(0xC4CEB9FE1A85EC53)
_SHIFT = np.uint64(33)
_ONE = np.uint64(1)


def _class_of(ch: str) -> int:
    if _LETTER.fullmatch(ch):
        return _L
    if _DIGIT.fullmatch(ch):
        return _D
    if ch in _JOINERS:
        return _J
    if ch in ".,":
        return _S
    if ch in "£$€":
        return _C
    return _P if ch == "%" else 0


_ASCII_CLASSES = np.array([_class_of(chr(i)) for i in range(128)], dtype=np.uint8)
# A-Z -> a-z, everything else as it is: `normalise` of an ASCII word.
_ASCII_LOWER = np.array([ord(chr(i).lower()) for i in range(128)], dtype=np.uint8)


@lru_cache(maxsize=65_536)
def _class_of_code(code: int) -> int:
    return _class_of(chr(code))


def _codes(text: str) -> npt.NDArray[np.uint8] | npt.NDArray[np.uint32]:
    """The text's code points, a byte each when it is ASCII (the usual newspaper page)."""
    if text.isascii():
        return np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def _classes(codes: npt.NDArray[np.uint8] | npt.NDArray[np.uint32]) -> npt.NDArray[np.uint8]:
    if codes.dtype == np.uint8:
        return _ASCII_CLASSES[codes]
    out = np.zeros(len(codes), dtype=np.uint8)
    low = codes < 128
    out[low] = _ASCII_CLASSES[codes[low]]
    high = np.flatnonzero(~low)
    if len(high):
        unique, where = np.unique(codes[high], return_inverse=True)
        out[high] = np.array([_class_of_code(int(c)) for c in unique], dtype=np.uint8)[where]
    return out


def token_spans(text: str) -> tuple[IntArray, IntArray]:
    """[start, end) of every TOKEN match of `text`, in characters."""
    return _spans(_classes(_codes(text)))


def _spans(cls: npt.NDArray[np.uint8]) -> tuple[IntArray, IntArray]:
    n = len(cls)
    letter = (cls & _L) != 0
    digit = (cls & _D) != 0
    alnum = letter | digit
    chain = alnum.copy()
    # A joiner with an A on both sides links them.
    chain[1:-1] |= ((cls[1:-1] & _J) != 0) & alnum[:-2] & alnum[2:]
    edge = np.diff(chain.view(np.int8), prepend=np.int8(0), append=np.int8(0))
    chain_starts = np.flatnonzero(edge == 1)
    chain_ends = np.flatnonzero(edge == -1)
    # Words: a chain that starts with a letter is one word (the usual case).
    lead = letter[chain_starts]
    starts, ends = chain_starts[lead], chain_ends[lead]
    # A chain that starts with a digit: numbers up to its first letter, then a word.
    ds, de = chain_starts[~lead], chain_ends[~lead]
    if len(ds) == 0:
        return starts, ends
    word = _first_letters(letter, ds, de)
    has = word < de
    digits = np.flatnonzero(digit)
    chain_of = np.searchsorted(ds, digits, side="right") - 1
    digits = digits[(chain_of >= 0) & (digits < word[chain_of])]
    # Number digits joined directly or by one S are one number.
    step = np.diff(digits)
    joined = (step == 1) | ((step == 2) & ((cls[digits[:-1] + 1] & _S) != 0))
    breaks = np.flatnonzero(~joined)
    num_starts = digits[np.r_[0, breaks + 1]]
    num_ends = digits[np.r_[breaks, len(digits) - 1]] + 1
    num_starts -= (num_starts > 0) & ((cls[np.maximum(num_starts - 1, 0)] & _C) != 0)
    num_ends += (num_ends < n) & ((cls[np.minimum(num_ends, n - 1)] & _P) != 0)
    starts = np.concatenate([starts, word[has], num_starts])
    ends = np.concatenate([ends, de[has], num_ends])
    order = np.argsort(starts, kind="stable")
    return starts[order], ends[order]


def _first_letters(letter: npt.NDArray[np.bool_], starts: IntArray, ends: IntArray) -> IntArray:
    """Position of the first letter in each [start, end), or `end` when it has none: a look
    at the first few characters of each ("1st", "2nd", "10th"), then the rare rest one by
    one."""
    width = 8
    at = np.minimum(starts[:, None] + np.arange(width), len(letter) - 1)
    hit = letter[at] & (at < ends[:, None])
    found = hit.any(axis=1)
    out = np.where(found, starts + hit.argmax(axis=1), ends)
    for k in np.flatnonzero(~found & (ends - starts > width)).tolist():
        later = np.flatnonzero(letter[starts[k] + width : ends[k]])
        if len(later):
            out[k] = starts[k] + width + later[0]
    return out


def word_hashes(text: str) -> tuple[IntArray, HashArray]:
    """Start of every token of `text` and the hash of its normalised form (`hash_words`),
    the lowest bit set for a stopword."""
    codes = _codes(text)
    starts, ends = _spans(_classes(codes))
    if codes.dtype == np.uint8:
        return starts, _flagged(_polynomial(_ASCII_LOWER[codes], starts, ends))
    # An ASCII token normalises to its lower case; the rest go through `normalise`.
    lower = codes.copy()
    low = codes < 128
    lower[low] = _ASCII_LOWER[codes[low]]
    hashes = _polynomial(lower, starts, ends)
    wide = np.cumsum(~low, dtype=np.int64)
    wide = np.r_[0, wide]
    other = np.flatnonzero(wide[ends] != wide[starts])
    if len(other):
        words = [normalise(text[s:e]) for s, e in zip(starts[other].tolist(),
                                                       ends[other].tolist(), strict=True)]
        hashes[other] = hash_words(words, flag=False)
    return starts, _flagged(hashes)


def hash_words(words: Sequence[str], *, flag: bool = True) -> HashArray:
    """The hash of each normalised word: a function of its UTF-8 bytes, stable across
    processes and machines (not Python's salted `hash`), the lowest bit set for a stopword
    (unless `flag` is false)."""
    if not words:
        return np.zeros(0, dtype=np.uint64)
    # One array of all their bytes, each word a stretch of it.
    codes = np.frombuffer("".join(words).encode("utf-8", "surrogatepass"), dtype=np.uint8)
    lengths = np.fromiter((len(w) if w.isascii() else len(w.encode("utf-8", "surrogatepass"))
                           for w in words), np.int64, len(words))
    ends = np.cumsum(lengths)
    hashes = _polynomial(codes, ends - lengths, ends)
    return _flagged(hashes) if flag else hashes


def _polynomial(
    codes: npt.NDArray[np.uint8] | npt.NDArray[np.uint32], starts: IntArray, ends: IntArray
) -> HashArray:
    """The mixed polynomial hash of each stretch codes[start:end] (values below 2**21, so a
    code point and its UTF-8 bytes hash alike only for ASCII, the case that matters)."""
    n = len(codes)
    powers, inverse = _powers(n + 1)
    prefix = np.zeros(n + 1, dtype=np.uint64)
    np.cumsum(codes * powers[:n], out=prefix[1:])
    h = (prefix[ends] - prefix[starts]) * inverse[starts]
    del prefix
    h += (ends - starts).astype(np.uint64) * _LENGTH
    h ^= h >> _SHIFT
    h *= _MIX1
    h ^= h >> _SHIFT
    h *= _MIX2
    h ^= h >> _SHIFT
    return h


_POWERS: list[HashArray] = []
_POWERS_KEPT = 1 << 21


def _powers(n: int) -> tuple[HashArray, HashArray]:
    """_BASE ** i and its inverse ** i for i < n (at least), kept for the next text up to
    _POWERS_KEPT."""
    if _POWERS and len(_POWERS[0]) >= n:
        return _POWERS[0], _POWERS[1]
    out = []
    for base in (_BASE, _BASE_INVERSE):
        p = np.full(max(n, 1 << 16), base, dtype=np.uint64)
        p[0] = 1
        out.append(np.cumprod(p, out=p))
    if n <= _POWERS_KEPT:
        _POWERS[:] = out
    return out[0], out[1]


@lru_cache(maxsize=1)
def _stopword_table() -> tuple[HashArray, int]:
    """The stopwords' hashes (lowest bit clear) in a table of 2**16 slots, each in the slot
    its bits from `shift` up name, with a `shift` that puts no two in one slot: one look-up
    a word tells whether it is a stopword."""
    stop = hash_words(sorted(STOPWORDS), flag=False) & ~_ONE
    for shift in range(1, 48):
        slots = (stop >> np.uint64(shift)) & np.uint64(0xFFFF)
        if len(np.unique(slots)) == len(stop):
            table = np.zeros(1 << 16, dtype=np.uint64)
            table[slots] = stop
            return table, shift
    raise AssertionError("no collision-free stopword table")  # pragma: no cover


def _flagged(hashes: HashArray) -> HashArray:
    """`hashes` with the lowest bit cleared, then set for stopwords."""
    hashes &= ~_ONE
    table, shift = _stopword_table()
    hashes |= (table[(hashes >> np.uint64(shift)) & np.uint64(0xFFFF)] == hashes).astype(
        np.uint64)
    return hashes
