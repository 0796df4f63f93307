"""The yardstick for phrase reuse: a naive exact 6-gram index, as one would write it in an
afternoon. Every 6-word sequence (same tokens and case folding as annotate) goes into a dict;
sequences found in two documents (and, like annotate, in at most `df_limit` documents) pair
those documents; shared 6-grams on one diagonal merge into a passage. No edits tolerated.

Run alone on files or folders (`python -m benchmarks.yardstick PATH…`), it reads them,
finds passages and prints their count, so the benchmark can time it as a fresh process.
"""

from __future__ import annotations

import math
import sys
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

N = 6
Detection = tuple[int, int, int, int, int, int]  # doc a, a start, a end, doc b, b start, b end


def ngram_passages(docs: Sequence[str], n: int = N, max_df: float = 0.05) -> list[Detection]:
    """Passages (character spans) shared by two of `docs`, from exact shared n-grams."""
    from annotate.text import TOKEN

    limit = max(10, math.ceil(max_df * len(docs)))
    index: dict[int, list[tuple[int, int]]] = defaultdict(list)
    spans: list[list[tuple[int, int]]] = []
    for d, text in enumerate(docs):
        found = list(TOKEN.finditer(text))
        words = [m.group().casefold() for m in found]
        spans.append([m.span() for m in found])
        for i in range(len(words) - n + 1):
            index[hash(tuple(words[i : i + n]))].append((d, i))
    shared: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
    for places in index.values():
        if len(places) < 2 or len({d for d, _ in places}) > limit:
            continue
        for k, (da, pa) in enumerate(places):
            for db, pb in places[k + 1 :]:
                if da != db:
                    shared[(da, db)].append((pa, pb))
    out: list[Detection] = []
    for (da, db), hits in shared.items():
        hits.sort(key=lambda h: (h[1] - h[0], h[0]))
        start = prev = hits[0]
        for h in [*hits[1:], None]:
            if h is not None and h[1] - h[0] == prev[1] - prev[0] and h[0] <= prev[0] + 1:
                prev = h
                continue
            a0, a1 = spans[da][start[0]][0], spans[da][prev[0] + n - 1][1]
            b0, b1 = spans[db][start[1]][0], spans[db][prev[1] + n - 1][1]
            out.append((da, a0, a1, db, b0, b1))
            if h is not None:
                start = prev = h
    return out


def main() -> None:
    files: list[Path] = []
    for arg in sys.argv[1:]:
        p = Path(arg)
        files.extend(sorted(p.glob("*.txt")) if p.is_dir() else [p])
    docs = [f.read_text(encoding="utf-8", errors="replace") for f in files]
    print(len(ngram_passages(docs)))


if __name__ == "__main__":
    main()
