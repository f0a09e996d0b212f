"""Infrastructure Health: host resources over time, Redis, and service up/down."""

from __future__ import annotations

from components import thresholds as th
from components.exporters.table import EXPORTERS

from . import queries as q
from . import variables as v
from .panels import BARGAUGE, TIMESERIES, UP_DOWN_MAPPINGS, UP_DOWN_STEPS, Override, PanelSpec, Query, build_dashboard

UID = "infrastructure-health"
TITLE = "Infrastructure Health"
DESCRIPTION = "Host CPU, memory, disk and network over time, Redis, and whether each service is up."
VARIABLES = (v.ENVIRONMENT, v.HOST, v.REDIS_INSTANCE)

# Where a job's bars are narrowed by this dashboard's instance variable, not by the environment only.
_NARROWED = {"node": q.NODE, "redis": q.REDIS}

# One bar per service instance. Django has no exporter and no service-level metric: its own
# /metrics target's `up`.
SERVICE_HEALTH = (
    Query(f"max by ({q.BY_INSTANCE}) (up{{{v.in_environment(th.DJANGO)}}})", "Django {{instance}}"),
    *(
        Query(row.service_health(_NARROWED.get(row.name, v.in_environment(row.selector)), q.BY_INSTANCE),
              f"{row.title} {{{{instance}}}}")
        for row in EXPORTERS
        if row.service_health
    ),
)



PANELS: tuple[PanelSpec, ...] = (
    PanelSpec(
        title="CPU Usage Over Time",
        type=TIMESERIES,
        unit="percent",
        min=0,
        max=100,
        queries=(Query(f"100 * {q.recorded('instance:node_cpu_utilisation:ratio', q.NODE)}", "{{instance}}"),),
        description=("Share of CPU time not idle over 5 minutes, averaged over the cores of each host (the "
                     "recorded series the HostHighCpuUsage alert judges)."),
        width=12,
    ),
    PanelSpec(
        title="Memory Usage",
        type=TIMESERIES,
        unit="bytes",
        min=0,
        stacked=True,
        queries=(
            Query(q.recorded("instance:node_memory_used:bytes", q.NODE), "{{instance}} used"),
            Query(q.recorded("instance:node_memory_available:bytes", q.NODE), "{{instance}} available"),
        ),
        description=("Memory in use (MemTotal - MemAvailable) and available per host, stacked: the top of the "
                     "stack is the selected hosts' total memory. Recorded every 2 minutes."),
        width=12,
    ),
    PanelSpec(
        title="Disk Usage",
        type=TIMESERIES,
        unit="bytes",
        min=0,
        stacked=True,
        queries=(
            Query(q.recorded("instance:node_filesystem_root_used:bytes", q.NODE), "{{instance}} used"),
            Query(q.recorded("instance:node_filesystem_root_avail:bytes", q.NODE), "{{instance}} available"),
        ),
        description=(
            "Root filesystem (/) per host: used (including blocks reserved for root) and "
            "available to unprivileged users, stacked. Recorded every 2 minutes."
        ),
        width=12,
    ),
    PanelSpec(
        title="Network Traffic",
        type=TIMESERIES,
        unit="Bps",
        queries=(
            Query(q.recorded("instance:node_network_receive_bytes:rate5m", q.NODE), "{{instance}} receive"),
            Query(q.recorded("instance:node_network_transmit_bytes:rate5m", q.NODE), "{{instance}} transmit"),
        ),
        description=("Bytes received and transmitted per second over 5 minutes on each host's interfaces "
                     "(loopback and container veth/bridges left out; recorded every 2 minutes)."),
        width=12,
    ),
    PanelSpec(
        title="Redis Memory Usage",
        type=TIMESERIES,
        unit="bytes",
        min=0,
        queries=(
            Query(q.recorded("instance:redis_memory_used_bytes:max", q.REDIS), "{{instance}} used"),
            Query(q.recorded("instance:redis_memory_max_bytes:max", q.REDIS), "{{instance}} maxmemory (0 = no limit)"),
        ),
        description=(
            "Memory used by each Redis and its maxmemory setting. maxmemory 0 means Redis has no "
            "memory limit (it can grow until the host or container runs out), not that it is full. "
            "Recorded every 2 minutes."
        ),
        width=12,
    ),
    PanelSpec(
        title="Redis Activity",
        type=TIMESERIES,
        unit="short",
        min=0,
        queries=(
            Query(q.recorded("instance:redis_connected_clients:max", q.REDIS), "{{instance}} connected clients"),
            Query(q.recorded("instance:redis_commands_processed:rate5m", q.REDIS), "{{instance}} commands/s"),
        ),
        overrides=(Override("B", (("unit", "ops"), ("custom.axisPlacement", "right"))),),
        description=("Clients connected to each Redis (left axis) and commands processed per second "
                     "over 5 minutes (right axis), recorded every 2 minutes."),
        width=12,
    ),
    PanelSpec(
        title="Service Health Status",
        type=BARGAUGE,
        unit="none",
        min=0,
        max=1,
        thresholds=UP_DOWN_STEPS,
        mappings=UP_DOWN_MAPPINGS,
        queries=SERVICE_HEALTH,
        description=(
            "UP/DOWN per service instance. Host is node_exporter's own `up`. PostgreSQL, Redis and "
            "nginx use their exporter's service-level metric (pg_up, redis_up, nginx_up): the service "
            "behind the exporter answered. Celery is UP while Flower sees at least one online worker "
            "(flower_worker_online). Django has no such metric: its own /metrics target's `up` is shown."
        ),
        width=24,
        height=10,
    ),
)


def build() -> dict:
    return build_dashboard(UID, TITLE, DESCRIPTION, PANELS, VARIABLES)
