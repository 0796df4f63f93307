"""The Dask engine against the local engine on newspaper pages: wall time, peak memory of the
client and of the busiest worker, shard count, and whether the output is byte-identical.

Every case is fresh processes: the local engine is one `annotate reuse --json` (peak PSS of
its process tree, forked helpers included); the Dask case starts `dask scheduler` and
`dask worker --nworkers 2 --nthreads 1` on 127.0.0.1, waits for both workers, then times
`annotate reuse --json --engine dask --scheduler ...` (the client; the cluster's start-up is
not counted, as on a cluster that is already running). Each worker process's PSS is sampled
from /proc while the client runs; the busiest worker is the one with the highest peak.

Run: `.venv/bin/python -m benchmarks.bench_dask [--big] [--pages N] [--memory-limit M]
[--shard-shingles N]`
  --big             also chronam-1916-01 + chronam-1916-02-04 (210 MB; many minutes a case)
  --pages N         only the first N pages of chronam-1916-01 (a quick look)
  --memory-limit M  each worker's Dask memory limit (e.g. 700MB: past 60% of it, a worker
                    spills held results to local disk); default Dask's (memory / workers)
  --no-local        the Dask cases only
  --shard-shingles N  shingles a shard, the same for every corpus (default 2,300,000)
"""

from __future__ import annotations

import filecmp
import json
import math
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from annotate.reuse.chunked import CHUNK_CHARS, chunk_count
from annotate.reuse.params import SHARD_SHINGLES
from benchmarks.common import CHRONAM, CHRONAM_MORE, _children, run_measured, table, tree_pss_mb

GOAL = ("goal: busiest worker's peak <= 1.3x from 50 MB to 210 MB; 2-worker cluster within "
        "1.3x of the local engine's time")
WORKERS = 2
# Shingles a shard (`annotate reuse --shard-shingles`): 2.3M at both sizes of chronam.
PER_SHARD = 2_300_000


def _bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


@contextmanager
def _cluster(tmp: Path, memory_limit: str | None) -> Iterator[tuple[str, int]]:
    """A scheduler and two single-threaded worker processes on 127.0.0.1, as a user starts
    them; yields the scheduler's address and the pid of the `dask worker` process."""
    from distributed import Client

    info = tmp / "scheduler.json"
    info.unlink(missing_ok=True)
    procs = [subprocess.Popen([_bin("dask"), "scheduler", "--host", "127.0.0.1", "--port",
                               "0", "--dashboard-address", ":0", "--scheduler-file", str(info)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        deadline = time.monotonic() + 120
        while not info.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        procs.append(subprocess.Popen(
            [_bin("dask"), "worker", "--scheduler-file", str(info), "--nworkers", str(WORKERS),
             "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1",
             *(["--memory-limit", memory_limit] if memory_limit else [])],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        with Client(scheduler_file=str(info)) as client:
            client.wait_for_workers(WORKERS, timeout=120)
            address = str(client.scheduler.address)
        yield address, procs[1].pid
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in reversed(procs):
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


class _WorkerPeaks:
    """Samples the PSS of each worker process (children of `dask worker`) in a thread."""

    def __init__(self, parent: int, every: float = 0.1) -> None:
        self.parent, self.every = parent, every
        self.peaks: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for pid in _children().get(self.parent, []):
                self.peaks[pid] = max(self.peaks.get(pid, 0.0), tree_pss_mb(pid))
            time.sleep(self.every)

    def __enter__(self) -> _WorkerPeaks:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _shards(json_file: Path, per_shard: int, ngram: int = 3) -> str:
    """The Dask engine's shard count and mean shard size, from the words per document in the
    output (a document of w words has w - ngram + 1 shingles; see `shards.shard_count`)."""
    docs = json.loads(json_file.read_text(encoding="utf-8"))["documents"]
    shingles = sum(max(0, d["words"] - ngram + 1) for d in docs)
    n = max(1, math.ceil(shingles / per_shard))
    return f"{n} x {shingles / n / 1e6:.1f}M"


def _chunks(paths: Sequence[Path]) -> str:
    """The Dask engine's chunk count and mean chunk size (as `chunked._chunk_items`
    cuts the documents' texts)."""
    from annotate.corpus import read_document

    files = _files(paths)
    chars = sum(len(read_document(f).text) for f in files)
    n = chunk_count(chars, len(files), CHUNK_CHARS, 4 * WORKERS)
    return f"{n} x {chars / n / 1e6:.1f}M"


def _files(paths: Sequence[Path]) -> list[Path]:
    return [f for p in paths for f in (sorted(p.glob("*.txt")) if p.is_dir() else [p])]


def _mb(paths: Sequence[Path]) -> tuple[float, int]:
    files = _files(paths)
    return sum(f.stat().st_size for f in files) / 1e6, len(files)


def case(
    name: str, paths: Sequence[Path], tmp: Path, memory_limit: str | None, with_local: bool,
    per_shard: int = SHARD_SHINGLES,
) -> list[list[object]]:
    mb, n_docs = _mb(paths)
    args = [*(str(p) for p in paths), "--shard-shingles", str(per_shard)]
    local_out, dask_out = tmp / "local.json", tmp / "dask.json"
    rows: list[list[object]] = []
    local = None
    if with_local:
        print(f"  {name}: local engine ...", file=sys.stderr, flush=True)
        local = run_measured([_bin("annotate"), "reuse", *args, "--json"],
                             stdout_to=str(local_out))
        print(f"  {name}: local {local.seconds:.0f} s", file=sys.stderr, flush=True)
    print(f"  {name}: dask cluster ...", file=sys.stderr, flush=True)
    with _cluster(tmp, memory_limit) as (address, workers), _WorkerPeaks(workers) as peaks:
        remote = run_measured([_bin("annotate"), "reuse", *args, "--json", "--engine", "dask",
                               "--scheduler", address], stdout_to=str(dask_out))
    print(f"  {name}: dask {remote.seconds:.0f} s", file=sys.stderr, flush=True)
    busiest = max(peaks.peaks.values(), default=0.0)
    chunks = _chunks(paths)
    engine = "dask, 2 workers" + (f", {memory_limit} limit" if memory_limit else "")
    if local is None:
        shards = _shards(dask_out, per_shard) if remote.returncode == 0 else "-"
        verdict = "ok" if remote.returncode == 0 else "failed"
    else:
        ok = local.returncode == 0 and remote.returncode == 0
        same = ok and filecmp.cmp(local_out, dask_out, shallow=False)
        shards = _shards(local_out, per_shard) if local.returncode == 0 else "-"
        verdict = "identical" if same else ("DIFFERENT" if ok else "failed")
        # (the local engine groups two shards at a time, each half this size)
        rows.append([name, f"{mb:.0f}", n_docs, "local", "-", "-", f"{local.seconds:.1f}",
                     _fmt(local.peak_pss_mb), "-", "yardstick"])
        # The local engine on disk: the same chunked tasks in a pool of this machine's
        # processes (peak PSS of the whole tree: client and pool together).
        print(f"  {name}: local engine --on-disk ...", file=sys.stderr, flush=True)
        disk_out = tmp / "disk.json"
        disk = run_measured([_bin("annotate"), "reuse", *args, "--json", "--on-disk"],
                            stdout_to=str(disk_out))
        disk_same = (ok and disk.returncode == 0
                     and filecmp.cmp(local_out, disk_out, shallow=False))
        rows.append([name, f"{mb:.0f}", n_docs, "local, --on-disk (whole tree)", chunks,
                     shards, f"{disk.seconds:.1f}", _fmt(disk.peak_pss_mb), "-",
                     "identical" if disk_same else "DIFFERENT or failed"])
    rows.append([name, f"{mb:.0f}", n_docs, engine, chunks, shards, f"{remote.seconds:.1f}",
                 _fmt(remote.peak_pss_mb), f"{busiest:.0f}", verdict])
    return rows


def _fmt(mb: float | None) -> str:
    return "-" if mb is None else f"{mb:.0f}"


def main() -> None:
    args = sys.argv[1:]
    if not CHRONAM.is_dir():
        print(f"skipped: {CHRONAM} is absent")
        return
    rows: list[list[object]] = []
    limit = args[args.index("--memory-limit") + 1] if "--memory-limit" in args else None
    local = "--no-local" not in args
    # One shard size for every corpus (the default limit would give 3.0M shingles a shard at
    # 50 MB but 3.6M at 210 MB): the memory goal compares workers at the same shard size.
    per_shard = (int(args[args.index("--shard-shingles") + 1]) if "--shard-shingles" in args
                 else PER_SHARD)
    with tempfile.TemporaryDirectory(prefix="bench-dask-") as name:
        tmp = Path(name)
        if "--pages" in args:
            n = int(args[args.index("--pages") + 1])
            folder = tmp / "pages"
            folder.mkdir()
            for f in sorted(CHRONAM.glob("*.txt"))[:n]:
                (folder / f.name).symlink_to(f)
            rows += case(f"chronam-1916-01, {n} pages", [folder], tmp, limit, local, per_shard)
        else:
            rows += case("chronam-1916-01", [CHRONAM], tmp, limit, local, per_shard)
        if "--big" in args:
            if CHRONAM_MORE.is_dir():
                rows += case("chronam-1916-01 + 02-04", [CHRONAM, CHRONAM_MORE], tmp, limit,
                             local, per_shard)
            else:
                print(f"skipped --big: {CHRONAM_MORE} is absent")
    print(f"chunk: at most {CHUNK_CHARS:,} characters (at least {4 * WORKERS} chunks), the "
          f"engine's default; shard: at most {per_shard:,} shingles (--shard-shingles, the "
          "same for every corpus size).\n")
    print(table(["corpus", "MB", "docs", "engine", "chunks x chars", "shards x shingles",
                 "wall s", "client peak PSS MB",
                 "busiest worker peak PSS MB", "output"], rows))
    print(f"\n{GOAL}. Measured on a shared, loaded 2-core machine: times are noisy.")


if __name__ == "__main__":
    main()
