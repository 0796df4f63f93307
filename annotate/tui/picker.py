"""The `t` theme picker's matching: every word typed must match a word of the theme's label or
id, anywhere in it, loosely (a shared stem, or a close spelling), so `smuggling` finds
"Upstream action against smugglers" and `route whole` finds "Whole-of-route approach"."""

from __future__ import annotations

import difflib
import re
from typing import TYPE_CHECKING

from annotate.model import Codebook, Theme

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


class Picking:
    """The theme line (`t`) of `EditorState` (a mixin, as `sharing.py`): pick a theme by its
    number, words of its label or id, and Tab completion."""

    if TYPE_CHECKING:
        codebook: Codebook
        mode: str
        _completed: str
        _complete_query: str
        _complete_turn: int

        def say(self, message: str, error: bool = False) -> None: ...

        def toggle(self, theme: Theme) -> None: ...

    def find_theme(self, text: str) -> Theme | None:
        """A theme by its number in the codebook (1-based), its id, or words of its label or
        id (`rank`); None (and a message saying why) when no single one is clearly best."""
        text = text.strip()
        themes = self.codebook.themes
        if text.isdigit():
            n = int(text)
            if 1 <= n <= len(themes):
                return themes[n - 1]
            self.say(f"no theme number {n} (the codebook has {len(themes)})", error=True)
            return None
        found = rank(text, themes)
        if not found:
            self.say(f"no theme matches {text!r}", error=True)
            return None
        # The best match wins when it is clearly better than the next (Tab shows them all).
        best, second = score(text, found[0]), (score(text, found[1]) if len(found) > 1 else 0)
        if best - second > 0.1 or (best >= 1.0 > second):
            return found[0]
        self.say(f"{text!r} matches {len(found)} themes: "
                 + ", ".join(t.id for t in found[:6]) + " (Tab cycles them)", error=True)
        return None

    def complete_theme(self, text: str) -> str:
        """The theme line's Tab: the best match's id, then (Tab again) the next."""
        if text != self._completed:
            self._complete_query, self._complete_turn = text, 0
        else:
            self._complete_turn += 1
        done, found = complete(self._complete_query, self.codebook.themes, self._complete_turn)
        if not found:
            self.say(f"no theme matches {self._complete_query!r}", error=True)
            return text
        self._completed = done
        theme = found[self._complete_turn % len(found)]
        self.say(f"{theme.label} ({self._complete_turn % len(found) + 1} of {len(found)}"
                 ": Enter toggles it, Tab the next)")
        return done

    def pick_theme(self, text: str) -> None:
        """Toggle the theme typed on the theme line (for codebooks longer than the keys)."""
        self.mode = "normal"
        theme = self.find_theme(text)
        if theme is not None:
            self.toggle(theme)
