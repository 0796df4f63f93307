"""The only home of diff-match-patch: character diffs of aligned passages and fuzzy
re-anchoring of quotes in changed text."""

from __future__ import annotations

import re
from functools import lru_cache

from diff_match_patch import diff_match_patch

EQUAL, DELETE, INSERT = 0, -1, 1


@lru_cache(maxsize=1)
def _dmp() -> diff_match_patch:
    dmp = diff_match_patch()
    # No time limit: a diff must be exact and the same on every run.
    dmp.Diff_Timeout = 0
    return dmp


def char_diff(a: str, b: str) -> list[tuple[int, str]]:
    """Character diff of `a` into `b` as (op, text) pairs, op in EQUAL/DELETE/INSERT,
    cleaned up so the changes read as words rather than scattered letters."""
    dmp = _dmp()
    diffs = dmp.diff_main(a, b, False)
    dmp.diff_cleanupSemantic(diffs)
    return [(int(op), str(t)) for op, t in diffs]


def similarity(a: str, b: str) -> float:
    """1 - Levenshtein distance / length of the longer text, on characters."""
    if not a and not b:
        return 1.0
    dmp = _dmp()
    diffs = dmp.diff_main(a, b, False)
    distance: int = dmp.diff_levenshtein(diffs)
    return 1.0 - distance / max(len(a), len(b))


def fuzzy_find(text: str, quote: str, near: int, threshold: float = 0.35) -> int | None:
    """Start offset of the best match of `quote` in `text` close to `near`, or None.

    An exact occurrence wins (the one nearest `near`); otherwise diff-match-patch's Bitap
    match finds an approximate one. Bitap handles at most 32 characters, so a longer quote is
    located by its head and confirmed by the similarity of the whole.
    """
    if not quote:
        return None
    exact = _nearest_exact(text, quote, near)
    if exact is not None:
        return exact
    dmp = _dmp()
    dmp.Match_Threshold = threshold
    dmp.Match_Distance = max(1000, len(text))
    head = quote[: dmp.Match_MaxBits]
    loc = dmp.match_main(text, head, max(0, min(near, len(text))))
    if loc == -1:
        tail = quote[-dmp.Match_MaxBits :]
        loc_tail = dmp.match_main(text, tail, max(0, min(near + len(quote) - len(tail),
                                                         len(text))))
        if loc_tail == -1:
            return None
        loc = max(0, loc_tail - (len(quote) - len(tail)))
    candidate = text[loc : loc + len(quote)]
    return loc if similarity(candidate, quote) >= 1.0 - threshold else None


def _nearest_exact(text: str, quote: str, near: int) -> int | None:
    best: int | None = None
    i = text.find(quote)
    while i != -1:
        if best is None or abs(i - near) < abs(best - near):
            best = i
        i = text.find(quote, i + 1)
    return best


_WORD_OR_GAP = re.compile(r"\w+|\s+|[^\w\s]")
_REFINE_MAX = 400  # replaced stretches up to this long are refined character by character


def word_char_diff(a: str, b: str) -> list[tuple[int, str]]:
    """The diff of `a` into `b` as `char_diff` gives it, computed word by word first and then
    character by character inside each replaced stretch.

    Words are mapped to one character each (diff-match-patch's line-mode trick, on words), so
    the costly bisection runs over words rather than characters: OCR text full of small
    differences diffs many times faster, and the result is as exact (no time limit)."""
    codes: dict[str, str] = {}
    words: dict[str, str] = {}

    def encode(text: str) -> str:
        out = []
        for w in _WORD_OR_GAP.findall(text):
            c = codes.get(w)
            if c is None:
                n = len(words) + 0x20
                c = codes[w] = chr(n + 0x800 if n >= 0xD800 else n)  # no surrogates
                words[c] = w
            out.append(c)
        return "".join(out)

    def decode(chars: str) -> str:
        return "".join(words[c] for c in chars)

    dmp = _dmp()
    coarse = [(int(op), decode(t)) for op, t in dmp.diff_main(encode(a), encode(b), False)]
    out: list[tuple[int, str]] = []
    i = 0
    while i < len(coarse):
        op, text = coarse[i]
        if i + 1 < len(coarse) and {op, coarse[i + 1][0]} == {DELETE, INSERT}:
            removed = text if op == DELETE else coarse[i + 1][1]
            added = coarse[i + 1][1] if op == DELETE else text
            if len(removed) + len(added) <= _REFINE_MAX:
                out.extend(char_diff(removed, added))
            else:
                out.extend([(DELETE, removed), (INSERT, added)])
            i += 2
            continue
        out.append((op, text))
        i += 1
    merged: list[tuple[int, str]] = []
    for op, text in out:
        if merged and merged[-1][0] == op:
            merged[-1] = (op, merged[-1][1] + text)
        elif text:
            merged.append((op, text))
    return merged
