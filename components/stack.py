"""Wires the components together: the whole stack for one environment."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import pulumi
from pulumi.runtime import config as runtime_config
from pydantic import SecretStr

from components.alertmanager.server import Alertmanager, AlertmanagerArgs
from components.config import StackConfig, load_config, values_in_namespace
from components.containers import Placement, published_url
from components.demo.workload import DemoWorkload, DemoWorkloadArgs
from components.exporters.component import Exporter, ExporterArgs
from components.grafana.content import GrafanaContent, GrafanaContentArgs
from components.grafana.server import METRICS_USER as GRAFANA_METRICS_USER
from components.grafana.server import GrafanaServer, GrafanaServerArgs
from components.network import StackNetwork, StackNetworkArgs
from components.prometheus.alert_links import RUNBOOK_PATH, AlertLinks
from components.prometheus.config import remote_write_section, render_prometheus_config
from components.prometheus.rules import load_rule_files
from components.prometheus.server import FILES as PROMETHEUS_FILES
from components.prometheus.server import OWN_PASSWORD_FILE as PROMETHEUS_PASSWORD_FILE
from components.prometheus.server import PORT as PROMETHEUS_PORT
from components.prometheus.server import RULES_DIR, SECRETS_DIR, PrometheusServer, PrometheusServerArgs
from components.prometheus.targets import prober_addresses, scrape_targets
from components.types import is_all_interfaces, parse_ip
from components.web_access import WebAccess, WebAccessArgs
from components.web_config import client_settings

GRAFANA_METRICS_PASSWORD_FILE = f"{SECRETS_DIR}/grafana-metrics-password"
# With TLS: the password Prometheus sends its alerts to Alertmanager with.
ALERTMANAGER_PASSWORD_FILE = f"{SECRETS_DIR}/alertmanager-password"


def load_stack_config() -> StackConfig:
    """Read every `monitoring:*` key the engine passed (unknown ones too) and validate it.

    Reads raw values rather than pulumi.Config.get_secret: validation needs the text
    (a password's length). Which keys the user stored as secrets comes from the engine, so
    any of them, not only the declared secret keys, stays a secret below.
    """
    everything = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    secret_keys = values_in_namespace({key: True for key in everything if runtime_config.is_config_secret(key)})
    return load_config(values_in_namespace(everything), secret_keys)


def grafana_api_url(cfg: StackConfig, published: pulumi.Output[str]) -> pulumi.Input[str]:
    """Where this program talks to Grafana: `grafana.apiUrl` when set (a forward from a CI runner),
    else the published port (a wildcard bind is reached on loopback)."""
    secret = cfg.is_secret("grafana")
    if cfg.grafana.api_url is not None:
        url = pulumi.Output.from_input(cfg.grafana.api_url)
        return pulumi.Output.secret(url) if secret else url
    if is_all_interfaces(cfg.bind_address):
        loopback = "::1" if parse_ip(cfg.bind_address).version == 6 else "127.0.0.1"
        return published_url(loopback, cfg.grafana.port, secret, "https" if cfg.tls.enabled else "http")
    return published


def image_version(image: str) -> str:
    """`3.7.3` from `prom/prometheus:v3.7.3`; a digest-pinned image is taken as 3.x."""
    match = re.search(r":v?(\d+\.\d+\.\d+)", image.rsplit("/", 1)[-1])
    return match.group(1) if match else "3.0.0"


def _secret(value: SecretStr | None) -> pulumi.Output[str] | None:
    return pulumi.Output.secret(value.get_secret_value()) if value is not None else None


def _maybe_secret(value: str, secret: bool) -> pulumi.Output[str]:
    output = pulumi.Output.from_input(value)
    return pulumi.Output.secret(output) if secret else output


def build_stack(cfg: StackConfig, project: str, stack: str, dashboards: Mapping[str, str]) -> dict[str, Any]:
    """Every component of one environment; `dashboards` maps uid -> dashboard JSON text."""
    prefix = f"{project}-{stack}"
    network = StackNetwork("network", StackNetworkArgs(name=cfg.network or f"{prefix}-net",
                                                       existing=cfg.network is not None,
                                                       secret=cfg.is_secret("network")))
    placement = Placement(network=network.name, bind_address=cfg.bind_address,
                          restart_policy=cfg.restart_policy, name_prefix=prefix,
                          secret=cfg.is_secret("bindAddress", "restartPolicy", "network"))
    # What each exporter row may read besides its settings: the stack's credentials.
    credentials: dict[str, pulumi.Input[str] | None] = {
        "postgresDsn": _secret(cfg.postgres_dsn), "redisPassword": _secret(cfg.redis_password)}
    demo: DemoWorkload | None = None
    if cfg.demo:
        # Demo mode: the exporters and scrape targets watch the demo services (each row says which).
        demo = DemoWorkload("demo", DemoWorkloadArgs(placement=placement))

    exporters = {}
    for exporter in cfg.enabled_exporters():
        inputs = {**credentials, **{key: getattr(demo, attribute) for key, attribute in exporter.row.demo.items()
                                    if demo is not None}}
        exporters[exporter.name] = Exporter(exporter.row.service, ExporterArgs(
            config=exporter, placement=placement, inputs=inputs, host_address=network.gateway,
            secret=cfg.is_secret("exporters")))

    access: WebAccess | None = None
    if cfg.tls.enabled:
        services = ["prometheus", "grafana", *(["alertmanager"] if cfg.alertmanager.enabled else [])]
        logins = {"prometheus": (cfg.prometheus.user, cfg.prometheus_password)}
        if cfg.alertmanager.enabled:
            logins["alertmanager"] = (cfg.alertmanager.user, cfg.alertmanager_password)
        access = WebAccess("web-access", WebAccessArgs(
            config=cfg.tls, containers={service: placement.name(service) for service in services},
            bind_address=cfg.bind_address, name_prefix=prefix,
            public_hosts=(urlsplit(cfg.grafana.public_url).hostname or "",), logins=logins,
            secret=cfg.is_secret("tls"), secret_names=cfg.is_secret("tls", "bindAddress", "grafana")))
    # `tls` stored as a secret (your own key set with --secret --path): what it configures stays one.
    tls_secret = access is not None and cfg.is_secret("tls")

    grafana = GrafanaServer("grafana", GrafanaServerArgs(
        config=cfg.grafana, admin_password=_secret(cfg.grafana_admin_password), placement=placement,
        secret=cfg.is_secret("grafana") or tls_secret, web=access.serving("grafana") if access is not None else None))

    alertmanager_targets = []
    outputs: dict[str, Any] = {}
    # Clients of the servers served over TLS: Prometheus' own scrape, Grafana's, the alerting.
    https: dict[str, dict[str, Any]] = {}
    secret_files: dict[str, pulumi.Input[str]] = {GRAFANA_METRICS_PASSWORD_FILE: grafana.metrics_password}
    if access is not None:
        own = access.serving("prometheus")
        https["prometheus"] = client_settings(ca_file=PROMETHEUS_FILES.ca, server_name=own.server_name,
                                              username=cfg.prometheus.user, password_file=PROMETHEUS_PASSWORD_FILE)
        https["grafana"] = client_settings(ca_file=PROMETHEUS_FILES.ca,
                                           server_name=access.serving("grafana").server_name)
        outputs.update({"tlsCaCertificate": access.ca_pem,
                        "prometheusUser": _maybe_secret(cfg.prometheus.user, cfg.is_secret("prometheus")),
                        "prometheusPassword": access.logins["prometheus"].password})
    if cfg.alertmanager.enabled:
        alertmanager_web = access.serving("alertmanager") if access is not None else None
        alertmanager = Alertmanager("alertmanager", AlertmanagerArgs(
            config=cfg.alertmanager, placement=placement, secret=cfg.is_secret("alertmanager") or tls_secret,
            web=alertmanager_web))
        alertmanager_targets = [alertmanager.target]
        outputs["alertmanagerUrl"] = alertmanager.url
        if alertmanager_web is not None and alertmanager_web.login is not None:
            https["alertmanager"] = client_settings(
                ca_file=PROMETHEUS_FILES.ca, server_name=alertmanager_web.server_name,
                username=cfg.alertmanager.user, password_file=ALERTMANAGER_PASSWORD_FILE)
            secret_files[ALERTMANAGER_PASSWORD_FILE] = alertmanager_web.login.password
            outputs.update({"alertmanagerUser": _maybe_secret(cfg.alertmanager.user, cfg.is_secret("alertmanager")),
                            "alertmanagerPassword": alertmanager_web.login.password})

    p = cfg.prometheus
    # Rendered once every target is known (a host-network exporter's address is the gateway's).
    remote_write, remote_write_files = remote_write_section(p.remote_write, SECRETS_DIR)
    # Only an exporter's own target can be an Output (a host-network one's is the gateway's): the
    # file waits for those alone (from_input on every target would make Outputs of each key and value).
    exporter_targets = {name: exporter.target for name, exporter in exporters.items()}
    pending = [name for name, target in exporter_targets.items() if isinstance(target, pulumi.Output)]

    def render(known: list[str]) -> str:
        own_exporters = {**exporter_targets, **dict(zip(pending, known, strict=True))}
        return render_prometheus_config(
            scrape_interval=p.scrape_interval, evaluation_interval=p.evaluation_interval,
            scrape_timeout=p.scrape_timeout, rule_files=[f"{RULES_DIR}/*.yml"],
            targets=scrape_targets(cfg, prometheus=f"localhost:{PROMETHEUS_PORT}", grafana=grafana.target,
                                   exporters=own_exporters, demo_django=demo.django_target if demo else None,
                                   demo_probes=demo.probe_urls if demo else ()),
            alertmanager_targets=alertmanager_targets,
            basic_auth={"grafana": (GRAFANA_METRICS_USER, GRAFANA_METRICS_PASSWORD_FILE)},
            # Every series and alert says which environment it comes from.
            external_labels={"environment": stack, **p.external_labels}, remote_write=remote_write,
            probers=prober_addresses(own_exporters), https=https)

    prometheus_yml = pulumi.Output.all(*(exporter_targets[name] for name in pending)).apply(render)
    # Every alert links to its runbook section and to its dashboard under Grafana's public URL.
    rule_texts = load_rule_files(links=AlertLinks(runbook_url=p.runbook_url or RUNBOOK_PATH,
                                                  grafana_url=cfg.grafana.public_url))
    # They carry those URLs: a stored secret stays one (as dashboardUrls does).
    secret_rules = cfg.is_secret("prometheus", "grafana", "bindAddress")
    rule_files = {name: pulumi.Output.secret(text) if secret_rules else text for name, text in rule_texts.items()}
    prometheus_web = access.serving("prometheus") if access is not None else None
    prometheus = PrometheusServer("prometheus", PrometheusServerArgs(
        config=p, prometheus_yml=prometheus_yml, rule_files=rule_files, placement=placement,
        secret_files={**secret_files,
                      **{path: pulumi.Output.secret(value) for path, value in remote_write_files.items()}},
        # With TLS, prometheus.yml also carries Alertmanager's user and the names of `tls`.
        secret=cfg.is_secret("prometheus", "targets") or tls_secret
        or (access is not None and cfg.alertmanager.enabled and cfg.is_secret("alertmanager")),
        web=prometheus_web))

    content = GrafanaContent("grafana-content", GrafanaContentArgs(
        grafana_url=grafana_api_url(cfg, grafana.url),
        admin_user=grafana.admin_user,
        admin_password=grafana.admin_password,
        prometheus_url=prometheus.internal_url,
        scrape_interval=p.scrape_interval,
        prometheus_version=image_version(p.image),
        root_url=cfg.grafana.public_url,
        dashboards=dashboards,
        long_term=cfg.grafana.long_term,
        secret_settings=cfg.is_secret("prometheus") or tls_secret,
        secret_urls=cfg.is_secret("grafana", "bindAddress"),
        depends_on=[grafana.container, prometheus.container],
        prometheus_web=prometheus_web,
        grafana_ca_pem=access.ca_pem if access is not None else None,
    ))

    return {
        "grafanaUrl": grafana.url,
        "prometheusUrl": prometheus.url,
        "grafanaAdminUser": grafana.admin_user,
        "grafanaAdminPassword": grafana.admin_password,
        "dashboardUrls": content.dashboard_urls,
        **outputs,
    }
