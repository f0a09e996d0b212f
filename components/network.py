"""The Docker network every container of the stack joins."""

from __future__ import annotations

from dataclasses import dataclass

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

    name: pulumi.Output[str]

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
        self.register_outputs({"name": self.name})
