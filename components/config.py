"""The stack config model: reads every `monitoring:*` key, applies defaults, validates.

Plain Python, no Pulumi import: tests and other tools use it directly. Every default
lives here, because Pulumi mocks do not apply `Pulumi.yaml` defaults. All problems are
collected and raised together as one `ConfigError`, before any resource exists.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from components.alertmanager_config import render_alertmanager_config

NAMESPACE = "monitoring"

# Pinned images: exact tags of current releases, never `latest`.
DEFAULT_IMAGES = {
    "prometheus": "prom/prometheus:v3.7.3",
    "grafana": "grafana/grafana:12.2.0",
    "alertmanager": "prom/alertmanager:v0.28.1",
    "node": "prom/node-exporter:v1.10.2",
    "postgres": "quay.io/prometheuscommunity/postgres-exporter:v0.18.1",
    "redis": "oliver006/redis_exporter:v1.79.0",
    "nginx": "nginx/nginx-prometheus-exporter:1.5.1",
    "celery": "mher/flower:2.0.1",
}

EXPORTERS = ("node", "postgres", "redis", "nginx", "celery")
RESTART_POLICIES = ("no", "on-failure", "always", "unless-stopped")
SECRET_KEYS = ("grafanaAdminPassword", "postgresDsn", "redisPassword")
MIN_PASSWORD_LENGTH = 12

# Prometheus' own duration grammar (model.ParseDuration), units largest first.
_DURATION_RE = re.compile(r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$")
_DURATION_UNITS_MS = (365 * 86400_000, 7 * 86400_000, 86400_000, 3600_000, 60_000, 1000, 1)
_TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_DIGEST_RE = re.compile(r"^sha256:[a-f0-9]{64}$")
_NETWORK_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_HOSTPORT_RE = re.compile(r"^(?P<host>[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9a-fA-F:]+\]):(?P<port>\d+)$")


class Secret:
    """A value that must stay secret: the Pulumi layer turns it into a secret Output."""

    __slots__ = ("value",)

    def __init__(self, value: str):
        self.value = value

    def __repr__(self) -> str:
        return "Secret(***)"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other.value == self.value

    def __hash__(self) -> int:
        return hash(("Secret", self.value))


class ConfigError(ValueError):
    """Every problem in the stack config, one line each, naming key, value and what is allowed."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("invalid stack config:\n" + "\n".join(f"  - {p}" for p in problems))


@dataclass(frozen=True)
class ServiceConfig:
    image: str
    memory_mb: int


@dataclass(frozen=True)
class GrafanaConfig(ServiceConfig):
    port: int = 3000
    admin_user: str = "admin"
    root_url: str = ""
    plugins: tuple[str, ...] = ()


@dataclass(frozen=True)
class PrometheusConfig(ServiceConfig):
    port: int = 9090
    retention: str = "15d"
    scrape_interval: str = "15s"
    evaluation_interval: str = "15s"
    scrape_timeout: str = "10s"


@dataclass(frozen=True)
class ExporterConfig(ServiceConfig):
    name: str = ""
    enabled: bool = True
    # What the exporter watches: redis address, nginx scrape URI, Celery broker URL.
    settings: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AlertmanagerConfig(ServiceConfig):
    enabled: bool = False
    port: int = 9093
    receivers: tuple[Mapping[str, Any], ...] = ()
    group_wait: str = "30s"
    group_interval: str = "5m"
    repeat_interval: str = "4h"


@dataclass(frozen=True)
class StackConfig:
    bind_address: str
    network: str | None
    demo: bool
    restart_policy: str
    grafana: GrafanaConfig
    grafana_admin_password: Secret | None
    prometheus: PrometheusConfig
    exporters: Mapping[str, ExporterConfig]
    postgres_dsn: Secret | None
    redis_password: Secret | None
    django_targets: tuple[str, ...]
    alertmanager: AlertmanagerConfig

    def enabled_exporters(self) -> list[ExporterConfig]:
        return [e for e in self.exporters.values() if e.enabled]


# Defaults of each object key: (field name in config, default value, kind).
_GRAFANA_FIELDS = {"port": 3000, "image": DEFAULT_IMAGES["grafana"], "adminUser": "admin",
                   "rootUrl": None, "plugins": [], "memoryMb": 512}
_PROMETHEUS_FIELDS = {"port": 9090, "image": DEFAULT_IMAGES["prometheus"], "retention": "15d",
                      "scrapeInterval": "15s", "evaluationInterval": "15s", "scrapeTimeout": "10s",
                      "memoryMb": 1024}
_EXPORTER_SETTINGS = {
    "node": {},
    "postgres": {},
    "redis": {"address": "redis://redis:6379"},
    "nginx": {"scrapeUri": "http://nginx:8080/stub_status"},
    "celery": {"brokerUrl": "redis://redis:6379/0"},
}
_EXPORTER_MEMORY_MB = {"node": 128, "postgres": 128, "redis": 128, "nginx": 64, "celery": 256}
_ALERTMANAGER_FIELDS = {"enabled": False, "port": 9093, "image": DEFAULT_IMAGES["alertmanager"],
                        "receivers": [], "memoryMb": 256, "groupWait": "30s", "groupInterval": "5m",
                        "repeatInterval": "4h"}
_TARGETS_FIELDS = {"django": ["django:8000"]}
TOP_LEVEL_KEYS = ("bindAddress", "network", "demo", "restartPolicy", "grafana", "grafanaAdminPassword",
                  "prometheus", "exporters", "postgresDsn", "redisPassword", "targets", "alertmanager")


def duration_ms(text: str) -> int | None:
    """Milliseconds in a Prometheus duration such as `1h30m`, or None when it is not one."""
    match = _DURATION_RE.match(text) if isinstance(text, str) and text else None
    if not match:
        return None
    return sum(int(v) * unit for v, unit in zip(match.groups(), _DURATION_UNITS_MS) if v)


class _Reader:
    """Collects problems while reading values; each check returns a usable value."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, key: str, value: Any, allowed: str) -> None:
        # A secret's value is never printed: its length is enough to fix a short password.
        shown = f"<secret, {len(value.value)} characters>" if isinstance(value, Secret) else json.dumps(value)
        self.problems.append(f"{NAMESPACE}:{key}: {shown} is not allowed: {allowed}")

    def object(self, key: str, raw: Any, fields: Iterable[str]) -> dict:
        if raw is None:
            return {}
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except json.JSONDecodeError:
                self.fail(key, raw, "a JSON object")
                return {}
        if not isinstance(raw, dict):
            self.fail(key, raw, "an object")
            return {}
        allowed = sorted(fields)
        for name in raw:
            if name not in fields:
                # Possibly a misspelt secret (grafana.adminPassword): name it, never print it.
                self.problems.append(f"{NAMESPACE}:{key}.{name}: is not a known key (value not shown); "
                                     f"allowed: {', '.join(allowed)}")
        return raw

    def boolean(self, key: str, value: Any, default: bool) -> bool:
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        self.fail(key, value, "true or false")
        return default

    def port(self, key: str, value: Any) -> int:
        if isinstance(value, str) and value.isascii() and value.isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
            self.fail(key, value, "a port number from 1 to 65535")
            return 0
        return value

    def positive_int(self, key: str, value: Any, minimum: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.fail(key, value, f"a whole number of megabytes, at least {minimum}")
            return minimum
        return value

    def string(self, key: str, value: Any, pattern: re.Pattern | None = None, allowed: str = "") -> str:
        if not isinstance(value, str) or not value or (pattern and not pattern.match(value)):
            self.fail(key, value, allowed or "a non-empty string")
            return ""
        return value

    def duration(self, key: str, value: Any) -> str:
        if duration_ms(value) in (None, 0):
            self.fail(key, value, "a Prometheus duration such as 30s, 5m, 15d or 1h30m (units y w d h m s ms, largest first)")
            return ""
        return value

    def image(self, key: str, value: Any) -> str:
        if not isinstance(value, str) or not value:
            self.fail(key, value, "an image reference with an exact tag or digest, such as prom/prometheus:v3.7.3")
            return ""
        name, at, digest = value.partition("@")
        last = name.rsplit("/", 1)[-1]
        tag = last.partition(":")[2] if ":" in last else ""
        if at:
            if not _DIGEST_RE.match(digest):
                self.fail(key, value, "a digest of the form @sha256:<64 hex digits>")
        elif not tag or tag == "latest" or not _TAG_RE.match(tag):
            self.fail(key, value, "an image reference with an exact version tag (not `latest`, not missing) "
                                  "or a @sha256 digest")
        return value

    def secret(self, key: str, value: Any) -> Secret | None:
        if value is None:
            return None
        if not isinstance(value, str) or not value:
            self.fail(key, Secret(str(value)), "a non-empty string set with `pulumi config set --secret`")
            return None
        return Secret(value)


def load_config(values: Mapping[str, Any]) -> StackConfig:
    """Build the StackConfig from raw `monitoring:*` values (key without namespace -> value).

    Values are what Pulumi stores: strings, with objects as JSON text; parsed Python
    values are accepted too. Raises ConfigError listing every problem.
    """
    r = _Reader()
    for key in values:
        if key not in TOP_LEVEL_KEYS and values[key] is not None:
            # An unknown key may be a misspelt secret: name it, never print its value.
            r.problems.append(f"{NAMESPACE}:{key}: is not a known key (value not shown); "
                              f"allowed: {', '.join(sorted(TOP_LEVEL_KEYS))}")

    bind = values.get("bindAddress") or "127.0.0.1"
    try:
        if not isinstance(bind, str):
            raise ValueError(bind)  # ip_address() would read 127 as 0.0.0.127
        ipaddress.ip_address(bind)
    except ValueError:
        r.fail("bindAddress", bind, "an IPv4 or IPv6 address such as 127.0.0.1 (not a host name)")
        bind = str(bind)

    network = values.get("network")
    if network is not None:
        network = r.string("network", network, _NETWORK_RE, "a Docker network name: letters, digits, _ . -")

    demo = r.boolean("demo", values.get("demo"), False)
    restart = values.get("restartPolicy") or "unless-stopped"
    if restart not in RESTART_POLICIES:
        r.fail("restartPolicy", restart, f"one of {', '.join(RESTART_POLICIES)}")

    g = {**_GRAFANA_FIELDS, **r.object("grafana", values.get("grafana"), _GRAFANA_FIELDS)}
    grafana_port = r.port("grafana.port", g["port"])
    plugins = g["plugins"]
    if not isinstance(plugins, list) or not all(isinstance(p, str) and p for p in plugins):
        r.fail("grafana.plugins", plugins, "a list of plugin ids, each pinned as id@version")
        plugins = []
    for i, plugin in enumerate(plugins):
        if not re.match(r"^[a-z0-9][a-z0-9-]*@\d[\w.-]*$", plugin):
            r.fail(f"grafana.plugins[{i}]", plugin, "a plugin id pinned to a version, such as grafana-clock-panel@2.1.8")
    root_url = g["rootUrl"] if g["rootUrl"] is not None else f"http://{_url_host(bind)}:{grafana_port}/"
    if not isinstance(root_url, str) or not re.match(r"^https?://", root_url):
        r.fail("grafana.rootUrl", root_url, "an http:// or https:// URL")
    grafana = GrafanaConfig(
        image=r.image("grafana.image", g["image"]),
        memory_mb=r.positive_int("grafana.memoryMb", g["memoryMb"], 128),
        port=grafana_port,
        admin_user=r.string("grafana.adminUser", g["adminUser"], re.compile(r"^[A-Za-z0-9._@-]+$"),
                            "a user name: letters, digits, . _ @ -"),
        root_url=root_url,
        plugins=tuple(plugins),
    )

    password = r.secret("grafanaAdminPassword", values.get("grafanaAdminPassword"))
    if password is not None and len(password.value) < MIN_PASSWORD_LENGTH:
        r.fail("grafanaAdminPassword", password, f"a password of at least {MIN_PASSWORD_LENGTH} characters")

    p = {**_PROMETHEUS_FIELDS, **r.object("prometheus", values.get("prometheus"), _PROMETHEUS_FIELDS)}
    prometheus = PrometheusConfig(
        image=r.image("prometheus.image", p["image"]),
        memory_mb=r.positive_int("prometheus.memoryMb", p["memoryMb"], 256),
        port=r.port("prometheus.port", p["port"]),
        retention=r.duration("prometheus.retention", p["retention"]),
        scrape_interval=r.duration("prometheus.scrapeInterval", p["scrapeInterval"]),
        evaluation_interval=r.duration("prometheus.evaluationInterval", p["evaluationInterval"]),
        scrape_timeout=r.duration("prometheus.scrapeTimeout", p["scrapeTimeout"]),
    )
    timeout, interval = duration_ms(prometheus.scrape_timeout), duration_ms(prometheus.scrape_interval)
    if timeout and interval and timeout > interval:
        r.fail("prometheus.scrapeTimeout", prometheus.scrape_timeout,
               f"a duration no longer than prometheus.scrapeInterval ({prometheus.scrape_interval})")

    exporters = _read_exporters(r, values.get("exporters"))

    postgres_dsn = r.secret("postgresDsn", values.get("postgresDsn"))
    if postgres_dsn is not None and not re.match(r"^postgres(ql)?://", postgres_dsn.value):
        r.fail("postgresDsn", postgres_dsn, "a URL of the form postgresql://user:password@host:5432/db?sslmode=...")
    if exporters["postgres"].enabled and postgres_dsn is None and not demo:
        r.fail("postgresDsn", None, "a DSN set with `pulumi config set --secret postgresDsn ...` while "
                                    "exporters.postgres.enabled is true and demo is false")
    redis_password = r.secret("redisPassword", values.get("redisPassword"))

    t = {**_TARGETS_FIELDS, **r.object("targets", values.get("targets"), _TARGETS_FIELDS)}
    django = t["django"]
    if not isinstance(django, list) or not django:
        r.fail("targets.django", django, "a non-empty list of host:port strings")
        django = []
    for i, target in enumerate(django):
        _check_hostport(r, f"targets.django[{i}]", target)

    alertmanager = _read_alertmanager(r, values.get("alertmanager"))

    published = [("grafana.port", grafana.port), ("prometheus.port", prometheus.port)]
    if alertmanager.enabled:
        published.append(("alertmanager.port", alertmanager.port))
    seen: dict[int, str] = {}
    for key, port in published:
        if port and port in seen:
            r.fail(key, port, f"a host port not already used by {seen[port]}")
        seen.setdefault(port, key)

    if r.problems:
        raise ConfigError(r.problems)
    return StackConfig(
        bind_address=bind, network=network, demo=demo, restart_policy=restart, grafana=grafana,
        grafana_admin_password=password, prometheus=prometheus, exporters=exporters,
        postgres_dsn=postgres_dsn, redis_password=redis_password, django_targets=tuple(django),
        alertmanager=alertmanager,
    )


def _url_host(address: str) -> str:
    return f"[{address}]" if ":" in address else address


def _check_hostport(r: _Reader, key: str, value: Any) -> None:
    match = _HOSTPORT_RE.match(value) if isinstance(value, str) else None
    if not match or not 1 <= int(match.group("port")) <= 65535:
        r.fail(key, value, "host:port with a port from 1 to 65535, such as django:8000")


def _read_exporters(r: _Reader, raw: Any) -> dict[str, ExporterConfig]:
    given = r.object("exporters", raw, EXPORTERS)
    result = {}
    for name in EXPORTERS:
        key = f"exporters.{name}"
        fields = {"enabled": True, "image": DEFAULT_IMAGES[name], "memoryMb": _EXPORTER_MEMORY_MB[name],
                  **_EXPORTER_SETTINGS[name]}
        e = {**fields, **r.object(key, given.get(name), fields)}
        settings = {s: r.string(f"{key}.{s}", e[s]) for s in _EXPORTER_SETTINGS[name]}
        if name == "nginx" and settings["scrapeUri"] and not re.match(r"^https?://", settings["scrapeUri"]):
            r.fail(f"{key}.scrapeUri", settings["scrapeUri"], "an http:// or https:// URL of nginx's stub_status")
        if name == "redis" and settings["address"] and not (
                re.match(r"^(rediss?://)?[^\s/]+:\d+$", settings["address"])
                and 1 <= int(settings["address"].rsplit(":", 1)[1]) <= 65535):
            r.fail(f"{key}.address", settings["address"], "redis://host:port or host:port")
        if name == "celery" and settings["brokerUrl"] and not re.match(r"^(redis|rediss|amqp|amqps)://", settings["brokerUrl"]):
            r.fail(f"{key}.brokerUrl", settings["brokerUrl"], "a Celery broker URL: redis://, rediss://, amqp:// or amqps://")
        result[name] = ExporterConfig(
            name=name,
            enabled=r.boolean(f"{key}.enabled", e["enabled"], True),
            image=r.image(f"{key}.image", e["image"]),
            memory_mb=r.positive_int(f"{key}.memoryMb", e["memoryMb"], 16),
            settings=settings,
        )
    return result


def _read_alertmanager(r: _Reader, raw: Any) -> AlertmanagerConfig:
    a = {**_ALERTMANAGER_FIELDS, **r.object("alertmanager", raw, _ALERTMANAGER_FIELDS)}
    enabled = r.boolean("alertmanager.enabled", a["enabled"], False)
    timings = {name: r.duration(f"alertmanager.{name}", a[name])
               for name in ("groupWait", "groupInterval", "repeatInterval")}
    receivers = a["receivers"]
    if enabled and all(timings.values()):
        # The renderer knows each receiver kind's keys: let it judge them now, before any resource.
        try:
            render_alertmanager_config(receivers=receivers, group_wait=timings["groupWait"],
                                       group_interval=timings["groupInterval"],
                                       repeat_interval=timings["repeatInterval"])
        except ValueError as error:
            r.problems.append(f"{NAMESPACE}:{error}")
    return AlertmanagerConfig(
        enabled=enabled,
        image=r.image("alertmanager.image", a["image"]),
        memory_mb=r.positive_int("alertmanager.memoryMb", a["memoryMb"], 32),
        port=r.port("alertmanager.port", a["port"]),
        receivers=tuple(receivers) if isinstance(receivers, list) else (),
        group_wait=timings["groupWait"], group_interval=timings["groupInterval"],
        repeat_interval=timings["repeatInterval"],
    )


def values_in_namespace(all_config: Mapping[str, Any]) -> dict[str, Any]:
    """The `monitoring:*` entries of a full config map, keyed without the namespace."""
    prefix = f"{NAMESPACE}:"
    return {k[len(prefix):]: v for k, v in all_config.items() if k.startswith(prefix)}
