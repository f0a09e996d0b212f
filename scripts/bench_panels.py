"""Benchmark every dashboard panel against a real Prometheus, as Grafana would query it.

Starts the integration suite's environment (PostgreSQL, Redis, the demo app behind
nginx, a Celery worker, Flower, the exporters and Prometheus running the product's
rendered config, all on 127.0.0.1), generates workload, waits for data, then runs
each panel's queries as Grafana does: a range query over the last --range (15m) at
--step (15s), with `$__rate_interval` and the other variables filled in. Prints each
panel's query time and series count, and the total.

    .venv/bin/python scripts/bench_panels.py [--range 15m] [--step 15s] [--repeat 3] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from components.types import duration_ms, format_duration  # noqa: E402
from tests.integration import services  # noqa: E402
from tests.integration.panels import dashboard_queries, evaluate, wait_for_data  # noqa: E402
from tests.integration.workload import BackgroundWorkload, run_rounds  # noqa: E402


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--range", default="15m", help="dashboard time range (default 15m)")
    parser.add_argument("--step", default="15s", help="query step, as Grafana's $__interval (default 15s)")
    parser.add_argument("--scrape-interval", default="2s", help="Prometheus scrape interval (default 2s)")
    parser.add_argument("--rounds", type=int, default=10, help="workload rounds before measuring (default 10)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per query; the median is reported (default 3)")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    missing = services.missing_requirements()
    if missing:
        print("cannot run the benchmark; missing: " + "; ".join(missing), file=sys.stderr)
        return 2
    range_s = services.parse_duration(args.range)
    step_s = services.parse_duration(args.step)
    scrape_timeout = format_duration(max(duration_ms(args.scrape_interval) // 2, 500))
    queries = dashboard_queries()

    t0 = time.monotonic()
    print(f"starting the environment (scrape interval {args.scrape_interval}) ...", flush=True)
    with services.environment(scrape_interval=args.scrape_interval, scrape_timeout=scrape_timeout) as env:
        prom = env.prometheus
        print(f"  up in {time.monotonic() - t0:.1f}s; Prometheus at {prom.url}", flush=True)
        burst = run_rounds(env.nginx.url, rounds=args.rounds, max_seconds=60)
        print(f"  workload: {burst.rounds} rounds, {burst.requests} requests, {dict(burst.by_status_class)}")
        with BackgroundWorkload(env.nginx.url, rounds=600, max_seconds=600, pause=1.0):
            services.wait_for_targets_up(prom, timeout=30)
            still_missing = wait_for_data(prom, queries, timeout=60)
            print(f"  data ready after {time.monotonic() - t0:.1f}s"
                  + (f"; still without data: {still_missing}" if still_missing else ""), flush=True)

            now = time.time()
            results = []
            for q in queries:
                runs = [evaluate(prom, q, mode="range", range_s=range_s, step_s=step_s, now=now)
                        for _ in range(max(args.repeat, 1))]
                results.append((q, statistics.median(r.seconds for r in runs), runs[-1]))

    panels: dict[tuple[str, str], list] = defaultdict(list)
    for q, seconds, ev in results:
        panels[(q.dashboard, q.panel)].append((q, seconds, ev))

    print(f"\nrange {args.range}, step {args.step}, median of {args.repeat} run(s) per query\n")
    header = f"{'dashboard':<25} {'panel':<34} {'queries':>7} {'ms':>9} {'series':>7}"
    print(header)
    print("-" * len(header))
    total_ms = 0.0
    empty = []
    report = []
    for (uid, title), rows in panels.items():
        ms = sum(s for _, s, _ in rows) * 1000
        series = sum(ev.series for _, _, ev in rows)
        total_ms += ms
        for q, _, ev in rows:
            if ev.error or ev.series == 0:
                empty.append(f"{q.id}: {ev.error or 'no series'}\n    {ev.promql}")
        print(f"{uid:<25} {title[:34]:<34} {len(rows):>7} {ms:>9.1f} {series:>7}")
        report.append({"dashboard": uid, "panel": title, "queries": [
            {"refId": q.ref_id, "expr": q.expr, "promql": ev.promql, "ms": s * 1000, "series": ev.series,
             "error": ev.error} for q, s, ev in rows]})
    print("-" * len(header))
    print(f"{'total':<25} {f'{len(panels)} panels':<34} {len(results):>7} {total_ms:>9.1f}")
    if empty:
        print("\nqueries without data:\n  " + "\n  ".join(empty))
    if args.json:
        args.json.write_text(json.dumps({"range": args.range, "step": args.step, "total_ms": total_ms,
                                         "panels": report}, indent=2))
    return 1 if empty else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
