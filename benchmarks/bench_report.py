"""`annotate report` on the seeds and on the first N newspaper pages of chronam-1916-01.

Each case is `annotate report` in a fresh process (the CLI, as a user runs it), with the seeds'
codebook. Timed wall-clock, with the peak resident memory (RSS) of that process; size is the
folder written, the number of pages, the overview's size and the largest page (pages must stay
small enough to open fast). Yardstick: `annotate export` (TEI, the same data gathered: corpus,
theme hits, shared passages) on the same input, so the cost of the report itself is the
difference. Set BENCH_REPORT_SIZES (e.g. "200,2000") to choose the chronam sizes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import CHRONAM, ROOT, table

SIZES = [int(n) for n in os.environ.get("BENCH_REPORT_SIZES", "200,2000").split(",") if n]
ANNOTATE = [sys.executable, "-m", "annotate"]


def run(args: list[str]) -> tuple[float, float]:
    """(seconds, peak resident MB) of `annotate ARGS` in a fresh process."""
    with tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        child = subprocess.Popen([*ANNOTATE, *args], stdout=subprocess.DEVNULL, stderr=err,
                                 cwd=ROOT)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - t0
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            err.seek(0)
            raise SystemExit(f"annotate {' '.join(args)} failed: {err.read().decode()}")
    return seconds, usage.ru_maxrss / 1024


def folder_stats(folder: Path) -> tuple[int, float, float, float]:
    pages = list(folder.rglob("*.html"))
    total = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
    largest = max(f.stat().st_size for f in pages)
    return len(pages), total / 1e6, (folder / "index.html").stat().st_size / 1e3, largest / 1e3


def main() -> None:
    codebook = str(ROOT / "seeds" / "themes.toml")
    cases: list[tuple[str, Path]] = [("seeds (5)", ROOT / "seeds")]
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        if CHRONAM.is_dir():
            files = sorted(CHRONAM.glob("*.txt"))
            for n in SIZES:
                folder = base / f"chronam-{n}"
                folder.mkdir()
                for f in files[:n]:
                    (folder / f.name).symlink_to(f)
                cases.append((f"chronam-1916-01 first {n}", folder))
        else:
            print(f"chronam not found at {CHRONAM}: the seeds only")
        rows: list[list[object]] = []
        for name, corpus in cases:
            out = base / f"report-{corpus.name}"
            secs, peak = run(["report", str(corpus), "--out", str(out), "--codebook", codebook])
            pages, mb, index_kb, largest_kb = folder_stats(out)
            tei = base / f"{corpus.name}.xml"
            tei_secs, tei_peak = run(["export", str(corpus), "--out", str(tei), "--codebook",
                                      codebook])
            rows.append([name, f"{secs:.1f}", f"{peak:.0f}", pages, f"{mb:.1f}",
                         f"{index_kb:.0f}", f"{largest_kb:.0f}", f"{tei_secs:.1f}",
                         f"{tei.stat().st_size / 1e6:.1f}"])
            print(f"done: {name}", flush=True)
    print(table(["corpus", "report s", "peak MB", "pages", "folder MB", "index kB",
                 "largest page kB", "TEI export s (yardstick)", "TEI MB"], rows))


if __name__ == "__main__":
    main()
