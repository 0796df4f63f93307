"""Finding an annotation again in a text that changed: its quote, ranked by how much of its
stored context still surrounds it, else the stretch between that context, else a fuzzy match
near where it was (diff-match-patch). Pure functions over strings; the store calls them when
it re-anchors."""

from __future__ import annotations

from annotate.model import Annotation

# Characters of context kept on each side of an annotation to find it again.
CONTEXT_CHARS = 32


def _context_score(text: str, start: int, end: int, ann: Annotation) -> int:
    """How many characters of the stored context still sit next to this occurrence."""
    before = text[max(0, start - len(ann.prefix)) : start]
    after = text[end : end + len(ann.suffix)]
    score = 0
    for a, b in zip(reversed(before), reversed(ann.prefix), strict=False):
        if a != b:
            break
        score += 1
    for a, b in zip(after, ann.suffix, strict=False):
        if a != b:
            break
        score += 1
    return score


# How far from where it is expected an annotation is looked for when its quote has changed or
# carries no context: wide enough for a rewritten paragraph, narrow enough that diff-match-
# patch's Bitap (pure Python) stays fast on a megabyte of text.
WINDOW = 3000
FUZZY_WINDOW = 1000
CONTEXT_PROBE = 16
# Quotes at least this long are taken to be unique enough to be found without their context.
DISTINCTIVE = 24


def locate(text: str, ann: Annotation, near: int | None = None) -> tuple[int, int, bool] | None:
    """Where an annotation's quote is in (changed) `text`: (start, end, exact) or None.

    `near` is where it is expected (default: its old start). In order: the exact quote where
    the stored context still surrounds it best (then nearest `near`); then the text between the
    stored prefix and suffix, when the quote itself was edited; then diff-match-patch's fuzzy
    match within `FUZZY_WINDOW` characters of `near`. A short quote is only accepted with some
    of its context, since the same few words recur; a distinctive one (`DISTINCTIVE`
    characters) also without, near where it was. Otherwise None: the annotation is orphaned,
    to be looked at, rather than moved silently to words that merely look the same.
    """
    quote = ann.quote
    if not quote:
        return None
    near = ann.start if near is None else near
    context = len(ann.prefix) + len(ann.suffix)
    need = min(8, context)
    distinctive = len(quote) >= DISTINCTIVE
    # Where the text before it moved everything by the same amount, the quote sits at `near`
    # with all its context: nothing can rank higher, so the search of the text is skipped.
    if (text.startswith(quote, near) if near >= 0 else False) and _context_score(
        text, near, near + len(quote), ann
    ) == context:
        return near, near + len(quote), True
    best: tuple[int, int] | None = None
    best_at = -1
    i = text.find(quote)
    while i != -1:
        score = _context_score(text, i, i + len(quote), ann)
        # A short quote ("the government") recurs; without its context it is not the same one.
        if score >= need or (distinctive and abs(i - near) <= WINDOW):
            key = (score, -abs(i - near))
            if best is None or key > best:
                best, best_at = key, i
        i = text.find(quote, i + 1)
    if best_at >= 0:
        return best_at, best_at + len(quote), True
    lo = max(0, near - WINDOW)
    hi = min(len(text), near + len(quote) + WINDOW)
    between = _between_context(text, ann, lo, hi)
    if between is not None:
        return between[0], between[1], False
    if not distinctive:
        return None
    from annotate.diff import fuzzy_find, similarity

    lo = max(0, near - FUZZY_WINDOW)
    hi = min(len(text), near + len(quote) + FUZZY_WINDOW)
    window = text[lo:hi]
    found = fuzzy_find(window, quote, near - lo)
    if found is None:
        return None
    start = lo + found
    end = start + len(quote)
    # The quote may have grown or shrunk: find its tail too and keep the better-matching end.
    tail = quote[-32:]
    tail_at = fuzzy_find(window, tail, start - lo + len(quote) - len(tail))
    if tail_at is not None:
        alt = lo + tail_at + len(tail)
        if start < alt and abs((alt - start) - len(quote)) <= len(quote) // 2 and (
            similarity(text[start:alt], quote) > similarity(text[start:end], quote)
        ):
            end = alt
    return start, min(end, len(text)), False


def _between_context(text: str, ann: Annotation, lo: int, hi: int) -> tuple[int, int] | None:
    """The stretch between the stored prefix and suffix, when both are still there (close to
    each other) and what lies between still resembles the quote."""
    head = ann.prefix[-CONTEXT_PROBE:]
    tail = ann.suffix[:CONTEXT_PROBE]
    if len(head) < CONTEXT_PROBE // 2 or len(tail) < CONTEXT_PROBE // 2:
        return None
    from annotate.diff import similarity

    longest = len(ann.quote) * 3 // 2 + 8
    i = text.find(head, lo, hi)
    while i != -1:
        start = i + len(head)
        j = text.find(tail, start, min(len(text), start + longest + len(tail)))
        if j > start and similarity(text[start:j], ann.quote) >= 0.5:
            return start, j
        i = text.find(head, i + 1, hi)
    return None
