"""Grafana content under mocks: provider wiring, data source, folder and the four dashboards."""

from __future__ import annotations

import json

import pytest

from dashboards import DASHBOARD_UIDS, build_dashboards, dashboard_json
from tests.component.harness import Program, SecretValue, run_program

PROVIDER = "pulumi:providers:grafana"
DATA_SOURCE = "grafana:oss/dataSource:DataSource"
FOLDER = "grafana:oss/folder:Folder"
DASHBOARD = "grafana:oss/dashboard:Dashboard"
PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(scope="module")
def program() -> Program:
    return run_program({"demo": True, "grafanaAdminPassword": PASSWORD}, ["grafanaAdminPassword"])


def container_urn(program: Program, name: str) -> str:
    return program.one("docker:index/container:Container", name).urn


def test_provider_points_at_grafana_with_secret_auth_after_it_is_healthy(program):
    provider = program.one(PROVIDER, "grafana-content-provider")
    assert provider.inputs["url"] == "http://127.0.0.1:3000"
    assert provider.inputs["auth"] == SecretValue(f"admin:{PASSWORD}")
    assert provider.inputs["retries"] == "10"  # provider inputs travel as strings
    assert container_urn(program, "grafana") in provider.options["dependencies"]
    assert container_urn(program, "prometheus") in provider.options["dependencies"]


def test_provider_uses_loopback_when_grafana_binds_every_address():
    program = run_program({"demo": True, "bindAddress": "0.0.0.0", "tls": {"enabled": True}, "grafana": {"port": 3100}})
    assert program.one(PROVIDER, "grafana-content-provider").inputs["url"] == "https://127.0.0.1:3100"


def test_content_is_created_through_that_provider(program):
    provider = program.one(PROVIDER, "grafana-content-provider")
    provider_ref = f"{provider.urn}::{provider.name}-id"
    content = program.of_type(DATA_SOURCE) + program.of_type(FOLDER) + program.of_type(DASHBOARD)
    # One data source, the folder, one dashboard per uid.
    assert len(content) == 2 + len(DASHBOARD_UIDS) == 9
    for resource in content:
        assert resource.options["provider"] == provider_ref, resource.name


def test_prometheus_data_source(program):
    source = program.one(DATA_SOURCE, "grafana-content-prometheus")
    json_data = json.loads(source.inputs.pop("jsonDataEncoded"))
    assert source.inputs == {"type": "prometheus", "name": "Prometheus", "uid": "prometheus",
                             "url": "http://monitoring-dev-prometheus:9090", "accessMode": "proxy",
                             "isDefault": True}
    assert json_data == {"httpMethod": "POST", "timeInterval": "15s", "queryTimeout": "60s",
                         "prometheusType": "Prometheus", "prometheusVersion": "3.7.3",
                         "cacheLevel": "High", "incrementalQuerying": True}


def test_time_interval_follows_the_scrape_interval_and_version_the_image():
    program = run_program({"demo": True, "prometheus": {"scrapeInterval": "30s", "scrapeTimeout": "10s",
                                                        "image": "prom/prometheus:v3.5.0"}})
    json_data = json.loads(program.one(DATA_SOURCE, "grafana-content-prometheus").inputs["jsonDataEncoded"])
    assert json_data["timeInterval"] == "30s"
    assert json_data["prometheusVersion"] == "3.5.0"


def test_every_dashboard_in_the_folder_with_the_exported_json(program):
    folder = program.one(FOLDER, "grafana-content-folder")
    assert folder.inputs == {"title": "Monitoring", "uid": "monitoring"}
    models = build_dashboards()
    assert {d.name for d in program.of_type(DASHBOARD)} == {f"grafana-content-{uid}" for uid in (
        "system-overview", "application-performance", "database-performance", "infrastructure-health", "containers",
        "probes", "celery")}
    data_source = program.one(DATA_SOURCE, "grafana-content-prometheus")
    for uid in DASHBOARD_UIDS:
        dashboard = program.one(DASHBOARD, f"grafana-content-{uid}")
        assert dashboard.inputs["configJson"] == dashboard_json(models[uid])
        assert dashboard.inputs["folder"] == "monitoring"
        assert dashboard.inputs["overwrite"] is True
        assert data_source.urn in dashboard.options["dependencies"]
        assert folder.urn in dashboard.options["dependencies"]


def test_dashboards_sent_to_grafana_carry_the_fleet_variables(program):
    """The JSON the provider receives (not only the builder's output): every dashboard has the
    environment variable and its instance variables, All = `.*`, on the datasource variable."""
    expected = {
        "system-overview": ["datasource", "environment", "host", "pg_instance", "django_instance"],
        "application-performance": ["datasource", "environment", "django_instance"],
        "database-performance": ["datasource", "environment", "pg_instance", "datname"],
        "infrastructure-health": ["datasource", "environment", "host", "redis_instance"],
        "containers": ["datasource", "environment", "docker_host", "container"],
        "probes": ["datasource", "environment", "probe"],
    }
    for uid, names in expected.items():
        sent = json.loads(program.one(DASHBOARD, f"grafana-content-{uid}").inputs["configJson"])
        variables = sent["templating"]["list"]
        assert [v["name"] for v in variables] == names, uid
        for var in variables[1:]:
            assert (var["multi"], var["includeAll"], var["allValue"]) == (True, True, ".*"), (uid, var["name"])
            assert var["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, (uid, var["name"])


def test_dashboard_urls_are_stack_outputs(program):
    urls, secret = program.outputs["dashboardUrls"]
    assert not secret
    assert urls == {uid: f"http://127.0.0.1:3000/d/{uid}" for uid in DASHBOARD_UIDS}


def test_dashboard_urls_follow_root_url():
    program = run_program({"demo": True, "grafana": {"rootUrl": "https://grafana.example.org/"}})
    urls, _ = program.outputs["dashboardUrls"]
    assert urls["system-overview"] == "https://grafana.example.org/d/system-overview"


def test_provider_uses_ipv6_loopback_when_grafana_binds_every_ipv6_address():
    program = run_program({"demo": True, "bindAddress": "::", "tls": {"enabled": True}})
    assert program.one(PROVIDER, "grafana-content-provider").inputs["url"] == "https://[::1]:3000"
    assert program.outputs["grafanaUrl"] == ("https://[::]:3000", False)
