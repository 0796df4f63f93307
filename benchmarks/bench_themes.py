"""Themes: quality of seeds/themes.toml against the hand labels, speed and memory of the
matcher, and what the codebook matches in statements it was not written for.

Quality: precision and recall per theme and micro-averaged over the eight labelled themes, on
`tests/data/themes_gold.tsv` (every seed sentence, labelled by hand before the patterns were
tuned). Speed: reading + segmenting, then matching, for the seeds and the speeches corpus.
Report: for each theme, how many speech sentences hit, the patterns that fire most, and the
sentences with the most evidence, to judge over- and under-matching by eye.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from benchmarks.common import ROOT, SPEECHES, measure, table

GOLD = ROOT / "tests" / "data" / "themes_gold.tsv"
CODEBOOK = ROOT / "seeds" / "themes.toml"
LABELLED = (
    "whole-of-route", "upstream", "returns", "balkans",
    "intelligence", "deterrence", "funding", "cooperation",
)


def read_gold(path: Path = GOLD) -> dict[str, set[str]]:
    gold: dict[str, set[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        unit, themes = line.split("\t")
        gold[unit] = set() if themes == "-" else set(themes.split(","))
    return gold


def evaluate(predicted: dict[str, set[str]], gold: dict[str, set[str]]) -> list[list[object]]:
    """Rows of theme, gold count, tp, fp, fn, precision, recall; the last row micro-averaged."""
    rows: list[list[object]] = []
    total = [0, 0, 0, 0]
    for theme in LABELLED:
        tp = fp = fn = 0
        for unit, labels in gold.items():
            hit = theme in predicted.get(unit, set())
            tp += hit and theme in labels
            fp += hit and theme not in labels
            fn += (not hit) and theme in labels
        n = tp + fn
        rows.append([theme, n, tp, fp, fn, _ratio(tp, tp + fp), _ratio(tp, tp + fn)])
        for i, v in enumerate((n, tp, fp, fn)):
            total[i] += v
    n, tp, fp, fn = total
    rows.append(["micro", n, tp, fp, fn, _ratio(tp, tp + fp), _ratio(tp, tp + fn)])
    return rows


def _ratio(a: int, b: int) -> str:
    return f"{a / b:.3f}" if b else "n/a"


def _load_and_match(paths: list[Path]):  # type: ignore[no-untyped-def]
    from annotate.corpus import load_corpus
    from annotate.themes import load_codebook, match_corpus

    corpus = load_corpus(paths)
    for d in corpus.documents:
        _ = d.sentences
    codebook = load_codebook(CODEBOOK)
    return corpus, codebook, match_corpus(codebook, corpus)


def main() -> None:
    from annotate.corpus import load_corpus
    from annotate.text import stem
    from annotate.themes import compile_codebook, load_codebook, match_corpus

    codebook = load_codebook(CODEBOOK)
    seeds = load_corpus([ROOT / "seeds"])
    hits = match_corpus(codebook, seeds)
    predicted = {h.unit: set(h.themes) for doc_hits in hits.values() for h in doc_hits}
    gold = read_gold()
    print(f"Quality on {len(gold)} hand-labelled seed sentences ({GOLD.relative_to(ROOT)}):\n")
    print(table(["theme", "gold", "tp", "fp", "fn", "precision", "recall"],
                evaluate(predicted, gold)))

    inputs = [("seeds (5 files)", [ROOT / "seeds"])]
    if SPEECHES.is_dir():
        inputs.append(("speeches (363 files)", [SPEECHES]))
    else:
        print(f"\nskipped speeches: {SPEECHES} not found")
    rows: list[list[object]] = []
    speech_result = None
    for name, paths in inputs:
        # Untraced for time (cold caches), then traced for peak Python memory.
        compile_codebook.cache_clear()
        stem.cache_clear()
        (corpus, cb, result), secs, _ = measure(lambda p=paths: _load_and_match(p), trace=False)
        compile_codebook.cache_clear()
        stem.cache_clear()
        _, match_secs, _ = measure(lambda c=corpus, b=cb: match_corpus(b, c), trace=False)
        compile_codebook.cache_clear()
        stem.cache_clear()
        _, _, peak = measure(lambda p=paths: _load_and_match(p))
        chars = sum(len(d.text) for d in corpus.documents)
        sents = sum(len(d.sentences) for d in corpus.documents)
        n_hits = sum(len(v) for v in result.values())
        rows.append([name, f"{chars / 1e6:.2f} MB", sents, n_hits, f"{secs:.2f}",
                     f"{match_secs:.2f}", f"{peak:.0f}"])
        if name.startswith("speeches"):
            speech_result = (corpus, cb, result)
    print("\nSpeed (read + segment + match; match alone on segmented text; cold caches) and "
          "peak Python memory of the whole (tracemalloc):\n")
    print(table(["input", "size", "sentences", "units hit", "total s", "match s", "peak MB"],
                rows))
    if speech_result is not None:
        _report(*speech_result)


def _report(corpus, codebook, result) -> None:  # type: ignore[no-untyped-def]
    docs = {d.id: d for d in corpus.documents}
    sents = sum(len(d.sentences) for d in corpus.documents)
    print(f"\nWhat the codebook matches in the speeches ({sents} sentences):")
    for theme in codebook.themes:
        mine = [h for hs in result.values() for h in hs if theme.id in h.themes]
        patterns = Counter(e.pattern for h in mine for e in h.evidence if e.theme == theme.id)
        words = Counter(
            " ".join(e.text.casefold().split()) for h in mine for e in h.evidence
            if e.theme == theme.id
        )
        print(f"\n### {theme.id}: {len(mine)} sentences in "
              f"{len({h.doc for h in mine})} speeches")
        print("patterns: " + ", ".join(f"{p!r} {n}" for p, n in patterns.most_common(6)))
        print("words: " + ", ".join(f"{w!r} {n}" for w, n in words.most_common(8)))
        ranked = sorted(
            mine,
            key=lambda h: (-len({e.pattern for e in h.evidence if e.theme == theme.id}),
                           h.doc, h.start),
        )
        for h in ranked[:3]:
            text = " ".join(docs[h.doc].text[h.start : h.end].split())
            print(f"  - {h.unit}: {text[:160]}{'…' if len(text) > 160 else ''}")


if __name__ == "__main__":
    main()
