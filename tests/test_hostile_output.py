"""Terminal escape injection: text from files and users reaches the terminal only with its
control characters made visible (annotate.sanitize.visible), in every command of the corpus,
themes and reuse areas; JSON output keeps the exact text (JSON escapes controls itself)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from annotate.cli import app

ESC = "\x1b"
OSC52 = ESC + "]52;c;Y3VybCBldmlsLnNoIHwgc2g=" + "\x07"  # write the clipboard
TITLE = ESC + "]0;pwned" + "\x07"  # retitle the window
CLEAR = ESC + "[2J" + ESC + "[H"  # clear the screen
CSI8 = "\x9b31m"  # an 8-bit CSI (C1)
BIDI = "\u202eevil\u202c"  # right-to-left override ("Trojan Source")
HOSTILE = OSC52 + TITLE + CLEAR + CSI8 + BIDI

# What must never reach the terminal raw: C0 but newline (tabs too: rich expands them), DEL,
# C1, and the bidirectional overrides and isolates.
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

SENTENCES = (
    "The United Kingdom will return people with no right to remain. "
    "We will fund border security in the Western Balkans with our partners. "
    "Smuggling gangs exploit vulnerable people along the whole route. "
)


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    """A corpus where every field a user or a file supplies carries escape sequences."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("a", "b", "c"):
        (corpus / f"{name}.txt").write_text(
            f"{SENTENCES}Also {HOSTILE} in the text of {name}.\n\n{SENTENCES}\n",
            encoding="utf-8",
        )
    (corpus / f"d{ESC}[31m.txt").write_text(SENTENCES + "\n", encoding="utf-8")
    (corpus / "e.html").write_text(
        f"<html><head><title>Page {HOSTILE}</title></head><body><p>{SENTENCES}</p>"
        # (C0 controls in an HTML body mark it as binary and refuse it; C1 and bidi pass.)
        f"<p>More {CSI8}{BIDI} here.</p></body></html>",
        encoding="utf-8",
    )
    toml_hostile = HOSTILE.replace(ESC, "\\u001b").replace("\x07", "\\u0007")
    toml_hostile = toml_hostile.replace("\x9b", "\\u009b")
    (corpus / "corpus.toml").write_text(
        f'[corpus]\nname = "Corpus {toml_hostile}"\n\n'
        f'[[document]]\nfile = "a.txt"\ntitle = "Title {toml_hostile}"\n'
        f'speakers = ["Speaker {toml_hostile}"]\ndate = "2020"\n\n'
        f'[[document]]\nfile = "b.txt"\nauthor = "Author {toml_hostile}"\ndate = "2021"\n',
        encoding="utf-8",
    )
    (corpus / "themes.toml").write_text(
        f'[meta]\nname = "Book {toml_hostile}"\n\n'
        f'[[theme]]\nid = "returns"\nlabel = "Returns {toml_hostile}"\n'
        f'description = "Desc {toml_hostile}"\npatterns = ["return", "remain"]\n\n'
        f'[[theme]]\nid = "balkans"\nlabel = "Balkans {toml_hostile}"\n'
        f'patterns = ["balkans"]\n',
        encoding="utf-8",
    )
    return corpus


def _run(*args: str) -> tuple[int, str]:
    r = CliRunner().invoke(app, list(args))
    return r.exit_code, r.output


def _clean(out: str) -> None:
    found = sorted({f"U+{ord(c):04X}" for c in RAW.findall(out)})
    assert not found, f"raw control characters in the output: {found}\n{out}"


@pytest.mark.parametrize(
    "args",
    [
        ["corpus"],
        ["corpus", "--json"],
        ["show", "a"],
        ["show", "e"],
        ["show", "d\x1b[31m"],
        ["show", "a", "--json"],
        ["themes"],
        ["themes", "--theme", "returns"],
        ["themes", "--json"],
        ["reuse"],
        ["reuse", "--json"],
        ["compare", "a", "b"],
        ["codebook", "show", "CODEBOOK"],
        ["codebook", "check", "CODEBOOK"],
    ],
)
def test_no_raw_control_characters_in_any_output(hostile: Path, args: list[str]) -> None:
    if args[0] == "codebook":
        argv = [*args[:-1], str(hostile / "themes.toml")]
    else:
        argv = [*args, str(hostile)]
        if args[0] in ("show", "compare"):
            argv = [args[0], *args[1:], str(hostile)]
    code, out = _run(*argv)
    assert code == 0, out
    _clean(out)
    if "--json" in args:
        json.loads(out)  # still valid JSON


def test_json_keeps_the_exact_text(hostile: Path) -> None:
    code, out = _run("show", "a", str(hostile), "--json")
    assert code == 0
    data = json.loads(out)
    text = "".join(s["text"] for p in data["paragraphs"] for s in p["sentences"])
    assert HOSTILE in text
    assert data["title"] == "Title " + HOSTILE
    code, out = _run("themes", str(hostile), "--json")
    data = json.loads(out)
    assert {t["label"] for t in data["themes"]} == {"Returns " + HOSTILE, "Balkans " + HOSTILE}


def test_shown_text_keeps_offsets(hostile: Path) -> None:
    from annotate.sanitize import visible

    code, out = _run("show", "a", str(hostile))
    assert visible(HOSTILE) in out  # one character for one, in place


def test_errors_and_warnings_are_sanitised(tmp_path: Path) -> None:
    bad = tmp_path / f"x{ESC}]0;t\x07.txt"
    bad.write_bytes(b"")
    code, out = _run("corpus", str(bad))
    assert code == 1 and out.startswith("Error: ")
    _clean(out)
    good = tmp_path / "ok.txt"
    good.write_text(SENTENCES)
    code, out = _run("corpus", str(tmp_path), "--skip-bad")
    assert code == 0 and "Skipped: " in out
    _clean(out)
    utf16 = tmp_path / f"w{ESC}[2J.txt"
    utf16.write_bytes(SENTENCES.encode("utf-16"))
    code, out = _run("corpus", str(tmp_path), "--skip-bad")
    assert "Warning: " in out
    _clean(out)
    code, out = _run("show", f"nope{ESC}[2J", str(good))
    assert code == 1
    _clean(out)


@pytest.mark.parametrize("args", [["show", "a", "--no-pager"], ["themes", "--theme", "returns"],
                                  ["corpus"], ["compare", "a", "b"]])
def test_in_a_real_terminal_only_our_own_styles_are_escapes(hostile: Path,
                                                            args: list[str]) -> None:
    """On a terminal rich adds its own colour codes (SGR, `ESC [ … m`); nothing else may
    get through: no OSC (clipboard, title), no screen clear, no 8-bit CSI, no bidi."""
    import os
    import select
    import subprocess
    import sys

    master, slave = os.openpty()
    argv = [sys.executable, "-m", "annotate", args[0], *args[1:], str(hostile)]
    env = {**os.environ, "COLUMNS": "120", "LINES": "40", "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                            close_fds=True)
    os.close(slave)
    chunks: list[bytes] = []
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            proc.kill()
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    proc.wait(timeout=60)
    os.close(master)
    out = b"".join(chunks).decode("utf-8", "replace")
    assert proc.returncode == 0, out
    assert "\x1b[" in out  # rich did style it: this ran on a terminal
    others = re.sub(r"\x1b\[[0-9;]*m", "", out)  # rich's own SGR codes
    _clean(others.replace("\r\n", "\n"))
