"""The scale benchmark's synthetic data matches the real exporters, and the benchmark runs on a small fleet."""

from __future__ import annotations

import importlib.util

from dashboards.queries import TOP_N

from . import scale_data

REPO_ROOT = scale_data.REPO_ROOT


def test_checked_in_exporter_series_match_what_the_suite_scrapes(prometheus_ready):
    # Names and label names, not values: those depend on the machine (CPUs, filesystems) and the workload.
    assert scale_data.shape(scale_data.capture(prometheus_ready)) == scale_data.shape(scale_data.load_fixture())


def _bench_module():
    spec = importlib.util.spec_from_file_location("bench_scale", REPO_ROOT / "scripts" / "bench_scale.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_grafana_step_for_a_1000_point_panel():
    bench = _bench_module()
    assert [bench.grafana_step(r, 15) for r in (3600, 86400, 7 * 86400)] == [15, 60, 600]
    assert bench.grafana_step(3600, 60) == 60


def test_scale_benchmark_runs_and_every_panel_query_has_data_on_the_synthetic_fleet():
    bench = _bench_module()
    lines: list[str] = []
    result = bench.bench(3, 2 / 24, out=lines.append)
    assert result["series"] == 3 * sum(len(rows) for rows in scale_data.load_fixture()["jobs"].values())
    assert result["samples"] == result["series"] * (2 * 3600 // scale_data.SAMPLE_INTERVAL_S)
    assert result["peak_rss_mb"] > 0
    loads = result["loads"]
    assert {(load["range"], load["variables"]) for load in loads} == {
        (r, v) for r in ("1h", "24h", "7d") for v in ("All", "one")}
    empty = [f"{load['range']} {load['variables']} {p['panel']}/{p['ref']}: {p['error'] or 'no series'}: {p['promql']}"
             for load in loads for p in load["panels"] if p["panel"] != bench.AD_HOC and (p["error"] or p["series"] == 0)]
    assert not empty, "\n".join(empty)
    assert all(p["samples"] > 0 for load in loads for p in load["panels"] if p["panel"] != bench.AD_HOC)
    assert any("slowest panel queries" in line for line in lines)
    # Gauges go as instant queries, as Grafana sends them; the rest as range queries.
    kinds = {p["panel"]: p["instant"] for load in loads for p in load["panels"]}
    assert kinds["Error Rate"] and kinds["Service Health Status"] and not kinds["Requests per Second by Endpoint"]
    # Top-N panels draw at most TOP_N series: 3 hosts x 12 endpoints are cut to 10, the same ones over the range.
    capped = [p for load in loads for p in load["panels"] if "topk(" in p["promql"]]
    assert {p["panel"] for p in capped} >= {"Response Time by Endpoint", "Requests per Second by Endpoint",
                                            "Database Operations by Model", "Exceptions by Type",
                                            "Task Runtime p95 by Task"}
    assert all(p["series"] <= TOP_N for p in capped)
    assert any(p["series"] == TOP_N and p["panel"] == "Requests per Second by Endpoint" for p in capped)
    # Every dashboard at once over the longest range: the worst case for memory, within the container's limit.
    assert loads[-1]["dashboard"] == "all at once" and len(loads[-1]["panels"]) > 50
    assert 0 < result["peak_anon_mb"] < result["memory_limit_mb"]
