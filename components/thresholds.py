"""Thresholds and selectors that alerts and dashboards share (node-mixin's config.libsonnet).

The dashboards read these values; `tests/unit/test_thresholds.py` parses `rules/*.yml` and
proves that each alert's threshold is the one written here, so a panel turns red where the
alert fires. Percentages are what panels show; the rules compare ratios (value / 100).
Plain Python: no Pulumi import.
"""

from __future__ import annotations

from dataclasses import dataclass

from components.exporters.table import selector

# Every rule uses fixed windows of this length (`[5m]`); the config model keeps the scrape
# and evaluation intervals short enough that a window holds SAMPLES_PER_WINDOW samples.
RULE_WINDOW = "5m"
SAMPLES_PER_WINDOW = 4

# --- selectors (job names are fixed: see the exporter table) ----------------------------
NODE = selector("node")
PG = selector("postgres")
REDIS = selector("redis")
DJANGO = 'job="django"'
CELERY = selector("celery")
NGINX = selector("nginx")
BLACKBOX = selector("blackbox")
CADVISOR = selector("cadvisor")
# Docker containers only: cAdvisor's root cgroup (id="/") has no container name.
CONTAINERS = f'{CADVISOR},name!=""'
# The root filesystem only: node_exporter must be given the host's root (--path.rootfs) to report it.
ROOT_FS = f'{NODE},mountpoint="/",fstype!="rootfs"'
# Physical-ish interfaces: loopback and the per-container veth/bridges are left out (their
# traffic is already counted on the real interface).
NET_DEV = f'{NODE},device!~"lo|veth.*|docker.*|br-.*|virbr.*|cni.*|flannel.*"'
# Per-database metrics: `datname!=""` drops the shared-objects row (datid="0") of older
# exporters, and the template databases are dropped. The `postgres` maintenance database is
# kept on purpose: the application database may be named `postgres`.
PG_DB = f'{PG},datname!="",datname!~"template.*"'


@dataclass(frozen=True)
class Threshold:
    """Where a value turns yellow (warning) and red (critical), in the unit a panel shows.

    `alert` names the alert that fires at `red` (or, for a floor, below `red`) and `ratio`
    says the rule compares value / 100."""

    red: float
    yellow: float | None = None
    alert: str | None = None
    ratio: bool = False
    # A floor: healthy above, red below (cache hit ratio).
    floor: bool = False
    # The alert that fires at `yellow` (a warning before the critical one at `red`).
    yellow_alert: str | None = None
    # The unit annotations state it in when not a ratio: "s" (seconds) or "d" (days).
    unit: str = "s"
    # A count of events (restarts): the rule compares the count, the annotations say "N <events>".
    events: str | None = None

    @property
    def alert_value(self) -> float:
        return self.red / 100 if self.ratio else self.red

    @property
    def yellow_alert_value(self) -> float | None:
        if self.yellow is None:
            return None
        return self.yellow / 100 if self.ratio else self.yellow


CPU_PERCENT = Threshold(red=80, alert="HostHighCpuUsage", ratio=True)
MEMORY_PERCENT = Threshold(red=85, yellow=70, alert="HostHighMemoryUsage", ratio=True)
DISK_PERCENT = Threshold(red=90, yellow=75, alert="HostDiskAlmostFull", ratio=True)
HTTP_5XX_PERCENT = Threshold(red=5, yellow=1, alert="DjangoHighErrorRate", ratio=True)
LATENCY_P95_SECONDS = Threshold(red=0.5, alert="DjangoHighLatencyP95")
PG_CACHE_HIT_PERCENT = Threshold(red=90, alert="PostgresLowCacheHitRatio", ratio=True, floor=True)
# The gauge shows connections against the default max_connections of 100, so its red step is
# the alert's share of max_connections.
PG_CONNECTIONS = Threshold(red=80, yellow=50, alert="PostgresTooManyConnections", ratio=True)
REDIS_MEMORY_PERCENT = Threshold(red=90, alert="RedisMemoryNearMax", ratio=True)
# A probe of the site (blackbox_exporter): slow above 2 s on average over 5 minutes.
PROBE_SECONDS = Threshold(red=2, yellow=1, alert="ProbeSlow")
# Days until the earliest certificate of an https probe expires: warning within 14, critical within 3.
CERTIFICATE_DAYS = Threshold(red=3, yellow=14, alert="ProbeCertificateExpiresIn3Days", floor=True,
                             yellow_alert="ProbeCertificateExpiresIn14Days", unit="d")

# A container's working set against its own memory limit (containers without a limit have no ratio).
CONTAINER_MEMORY_PERCENT = Threshold(red=90, yellow=80, alert="ContainerMemoryNearLimit", ratio=True)
# Starts of one container seen in 15 minutes (changes of container_start_time_seconds).
CONTAINER_RESTARTS = Threshold(red=3, alert="ContainerRestartLoop", events="restarts")

# Share of finished Celery tasks that failed over 5 minutes (per Flower instance).
CELERY_FAILURE_PERCENT = Threshold(red=10, yellow=5, alert="CeleryHighTaskFailureRatio", ratio=True)
# Tasks waiting in a broker queue (5-minute average; the alert also wants it still growing).
CELERY_BACKLOG_TASKS = Threshold(red=100, alert="CeleryQueueBacklogGrowing", events="tasks")

THRESHOLDS: tuple[Threshold, ...] = (
    CPU_PERCENT, MEMORY_PERCENT, DISK_PERCENT, HTTP_5XX_PERCENT, LATENCY_P95_SECONDS,
    PG_CACHE_HIT_PERCENT, PG_CONNECTIONS, REDIS_MEMORY_PERCENT, CONTAINER_MEMORY_PERCENT, CONTAINER_RESTARTS,
    PROBE_SECONDS, CERTIFICATE_DAYS, CELERY_FAILURE_PERCENT, CELERY_BACKLOG_TASKS,
)

Steps = tuple[tuple[float | None, str], ...]


def steps(threshold: Threshold) -> Steps:
    """Grafana threshold steps: (lower bound, colour), the first bound None (Grafana's base)."""
    if threshold.floor:
        warning = ((threshold.red, "yellow"), (threshold.yellow, "green")) if threshold.yellow is not None else (
            (threshold.red, "green"),)
        return ((None, "red"), *warning)
    middle = ((threshold.yellow, "yellow"),) if threshold.yellow is not None else ()
    return ((None, "green"), *middle, (threshold.red, "red"))
