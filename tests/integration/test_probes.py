"""Probes on real software: Debian's blackbox_exporter running the config the program renders,
probing a site on 127.0.0.1 over http and over https (a certificate valid for 2 days, signed by a
CA the test makes and hands to the exporter as the program does), scraped by a real Prometheus
through the rendered `blackbox` job with the product's rule files (every `for:` set to 1s)."""

from __future__ import annotations

import pytest
import requests

import dashboards
from components.prometheus.rules import load_rule_files
from tests.integration import services
from tests.integration.alerting_services import alerting_prometheus
from tests.integration.panels import PanelQuery, evaluate, template_values


@pytest.fixture(scope="module")
def probed(tmp_path_factory):
    certificates = services.make_certificates(tmp_path_factory.mktemp("tls"), days=2)
    with services.static_site(certificates) as site, services.blackbox_exporter(certificates.ca_cert) as prober:
        urls = {"http": f"{site.url}/", "https": f"{site.https_url}/healthz"}
        targets = {"blackbox": [{"address": url, "labels": {"instance": url}} for url in urls.values()]}
        with alerting_prometheus(targets, rule_texts=load_rule_files(for_override="1s"), alertmanager_targets=[],
                                 probers={"blackbox": prober.address}) as prom:
            services.wait_until(lambda: len(prom.query('probe_success{job="blackbox"}')) == 2, timeout=30,
                                what="both probes scraped")
            yield site, prom, urls


def by_instance(prom: services.Prometheus, expr: str) -> dict[str, float]:
    return {s["metric"]["instance"]: float(s["value"][1]) for s in prom.query(expr)}


def firing(prom: services.Prometheus, alertname: str) -> set[str]:
    return {s["metric"]["instance"] for s in prom.query(f'ALERTS{{alertname="{alertname}", alertstate="firing"}}')}


def test_both_urls_answer_and_only_https_reports_a_certificate(probed):
    _, prom, urls = probed
    assert by_instance(prom, 'probe_success{job="blackbox"}') == {urls["http"]: 1, urls["https"]: 1}
    assert all(v > 0 for v in by_instance(prom, 'probe_duration_seconds{job="blackbox"}').values())
    services.wait_until(lambda: by_instance(prom, "instance:probe_ssl_earliest_cert_expiry:days"), timeout=30,
                        what="the recorded certificate expiry")
    days = by_instance(prom, "instance:probe_ssl_earliest_cert_expiry:days")
    assert set(days) == {urls["https"]} and 1.9 < days[urls["https"]] <= 2.0


def test_every_probe_panel_has_data(probed):
    _, prom, _ = probed
    model = dashboards.build_dashboards()["probes"]
    values = tuple(sorted(template_values(model).items()))
    for title, ref_id, expr in dashboards.iter_panel_queries(model):
        for mode in ("range", "instant"):
            result = evaluate(prom, PanelQuery("probes", title, ref_id, expr, values), mode=mode, range_s=60)
            assert result.error is None and result.series > 0, (title, mode, result.error, result.promql)


def test_the_short_lived_certificate_fires_both_expiry_alerts_for_its_url_alone(probed):
    _, prom, urls = probed
    services.wait_until(lambda: firing(prom, "ProbeCertificateExpiresIn3Days") == {urls["https"]}, timeout=30,
                        what="ProbeCertificateExpiresIn3Days for the https URL")
    assert firing(prom, "ProbeCertificateExpiresIn14Days") == {urls["https"]}
    assert firing(prom, "ProbeFailed") == set()


def test_without_the_ca_the_https_probe_fails(probed):
    """The CA handed to the exporter is what makes the https probe pass: the same probe from an
    exporter without it fails (the certificate is not trusted)."""
    _, _, urls = probed
    with services.blackbox_exporter(None) as untrusting:
        def probe(url: str) -> str:
            return requests.get(f"{untrusting.url}/probe", params={"target": url, "module": "http_2xx"},
                                timeout=15).text
        assert "\nprobe_success 1" in probe(urls["http"])
        assert "\nprobe_success 0" in probe(urls["https"])


def test_the_site_down_fires_probe_failed_for_both_urls(probed):
    site, prom, urls = probed
    site.process.stop()
    services.wait_until(lambda: firing(prom, "ProbeFailed") == set(urls.values()), timeout=30,
                        what="ProbeFailed for both URLs")
