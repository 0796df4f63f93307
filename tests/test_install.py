"""What an installed annotate finds without a checkout: the bundled example corpus and codebook,
and which corpus wins where. (`.ci/run` builds the wheel and runs it from an empty folder.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from annotate.bundled import NOTICE, bundled_dir, default_codebook
from tests.conftest import ROOT, SEEDS


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "annotate", *args], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=120)


def test_bundled_corpus_is_the_seeds() -> None:
    found = bundled_dir()
    assert found is not None
    names = sorted(p.name for p in found.iterdir() if p.suffix in {".txt", ".toml"})
    assert names == sorted(p.name for p in SEEDS.iterdir() if p.suffix in {".txt", ".toml"})


def test_empty_folder_uses_the_bundled_corpus_and_says_so_once(tmp_path: Path) -> None:
    out = _run(["corpus", "--json"], tmp_path)
    assert out.returncode == 0, out.stderr
    assert [d["id"] for d in json.loads(out.stdout)["documents"]] == [
        "004", "000", "001", "003", "002"]
    assert out.stderr.count(NOTICE) == 1


def test_bundled_codebook_where_there_is_no_seeds_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    bundled = bundled_dir()
    assert bundled is not None and default_codebook() == bundled / "themes.toml"
    (tmp_path / "seeds").mkdir()
    assert default_codebook() == Path("seeds") / "themes.toml"


def test_a_local_seeds_folder_wins(tmp_path: Path) -> None:
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "mine.txt").write_text("My own statement. It has two sentences.\n")
    out = _run(["corpus", "--json"], tmp_path)
    assert out.returncode == 0, out.stderr
    assert [d["id"] for d in json.loads(out.stdout)["documents"]] == ["mine"]
    assert NOTICE not in out.stderr


def test_themes_in_an_empty_folder_use_the_bundled_codebook(tmp_path: Path) -> None:
    out = _run(["themes", "--json"], tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stderr.count(NOTICE) == 1
