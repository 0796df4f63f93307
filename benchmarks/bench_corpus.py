"""Corpus layer: reading and segmenting real text, and the CLI's start-up time.

Peak memory is the process's maximum resident set so far (tracemalloc would slow the run
several times over), so each row includes the rows before it.

Prints input size, time, peak memory and a quality figure (sentences whose text equals the
slice at their offsets, which must be all of them).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

from benchmarks.common import CHRONAM, ROOT, SPEECHES, measure, table


def _segment(paths: list) -> tuple[int, int, int, int]:  # type: ignore[type-arg]
    from annotate.corpus import load_corpus

    corpus = load_corpus(paths)
    chars = sents = exact = toks = 0
    for d in corpus.documents:
        chars += len(d.text)
        for s in d.sentences:
            sents += 1
            exact += d.text[s.start : s.end] == s.text
        toks += len(d.tokens)
    return chars, sents, exact, toks


def main() -> None:
    rows = []
    inputs = [("seeds", [ROOT / "seeds"])]
    if SPEECHES.is_dir():
        inputs.append(("speeches (363 files)", [SPEECHES]))
    else:
        print(f"skipped speeches: {SPEECHES} not found")
    if CHRONAM.is_dir():
        inputs.append(("chronam first 500 pages", sorted(CHRONAM.glob("*.txt"))[:500]))
    else:
        print(f"skipped chronam: {CHRONAM} not found")
    for name, paths in inputs:
        (chars, sents, exact, toks), secs, peak = measure(
            lambda p=paths: _segment(p), trace=False
        )
        rows.append([name, f"{chars / 1e6:.2f} MB", f"{secs:.2f} s", f"{peak:.0f} MB",
                     f"{sents:,} sentences, {toks:,} tokens, {exact / max(sents, 1):.0%} exact"])
    print(table(["input", "size", "time", "peak RSS", "quality"], rows))

    runs = []
    for _ in range(7):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "annotate", "--help"], check=True,
                       capture_output=True)
        runs.append(time.perf_counter() - t0)
    print(f"\n`annotate --help` start-up: median {statistics.median(runs) * 1000:.0f} ms, "
          f"min {min(runs) * 1000:.0f} ms over {len(runs)} runs")


if __name__ == "__main__":
    main()
