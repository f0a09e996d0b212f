"""The exporters: one container each, only those enabled, on the stack network.

Each exporter is described by a row of EXPORTER_LAYOUT (data) and built by one class,
`Exporter`, so adding an exporter is a new row, not new code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import pulumi
import pulumi_docker as docker

from components.config import ExporterConfig
from components.docker_service import ContainerSpec, Placement, pinned_image, service_container


@dataclass(frozen=True)
class ExporterLayout:
    port: int
    # Healthcheck in exec form, or None: redis_exporter and nginx-prometheus-exporter are
    # scratch images with no shell or client; Prometheus' `up` watches them instead.
    healthcheck: tuple[str, ...] | None
    command: Callable[[ExporterConfig], list[str]]


def _wget(port: int, path: str = "/") -> tuple[str, ...]:
    # node-exporter and postgres-exporter are built on quay.io/prometheus/busybox: wget, no curl.
    return ("wget", "-q", "-O", "/dev/null", f"http://127.0.0.1:{port}{path}")


EXPORTER_LAYOUT = {
    "node": ExporterLayout(9100, _wget(9100), lambda e: ["--path.rootfs=/host"]),
    "postgres": ExporterLayout(9187, _wget(9187), lambda e: []),
    "redis": ExporterLayout(9121, None, lambda e: []),
    "nginx": ExporterLayout(9113, None, lambda e: [f"--nginx.scrape-uri={e.settings['scrapeUri']}"]),
    # Flower is a Python image: use Python itself to probe its health endpoint.
    "celery": ExporterLayout(
        5555,
        ("python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5555/healthcheck', timeout=4)"),
        lambda e: ["celery", "flower", "--port=5555"],
    ),
}


@dataclass
class ExporterArgs:
    config: ExporterConfig
    placement: Placement
    # Environment entries; credentials among them arrive as secret Outputs.
    envs: Sequence[pulumi.Input[str]] = ()


class Exporter(pulumi.ComponentResource):
    """One exporter container. Exporters publish no host port: Prometheus scrapes them on the network."""

    container: docker.Container
    target: str

    def __init__(self, resource_name: str, args: ExporterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("monitoring:index:Exporter", resource_name, None, opts)
        cfg = args.config
        layout = EXPORTER_LAYOUT[cfg.name]
        host_root = cfg.name == "node"
        spec = ContainerSpec(
            service=f"{cfg.name}-exporter",
            image=cfg.image,
            memory_mb=cfg.memory_mb,
            placement=args.placement,
            envs=list(args.envs) or None,
            command=layout.command(cfg),
            healthcheck=layout.healthcheck,
            # node_exporter reads the host's filesystems and processes, not the container's.
            mounts=[docker.ContainerMountArgs(target="/host", source="/", type="bind", read_only=True,
                                              bind_options=docker.ContainerMountBindOptionsArgs(propagation="rslave"))]
            if host_root else (),
            pid_mode="host" if host_root else None,
        )
        image = pinned_image(f"{resource_name}-image", cfg.image, self)
        self.container = service_container(resource_name, spec, image, self)
        self.target = f"{spec.container_name}:{layout.port}"
        self.register_outputs({"target": self.target})


def exporter_envs(cfg: ExporterConfig, postgres_dsn: pulumi.Input[str] | None,
                  redis_password: pulumi.Input[str] | None,
                  broker_url: pulumi.Input[str] | None = None) -> list[pulumi.Input[str]]:
    """Environment of each exporter; every credential is wrapped as a secret.

    `broker_url` overrides the configured Celery broker (the demo's carries a password).
    """
    if cfg.name == "postgres" and postgres_dsn is not None:
        return [pulumi.Output.secret(pulumi.Output.concat("DATA_SOURCE_NAME=", postgres_dsn))]
    if cfg.name == "redis":
        envs: list[pulumi.Input[str]] = [f"REDIS_ADDR={cfg.settings['address']}"]
        if redis_password is not None:
            envs.append(pulumi.Output.secret(pulumi.Output.concat("REDIS_PASSWORD=", redis_password)))
        return envs
    if cfg.name == "celery":
        # A broker URL can carry a password: keep it secret.
        broker = broker_url if broker_url is not None else cfg.settings["brokerUrl"]
        return [pulumi.Output.secret(pulumi.Output.concat("CELERY_BROKER_URL=", broker)), "FLOWER_PORT=5555"]
    return []
