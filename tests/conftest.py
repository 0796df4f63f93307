"""Shared fixtures. Every test runs with its own store and user, so nothing a developer has
annotated is touched and results do not depend on who runs them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
DATA = Path(__file__).resolve().parent / "data"
# Official schemas (REFI-QDA, W3C Web Annotation) in ../shared; tests skip where absent.
SCHEMAS = ROOT.parent / "shared" / "schemas"
UPDATE_GOLDEN = os.environ.get("UPDATE_GOLDEN") == "1"


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANNOTATE_STORE", str(tmp_path / "store" / "annotations.sqlite"))
    monkeypatch.setenv("ANNOTATE_USER", "tester")
    monkeypatch.delenv("ANNOTATE_CODEBOOK", raising=False)
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("NO_COLOR", "1")


@pytest.fixture
def seeds_dir() -> Path:
    return SEEDS


def check_golden(path: Path, actual: str) -> None:
    """Compare with a golden file; `UPDATE_GOLDEN=1 pytest` rewrites it (then read the diff)."""
    if UPDATE_GOLDEN or not path.exists():
        if not UPDATE_GOLDEN:
            pytest.fail(f"golden file {path} missing: run with UPDATE_GOLDEN=1 and review it")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert actual == path.read_text(encoding="utf-8")
