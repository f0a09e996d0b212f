"""What every container of the stack shares: a pinned image, restart policy, memory limit,
the stack network, ports bound to the configured address and a healthcheck.

Each component describes its containers as ContainerSpecs (data) and calls
`service_container` (or `published_server` for a server with a data volume and a
published port), so those rules live in one place.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import pulumi
import pulumi_docker as docker
from pydantic.alias_generators import to_camel

from components.types import url_host

# How often Docker runs a healthcheck, how long one may take, and the grace period at start.
HEALTHCHECK_INTERVAL, HEALTHCHECK_TIMEOUT, HEALTHCHECK_RETRIES, HEALTHCHECK_START_PERIOD = "15s", "5s", 5, "20s"


# A DNS label's limit: every container name is an address on the stack network.
MAX_NAME = 63


@dataclass
class Placement:
    """Where a stack's containers run and how they are named: the same for every component."""

    network: pulumi.Input[str]
    bind_address: str
    restart_policy: str
    # `<project>-<stack>`: container and volume names stay unique per stack on one host.
    name_prefix: str
    # The user stored bindAddress, restartPolicy or network as a secret: every container's
    # inputs that carry them are secrets too.
    secret: bool = False

    def name(self, service: str) -> str:
        """`<prefix>-<service>`, at most 63 characters: container names are addresses on the
        network, and Prometheus' resolver refuses a DNS label longer than that. A longer one
        keeps the prefix's start, adds a hash of the whole prefix (names stay unique per stack)
        and keeps the service whole."""
        full = f"{self.name_prefix}-{service}"
        if len(full) <= MAX_NAME:
            return full
        digest = hashlib.sha256(self.name_prefix.encode()).hexdigest()[:8]
        keep = MAX_NAME - len(service) - len(digest) - 2
        if keep < 1:
            raise ValueError(f"service name {service!r} leaves no room for the stack's prefix")
        return f"{self.name_prefix[:keep].rstrip('-_.')}-{digest}-{service}"


@dataclass
class ContainerSpec:
    # The container is named `<prefix>-<service>`: that name is its address on the network.
    service: str
    image: str
    memory_mb: int
    placement: Placement
    # (container port, host port) pairs; every one is bound to the placement's bind address.
    ports: Sequence[tuple[int, int]] = ()
    envs: Sequence[pulumi.Input[str]] | None = None
    # Replaces the image's entrypoint (exec form); None keeps it.
    entrypoint: Sequence[str] | None = None
    command: Sequence[str] | None = None
    # Test command in exec form, or None where the image has no shell or tool to run one.
    healthcheck: Sequence[str] | None = None
    volumes: Sequence[docker.ContainerVolumeArgsDict] = ()
    mounts: Sequence[docker.ContainerMountArgsDict] = ()
    uploads: Sequence[docker.ContainerUploadArgsDict] = ()
    pid_mode: str | None = None
    # "host": the host's network namespace instead of the stack network (no published ports).
    network_mode: str | None = None
    # An upload's content is a secret (declared, for policy packs that see no secret markers).
    secret_uploads: bool = False
    # Block dependants until the healthcheck passes (needs a healthcheck).
    wait: bool = False
    # Seconds a replaced or deleted container gets to stop cleanly (SIGTERM) before it is killed.
    stop_grace_seconds: int | None = None
    # Its service's config key is a secret (`pulumi config set --secret`): so is what it configures.
    secret: bool = False

    @property
    def container_name(self) -> str:
        return self.placement.name(self.service)


@dataclass(kw_only=True)
class ServiceArgs:
    """What every service component's Args share: where it runs, and whether its config key
    was stored as a secret (then what it configures stays one)."""

    placement: Placement
    secret: bool = False


class ServiceConfig(Protocol):
    @property
    def image(self) -> str: ...

    @property
    def memory_mb(self) -> int: ...


def service_spec(service: str, config: ServiceConfig, args: ServiceArgs, **fields: Any) -> ContainerSpec:
    """The ContainerSpec of a configured service: its image and memory from its config."""
    return ContainerSpec(service=service, image=config.image, memory_mb=config.memory_mb,
                         placement=args.placement, secret=args.secret, **fields)


def pinned_image(resource_name: str, image: str, parent: pulumi.Resource, secret: bool = False) -> docker.RemoteImage:
    # keep_locally: removing a stack must not delete an image other stacks on the host use.
    return docker.RemoteImage(resource_name, name=pulumi.Output.secret(image) if secret else image,
                              keep_locally=True, opts=pulumi.ResourceOptions(parent=parent))


def service_container(resource_name: str, spec: ContainerSpec, image: docker.RemoteImage,
                      parent: pulumi.Resource,
                      depends_on: Sequence[pulumi.Resource] = ()) -> docker.Container:
    if spec.wait and not spec.healthcheck:
        raise ValueError(f"{resource_name}: wait needs a healthcheck")
    healthcheck = (docker.ContainerHealthcheckArgsDict(
        tests=["CMD", *spec.healthcheck], interval=HEALTHCHECK_INTERVAL, timeout=HEALTHCHECK_TIMEOUT,
        retries=HEALTHCHECK_RETRIES, start_period=HEALTHCHECK_START_PERIOD)
                   if spec.healthcheck else None)
    placement = spec.placement
    configured: dict[str, Any] = {
        "restart": placement.restart_policy,
        "memory": spec.memory_mb,
        "networks_advanced": None if spec.network_mode == "host"
        else [docker.ContainerNetworksAdvancedArgsDict(name=placement.network)],
        "ports": [docker.ContainerPortArgsDict(internal=inside, external=outside, ip=placement.bind_address,
                                           protocol="tcp")
                  for inside, outside in spec.ports],
        "envs": list(spec.envs) if spec.envs else None,
        "command": list(spec.command) if spec.command is not None else None,
        "uploads": list(spec.uploads) or None,
    }
    # Secret inputs are declared too: policy packs see no secret markers on inputs.
    secret_outputs = ["envs"] if _has_secret(spec.envs) else []
    if spec.secret_uploads:
        secret_outputs.append("uploads")
    if spec.secret or placement.secret:
        configured = {key: None if value in (None, []) else pulumi.Output.secret(value)
                      for key, value in configured.items()}
        secret_outputs = [to_camel(key) for key, value in configured.items() if value is not None]
    return docker.Container(
        resource_name,
        name=spec.container_name,
        image=image.image_id,
        **configured,
        entrypoints=list(spec.entrypoint) if spec.entrypoint is not None else None,
        healthcheck=healthcheck,
        volumes=list(spec.volumes) or None,
        mounts=list(spec.mounts) or None,
        pid_mode=spec.pid_mode,
        network_mode=spec.network_mode,
        stop_timeout=spec.stop_grace_seconds,
        destroy_grace_seconds=spec.stop_grace_seconds,
        wait=spec.wait,
        wait_timeout=180 if spec.wait else None,
        # Secret env entries make the engine store `envs` as a secret; declaring it lets
        # policy packs (which see no secret markers on inputs) know it too.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on),
                                    additional_secret_outputs=secret_outputs or None),
    )


def _has_secret(envs: Sequence[pulumi.Input[str]] | None) -> bool:
    return envs is not None and any(not isinstance(entry, str) for entry in envs)


def secret_env(name: str, value: str | pulumi.Output[str]) -> pulumi.Output[str]:
    """`NAME=value` for a container's envs, a secret: the value is a credential. One apply, not
    Output.concat (which makes an Output of every part); marked secret inside it, as
    Output.secret of an Output unwraps it again (two Outputs more)."""
    if isinstance(value, str):
        return pulumi.Output.secret(f"{name}={value}")
    return value.apply(lambda known: pulumi.Output.secret(f"{name}={known}"))


def data_volume(resource_name: str, volume_name: str, parent: pulumi.Resource, protect: bool) -> docker.Volume:
    # protect (the TSDB, Grafana's database): a change that would replace or delete the volume
    # fails instead (and policy previews can see it); `make down` runs `pulumi destroy
    # --exclude-protected`. retain_on_delete (every data volume): a delete only forgets it, the
    # data stays on the host, and the next `pulumi up` re-attaches the same named volume (Docker
    # adopts an existing name), so an optional part can be turned off and on again.
    return docker.Volume(resource_name, name=volume_name,
                         opts=pulumi.ResourceOptions(parent=parent, protect=protect, retain_on_delete=True))


# A server's stop grace: Prometheus writes its head block and WAL, Grafana closes its database.
SERVER_STOP_GRACE_SECONDS = 120


def published_server(resource_name: str, parent: pulumi.Resource, *, spec: ContainerSpec, port: int,
                     host_port: int, data_path: str, protect_data: bool = True) -> docker.Container:
    """A server with its state on a named volume (`<prefix>-<service>-data` at `data_path`),
    `port` published on `host_port`, created healthy (`wait`) before its dependants, and
    given time to stop cleanly when it is replaced or removed."""
    volume = data_volume(f"{resource_name}-data", spec.placement.name(f"{spec.service}-data"), parent,
                         protect=protect_data)
    spec.stop_grace_seconds = SERVER_STOP_GRACE_SECONDS
    spec.ports = [(port, host_port)]
    spec.volumes = [docker.ContainerVolumeArgsDict(volume_name=volume.name, container_path=data_path)]
    spec.wait = True
    image = pinned_image(f"{resource_name}-image", spec.image, parent, secret=spec.secret)
    return service_container(resource_name, spec, image, parent)


def published_url(bind_address: str, port: int, secret: bool = False, scheme: str = "http") -> pulumi.Output[str]:
    """The URL of a port published on bind_address (IPv6 in brackets); a secret when
    the bind address or the port was configured as one."""
    url = pulumi.Output.from_input(f"{scheme}://{url_host(bind_address)}:{port}")
    return pulumi.Output.secret(url) if secret else url
