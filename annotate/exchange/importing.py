"""An import merged into the annotation store: nothing is overwritten, identical annotations
count as unchanged, and annotations are checked against (and placed on) the corpus."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from annotate.errors import AnnotateError
from annotate.exchange.data import Imported, ImportReport
from annotate.exchange.pointers import sha256
from annotate.model import Annotation, Change, Document

if TYPE_CHECKING:
    from annotate.corpus import Corpus
    from annotate.store import Store


UNKNOWN_HINT = ("give the corpus it belongs to, or --allow-unknown-docs to import its "
                "annotations anyway")


def import_into(store: Store, imported: Imported, corpus: Corpus | None = None, *,
                allow_unknown: bool = False) -> ImportReport:
    """Add what `imported` holds to the store. Nothing is overwritten: an annotation already
    there unchanged is counted as such, a different one is a conflict, and so are the
    annotations of a document whose text differs from the exported one (by sha256) and, given
    a corpus, of a document that is not in it (an export of another corpus), unless
    `allow_unknown`."""
    docs = {d.id: d for d in corpus.documents} if corpus is not None else {}
    refuse_unknown = corpus is not None and not allow_unknown
    bad_docs: dict[str, str] = {}
    warnings: list[str] = []
    for doc_id, info in imported.documents.items():
        d = docs.get(doc_id)
        if d is None and refuse_unknown:
            bad_docs[doc_id] = (f"document {doc_id!r} is not in the corpus (an export of "
                                f"another corpus?): {UNKNOWN_HINT}")
        elif d is not None and info.sha256 and sha256(d.text) != info.sha256:
            bad_docs[doc_id] = (f"document {doc_id}: its text differs from the exported one "
                                f"(sha256 {info.sha256[:12]}… vs {sha256(d.text)[:12]}…)")
        elif d is None and info.text is not None and info.sha256 \
                and sha256(info.text) != info.sha256:
            warnings.append(f"document {doc_id}: the text in the file does not match its "
                            "recorded sha256 (edited after export, or characters XML cannot "
                            "carry were replaced)")
    changes: dict[str, list[Change]] = defaultdict(list)
    for ch in imported.history:
        changes[ch.annotation].append(ch)
    added: list[str] = []
    unchanged: list[str] = []
    conflicts: list[str] = [*imported.problems, *bad_docs.values()]
    pending: list[tuple[Annotation, Sequence[Change]]] = []
    for a in imported.annotations:
        if a.doc in bad_docs:
            conflicts.append(f"annotation {a.id}: not imported, {bad_docs[a.doc]}")
            continue
        d = _document_for(a.doc, docs, corpus)
        if d is None and refuse_unknown:
            conflicts.append(f"annotation {a.id}: document {a.doc!r} is not in the corpus; "
                             f"not imported ({UNKNOWN_HINT})")
            continue
        if d is not None and not a.orphaned:
            placed = _place(a, d, a.id not in imported.unplaced)
            if placed is None:
                conflicts.append(f"annotation {a.id}: its quote is not found in document "
                                 f"{d.id}; not imported")
                continue
            if (placed.start, placed.end) != (a.start, a.end) and a.id not in imported.unplaced:
                warnings.append(f"annotation {a.id}: its quote was found at "
                                f"{placed.start}-{placed.end}, not {a.start}-{a.end}")
            a = placed
        elif a.id in imported.unplaced:
            conflicts.append(f"annotation {a.id}: has no offsets and its document {a.doc!r} "
                             "is not in the corpus to find its quote in; not imported")
            continue
        pending.append((a, changes.get(a.id, ())))
    for (a, _), outcome in zip(pending, store.import_annotations(pending), strict=True):
        if outcome is True:
            added.append(a.id)
        elif outcome is False:
            unchanged.append(a.id)
        else:
            conflicts.append(outcome)
    ann_ids = {a.id for a in imported.annotations}
    lost = sum(1 for ch in imported.history if ch.annotation not in ann_ids)
    if lost:
        warnings.append(f"{lost} history entries of annotations not in the file "
                        "(removed ones) were not imported")
    return ImportReport(tuple(added), tuple(unchanged), tuple(conflicts), tuple(warnings))


def _document_for(key: str, docs: Mapping[str, Document],
                  corpus: Corpus | None) -> Document | None:
    """The corpus document an imported annotation refers to: by id, else (another tool's
    IRI) by the last part of its path, as a file name or stem."""
    if key in docs:
        return docs[key]
    if corpus is None:
        return None
    last = key.rstrip("/").rsplit("/", 1)[-1]
    try:
        return corpus.get(last) if last else None
    except AnnotateError:
        return None


CONTEXT = 32  # characters of context kept on each side, as the store keeps them


def _place(a: Annotation, d: Document, has_offsets: bool) -> Annotation | None:
    """`a` on document `d`: as it is when its quote is at its offsets, else moved to where
    the quote is (the occurrence whose context matches best, then the nearest), else None."""
    from dataclasses import replace

    if has_offsets and d.text[a.start:a.end] == a.quote and a.doc == d.id:
        return a
    if not a.quote:
        return None
    # (start, end) of each occurrence: exact first, else with any run of whitespace matching
    # any other (a tool showing the text as HTML quotes "Western\nBalkans" as one line).
    found: list[tuple[int, int]] = []
    i = d.text.find(a.quote)
    while i != -1 and len(found) < 1000:
        found.append((i, i + len(a.quote)))
        i = d.text.find(a.quote, i + 1)
    words = a.quote.split()
    if not found and words:
        loose = re.compile(r"\s+".join(map(re.escape, words)))
        for m in loose.finditer(d.text):
            found.append(m.span())
            if len(found) >= 1000:
                break
    if found:
        def score(at: tuple[int, int]) -> tuple[int, int]:
            before = d.text[max(0, at[0] - len(a.prefix)):at[0]]
            after = d.text[at[1]:at[1] + len(a.suffix)]
            context = int(bool(a.prefix) and before.endswith(a.prefix)) + int(
                bool(a.suffix) and after.startswith(a.suffix))
            return (-context, abs(at[0] - a.start))

        start, end = min(found, key=score)
    else:
        from annotate.diff import fuzzy_find

        near = fuzzy_find(d.text, a.quote, a.start)
        if near is None:
            return None
        start, end = near, near + len(a.quote)
    return replace(a, doc=d.id, start=start, end=end, quote=d.text[start:end],
                   prefix=d.text[max(0, start - CONTEXT):start],
                   suffix=d.text[end:end + CONTEXT])
