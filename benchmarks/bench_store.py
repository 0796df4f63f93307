"""Annotation store: 10,000 annotations added one transaction each, listed, and re-anchored
on a changed document; peak memory; and how well re-anchoring finds them again.

The document is ~1 MB of real speeches joined (the seeds when the speeches are absent). The
changed version has paragraphs inserted, paragraphs deleted and single words edited, so the
right answer for every annotation is known: untouched ones must land at their shifted offsets,
ones in deleted paragraphs must be orphaned (unless the same words occur elsewhere), ones with
an edited word must be found approximately near their shifted place.
"""

from __future__ import annotations

import os
import random
import tempfile
from pathlib import Path

from benchmarks.common import joined_text, measure, table

N = int(os.environ.get("BENCH_STORE_N", "10000"))
TARGET_CHARS = 1_000_000


def _edit(text: str, doc: object, rng: random.Random) -> tuple[str, list[tuple[int, int, str]]]:
    """Inserted, deleted and edited paragraphs: returns the new text and the edits as
    (old start, old end, kind) with kind insert/delete/word."""
    paragraphs = list(doc.paragraphs)  # type: ignore[attr-defined]
    chosen = rng.sample(range(1, len(paragraphs)), min(150, len(paragraphs) - 1))
    edits: list[tuple[int, int, str, str]] = []  # old start, old end, kind, replacement
    for k, i in enumerate(chosen):
        p = paragraphs[i]
        if k % 3 == 0:
            edits.append((p.start, p.start, "insert", "A new paragraph inserted here.\n\n"))
        elif k % 3 == 1:
            edits.append((p.start, p.end, "delete", "(paragraph withdrawn)"))
        else:
            words = list(doc.tokens)  # type: ignore[attr-defined]
            inside = [t for t in words if p.start <= t.start and t.end <= p.end]
            if not inside:
                continue
            t = rng.choice(inside)
            edits.append((t.start, t.end, "word", "CHANGED"))
    edits.sort()
    out: list[str] = []
    pos = 0
    kept: list[tuple[int, int, str]] = []
    for start, end, kind, repl in edits:
        if start < pos:
            continue  # overlapping edits: keep the first
        out.append(text[pos:start])
        out.append(repl)
        pos = end
        kept.append((start, end, kind))
    out.append(text[pos:])
    return "".join(out), kept


def _shift(old: int, edits: list[tuple[int, int, str]], text: str, new_text: str) -> int:
    """Where an untouched old offset lands in the new text."""
    delta = 0
    for start, end, kind in edits:
        if start > old or (start == old and kind != "insert"):
            break
        repl = {"insert": "A new paragraph inserted here.\n\n",
                "delete": "(paragraph withdrawn)", "word": "CHANGED"}[kind]
        delta += len(repl) - (end - start)
    return old + delta


def main() -> None:
    from annotate.corpus import Corpus
    from annotate.model import Document, Metadata
    from annotate.store import Store

    text, label = joined_text(TARGET_CHARS)
    doc = Document(path=Path("bench.txt"), text=text, meta=Metadata(id="bench"))
    tokens = doc.tokens
    rng = random.Random(5)
    spans = []
    for _ in range(N):
        i = rng.randrange(len(tokens) - 16)
        j = i + rng.randint(2, 14)
        spans.append((tokens[i].start, tokens[j].end))
    themes = ["returns", "funding", "cooperation", "protection"]
    rows: list[list[object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.sqlite"
        with Store.open(path) as store:

            def add_all() -> list[str]:
                return [store.add(doc, s, e, themes=rng.sample(themes, rng.randint(0, 2)),
                                  user="bench").id for s, e in spans]

            ids, secs, peak = measure(add_all, trace=False)
            rows.append([f"add {N:,} (one transaction each, synchronous=FULL)",
                         f"{len(text) / 1e6:.2f} MB doc", f"{secs:.2f} s", f"{peak:.0f} MB RSS",
                         f"{secs / N * 1e3:.2f} ms per add; {len(set(ids)):,} unique ids"])
            _, fast, _ = measure(store.list, trace=False)
            listed, secs, peak = measure(store.list)
            ordered = [a.start for a in listed] == sorted(a.start for a in listed)
            rows.append([f"list {len(listed):,}", "", f"{fast:.2f} s", f"{peak:.0f} MB",
                         f"ordered: {ordered}"])
            _, secs, _ = measure(lambda: store.list(theme="returns"), trace=False)
            _, _, peak = measure(lambda: store.list(theme="returns"))
            rows.append(["list --theme returns", "", f"{secs:.2f} s", f"{peak:.0f} MB", ""])
            _, secs, _ = measure(lambda: [store.undo("bench") for _ in range(100)], trace=False)
            rows.append(["undo x100", "", f"{secs:.2f} s", "",
                         f"{secs * 10:.1f} ms per undo"])
            store.close()
            store2 = Store.open(path)
            for _ in range(100):
                store2.redo("bench")
            new_text, edits = _edit(text, doc, rng)
            changed = Document(path=Path("bench.txt"), text=new_text,
                               meta=Metadata(id="bench"))
            before = {a.id: a for a in store2.list()}
            # Untraced: tracemalloc slows the pure-Python fuzzy matching tenfold.
            report, secs, peak = measure(
                lambda: store2.reanchor(Corpus(documents=(changed,))), trace=False)
            after = {a.id: a for a in store2.list()}
            right = untouched = in_deleted = orphaned_deleted = in_word = found_word = 0
            partly = partly_found = 0
            for ann_id, a in before.items():
                hit = [(s, e, k) for s, e, k in edits
                       if s < a.end and a.start < e or (k == "insert" and a.start < s < a.end)]
                kinds = {k for _, _, k in hit}
                b = after[ann_id]
                if not hit:
                    untouched += 1
                    right += (b.start == _shift(a.start, edits, text, new_text)
                              and not b.orphaned)
                elif any(k == "delete" and s <= a.start and a.end <= e for s, e, k in hit):
                    in_deleted += 1
                    orphaned_deleted += b.orphaned
                elif "delete" in kinds:
                    partly += 1
                    partly_found += not b.orphaned
                elif "word" in kinds:
                    in_word += 1
                    near = _shift(a.start, edits, text, new_text)
                    found_word += not b.orphaned and abs(b.start - near) <= 20
            rows.append([
                f"reanchor {len(before):,} on the changed doc", f"{len(edits)} edits",
                f"{secs:.2f} s", f"{peak:.0f} MB RSS",
                f"untouched at the right place {right}/{untouched}; "
                f"inside deleted paragraphs orphaned {orphaned_deleted}/{in_deleted}",
            ])
            rows.append(["", "", "", "",
                         f"word edited inside, found nearby {found_word}/{in_word}; "
                         f"partly deleted, rest found {partly_found}/{partly}"])
            rows.append(["", "", "", "",
                         f"moved {len(report.moved):,}, orphaned {len(report.orphaned):,}"])
            store2.close()
            size = sum(f.stat().st_size for f in Path(tmp).iterdir())
            rows.append(["store on disk (db + WAL)", f"{size / 1e6:.1f} MB", "", "", ""])
    print(table(["operation", "input", "time", "peak memory", "quality"], rows))


if __name__ == "__main__":
    main()
