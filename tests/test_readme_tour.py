"""The README's tour runs as written: its `$ annotate …` lines, in order, in a fresh folder
holding a copy of the seeds, after the main job (`make run`'s commands), each succeeding.

`ANNOTATE_TOUR_BIN` names the `annotate` to run (CI points it at the installed wheel);
by default the one installed beside this Python (the editable install of `make setup`)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, SEEDS

# Commands that take over the terminal: checked to start (`--help`), not driven here (the
# editor has its own headless and tmux tests).
INTERACTIVE = {"edit"}


def tour_commands() -> list[list[str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## A tour on the seeds", 1)[1].split("\n## ", 1)[0]
    commands = [shlex.split(m[1], comments=True)
                for m in re.finditer(r"^\$ (annotate .*)$", section, re.M)]
    assert len(commands) >= 8, "the tour lost its commands"
    return commands


def main_job() -> list[list[str]]:
    """`make run`'s annotate commands, read from the Makefile."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    block = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    jobs = [shlex.split(line.split("$(BIN)/", 1)[1]) for line in block.splitlines()
            if "$(BIN)/annotate" in line]
    assert jobs, "no annotate commands under `run:` in the Makefile"
    return jobs


def annotate_bin() -> str:
    exe = os.environ.get("ANNOTATE_TOUR_BIN") or str(Path(sys.executable).parent / "annotate")
    if not Path(exe).exists() and not shutil.which(exe):
        pytest.skip(f"no `annotate` to run at {exe} (run `make setup`)")
    return exe


def test_the_tour_runs_as_written_after_the_main_job(tmp_path: Path) -> None:
    exe = annotate_bin()
    folder = tmp_path / "fresh"
    folder.mkdir()
    shutil.copytree(SEEDS, folder / "seeds")
    env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1"}
    env.pop("ANNOTATE_STORE", None)  # the tour uses the default store in its folder
    env.pop("ANNOTATE_CODEBOOK", None)
    ran = []
    for args in [*main_job(), *tour_commands()]:
        assert args[0] == "annotate"
        if args[1] in INTERACTIVE:
            args = [*args[:2], "--help"]
        out = subprocess.run([exe, *args[1:]], cwd=folder, env=env, capture_output=True,
                             text=True, timeout=300, stdin=subprocess.DEVNULL)
        assert out.returncode == 0, f"`{shlex.join(args)}` failed:\n{out.stderr}"
        assert "Traceback" not in out.stderr
        ran.append(args[1])
    assert "export" in ran and (folder / "exports" / "seeds.xml").is_file()
    assert (folder / ".annotate" / "annotations.sqlite").is_file()  # the tour's `add`
