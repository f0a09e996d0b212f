"""Alertmanager: routes Prometheus' alerts to the configured receivers."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_docker as docker

from components.alertmanager_config import render_alertmanager_config
from components.config import AlertmanagerConfig
from components.docker_service import ContainerSpec, data_volume, pinned_image, published_url, service_container

CONFIG_PATH = "/etc/alertmanager/alertmanager.yml"
PORT = 9093


@dataclass
class AlertmanagerArgs:
    config: AlertmanagerConfig
    network: pulumi.Input[str]
    bind_address: str
    restart_policy: str
    name_prefix: str


class Alertmanager(pulumi.ComponentResource):
    container: docker.Container
    target: str
    url: pulumi.Output[str]

    def __init__(self, resource_name: str, args: AlertmanagerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("monitoring:index:Alertmanager", resource_name, None, opts)
        cfg = args.config
        # Receivers carry webhook URLs, SMTP passwords and Slack URLs: the whole file is a secret.
        rendered = pulumi.Output.secret(render_alertmanager_config(
            receivers=cfg.receivers, group_wait=cfg.group_wait, group_interval=cfg.group_interval,
            repeat_interval=cfg.repeat_interval))
        volume = data_volume(f"{resource_name}-data", f"{args.name_prefix}-alertmanager-data", self)
        container_name = f"{args.name_prefix}-alertmanager"
        spec = ContainerSpec(
            container_name=container_name,
            image=cfg.image,
            memory_mb=cfg.memory_mb,
            restart=args.restart_policy,
            network=args.network,
            alias="alertmanager",
            bind_address=args.bind_address,
            ports=[(PORT, cfg.port)],
            command=[f"--config.file={CONFIG_PATH}", "--storage.path=/alertmanager"],
            # prom/alertmanager is busybox-based: wget, no curl.
            healthcheck=["wget", "-q", "-O", "/dev/null", f"http://127.0.0.1:{PORT}/-/ready"],
            volumes=[docker.ContainerVolumeArgs(volume_name=volume.name, container_path="/alertmanager")],
            uploads=[docker.ContainerUploadArgs(file=CONFIG_PATH, content=rendered)],
            wait=True,
        )
        self.container = service_container(resource_name, spec, pinned_image(f"{resource_name}-image", cfg.image, self), self)
        self.target = f"{container_name}:{PORT}"
        self.url = pulumi.Output.from_input(published_url(args.bind_address, cfg.port))
        self.register_outputs({"url": self.url, "target": self.target})
