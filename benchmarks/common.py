"""Small helpers shared by the benchmarks: timing with peak memory, and the corpora paths."""

from __future__ import annotations

import contextlib
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

ROOT = Path(__file__).resolve().parent.parent
CORPORA = ROOT.parent / "shared" / "corpora"
SPEECHES = CORPORA / "speeches"
CHRONAM = CORPORA / "chronam-1916-01"
CHRONAM_MORE = CORPORA / "chronam-1916-02-04"


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


# --- one case in a fresh process, measured from outside --------------------------------------


def _children() -> dict[int, list[int]]:
    """Parent pid -> child pids, from /proc (Linux)."""
    kids: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                parent = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        kids.setdefault(parent, []).append(int(d))
    return kids


def tree_pss_mb(root: int) -> float:
    """Proportional set size of `root` and all its descendants, MB: each page shared between
    them (a forked worker's copy-on-write memory) is counted once in total, unlike a sum of
    resident sets, and no process inherits another's peak (as ru_maxrss does across fork)."""
    kids = _children()
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(kids.get(pid, ()))
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                total += sum(int(line.split()[1]) for line in f if line.startswith("Pss:"))
        except (OSError, ValueError, IndexError):
            continue
    return total / 1024


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_pss_mb: float | None  # None where /proc is not there to sample
    stdout: str
    returncode: int
    # CPU time (user + system) of the process and the descendants it waited for: less moved
    # by other users of the machine than the wall time.
    cpu_seconds: float = 0.0
    stderr: str = ""


def run_measured(argv: list[str], *, every: float = 0.05, stdout_to: str | None = None,
                 cgroup: Path | None = None) -> Run:
    """Run `argv` as a fresh process; wall time and the peak PSS of its process tree, sampled
    every `every` seconds from /proc/<pid>/smaps_rollup. With `stdout_to`, output goes to
    that file (e.g. /dev/null) instead of being captured. With `cgroup` (`memory_cap`), the
    process and its children run inside that control group."""
    sink = open(stdout_to, "w") if stdout_to else subprocess.PIPE  # noqa: SIM115
    import resource

    def enter() -> None:
        if cgroup is not None:
            (cgroup / "cgroup.procs").write_text(str(os.getpid()))

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=sink, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            preexec_fn=enter if cgroup is not None else None)
    peak = 0.0
    can_sample = Path("/proc/self/smaps_rollup").exists()
    out_parts: list[str] = []
    reader = None
    if not stdout_to:
        import threading

        assert proc.stdout is not None
        stream = proc.stdout
        reader = threading.Thread(target=lambda: out_parts.append(stream.read()), daemon=True)
        reader.start()
    while proc.poll() is None:
        if can_sample:
            peak = max(peak, tree_pss_mb(proc.pid))
        time.sleep(every)
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if reader is not None:
        reader.join()
    err = proc.stderr.read() if proc.stderr else ""
    if stdout_to:
        sink.close()  # type: ignore[union-attr]
    if proc.returncode:
        print(f"  ! {' '.join(argv[:4])}… exited {proc.returncode}: {err.strip()[-300:]}",
              file=sys.stderr)
    return Run(seconds, peak if can_sample else None, "".join(out_parts), proc.returncode, cpu,
               err)


@contextlib.contextmanager
def memory_cap(mb: int) -> Iterator[Path | None]:
    """A memory control group of its own, limited to `mb` MB (what the kernel charges to it:
    the processes' memory and the page cache they fill, which it reclaims before it kills),
    for `run_measured(cgroup=...)`; None where this machine lets no such group be made (not
    Linux, not allowed, no memory controller)."""
    made: Path | None = None
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            base = None
            if "memory" in controllers.split(","):  # cgroup v1
                base, limit = Path("/sys/fs/cgroup/memory" + path), "memory.limit_in_bytes"
            elif controllers == "" and Path("/sys/fs/cgroup/cgroup.controllers").exists():
                base, limit = Path("/sys/fs/cgroup" + path), "memory.max"  # cgroup v2
            if base is None or not (base / limit).parent.is_dir():
                continue
            candidate = base / f"annotate-bench-{os.getpid()}"
            candidate.mkdir()
            try:
                (candidate / limit).write_text(str(mb * 2**20))
            except OSError:
                candidate.rmdir()
                raise
            made = candidate
            break
    except (OSError, ValueError):
        made = None
    try:
        yield made
    finally:
        if made is not None:
            with contextlib.suppress(OSError):
                made.rmdir()
