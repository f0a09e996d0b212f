"""The Prometheus server: pinned image, TSDB on a retained volume, rendered config uploaded."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_docker as docker

from components.config import PrometheusConfig
from components.containers import ServiceArgs, published_server, published_url, service_spec

CONFIG_PATH = "/etc/prometheus/prometheus.yml"
RULES_DIR = "/etc/prometheus/rules"
SECRETS_DIR = "/etc/prometheus/secrets"
PORT = 9090


@dataclass(kw_only=True)
class PrometheusServerArgs(ServiceArgs):
    config: PrometheusConfig
    # Text, or an Output of it where a target's address is only known at deploy time.
    prometheus_yml: pulumi.Input[str]
    # {file name: text}; an Output where it carries a URL stored as a secret.
    rule_files: Mapping[str, pulumi.Input[str]]
    # Files the config refers to that hold credentials (a scrape's password_file): uploaded as secrets.
    secret_files: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)


class PrometheusServer(pulumi.ComponentResource):
    container: docker.Container
    url: pulumi.Output[str]
    # Where Grafana's server reaches Prometheus, on the stack network.
    internal_url: str

    def __init__(self, resource_name: str, args: PrometheusServerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("monitoring:index:PrometheusServer", resource_name, None, opts)
        cfg = args.config
        uploads = [docker.ContainerUploadArgs(file=CONFIG_PATH, content=args.prometheus_yml)]
        uploads += [docker.ContainerUploadArgs(file=f"{RULES_DIR}/{name}", content=text)
                    for name, text in sorted(args.rule_files.items())]
        uploads += [docker.ContainerUploadArgs(file=path, content=pulumi.Output.secret(content))
                    for path, content in sorted(args.secret_files.items())]
        spec = service_spec(
            "prometheus", cfg, args,
            command=[
                f"--config.file={CONFIG_PATH}",
                "--storage.tsdb.path=/prometheus",
                f"--storage.tsdb.retention.time={cfg.retention}",
                # Prometheus 3 no longer ships console templates: no --web.console.* flags.
            ],
            # prom/prometheus is busybox-based: wget is there, curl is not.
            healthcheck=["wget", "-q", "-O", "/dev/null", f"http://127.0.0.1:{PORT}/-/ready"],
            uploads=uploads, secret_uploads=bool(args.secret_files),
        )
        self.container = published_server(resource_name, self, spec=spec, port=PORT, host_port=cfg.port,
                                          data_path="/prometheus")
        self.url = published_url(args.placement.bind_address, cfg.port, args.secret or args.placement.secret)
        self.internal_url = f"http://{spec.container_name}:{PORT}"
        self.register_outputs({"url": self.url, "container": self.container.name})
