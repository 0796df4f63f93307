"""Themes: quality of seeds/themes.toml against the hand labels, speed and memory of the
matcher, and what the codebook matches in statements it was not written for.

Quality: precision and recall per theme and micro-averaged over the eight labelled themes, on
`tests/data/themes_gold.tsv` (every seed sentence, labelled by hand before the patterns were
tuned). Speed: reading + segmenting, then matching, for the seeds and the speeches corpus.
Report: for each theme, how many speech sentences hit, the patterns that fire most, and the
sentences with the most evidence, to judge over- and under-matching by eye.
Adversarial: patterns built to be slow (many `~20` gaps, a 3,000-word phrase, a codebook of
them over text where every pattern could start everywhere), each case in a fresh process,
against the yardstick of the backtracking matcher the bit-set matcher replaced (same answers,
exponential time). Run alone with `python -m benchmarks themes --adversarial`.
"""

from __future__ import annotations

import os
import resource
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks.common import ROOT, SPEECHES, joined_text, measure, table

if TYPE_CHECKING:
    from annotate.themes import _Compiled

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
    if "--adversarial" not in sys.argv:
        quality_and_speed()
    adversarial()


def quality_and_speed() -> None:
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


# --- adversarial patterns ------------------------------------------------------------------


def backtracking_find(
    p: _Compiled, at: list[frozenset[int]], first_only: bool = False
) -> list[tuple[int, int]]:
    """The matcher as it was, the yardstick: leftmost non-overlapping matches, each completed
    by a depth-first search trying the nearest next word first. Right, but exponential in the
    number of gaps, and recursive (one level per pattern word). The tests check the bit-set
    matcher against it."""

    def extend(k: int, prev: int) -> int | None:
        if k == len(p.slots):
            return prev
        for q in range(prev + 1, min(prev + 2 + p.gaps[k - 1], len(at))):
            if not p.slots[k].isdisjoint(at[q]):
                last = extend(k + 1, q)
                if last is not None:
                    return last
        return None

    out: list[tuple[int, int]] = []
    i = 0
    while i < len(at):
        if not p.slots[0].isdisjoint(at[i]):
            last = extend(1, i)
            if last is not None:
                out.append((i, last))
                if first_only:
                    return out
                i = last + 1
                continue
        i += 1
    return out


def _self_pss_mb() -> float:
    try:
        with open("/proc/self/smaps_rollup") as f:
            return sum(int(ln.split()[1]) for ln in f if ln.startswith("Pss:")) / 1024
    except OSError:
        return 0.0


def _gaps(n: int, word: str = "alpha", last: str = "omega") -> str:
    return " ~20 ".join([word] * (n - 1) + [last])


def _case(kind: str, arg: int, text_words: int) -> dict[str, Any]:
    """One case, in a fresh process: (seconds, peak RSS and PSS, hits)."""
    from annotate.model import Codebook, Document, Metadata, Theme
    from annotate.text import TOKEN
    from annotate.themes import Matcher, match_document

    sys.setrecursionlimit(10_000)  # let the yardstick recurse as far as a phrase needs
    peak = [_self_pss_mb()]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.05):
            peak[0] = max(peak[0], _self_pss_mb())

    threading.Thread(target=sample, daemon=True).start()
    unit = "sentence"
    if kind in ("gaps", "gaps-yardstick"):
        # Sentences of 300 words, all "alpha" but the last: every alpha can start the
        # pattern, and no complete match ends before the last word.
        patterns = (_gaps(arg),)
        sentence = " ".join(["alpha"] * 299 + ["omega"]) + ". "
        text = sentence * max(1, text_words // 300) + "\n"
    elif kind == "phrase":
        words = [f"w{i}" for i in range(arg)]
        patterns = ('"' + " ".join(words) + '"',)
        body = (words * (text_words // arg + 1))[:text_words]
        text = " ".join(body) + ".\n"
        unit = "paragraph"
    elif kind == "long-unit":
        # Real text as one paragraph of `text_words` words (no blank lines), the seeds'
        # codebook matched per paragraph: bit sets this long must not go quadratic.
        from annotate.themes import load_codebook

        real, _ = joined_text(text_words * 8)
        text = " ".join(real.split()[:text_words]) + "\n"
        themes = load_codebook(CODEBOOK).themes
        unit = "paragraph"
        patterns = ()
    else:  # "codebook": the seeds' themes plus `arg` slow patterns over real text
        from annotate.themes import load_codebook

        seeds = load_codebook(CODEBOOK)
        common = ["the", "of", "and", "to", "in", "a", "that", "is"]
        slow = tuple(" ~20 ".join(common[(i + j) % 8] for j in range(7)) for i in range(arg))
        real, _ = joined_text(text_words * 8)
        text = " ".join(real.split()[:text_words]) + "\n"
        themes = (*seeds.themes, Theme("slow", "Slow", patterns=slow))
        patterns = ()
    if kind not in ("codebook", "long-unit"):
        themes = (Theme("x", "X", patterns=patterns),)
    cb = Codebook("bench", themes, unit=unit)
    doc = Document(Path("bench.txt"), text, Metadata(id="bench"))
    words = len(TOKEN.findall(text))
    if kind == "gaps-yardstick":
        m = Matcher(cb)
        _ = doc.sentences
        compiled = m.rules[0].patterns[0]
        t0 = time.perf_counter()
        hits = 0
        for s in doc.sentences:
            at = [m.word_terms(w) for w in TOKEN.findall(text, s.start, s.end)]
            hits += len(backtracking_find(compiled, at))
    else:
        _ = doc.sentences, doc.paragraphs
        t0 = time.perf_counter()
        hits = sum(len(h.evidence) for h in match_document(cb, doc))
    seconds = time.perf_counter() - t0
    done.set()
    return {"words": words, "seconds": seconds, "hits": hits,
            "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "pss": peak[0]}


def _in_child(fn: Callable[..., dict[str, Any]], *args: Any,
              budget: float | None = None) -> dict[str, Any] | None:
    """`fn(*args)` in a fresh process; None when it takes longer than `budget` seconds."""
    pool = ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn"))
    try:
        return pool.submit(fn, *args).result(timeout=budget)
    except FutureTimeout:
        for proc in list(getattr(pool, "_processes", {}).values()):
            proc.kill()  # the yardstick would run for minutes more
        return None
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


YARDSTICK_BUDGET = 20.0


def adversarial() -> None:
    cases: list[tuple[str, str, int, int]] = [
        (f"{n} slots ~20, 300-word sentences", kind, n, words)
        for n in (4, 5, 6, 7)
        for kind, words in (("gaps", 9900), ("gaps-yardstick", 300), ("gaps-yardstick", 9900))
    ]
    cases += [
        ("3,000-word phrase, 10,000 words", "phrase", 3000, 10_000),
        ("seeds + 100 slow patterns, 10,000 words", "codebook", 100, 10_000),
        ("seeds + 1,000 slow patterns, 10,000 words", "codebook", 1000, 10_000),
        ("seeds, one 100,000-word paragraph", "long-unit", 0, 100_000),
        ("seeds, one 400,000-word paragraph", "long-unit", 0, 400_000),
    ]
    rows = []
    for name, kind, arg, words in cases:
        budget = YARDSTICK_BUDGET if kind.endswith("yardstick") else None
        r = _in_child(_case, kind, arg, words, budget=budget)
        matcher = "backtracking (yardstick)" if kind.endswith("yardstick") else "bit sets"
        if r is None:
            rows.append([name, matcher, words, f"> {budget:.0f} (stopped)", "-", "-", "-", "-"])
        else:
            per = r["seconds"] / max(r["words"], 1) * 10_000
            rows.append([name, matcher, r["words"], f"{r['seconds']:.3f}", f"{per:.3f}",
                         f"{r['rss']:.0f}", f"{r['pss']:.0f}" if r["pss"] else "-", r["hits"]])
        print(f"  done: {name} ({matcher})", file=sys.stderr, flush=True)
    print("\nAdversarial patterns, each case in a fresh process (match time only, text already "
          "segmented; in the 300-word sentences no match ends before the last word):\n")
    print(table(["case", "matcher", "words", "seconds", "s per 10k words", "peak RSS MB",
                 "peak PSS MB", "matches"], rows))
    print(f"\n(machine: {os.cpu_count()} cores, shared; the yardstick is stopped after "
          f"{YARDSTICK_BUDGET:.0f} s)")


if __name__ == "__main__":
    main()
