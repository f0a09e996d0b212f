"""PromQL building blocks shared by several dashboards.

Job names are the fixed scrape jobs of prometheus.yml (selectors: components/thresholds.py). Every rate()/increase()
uses `$__rate_interval`, which Grafana derives from the data source's
`timeInterval` (the scrape interval), so windows are always >= 4 scrapes.
"""

from __future__ import annotations

from components import thresholds as th

RATE = "$__rate_interval"

# Selectors shared with the rules: one home, components/thresholds.py.
NODE, ROOT_FS, NET_DEV = th.NODE, th.ROOT_FS, th.NET_DEV
PG, PG_DB, REDIS, DJANGO = th.PG, th.PG_DB, th.REDIS, th.DJANGO

CPU_BUSY_PERCENT = f'100 * (1 - avg(rate(node_cpu_seconds_total{{{NODE},mode="idle"}}[{RATE}])))'
CPU_BUSY_PERCENT_BY_INSTANCE = (
    f'100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{{{NODE},mode="idle"}}[{RATE}])))'
)
MEMORY_USED_PERCENT = (
    f"100 * (1 - sum(node_memory_MemAvailable_bytes{{{NODE}}}) / sum(node_memory_MemTotal_bytes{{{NODE}}}))"
)
DISK_USED_PERCENT = (
    f"100 * (1 - sum(node_filesystem_avail_bytes{{{ROOT_FS}}}) / sum(node_filesystem_size_bytes{{{ROOT_FS}}}))"
)

# pg_stat_activity_count: always sum() it (its label set grew across exporter
# versions). All states = connections held against max_connections.
PG_CONNECTIONS = f"sum(pg_stat_activity_count{{{PG}}})"
PG_CONNECTIONS_ACTIVE = f'sum(pg_stat_activity_count{{{PG},state="active"}})'
PG_MAX_CONNECTIONS = f"max(pg_settings_max_connections{{{PG}}})"

# Django (django-prometheus; prometheus_client appends `_total` to counters).
DJANGO_LATENCY_BUCKET = f"django_http_requests_latency_seconds_by_view_method_bucket{{{DJANGO}}}"
DJANGO_RESPONSES = "django_http_responses_total_by_status_view_method_total"


# Series recorded by rules/recording.yml (fixed 5m windows, evaluated once for panels and
# alerts alike): the per-view p95 is the most expensive query of the dashboards.
DJANGO_P95_RECORDED = f"job:django_http_requests_latency_seconds:p95_5m{{{DJANGO}}}"
DJANGO_P95_BY_VIEW_RECORDED = f"job_view_method:django_http_requests_latency_seconds:p95_5m{{{DJANGO}}}"


def django_latency_quantile(quantile: float, by: str = "") -> str:
    group = f"le, {by}" if by else "le"
    return f"histogram_quantile({quantile}, sum by ({group}) (rate({DJANGO_LATENCY_BUCKET}[{RATE}])))"


def or_zero(expr: str, **labels: str) -> str:
    """`expr`, or a single 0 series when `expr` has no series at all.

    For counters of events that may not have happened yet (4xx, 5xx,
    exceptions, model writes): prometheus_client only exposes a labelled
    counter after its first increment, so "no series" means "none so far".
    `or on()` adds the 0 only when the left side is empty; label_replace gives
    the 0 series the labels the legend uses.
    """
    zero = "vector(0)"
    for name, value in labels.items():
        zero = f'label_replace({zero}, "{name}", "{value}", "", "")'
    return f"({expr}) or on() {zero}"
