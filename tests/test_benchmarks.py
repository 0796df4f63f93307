"""The benchmarks are not run by the tests (they take minutes), but they must stay importable
so `make bench` does not rot unnoticed."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest

import benchmarks

NAMES = sorted(
    m.name for m in pkgutil.iter_modules([str(Path(benchmarks.__file__).parent)])
    if m.name.startswith("bench_")
)


def test_there_are_benchmarks() -> None:
    assert {"bench_corpus", "bench_reuse", "bench_themes", "bench_store", "bench_tui",
            "bench_tei"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_benchmark_imports_and_has_main(name: str) -> None:
    module = importlib.import_module(f"benchmarks.{name}")
    assert callable(module.main)
