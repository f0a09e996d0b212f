"""Infrastructure Health: host resources over time, Redis, and service up/down."""

from __future__ import annotations

from components.exporters.table import EXPORTERS

from . import queries as q
from .panels import BARGAUGE, TIMESERIES, Override, PanelSpec, Query, build_dashboard

UID = "infrastructure-health"
TITLE = "Infrastructure Health"
DESCRIPTION = "Host CPU, memory, disk and network over time, Redis, and whether each service is up."


# Django has no exporter and no service-level metric: its own /metrics target's `up`.
SERVICE_HEALTH = (
    Query(f"min(up{{{q.DJANGO}}})", "Django"),
    *(Query(row.service_health, row.title) for row in EXPORTERS if row.service_health),
)


PANELS: tuple[PanelSpec, ...] = (
    PanelSpec(
        title="CPU Usage Over Time",
        type=TIMESERIES,
        unit="percent",
        min=0,
        max=100,
        queries=(Query(q.CPU_BUSY_PERCENT_BY_INSTANCE, "{{instance}}"),),
        description="Share of CPU time not idle, averaged over the cores of each host.",
        width=12,
    ),
    PanelSpec(
        title="Memory Usage",
        type=TIMESERIES,
        unit="bytes",
        min=0,
        stacked=True,
        queries=(
            Query(f"sum(node_memory_MemTotal_bytes{{{q.NODE}}} - node_memory_MemAvailable_bytes{{{q.NODE}}})", "used"),
            Query(f"sum(node_memory_MemAvailable_bytes{{{q.NODE}}})", "available"),
        ),
        description="Host memory in use (MemTotal - MemAvailable) and available, stacked to the total.",
        width=12,
    ),
    PanelSpec(
        title="Disk Usage",
        type=TIMESERIES,
        unit="bytes",
        min=0,
        stacked=True,
        queries=(
            Query(
                f"sum(node_filesystem_size_bytes{{{q.ROOT_FS}}} - node_filesystem_avail_bytes{{{q.ROOT_FS}}})",
                "used",
            ),
            Query(f"sum(node_filesystem_avail_bytes{{{q.ROOT_FS}}})", "available"),
        ),
        description=(
            "Root filesystem (/) of the host: used (including blocks reserved for root) and "
            "available to unprivileged users."
        ),
        width=12,
    ),
    PanelSpec(
        title="Network Traffic",
        type=TIMESERIES,
        unit="Bps",
        queries=(
            Query(f"sum(rate(node_network_receive_bytes_total{{{q.NET_DEV}}}[{q.RATE}]))", "receive"),
            Query(f"sum(rate(node_network_transmit_bytes_total{{{q.NET_DEV}}}[{q.RATE}]))", "transmit"),
        ),
        description=("Bytes received and transmitted per second on the host's interfaces "
                     "(loopback and container veth/bridges left out)."),
        width=12,
    ),
    PanelSpec(
        title="Redis Memory Usage",
        type=TIMESERIES,
        unit="bytes",
        min=0,
        queries=(
            Query(f"sum(redis_memory_used_bytes{{{q.REDIS}}})", "used"),
            Query(f"sum(redis_memory_max_bytes{{{q.REDIS}}})", "maxmemory (0 = no limit)"),
        ),
        description=(
            "Memory used by Redis and its maxmemory setting. maxmemory 0 means Redis has no "
            "memory limit (it can grow until the host or container runs out), not that it is full."
        ),
        width=12,
    ),
    PanelSpec(
        title="Redis Activity",
        type=TIMESERIES,
        unit="short",
        min=0,
        queries=(
            Query(f"sum(redis_connected_clients{{{q.REDIS}}})", "connected clients"),
            Query(f"sum(rate(redis_commands_processed_total{{{q.REDIS}}}[{q.RATE}]))", "commands/s"),
        ),
        overrides=(Override("B", (("unit", "ops"), ("custom.axisPlacement", "right"))),),
        description="Clients connected to Redis (left axis) and commands processed per second (right axis).",
        width=12,
    ),
    PanelSpec(
        title="Service Health Status",
        type=BARGAUGE,
        unit="none",
        min=0,
        max=1,
        thresholds=((None, "red"), (1, "green")),
        mappings=(("0", "DOWN", "red"), ("1", "UP", "green")),
        queries=SERVICE_HEALTH,
        description=(
            "UP/DOWN per service. PostgreSQL, Redis and nginx use their exporter's service-level "
            "metric (pg_up, redis_up, nginx_up): the service behind the exporter answered. Celery "
            "is UP while Flower sees at least one online worker (flower_worker_online). Django has "
            "no such metric: its own /metrics target's `up` is shown."
        ),
        width=24,
        height=7,
    ),
)


def build() -> dict:
    return build_dashboard(UID, TITLE, DESCRIPTION, PANELS)
