"""The editor's issue-14 features in a real terminal (tmux): the annotation list, go-to,
overlapping annotations, the fuzzy theme picker with Tab, suggestions from inside with their
hints, the other side of a shared passage, and a wide terminal."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

from annotate.store import Store
from tests import test_tui_terminal as tt
from tests.test_tui_terminal import Terminal, status_line

# The real-terminal fixtures (and the skip without tmux) of test_tui_terminal.
pytestmark = tt.pytestmark
setup = tt.setup
terminal = tt.terminal


def test_list_goto_overlaps_picker_and_suggestions(
    terminal: Callable[..., Terminal], setup: tuple[Path, Path]
) -> None:
    store_path, _ = setup
    t = terminal("002")
    t.wait_for("p1.s1")
    t.keys("1")
    t.wait_for(lambda s: "added Border security to p1.s1" in status_line(s))
    # go to a sentence by its id, theme it with the picker: fuzzy words, Tab completes
    t.keys(":")
    t.wait_for("go to (sentence id")
    t.keys("p3.s1", literal=True)
    t.keys("Enter")
    t.wait_for(lambda s: "p3.s1: sentence" in status_line(s))
    t.keys("t")
    t.keys("smuggl", literal=True)
    t.keys("Tab")
    t.wait_for("theme (words of its label or id): smuggling")
    t.keys("Enter")
    t.wait_for(lambda s: "added Smuggling to p3.s1" in status_line(s))
    # a selection inside p1.s1 overlaps the sentence's annotation: both in the pane
    t.keys("g", "v", "l", "2")
    t.wait_for(lambda s: "added Smuggling to the selection in p1.s1" in status_line(s))
    t.keys("Escape", "c")
    screen = t.wait_for(lambda s: "of 2 here" in status_line(s))
    assert "2 annotations here (c" in screen
    # the list: three annotations, filtered by theme, Enter goes there
    t.keys("L")
    screen = t.wait_for("Annotations of this document")
    assert "3 of 3" in screen
    t.keys("t")
    t.wait_for("theme: Border security")
    t.keys("t")
    screen = t.wait_for("2 of 3")
    t.keys("j", "Enter")
    t.wait_for(lambda s: "Annotations of this document" not in s
               and "Smuggling on p3.s1" in status_line(s))
    # suggestions from inside, with the hint where the user acts
    t.keys("!")
    t.wait_for(lambda s: "suggested " in status_line(s))
    t.keys("g", "s")
    screen = t.wait_for("a accept  x reject")
    assert "pattern" in screen and "“border*” matched “Border”" in screen, screen
    t.keys("a")
    t.wait_for(lambda s: "accepted " in status_line(s))
    t.keys("q")
    t.wait_for(lambda s: t.dead())
    with Store.open(store_path) as s:
        anns = s.list(doc="002")
        accepted = [a for a in anns if s.provenance(a.id) is not None
                    and a.status == "accepted"]
    assert len([a for a in anns if s is not None and a.user == "alice"]) >= 4
    assert len(accepted) == 1


def test_other_side_of_a_shared_passage_and_a_wide_terminal(
    terminal: Callable[..., Terminal],
) -> None:
    t = terminal("002")
    t.wait_for("p1.s1")
    t.keys("r")
    t.wait_for(lambda s: "shared with" in status_line(s))
    t.keys("Enter")
    screen = t.wait_for("Difference:")
    assert "words," in screen and " │ " in screen  # the two sides in columns
    t.keys("o")
    line = status_line(t.wait_for(lambda s: "o goes back" in status_line(s)))
    assert "002 " not in line.split("│")[0]
    t.keys("o")
    t.wait_for(lambda s: "002 5/5" in status_line(s))
    subprocess.run([*t.tmux, "resize-window", "-t", t.name, "-x", "200", "-y", "40"],
                   check=True)
    t.keys("j")
    screen = t.wait_for(lambda s: len(s.splitlines()) >= 40 and "Themes:" in s)
    # the text column stops at ~100 columns: the side pane takes the other ~90
    first = next(ln for ln in screen.splitlines() if "Themes:" in ln)
    assert 100 < first.index("Themes:") < 125
    # g alone goes to the start (after a short wait for a second key); g p… goes to a sentence
    t.keys("G")
    t.wait_for(lambda s: "002 5/5 p1.s1" not in status_line(s))
    t.keys("g")
    t.wait_for(lambda s: "002 5/5 p1.s1 1/" in status_line(s))
    t.keys("g", "p")
    t.wait_for("go to (sentence id")
    t.keys("4.s1", literal=True)
    t.keys("Enter")
    t.wait_for(lambda s: "002 5/5 p4.s1" in status_line(s))
    t.keys("q")
    t.wait_for(lambda s: t.dead())


def test_no_color_marks_selection_and_shared_passages(setup: tuple[Path, Path]) -> None:
    """With NO_COLOR, no colour is sent at all, and the selection is in reverse video, a
    shared passage is marked in the gutter."""
    store_path, codebook = setup
    cmd = [*tt.ANNOTATE, "edit", "002", str(tt.SEEDS), "--codebook", str(codebook)]
    env = {"ANNOTATE_STORE": str(store_path), "ANNOTATE_USER": "alice",
           "TERM": "xterm-256color", "NO_COLOR": "1"}
    t = Terminal(cmd, env)
    try:
        t.wait_for("p1.s1")
        t.keys("r")
        screen = t.wait_for(lambda s: "shared with" in status_line(s))
        assert "≈" in screen
        t.keys("g", "v", "l", "l")
        t.wait_for(lambda s: "sel 3w" in status_line(s))
        raw = subprocess.run([*t.tmux, "capture-pane", "-e", "-p", "-t", t.name],
                             capture_output=True, text=True, check=False).stdout
        # reverse video for the selection (the cursor, on its last word, too)
        reversed_text = "".join(re.findall(r"\x1b\[(?:[0-9;]*;)?7(?:;[0-9;]*)?m([^\x1b]*)",
                                           raw))
        assert "The Prime" in reversed_text, raw.splitlines()[0]
        assert "38;5;" not in raw and "38;2;" not in raw  # no colour at all
        t.keys("q")
        t.wait_for(lambda s: t.dead())
    finally:
        t.close()
