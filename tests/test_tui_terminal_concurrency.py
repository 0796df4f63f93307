"""Two annotators in a real terminal (tmux): another annotator's change shows in the running
editor without a keypress; a note saved over it opens the conflict view instead of
overwriting it; an unsaved note survives the terminal being closed (SIGHUP) or the process
being killed (SIGKILL), and comes back when the editor is opened again."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from annotate.store import Store
from tests.test_tui_terminal import (
    ANNOTATE,
    ROOT,
    SEEDS,
    Terminal,
    pytestmark,
    setup,
    status_line,
    terminal,
)

__all__ = ["pytestmark", "setup", "terminal"]  # the tmux skip and fixtures, used by name


def annotate_as(user: str, store_path: Path, *args: str) -> str:
    env = {**os.environ, "ANNOTATE_STORE": str(store_path), "ANNOTATE_USER": user}
    out = subprocess.run([*ANNOTATE, *args], env=env, capture_output=True, text=True,
                         cwd=ROOT, check=True)
    return out.stdout


def first_sentence_annotated(store_path: Path, note: str) -> str:
    from annotate.corpus import load_corpus

    doc = load_corpus([SEEDS]).get("002")
    s = doc.sentences[0]
    with Store.open(store_path) as st:
        return st.add(doc, s.start, s.end, themes=["border"], note=note, user="alice").id


def test_a_change_by_another_annotator_shows_without_a_key(
    terminal: Callable[..., Terminal], setup: tuple[Path, Path]
) -> None:
    store_path, _ = setup
    ann = first_sentence_annotated(store_path, "original reading")
    t = terminal("002")
    t.wait_for("original reading")  # the side pane shows the note under the cursor
    annotate_as("bob", store_path, "note", ann, "bob's reading", "--force")
    screen = t.wait_for(f"bob changed the note of {ann}", timeout=5)
    assert "bob's reading" in screen and "original reading" not in screen
    annotate_as("bob", store_path, "add", "002", str(SEEDS), "--sentence", "002.p2.s1")
    t.wait_for(lambda s: "2 ann" in status_line(s), timeout=5)
    t.keys("q")
    t.wait_for(lambda s: t.dead())


def test_a_note_saved_over_anothers_change_asks_and_merges(
    terminal: Callable[..., Terminal], setup: tuple[Path, Path]
) -> None:
    store_path, _ = setup
    ann = first_sentence_annotated(store_path, "original reading")
    t = terminal("002")
    t.wait_for("original reading")
    t.keys("n")
    t.wait_for("Ctrl-S saves")
    t.keys(" and mine", literal=True)
    t.wait_for("original reading and mine")
    annotate_as("bob", store_path, "note", ann, "bob's words", "--force")
    t.wait_for("Ctrl-S will show both", timeout=5)
    t.keys("C-s")
    screen = t.wait_for("Theirs (bob, version 2)")
    assert f"{ann} (002 [0, " in screen and "after you saw version 1" in screen
    assert "Yours:" in screen and "original reading and mine" in screen
    assert "e  merge" in screen
    with Store.open(store_path) as s:
        assert s.get(ann).note == "bob's words"  # nothing overwritten while asking
    t.keys("e")
    t.wait_for(lambda s: "merged" in status_line(s))
    t.keys("C-s")
    t.wait_for(lambda s: "note saved" in status_line(s))
    t.keys("q")
    t.wait_for(lambda s: t.dead())
    with Store.open(store_path) as s:
        got = s.get(ann)
        assert got.note == "bob's words\n\noriginal reading and mine"
        assert [c.user for c in s.history(ann)] == ["alice", "bob", "alice"]


def test_an_unsaved_note_survives_the_terminal_closing(
    terminal: Callable[..., Terminal], setup: tuple[Path, Path]
) -> None:
    store_path, _ = setup
    ann = first_sentence_annotated(store_path, "kept")
    t = terminal("002")
    t.wait_for("p1.s1")
    t.keys("n")
    t.wait_for("Ctrl-S saves")
    t.keys(" and half a thought", literal=True)
    t.wait_for("kept and half a thought")
    os.kill(t.pid(), signal.SIGHUP)  # what closing the terminal window sends
    t.wait_for(lambda s: t.dead())
    with Store.open(store_path) as s:
        assert s.get(ann).note == "kept"  # a draft is never the note
        [draft] = s.drafts("alice")
        assert (draft.annotation, draft.text) == (ann, "kept and half a thought")
        assert draft.cursor == len("kept and half a thought")
    again = terminal()
    screen = again.wait_for(f"restored your unsaved note on {ann}")
    assert "kept and half a thought" in screen
    again.keys("!", literal=True)
    again.keys("C-s")
    again.wait_for(lambda s: "note saved" in status_line(s))
    again.keys("q")
    again.wait_for(lambda s: again.dead())
    with Store.open(store_path) as s:
        assert s.get(ann).note == "kept and half a thought!"
        assert s.drafts("alice") == []


def test_a_draft_is_saved_while_typing_and_survives_sigkill(
    terminal: Callable[..., Terminal], setup: tuple[Path, Path]
) -> None:
    store_path, _ = setup
    t = terminal("002")
    t.wait_for("p1.s1")
    t.keys(")", "n")  # a new note on the second sentence
    t.wait_for("New note on the sentence")
    t.keys("typed, not saved", literal=True)
    t.wait_for("typed, not saved")
    deadline = time.monotonic() + 10
    drafts: list[str] = []
    while time.monotonic() < deadline and not drafts:  # saved as it is typed (debounced)
        with Store.open(store_path) as s:
            drafts = [d.text for d in s.drafts("alice")]
        time.sleep(0.05)
    assert drafts == ["typed, not saved"]
    os.kill(t.pid(), signal.SIGKILL)
    t.wait_for(lambda s: t.dead())
    again = terminal()
    screen = again.wait_for("restored your unsaved note on 002:")
    assert "typed, not saved" in screen and "New note on the sentence" in screen
    again.keys("C-s")
    again.wait_for(lambda s: "with a note" in status_line(s))
    again.keys("q")
    again.wait_for(lambda s: again.dead())
    from annotate.corpus import load_corpus

    second = load_corpus([SEEDS]).get("002").sentences[1]
    with Store.open(store_path) as s:
        [a] = s.list()
        assert a.note == "typed, not saved" and (a.start, a.end) == (second.start, second.end)


def test_closing_the_terminal_keeps_the_draft(
    terminal: Callable[..., Terminal], setup: tuple[Path, Path]
) -> None:
    store_path, _ = setup
    t = terminal("002")
    t.wait_for("p1.s1")
    t.keys("n")
    t.wait_for("Ctrl-S saves")
    t.keys("written as the window closed", literal=True)
    t.wait_for("written as the window closed")
    pid = t.pid()
    t.close()  # the terminal goes away: its process gets SIGHUP, its tty reads fail
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.05)
    assert not _alive(pid)
    with Store.open(store_path) as s:
        assert [d.text for d in s.drafts("alice")] == ["written as the window closed"]
        assert s.list() == []


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
