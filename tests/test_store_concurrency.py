"""Crash safety and concurrency with real processes: two writers at once lose nothing, and a
SIGKILL in the middle of a stream of adds loses nothing that was acknowledged."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from annotate.store import Store
from tests.conftest import ROOT

# The child adds annotations and prints each id only after `add` has returned (committed).
CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from annotate.model import Document, Metadata
    from annotate.store import Store

    import time
    path, user, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    other = sys.argv[4] if len(sys.argv) > 4 else None
    text = "Leaders met in London to agree action on organised immigration crime. " * 20
    doc = Document(path=Path("c.txt"), text=text, meta=Metadata(id="c"))
    with Store.open(Path(path)) as store:
        print("ready", flush=True)
        sys.stdin.readline()  # start together
        i = 0
        while count < 0 or i < count:
            start = i % (len(text) - 10)
            a = store.add(doc, start, start + 10, themes=[user], note=str(i), user=user)
            if i % 3 == 0:
                store.set_note(a.id, f"edited {i}", user=user)
            print(a.id, flush=True)
            i += 1
            if other and i == count // 2:
                # Halfway, wait until the other writer has written too, so the two really
                # overlap however the machine schedules them (a loaded CI box may not).
                deadline = time.monotonic() + 60
                while not store.list(user=other) and time.monotonic() < deadline:
                    time.sleep(0.01)
    """
)


def spawn(path: Path, user: str, count: int, other: str = "") -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), user, str(count), *([other] if other else [])],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=env, cwd=ROOT,
    )


def start(procs: list[subprocess.Popen[str]]) -> None:
    for p in procs:
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()


def test_two_writers_at_once_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite"
    n = 150
    procs = [spawn(path, user, n, other) for user, other in (("ann", "bob"), ("bob", "ann"))]
    start(procs)
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err
    printed = {user: out.split() for user, (out, _) in zip(("ann", "bob"), outs,
                                                                strict=True)}
    assert all(len(ids) == n for ids in printed.values())
    with Store.open(path) as s:
        for user, ids in printed.items():
            stored = s.list(user=user)
            assert {a.id for a in stored} == set(ids)
            assert all(a.themes == (user,) for a in stored)
        assert len(s.list()) == 2 * n
        assert len({a.id for a in s.list()}) == 2 * n
        assert s.undo_depth("ann") == s.undo_depth("bob") == n + n // 3
        assert s.integrity_check() == "ok"
        # They really wrote at the same time: the history switches between them repeatedly.
        users = [c.user for c in s.history()]
        assert sum(a != b for a, b in zip(users, users[1:], strict=False)) >= 2


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sigkill_loses_no_acknowledged_add(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    path = tmp_path / "killed.sqlite"
    proc = spawn(path, "ed", -1)
    start([proc])
    assert proc.stdout is not None
    acknowledged: list[str] = []
    stop_after = rng.randint(5, 80)
    while len(acknowledged) < stop_after:
        line = proc.stdout.readline()
        assert line, proc.stderr.read() if proc.stderr else ""
        acknowledged.append(line.strip())
    # Kill at an arbitrary moment, most likely in the middle of a transaction.
    time.sleep(rng.random() * 0.02)
    proc.send_signal(signal.SIGKILL)
    rest, _ = proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    # Lines the child finished printing before it died were acknowledged too.
    lines = rest.split("\n")
    acknowledged += [x for x in lines[:-1] if x]
    with Store.open(path) as s:
        assert s.integrity_check() == "ok"
        stored = {a.id for a in s.list()}
        assert set(acknowledged) <= stored
        assert len(stored) - len(acknowledged) <= 1  # at most the add that was not yet shown
