"""Benchmark: the whole Pulumi program under mocks.

Prints the median, min and max wall time of several in-process runs of __main__.py with
the dev stack's config, and how many resources each run registers, by type; then the same
for a fleet: 1, 10, 100 and 1000 extra targets (spread over the fixed jobs, half of them
labelled), with the size of the rendered prometheus.yml.
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

from components.exporters.table import BY_NAME, EXPORTER_NAMES  # noqa: E402
from tests.component.harness import run_program  # noqa: E402

FLEET_SIZES = (1, 10, 100, 1000)


def fleet(size: int) -> dict:
    """`targets` with `size` extra targets over the fixed jobs (django's replace the default);
    a prober's (blackbox) are URLs."""
    jobs = (*EXPORTER_NAMES, "django")
    targets: dict[str, list] = {job: [] for job in jobs}
    for index in range(size):
        job = jobs[index % len(jobs)]
        if job in BY_NAME and BY_NAME[job].prober:
            url = f"https://site-{index}.fleet.internal/healthz"
            targets[job].append({"url": url, "labels": {"role": "site"}} if index % 2 else url)
            continue
        address = f"host-{index}.fleet.internal:{9100 + index % 7}"
        targets[job].append({"address": address, "labels": {"host": f"host-{index}", "role": "app"}}
                            if index % 2 else address)
    if not targets["django"]:
        targets["django"] = ["django:8000"]
    return targets


def timed(config: dict, runs: int) -> tuple[list[float], object]:
    secret = [key for key in ("postgresDsn",) if key in config]
    run_program(config, secret)  # warm-up: imports and first-run caches are not what we measure
    timings, program = [], None
    for _ in range(runs):
        start = time.perf_counter()
        program = run_program(config, secret)
        timings.append(time.perf_counter() - start)
    return timings, program


def prometheus_yml_size(program) -> int:
    container = next(r for r in program.resources if r.name == "prometheus" and r.custom)
    return len(next(u["content"] for u in container.inputs["uploads"] if u["file"].endswith("prometheus.yml")))


def main(runs: int) -> None:
    dev = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())["config"]
    config = {key.split(":", 1)[1]: value for key, value in dev.items()}
    timings, program = timed(config, runs)
    counts = Counter(r.type for r in program.resources)
    print(f"runs: {runs}")
    print(f"median: {statistics.median(timings) * 1000:.1f} ms   min: {min(timings) * 1000:.1f} ms   "
          f"max: {max(timings) * 1000:.1f} ms")
    print(f"resources registered: {len(program.resources)} "
          f"({sum(1 for r in program.resources if r.custom)} custom, "
          f"{sum(1 for r in program.resources if not r.custom)} components)")
    for type_token, count in sorted(counts.items()):
        print(f"  {count:3d}  {type_token}")
    print()
    print("extra targets   median ms   min ms   max ms   prometheus.yml bytes")
    for size in FLEET_SIZES:
        # Outside demo mode, so the Django targets count too (demo mode scrapes its own app).
        timings, program = timed({"postgresDsn": "postgresql://monitor:pw@db:5432/app", "targets": fleet(size)}, runs)
        print(f"{size:13d}   {statistics.median(timings) * 1000:9.1f}   {min(timings) * 1000:6.1f}   "
              f"{max(timings) * 1000:6.1f}   {prometheus_yml_size(program):20d}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
