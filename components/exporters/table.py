"""The exporters, one row each: everything the stack knows about an exporter lives in its row.

A row holds the pinned image, the port it serves metrics on, its memory, its typed settings
(config keys under `monitoring:exporters.<name>`, with defaults), how its command and
environment are built, its healthcheck (None for scratch images with no shell), whether it
reads the host's root, what demo mode points it at, and the PromQL that tells whether the
service behind it is up. The config model, the Exporter component, the Prometheus config
renderer, the policy pack and the dashboards all read this table; adding an exporter is one
row here (plus its panels and alerts). Plain Python: no Pulumi import.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator, Field, create_model

from components.exporters import blackbox
from components.types import HTTP, ConfigObject, Flag, ImageRef, UrlKind, megabytes, not_allowed, parse_host_port

# Redis' address as redis_exporter takes it: redis://, rediss:// or a bare host:port.
REDIS_ADDRESS_HELP = ("redis://host:port, rediss://host:port or host:port, with a port from 1 to 65535 "
                      "(no password in it: it reaches a plaintext env entry; set the secret key redisPassword)")


def _redis_address(value: Any) -> str:
    if not isinstance(value, str):
        raise not_allowed(REDIS_ADDRESS_HELP)
    scheme, sep, rest = value.partition("://")
    if sep and scheme not in ("redis", "rediss"):
        raise not_allowed(REDIS_ADDRESS_HELP)
    parse_host_port(rest if sep else value, REDIS_ADDRESS_HELP)
    return value


RedisAddress = Annotated[str, BeforeValidator(_redis_address)]

# redis_exporter's --check-single-keys list (the same flag in 1.45 and 1.79): comma-separated
# `db<N>=<key>` or `<key>` (db 0); it reports each key's length as
# redis_key_size{db="db<N>",key="<key>"}, 0 while the key does not exist (an empty Celery queue).
CHECK_SINGLE_KEYS_HELP = ("comma-separated Redis keys, each db<N>=<key> or <key> (database 0), such as "
                          "db0=celery or db0=celery,db1=emails: the Celery broker's queue lists; a key of "
                          "letters, digits and . _ - : @ / + (no commas, '=', spaces or '%'); empty: no key checks")
_SINGLE_KEY = re.compile(r"(?:db(?:0|[1-9][0-9]{0,3})=)?[A-Za-z0-9._\-:@/+]+")


def _check_single_keys(value: Any) -> str:
    if not isinstance(value, str):
        raise not_allowed(CHECK_SINGLE_KEYS_HELP)
    # Whole-string ASCII matches: redis_exporter URL-unescapes keys and trims spaces, so neither is let through.
    if value and not all(_SINGLE_KEY.fullmatch(item) for item in value.split(",")):
        raise not_allowed(CHECK_SINGLE_KEYS_HELP)
    return value


CheckSingleKeys = Annotated[str, BeforeValidator(_check_single_keys)]
StubStatusUrl = Annotated[str, BeforeValidator(UrlKind(HTTP.schemes, "URL of nginx's stub_status page"))]
# The broker transports Celery names for the brokers Flower can inspect (amqp and Redis ones).
BROKER_SCHEMES = ("amqp", "amqps", "pyamqp", "redis", "rediss", "sentinel")
BrokerUrl = Annotated[str, BeforeValidator(UrlKind(BROKER_SCHEMES, "Celery broker URL"))]
PemCertificates = Annotated[str, BeforeValidator(blackbox.pem_certificates)]


@dataclass(frozen=True)
class Env:
    """One environment entry: `template` formatted with the settings, or the value of the
    input `secret_from` (a setting or credential) kept a Pulumi secret. An entry whose
    input has no value is left out."""

    name: str
    template: str | None = None
    secret_from: str | None = None


@dataclass(frozen=True)
class Setting:
    """A typed setting under `monitoring:exporters.<name>`, with its default."""

    type: Any
    default: str
    description: str
    # Where a credential for this setting goes instead of the setting's value, which reaches a
    # plaintext input (an env entry, a command line); None: the value is always passed as a secret.
    credentials_go_to: str | None = None


@dataclass(frozen=True)
class Prober:
    """A prober's scrape: Prometheus asks `path?module=<module>&target=<each target of the job>`."""

    path: str
    module: str


@dataclass(frozen=True)
class HostMount:
    """A host path bound into the container, always read-only: an exporter reads the host, it
    never changes it (the policy pack refuses a writable host bind)."""

    source: str
    target: str


@dataclass(frozen=True)
class ExporterRow:
    # The key under monitoring:exporters and the fixed scrape job name, which rules and dashboards select on.
    name: str
    # What the Service Health panel calls the service behind it.
    title: str
    image: str
    port: int
    memory_mb: int
    settings: Mapping[str, Setting] = field(default_factory=dict)
    # Arguments, each formatted with the settings (`{scrapeUri}`).
    command: tuple[str, ...] = ()
    env: tuple[Env, ...] = ()
    # Healthcheck in exec form, or None where the image has no shell or client (scratch images:
    # Prometheus' `up` watches them instead).
    healthcheck: tuple[str, ...] | None = None
    # Mount the host's root read-only at /host and share the host's process namespace.
    host_root: bool = False
    # Further host paths it reads, each bound read-only.
    mounts: tuple[HostMount, ...] = ()
    # Run in the host's network namespace (host network metrics), listening only on the stack
    # network's gateway; `{address}` in the command and healthcheck is where it listens.
    host_network: bool = False
    # Credentials (top-level secret config keys) it needs outside demo mode.
    requires: tuple[str, ...] = ()
    # In demo mode: input (setting or credential) -> attribute of the demo workload.
    demo: Mapping[str, str] = field(default_factory=dict)
    # PromQL, given the series selector and the labels that name an instance, that is 1 per
    # instance while the service behind the exporter answers and 0 when not.
    service_health: Callable[[str, str], str] | None = None
    # Files written into the container: path -> content rendered from the row's inputs (None:
    # no such file).
    files: Mapping[str, Callable[[Mapping[str, Any]], str | None]] = field(default_factory=dict)
    # A prober (blackbox_exporter): its job's targets are URLs it probes, not itself.
    prober: Prober | None = None

    @property
    def job(self) -> str:
        return self.name

    @property
    def selector(self) -> str:
        return f'job="{self.job}"'

    @property
    def host_mounts(self) -> tuple[HostMount, ...]:
        """Every host path it reads, each bound read-only: the host's root at /host, then its own."""
        return ((HostMount("/", "/host"),) if self.host_root else ()) + self.mounts

    @property
    def service(self) -> str:
        """The container's service name: `<prefix>-<name>-exporter`."""
        return f"{self.name}-exporter"

    def args(self, settings: Mapping[str, Any]) -> list[str]:
        """The command with settings filled in (`{address}` is left for the component)."""
        return [part.format(**{"address": "{address}", **settings}) for part in self.command]


def _wget(port: int, path: str = "/") -> tuple[str, ...]:
    # Built on quay.io/prometheus/busybox: wget, no curl.
    return ("wget", "-q", "-O", "/dev/null", f"http://127.0.0.1:{port}{path}")


def _service_up(metric: str) -> Callable[[str, str], str]:
    # The service-level metric per instance, or, for an instance whose exporter cannot be scraped
    # (its series go stale), the exporter's own `up`, which is then 0.
    return lambda sel, by: f"max by ({by}) ({metric}{{{sel}}}) or max by ({by}) (up{{{sel}}})"


def _target_up(sel: str, by: str) -> str:
    # No service-level metric: the target's own `up` (the exporter is the service).
    return f"max by ({by}) (up{{{sel}}})"


def _workers_online(sel: str, by: str) -> str:
    # Workers, not Flower: Flower answers while every worker is gone. No worker ever seen
    # (no series) reads 0 too, and so does Flower itself being down.
    return f"max by ({by}) (flower_worker_online{{{sel}}}) or 0 * max by ({by}) (up{{{sel}}})"


EXPORTERS: tuple[ExporterRow, ...] = (
    ExporterRow(
        name="node", title="Host", image="prom/node-exporter:v1.10.2", port=9100, memory_mb=128,
        # It reads the host's filesystems and processes, not the container's.
        # On the host's network (its own interfaces would be a container's), listening on the
        # stack network's gateway only: Prometheus reaches it there, nothing outside the host does.
        command=("--path.rootfs=/host", "--web.listen-address={address}:9100"),
        healthcheck=("wget", "-q", "-O", "/dev/null", "http://{address}:9100/"), host_root=True, host_network=True,
        service_health=_target_up,
    ),
    ExporterRow(
        name="postgres", title="PostgreSQL", image="quay.io/prometheuscommunity/postgres-exporter:v0.18.1",
        port=9187, memory_mb=128, healthcheck=_wget(9187),
        env=(Env("DATA_SOURCE_NAME", secret_from="postgresDsn"),), requires=("postgresDsn",),
        demo={"postgresDsn": "postgres_dsn"}, service_health=_service_up("pg_up"),
    ),
    ExporterRow(
        name="redis", title="Redis", image="oliver006/redis_exporter:v1.79.0", port=9121, memory_mb=128,
        settings={"address": Setting(RedisAddress, "redis://redis:6379", "Redis to watch: redis://host:port, "
                                     "rediss://host:port or host:port (its password: redisPassword).",
                                     credentials_go_to="the secret key redisPassword"),
                  # The broker's queue lists, so the Celery dashboard and alerts see the backlog.
                  "checkSingleKeys": Setting(CheckSingleKeys, "db0=celery",
                                             "Redis keys whose length redis_exporter reports (`redis_key_size`): "
                                             "the Celery broker's queue lists, `db<N>=<queue>` comma-separated "
                                             "(Celery's default queue `celery` in database 0); empty: none.")},
        # A flag (the image's entrypoint is the exporter), not REDIS_EXPORTER_CHECK_SINGLE_KEYS: an
        # env name containing KEY reads as a credential to the policy pack.
        command=("--check-single-keys={checkSingleKeys}",),
        env=(Env("REDIS_ADDR", template="{address}"), Env("REDIS_PASSWORD", secret_from="redisPassword")),
        demo={"address": "redis_address", "redisPassword": "redis_password"},
        service_health=_service_up("redis_up"),
    ),
    ExporterRow(
        name="nginx", title="nginx", image="nginx/nginx-prometheus-exporter:1.5.1", port=9113, memory_mb=64,
        settings={"scrapeUri": Setting(StubStatusUrl, "http://nginx:8080/stub_status",
                                       "URL of nginx's stub_status page",
                                       credentials_go_to="a secret key: pulumi config set --secret --path "
                                                         "exporters.nginx.scrapeUri ...")},
        command=("--nginx.scrape-uri={scrapeUri}",),
        demo={"scrapeUri": "nginx_scrape_uri"}, service_health=_service_up("nginx_up"),
    ),
    ExporterRow(
        # Celery metrics come from Flower's /metrics (a Python image: Python probes its health).
        name="celery", title="Celery", image="mher/flower:2.0.1", port=5555, memory_mb=256,
        settings={"brokerUrl": Setting(BrokerUrl, "redis://redis:6379/0",
                                       "Celery broker Flower watches (kept secret: it may carry a password)")},
        command=("celery", "flower", "--port=5555"),
        # A broker URL can carry a password: always a secret.
        env=(Env("CELERY_BROKER_URL", secret_from="brokerUrl"), Env("FLOWER_PORT", template="5555")),
        healthcheck=("python", "-c",
                     "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5555/healthcheck', timeout=4)"),
        demo={"brokerUrl": "broker_url"}, service_health=_workers_online,
    ),
    ExporterRow(
        # Probes from outside the app: the site answers, how fast, and its certificate's expiry.
        name="blackbox", title="Probe", image="prom/blackbox-exporter:v0.28.0", port=9115, memory_mb=64,
        settings={"caCertificate": Setting(PemCertificates, "", "PEM of the CA(s) that signed the probed https "
                                           "sites, when not a public CA (empty: the image's public CAs)")},
        command=(f"--config.file={blackbox.CONFIG_PATH}",),
        files={blackbox.CONFIG_PATH: blackbox.config_file, blackbox.CA_PATH: blackbox.ca_file},
        healthcheck=_wget(9115, "/-/healthy"),
        prober=Prober(path=blackbox.PROBE_PATH, module=blackbox.HTTP_MODULE),
    ),
    ExporterRow(
        # Per-container CPU, memory, restarts and network. v0.57.0 or later: older releases report
        # a Docker container's creation time as container_start_time_seconds, so restarts never show.
        name="cadvisor", title="cAdvisor", image="ghcr.io/google/cadvisor:v0.60.5", port=8080, memory_mb=256,
        command=(
            # Docker containers and the root cgroup only, not every systemd slice of the host.
            "--docker_only=true",
            # Only what the Containers dashboard and alerts read (an allow-list: new kinds stay off).
            "--enable_metrics=cpu,memory,network",
            # Labels: id, name, image and the compose service only; never every Docker label
            # (`restartcount` among them would start a new series at each restart).
            "--store_container_labels=false",
            "--whitelisted_container_labels=com.docker.compose.service",
            # A sample every 10 s, never stretched to 60 s for idle containers: rates keep 4 samples a minute.
            "--housekeeping_interval=10s", "--allow_dynamic_housekeeping=false",
        ),
        # Alpine-based: busybox wget, and cAdvisor's own /healthz.
        healthcheck=_wget(8080, "/healthz"),
        # Read-only: the host's root (its /proc for each container's network counters, Docker's
        # storage under /rootfs/var/lib/docker), Docker's and containerd's sockets, and sysfs (cgroups).
        mounts=(HostMount("/", "/rootfs"), HostMount("/var/run", "/var/run"), HostMount("/sys", "/sys"),
                HostMount("/var/lib/docker/", "/var/lib/docker")),
    ),
)

BY_NAME: dict[str, ExporterRow] = {row.name: row for row in EXPORTERS}
EXPORTER_NAMES: tuple[str, ...] = tuple(BY_NAME)


def selector(name: str) -> str:
    """The PromQL label matcher of an exporter's scrape job: `job="node"`."""
    return BY_NAME[name].selector


# --- the config of each exporter: monitoring:exporters.<name> --------------------------------

class ExporterConfig(ConfigObject):
    """One exporter's config; each row of the exporter table adds its own settings."""

    row: ClassVar[ExporterRow]
    enabled: Flag = True
    image: ImageRef
    memory_mb: Annotated[int, megabytes(16)]

    @property
    def name(self) -> str:
        return self.row.name

    @property
    def settings(self) -> dict[str, str]:
        return {key: getattr(self, key) for key in self.row.settings}


def _exporter_model(row: ExporterRow) -> type[ExporterConfig]:
    fields: dict[str, Any] = {
        "enabled": (Flag, Field(True, description=f"Run the {row.name} exporter.")),
        "image": (ImageRef, Field(row.image, description="Pinned image: an exact tag or a digest.")),
        "memory_mb": (Annotated[int, megabytes(16)], Field(row.memory_mb, alias="memoryMb",
                                           description="Memory limit of the container, MB.")),
        **{key: (setting.type, Field(setting.default, alias=key, description=setting.description))
           for key, setting in row.settings.items()},
    }
    model: type[ExporterConfig] = create_model(
        f"{row.name.capitalize()}ExporterConfig", __base__=ExporterConfig, **fields)
    model.row = row
    return model


EXPORTER_MODELS: dict[str, type[ExporterConfig]] = {row.name: _exporter_model(row) for row in EXPORTERS}
