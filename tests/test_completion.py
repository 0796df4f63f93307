"""Shell completion: Typer's scripts for bash (run for real in bash), zsh and fish (their
completion protocol), completing commands, options, document ids and theme ids."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from annotate.cli import app
from annotate.completion import complete_documents, document_ids, theme_ids

BIN = Path(sys.executable).parent
runner = CliRunner()


def _annotate() -> str:
    exe = BIN / "annotate"
    if not exe.exists():
        pytest.skip("no installed `annotate` script beside this Python (run `make setup`)")
    return str(exe)


def _bash_complete(words: list[str], cwd: Path) -> list[str]:
    """Source the script `annotate --show-completion` prints in bash, then call the completion
    function as bash does on Tab, and return COMPREPLY."""
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed")
    script = (
        'source <(annotate --show-completion bash)\n'
        f'COMP_WORDS=({" ".join(words)}); COMP_CWORD={len(words) - 1}\n'
        '_annotate_completion annotate\n'
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    env = {**os.environ, "PATH": f"{Path(_annotate()).parent}{os.pathsep}{os.environ['PATH']}"}
    out = subprocess.run([bash, "--norc", "--noprofile", "-c", script], capture_output=True,
                         text=True, cwd=cwd, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def test_bash_completes_commands(tmp_path: Path) -> None:
    assert _bash_complete(["annotate", "co"], tmp_path) == ["corpus", "compare", "codebook"]


def test_bash_completes_document_ids_of_the_bundled_corpus(tmp_path: Path) -> None:
    assert _bash_complete(["annotate", "show", "00"], tmp_path) == [
        "000", "001", "002", "003", "004"]


def test_bash_completes_theme_ids_and_options(tmp_path: Path) -> None:
    assert "returns" in _bash_complete(["annotate", "themes", "--theme", "re"], tmp_path)
    assert "--json" in _bash_complete(["annotate", "corpus", "--j"], tmp_path)


def _protocol(shell: str, line: str, cwd: Path, **extra: str) -> str:
    env = {**os.environ, "_ANNOTATE_COMPLETE": f"complete_{shell}",
           "_TYPER_COMPLETE_ARGS": line, **extra}
    out = subprocess.run([_annotate()], capture_output=True, text=True, cwd=cwd, env=env,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_zsh_and_fish_complete_commands(tmp_path: Path) -> None:
    zsh = _protocol("zsh", "annotate co", tmp_path)
    fish = _protocol("fish", "annotate co", tmp_path, _TYPER_COMPLETE_FISH_ACTION="get-args")
    for out in (zsh, fish):
        for command in ("corpus", "compare", "codebook"):
            assert command in out


def test_a_local_seeds_folder_gives_its_own_ids(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "a.txt").write_text("A.\n")
    (tmp_path / "seeds" / "b_long.md").write_text("B.\n")
    (tmp_path / "seeds" / "corpus.toml").write_text('[[document]]\nfile = "b_long.md"\nid = "b"\n')
    assert document_ids() == ["a", "b"]
    assert complete_documents("a,") == ["a,b"]
    assert theme_ids() == []  # no seeds/themes.toml: nothing, and no error


def test_broken_corpus_toml_completes_file_stems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "x.txt").write_text("X.\n")
    (tmp_path / "seeds" / "corpus.toml").write_text("[[document]\n" + "[" * 5000)
    assert document_ids() == ["x"]


def test_dash_h_is_help() -> None:
    for args in (["-h"], ["corpus", "-h"], ["codebook", "export", "-h"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0 and "Usage:" in result.output, args


def test_install_completion_writes_a_script_bash_sources(tmp_path: Path) -> None:
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed")
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home),
           "PATH": f"{Path(_annotate()).parent}{os.pathsep}{os.environ['PATH']}"}
    out = subprocess.run([bash, "--norc", "-c", "annotate --install-completion"],
                         capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "source" in (home / ".bashrc").read_text()
    script = (
        "source ~/.bashrc\n"
        "COMP_WORDS=(annotate co); COMP_CWORD=1\n"
        "_annotate_completion annotate\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    out = subprocess.run([bash, "--norc", "-c", script], capture_output=True, text=True,
                         env=env, cwd=tmp_path, timeout=60)
    assert out.stdout.split() == ["corpus", "compare", "codebook"], out.stderr
