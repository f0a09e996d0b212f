"""A fleet on 127.0.0.1 through the dashboards: three node_exporters (host labels web-1, web-2,
db-1), two Django processes of the demo app (app-1 behind nginx, app-2), two Redis servers with
an exporter each, and the session's PostgreSQL, Celery and nginx, all given as extra targets in
the config model and scraped by a real Prometheus through the config the program renders, with
the environment external label and remote write to a real VictoriaMetrics.

Checked as Grafana would ask: every variable's `label_values` lists every instance; every panel
query returns data for each single instance, for a pair and for All, and the series it returns
are exactly the instances selected (a gauge: one per instance); the same queries with the
environment picked return data from VictoriaMetrics' Prometheus API (the long-term data source);
stopping one node_exporter and one Django process shows exactly those two down in Service
Health and in the alerts.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest

import dashboards
from tests.integration import services
from tests.integration.panels import (
    ALL,
    VARIABLE_JOBS,
    PanelQuery,
    evaluate,
    label_values_request,
    live_dashboards,
    template_values,
)
from tests.integration.services import Fleet
from tests.integration.workload import BackgroundWorkload

ENVIRONMENT = services.FLEET_ENVIRONMENT
# The dashboards the fleet feeds (cAdvisor's cannot run here: see panels.NOT_LIVE).
MODELS = live_dashboards()
# Panels with data for some instances only: an http URL has no certificate to expire.
ONLY_FOR = {("probes", "Certificate Expiry"): lambda instance: instance.startswith("https://")}
# The down-type alerts: the ones that say an instance is gone.
DOWN_ALERTS = ("TargetDown", "DjangoDown", "PostgresDown", "RedisDown", "NginxDown", "CeleryFlowerDown",
               "CeleryNoWorkersOnline")


@pytest.fixture(scope="module")
def fleet(postgres, redis, django_app, celery_worker, flower, nginx, node_exporter, postgres_exporter,
          redis_exporter, nginx_exporter, blackbox_exporter) -> Iterator[Fleet]:
    exporters = {"node": node_exporter, "postgres": postgres_exporter, "redis": redis_exporter,
                 "nginx": nginx_exporter, "blackbox": blackbox_exporter}
    with services.fleet(postgres, redis, django_app, flower, nginx, exporters) as fleet, \
            BackgroundWorkload(nginx.url, rounds=400, max_seconds=300, pause=0.5), \
            BackgroundWorkload(fleet.app_2.url, rounds=400, max_seconds=300, pause=0.5):
        # Traffic of every kind on both app servers (app-1 through nginx).
        services.wait_for_targets_up(fleet.prometheus, timeout=30)
        _wait_for_every_selection(fleet, timeout=120)
        yield fleet


# --- selections ------------------------------------------------------------------


def instance_variables(model: Mapping) -> list[str]:
    return [v["name"] for v in model["templating"]["list"] if v["name"] in VARIABLE_JOBS or v["name"] == "datname"]


def choices(fleet: Fleet, variable: str) -> list[str]:
    if variable == "datname":
        # The app's database: an idle one has no cache hit ratio at all (0 block reads / 0).
        return [fleet.database, "postgres"]
    return fleet.instances[VARIABLE_JOBS[variable]]


def selections(fleet: Fleet, variable: str) -> list[list[str] | str]:
    """Each single value, the first two together, and All."""
    values = choices(fleet, variable)
    singles: list[list[str] | str] = [[fleet.database]] if variable == "datname" else [[v] for v in values]
    return [*singles, *([values[:2]] if len(values) > 1 else []), ALL]


def panel_queries(uid: str, variables: Mapping[str, str]) -> list[PanelQuery]:
    return [PanelQuery(uid, title, ref_id, expr, tuple(sorted(variables.items())))
            for title, ref_id, expr in dashboards.iter_panel_queries(MODELS[uid])]


def selection_problems(store: Any, uid: str, variable: str, picked: Sequence[str] | str,
                       expected: list[str]) -> list[str]:
    """What is wrong with every panel query narrowed by `variable`: an error, no data, or series
    for other instances than those picked."""
    values = template_values(MODELS[uid], {variable: picked})
    label = "datname" if variable == "datname" else "instance"
    problems = []
    now = time.time()
    for query in panel_queries(uid, values):
        if f"${variable}" not in query.expr:
            continue
        only = ONLY_FOR.get((uid, query.panel), lambda _: True)
        wanted = {value for value in (expected if picked == ALL else picked) if only(value)}
        for mode in ("range", "instant"):
            result = evaluate(store, query, mode=mode, range_s=120, step_s=10, now=now)
            if not wanted and not result.error:
                if result.series:
                    problems.append(f"{query.id} {mode} with {variable}={picked}: data where none is due")
                continue
            if result.error or not result.series:
                problems.append(f"{query.id} {mode} with {variable}={picked}: {result.error or 'no data'}\n"
                                f"  {result.promql}")
                continue
            if mode == "instant":
                seen = _labels(store, result.promql, now, label)
                # Instance variables: every query keeps the instance, one series set per instance.
                # datname: some queries sum it away, and an idle database has no hit ratio (0/0).
                exact = seen == wanted if label == "instance" else seen <= wanted
                if not exact:
                    problems.append(f"{query.id} with {variable}={picked}: series for {sorted(seen)}")
    return problems


def _labels(store: Any, promql: str, at: float, label: str) -> set[str]:
    return {s["metric"][label] for s in store.query(promql, at) if label in s["metric"]}


def _all_problems(fleet: Fleet) -> list[str]:
    return [problem for uid, model in MODELS.items() for variable in instance_variables(model)
            for picked in selections(fleet, variable)
            for problem in selection_problems(fleet.prometheus, uid, variable, picked, choices(fleet, variable))]


def _wait_for_every_selection(fleet: Fleet, timeout: float) -> None:
    """Until every selection has data on both app servers (rates need two scrapes, the 5m recorded
    series a rule evaluation), or `timeout`: the tests then name what is missing."""
    deadline = time.monotonic() + timeout
    while _all_problems(fleet) and time.monotonic() < deadline:
        time.sleep(2)


SELECTION_CASES = [(uid, variable) for uid, model in MODELS.items() for variable in instance_variables(model)]


# --- variables ---------------------------------------------------------------------


@pytest.mark.parametrize("uid", list(MODELS))
def test_every_variable_lists_every_instance(fleet, uid):
    values = template_values(MODELS[uid])
    for var in MODELS[uid]["templating"]["list"]:
        if var["type"] != "query":
            continue
        label, match = label_values_request(var["query"], values)
        listed = fleet.prometheus.label_values(label, match)
        if var["name"] == "environment":
            # An external label: not on the local series, so only All (`.*`) is offered, which
            # matches the absent label. The long-term store lists it (below).
            assert listed == [], listed
        elif var["name"] == "datname":
            assert {fleet.database, "postgres"} <= set(listed) and not any(d.startswith("template") for d in listed)
        else:
            assert sorted(listed) == sorted(fleet.instances[VARIABLE_JOBS[var["name"]]]), var["name"]


# --- panels ------------------------------------------------------------------------


@pytest.mark.parametrize(("uid", "variable"), SELECTION_CASES, ids=[f"{u}-{v}" for u, v in SELECTION_CASES])
def test_every_panel_answers_each_selection_with_exactly_the_instances_picked(fleet, uid, variable):
    problems = [problem for picked in selections(fleet, variable)
                for problem in selection_problems(fleet.prometheus, uid, variable, picked, choices(fleet, variable))]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("uid", list(MODELS))
def test_gauges_show_one_value_per_instance(fleet, uid):
    """All selected: a gauge draws one value per instance, not one number for the fleet."""
    values = template_values(MODELS[uid])
    gauges = [p for p in MODELS[uid]["panels"] if p["type"] == "gauge"]
    for panel in gauges:
        for target in panel["targets"]:
            variable = re.search(r'instance=~"\$(\w+)"', target["expr"]).group(1)
            query = PanelQuery(uid, panel["title"], target["refId"], target["expr"], tuple(sorted(values.items())))
            result = evaluate(fleet.prometheus, query, mode="instant")
            instances = _labels(fleet.prometheus, result.promql, time.time(), "instance")
            assert instances == set(fleet.instances[VARIABLE_JOBS[variable]]), (panel["title"], instances)


# --- the long-term store ---------------------------------------------------------------


def test_long_term_store_lists_the_environment_and_every_instance(fleet):
    services.wait_until(lambda: fleet.long_term.label_values("environment", "up"), timeout=60,
                        what="remote-written series in VictoriaMetrics")
    assert fleet.long_term.label_values("environment", "up") == [ENVIRONMENT]
    model = MODELS["system-overview"]
    values = template_values(model, {"environment": [ENVIRONMENT]})
    for var in model["templating"]["list"]:
        if var["name"] in VARIABLE_JOBS:
            label, match = label_values_request(var["query"], values)
            assert sorted(fleet.long_term.label_values(label, match)) == sorted(
                fleet.instances[VARIABLE_JOBS[var["name"]]]), var["name"]


@pytest.mark.parametrize("uid", list(MODELS))
def test_every_panel_answers_from_the_long_term_store_with_the_environment_picked(fleet, uid):
    values = template_values(MODELS[uid], {"environment": [ENVIRONMENT]}, datasource="long-term")
    queries = panel_queries(uid, values)

    def missing() -> list[str]:
        now = time.time()
        out = []
        for query in queries:
            for mode in ("range", "instant"):
                result = evaluate(fleet.long_term, query, mode=mode, range_s=120, step_s=10, now=now)
                if result.error or not result.series:
                    out.append(f"{query.id} {mode}: {result.error or 'no data'}\n  {result.promql}")
        return out

    deadline = time.monotonic() + 60
    while (problems := missing()) and time.monotonic() < deadline:
        time.sleep(2)
    assert not problems, "\n".join(problems)
    # Another environment's name selects nothing: the filter is applied, not ignored.
    other = template_values(MODELS[uid], {"environment": ["production"]}, datasource="long-term")
    (first,) = panel_queries(uid, other)[:1]
    assert evaluate(fleet.long_term, first, mode="instant").series == 0


# --- one host and one app server down (last: it stops them) ---------------------------------


def test_one_host_and_one_app_server_down_show_exactly_those(fleet):
    node_down = fleet.instances["node"][2]
    app_down = fleet.instances["django"][1]
    fleet.extra_node.process.stop()
    fleet.app_2.process.stop()
    prom = fleet.prometheus
    services.wait_until(lambda: len(prom.query("up == 0")) == 2, timeout=30, what="two targets down")

    # Service Health: every bar of every service instance; exactly the two stopped read 0.
    model = MODELS["infrastructure-health"]
    (panel,) = [p for p in model["panels"] if p["title"] == "Service Health Status"]
    values = template_values(model)
    bars: dict[tuple[str, str], float] = {}
    for target in panel["targets"]:
        query = PanelQuery("infrastructure-health", panel["title"], target["refId"], target["expr"],
                           tuple(sorted(values.items())))
        promql = evaluate(prom, query, mode="instant").promql
        service = target["legendFormat"].split()[0]
        for series in prom.query(promql):
            bars[(service, series["metric"]["instance"])] = float(series["value"][1])
    expected_bars = {("Host", i) for i in fleet.instances["node"]} | {("Django", i) for i in fleet.instances["django"]}
    assert expected_bars <= set(bars)
    assert {bar for bar, value in bars.items() if value == 0} == {("Host", node_down), ("Django", app_down)}
    assert {bar for bar, value in bars.items() if value == 1} == set(bars) - {("Host", node_down), ("Django", app_down)}

    # The alerts (pending: their `for` has not run out yet) name exactly those two instances.
    def down_alerts() -> set[tuple[str, str]]:
        series = prom.query(f'ALERTS{{alertname=~"{"|".join(DOWN_ALERTS)}"}}')
        return {(s["metric"]["alertname"], s["metric"]["instance"]) for s in series}

    expected = {("TargetDown", node_down), ("TargetDown", app_down), ("DjangoDown", app_down)}
    services.wait_until(lambda: down_alerts() == expected, timeout=30, what=f"down alerts {expected}")
