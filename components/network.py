"""The Docker network every container of the stack joins."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_docker as docker


@dataclass
class StackNetworkArgs:
    # Name of the network to create, or of an existing one to join.
    name: str
    existing: bool = False
    # `network` was stored as a secret.
    secret: bool = False


class StackNetwork(pulumi.ComponentResource):
    """Creates a user-defined bridge network (container names resolve on it), or joins one."""

    # For type checkers only: Pulumi reads a component's class annotations again at every registration.
    if TYPE_CHECKING:
        name: pulumi.Output[str]
        # The host's address on this network (its bridge gateway): reachable from every container
        # on it, and from nowhere outside the host.
        gateway: pulumi.Output[str]

    def __init__(self, resource_name: str, args: StackNetworkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("monitoring:index:StackNetwork", resource_name, None, opts)
        if args.existing:
            # A lookup, not a resource: preview fails early when the network is missing.
            found = docker.get_network_output(name=args.name, opts=pulumi.InvokeOutputOptions(parent=self)).name
            self.name = pulumi.Output.secret(found) if args.secret else found
        else:
            network = docker.Network(resource_name, name=pulumi.Output.secret(args.name) if args.secret else args.name,
                                     driver="bridge", attachable=True,
                                     opts=pulumi.ResourceOptions(parent=self))
            self.name = network.name
        # Read back from Docker (it assigns the subnet): the same lookup for a created network.
        ipam = docker.get_network_output(name=self.name, opts=pulumi.InvokeOutputOptions(parent=self)).ipam_configs
        self.gateway = ipam.apply(_gateway)
        self.register_outputs({"name": self.name, "gateway": self.gateway})


def _gateway(configs: Sequence[Any]) -> str:
    gateways = [c.gateway if hasattr(c, "gateway") else c.get("gateway") for c in configs or []]
    ipv4 = [g for g in gateways if g and ":" not in g]
    if not ipv4:
        raise ValueError("the stack network has no IPv4 gateway: node_exporter (host network) listens on it")
    return ipv4[0]
