"""Evaluate dashboard panel queries the way Grafana does.

Grafana fills in, before the query reaches Prometheus:
- `$__interval`: the query step, never below the data source's `timeInterval`
  (the scrape interval);
- `$__rate_interval`: max(`$__interval` + scrape interval, 4 x scrape interval);
- `$__range`: the dashboard's time range;
- `$datasource` / `${datasource}` and other template variables: their current value.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from .services import Prometheus


def grafana_interval(step_s: float, scrape_s: float) -> float:
    return max(step_s, scrape_s)


def grafana_rate_interval(step_s: float, scrape_s: float) -> float:
    return max(grafana_interval(step_s, scrape_s) + scrape_s, 4 * scrape_s)


def duration(seconds: float) -> str:
    """Prometheus duration text for a number of seconds (ms precision)."""
    ms = int(round(seconds * 1000))
    return f"{ms // 1000}s" if ms % 1000 == 0 else f"{ms}ms"


ALL = "$__all"
# Characters Grafana's Prometheus data source escapes in a multi-value or All-able variable's
# values (prometheusSpecialRegexEscape): each value matches itself only, inside `=~"..."`.
_REGEX_SPECIAL = re.compile(r"([$^*{}\[\]'+?.()|])")


def grafana_regex_value(values: Sequence[str]) -> str:
    """How Grafana writes selected values of a multi-value variable into a Prometheus query:
    each regex-escaped (a backslash doubled for the PromQL string), several joined as `(a|b)`."""
    escaped = [_REGEX_SPECIAL.sub(r"\\\\\1", v.replace("\\", "\\\\\\\\")) for v in values]
    return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"


def template_values(model: Mapping, selections: Mapping[str, Sequence[str] | str] | None = None,
                    datasource: str = "prometheus") -> dict[str, str]:
    """Interpolated text of a dashboard's template variables: `selections` maps a variable to
    the values picked (or ALL); a variable not in it keeps its current value (All here)."""
    selections = selections or {}
    values: dict[str, str] = {}
    for var in (model.get("templating") or {}).get("list", []) or []:
        name = var.get("name")
        if not name:
            continue
        if var.get("type") == "datasource":
            values[name] = datasource
            continue
        picked = selections.get(name)
        if picked is None:
            current = (var.get("current") or {}).get("value")
            picked = ALL if current in (None, "", ALL) else current
        if picked == ALL or picked == [ALL]:
            if not var.get("includeAll"):
                raise ValueError(f"variable {name} has no All option")
            values[name] = var.get("allValue") or ".*"
        elif var.get("multi") or var.get("includeAll"):
            values[name] = grafana_regex_value([picked] if isinstance(picked, str) else list(picked))
        else:
            values[name] = str(picked)
    return values


VARIABLE_QUERY = re.compile(r"label_values\((?:(.*),\s*)?(\w+)\)", re.S)


def label_values_request(query: str, variables: Mapping[str, str]) -> tuple[str, str | None]:
    """(label, series selector or None) of a `label_values(...)` variable query, variables filled
    in: Grafana asks /api/v1/label/<label>/values?match[]=<selector> for it."""
    match = VARIABLE_QUERY.fullmatch(query.strip())
    if not match:
        raise ValueError(f"not a label_values query: {query!r}")
    selector, label = match.groups()
    if selector is None:
        return label, None
    return label, substitute(selector, step_s=60, scrape_s=15, range_s=3600, variables=variables)


def substitute(expr: str, *, step_s: float, scrape_s: float, range_s: float,
               variables: Mapping[str, str]) -> str:
    interval = grafana_interval(step_s, scrape_s)
    builtins = {
        "__rate_interval": duration(grafana_rate_interval(step_s, scrape_s)),
        "__interval_ms": str(int(interval * 1000)),
        "__interval": duration(interval),
        "__range_ms": str(int(range_s * 1000)),
        "__range_s": str(int(range_s)),
        "__range": duration(range_s),
    }
    values = {**variables, **builtins}

    def replace(match: re.Match) -> str:
        name = match.group(1) or match.group(2) or match.group(3)
        return values.get(name, match.group(0))

    # ${name}, ${name:format} and $name (longest names first thanks to \w+ greediness).
    out = re.sub(r"\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)", replace, expr)
    unresolved = re.findall(r"\$\{?[A-Za-z_]\w*", out)  # ($1 in label_replace is PromQL's own)
    if unresolved:
        raise ValueError(f"unresolved Grafana variables {unresolved} in {expr!r}")
    return out


# `(X) or on (environment, instance) 0 * <traffic>`, the traffic maybe label_replace'd: the
# "none yet" placeholder of dashboards.queries.or_zero, always at the end of a query.
ZERO_FALLBACK = re.compile(r"\s+or\s+on\s*\(\s*environment,\s*instance\s*\)\s*\(?(?:label_replace\(\s*)?0\s*\*.*\Z", re.S)


def without_zero_fallback(expr: str) -> str:
    return ZERO_FALLBACK.sub("", expr)


@dataclass(frozen=True)
class PanelQuery:
    dashboard: str
    panel: str
    ref_id: str
    expr: str
    variables: tuple[tuple[str, str], ...]

    @property
    def id(self) -> str:
        return f"{self.dashboard}/{self.panel}/{self.ref_id}"


# Dashboards whose exporter cannot run on this machine, so the live suite (test_panels.py,
# test_fleet_dashboards.py, the benchmarks) leaves them out: uid -> why, and where they are verified.
NOT_LIVE = {
    "containers": "cAdvisor cannot run here (no image registry, no Debian package, no usable Docker): "
                  "its panels and alerts are verified on backfilled cAdvisor-shaped series in "
                  "test_containers_backfill.py",
}


def live_dashboards() -> dict[str, dict]:
    """uid -> model of every dashboard the live services feed (all but NOT_LIVE)."""
    import dashboards

    return {uid: model for uid, model in dashboards.build_dashboards().items() if uid not in NOT_LIVE}


def dashboard_queries() -> list[PanelQuery]:
    """Every (dashboard, panel, refId, expr) of the dashboards the live services feed."""
    import dashboards

    out = []
    for uid, model in live_dashboards().items():
        variables = tuple(sorted(template_values(model).items()))
        for title, ref_id, expr in dashboards.iter_panel_queries(model):
            out.append(PanelQuery(uid, title, ref_id, expr, variables))
    return out


@dataclass
class Evaluation:
    query: PanelQuery
    mode: str  # "range" or "instant"
    promql: str
    series: int
    seconds: float
    error: str | None = None


def evaluate(prom: Prometheus, query: PanelQuery, *, mode: str, range_s: float = 300, step_s: float = 10,
             now: float | None = None) -> Evaluation:
    """Run one panel query as Grafana would: a range query (at `step_s`) or an instant query."""
    now = time.time() if now is None else now
    step = step_s if mode == "range" else prom.scrape_interval_s
    promql = substitute(query.expr, step_s=step, scrape_s=prom.scrape_interval_s, range_s=range_s,
                        variables=dict(query.variables))
    started = time.perf_counter()
    try:
        result = prom.query_range(promql, now - range_s, now, step) if mode == "range" else prom.query(promql, now)
    except Exception as exc:  # noqa: BLE001 - reported per query
        return Evaluation(query, mode, promql, 0, time.perf_counter() - started, str(exc))
    return Evaluation(query, mode, promql, len(result), time.perf_counter() - started)


def iter_evaluations(prom: Prometheus, queries: list[PanelQuery], **kwargs) -> Iterator[Evaluation]:
    for q in queries:
        for mode in ("range", "instant"):
            yield evaluate(prom, q, mode=mode, **kwargs)


# Which job's instances each instance variable of the dashboards lists (the fleet test and the
# benchmarks pick "one instance" from it).
VARIABLE_JOBS = {"host": "node", "django_instance": "django", "pg_instance": "postgres", "redis_instance": "redis",
                 "probe": "blackbox", "flower": "celery", "broker": "redis"}


# Metric names the product relies on (SPEC section 7), by job: every one must exist.
EXPECTED_METRICS = {
    "node": ["node_cpu_seconds_total", "node_memory_MemAvailable_bytes", "node_memory_MemTotal_bytes",
             "node_filesystem_avail_bytes", "node_filesystem_size_bytes",
             "node_network_receive_bytes_total", "node_network_transmit_bytes_total"],
    "postgres": ["pg_up", "pg_stat_database_numbackends", "pg_stat_activity_count",
                 "pg_settings_max_connections", "pg_stat_database_blks_hit", "pg_stat_database_blks_read",
                 "pg_stat_database_xact_commit", "pg_stat_database_xact_rollback",
                 "pg_stat_database_tup_inserted", "pg_stat_database_tup_updated",
                 "pg_stat_database_tup_deleted", "pg_database_size_bytes"],
    "redis": ["redis_up", "redis_memory_used_bytes", "redis_memory_max_bytes", "redis_connected_clients",
              "redis_commands_processed_total", "redis_key_size"],
    "nginx": ["nginx_up", "nginx_connections_active", "nginx_http_requests_total"],
    "django": ["django_http_requests_total_by_method_total",
               "django_http_responses_total_by_status_view_method_total",
               "django_http_requests_latency_seconds_by_view_method_bucket",
               "django_http_requests_total_by_view_transport_method_total",
               "django_model_inserts_total", "django_model_updates_total", "django_model_deletes_total",
               "django_http_exceptions_total_by_type_total"],
    "celery": ["flower_events_total", "flower_worker_online", "flower_task_runtime_seconds_bucket",
               "flower_worker_number_of_currently_executing_tasks"],
    "blackbox": ["probe_success", "probe_duration_seconds", "probe_ssl_earliest_cert_expiry"],
}


def missing_data(prom: Prometheus, queries: list[PanelQuery], *, range_s: float = 300,
                 step_s: float = 10) -> list[str]:
    """What has no data yet: expected metrics by job, and panel queries (range and instant)."""
    missing = [f"{job}: {name}" for job, names in EXPECTED_METRICS.items() for name in names
               if not prom.query(f'count({name}{{job="{job}"}})')]
    now = time.time()
    for q in queries:
        # Without its zero fallback, so the wait covers the data itself (a rate() needs two
        # samples: a counter seen in one scrape only is not there yet).
        core = PanelQuery(q.dashboard, q.panel, q.ref_id, without_zero_fallback(q.expr), q.variables)
        for mode in ("range", "instant"):
            if evaluate(prom, core, mode=mode, now=now, range_s=range_s, step_s=step_s).series == 0:
                missing.append(f"{q.id} ({mode})")
    return missing


def wait_for_data(prom: Prometheus, queries: list[PanelQuery], *, timeout: float = 60,
                  **kwargs) -> list[str]:
    """Poll until everything has data or `timeout` passes; return what is still missing
    (the tests then name each missing query on its own)."""
    deadline = time.monotonic() + timeout
    while True:
        missing = missing_data(prom, queries, **kwargs)
        if not missing or time.monotonic() >= deadline:
            return missing
        time.sleep(1)
