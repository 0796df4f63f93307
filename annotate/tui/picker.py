"""The `t` theme picker's matching: every word typed must match a word of the theme's label or
id, anywhere in it, loosely (a shared stem, or a close spelling), so `smuggling` finds
"Upstream action against smugglers" and `route whole` finds "Whole-of-route approach"."""

from __future__ import annotations

import difflib
import re

from annotate.model import Theme

_WORD = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    return [w.casefold() for w in _WORD.findall(text)]


def word_score(typed: str, word: str) -> float:
    """How well one typed word matches one word of a theme (0: not at all, 1: exactly)."""
    if typed == word:
        return 1.0
    if word.startswith(typed):
        return 0.9
    if typed in word:
        return 0.7
    common = 0
    for a, b in zip(typed, word, strict=False):
        if a != b:
            break
        common += 1
    # A shared stem: smuggling / smugglers, cooperation / cooperate.
    if common >= 4 and common >= 0.6 * min(len(typed), len(word)):
        return 0.6 + 0.2 * common / max(len(typed), len(word))
    # A typo, in the whole word or in its start: smugling (smugglers), bordr (border).
    ratio = max(difflib.SequenceMatcher(None, typed, word).ratio(),
                difflib.SequenceMatcher(None, typed, word[: len(typed)]).ratio()
                if len(typed) >= 5 else 0.0)
    return ratio * 0.7 if ratio >= 0.8 else 0.0


def score(query: str, theme: Theme) -> float:
    """0 when some word typed matches nothing in the theme, else the mean of the best match
    of each word typed."""
    typed = words(query)
    if not typed:
        return 0.0
    target = words(theme.label) + words(theme.id)
    if not target:
        return 0.0
    total = 0.0
    for t in typed:
        best = max(word_score(t, w) for w in target)
        if best == 0.0:
            return 0.0
        total += best
    return total / len(typed)


def rank(query: str, themes: tuple[Theme, ...]) -> list[Theme]:
    """Themes matching `query`, best first (codebook order among equals). An exact id, or a
    number (the theme's place in the codebook), comes alone."""
    q = query.strip()
    for t in themes:
        if t.id == q:
            return [t]
    scored = [(score(q, t), i, t) for i, t in enumerate(themes)]
    return [t for s, _, t in sorted(scored, key=lambda x: (-x[0], x[1])) if s > 0]


def complete(query: str, themes: tuple[Theme, ...], turn: int) -> tuple[str, list[Theme]]:
    """Tab completion: the `turn`-th best match's id (Tab again cycles), and all matches."""
    found = rank(query, themes)
    if not found:
        return query, []
    return found[turn % len(found)].id, found
