"""Usage errors exit 2 with one line `Error: …` and a hint; problems with the user's data exit
1; neither shows the usage block or a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from annotate.cli import app
from tests.conftest import ROOT, SEEDS

runner = CliRunner()


@pytest.mark.parametrize(("args", "error", "hint"), [
    (["themes", "--width", "10"], "Error: Invalid value for '--width'",
     "Try 'annotate themes --help' for help."),
    (["corpus", "--bogus"], "Error: No such option: --bogus",
     "Try 'annotate corpus --help' for help."),
    (["nosuch"], "Error: No such command 'nosuch'.", "Try 'annotate --help' for help."),
    (["show"], "Error: Missing argument 'doc'.", "Try 'annotate show --help' for help."),
    (["export", str(SEEDS), "--format", "pdf"], "Error: invalid value for '--format': 'pdf'",
     "Use one of tei, webanno, csv, collation."),
    (["export", str(SEEDS), "--format", "collation", "--out", "-"],
     "Error: a collation needs two documents", "Name them with --docs A,B, e.g. --docs 004,000."),
    (["add", "002", "--span", "10:5", str(SEEDS)],
     "Error: invalid value for '--span': '10:5' (the end is not after the start)",
     "Use START:END with START < END, e.g. 120:184."),
])
def test_usage_errors_exit_2_with_one_line_and_a_hint(
    args: list[str], error: str, hint: str
) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 2, result.stderr
    assert lines[0].startswith(error) and lines[1] == hint
    assert "Usage:" not in result.stderr and "Traceback" not in result.stderr


def test_data_errors_still_exit_1() -> None:
    result = runner.invoke(app, ["show", "999", str(SEEDS)])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: unknown document '999'")
    assert len(result.stderr.splitlines()) == 1


def test_the_installed_entry_point_prints_the_same() -> None:
    exe = Path(sys.executable).parent / "annotate"
    if not exe.exists():
        pytest.skip("no installed `annotate` script beside this Python (run `make setup`)")
    out = subprocess.run([str(exe), "corpus", "--bogus"], capture_output=True, text=True,
                         cwd=ROOT, timeout=60)
    assert out.returncode == 2
    assert out.stderr.splitlines() == ["Error: No such option: --bogus",
                                       "Try 'annotate corpus --help' for help."]


def test_help_and_version_still_exit_0() -> None:
    for args in (["--help"], ["--version"], ["export", "-h"]):
        assert runner.invoke(app, args).exit_code == 0
