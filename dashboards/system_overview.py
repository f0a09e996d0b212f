"""System Overview: host saturation, database connections and Django traffic."""

from __future__ import annotations

from components import thresholds as th

from . import queries as q
from . import variables as v
from .panels import GAUGE, TIMESERIES, PanelSpec, Query, build_dashboard

UID = "system-overview"
TITLE = "System Overview"
DESCRIPTION = "Host CPU, memory and disk, PostgreSQL connections and Django traffic at a glance."
VARIABLES = (v.ENVIRONMENT, v.HOST, v.PG_INSTANCE, v.DJANGO_INSTANCE)

PANELS: tuple[PanelSpec, ...] = (
    PanelSpec(
        title="CPU Usage",
        type=GAUGE,
        unit="percent",
        min=0,
        max=100,
        thresholds=th.steps(th.CPU_PERCENT),
        queries=(Query(q.CPU_BUSY_PERCENT, "{{instance}}"),),
        description="Share of CPU time not idle, averaged over all cores, one gauge per host (node_exporter).",
        width=8,
    ),
    PanelSpec(
        title="Memory Usage",
        type=GAUGE,
        unit="percent",
        min=0,
        max=100,
        thresholds=th.steps(th.MEMORY_PERCENT),
        queries=(Query(q.MEMORY_USED_PERCENT, "{{instance}}"),),
        description="Memory in use: 1 - MemAvailable / MemTotal, one gauge per host.",
        width=8,
    ),
    PanelSpec(
        title="Disk Usage",
        type=GAUGE,
        unit="percent",
        min=0,
        max=100,
        thresholds=th.steps(th.DISK_PERCENT),
        queries=(Query(q.DISK_USED_PERCENT, "{{instance}}"),),
        description="Space used on the root filesystem (/) as seen by unprivileged users, one gauge per host.",
        width=8,
    ),
    PanelSpec(
        title="Database Connections",
        type=TIMESERIES,
        unit="short",
        queries=(
            Query(q.PG_CONNECTIONS_ACTIVE_RECORDED, "{{instance}} active (running a query)"),
            Query(q.PG_CONNECTIONS_RECORDED, "{{instance}} open (all states)"),
        ),
        description=(
            "PostgreSQL client connections from pg_stat_activity, per server: those running a query "
            "(state=active) and all open ones, which count against max_connections."
        ),
        width=12,
    ),
    PanelSpec(
        title="HTTP Requests per Second",
        type=TIMESERIES,
        unit="reqps",
        queries=(
            Query(q.recorded("instance_method:django_http_requests:rate5m", q.DJANGO), "{{instance}} {{method}}"),
        ),
        description="Requests handled by Django per second, per instance and HTTP method.",
        width=12,
    ),
    PanelSpec(
        title="Response Time p50/p95",
        type=TIMESERIES,
        unit="s",
        thresholds=th.steps(th.LATENCY_P95_SECONDS),
        threshold_line=True,
        queries=(
            Query(q.DJANGO_P50_RECORDED, "{{instance}} p50"),
            Query(q.DJANGO_P95_RECORDED, "{{instance}} p95"),
        ),
        description=(
            "Django request latency percentiles over all views over 5 minutes, per instance (series "
            "recorded by rules, the p95 being the one the DjangoHighLatencyP95 alert judges). The "
            "dashed line is the p95 target of 500 ms."
        ),
        width=24,
    ),
)


def build() -> dict:
    return build_dashboard(UID, TITLE, DESCRIPTION, PANELS, VARIABLES)
