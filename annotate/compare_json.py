"""`annotate compare A B --json`: the rows of the side-by-side view as data.

The rows run through `a` in order, as the view does: an `unshared` row for the stretch of each
document before the next shared passage, then a `passage` row with both sides and the diff of
what changed, and a last `unshared` row for what follows the last passage.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from annotate.diff import DELETE, EQUAL, char_diff
from annotate.model import Document, Passage, Side
from annotate.text import word_count

OPS = {EQUAL: "equal", DELETE: "delete"}


def _flat(text: str) -> str:
    # As the view: line breaks and runs of spaces are not changes.
    return " ".join(text.split())


def _stretch(d: Document, start: int, end: int) -> dict[str, Any] | None:
    """An unshared stretch `[start, end)` of `d`; None where there is none. A stretch that ends
    before it starts means the next passage comes earlier in this document than the last one
    (the passages cross): it is reported with `reordered` and no text."""
    if end < start:
        return {"start": end, "end": end, "words": 0, "reordered": True}
    words = word_count(d.text[start:end])
    if words == 0:
        return None
    return {"start": start, "end": end, "words": words}


def _side(s: Side) -> dict[str, Any]:
    return {"doc": s.doc, "start": s.start, "end": s.end, "text": s.text}


def diff_ops(a: str, b: str) -> list[dict[str, str]]:
    """The word-flattened texts' character diff: `equal`, `delete` (only in a) and `insert`
    (only in b) operations, in order; the equal and delete texts joined give flat a, the equal
    and insert texts flat b."""
    return [{"op": OPS.get(op, "insert"), "text": chunk} for op, chunk in char_diff(_flat(a),
                                                                                  _flat(b))]


def compare_json(a: Document, b: Document, passages: Sequence[Passage], *,
                 min_words: int) -> dict[str, Any]:
    ordered = sorted(((p.a, p.b, p) if p.a.doc == a.id else (p.b, p.a, p) for p in passages),
                     key=lambda s: (s[0].start, s[1].start))
    rows: list[dict[str, Any]] = []

    def unshared(ea: int, sa: int, eb: int, sb: int) -> None:
        ga, gb = _stretch(a, ea, sa), _stretch(b, eb, sb)
        if ga or gb:
            rows.append({"type": "unshared", "a": ga, "b": gb})

    ea = eb = 0
    for sa, sb, p in ordered:
        unshared(ea, sa.start, eb, sb.start)
        rows.append({"type": "passage", "id": p.id, "cluster": p.cluster,
                     "similarity": round(p.similarity, 4), "words": p.words,
                     "a": _side(sa), "b": _side(sb), "diff": diff_ops(sa.text, sb.text)})
        ea, eb = max(ea, sa.end), max(eb, sb.end)
    unshared(ea, len(a.text), eb, len(b.text))
    return {
        "a": a.id,
        "b": b.id,
        "min_words": min_words,
        "passages": len(passages),
        "matching_words": sum(p.words for p in passages),
        "rows": rows,
    }
