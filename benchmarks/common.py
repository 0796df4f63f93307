"""Small helpers shared by the benchmarks: timing with peak memory, and the corpora paths."""

from __future__ import annotations

import resource
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

ROOT = Path(__file__).resolve().parent.parent
CORPORA = ROOT.parent / "shared" / "corpora"
SPEECHES = CORPORA / "speeches"
CHRONAM = CORPORA / "chronam-1916-01"


def joined_text(target_chars: int = 1_000_000) -> tuple[str, str]:
    """About `target_chars` of real text in one document, and where it came from: whole
    speeches joined by blank lines, else (no shared corpora) the seeds repeated."""
    if SPEECHES.is_dir():
        parts: list[str] = []
        size = 0
        for f in sorted(SPEECHES.glob("*.txt")):
            t = f.read_text(encoding="utf-8", errors="replace").strip()
            parts.append(t)
            size += len(t) + 2
            if size >= target_chars:
                break
        return "\n\n".join(parts) + "\n", f"speeches joined ({len(parts)} files)"
    print(f"speeches not found at {SPEECHES}: using the seeds, repeated, instead")
    seeds = "\n\n".join(
        p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds").glob("*.txt"))
    )
    return "\n\n".join([seeds] * (target_chars // len(seeds) + 1)), "seeds repeated"


def measure(fn: Callable[[], T], *, trace: bool = True) -> tuple[T, float, float]:
    """(result, seconds, peak MB). With `trace`, peak is Python allocations (tracemalloc,
    which slows the run); without it, the process's max resident set so far."""
    if trace:
        tracemalloc.start()
    t0 = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - t0
    if trace:
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result, seconds, peak


def table(headers: list[str], rows: list[list[object]]) -> str:
    """A plain Markdown table, so the output can be pasted into notes as is."""
    cells = [headers] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |"
             for r in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)
