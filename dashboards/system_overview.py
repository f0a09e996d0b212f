"""System Overview: host saturation, database connections and Django traffic."""

from __future__ import annotations

from components import thresholds as th

from . import queries as q
from .panels import GAUGE, TIMESERIES, PanelSpec, Query, build_dashboard

UID = "system-overview"
TITLE = "System Overview"
DESCRIPTION = "Host CPU, memory and disk, PostgreSQL connections and Django traffic at a glance."

PANELS: tuple[PanelSpec, ...] = (
    PanelSpec(
        title="CPU Usage",
        type=GAUGE,
        unit="percent",
        min=0,
        max=100,
        thresholds=th.steps(th.CPU_PERCENT),
        queries=(Query(q.CPU_BUSY_PERCENT, "CPU"),),
        description="Share of CPU time not idle, averaged over all cores of the host (node_exporter).",
        width=8,
    ),
    PanelSpec(
        title="Memory Usage",
        type=GAUGE,
        unit="percent",
        min=0,
        max=100,
        thresholds=th.steps(th.MEMORY_PERCENT),
        queries=(Query(q.MEMORY_USED_PERCENT, "Memory"),),
        description="Memory in use: 1 - MemAvailable / MemTotal of the host.",
        width=8,
    ),
    PanelSpec(
        title="Disk Usage",
        type=GAUGE,
        unit="percent",
        min=0,
        max=100,
        thresholds=th.steps(th.DISK_PERCENT),
        queries=(Query(q.DISK_USED_PERCENT, "/"),),
        description="Space used on the host's root filesystem (/), as seen by unprivileged users.",
        width=8,
    ),
    PanelSpec(
        title="Database Connections",
        type=TIMESERIES,
        unit="short",
        queries=(
            Query(q.PG_CONNECTIONS_ACTIVE, "active (running a query)"),
            Query(q.PG_CONNECTIONS, "open (all states)"),
        ),
        description=(
            "PostgreSQL client connections from pg_stat_activity: those running a query "
            "(state=active) and all open ones, which count against max_connections."
        ),
        width=12,
    ),
    PanelSpec(
        title="HTTP Requests per Second",
        type=TIMESERIES,
        unit="reqps",
        queries=(
            Query(
                f"sum by (method) (rate(django_http_requests_total_by_method_total{{{q.DJANGO}}}[{q.RATE}]))",
                "{{method}}",
            ),
        ),
        description="Requests handled by Django per second, by HTTP method.",
        width=12,
    ),
    PanelSpec(
        title="Response Time p50/p95",
        type=TIMESERIES,
        unit="s",
        thresholds=th.steps(th.LATENCY_P95_SECONDS),
        threshold_line=True,
        queries=(
            Query(q.django_latency_quantile(0.5), "p50"),
            Query(q.django_latency_quantile(0.95), "p95"),
        ),
        description=(
            "Django request latency percentiles over all views. The dashed line is the "
            "p95 target of 500 ms."
        ),
        width=24,
    ),
)


def build() -> dict:
    return build_dashboard(UID, TITLE, DESCRIPTION, PANELS)
