"""`annotate edit` in a real terminal (tmux): keys in, screen and store checked; and a session
killed with SIGKILL right after acknowledged actions loses none of them."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from annotate.store import Store

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
_SCRIPT = Path(sys.executable).parent / "annotate"
# The installed entry point when there is one (as in .venv), else the module.
ANNOTATE = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "annotate"]

pytestmark = pytest.mark.skipif(
    shutil.which("tmux") is None, reason="tmux is not installed (.ci/run installs it)"
)

CODEBOOK = """\
[meta]
name = "e2e"

[[theme]]
id = "border"
label = "Border security"
patterns = ["border*"]

[[theme]]
id = "smuggling"
label = "Smuggling"
patterns = ["smuggl*"]
"""


class Terminal:
    """A tmux session running one command, 100x30, on a tmux server of its own (so a
    developer's own tmux sessions are never touched)."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.name = f"annotate-test-{uuid.uuid4().hex[:8]}"
        self.tmux = ["tmux", "-L", self.name]
        assigns = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        # exec: the pane's process is annotate itself, so it can be killed by its pid.
        line = f"cd {shlex.quote(str(ROOT))} && exec env {assigns} {shlex.join(command)}"
        subprocess.run(
            [*self.tmux, "new-session", "-d", "-s", self.name, "-x", "100", "-y", "30", line],
            check=True,
        )
        subprocess.run([*self.tmux, "set-option", "-t", self.name, "remain-on-exit", "on"],
                       check=False)
        self.socket = subprocess.run(
            [*self.tmux, "display-message", "-p", "#{socket_path}"],
            capture_output=True, text=True, check=False,
        ).stdout.strip()

    def screen(self) -> str:
        out = subprocess.run([*self.tmux, "capture-pane", "-p", "-t", self.name],
                             capture_output=True, text=True, check=False)
        return out.stdout

    def wait_for(self, what: str | Callable[[str], bool], timeout: float = 10.0) -> str:
        """Poll the screen every 50 ms until `what` shows (10 s limit)."""
        check = what if callable(what) else (lambda s: what in s)
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if check(screen):
                return screen
            time.sleep(0.05)
        raise AssertionError(f"{what!r} did not show within {timeout}s; screen:\n{screen}")

    def keys(self, *keys: str, literal: bool = False) -> None:
        cmd = [*self.tmux, "send-keys", "-t", self.name, *(["-l"] if literal else []), *keys]
        subprocess.run(cmd, check=True)

    def pid(self) -> int:
        out = subprocess.run(
            [*self.tmux, "display-message", "-p", "-t", self.name, "#{pane_pid}"],
            capture_output=True, text=True, check=True,
        )
        return int(out.stdout.strip())

    def dead(self) -> bool:
        out = subprocess.run(
            [*self.tmux, "display-message", "-p", "-t", self.name, "#{pane_dead}"],
            capture_output=True, text=True, check=False,
        )
        return out.stdout.strip() == "1"

    def close(self) -> None:
        subprocess.run([*self.tmux, "kill-server"], check=False,
                       capture_output=True)
        if self.socket:  # tmux leaves the socket file of a killed server behind
            Path(self.socket).unlink(missing_ok=True)


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path]:
    codebook = tmp_path / "themes.toml"
    codebook.write_text(CODEBOOK, encoding="utf-8")
    return tmp_path / "store.sqlite", codebook


@pytest.fixture
def terminal(setup: tuple[Path, Path]) -> Iterator[Callable[..., Terminal]]:
    store, codebook = setup
    made: list[Terminal] = []

    def start(*args: str) -> Terminal:
        cmd = [*ANNOTATE, "edit", *args, str(SEEDS), "--codebook", str(codebook)]
        env = {"ANNOTATE_STORE": str(store), "ANNOTATE_USER": "alice", "TERM": "xterm-256color"}
        t = Terminal(cmd, env)
        made.append(t)
        return t

    yield start
    for t in made:
        t.close()


STATUS = re.compile(r" \d+ ann( \d+\?)? │ ")


def status_line(screen: str) -> str:
    lines = [ln for ln in screen.splitlines() if ln.strip()]
    # A long message leaves out the word position and undo depth, never the counts.
    return next((ln for ln in reversed(lines) if STATUS.search(ln)), "")


def drawn_at(width: int, height: int) -> Callable[[str], bool]:
    """The screen is redrawn for width x height: the status bar on the last row."""

    def check(screen: str) -> bool:
        lines = screen.splitlines()
        return (len(lines) == height and " ann │ undo " in lines[-1]
                and all(len(ln) <= width for ln in lines))

    return check


def acknowledged_after(previous: str, ack: str) -> Callable[[str], bool]:
    """A new status line (not `previous`) showing `ack`."""

    def check(screen: str) -> bool:
        line = status_line(screen)
        return ack in line and line != previous

    return check


def test_edit_in_a_real_terminal(terminal: Callable[..., Terminal],
                                 setup: tuple[Path, Path]) -> None:
    store_path, _ = setup
    t = terminal("002")
    screen = t.wait_for("p1.s1")
    assert "The Prime Minister and Home Secretary" in screen
    assert "1 ○ Border security" in screen and "002 5/5" in screen
    t.keys("1")
    screen = t.wait_for(lambda s: "added " in status_line(s))
    assert "1 ● Border security" in screen and "1 ann" in status_line(screen)
    # Search, then theme a three-word selection with the second theme.
    t.keys("/")
    t.keys("France", literal=True)
    t.keys("Enter")
    t.wait_for("/France: match 1 of")
    t.keys("v", "l", "l", "2")
    screen = t.wait_for(lambda s: "Smuggling" in status_line(s))
    t.keys("n")
    t.wait_for("Ctrl-S saves")
    t.keys("Allies named", literal=True)
    t.keys("C-s")
    screen = t.wait_for(lambda s: "note saved" in status_line(s))
    assert "Allies named" in screen  # shown in the side pane
    t.keys("?")
    t.wait_for("Keys (generated from the key bindings)")
    t.keys("Escape")
    t.wait_for(lambda s: "Keys (generated" not in s)
    t.keys("]")  # 002 is the last document by date
    t.wait_for("no next document")
    t.keys("[")
    t.wait_for(lambda s: "003 4/5" in status_line(s))
    t.keys("u")  # the note was in 002: undo goes back there to show what it changed
    t.wait_for(lambda s: "undid note on" in status_line(s) and "002 5/5" in status_line(s))
    t.keys("[")
    t.wait_for(lambda s: "003 4/5" in status_line(s))
    t.keys("q")
    t.wait_for(lambda s: t.dead())
    with Store.open(store_path) as s:
        anns = s.list()
    assert [(a.doc, a.themes, a.note, a.user) for a in anns] == [
        ("002", ("border",), "", "alice"),
        ("002", ("smuggling",), "", "alice"),
    ]
    assert anns[1].quote == "France, Iraq, Vietnam"
    # Started again without a document, it opens where alice left off.
    again = terminal()
    again.wait_for(lambda s: "003 4/5" in status_line(s))
    again.keys("]")
    screen = again.wait_for(lambda s: "002 5/5" in status_line(s))
    assert "France, Iraq, Vietnam" in screen  # the cursor's line, kept in view
    again.keys("q")


def test_resize_and_small_terminal(terminal: Callable[..., Terminal]) -> None:
    t = terminal("004")
    t.wait_for("p1.s1")
    for w, h in (("80", "24"), ("50", "12"), ("120", "40")):
        subprocess.run([*t.tmux, "resize-window", "-t", t.name, "-x", w, "-y", h], check=True)
        t.keys("j")
        t.wait_for(drawn_at(int(w), int(h)))
    t.keys("q")
    t.wait_for(lambda s: t.dead())


def test_sigkill_keeps_every_acknowledged_action(
    terminal: Callable[..., Terminal], setup: tuple[Path, Path]
) -> None:
    store_path, _ = setup
    t = terminal("001")
    t.wait_for("p1.s1")
    acknowledged: list[str] = []
    steps: list[tuple[tuple[str, ...], str]] = [
        (("1",), "added "),
        (("2",), "added Smuggling to"),
        ((")", "2"), "added "),
        (("}", "v", "l", "1"), "added "),
        (("v", ")", ")", "1"), "added "),
        (("g", "d"), "deleted "),
    ]
    previous = ""
    for keys, ack in steps:
        t.keys(*keys)
        screen = t.wait_for(acknowledged_after(previous, ack))
        previous = status_line(screen)
        found = re.search(r"\b([0-9a-f]{8})\b", previous.split(" │ ")[-1])
        assert found, previous
        acknowledged.append(found.group(1))
    t.keys("n")
    t.keys("unsaved draft", literal=True)  # never acknowledged: may be lost
    os.kill(t.pid(), signal.SIGKILL)
    t.wait_for(lambda s: t.dead())
    with Store.open(store_path) as s:
        live = {a.id: a for a in s.list()}
        history = s.history()
    a, a_again, b, c, d, a_deleted = acknowledged
    assert a == a_again == a_deleted
    assert set(live) == {b, c, d}
    assert [live[x].themes for x in (b, c, d)] == [("smuggling",), ("border",), ("border",)]
    assert {x.user for x in live.values()} == {"alice"}
    # Every acknowledged action is in the history, in order.
    assert [c.action for c in history] == ["add", "themes", "add", "add", "add", "remove"]


def test_another_writer_shows_after_reload(
    terminal: Callable[..., Terminal], setup: tuple[Path, Path]
) -> None:
    store_path, codebook = setup
    t = terminal("002")
    t.wait_for("p1.s1")
    t.keys("1")
    t.wait_for(lambda s: "1 ann" in status_line(s))
    env = {**os.environ, "ANNOTATE_STORE": str(store_path), "ANNOTATE_USER": "bob"}
    subprocess.run(
        [*ANNOTATE, "add", "002", str(SEEDS), "--sentence", "002.p3.s1", "--theme",
         "smuggling", "--codebook", str(codebook)],
        env=env, check=True, capture_output=True, cwd=ROOT,
    )
    t.keys("C-l")
    t.wait_for(lambda s: "2 ann" in status_line(s))
    t.keys("1")  # alice's toggle removes her own annotation; bob's stays
    t.wait_for(lambda s: "1 ann" in status_line(s))
    t.keys("q")
    t.wait_for(lambda s: t.dead())
    with Store.open(store_path) as s:
        assert [(a.user, a.themes) for a in s.list()] == [("bob", ("smuggling",))]
