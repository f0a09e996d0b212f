"""Scale benchmark: every live dashboard loaded as Grafana loads it, on a synthetic fleet's TSDB.

Writes N hosts x D days of the series the integration suite's exporters expose (names, labels
and kinds from tests/fixtures/exporter_series.json) with `promtool tsdb create-blocks-from
openmetrics`, backfills rules/recording.yml with `create-blocks-from rules`, starts Prometheus
2.42 on it with the stack's default query limits, and loads each dashboard over 1h, 24h and 7d
(capped at the data's span): all panel queries at once, as range queries at Grafana's step for
a 1000-point-wide panel (range / 1000, rounded as Grafana's roundInterval does, never below
the 15 s scrape interval) with `$__rate_interval`, the variables at All and at one instance. Prints
per dashboard the wall time, per panel the slowest query time and samples touched (`stats=all`),
and Prometheus' peak memory (VmHWM). Generated blocks are kept in .bench-cache/ (git-ignored) per size, fixture
and rule group, so a run after a dashboard or rule change only evaluates what changed.

    .venv/bin/python scripts/bench_scale.py [--hosts 20] [--days 7] [--sizes 5,20,50] [--json FILE]
    .venv/bin/python scripts/bench_scale.py --capture    # re-capture the fixture from real exporters
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from components.config import PrometheusConfig  # noqa: E402
from components.prometheus.server import query_limit_flags  # noqa: E402
from tests.integration import scale_data, services  # noqa: E402
from tests.integration.panels import VARIABLE_JOBS, substitute, template_values  # noqa: E402

RANGES = {"1h": 3600, "24h": 86400, "7d": 7 * 86400}
# Grafana's roundInterval (rangeutil): (upper bound of the raw interval, the step it becomes), seconds.
GRAFANA_ROUNDING = ((1.5, 1), (3.5, 2), (7.5, 5), (12.5, 10), (17.5, 15), (25, 20), (45, 30), (90, 60), (150, 120),
                    (450, 300), (750, 600), (1050, 900), (1500, 1200), (2700, 1800), (5400, 3600), (9000, 7200),
                    (16200, 10800), (32400, 21600), (86400, 43200))
MAX_DATA_POINTS = 1000


def grafana_step(range_s: float, scrape_s: float) -> float:
    """Grafana's step for a panel of MAX_DATA_POINTS points: range / points, rounded, at least the scrape interval."""
    raw = range_s / MAX_DATA_POINTS
    rounded = next((step for bound, step in GRAFANA_ROUNDING if raw <= bound), 86400)
    return max(rounded, scrape_s)


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def run_query(prom: services.Prometheus, promql: str, start: float, end: float, step: float) -> dict:
    started = time.perf_counter()
    body = requests.get(f"{prom.url}/api/v1/query_range", timeout=120, params={
        "query": promql, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:g}", "stats": "all"}).json()
    seconds = time.perf_counter() - started
    if body.get("status") != "success":
        return {"seconds": seconds, "series": 0, "samples": 0, "peak": 0, "error": body.get("error")}
    samples = body["data"]["stats"]["samples"]
    return {"seconds": seconds, "series": len(body["data"]["result"]), "samples": samples["totalQueryableSamples"],
            "peak": samples["peakSamples"], "error": None}


def load_dashboards(prom: services.Prometheus, built: scale_data.Built) -> list[dict]:
    """Each live dashboard, at each range and variable choice: all panel queries at once."""
    import dashboards
    from tests.integration.panels import live_dashboards

    loads = []
    for range_name, range_s in RANGES.items():
        span = min(range_s, built.end - built.start)
        step = grafana_step(span, scale_data.SAMPLE_INTERVAL_S)
        for uid, model in live_dashboards().items():
            names = [v["name"] for v in model["templating"]["list"]]
            one = {name: [scale_data.instance_of(job, 0)] for name, job in VARIABLE_JOBS.items() if name in names}
            if "datname" in names:
                one["datname"] = [next(r["labels"]["datname"] for r in scale_data.load_fixture()["jobs"]["postgres"]
                                       if r["name"] == "pg_database_size_bytes")]
            for label, picked in (("All", {}), ("one", one)):
                variables = template_values(model, picked)
                queries = [(title, ref, substitute(expr, step_s=step, scrape_s=scale_data.SAMPLE_INTERVAL_S,
                                                   range_s=span, variables=variables))
                           for title, ref, expr in dashboards.iter_panel_queries(model)]
                with ThreadPoolExecutor(max_workers=len(queries)) as pool:
                    started = time.perf_counter()
                    futures = [pool.submit(run_query, prom, q[2], built.end - span, built.end, step)
                               for q in queries]
                    results = [f.result() for f in futures]
                    wall = time.perf_counter() - started
                loads.append({"range": range_name, "span_s": span, "step_s": step, "dashboard": uid,
                              "variables": label, "wall_s": wall,
                              "panels": [{"panel": t, "ref": r, "promql": q, **res}
                                         for (t, r, q), res in zip(queries, results, strict=True)]})
    return loads


def bench(hosts: int, days: float, out=print, cache: Path | None = None) -> dict:
    with services.temp_dir("bench-scale") as tmp:
        out(f"\n== {hosts} hosts x {days:g} days: writing the TSDB in {tmp} ...")
        t0 = time.monotonic()
        built = scale_data.build_tsdb(tmp, hosts=hosts, seconds=int(days * 86400), end=int(time.time()),
                                      progress=out, cache=cache)
        build_s = time.monotonic() - t0
        flags = tuple(query_limit_flags(PrometheusConfig()))
        with scale_data.serving(built.data, tmp / "prometheus.log", flags) as prom:
            loads = load_dashboards(prom, built)
            peak = peak_rss_mb(prom.process.pid)
    out(f"   built in {build_s:.0f}s: {built.series:,} series, {built.samples:,} samples; "
        f"Prometheus peak RSS {peak:.0f} MB")
    out(f"   {'range':<5} {'dashboard':<25} {'vars':<4} {'queries':>7} {'wall ms':>8} {'slowest ms':>10} "
        f"{'samples':>12} {'peak samples':>12}")
    for load in loads:
        panels = load["panels"]
        out(f"   {load['range']:<5} {load['dashboard']:<25} {load['variables']:<4} {len(panels):>7} "
            f"{load['wall_s'] * 1000:>8.0f} {max(p['seconds'] for p in panels) * 1000:>10.0f} "
            f"{sum(p['samples'] for p in panels):>12,} {max(p['peak'] for p in panels):>12,}")
    slow = sorted((p for load in loads for p in load["panels"]), key=lambda p: -p["seconds"])[:10]
    out("   slowest panel queries:")
    for p in slow:
        out(f"     {p['seconds'] * 1000:7.0f} ms {p['samples']:>12,} samples  {p['panel']} / {p['ref']}")
    return {"hosts": hosts, "days": days, "series": built.series, "samples": built.samples, "build_s": build_s,
            "peak_rss_mb": peak, "loads": loads}


def capture() -> int:
    """Start the integration suite's services, wait for data, and write the fixture."""
    from tests.integration.panels import dashboard_queries, wait_for_data
    from tests.integration.workload import BackgroundWorkload, run_rounds

    with services.environment() as env:
        run_rounds(env.nginx.url, rounds=6, max_seconds=30)
        with BackgroundWorkload(env.nginx.url, rounds=300, max_seconds=240, pause=1.0):
            services.wait_for_targets_up(env.prometheus, timeout=30)
            missing = wait_for_data(env.prometheus, dashboard_queries(), timeout=90)
            captured = scale_data.capture(env.prometheus)
    scale_data.FIXTURE.write_text(json.dumps(captured, indent=1, sort_keys=True) + "\n")
    print(f"wrote {scale_data.FIXTURE.relative_to(REPO_ROOT)}"
          + (f"; still without data: {missing}" if missing else ""))
    return 1 if missing else 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=20, help="hosts (default 20)")
    parser.add_argument("--days", type=float, default=7, help="days of data (default 7)")
    parser.add_argument("--sizes", help="comma-separated host counts to run in turn, e.g. 5,20,50")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument("--cache", type=Path, default=REPO_ROOT / ".bench-cache",
                        help="keep the generated blocks here for the next run (default .bench-cache/)")
    parser.add_argument("--no-cache", action="store_true", help="write everything in a temporary directory")
    parser.add_argument("--capture", action="store_true", help="re-capture the exporter fixture and exit")
    args = parser.parse_args(argv)
    if args.capture:
        return capture()
    sizes = [int(n) for n in args.sizes.split(",")] if args.sizes else [args.hosts]
    results = [bench(n, args.days, cache=None if args.no_cache else args.cache) for n in sizes]
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    errors = [p for r in results for load in r["loads"] for p in load["panels"] if p["error"] or not p["series"]]
    for p in errors:
        print(f"no data: {p['panel']} / {p['ref']}: {p['error'] or 'no series'}\n  {p['promql']}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
