"""The scale benchmark's synthetic data matches the real exporters, and the benchmark runs on a small fleet."""

from __future__ import annotations

import importlib.util

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
             for load in loads for p in load["panels"] if p["error"] or p["series"] == 0]
    assert not empty, "\n".join(empty)
    assert all(p["samples"] > 0 for load in loads for p in load["panels"])
    assert any("slowest panel queries" in line for line in lines)
