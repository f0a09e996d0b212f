"""A small fleet on 127.0.0.1: three real node_exporters given as extra `node` targets with
`host` labels, scraped by a real Prometheus through the config the program renders (the config
model, scrape_targets and the renderer), with the environment external label."""

from __future__ import annotations

import contextlib

import requests

from components.config import load_config
from components.prometheus.targets import scrape_targets
from tests.integration import services


def test_three_hosts_scraped_with_readable_instances_and_the_environment(tmp_path):
    with contextlib.ExitStack() as stack:
        exporters = [stack.enter_context(services.node_exporter()) for _ in range(3)]
        extra = [{"address": e.address, "labels": {"host": f"web-{i + 1}", "role": "app"}}
                 for i, e in enumerate(exporters)]
        cfg = load_config({"demo": True, "targets": {"node": extra}})
        targets = scrape_targets(cfg, prometheus="unused:9090", grafana="unused:3000", exporters={})
        prom = stack.enter_context(services.prometheus_server(
            {"node": targets["node"]}, scrape_interval="1s", scrape_timeout="500ms", rule_files=[],
            external_labels={"environment": "staging"}))
        services.wait_until(lambda: len(prom.query('up{job="node"} == 1')) == 3, timeout=30,
                            what="three node targets up")
        series = prom.query('up{job="node"}')
        assert sorted(s["metric"]["instance"] for s in series) == [f"web-{i}:{e.port}"
                                                                   for i, e in enumerate(exporters, 1)]
        assert {s["metric"]["host"] for s in series} == {"web-1", "web-2", "web-3"}
        assert {s["metric"]["role"] for s in series} == {"app"}
        # External labels are Prometheus' own: attached to alerts and remote-written series.
        loaded = requests.get(f"{prom.url}/api/v1/status/config", timeout=10).json()["data"]["yaml"]
        assert "environment: staging" in loaded
        # One host down: only its instance reads 0.
        exporters[1].process.stop()
        services.wait_until(lambda: len(prom.query('up{job="node"} == 0')) == 1, timeout=30, what="web-2 down")
        (down,) = prom.query('up{job="node"} == 0')
        assert down["metric"]["instance"] == f"web-2:{exporters[1].port}"
