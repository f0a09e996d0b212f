"""Benchmark: the whole Pulumi program under mocks.

Prints the median, min and max wall time of several in-process runs of __main__.py with
the dev stack's config, and how many resources each run registers, by type.
Usage: .venv/bin/python scripts/bench_mocks.py [RUNS]
"""

from __future__ import annotations

import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from tests.component.harness import run_program  # noqa: E402


def main(runs: int) -> None:
    dev = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())["config"]
    config = {key.split(":", 1)[1]: value for key, value in dev.items()}
    timings, program = [], None
    run_program(config)  # warm-up: imports and first-run caches are not what we measure
    for _ in range(runs):
        start = time.perf_counter()
        program = run_program(config)
        timings.append(time.perf_counter() - start)
    counts = Counter(r.type for r in program.resources)
    print(f"runs: {runs}")
    print(f"median: {statistics.median(timings) * 1000:.1f} ms   min: {min(timings) * 1000:.1f} ms   "
          f"max: {max(timings) * 1000:.1f} ms")
    print(f"resources registered: {len(program.resources)} "
          f"({sum(1 for r in program.resources if r.custom)} custom, "
          f"{sum(1 for r in program.resources if not r.custom)} components)")
    for type_token, count in sorted(counts.items()):
        print(f"  {count:3d}  {type_token}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
