"""W3C Web Annotation JSON-LD: an `AnnotationCollection` out, and annotations in (ours, with
offsets, or another tool's, placed by their quote)."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from typing import Any

from annotate import __version__
from annotate.errors import InputError
from annotate.exchange.data import ANNO_URN, DOC_URN, ExportData, Imported, ImportedDoc
from annotate.exchange.pointers import now, sha256
from annotate.model import Annotation, Change, Document

WEBANNO_CONTEXT = "http://www.w3.org/ns/anno.jsonld"
COLLECTION_ID = "urn:annotate:export"
PAGE_ID = COLLECTION_ID + ":page:1"
# Every key of ours, defined so that JSON-LD expansion keeps it: `annotate:`-prefixed keys
# expand through the prefix; the plain keys inside documents and history entries are defined
# here (a key no context defines would be silently dropped by a JSON-LD processor).
CONTEXT_TERMS: dict[str, Any] = {
    "annotate": "urn:annotate:vocab#",
    "title": "dcterms:title",
    "annotation": "annotate:annotation",
    "user": "annotate:user",
    "when": "annotate:when",
    "action": "annotate:action",
    "detail": "annotate:detail",
    "annotate:documents": {"@id": "annotate:documents", "@container": "@set"},
    "annotate:history": {"@id": "annotate:history", "@container": "@list"},
}
MEDIA_TYPES = {"text": "text/plain", "markdown": "text/markdown", "html": "text/html",
               "tei": "application/tei+xml"}


def _source(d: Document) -> dict[str, Any]:
    """The annotated document as a Web Annotation source: its file as a `file:` URI, which a
    client can open, with the stable `urn:annotate:document:ID` (the same on every machine)
    as its `canonical` IRI."""
    return {"id": d.path.resolve().as_uri(), "type": "Text",
            "format": MEDIA_TYPES.get(d.format, "text/plain"), "canonical": DOC_URN + d.id}


def _webanno_item(a: Annotation, d: Document, theme_labels: Mapping[str, str]
                  ) -> dict[str, Any]:
    bodies: list[dict[str, Any]] = [
        {"type": "TextualBody", "purpose": "classifying", "value": th,
         **({"label": theme_labels[th]} if th in theme_labels else {})}
        for th in a.themes
    ]
    if a.note:
        bodies.append({"type": "TextualBody", "purpose": "commenting", "value": a.note,
                       "format": "text/plain"})
    motivation = "commenting" if a.note and not a.themes else "classifying"
    if not a.note and not a.themes:
        motivation = "highlighting"
    item: dict[str, Any] = {
        "id": ANNO_URN + a.id,
        "type": "Annotation",
        "motivation": motivation,
        "creator": {"type": "Person", "name": a.user} if a.user else None,
        "created": a.created or None,
        "modified": a.modified or None,
        "body": bodies or None,
        "target": {
            "source": _source(d),
            "selector": [
                {"type": "TextQuoteSelector", "exact": a.quote, "prefix": a.prefix,
                 "suffix": a.suffix},
                {"type": "TextPositionSelector", "start": a.start, "end": a.end},
            ],
        },
        "annotate:status": a.status,
        "annotate:orphaned": a.orphaned or None,
    }
    return {k: v for k, v in item.items() if v is not None}


def webanno_json(data: ExportData) -> dict[str, Any]:
    """An `AnnotationCollection` with one page holding every annotation; the documents'
    checksums and the history ride along under the `annotate:` prefix."""
    labels = {th.id: th.label for th in data.codebook.themes} if data.codebook else {}
    docs = {d.id: d for d in data.documents}
    items = [_webanno_item(a, docs[a.doc], labels) for a in data.annotations if a.doc in docs]
    return {
        "@context": [WEBANNO_CONTEXT, CONTEXT_TERMS],
        "id": COLLECTION_ID,
        "type": "AnnotationCollection",
        "label": data.title or data.corpus.name or "Annotated corpus",
        "generator": {"type": "Software", "name": "annotate", "annotate:version": __version__},
        "generated": data.when or now(),
        "total": len(items),
        "annotate:documents": [
            {"id": DOC_URN + d.id, "annotate:doc": d.id,
             **({"title": d.meta.title} if d.meta.title else {}),
             "annotate:sha256": sha256(d.text), "annotate:file": d.path.name}
            for d in data.documents
        ],
        "annotate:history": [
            {"annotation": c.annotation, "user": c.user, "when": c.when, "action": c.action,
             "detail": c.detail}
            for c in data.history
        ],
        "first": {"id": PAGE_ID, "type": "AnnotationPage", "partOf": COLLECTION_ID,
                  "startIndex": 0, "items": items},
    }


def _strip(value: str, prefix: str) -> str:
    return value[len(prefix):] if value.startswith(prefix) else value


class _BadNumber(ValueError):
    pass


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _BadNumber(f"the number {text[:20]} is out of range")
    return value


def _small_int(text: str) -> int:
    # Python refuses to convert integers of more than 4,300 digits; no offset needs 20.
    if len(text.lstrip("-")) > 20:
        raise _BadNumber(f"the number {text[:20]}… has {len(text)} digits")
    return int(text)


def _no_constant(text: str) -> Any:
    raise _BadNumber(f"{text} is not a number JSON allows")


def read_webanno(data: bytes, name: str) -> Imported:
    try:
        obj = json.loads(data.decode("utf-8-sig"), parse_float=_finite, parse_int=_small_int,
                         parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise InputError(f"{name}: not valid UTF-8") from None
    except json.JSONDecodeError as e:
        raise InputError(f"{name}:{e.lineno}:{e.colno}: malformed JSON: {e.msg}") from None
    except _BadNumber as e:
        raise InputError(f"{name}: {e}") from None
    except RecursionError:
        raise InputError(f"{name}: JSON nested too deeply (unsafe input)") from None
    docs_in: list[Any] = []
    hist_in: list[Any] = []
    if isinstance(obj, list):
        items = obj
    elif isinstance(obj, dict) and obj.get("type") == "Annotation":
        items = [obj]
    elif isinstance(obj, dict):
        page = obj.get("first") or {}
        items = page.get("items", []) if isinstance(page, dict) else []
        if not items and isinstance(obj.get("items"), list):
            items = obj["items"]
        docs_in = obj.get("annotate:documents", [])
        hist_in = obj.get("annotate:history", [])
    else:
        items = None
    if not isinstance(items, list):
        raise InputError(f"{name}: not Web Annotation JSON-LD (an annotation or a collection)")
    docs_in = docs_in if isinstance(docs_in, list) else []
    hist_in = hist_in if isinstance(hist_in, list) else []
    docs: dict[str, ImportedDoc] = {}
    for d in docs_in:
        if isinstance(d, dict) and isinstance(d.get("annotate:doc"), str):
            digest = d.get("annotate:sha256")
            docs[d["annotate:doc"]] = ImportedDoc(d["annotate:doc"],
                                                  digest if isinstance(digest, str) else None)
    anns = []
    problems: list[str] = []
    unplaced: set[str] = set()
    for i, it in enumerate(items, 1):
        # Another tool's file may hold shapes this one does not know: each such annotation
        # is reported and skipped, the rest still imported.
        try:
            ann, placed = _webanno_annotation(it)
        except (AttributeError, IndexError, KeyError, TypeError, ValueError, OverflowError) as e:
            problems.append(f"{name}: annotation {i}: not understood ({e})")
            continue
        anns.append(ann)
        if not placed:
            unplaced.add(ann.id)
    history = [
        Change(id=i, annotation=str(h["annotation"]), user=str(h.get("user", "")),
               when=str(h.get("when", "")), action=str(h.get("action", "")),
               detail=str(h.get("detail", "")))
        for i, h in enumerate(hist_in, 1) if isinstance(h, dict) and "annotation" in h
    ]
    return Imported(docs, tuple(anns), tuple(history), "webanno", tuple(problems),
                    frozenset(unplaced))


def _webanno_annotation(it: dict[str, Any]) -> tuple[Annotation, bool]:
    """The annotation, and whether it has offsets (a TextPositionSelector)."""
    target = it["target"]
    if isinstance(target, list):
        target = target[0]
    source = target["source"] if isinstance(target, dict) else str(target)
    if isinstance(source, dict):
        # Ours: the file's URI with the stable document URN as its canonical IRI.
        canonical = source.get("canonical")
        if isinstance(canonical, str) and canonical.startswith(DOC_URN):
            source = canonical
        else:
            source = source.get("id", "")
    selectors = target.get("selector", []) if isinstance(target, dict) else []
    if isinstance(selectors, dict):
        selectors = [selectors]
    quote: dict[str, Any] = next((s for s in selectors if s.get("type") == "TextQuoteSelector"),
                                 {})
    pos = next((s for s in selectors if s.get("type") == "TextPositionSelector"), None)
    if pos is None and not quote.get("exact"):
        raise ValueError("neither a TextPositionSelector nor a TextQuoteSelector")
    bodies = it.get("body", [])
    if isinstance(bodies, dict):
        bodies = [bodies]
    themes = tuple(str(b["value"]) for b in bodies
                   if isinstance(b, dict) and b.get("purpose") in ("classifying", "tagging"))
    note = "\n".join(str(b["value"]) for b in bodies
                     if isinstance(b, dict) and b.get("purpose") == "commenting")
    creator = it.get("creator", {})
    user = creator.get("name", "") if isinstance(creator, dict) else str(creator or "")
    ann_id = str(it["id"])
    if not ann_id.startswith(ANNO_URN):
        # Another tool's IRI: a stable short id, so a second import finds the same one.
        ann_id = "w" + hashlib.sha256(ann_id.encode()).hexdigest()[:11]
    return Annotation(
        id=_strip(ann_id, ANNO_URN), doc=_strip(str(source), DOC_URN),
        start=int(pos["start"]) if pos else 0, end=int(pos["end"]) if pos else 0,
        quote=str(quote.get("exact", "")),
        prefix=str(quote.get("prefix", "")), suffix=str(quote.get("suffix", "")),
        themes=themes, note=note, user=user,
        status=str(it.get("annotate:status", "accepted")),
        created=str(it.get("created", "")), modified=str(it.get("modified", "")),
        orphaned=bool(it.get("annotate:orphaned", False)),
    ), pos is not None
