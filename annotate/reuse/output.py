"""`annotate reuse --json` and `--jsonl`, written as they go: one passage at a time, never
the whole document in memory, and nothing computed that the output does not print (word
counts come from the fingerprints; no sentence or paragraph segmentation)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from json.encoder import encode_basestring
from typing import TYPE_CHECKING, Any, TextIO

from annotate.model import Cluster, Document, Passage, Side
from annotate.sanitize import json_visible

if TYPE_CHECKING:
    from annotate.corpus import Corpus
    from annotate.reuse.engine import ReuseResult


def document_record(d: Document, words: int | None = None) -> dict[str, Any]:
    """What the reuse outputs say of a document: its metadata, words and characters."""
    if words is None:
        from annotate.text import word_count

        words = word_count(d.text)
    return {
        **d.metadata_record(),
        "words": words,
        "characters": len(d.text),
        "metadata_from": d.meta.origin,
    }


def _side(s: Side) -> dict[str, Any]:
    return {"doc": s.doc, "start": s.start, "end": s.end, "text": s.text}


def passage_record(p: Passage) -> dict[str, Any]:
    return {
        "id": p.id,
        "cluster": p.cluster,
        "similarity": p.similarity,
        "words": p.words,
        "bits": p.bits,
        "same_series": p.same_series,
        "a": _side(p.a),
        "b": _side(p.b),
    }


def _passage_text(p: Passage, depth: int) -> str:
    """`passage_record(p)` as `json.dumps(..., indent=2)` lays it out at `depth` levels in,
    written by hand: with `indent`, json falls back to its pure-Python encoder, several
    times slower, and a newspaper archive has 100,000s of passages. Strings go through
    json's own C string encoder (what `dumps(..., ensure_ascii=False)` uses for them)."""
    pad = "  " * depth
    s = encode_basestring

    def side(x: Side) -> str:
        return (f'{{\n{pad}    "doc": {s(x.doc)},\n{pad}    "start": {x.start},\n{pad}    '
                f'"end": {x.end},\n{pad}    "text": {s(x.text)}\n{pad}  }}')

    cluster = "null" if p.cluster is None else s(p.cluster)
    return (f'{{\n{pad}  "id": {s(p.id)},\n{pad}  "cluster": {cluster},\n{pad}  '
            f'"similarity": {_number(p.similarity)},\n{pad}  "words": {p.words},\n{pad}  '
            f'"bits": {_number(p.bits)},\n{pad}  "same_series": '
            f'{"true" if p.same_series else "false"},\n{pad}  "a": {side(p.a)},\n'
            f'{pad}  "b": {side(p.b)}\n{pad}}}')


def _number(x: float) -> str:
    # json writes a finite float as its repr; anything else takes json's own path.
    return float.__repr__(x) if type(x) is float and math.isfinite(x) else json.dumps(x)


def cluster_record(c: Cluster) -> dict[str, Any]:
    return {
        "id": c.id,
        "passages": list(c.passages),
        "documents": list(c.documents),
        "earliest": c.earliest,
    }


def reuse_json(corpus: Corpus, result: ReuseResult) -> dict[str, Any]:
    """The `annotate reuse --json` shape (stable; the README documents it) as one object:

    - `documents`: `document_record` of every document, in date order;
    - `passages`, ranked: `id` (`r1`...), `cluster` (a cluster id or null), `similarity`
      (0-1, on normalised words), `words` (matching words), `bits` (evidence against
      chance), `same_series`, and `a` and `b`, each `{doc, start, end, text}` with
      [start, end) code-point offsets into the document's text as read, `text` being
      exactly that slice; `a` is the earlier document by date (then id);
    - `clusters`: `id` (`c1`...), `passages` (ids), `documents` (ids, earliest first),
      `earliest` (a document id).
    """
    return {
        "documents": [document_record(d, result.words.get(d.id)) for d in corpus.documents],
        "passages": [passage_record(p) for p in result.passages],
        "clusters": [cluster_record(c) for c in result.clusters],
    }


def _indented(value: Any, depth: int) -> str:
    """`json.dumps(value, ensure_ascii=False, indent=2)` laid out `depth` levels in, written
    by hand for what records hold (json's indenting encoder is pure Python and several times
    slower; other types take its path)."""
    pad = "  " * depth
    if isinstance(value, dict) and all(type(k) is str for k in value):
        if not value:
            return "{}"
        inner = ",\n".join(f"{pad}  {encode_basestring(k)}: {_indented(v, depth + 1)}"
                           for k, v in value.items())
        return f"{{\n{inner}\n{pad}}}"
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        inner = ",\n".join(f"{pad}  {_indented(v, depth + 1)}" for v in value)
        return f"[\n{inner}\n{pad}]"
    if type(value) is str:
        return encode_basestring(value)
    if value is None or type(value) is bool:
        return "null" if value is None else "true" if value else "false"
    if type(value) is int:
        return int.__repr__(value)
    if type(value) is float:
        return _number(value)
    return json.dumps(value, ensure_ascii=False, indent=2).replace("\n", "\n" + pad)


class _Visible:
    """Writes to `out` with C1 controls and bidi overrides as `\\uXXXX` escapes (JSON leaves
    them raw, and a terminal may act on them); the data read back is the same."""

    def __init__(self, out: TextIO) -> None:
        self._out = out

    def write(self, text: str) -> None:
        self._out.write(json_visible(text))


# Records written at a time.
_BATCH = 500


def write_json(
    out: TextIO,
    corpus: Corpus,
    result: ReuseResult,
    *,
    limit: int | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """Write `reuse_json` (the first `limit` passages, plus `extra` keys) to `out` as the
    same text `json.dumps(..., indent=2)` would give, one record at a time."""
    shown = result.passages[:limit] if limit else result.passages
    sink = _Visible(out)

    def array(key: str, items: Iterator[str], last: bool = False) -> None:
        sink.write(f'  "{key}": [')
        first = True
        batch: list[str] = []
        for item in items:
            batch.append(("\n" if first else ",\n") + "    " + item)
            first = False
            if len(batch) == _BATCH:  # written in batches: one scan for controls each
                sink.write("".join(batch))
                batch.clear()
        sink.write("".join(batch))
        sink.write(("]" if first else "\n  ]") + ("\n" if last else ",\n"))

    sink.write("{\n")
    array("documents", (_indented(document_record(d, result.words.get(d.id)), 2)
                        for d in corpus.documents))
    array("passages", (_passage_text(p, 2) for p in shown))
    array("clusters", (_indented(cluster_record(c), 2) for c in result.clusters),
          last=not extra)
    items = list((extra or {}).items())
    for n, (key, value) in enumerate(items):
        sink.write(f"  {json.dumps(key)}: {_indented(value, 1)}"
                  + (",\n" if n < len(items) - 1 else "\n"))
    sink.write("}\n")


def write_jsonl(out: TextIO, result: ReuseResult, *, limit: int | None = None) -> None:
    """One passage a line (`passage_record`, compact), ranked: for tools that stream."""
    shown = result.passages[:limit] if limit else result.passages
    sink = _Visible(out)
    for p in shown:
        sink.write(_COMPACT(passage_record(p)))
        sink.write("\n")


# One encoder for every line (`json.dumps` with options builds a new one each call).
_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
