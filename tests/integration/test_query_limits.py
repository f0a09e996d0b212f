"""The query limit flags the stack renders are accepted by a real Prometheus and take effect."""

from __future__ import annotations

import requests

from components.config import PrometheusConfig
from components.prometheus.server import query_limit_flags

from . import services


def test_prometheus_accepts_the_rendered_query_limits_and_applies_them():
    config = PrometheusConfig.model_validate({"queryTimeout": "45s", "queryMaxSamples": "3000000",
                                              "queryMaxConcurrency": 3})
    flags = query_limit_flags(config)
    with services.prometheus_server({}, rule_files=[], flags=flags) as prom:
        applied = prom.api("status/flags")
        assert {k: applied[k] for k in ("query.timeout", "query.max-samples", "query.max-concurrency")} == {
            "query.timeout": "45s", "query.max-samples": "3000000", "query.max-concurrency": "3"}
        # A query loading more samples than the limit is refused, not run out of memory; a smaller one runs.
        assert prom.query("count_over_time(vector(1)[1000s:1s])")[0]["value"][1] == "1000"
        body = requests.get(f"{prom.url}/api/v1/query", timeout=30, params={
            "query": "count_over_time(vector(1)[3000001s:1s])"}).json()
        assert (body["status"], body["error"]) == (
            "error", "query processing would load too many samples into memory in query execution"), body

def test_default_query_limits_start_prometheus():
    flags = query_limit_flags(PrometheusConfig())
    with services.prometheus_server({}, rule_files=[], flags=flags) as prom:
        applied = prom.api("status/flags")
        assert [f"--{k}={applied[k]}" for k in ("query.timeout", "query.max-samples", "query.max-concurrency")] == flags
        assert prom.query("vector(1)")[0]["value"][1] == "1"
