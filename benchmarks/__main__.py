"""Run every benchmark module in turn (`make bench`)."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

import benchmarks


def main() -> int:
    names = sorted(
        m.name for m in pkgutil.iter_modules([str(Path(benchmarks.__file__).parent)])
        if m.name.startswith("bench_")
    )
    wanted = sys.argv[1:]
    for name in names:
        if wanted and name.removeprefix("bench_") not in wanted and name not in wanted:
            continue
        print(f"\n## {name}\n", flush=True)
        module = importlib.import_module(f"benchmarks.{name}")
        module.main()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
