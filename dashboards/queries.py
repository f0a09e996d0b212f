"""PromQL building blocks shared by several dashboards.

Job names are the fixed scrape jobs of prometheus.yml (selectors: components/thresholds.py);
every selector here is narrowed by the dashboards' template variables (dashboards/variables.py)
and every aggregation keeps one series per instance (`by (environment, instance)`), so a gauge
shows one value per selected instance and a legend names it. Every rate()/increase() uses
`$__rate_interval`, which Grafana derives from the data source's `timeInterval` (the scrape
interval), so windows are always >= 4 scrapes.

Time-series panels read series that rules/recording.yml records every 2 minutes per instance
(its `*.dashboards` groups): over a week on a fleet a panel then reads one sample per 2
minutes per instance instead of every raw series at the scrape interval (make bench-scale).
Gauges are instant queries and read the raw series at the moment shown.
"""

from __future__ import annotations

from . import variables as v

RATE = "$__rate_interval"
BY_INSTANCE = v.INSTANCE

NODE, ROOT_FS = v.NODE, v.ROOT_FS
PG, PG_DB, REDIS, DJANGO = v.PG, v.PG_DB, v.REDIS, v.DJANGO
CONTAINERS = v.CONTAINERS


def per_instance(aggregation: str, expr: str, by: str = "") -> str:
    """`sum by (environment, instance[, by]) (expr)`."""
    group = f"{BY_INSTANCE}, {by}" if by else BY_INSTANCE
    return f"{aggregation} by ({group}) ({expr})"


def recorded(record: str, selector: str) -> str:
    """A series of rules/recording.yml (already one per instance, and per endpoint, model...), narrowed."""
    return f"{record}{{{selector}}}"


# Per-endpoint, per-model, per-task panels draw at most this many series, of at most TOP_N_POINTS points:
# a query evaluates every candidate series (all instances x endpoints) at every step, so those panels
# take a longer step (1 h over 7 days) to stay cheap on a fleet.
TOP_N = 10
TOP_N_POINTS = 200


# The window at the end of the range shown over which top-N panels rank their series.
TOP_N_RANKED_OVER = "1h"


def top(series: str, by: str) -> str:
    """The TOP_N of `series` (a recorded selector: one series per environment, instance and `by`) with
    the highest average over the last hour shown: the same lines from the left edge of the graph to
    the right one, where a per-step topk() would swap lines in and out. Ranked once (`@ end()`), over
    an hour rather than the whole range: ranking a week would read every sample of every candidate."""
    ranked = f"topk({TOP_N}, avg_over_time({series}[{TOP_N_RANKED_OVER}] @ end()))"
    return f"{series} and on ({BY_INSTANCE}, {by}) {ranked}"


def rate(metric: str, selector: str) -> str:
    return f"rate({metric}{{{selector}}}[{RATE}])"


_CPU_IDLE = f'{NODE},mode="idle"'
CPU_BUSY_PERCENT = f"100 * (1 - {per_instance('avg', rate('node_cpu_seconds_total', _CPU_IDLE))})"
MEMORY_USED_PERCENT = (
    f"100 * (1 - {per_instance('sum', f'node_memory_MemAvailable_bytes{{{NODE}}}')}"
    f" / {per_instance('sum', f'node_memory_MemTotal_bytes{{{NODE}}}')})"
)
DISK_USED_PERCENT = (
    f"100 * (1 - {per_instance('sum', f'node_filesystem_avail_bytes{{{ROOT_FS}}}')}"
    f" / {per_instance('sum', f'node_filesystem_size_bytes{{{ROOT_FS}}}')})"
)

# pg_stat_activity_count: always sum() it (its label set grew across exporter
# versions). All states = connections held against max_connections.
PG_CONNECTIONS = per_instance("sum", f"pg_stat_activity_count{{{PG}}}")
# Connections (all, active) and max_connections as recorded, for time-series panels.
PG_CONNECTIONS_RECORDED = recorded("instance:pg_connections:sum", PG)
PG_CONNECTIONS_ACTIVE_RECORDED = recorded("instance:pg_connections_active:sum", PG)
PG_MAX_CONNECTIONS_RECORDED = recorded("instance:pg_settings_max_connections:max", PG)

# Series recorded by rules/recording.yml per Django instance (fixed 5m windows, evaluated once
# for panels and alerts alike): reading them keeps the latency panels cheap at any range.
DJANGO_P50_RECORDED = f"instance:django_http_requests_latency_seconds:p50_5m{{{DJANGO}}}"
DJANGO_P95_RECORDED = f"instance:django_http_requests_latency_seconds:p95_5m{{{DJANGO}}}"
DJANGO_P95_BY_VIEW_RECORDED = f"instance_view_method:django_http_requests_latency_seconds:p95_5m{{{DJANGO}}}"
DJANGO_5XX_RATIO_RECORDED = f"instance:django_http_responses_5xx:ratio_rate5m{{{DJANGO}}}"


def or_zero(expr: str, traffic: str, unless: str | None = None, **labels: str) -> str:
    """`expr`, or 0 for every instance that has `traffic` but no series of `expr` yet.

    For counters of events that may not have happened yet (4xx, 5xx, exceptions, model
    writes): prometheus_client only exposes a labelled counter after its first increment, so
    "no series" means "none so far". `or on (environment, instance)` adds the 0 only for the
    instances the left side lacks; label_replace gives it the labels the legend uses. With
    `unless` (the series before a top-N cut), only instances without any series of it get the 0.
    """
    zero = f"0 * {traffic}"
    for name, value in labels.items():
        zero = f'label_replace({zero}, "{name}", "{value}", "", "")'
    if unless is not None:
        zero = f"({zero} unless on ({BY_INSTANCE}) {unless})"
    return f"({expr}) or on ({BY_INSTANCE}) {zero}"


# The zero fallback's traffic: Django requests per instance (any request at all).
DJANGO_TRAFFIC = recorded("instance:django_http_requests:rate5m", DJANGO)
