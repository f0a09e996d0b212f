"""Benchmark every dashboard panel against a real Prometheus, as Grafana would query it.

Starts the integration suite's environment (PostgreSQL, Redis, the demo app behind
nginx, a Celery worker, Flower, the exporters and Prometheus running the product's
rendered config, all on 127.0.0.1), generates workload, waits for data, then runs
each panel's queries as Grafana does: a range query over the last --range (15m) at
--step (15s), with `$__rate_interval` and the other variables filled in. Prints each
panel's query time and series count, and the total.

With --fleet, the environment grows into the integration suite's fleet (three node_exporters,
two app servers, two Redis servers, extra targets with host labels) and each dashboard is
loaded as Grafana loads it: all its panel queries fired together, with every variable at All
and with one instance picked; prints each dashboard's wall time (median of --repeat loads).

    .venv/bin/python scripts/bench_panels.py [--fleet] [--range 15m] [--step 15s] [--repeat 3] [--json FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from components.types import duration_ms, format_duration  # noqa: E402
from tests.integration import services  # noqa: E402
from tests.integration.panels import (  # noqa: E402
    VARIABLE_JOBS,
    PanelQuery,
    dashboard_queries,
    evaluate,
    live_dashboards,
    template_values,
    wait_for_data,
)
from tests.integration.workload import BackgroundWorkload, run_rounds  # noqa: E402


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--range", default="15m", help="dashboard time range (default 15m)")
    parser.add_argument("--step", default="15s", help="query step, as Grafana's $__interval (default 15s)")
    parser.add_argument("--scrape-interval", default="2s", help="Prometheus scrape interval (default 2s)")
    parser.add_argument("--rounds", type=int, default=10, help="workload rounds before measuring (default 10)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per query; the median is reported (default 3)")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument("--fleet", action="store_true",
                        help="grow into the suite's fleet and time whole dashboard loads (All and one instance)")
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
    with contextlib.ExitStack() as stack:
        env = stack.enter_context(services.environment(scrape_interval=args.scrape_interval,
                                                       scrape_timeout=scrape_timeout))
        prom = env.prometheus
        fleet = None
        if args.fleet:
            fleet = stack.enter_context(services.fleet(
                env.postgres, env.redis, env.app, env.flower, env.nginx, env.exporters,
                scrape_interval=args.scrape_interval, scrape_timeout=scrape_timeout))
            prom = fleet.prometheus
            stack.enter_context(BackgroundWorkload(fleet.app_2.url, rounds=600, max_seconds=600, pause=1.0))
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
            loads = dashboard_loads(prom, fleet, range_s, step_s, args.repeat) if fleet else []

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
    if loads:
        print(f"\ndashboard loads on the fleet ({len(fleet.instances['node'])} hosts, "  # type: ignore[union-attr]
              f"{len(fleet.instances['django'])} app servers): all panel queries at once, "  # type: ignore[union-attr]
              f"median of {args.repeat}\n")
        print(f"{'dashboard':<25} {'variables':<12} {'queries':>7} {'wall ms':>9} {'slowest ms':>10} {'series':>7}")
        for load in loads:
            print(f"{load['dashboard']:<25} {load['variables']:<12} {load['queries']:>7} {load['wall_ms']:>9.1f} "
                  f"{load['slowest_ms']:>10.1f} {load['series']:>7}")
    if args.json:
        args.json.write_text(json.dumps({"range": args.range, "step": args.step, "total_ms": total_ms,
                                         "panels": report, "dashboard_loads": loads}, indent=2))
    return 1 if empty else 0




def dashboard_loads(prom: services.Prometheus, fleet: services.Fleet, range_s: float, step_s: float,
                    repeat: int) -> list[dict]:
    """Each dashboard loaded as Grafana loads it: every panel query fired together (range queries);
    the dashboards the live services feed (panels.NOT_LIVE left out)."""
    import dashboards

    out = []
    now = time.time()
    for uid, model in live_dashboards().items():
        names = [v["name"] for v in model["templating"]["list"]]
        one = {name: [fleet.instances[job][0]] for name, job in VARIABLE_JOBS.items() if name in names}
        if "datname" in names:
            one["datname"] = [fleet.database]
        for label, picked in (("All", {}), ("one each", one)):
            values = tuple(sorted(template_values(model, picked).items()))
            queries = [PanelQuery(uid, title, ref, expr, values)
                       for title, ref, expr in dashboards.iter_panel_queries(model)]
            walls, slowest, series = [], [], 0
            for _ in range(max(repeat, 1)):
                with ThreadPoolExecutor(max_workers=len(queries)) as pool:
                    started = time.perf_counter()
                    results = list(pool.map(lambda q: evaluate(prom, q, mode="range", range_s=range_s,
                                                               step_s=step_s, now=now), queries))
                    walls.append(time.perf_counter() - started)
                slowest.append(max(r.seconds for r in results))
                series = sum(r.series for r in results)
            out.append({"dashboard": uid, "variables": label, "queries": len(queries),
                        "wall_ms": statistics.median(walls) * 1000, "slowest_ms": statistics.median(slowest) * 1000,
                        "series": series})
    return out


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
