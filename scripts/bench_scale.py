"""Scale benchmark: every live dashboard loaded as Grafana loads it, on a synthetic fleet's TSDB.

Writes N hosts x D days of the series the integration suite's exporters expose (names, labels
and kinds from tests/fixtures/exporter_series.json) with `promtool tsdb create-blocks-from
openmetrics`, backfills each group of rules/recording.yml with `create-blocks-from rules`, lets
a Prometheus 2.42 with the stack's retention compact the blocks as it would over those days,
then starts one with the stack's default query limits on them and loads each dashboard over 1h,
24h and 7d (capped at the data's span): all panel queries at once, time series as range queries
at Grafana's step for a 1000-point-wide panel (range / 1000, rounded as Grafana's roundInterval
does, never below the 15 s scrape interval), gauges as instant queries, with `$__rate_interval`
and `$__range`, the variables at All and at one instance; last, every dashboard at once beside an
ad-hoc heavy query. Prints per dashboard the wall time, per panel the time and samples touched
(`stats=all`), and Prometheus' peak memory (VmHWM) against the default memory limit. Generated
blocks are kept in .bench-cache/ (git-ignored) per size, fixture, rule group and set of groups,
so a run after a dashboard or rule change only evaluates what changed.

    .venv/bin/python scripts/bench_scale.py [--hosts 20] [--days 7] [--sizes 5,20,50] [--json FILE]
    .venv/bin/python scripts/bench_scale.py --capture    # re-capture the fixture from real exporters
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
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
# An ad-hoc query someone types in Explore beside the dashboards: every raw series' rate at every
# 15 s of the week. The query limits must stop it alone while the dashboards keep answering.
AD_HOC = "AD-HOC QUERY"
AD_HOC_PROMQL = 'max_over_time(sum by (job) (rate({job=~".+"}[5m]))[7d:15s])'


def grafana_step(range_s: float, scrape_s: float, points: int = MAX_DATA_POINTS) -> float:
    """Grafana's step for a panel of `points` points: range / points, rounded, at least the scrape interval."""
    raw = range_s / points
    rounded = next((step for bound, step in GRAFANA_ROUNDING if raw <= bound), 86400)
    return max(rounded, scrape_s)


def status_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/{pid}/status")


class AnonPeak:
    """The peak of a process' anonymous memory (RssAnon), sampled every 20 ms: what its container's limit
    cannot reclaim. VmHWM also counts the TSDB's mmapped chunk files, page cache that a container gives back
    under pressure instead of being killed."""

    def __init__(self, pid: int):
        self.pid, self.peak_mb, self._stop = pid, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_mb = max(self.peak_mb, status_mb(self.pid, "RssAnon"))
            self._stop.wait(0.02)

    def __enter__(self) -> AnonPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def run_query(prom: services.Prometheus, promql: str, start: float, end: float, step: float,
              instant: bool = False) -> dict:
    """One panel query as Grafana sends it: a range query, or an instant one at `end` (gauges)."""
    params = ({"query": promql, "time": f"{end:.3f}"} if instant else
              {"query": promql, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:g}"})
    started = time.perf_counter()
    response = requests.get(f"{prom.url}/api/v1/{'query' if instant else 'query_range'}", timeout=120,
                            params={**params, "stats": "all"})
    # Until the last byte: how long Grafana waits; parsing the JSON here is the client's cost, not Prometheus'.
    seconds = time.perf_counter() - started
    body = response.json()
    if body.get("status") != "success":
        return {"seconds": seconds, "series": 0, "samples": 0, "peak": 0, "error": body.get("error")}
    samples = body["data"]["stats"]["samples"]
    return {"seconds": seconds, "series": len(body["data"]["result"]), "samples": samples["totalQueryableSamples"],
            "peak": samples["peakSamples"], "error": None}


def panel_targets(model: dict) -> dict[tuple[str, str], tuple[bool, int]]:
    """(panel title, refId) -> (sent as an instant query (gauges, bar gauges), the panel's max data points)."""
    return {(inner.get("title", ""), target.get("refId", "")):
            (bool(target.get("instant")), min(MAX_DATA_POINTS, inner.get("maxDataPoints", MAX_DATA_POINTS)))
            for panel in model.get("panels", []) for inner in [panel, *panel.get("panels", [])]
            for target in inner.get("targets", []) or []}


# (panel title, refId, PromQL, instant, step)
PanelQuery = tuple[str, str, str, bool, float]


def load(prom: services.Prometheus, queries: list[PanelQuery], start: float, end: float) -> tuple[float, list[dict]]:
    """All `queries` at once, as a browser opening a dashboard sends them."""
    with ThreadPoolExecutor(max_workers=len(queries)) as pool:
        started = time.perf_counter()
        futures = [pool.submit(run_query, prom, promql, start, end, step, instant)
                   for _, _, promql, instant, step in queries]
        results = [f.result() for f in futures]
        wall = time.perf_counter() - started
    return wall, [{"panel": t, "ref": r, "promql": q, "instant": i, "step_s": step, **res}
                  for (t, r, q, i, step), res in zip(queries, results, strict=True)]


def dashboard_queries(model: dict, picked: dict, span: float) -> list[PanelQuery]:
    """Every panel query of `model` as Grafana sends it over `span`: its step from the panel's points."""
    import dashboards

    variables = template_values(model, picked)
    targets = panel_targets(model)
    queries = []
    for title, ref, expr in dashboards.iter_panel_queries(model):
        instant, points = targets[(title, ref)]
        step = grafana_step(span, scale_data.SAMPLE_INTERVAL_S, points)
        queries.append((title, ref, substitute(expr, step_s=step, scrape_s=scale_data.SAMPLE_INTERVAL_S,
                                               range_s=span, variables=variables), instant, step))
    return queries


def load_dashboards(prom: services.Prometheus, built: scale_data.Built) -> list[dict]:
    """Each live dashboard, at each range and variable choice: all panel queries at once."""
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
                wall, panels = load(prom, dashboard_queries(model, picked, span), built.end - span, built.end)
                loads.append({"range": range_name, "span_s": span, "step_s": step, "dashboard": uid,
                              "variables": label, "wall_s": wall, "panels": panels})
    return loads


def load_all_at_once(prom: services.Prometheus, built: scale_data.Built) -> dict:
    """The worst case for memory: every live dashboard opened at once over the longest range, at All."""
    from tests.integration.panels import live_dashboards

    span = min(RANGES["7d"], built.end - built.start)
    step = grafana_step(span, scale_data.SAMPLE_INTERVAL_S)
    queries = [q for model in live_dashboards().values() for q in dashboard_queries(model, {}, span)]
    wall, panels = load(prom, [*queries, (AD_HOC, "A", AD_HOC_PROMQL, True, step)], built.end - span, built.end)
    return {"range": "7d", "span_s": span, "step_s": step, "dashboard": "all at once", "variables": "All",
            "wall_s": wall, "panels": panels}


def bench(hosts: int, days: float, out=print, cache: Path | None = None) -> dict:
    defaults = PrometheusConfig()
    with services.temp_dir("bench-scale") as tmp:
        out(f"\n== {hosts} hosts x {days:g} days: writing the TSDB in {tmp} ...")
        t0 = time.monotonic()
        built = scale_data.build_tsdb(tmp, hosts=hosts, seconds=int(days * 86400), end=int(time.time()),
                                      progress=out, cache=cache, retention=defaults.retention)
        build_s = time.monotonic() - t0
        flags = tuple(query_limit_flags(defaults))
        with (scale_data.serving(built.data, tmp / "prometheus.log", flags, retention=defaults.retention) as prom,
              AnonPeak(prom.process.pid) as anon):
            loads = load_dashboards(prom, built)
            loads.append(load_all_at_once(prom, built))
            peak = status_mb(prom.process.pid, "VmHWM")
    out(f"   built in {build_s:.0f}s: {built.series:,} series, {built.samples:,} samples")
    out(f"   Prometheus peak memory over every load below (the last: all dashboards at once): anonymous "
        f"{anon.peak_mb:.0f} MB, resident with mmapped blocks (VmHWM) {peak:.0f} MB; the container's default "
        f"limit (prometheus.memoryMb) is {defaults.memory_mb} MB")
    out(f"   {'range':<5} {'dashboard':<25} {'vars':<4} {'queries':>7} {'wall ms':>8} {'slowest ms':>10} "
        f"{'samples':>12} {'peak samples':>12}")
    for load in loads:
        panels = load["panels"]
        out(f"   {load['range']:<5} {load['dashboard']:<25} {load['variables']:<4} {len(panels):>7} "
            f"{load['wall_s'] * 1000:>8.0f} {max(p['seconds'] for p in panels) * 1000:>10.0f} "
            f"{sum(p['samples'] for p in panels):>12,} {max(p['peak'] for p in panels):>12,}")
    at_once = next(load for load in loads if load["dashboard"] == "all at once")
    ad_hoc = next(p for p in at_once["panels"] if p["panel"] == AD_HOC)
    answered = sum(1 for p in at_once["panels"] if p["panel"] != AD_HOC and not p["error"])
    out(f"   all at once: {answered} of {len(at_once['panels']) - 1} dashboard queries answered; the ad-hoc "
        f"query beside them {'failed: ' + ad_hoc['error'] if ad_hoc['error'] else 'answered'} after "
        f"{ad_hoc['seconds'] * 1000:.0f} ms")
    dashboards_loads = [load for load in loads if load is not at_once]
    out("   per panel, 7d with the variables at All (ms until the last byte, samples touched, query):")
    for load in dashboards_loads:
        if load["range"] == "7d" and load["variables"] == "All":
            out(f"     {load['dashboard']}")
            for p in load["panels"]:
                kind = "instant" if p["instant"] else f"range, step {p['step_s']:g}s"
                out(f"       {p['seconds'] * 1000:7.0f} ms {p['samples']:>14,} samples  {kind:<19} "
                    f"{p['panel']} / {p['ref']}")
    slow = sorted((p for load in dashboards_loads for p in load["panels"]), key=lambda p: -p["seconds"])[:10]
    out("   slowest panel queries of any dashboard load:")
    for p in slow:
        out(f"     {p['seconds'] * 1000:7.0f} ms {p['samples']:>12,} samples  {p['panel']} / {p['ref']}")
    slowest_load = max(dashboards_loads, key=lambda load: load["wall_s"])
    out(f"   slowest dashboard load: {slowest_load['wall_s'] * 1000:.0f} ms ({slowest_load['dashboard']}, "
        f"{slowest_load['range']}, {slowest_load['variables']}); slowest panel query: "
        f"{slow[0]['seconds'] * 1000:.0f} ms; peak anonymous memory {anon.peak_mb:.0f} MB of {defaults.memory_mb} MB")
    return {"hosts": hosts, "days": days, "series": built.series, "samples": built.samples, "build_s": build_s,
            "peak_rss_mb": peak, "peak_anon_mb": anon.peak_mb, "memory_limit_mb": defaults.memory_mb, "loads": loads}


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
    errors = [p for r in results for load in r["loads"] for p in load["panels"]
              if p["panel"] != AD_HOC and (p["error"] or not p["series"])]
    for p in errors:
        print(f"no data: {p['panel']} / {p['ref']}: {p['error'] or 'no series'}\n  {p['promql']}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
