"""The local engine on disk (`--on-disk`) gives exactly the in-memory engine's output, leaves
no file behind, and a worker process that dies or a file that changed under it is a one-line
error."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from annotate.cli import app
from annotate.corpus import Corpus, load_corpus
from annotate.reuse import ReuseResult, find_reuse, local_tasks, write_json, write_jsonl
from annotate.reuse.chunked import ClusterError
from annotate.reuse.forked import WorkerDied
from annotate.reuse.local_tasks import find_reuse_on_disk, needs_disk
from tests.conftest import ROOT, SEEDS

CHRONAM = ROOT.parent / "shared" / "corpora" / "chronam-1916-01"
runner = CliRunner()


@pytest.fixture(autouse=True)
def own_tmpdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's temporary files in a folder of its own, to see what is left behind."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    return scratch


def _outputs(corpus: Corpus, result: ReuseResult) -> tuple[str, str]:
    js, jl = io.StringIO(), io.StringIO()
    write_json(js, corpus, result)
    write_jsonl(jl, result)
    return js.getvalue(), jl.getvalue()


@pytest.mark.parametrize("options", [
    {},
    # Many chunks, shards and parts of the vocabulary: every reshuffle has real work.
    {"shard_shingles": 2_000, "chunk_chars": 3_000, "vocab_tokens": 2_000},
    {"doc": "001", "min_bits": 0.0, "chunk_chars": 5_000},
    {"min_words": 4, "chunk_chars": 5_000, "workers": 1},
])
def test_seeds_identical_to_in_memory(options: dict[str, Any], own_tmpdir: Path) -> None:
    corpus = load_corpus([SEEDS])
    same = {k: v for k, v in options.items()
            if k not in ("chunk_chars", "vocab_tokens", "workers")}
    memory = find_reuse(corpus, **same)
    disk = find_reuse_on_disk(corpus, **options)
    assert memory.passages
    assert disk == memory
    assert _outputs(corpus, disk) == _outputs(corpus, memory)
    assert list(own_tmpdir.iterdir()) == []  # the run's folder and every file in it are gone


def test_chronam_pages_identical_to_in_memory(own_tmpdir: Path) -> None:
    if not CHRONAM.is_dir():
        pytest.skip(f"{CHRONAM} is absent (the shared corpora are not part of the repository)")
    corpus = load_corpus(sorted(CHRONAM.glob("*.txt"))[:200])
    series = {d.id: d.id.split("_")[1].split("-")[0] for d in corpus.documents}
    memory = find_reuse(corpus, shard_shingles=150_000, series=series)
    disk = find_reuse(corpus, shard_shingles=150_000, series=series, on_disk=True)
    small = find_reuse_on_disk(corpus, shard_shingles=150_000, series=series,
                               chunk_chars=400_000, vocab_tokens=300_000)
    assert len(memory.passages) > 100
    assert disk == memory and small == memory
    assert _outputs(corpus, small) == _outputs(corpus, memory)
    assert list(own_tmpdir.iterdir()) == []


def test_cli_on_disk_is_the_same_output() -> None:
    base = runner.invoke(app, ["reuse", str(SEEDS), "--jsonl"])
    disk = runner.invoke(app, ["reuse", str(SEEDS), "--jsonl", "--on-disk"])
    memory = runner.invoke(app, ["reuse", str(SEEDS), "--jsonl", "--in-memory"])
    assert base.exit_code == disk.exit_code == memory.exit_code == 0
    assert base.stdout.count("\n") >= 4
    assert disk.stdout == base.stdout == memory.stdout


def test_cli_on_disk_is_for_the_local_engine() -> None:
    result = runner.invoke(app, ["reuse", str(SEEDS), "--engine", "dask", "--on-disk"])
    assert result.exit_code == 2
    assert result.output.startswith("Error: --on-disk and --in-memory are for --engine local")


def test_cli_goes_to_disk_when_memory_is_short(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[bool] = []
    real = local_tasks.find_reuse_on_disk

    def spy(*args: Any, **kwargs: Any) -> ReuseResult:
        calls.append(True)
        return real(*args, **kwargs)

    monkeypatch.setattr(local_tasks, "find_reuse_on_disk", spy)
    monkeypatch.setattr(local_tasks, "available_memory", lambda: 100_000)
    result = runner.invoke(app, ["reuse", str(SEEDS), "--jsonl"])
    assert result.exit_code == 0, result.output
    assert calls == [True]
    assert "the index waits on disk (--in-memory to keep it in memory)" in result.stderr
    # Asked for in memory, it stays there whatever the memory.
    calls.clear()
    result = runner.invoke(app, ["reuse", str(SEEDS), "--jsonl", "--in-memory"])
    assert result.exit_code == 0 and calls == [] and "Note:" not in result.stderr


def test_needs_disk_follows_the_memory_available(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local_tasks, "available_memory", lambda: 32 * 10**9)
    assert not needs_disk(200_000_000)  # 3.2 GB in memory: fits in half of 32 GB
    assert needs_disk(2_000_000_000)
    monkeypatch.setattr(local_tasks, "available_memory", lambda: None)
    assert not needs_disk(10**12)  # unknown memory: as before, in memory


def test_available_memory_reads_this_machine() -> None:
    if not Path("/proc/meminfo").exists():
        pytest.skip("no /proc/meminfo here (not Linux)")
    available = local_tasks.available_memory()
    assert available is not None and available > 10**7


def test_a_changed_file_is_one_line_error(tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    for f in SEEDS.glob("*.txt"):
        (folder / f.name).write_bytes(f.read_bytes())
    corpus = load_corpus([folder])
    sorted(folder.glob("*.txt"))[0].write_text("something else entirely " * 50,
                                               encoding="utf-8")
    with pytest.raises(ClusterError, match="reads differently on a worker than on the client"):
        find_reuse_on_disk(corpus)


def test_a_worker_killed_is_one_line_error(own_tmpdir: Path) -> None:
    if not Path("/proc/self/stat").exists():
        pytest.skip("finds the pool's processes in /proc (Linux)")
    corpus = load_corpus([SEEDS])
    killed: list[int] = []

    def progress(done: int, total: int) -> None:
        # Once some tasks are done, kill a worker process of the pool outright.
        if killed or done < 3:
            return
        children = _children(os.getpid())
        if children:
            os.kill(children[0], signal.SIGKILL)
            killed.append(children[0])

    with pytest.raises(WorkerDied, match="a worker process of the reuse pool died"):
        find_reuse_on_disk(corpus, progress=progress, shard_shingles=2_000, chunk_chars=2_000,
                           vocab_tokens=2_000)
    assert killed
    assert list(own_tmpdir.iterdir()) == []


def _children(pid: int) -> list[int]:
    """The pool's processes: children forked from this one (same command line; not, say,
    multiprocessing's resource tracker, another child of the test run)."""
    me = Path(f"/proc/{pid}/cmdline").read_bytes()
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                stat = Path(f"/proc/{d}/stat").read_text()
                cmdline = Path(f"/proc/{d}/cmdline").read_bytes()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid and cmdline == me:
                out.append(int(d))
    return sorted(out)


def test_a_run_killed_outright_leaves_a_folder_the_next_run_removes(own_tmpdir: Path) -> None:
    # A parent killed outright cannot clean up; its folder names its process id, which is
    # gone, so the next run removes it. A live process's folder is left alone.
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    abandoned = own_tmpdir / f"annotate-reuse-{gone.pid}-x1"
    abandoned.mkdir()
    (abandoned / "annotate-0.bin").write_bytes(b"x" * 100)
    running = own_tmpdir / f"annotate-reuse-{os.getpid()}-x2"
    running.mkdir()
    find_reuse_on_disk(load_corpus([SEEDS]))
    assert not abandoned.exists()
    assert running.is_dir()


def test_a_write_that_fails_leaves_no_partial_file(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # A Dask worker's directory outlives the task: a file half written (the disk full, or
    # here an array it cannot hold) is removed, not left behind.
    import numpy as np

    from annotate.reuse import ondisk

    folder = tmp_path / "ondisk"
    folder.mkdir()
    monkeypatch.setattr(ondisk, "_DIR", str(folder))
    with pytest.raises(ValueError, match="one-dimensional"):
        ondisk.OnDisk.save({"fine": np.arange(5), "bad": np.zeros((2, 2))})
    assert list(folder.iterdir()) == []
    kept = ondisk.OnDisk.save({"fine": np.arange(5)})
    assert kept.load()["fine"].tolist() == [0, 1, 2, 3, 4]
