"""The local engine's forked map: results in order, the parent's own work done meanwhile,
errors carried back, and a worker's abrupt end told to the user in one line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import pytest

from annotate.reuse.forked import (
    Background,
    WorkerDied,
    can_fork,
    deaths_explained,
    fork_map,
)

needs_fork = pytest.mark.skipif(not can_fork(), reason="fork is unavailable or unsafe here")


def _square_plus(shared: int, item: int) -> tuple[int, int]:
    return item * item + shared, os.getpid()


def _fail_on_three(shared: Any, item: int) -> int:
    if item == 3:
        raise ValueError("three")
    return item


def _die(shared: Any, item: int) -> int:
    if item == 2:
        os.kill(os.getpid(), signal.SIGKILL)
    return item


@needs_fork
def test_results_in_order_from_other_processes() -> None:
    out = fork_map(_square_plus, list(range(20)), 1, 2)
    assert [r for r, _ in out] == [i * i + 1 for i in range(20)]
    assert all(pid != os.getpid() for _, pid in out)


@needs_fork
def test_background_result_error_and_death() -> None:
    with Background(lambda shared: (shared * 2, os.getpid()), 21) as work:
        value, pid = work.result()
    assert value == 42 and pid != os.getpid()
    with Background(lambda shared: _fail_on_three(None, shared), 3) as failing, \
            pytest.raises(ValueError, match="three"):
        failing.result()
    with Background(lambda shared: os.kill(os.getpid(), signal.SIGKILL), None) as dying, \
            pytest.raises(WorkerDied, match="exit code -9"):
        dying.result()


@needs_fork
def test_background_left_early_is_ended() -> None:
    with Background(lambda shared: time.sleep(60), None) as work:
        pid = work._process.pid
    assert pid is not None and not _running(pid)


def test_one_worker_runs_here() -> None:
    out = fork_map(_square_plus, [1, 2, 3], 0, 1)
    assert out == [(1, os.getpid()), (4, os.getpid()), (9, os.getpid())]


@needs_fork
def test_an_error_comes_back() -> None:
    with pytest.raises(ValueError, match="three"):
        fork_map(_fail_on_three, list(range(6)), None, 2)


@needs_fork
def test_a_killed_worker_is_one_line_error() -> None:
    run = deaths_explained("; a hint")(fork_map)
    with pytest.raises(WorkerDied, match=r"^a worker process of the reuse pool died \(out of "
                       r"memory, or killed\); a hint: "):
        run(_die, list(range(6)), None, 2)


def test_deaths_explained_leaves_other_errors_alone() -> None:
    @deaths_explained("")
    def broken() -> None:
        raise BrokenProcessPool("gone")

    @deaths_explained("")
    def other() -> None:
        raise KeyError("k")

    with pytest.raises(WorkerDied, match="gone"):
        broken()
    with pytest.raises(KeyError):
        other()


_ORPHAN_SCRIPT = """
import os, sys, time
from annotate.reuse.forked import fork_map
from annotate.reuse.local_tasks import LocalTasks

def nap(*args):
    open(os.path.join(sys.argv[1], str(os.getpid())), "w").close()
    time.sleep(120)

if sys.argv[2] == "fork_map":
    fork_map(lambda shared, item: nap(), [1, 2], None, 2)
else:
    with LocalTasks(2, None) as tasks:
        tasks.results([tasks.submit(nap, 1), tasks.submit(nap, 2)])
"""


@needs_fork
@pytest.mark.parametrize("pool", ["fork_map", "LocalTasks"])
def test_workers_end_with_a_parent_killed_outright(tmp_path: Path, pool: str) -> None:
    # The out-of-memory killer ends the parent with SIGKILL: its pool's workers must not wait
    # for work forever, holding memory and the parent's output pipes.
    if not sys.platform.startswith("linux"):
        pytest.skip("workers end with their parent on Linux (prctl)")
    script = tmp_path / "orphans.py"
    script.write_text(_ORPHAN_SCRIPT, encoding="utf-8")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    parent = subprocess.Popen([sys.executable, str(script), str(tmp_path), pool],
                              env={**os.environ, "TMPDIR": str(scratch)})
    try:
        for _ in range(600):
            workers = [int(p.name) for p in tmp_path.iterdir() if p.name.isdigit()]
            if len(workers) == 2 or parent.poll() is not None:
                break
            time.sleep(0.05)
        assert len(workers) == 2, "the workers did not start"
    finally:
        parent.kill()
        parent.wait()
    for _ in range(200):
        alive = [w for w in workers if _running(w)]
        if not alive:
            break
        time.sleep(0.05)
    for w in alive:
        os.kill(w, signal.SIGKILL)
    assert alive == []


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
