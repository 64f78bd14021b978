"""``make bench``: every benchmark of the project, each printing ratios against a baseline measured
in the same run. Benchmarks are not tests: they report numbers, they never pass or fail on timing.

Usage: python benchmarks/run.py [NAME ...]   (no name: all of them)
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

BENCHMARKS = ["bench_sim", "bench_collector", "bench_detect", "bench_scale", "bench_docker"]


def main(argv: list[str]) -> int:
    names = argv or BENCHMARKS
    for name in names:
        if name not in BENCHMARKS:
            print(f"unknown benchmark {name!r}; known: {', '.join(BENCHMARKS)}", file=sys.stderr)
            return 2
    for name in names:
        print(f"\n=== {name} ===", flush=True)
        importlib.import_module(f"benchmarks.{name}").main([])  # defaults; each module has its own --help
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
