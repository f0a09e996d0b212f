"""The Containers dashboard and the container alerts on a real Prometheus 2.42, over series shaped
exactly as cAdvisor v0.60.5 exposes them (cadvisor_backfill.py: cAdvisor itself cannot run here),
backfilled with promtool: 30 minutes at 15 s, two Docker hosts, a container growing to 96 % of its
memory limit, one crash-looping, one re-created by a deploy, one without a limit.

Checked: the rendered prometheus.yml with the cadvisor job passes `promtool check config`; the
dashboard's variables list the hosts and their containers; every panel query, with Grafana's
variables filled in as Grafana does, returns data for exactly the containers it should (All, one
host, one container); the alert expressions of rules/alerts.yml select exactly the container near
its limit and exactly the restarting one, at the times they should and for their `for:`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping

import pytest

import dashboards
from components import thresholds as th
from components.prometheus.rules import rule_entries
from components.types import duration_ms

from . import services
from .cadvisor_backfill import HOST_1, HOST_2, STEP_S, Timeline, backfilled_prometheus, timeline
from .panels import ALL, NOT_LIVE, PanelQuery, evaluate, label_values_request, template_values

UID = "containers"
MODEL = dashboards.build_dashboards()[UID]
ALERTS = {rule["alert"]: rule for rule in rule_entries("alert")}
# Panels that only show containers with a memory limit (the worker has none).
LIMITED_ONLY = {("Memory Working Set by Container", "B"), ("Memory Usage of Limit", "A")}


@pytest.fixture(scope="module")
def backfill() -> Iterator[tuple[services.Prometheus, Timeline]]:
    # Whole 15 s steps, ending a step ago: every sample is in the past.
    end = int(time.time()) // STEP_S * STEP_S - STEP_S
    t = timeline(end - 30 * 60)
    with backfilled_prometheus(t) as prom:
        yield prom, t


def named(t: Timeline, *, limited: bool = False, hosts: tuple[str, ...] = (HOST_1, HOST_2)) -> set[tuple[str, str]]:
    """(instance, name) of every container (not the root cgroups) of `hosts`."""
    return {(c.host, c.name) for c in t.containers
            if c.name is not None and c.host in hosts and (c.limit_bytes > 0 or not limited)}


def series_of(prom: services.Prometheus, promql: str, at: float) -> set[tuple[str, str]]:
    return {(s["metric"]["instance"], s["metric"]["name"]) for s in prom.query(promql, at)}


def panel_queries(values: Mapping[str, str]) -> list[PanelQuery]:
    return [PanelQuery(UID, title, ref_id, expr, tuple(sorted(values.items())))
            for title, ref_id, expr in dashboards.iter_panel_queries(MODEL)]


# --- the config and the exclusion from the live suite ------------------------------------------

def test_rendered_config_with_the_cadvisor_job_passes_promtool(tmp_path):
    from components.prometheus.config import render_prometheus_config

    text = render_prometheus_config(scrape_interval="15s", evaluation_interval="15s", scrape_timeout="10s",
                                    targets={"cadvisor": ["monitoring-dev-cadvisor-exporter:8080"]},
                                    rule_files=services.repo_rule_files())
    path = tmp_path / "prometheus.yml"
    path.write_text(text)
    assert "job_name: cadvisor" in text
    assert "SUCCESS" in services.promtool_check_config(path)


def test_the_live_suite_leaves_out_exactly_this_dashboard():
    """test_panels.py and the fleet cannot feed it (no cAdvisor): this file is where it is verified."""
    assert set(NOT_LIVE) == {UID}
    from .panels import dashboard_queries

    assert {q.dashboard for q in dashboard_queries()} == set(dashboards.DASHBOARD_UIDS) - {UID}


# --- the dashboard ----------------------------------------------------------------------------------

def test_variables_list_the_docker_hosts_and_their_containers(backfill):
    prom, t = backfill
    for picked, hosts in ((ALL, (HOST_1, HOST_2)), ([HOST_2], (HOST_2,))):
        values = template_values(MODEL, {"docker_host": picked})
        listed = {}
        for var in MODEL["templating"]["list"]:
            if var["type"] == "query":
                label, match = label_values_request(var["query"], values)
                listed[var["name"]] = set(prom.label_values(label, match))
        # `environment` is an external label: the stack's own series have none (All matches that).
        assert listed == {"environment": set(), "docker_host": {HOST_1, HOST_2},
                          "container": {name for _, name in named(t, hosts=hosts)}}, picked


@pytest.mark.parametrize(("title", "ref_id"), [(title, ref) for title, ref, _ in dashboards.iter_panel_queries(MODEL)])
def test_every_panel_query_answers_for_exactly_its_containers(backfill, title, ref_id):
    prom, t = backfill
    limited = (title, ref_id) in LIMITED_ONLY
    selections = (
        ({}, named(t, limited=limited)),
        ({"docker_host": [HOST_1]}, named(t, limited=limited, hosts=(HOST_1,))),
        ({"container": ["shop-web-1", "shop-web-2"]}, {(HOST_1, "shop-web-1"), (HOST_2, "shop-web-2")}),
    )
    for picked, expected in selections:
        (query,) = [q for q in panel_queries(template_values(MODEL, picked)) if (q.panel, q.ref_id) == (title, ref_id)]
        for mode in ("range", "instant"):
            result = evaluate(prom, query, mode=mode, range_s=30 * 60, step_s=STEP_S, now=t.end)
            assert result.error is None and result.series > 0, (picked, mode, result.error, result.promql)
        # Exactly one series per (host, container): a re-created or restarted container stays one line.
        instant = evaluate(prom, query, mode="instant", now=t.end).promql
        seen = [(s["metric"]["instance"], s["metric"]["name"]) for s in prom.query(instant, t.end)]
        assert sorted(seen) == sorted(expected), (picked, instant)


def test_panels_show_what_the_series_hold(backfill):
    """Values, not only presence: CPU in percent of a core, the working set against its limit."""
    prom, t = backfill
    values = template_values(MODEL, {"container": ["shop-web-1"]})
    queries = {(q.panel, q.ref_id): q for q in panel_queries(values)}
    web = t.named("shop-web-1")

    def value(key: tuple[str, str]) -> float:
        promql = evaluate(prom, queries[key], mode="instant", now=t.end).promql
        (series,) = prom.query(promql, t.end)
        return float(series["value"][1])

    assert value(("CPU Usage by Container", "A")) == pytest.approx(100 * web.cpu_cores, rel=1e-3)
    assert value(("Memory Working Set by Container", "A")) == pytest.approx(web.working_set(t.steps - 1))
    assert value(("Memory Working Set by Container", "B")) == web.limit_bytes
    assert value(("Memory Usage of Limit", "A")) == pytest.approx(
        100 * web.working_set(t.steps - 1) / web.limit_bytes, rel=1e-6)
    assert value(("Network Traffic by Container", "B")) == pytest.approx(web.transmit_bps, rel=1e-3)
    assert value(("Restarts (last 15 min)", "A")) == 0


# --- the alerts ------------------------------------------------------------------------------------
#
# The alerts compare series of rules/recording.yml, evaluated over the backfill by promtool as
# Prometheus would: every 15 s, at an offset within the interval that Prometheus derives from the
# rule group. At a moment, an alert's expression reads the latest evaluation, which read the latest
# cAdvisor sample then; the expectations follow that from the generated series, not from Prometheus.

def _evaluations(prom: services.Prometheus, t: Timeline, record: str, name: str) -> list[float]:
    """When the recording rule was evaluated (its samples' timestamps) over the window."""
    (series,) = prom.api("query", query=f'{record}{{name="{name}"}}[{30 * 60 + STEP_S}s]', time=f"{t.end}")["result"]
    return [float(at) for at, _ in series["values"]]


def _expected_over_time(t: Timeline, evaluations: list[float], holds: Callable[[float], bool]) -> set[float]:
    """The 15 s steps at which the latest evaluation found the condition true."""
    return {t.at(k) for k in range(t.steps)
            if (done := [e for e in evaluations if e <= t.at(k)]) and holds(max(done))}


def _latest_step(t: Timeline, at: float) -> int:
    return int((at - t.start) // STEP_S)


def _selected_over_time(prom: services.Prometheus, t: Timeline, alert: str) -> dict[float, set[tuple[str, str]]]:
    """At every 15 s step of the window: the (instance, name) the alert's expression selects."""
    result = prom.query_range(ALERTS[alert]["expr"], t.start, t.end, STEP_S)
    by_time: dict[float, set[tuple[str, str]]] = {t.at(k): set() for k in range(t.steps)}
    for series in result:
        for at, _ in series["values"]:
            by_time[float(at)].add((series["metric"]["instance"], series["metric"]["name"]))
    return by_time


def _firing_at(by_time: dict[float, set[tuple[str, str]]], alert: str, at: float) -> set[tuple[str, str]]:
    """What selected at every step of the alert's `for:` up to `at`: what is firing then."""
    hold = duration_ms(ALERTS[alert]["for"]) / 1000
    steps = [moment for moment in by_time if at - hold <= moment <= at]
    return set.intersection(*(by_time[moment] for moment in steps))


def test_memory_alert_selects_exactly_the_container_near_its_limit(backfill):
    prom, t = backfill
    by_time = _selected_over_time(prom, t, "ContainerMemoryNearLimit")
    web = t.named("shop-web-1")
    evaluations = _evaluations(prom, t, "instance_name:container_memory_limit_utilisation:ratio", "shop-web-1")

    def near_limit(at: float) -> bool:
        # The working set cAdvisor last reported, against the limit (the worker's 700 MiB has no limit).
        return web.working_set(_latest_step(t, at)) / web.limit_bytes > th.CONTAINER_MEMORY_PERCENT.alert_value

    expected = _expected_over_time(t, evaluations, near_limit)
    assert expected and set.union(*by_time.values()) == {(HOST_1, "shop-web-1")}
    assert {moment for moment, selected in by_time.items() if selected} == expected
    assert _firing_at(by_time, "ContainerMemoryNearLimit", t.end) == {(HOST_1, "shop-web-1")}
    assert _firing_at(by_time, "ContainerMemoryNearLimit", min(expected) + 4 * 60) == set()  # not for 5 minutes yet


def test_restart_alert_selects_exactly_the_restarting_container(backfill):
    prom, t = backfill
    by_time = _selected_over_time(prom, t, "ContainerRestartLoop")
    worker = t.named("shop-worker-1")
    record = "instance_name:container_start_time_seconds:changes15m"
    evaluations = _evaluations(prom, t, record, "shop-worker-1")
    # The worker's start time as each sample showed it (nothing while it was down).
    shown = [(t.at(k), run.started_at) for run in worker.runs for k in range(run.first, run.last + 1)]

    def starts_seen(at: float) -> int:
        # Changes of that value among the samples of the 15 minutes up to `at`: restarts seen.
        values = [value for moment, value in shown if at - 15 * 60 < moment <= at]
        return sum(a != b for a, b in zip(values[:-1], values[1:], strict=True))

    expected = _expected_over_time(t, evaluations, lambda at: starts_seen(at) > th.CONTAINER_RESTARTS.alert_value)
    assert expected and set.union(*by_time.values()) == {(HOST_1, "shop-worker-1")}
    assert {moment for moment, selected in by_time.items() if selected} == expected
    # Grafana re-created by a deploy (a new id) is no restart; the count the panel shows is the series'.
    assert series_of(prom, f'{record}{{name="monitoring-dev-grafana"}} == 0', t.end) == {
        (HOST_1, "monitoring-dev-grafana")}
    (count,) = prom.query(f'{record}{{name="shop-worker-1"}}', t.end)
    assert float(count["value"][1]) == starts_seen(max(evaluations)) > th.CONTAINER_RESTARTS.alert_value
    assert _firing_at(by_time, "ContainerRestartLoop", t.end) == {(HOST_1, "shop-worker-1")}
    assert _firing_at(by_time, "ContainerRestartLoop", min(expected) + 60) == set()  # not for 2 minutes yet
