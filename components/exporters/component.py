"""The Exporter component: one exporter container, built from its row of the exporter table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_docker as docker

from components.containers import ServiceArgs, pinned_image, secret_env, service_container, service_spec
from components.exporters.table import ExporterConfig


@dataclass(kw_only=True)
class ExporterArgs(ServiceArgs):
    config: ExporterConfig
    # Values of the row's inputs: its settings (plain) and credentials (secret Outputs),
    # demo mode's values already in place.
    inputs: Mapping[str, pulumi.Input[str] | None] = field(default_factory=dict)
    # The host's address on the stack network: where a host-network exporter listens.
    host_address: pulumi.Output[str] | None = None


def exporter_envs(config: ExporterConfig, inputs: Mapping[str, Any]) -> list[pulumi.Input[str]]:
    """The row's environment: templates from settings, credentials as secrets; an entry
    whose input has no value is left out."""
    envs: list[pulumi.Input[str]] = []
    for entry in config.row.env:
        if entry.secret_from is None:
            envs.append(f"{entry.name}={(entry.template or '').format(**inputs)}")
        elif inputs.get(entry.secret_from) is not None:
            envs.append(secret_env(entry.name, inputs[entry.secret_from]))
    return envs


def _with_address(parts: Sequence[str], address: str | pulumi.Output[str]) -> list[Any]:
    """`{address}` in a command or healthcheck filled with an address that may be an Output."""
    if isinstance(address, str):
        # Known now (every exporter but a host-network one): plain text, no Output to wait for.
        return [part.format(address=address) if "{address}" in part else part for part in parts]

    def filled(part: str) -> pulumi.Output[str]:
        def fill(known: str) -> str:
            return part.format(address=known)
        return address.apply(fill)

    return [filled(part) if "{address}" in part else part for part in parts]


class Exporter(pulumi.ComponentResource):
    """One exporter container. Exporters publish no host port: Prometheus scrapes them on the network."""

    # For type checkers only: Pulumi reads a component's class annotations again at every registration.
    if TYPE_CHECKING:
        container: docker.Container
        # host:port Prometheus scrapes (known at deploy time only for a host-network exporter).
        target: pulumi.Input[str]

    def __init__(self, resource_name: str, args: ExporterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("monitoring:index:Exporter", resource_name, None, opts)
        row = args.config.row
        inputs = {**args.config.settings, **args.inputs}
        if row.host_network and args.host_address is None:
            raise ValueError(f"{row.name}: a host-network exporter needs the stack network's host address")
        # Where it listens: the gateway on the host's network, else every address of its container.
        address: str | pulumi.Output[str] = (args.host_address or "") if row.host_network else "127.0.0.1"
        spec = service_spec(
            row.service, args.config, args,
            envs=exporter_envs(args.config, inputs) or None,
            command=_with_address(row.args(inputs), address),
            healthcheck=_with_address(row.healthcheck, address) if row.healthcheck else None,
            network_mode="host" if row.host_network else None,
            # A plain read-only bind: `rslave` propagation fails where / is a private mount
            # (WSL2, Docker Desktop, some NAS), and node_exporter does not need new mounts live.
            mounts=[docker.ContainerMountArgsDict(target=mount.target, source=mount.source, type="bind", read_only=True)
                    for mount in row.host_mounts],
            pid_mode="host" if row.host_root else None,
            uploads=[docker.ContainerUploadArgsDict(file=path, content=content)
                     for path, content in ((path, render(inputs)) for path, render in sorted(row.files.items()))
                     if content is not None],
        )
        image = pinned_image(f"{resource_name}-image", args.config.image, self, secret=args.secret)
        self.container = service_container(resource_name, spec, image, self)
        self.target = (address.apply(lambda host: f"{host}:{row.port}") if isinstance(address, pulumi.Output)
                       else f"{spec.container_name}:{row.port}")
        self.register_outputs({"target": self.target})
