"""TEI export and import at scale: 1,000 documents cut from real speeches, 100,000 annotations.

Timed, each with the process's peak resident memory so far (tracemalloc would slow the
run several times over):
- export: the store's annotations and history read, the teiCorpus built, written atomically;
- read: the export parsed back (safe parser) into annotations and history;
- import: those annotations added to an empty store (`import_into`, one transaction for the
  whole import through `Store.import_annotations`).
Quality: the import gives back exactly the annotations that were exported.
"""

from __future__ import annotations

import os
import random
import re
import tempfile
from pathlib import Path

from annotate.corpus import Corpus
from annotate.exchange.data import ExportData
from annotate.exchange.formats import read_export
from annotate.exchange.importing import import_into
from annotate.exchange.tei_export import tei_bytes
from annotate.files import write_atomic
from annotate.model import Annotation, Change, Document, Metadata
from annotate.store import Store
from benchmarks.common import ROOT, SPEECHES, measure, table

DOCS = int(os.environ.get("BENCH_TEI_DOCS", "1000"))
ANNOTATIONS = int(os.environ.get("BENCH_TEI_N", "100000"))
THEMES = ("returns", "upstream", "whole-of-route", "funding", "partnership")
USERS = ("alice", "bob", "carol")
STAMP = "2026-01-01T00:00:00.000Z"


def documents() -> tuple[Corpus, str]:
    """`DOCS` documents cut at blank lines from the speeches joined (the seeds if absent)."""
    if SPEECHES.is_dir():
        files = sorted(SPEECHES.glob("*.txt"))
        source = f"{len(files)} speeches"
    else:
        print(f"speeches not found at {SPEECHES}: cutting the seeds instead")
        files = sorted((ROOT / "seeds").glob("*.txt"))
        source = "seeds"
    text = "\n\n".join(f.read_text(encoding="utf-8", errors="replace").strip() for f in files)
    blocks = [b for b in re.split(r"\n\s*\n", text) if b.strip()]
    per = max(1, len(blocks) // DOCS)
    docs = []
    for i in range(DOCS):
        chunk = blocks[(i * per) % len(blocks):(i * per) % len(blocks) + per]
        body = "\n\n".join(chunk) + "\n"
        docs.append(Document(Path(f"bench/{i:04d}.txt"), body,
                             Metadata(id=f"{i:04d}", title=f"Part {i} of the speeches")))
    return Corpus(tuple(docs), name="benchmark"), source


def annotations(corpus: Corpus, n: int) -> tuple[list[Annotation], list[Change]]:
    rng = random.Random(6)
    anns: list[Annotation] = []
    history: list[Change] = []
    docs = corpus.documents
    for i in range(n):
        d = docs[i % len(docs)]
        s = rng.choice(d.sentences)
        start = rng.randrange(s.start, s.end)
        end = min(len(d.text), start + rng.randrange(1, 300))
        a = Annotation(
            id=f"b{i:06d}", doc=d.id, start=start, end=end, quote=d.text[start:end],
            prefix=d.text[max(0, start - 32):start], suffix=d.text[end:end + 32],
            themes=tuple(rng.sample(THEMES, rng.randrange(0, 3))),
            note="checked" if i % 7 == 0 else "", user=USERS[i % 3],
            status=("accepted", "suggested", "rejected")[i % 3], created=STAMP, modified=STAMP,
        )
        anns.append(a)
        history.append(Change(i + 1, a.id, a.user, STAMP, "add", '{"bench": true}'))
    return anns, history


def main() -> None:
    corpus, source = documents()
    chars = sum(len(d.text) for d in corpus.documents)
    anns, history = annotations(corpus, ANNOTATIONS)
    rows: list[list[object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "bench.xml"
        data = ExportData(corpus, tuple(anns), tuple(history))

        def export() -> int:
            raw = tei_bytes(data)
            write_atomic(out, raw, force=True)
            return len(raw)

        size, secs, peak = measure(export, trace=False)
        rows.append([f"export {DOCS} docs, {ANNOTATIONS:,} annotations", f"{secs:.2f}",
                     f"{peak:.0f}", f"{size / 2**20:.1f} MB of TEI"])
        imported, secs, peak = measure(lambda: read_export(out), trace=False)
        same = list(imported.annotations) == anns and list(imported.history) == history
        rows.append([f"read back {ANNOTATIONS:,} annotations", f"{secs:.2f}", f"{peak:.0f}",
                     f"lossless: {same}"])
        with Store.open(Path(tmp) / "store.sqlite") as st:
            report, secs, peak = measure(lambda: import_into(st, imported, corpus),
                                         trace=False)
            back = st.list()
        ok = back == sorted(anns, key=lambda a: (a.doc, a.start, a.end, a.id))
        rows.append([f"import {ANNOTATIONS:,} into an empty store", f"{secs:.2f}",
                     f"{peak:.0f}", f"{len(report.added):,} added, identical: {ok}"])
    print(f"{DOCS} documents ({chars / 2**20:.1f} M characters) cut from {source}")
    print(table(["step", "seconds", "peak RSS MB", "result"], rows))


if __name__ == "__main__":
    main()
