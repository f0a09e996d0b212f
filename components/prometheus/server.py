"""The Prometheus server: pinned image, TSDB on a retained volume, rendered config uploaded."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pulumi
import pulumi_docker as docker

from components.config import PrometheusConfig
from components.containers import ServiceArgs, published_server, published_url, service_spec
from components.web_access import WebServing
from components.web_config import ServerFiles

CONFIG_PATH = "/etc/prometheus/prometheus.yml"
RULES_DIR = "/etc/prometheus/rules"
SECRETS_DIR = "/etc/prometheus/secrets"
PORT = 9090
# With TLS: the web config, certificate and healthcheck client config under /etc/prometheus.
FILES = ServerFiles("/etc/prometheus")
# Its own password, for scraping itself and for the healthcheck.
OWN_PASSWORD_FILE = f"{SECRETS_DIR}/prometheus-password"


def query_limit_flags(cfg: PrometheusConfig) -> list[str]:
    """Query limits, so that a dashboard over a long range on a big fleet cannot take the server down."""
    return [f"--query.timeout={cfg.query_timeout}", f"--query.max-samples={cfg.query_max_samples}",
            f"--query.max-concurrency={cfg.query_max_concurrency}"]


@dataclass(kw_only=True)
class PrometheusServerArgs(ServiceArgs):
    config: PrometheusConfig
    # Text, or an Output of it where a target's address is only known at deploy time.
    prometheus_yml: pulumi.Input[str]
    # {file name: text}; an Output where it carries a URL stored as a secret.
    rule_files: Mapping[str, pulumi.Input[str]]
    # Files the config refers to that hold credentials (a scrape's password_file): uploaded as secrets.
    secret_files: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    # https and basic auth on its port (tls.enabled), or None: plain http.
    web: WebServing | None = None


class PrometheusServer(pulumi.ComponentResource):
    # For type checkers only: Pulumi reads a component's class annotations again at every registration.
    if TYPE_CHECKING:
        container: docker.Container
        url: pulumi.Output[str]
        # Where Grafana's server reaches Prometheus, on the stack network.
        internal_url: str

    def __init__(self, resource_name: str, args: PrometheusServerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("monitoring:index:PrometheusServer", resource_name, None, opts)
        cfg = args.config
        uploads = [docker.ContainerUploadArgsDict(file=CONFIG_PATH, content=args.prometheus_yml)]
        uploads += [docker.ContainerUploadArgsDict(file=f"{RULES_DIR}/{name}", content=text)
                    for name, text in sorted(args.rule_files.items())]
        uploads += [docker.ContainerUploadArgsDict(file=path, content=pulumi.Output.secret(content))
                    for path, content in sorted(args.secret_files.items())]
        command = [
            f"--config.file={CONFIG_PATH}",
            "--storage.tsdb.path=/prometheus",
            f"--storage.tsdb.retention.time={cfg.retention}",
            *query_limit_flags(cfg),
            # Prometheus 3 no longer ships console templates: no --web.console.* flags.
        ]
        # prom/prometheus is busybox-based: wget is there, curl is not.
        healthcheck = ["wget", "-q", "-O", "/dev/null", f"http://127.0.0.1:{PORT}/-/ready"]
        web = args.web
        if web is not None:
            uploads += web.server_uploads(FILES, OWN_PASSWORD_FILE)
            command.append(f"--web.config.file={FILES.web_config}")
            # Every path asks for the password: promtool (in the image) checks /-/ready over https with it.
            healthcheck = ["promtool", "check", "ready", f"--url=https://localhost:{PORT}",
                           f"--http.config.file={FILES.client_config}"]
        spec = service_spec(
            "prometheus", cfg, args, command=command, healthcheck=healthcheck,
            uploads=uploads, secret_uploads=bool(args.secret_files) or web is not None,
        )
        self.container = published_server(resource_name, self, spec=spec, port=PORT, host_port=cfg.port,
                                          data_path="/prometheus")
        scheme = "https" if web is not None else "http"
        self.url = published_url(args.placement.bind_address, cfg.port, args.secret or args.placement.secret, scheme)
        self.internal_url = f"{scheme}://{spec.container_name}:{PORT}"
        self.register_outputs({"url": self.url, "container": self.container.name})
