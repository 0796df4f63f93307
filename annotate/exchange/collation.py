"""Two documents collated word by word in TEI parallel segmentation: shared passages (from
reuse) are aligned, then diffed word by word; each difference is an `app` with a reading per
witness."""

from __future__ import annotations

import re
from collections.abc import Sequence

from annotate import __version__
from annotate.errors import ExportError
from annotate.exchange.pointers import Ids, t, xml_safe
from annotate.exchange.tei_export import indent, sub
from annotate.markup import TEI_NS, etree
from annotate.model import Document, Passage

_WORD = re.compile(r"\S+")


def _word_diff(a: Sequence[str], b: Sequence[str]) -> list[tuple[int, list[str]]]:
    """Word-level diff of two word lists via `annotate.diff.char_diff`, each distinct word
    coded as one character (diff-match-patch's own lines-to-chars trick)."""
    from annotate.diff import char_diff

    codes: dict[str, str] = {}

    def code(words: Sequence[str]) -> str:
        out = []
        for w in words:
            if w not in codes:
                n = len(codes)
                # Private-use planes: never in the text, and past the BMP when it runs out.
                codes[w] = chr(0xF0000 + n) if n < 0xFFFE else chr(0x100000 + n - 0xFFFE)
            out.append(codes[w])
        return "".join(out)

    ca, cb = code(a), code(b)
    back = {c: w for w, c in codes.items()}
    return [(op, [back[c] for c in text]) for op, text in char_diff(ca, cb)]


def _anchors(a: Document, b: Document,
             passages: Sequence[Passage]) -> list[tuple[int, int, int, int]]:
    """Shared passages of `a` and `b` as ([start, end) in a, [start, end) in b), the heaviest
    chain that runs forward in both documents (a parallel text cannot cross over)."""
    pairs = []
    for p in passages:
        if {p.a.doc, p.b.doc} != {a.id, b.id}:
            continue
        sa, sb = (p.a, p.b) if p.a.doc == a.id else (p.b, p.a)
        pairs.append((sa.start, sa.end, sb.start, sb.end))
    pairs.sort()
    best: list[tuple[int, int]] = []  # (weight of the best chain ending here, previous index)
    for i, (a0, _a1, b0, _b1) in enumerate(pairs):
        weight = pairs[i][1] - a0
        choice = (weight, -1)
        for j in range(i):
            if pairs[j][1] <= a0 and pairs[j][3] <= b0 and best[j][0] + weight > choice[0]:
                choice = (best[j][0] + weight, j)
        best.append(choice)
    if not best:
        return []
    i = max(range(len(best)), key=lambda k: best[k][0])
    chain = []
    while i >= 0:
        chain.append(pairs[i])
        i = best[i][1]
    return chain[::-1]


def collation_diff(a: Document, b: Document,
                   passages: Sequence[Passage] = ()) -> list[tuple[int, list[str]]]:
    """Word diff of two documents: shared passages (from reuse) are aligned with each other
    and diffed word by word, the stretches between them are diffed as wholes."""
    out: list[tuple[int, list[str]]] = []
    ca = cb = 0
    def snap(text: str, x: int) -> int:
        # A boundary inside a word moves to the word's start, so no word is cut in two.
        while 0 < x < len(text) and not text[x - 1].isspace() and not text[x].isspace():
            x -= 1
        return x

    anchors = [(snap(a.text, a0), snap(a.text, a1), snap(b.text, b0), snap(b.text, b1))
               for a0, a1, b0, b1 in _anchors(a, b, passages)]
    for a0, a1, b0, b1 in [*anchors, (len(a.text),) * 2 + (len(b.text),) * 2]:
        for x0, x1, y0, y1 in ((ca, a0, cb, b0), (a0, a1, b0, b1)):
            wa = _WORD.findall(a.text, x0, x1)
            wb = _WORD.findall(b.text, y0, y1)
            if wa or wb:
                out += _word_diff(wa, wb)
        ca, cb = a1, b1
    return out


def collation_tree(a: Document, b: Document,
                   passages: Sequence[Passage] = ()) -> etree._Element:
    """Two documents collated word by word: shared words as text, each difference as an `app`
    with a reading per witness (an empty `rdg` where one of them has nothing)."""
    if a.id == b.id:
        raise ExportError("a collation needs two different documents")
    ids = Ids()
    wa, wb = ids.get("doc", "d", a.id), ids.get("doc", "d", b.id)
    root = etree.Element(t("TEI"), nsmap={None: TEI_NS})  # type: ignore[dict-item]
    header = sub(root, "teiHeader")
    fd = sub(header, "fileDesc")
    ts = sub(fd, "titleStmt")
    sub(ts, "title", f"Collation of {a.id} and {b.id}")
    ps = sub(fd, "publicationStmt")
    sub(ps, "p", f"Written by annotate {__version__}; not published.")
    sd = sub(fd, "sourceDesc")
    lw = sub(sd, "listWit")
    for wid, d in ((wa, a), (wb, b)):
        sub(lw, "witness", d.meta.title or d.id, xml_id=wid, n=d.id)
    enc = sub(header, "encodingDesc")
    sub(enc, "variantEncoding", method="parallel-segmentation", location="internal")
    ed = sub(enc, "editorialDecl")
    norm = sub(ed, "normalization")
    sub(norm, "p", "Words are compared as written; runs of whitespace become one space. "
         f"Aligned on {len(_anchors(a, b, passages))} shared passages.")
    indent(header, 1)
    text = sub(root, "text")
    body = sub(text, "body")
    ab = sub(body, "ab", type="collation")
    diffs = collation_diff(a, b, passages)
    parts: list[tuple[str | None, str]] = []
    i = 0
    while i < len(diffs):
        op, words = diffs[i]
        if op == 0:
            parts.append((None, " ".join(words)))
            i += 1
            continue
        dele: list[str] = []
        ins: list[str] = []
        while i < len(diffs) and diffs[i][0] != 0:
            (dele if diffs[i][0] < 0 else ins).extend(diffs[i][1])
            i += 1
        parts.append((" ".join(dele), " ".join(ins)))
    n = 0
    last: etree._Element | None = None
    ab.text = "\n"
    for first, second in parts:
        if first is None:
            chunk = xml_safe(second) + "\n"
            if last is None:
                ab.text += chunk
            else:
                last.tail = (last.tail or "") + chunk
            continue
        n += 1
        app = sub(ab, "app", xml_id=f"app{n}", n=str(n))
        app.tail = "\n"
        sub(app, "rdg", first or None, wit=f"#{wa}")
        sub(app, "rdg", second or None, wit=f"#{wb}")
        last = app
    root.text, header.tail, text.tail = "\n  ", "\n  ", "\n"
    return root


def collation_bytes(a: Document, b: Document, passages: Sequence[Passage] = ()) -> bytes:
    return etree.tostring(collation_tree(a, b, passages), xml_declaration=True,
                          encoding="UTF-8") + b"\n"
