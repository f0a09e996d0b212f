"""Wires the components together: the whole stack for one environment."""

from __future__ import annotations

import dataclasses
import re

import pulumi
from pulumi.runtime import config as runtime_config

from components.config import Secret, StackConfig, load_config, values_in_namespace
from components.alertmanager import Alertmanager, AlertmanagerArgs
from components.demo import DemoWorkload, DemoWorkloadArgs
from components.docker_service import Placement, published_url
from components.exporters import Exporter, ExporterArgs, exporter_envs
from components.grafana import GrafanaServer, GrafanaServerArgs
from components.grafana_content import GrafanaContent, GrafanaContentArgs
from components.network import StackNetwork, StackNetworkArgs
from components.prometheus import PORT as PROMETHEUS_PORT, RULES_DIR, PrometheusServer, PrometheusServerArgs
from components.prometheus_config import render_prometheus_config
from components.rules import load_rule_files
from dashboards import build_dashboards


def load_stack_config() -> StackConfig:
    """Read every `monitoring:*` key the engine passed (unknown ones too) and validate it.

    Reads raw values rather than pulumi.Config.get_secret: validation needs the text
    (a password's length), and each secret is wrapped back into a secret Output below.
    """
    everything = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    return load_config(values_in_namespace(everything))


def image_version(image: str) -> str:
    """`3.7.3` from `prom/prometheus:v3.7.3`; a digest-pinned image is taken as 3.x."""
    match = re.search(r":v?(\d+\.\d+\.\d+)", image.rsplit("/", 1)[-1])
    return match.group(1) if match else "3.0.0"


def _secret(value: Secret | None) -> pulumi.Output[str] | None:
    return pulumi.Output.secret(value.value) if value is not None else None


def build_stack(cfg: StackConfig, project: str, stack: str) -> dict[str, pulumi.Input]:
    prefix = f"{project}-{stack}"
    network = StackNetwork("network", StackNetworkArgs(name=cfg.network or f"{prefix}-net",
                                                       existing=cfg.network is not None))
    placement = Placement(network=network.name, bind_address=cfg.bind_address,
                          restart_policy=cfg.restart_policy, name_prefix=prefix)
    postgres_dsn, redis_password = _secret(cfg.postgres_dsn), _secret(cfg.redis_password)
    broker_url: pulumi.Input[str] | None = None
    exporter_configs = cfg.enabled_exporters()
    django_targets = list(cfg.django_targets)

    if cfg.demo:
        # Demo mode: the exporters and scrape targets watch the demo services by themselves.
        demo = DemoWorkload("demo", DemoWorkloadArgs(placement=placement))
        postgres_dsn = postgres_dsn or demo.postgres_dsn
        redis_password = redis_password or demo.redis_password
        broker_url = demo.broker_url
        demo_settings = {"redis": {"address": demo.redis_address}, "nginx": {"scrapeUri": demo.nginx_scrape_uri}}
        exporter_configs = [dataclasses.replace(e, settings={**e.settings, **demo_settings.get(e.name, {})})
                            for e in exporter_configs]
        django_targets = [demo.django_target]

    exporters = {
        e.name: Exporter(f"{e.name}-exporter", ExporterArgs(
            config=e, placement=placement, envs=exporter_envs(e, postgres_dsn, redis_password, broker_url)))
        for e in exporter_configs
    }

    grafana = GrafanaServer("grafana", GrafanaServerArgs(
        config=cfg.grafana, admin_password=_secret(cfg.grafana_admin_password), placement=placement))

    targets = {
        "prometheus": [f"localhost:{PROMETHEUS_PORT}"],
        "grafana": [grafana.target],
        **{name: [exporter.target] for name, exporter in exporters.items()},
        "django": django_targets,
    }
    alertmanager_targets = []
    outputs: dict[str, pulumi.Input] = {}
    if cfg.alertmanager.enabled:
        alertmanager = Alertmanager("alertmanager", AlertmanagerArgs(
            config=cfg.alertmanager, placement=placement))
        alertmanager_targets = [alertmanager.target]
        outputs["alertmanagerUrl"] = alertmanager.url

    p = cfg.prometheus
    prometheus_yml = render_prometheus_config(
        scrape_interval=p.scrape_interval, evaluation_interval=p.evaluation_interval,
        scrape_timeout=p.scrape_timeout, targets=targets, rule_files=[f"{RULES_DIR}/*.yml"],
        alertmanager_targets=alertmanager_targets)
    prometheus = PrometheusServer("prometheus", PrometheusServerArgs(
        config=p, prometheus_yml=prometheus_yml, rule_files=load_rule_files(), placement=placement))

    # This program talks to Grafana through its published port; a wildcard bind is reached on loopback.
    loopback = {"0.0.0.0": "127.0.0.1", "::": "::1"}
    content = GrafanaContent("grafana-content", GrafanaContentArgs(
        grafana_url=published_url(loopback[cfg.bind_address], cfg.grafana.port)
        if cfg.bind_address in loopback else grafana.url,
        admin_user=grafana.admin_user,
        admin_password=grafana.admin_password,
        prometheus_url=prometheus.internal_url,
        scrape_interval=p.scrape_interval,
        prometheus_version=image_version(p.image),
        root_url=cfg.grafana.root_url,
        dashboards=build_dashboards(),
        depends_on=[grafana.container, prometheus.container],
    ))

    return {
        "grafanaUrl": grafana.url,
        "prometheusUrl": prometheus.url,
        "grafanaAdminUser": grafana.admin_user,
        "grafanaAdminPassword": grafana.admin_password,
        "dashboardUrls": content.dashboard_urls,
        **outputs,
    }
