"""The Dask engine gives exactly the local engine's output: on a LocalCluster of two worker
processes, through a worker killed mid-run, and through the CLI against a scheduler and
workers started by hand."""

from __future__ import annotations

import importlib.util
import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from annotate.cli import app
from annotate.corpus import Corpus, load_corpus
from annotate.reuse import ReuseResult, find_reuse, write_json, write_jsonl
from tests.conftest import ROOT, SEEDS

HAS_DASK = importlib.util.find_spec("distributed") is not None
needs_dask = pytest.mark.skipif(
    not HAS_DASK, reason="dask is not installed (pip install 'annotate-statements[dask]')"
)
CHRONAM = ROOT.parent / "shared" / "corpora" / "chronam-1916-01"
runner = CliRunner()


def _outputs(corpus: Corpus, result: ReuseResult) -> tuple[str, str]:
    js, jl = io.StringIO(), io.StringIO()
    write_json(js, corpus, result)
    write_jsonl(jl, result)
    return js.getvalue(), jl.getvalue()


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as c:
        yield c


@pytest.fixture(scope="module")
def chronam() -> Corpus:
    if not CHRONAM.is_dir():
        pytest.skip(f"{CHRONAM} is absent (the shared corpora are not part of the repository)")
    # The first 200 pages in name order: the first days of January 1916.
    return load_corpus(sorted(CHRONAM.glob("*.txt"))[:200])


@needs_dask
@pytest.mark.parametrize("options", [
    {},
    # Many shards, chunks and parts of the vocabulary (the chance rule's table, in parts).
    {"shard_shingles": 2_000, "chunk_chars": 10_000, "vocab_tokens": 3_000},
    {"doc": "001", "min_bits": 0.0},
])
def test_seeds_identical_to_local(cluster: Any, options: dict[str, Any]) -> None:
    from annotate.reuse.engine_dask import find_reuse_dask

    corpus = load_corpus([SEEDS])
    local_options = {k: v for k, v in options.items()
                     if k not in ("chunk_chars", "vocab_tokens")}
    local = find_reuse(corpus, **local_options)
    remote = find_reuse_dask(corpus, scheduler=cluster.scheduler_address, **options)
    assert local.passages
    assert remote == local
    assert _outputs(corpus, remote) == _outputs(corpus, local)


def _series(corpus: Corpus) -> dict[str, str]:
    # The newspaper (LCCN) of each page: a paper reprinting itself is not reuse.
    return {d.id: d.id.split("_")[1].split("-")[0] for d in corpus.documents}


@pytest.fixture(scope="module")
def chronam_local(chronam: Corpus) -> ReuseResult:
    return find_reuse(chronam, shard_shingles=150_000, series=_series(chronam))


@needs_dask
def test_chronam_pages_identical_to_local(
    cluster: Any, chronam: Corpus, chronam_local: ReuseResult
) -> None:
    from annotate.reuse.engine_dask import find_reuse_dask

    series = _series(chronam)
    local = chronam_local
    remote = find_reuse_dask(chronam, scheduler=cluster.scheduler_address,
                             shard_shingles=150_000, chunk_chars=400_000, series=series,
                             vocab_tokens=300_000)
    assert local.shards > 1 and len(local.passages) > 100
    assert remote == local
    assert _outputs(chronam, remote) == _outputs(chronam, local)


@needs_dask
def test_worker_killed_mid_run_is_retried(
    cluster: Any, chronam: Corpus, chronam_local: ReuseResult
) -> None:
    from distributed import Client

    from annotate.reuse.engine_dask import find_reuse_dask

    local = chronam_local
    with Client(cluster.scheduler_address) as client:
        pids = client.run(os.getpid)
    victim = max(pids.values())
    killed: list[int] = []

    def progress(done: int, total: int) -> None:
        # Once the fingerprints exist (held on the workers), kill one worker outright: its
        # results are lost and the scheduler must recompute them elsewhere.
        if not killed and done >= 12:
            os.kill(victim, signal.SIGKILL)
            killed.append(done)

    remote = find_reuse_dask(chronam, scheduler=cluster.scheduler_address, progress=progress,
                             shard_shingles=150_000, chunk_chars=400_000,
                             series=_series(chronam))
    assert killed
    with Client(cluster.scheduler_address) as client:
        client.wait_for_workers(2, timeout=60)
        assert victim not in client.run(os.getpid).values()
    assert remote == local
    assert _outputs(chronam, remote) == _outputs(chronam, local)


@pytest.fixture
def hand_started(tmp_path: Path) -> Iterator[str]:
    """`dask scheduler` and `dask worker` (two worker processes) on 127.0.0.1, as a user
    starts them by hand; yields the scheduler's address."""
    from distributed import Client

    dask = str(Path(sys.executable).parent / "dask")
    info = tmp_path / "scheduler.json"
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", "0",
                               "--dashboard-address", ":0", "--scheduler-file", str(info)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        deadline = time.monotonic() + 60
        while not info.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        procs.append(subprocess.Popen(
            [dask, "worker", "--scheduler-file", str(info), "--nworkers", "2", "--nthreads",
             "1", "--no-dashboard", "--host", "127.0.0.1"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        with Client(scheduler_file=str(info)) as client:
            client.wait_for_workers(2, timeout=60)
            yield str(client.scheduler.address)
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in reversed(procs):
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


@needs_dask
def test_cli_against_scheduler_started_by_hand(hand_started: str) -> None:
    assert hand_started.startswith("tcp://127.0.0.1:")
    annotate = str(Path(sys.executable).parent / "annotate")
    for fmt in ("--json", "--jsonl"):
        local = subprocess.run([annotate, "reuse", str(SEEDS), fmt], capture_output=True,
                               check=True)
        remote = subprocess.run([annotate, "reuse", str(SEEDS), fmt, "--engine", "dask",
                                 "--scheduler", hand_started], capture_output=True, check=True)
        assert local.stdout
        assert remote.stdout == local.stdout
    # The scheduler can also come from the environment, as Dask's own tools take it.
    remote = subprocess.run([annotate, "reuse", str(SEEDS), "--jsonl", "--engine", "dask"],
                            capture_output=True, check=True,
                            env={**os.environ, "DASK_SCHEDULER_ADDRESS": hand_started})
    assert remote.stdout == local.stdout


def test_without_dask_the_engine_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # makes `import distributed` fail
    result = runner.invoke(app, ["reuse", str(SEEDS), "--engine", "dask"])
    assert result.exit_code == 1
    assert result.output == (
        "Error: the dask engine needs the dask extra: "
        "pip install 'annotate-statements[dask]'\n"
    )


def test_scheduler_needs_the_dask_engine() -> None:
    result = runner.invoke(app, ["reuse", str(SEEDS), "--scheduler", "tcp://127.0.0.1:1"])
    assert result.exit_code == 2
    assert result.output == "Error: --scheduler and --send-text need --engine dask\n"


@needs_dask
def test_unreachable_scheduler_is_one_line() -> None:
    from annotate.reuse.engine_dask import ClusterError, find_reuse_dask

    with pytest.raises(ClusterError, match=r"^could not reach the Dask scheduler at "
                       r"tcp://127\.0\.0\.1:1: "):
        find_reuse_dask(load_corpus([SEEDS]), scheduler="tcp://127.0.0.1:1",
                        connect_timeout=1.0)


@needs_dask
def test_send_text_needs_no_shared_files(cluster: Any, tmp_path: Path) -> None:
    from annotate.reuse.engine_dask import ClusterError, find_reuse_dask

    folder = tmp_path / "corpus"
    folder.mkdir()
    for f in SEEDS.glob("*.txt"):
        (folder / f.name).write_bytes(f.read_bytes())
    corpus = load_corpus([folder])
    local = find_reuse(corpus)
    # A file changed after the client read it: workers reading the path would see other text.
    first = sorted(folder.glob("*.txt"))[0]
    first.write_text("something else entirely " * 50, encoding="utf-8")
    assert find_reuse_dask(corpus, scheduler=cluster.scheduler_address,
                           send_text=True) == local
    with pytest.raises(ClusterError, match="reads differently on a worker"):
        find_reuse_dask(corpus, scheduler=cluster.scheduler_address)


@needs_dask
def test_its_own_local_cluster_gives_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    # No scheduler given: the engine starts a LocalCluster of its own (with Dask's spilling
    # off, as what the workers hold is on disk already) and closes it.
    from annotate.reuse.engine_dask import find_reuse_dask

    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    corpus = load_corpus([SEEDS])
    assert find_reuse_dask(corpus, n_workers=2, chunk_chars=5_000) == find_reuse(corpus)
