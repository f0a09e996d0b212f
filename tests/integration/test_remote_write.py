"""Remote write end to end: a real Prometheus 2.42 runs the `remote_write` section the program
renders (password in a file) and writes to a real VictoriaMetrics 1.79 with basic auth; the
series arrive with the environment label. A wrong password shows up as failed samples in
Prometheus' own metrics, which the PrometheusRemoteWriteFailing expression sees. The store down
for a while shows as a growing lag (PrometheusRemoteWriteBehind's expression) and, once it is
back, every sample of the outage arrives: nothing is lost."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator

from components.config import load_config
from components.prometheus.config import remote_write_section
from components.prometheus.rules import rule_entries
from tests.integration import services

USER, PASSWORD = services.VM_USER, services.VM_PASSWORD


def vm_query(vm: services.VictoriaMetrics, expr: str, at: float | None = None) -> list[dict]:
    return services.RemoteStore(vm.url, (USER, PASSWORD), scrape_interval_s=1).query(expr, at)


@contextlib.contextmanager
def writing_prometheus(vm: services.VictoriaMetrics, password: str, tmp) -> Iterator[services.Prometheus]:
    cfg = load_config({"demo": True, "prometheus": {"remoteWrite": [
        {"url": f"{vm.url}/api/v1/write", "basicAuth": {"username": USER, "password": password}}]}})
    entries, files = remote_write_section(cfg.prometheus.remote_write, str(tmp))
    for path, content in files.items():
        with open(path, "w", encoding="utf-8") as secret_file:
            secret_file.write(content)
    with services.node_exporter() as node, services.prometheus_server(
            {"node": [node.address]}, scrape_interval="1s", scrape_timeout="500ms", rule_files=[],
            external_labels={"environment": "staging"}, remote_write=entries) as prom:
        assert password not in prom.config_text  # the password stays in its file
        yield prom


def test_series_arrive_in_victoria_metrics_with_the_environment(tmp_path):
    with services.victoria_metrics() as vm, writing_prometheus(vm, PASSWORD, tmp_path):
        services.wait_until(lambda: vm_query(vm, 'up{job="node", environment="staging"}'), timeout=60,
                            what="remote-written series in VictoriaMetrics")
        (series,) = vm_query(vm, 'up{job="node"}')
        assert series["metric"]["environment"] == "staging"
        assert vm_query(vm, 'node_cpu_seconds_total{environment="staging"}')


def test_a_wrong_password_shows_as_failed_samples_the_alert_sees(tmp_path):
    (alert,) = [rule for rule in rule_entries("alert") if rule["alert"] == "PrometheusRemoteWriteFailing"]
    with services.victoria_metrics() as vm, writing_prometheus(vm, "a-wrong-password", tmp_path) as prom:
        # The alert's own expression (its [5m] window holds the first failures within seconds).
        services.wait_until(lambda: prom.query(alert["expr"]), timeout=60, what="failed remote-write samples")
        assert not vm_query(vm, 'up{job="node"}')  # nothing got in


def test_the_store_down_for_a_while_loses_nothing_and_the_lag_shows(tmp_path):
    (alert,) = [rule for rule in rule_entries("alert") if rule["alert"] == "PrometheusRemoteWriteBehind"]
    lag = re.sub(r"\)\s*>\s*120\s*$", ")", alert["expr"].strip())  # the alert's lag, without its threshold
    assert lag != alert["expr"].strip()
    with services.victoria_metrics() as vm, writing_prometheus(vm, PASSWORD, tmp_path) as prom:
        services.wait_until(lambda: vm_query(vm, 'up{job="node"}'), timeout=60, what="first samples in the store")
        vm.process.stop()
        down_at = time.time()
        # Prometheus keeps scraping; what it has not sent grows (1 s scrapes).
        services.wait_until(lambda: any(float(s["value"][1]) >= 8 for s in prom.query(lag)), timeout=60,
                            what="a remote-write lag of 8 s")
        (behind,) = prom.query(lag)
        assert behind["metric"]["url"].startswith(vm.url)
        vm.process.start()
        up_at = time.time()
        services.wait_until(vm.ready, timeout=30, what="VictoriaMetrics back")
        services.wait_until(lambda: all(float(s["value"][1]) < 3 for s in prom.query(lag)), timeout=60,
                            what="the queue to catch up")
        # Every 1 s scrape of the outage reaches the store (a gap would leave about 8 samples out);
        # polled: the store makes fresh samples searchable within a few seconds.
        outage = up_at - down_at

        def outage_samples() -> int:
            found = vm_query(vm, f'count_over_time(up{{job="node"}}[{outage:.0f}s])', at=up_at)
            return int(found[0]["value"][1]) if found else 0

        services.wait_until(lambda: outage_samples() >= int(outage) - 2, timeout=30,
                            what=f"the {outage:.0f} s outage's samples in the store")

