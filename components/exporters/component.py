"""The Exporter component: one exporter container, built from its row of the exporter table."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_docker as docker

from components.containers import ServiceArgs, pinned_image, service_container, service_spec
from components.exporters.table import ExporterConfig


@dataclass(kw_only=True)
class ExporterArgs(ServiceArgs):
    config: ExporterConfig
    # Values of the row's inputs: its settings (plain) and credentials (secret Outputs),
    # demo mode's values already in place.
    inputs: Mapping[str, pulumi.Input[str] | None] = field(default_factory=dict)


def exporter_envs(config: ExporterConfig, inputs: Mapping[str, Any]) -> list[pulumi.Input[str]]:
    """The row's environment: templates from settings, credentials as secrets; an entry
    whose input has no value is left out."""
    envs: list[pulumi.Input[str]] = []
    for entry in config.row.env:
        if entry.secret_from is None:
            envs.append(f"{entry.name}={(entry.template or '').format(**inputs)}")
        elif inputs.get(entry.secret_from) is not None:
            envs.append(pulumi.Output.secret(pulumi.Output.concat(f"{entry.name}=", inputs[entry.secret_from])))
    return envs


class Exporter(pulumi.ComponentResource):
    """One exporter container. Exporters publish no host port: Prometheus scrapes them on the network."""

    container: docker.Container
    target: str

    def __init__(self, resource_name: str, args: ExporterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("monitoring:index:Exporter", resource_name, None, opts)
        row = args.config.row
        inputs = {**args.config.settings, **args.inputs}
        spec = service_spec(
            row.service, args.config, args,
            envs=exporter_envs(args.config, inputs) or None,
            command=row.args(inputs),
            healthcheck=row.healthcheck,
            # A plain read-only bind: `rslave` propagation fails where / is a private mount
            # (WSL2, Docker Desktop, some NAS), and node_exporter does not need new mounts live.
            mounts=[docker.ContainerMountArgs(target="/host", source="/", type="bind", read_only=True)]
            if row.host_root else (),
            pid_mode="host" if row.host_root else None,
        )
        image = pinned_image(f"{resource_name}-image", args.config.image, self, secret=args.secret)
        self.container = service_container(resource_name, spec, image, self)
        self.target = f"{spec.container_name}:{row.port}"
        self.register_outputs({"target": self.target})
