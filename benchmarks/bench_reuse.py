"""Phrase reuse: quality on planted passages (PAN's precision, recall, granularity and
plagdet, before and after the chance rule, with the yardstick), then speed and memory of
`annotate reuse --json` on newspaper pages against the yardstick in the same run.

The yardstick is a naive exact 6-gram index (benchmarks/yardstick.py). Every speed case is
a fresh process (the real `annotate` command, output to /dev/null); its peak memory is the
peak PSS of its whole process tree, sampled from /proc/<pid>/smaps_rollup by this process.

Run: `.venv/bin/python -m benchmarks.bench_reuse [--quick] [--big] [--export] [--cases N]
[--repeat N] [--no-quality]`
  --quick       quality and the chronam sizes up to 500 pages only
  --big         also all of chronam-1916-01 + chronam-1916-02-04 (210 MB, minutes; no
                yardstick there: its index would not fit) and one 200 MB text file
  --export      with --big, also `annotate export` of the 200 MB text
  --no-quality  speed only
  --repeat N    run each case compared with the yardstick N times, interleaved with it, and
                report the median (the machine's speed drifts between minutes)
"""

from __future__ import annotations

import contextlib
import math
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from benchmarks.common import (
    CHRONAM,
    CHRONAM_MORE,
    SPEECHES,
    Run,
    memory_cap,
    run_measured,
    table,
)
from benchmarks.planted import LEVELS, SEED, Detection, Scores, build_cases, corpus_of, score
from benchmarks.yardstick import ngram_passages

GOALS = "goal: precision >= 0.90, recall >= 0.97, granularity <= 1.02"
PER_LEVEL = 40
# The memory cap (MB) of the 210 MB case run both ways: below the in-memory engine's need.
CAP_MB = 1600


# --- quality ----------------------------------------------------------------------------------


def _corpus(texts: Sequence[str]):  # type: ignore[no-untyped-def]
    from annotate.corpus import Corpus
    from annotate.model import Document, Metadata

    return Corpus(tuple(Document(Path(f"d{i:04}.txt"), t, Metadata(f"d{i:04}"))
                        for i, t in enumerate(texts)))


def _annotate(texts: list[str], min_bits: float | None) -> list[Detection]:
    from annotate.reuse import DEFAULT_MIN_BITS, find_reuse

    bits = DEFAULT_MIN_BITS if min_bits is None else min_bits
    return [(int(p.a.doc[1:]), p.a.start, p.a.end, int(p.b.doc[1:]), p.b.start, p.b.end)
            for p in find_reuse(_corpus(texts), min_bits=bits).passages]


def _shared_words(a: str, b: str) -> list[int]:
    from annotate.reuse import find_reuse

    return [p.words for p in find_reuse(_corpus([a, b]), min_bits=0).passages]


def quality(per_level: int = PER_LEVEL, seed: int = SEED) -> None:
    if not SPEECHES.is_dir():
        print(f"skipped quality: {SPEECHES} is absent")
        return
    from annotate.reuse import DEFAULT_MIN_BITS

    texts = [p.read_text(encoding="utf-8", errors="replace")
             for p in sorted(SPEECHES.glob("*.txt"))]
    cases = build_cases(texts, per_level, _shared_words, seed)
    docs = corpus_of(cases)
    detectors = [
        ("6-gram index (yardstick)", lambda: ngram_passages(docs)),
        ("annotate, chance rule off (--min-bits 0)", lambda: _annotate(docs, 0.0)),
        (f"annotate (--min-bits {DEFAULT_MIN_BITS:g}, default)", lambda: _annotate(docs, None)),
    ]
    rows: list[list[object]] = []
    for name, detect in detectors:
        found = detect()
        for level in [*LEVELS, "all"]:
            s: Scores = score(cases, found, (lambda c, lv=level: lv in ("all", c.level)))
            rows.append([name if level == "none" else "", level, f"{s.precision:.3f}",
                         f"{s.recall:.3f}", f"{s.granularity:.3f}", f"{s.plagdet:.3f}",
                         s.detections])
    idioms = sum(c.idioms for c in cases) / len(cases)
    print(f"Quality: {len(cases)} passages of 30-300 words planted in real speeches "
          f"({per_level} a level, seed {seed}); each host shares {idioms:.2f} short phrases "
          "with its source before planting; PAN measures at character level")
    print(table(["detector", "edits", "precision", "recall", "granularity", "plagdet",
                 "detections"], rows))
    print(GOALS)


# --- speed and memory -------------------------------------------------------------------------


def _annotate_exe() -> str:
    return str(Path(sys.executable).with_name("annotate"))


def _linked(files: Sequence[Path], folder: Path) -> Path:
    """A folder of symbolic links to `files`: one argument however many files."""
    folder.mkdir()
    for f in files:
        (folder / f.name).symlink_to(f)
    return folder


def _mb(files: Sequence[Path]) -> float:
    return sum(f.stat().st_size for f in files) / 1e6


def speed(quick: bool, big: bool, export: bool = False, repeat: int = 1) -> None:
    if not CHRONAM.is_dir():
        print(f"skipped speed: {CHRONAM} is absent")
        return
    pages = sorted(CHRONAM.glob("*.txt"))
    # (name, files, run the yardstick too, extra options, memory cap in MB or 0)
    sizes: list[tuple[str, list[Path], bool, list[str], int]] = [
        (f"chronam first {n}", pages[:n], n <= 500, [], 0) for n in (50, 200, 500)
    ]
    if not quick:
        sizes.append((f"chronam-1916-01 (all {len(pages)})", pages, True, [], 0))
    if big:
        sizes.append((f"chronam-1916-01 (all {len(pages)}), --on-disk", pages, False,
                      ["--on-disk"], 0))
        if CHRONAM_MORE.is_dir():
            more = sorted(CHRONAM_MORE.glob("*.txt"))
            everything = f"chronam 1916-01..04 (all {len(pages) + len(more)})"
            sizes.append((everything, pages + more, False, [], 0))
            sizes.append((f"{everything}, --on-disk", pages + more, False, ["--on-disk"], 0))
            # Less memory than the in-memory engine needs here (2.8 GB): it is killed, while
            # --on-disk, whose index waits on disk, finishes.
            for extra in (["--in-memory"], ["--on-disk"]):
                sizes.append((f"{everything}, {extra[0]}, {CAP_MB:,} MB cap", pages + more,
                              False, extra, CAP_MB))
        else:
            print(f"skipped 210 MB: {CHRONAM_MORE} is absent")
    rows: list[list[object]] = []
    points: list[tuple[float, float]] = []
    spreads: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for k, (name, files, yardstick, extra, cap) in enumerate(sizes):
            folder = _linked(files, Path(tmp) / f"case{k}")
            mb = _mb(files)
            with memory_cap(cap) if cap else contextlib.nullcontext() as cgroup:
                if cap and cgroup is None:
                    print(f"  skipped: {name} (no memory control group can be made here)",
                          file=sys.stderr)
                    continue
                argv = [_annotate_exe(), "reuse", str(folder), "--json", *extra]
                run = run_measured(argv, stdout_to="/dev/null", cgroup=cgroup)
            base = None
            if yardstick:
                # Interleaved, `repeat` times each: the machine's speed drifts by 10-20%
                # between minutes, so one pair of runs is not a ratio to trust.
                yard = [sys.executable, "-m", "benchmarks.yardstick", str(folder)]
                runs, bases = [run], [run_measured(yard, stdout_to="/dev/null")]
                for _ in range(repeat - 1):
                    runs.append(run_measured(argv, stdout_to="/dev/null"))
                    bases.append(run_measured(yard, stdout_to="/dev/null"))
                run, base = _median(runs), _median(bases)
                if repeat > 1:
                    ratios = sorted(r.seconds / b.seconds for r, b in zip(runs, bases,
                                                                           strict=True))
                    spreads.append(f"{name}: time / 6-gram of each of {repeat} interleaved "
                                   f"pairs: {', '.join(f'{x:.2f}' for x in ratios)}")
            if len(files) >= 200 and not extra:
                points.append((mb, run.seconds))
            rows.append([
                name, len(files), f"{mb:.1f}", f"{run.seconds:.1f}", f"{run.cpu_seconds:.1f}",
                _mem(run.peak_pss_mb),
                f"{base.seconds:.1f}" if base else "-", f"{base.cpu_seconds:.1f}" if base else "-",
                _mem(base.peak_pss_mb) if base else "-",
                f"{run.seconds / base.seconds:.2f}" if base else "-", _status(run),
            ])
            print(f"  done: {name} in {run.seconds:.1f} s", file=sys.stderr, flush=True)
        if big:
            rows.extend(_one_big_text(Path(tmp), pages, export))
    print("\nSpeed and memory: `annotate reuse PATH --json > /dev/null`, each case a fresh "
          "process; the yardstick (naive exact 6-gram index) on the same files in the same run")
    print(table(["corpus", "files", "MB", "time s", "CPU s", "peak PSS MB", "6-gram s",
                 "6-gram CPU s", "6-gram PSS MB", "time / 6-gram", "status"], rows))
    for line in spreads:
        print(line)
    if len(points) >= 2:
        print(f"growth exponent from 200 pages up (log-log slope of time on MB): "
              f"{_slope(points):.2f}")
    print("peak PSS: the whole process tree (workers included, shared pages counted once), "
          "sampled every 0.05 s. The machine is shared: times are upper bounds.")


def _one_big_text(
    tmp: Path, pages: Sequence[Path], export: bool, target: int = 200_000_000
) -> list[list[object]]:
    """One text file of ~200 MB made of whole newspaper pages, through `reuse` and `export`."""
    big = tmp / "big.txt"
    size = 0
    more = sorted(CHRONAM_MORE.glob("*.txt")) if CHRONAM_MORE.is_dir() else []
    with big.open("w", encoding="utf-8") as out:
        for f in [*pages, *more]:
            text = f.read_text(encoding="utf-8", errors="replace")
            out.write(text + "\n\n")
            size += len(text.encode("utf-8")) + 2
            if size >= target:
                break
    mb = big.stat().st_size / 1e6
    rows: list[list[object]] = []
    cases = [("reuse --json", [_annotate_exe(), "reuse", str(big), "--json"])]
    if export:  # opt-in: the TEI export of 200 MB takes minutes
        cases.append(("export", [_annotate_exe(), "export", str(big), "--out",
                                 str(tmp / "big.xml")]))
    for what, argv in cases:
        run = run_measured(argv, stdout_to="/dev/null")
        rows.append([f"one text file: {what}", 1, f"{mb:.1f}", f"{run.seconds:.1f}",
                     f"{run.cpu_seconds:.1f}", _mem(run.peak_pss_mb), "-", "-", "-", "-",
                     _status(run)])
        print(f"  done: one text, {what}, in {run.seconds:.1f} s", file=sys.stderr, flush=True)
    return rows


def _median(runs: list[Run]) -> Run:
    """The run of median wall time (the upper one of an even count), with the highest peak
    memory of them all."""
    middle = sorted(runs, key=lambda r: r.seconds)[len(runs) // 2]
    peaks = [r.peak_pss_mb for r in runs if r.peak_pss_mb is not None]
    return replace(middle, peak_pss_mb=max(peaks) if peaks else None)


def _status(run: Run) -> str:
    if run.returncode == 0:
        return "ok"
    if run.returncode == -9 or "worker process of the reuse pool died" in run.stderr:
        return "killed (out of memory)"
    return f"exit {run.returncode}"


def _mem(mb: float | None) -> str:
    return "-" if mb is None else f"{mb:.0f}"


def _slope(points: list[tuple[float, float]]) -> float:
    xs = [math.log(mb) for mb, _ in points]
    ys = [math.log(s) for _, s in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )


def main() -> None:
    args = sys.argv[1:]
    per_level = int(args[args.index("--cases") + 1]) if "--cases" in args else PER_LEVEL
    if "--no-quality" not in args:
        quality(per_level)
    repeat = int(args[args.index("--repeat") + 1]) if "--repeat" in args else 1
    speed("--quick" in args, "--big" in args, "--export" in args, repeat)


if __name__ == "__main__":
    main()

