"""Alert links and annotations on a real Prometheus: the rendered rule files (runbook_url and
dashboard_url added, `for:` 1s) load and evaluate, a firing alert carries both links, and each
dashboard's "Firing alerts" annotation query returns that alert where it should and nothing else.

Self-contained: its own Prometheus scraping a `django` target on a closed port, so DjangoDown and
TargetDown fire within seconds; the Watchdog fires too and must be in no annotation.
"""

from __future__ import annotations

import os
import time

import pytest

from components.prometheus.alert_links import RUNBOOK_PATH, AlertLinks
from components.prometheus.rules import load_rule_files
from dashboards import build_dashboards
from dashboards.variables import ALL_VALUE

from . import services
from .alerting_services import alerting_prometheus, missing_alerting_requirements, rule_health

GRAFANA_URL = "https://grafana.example.com/ops/"
RUNBOOK_URL = "https://git.example.com/acme/monitoring/blob/main/docs/runbooks.md"
FIRING_TIMEOUT = 30.0


@pytest.fixture(scope="module", autouse=True)
def alerting_requirements():
    missing = missing_alerting_requirements()
    if missing:
        message = "alert links test needs: " + "; ".join(missing)
        if os.environ.get("CI", "") != "":
            pytest.fail(f"CI is set and {message}", pytrace=False)
        pytest.skip(message)


@pytest.fixture(scope="module")
def prometheus():
    closed = f"127.0.0.1:{services.free_port()}"  # nothing listens: the django target is down
    rules = load_rule_files(for_override="1s", links=AlertLinks(runbook_url=RUNBOOK_URL, grafana_url=GRAFANA_URL))
    with alerting_prometheus({"django": [closed]}, rule_texts=rules, alertmanager_targets=[],
                             scrape_interval="1s", evaluation_interval="1s", scrape_timeout="900ms") as prom:
        firing = {"DjangoDown", "TargetDown", "Watchdog"}

        def all_firing() -> bool:
            return firing <= {s["metric"]["alertname"] for s in prom.query('ALERTS{alertstate="firing"}')}

        services.wait_until(all_firing, timeout=FIRING_TIMEOUT, interval=0.5, what=f"{sorted(firing)} firing",
                            proc=prom.process)
        yield prom


def _grafana_expr(expr: str) -> str:
    # The Environment variable at All, as Grafana interpolates it.
    return expr.replace("$environment", ALL_VALUE)


def test_rendered_rules_load_and_evaluate(prometheus):
    rows = rule_health(prometheus)
    assert rows, "no rules loaded"
    assert [r for r in rows if r["health"] != "ok"] == []


def test_firing_alert_carries_both_links(prometheus):
    alerts = {a["labels"]["alertname"]: a for a in prometheus.api("alerts")["alerts"] if a["state"] == "firing"}
    annotations = alerts["DjangoDown"]["annotations"]
    assert annotations["runbook_url"] == f"{RUNBOOK_URL}#djangodown"
    assert annotations["dashboard_url"] == "https://grafana.example.com/ops/d/infrastructure-health"
    assert alerts["Watchdog"]["annotations"]["runbook_url"] == f"{RUNBOOK_URL}#watchdog"
    # The runbook base in the repository is the file the section lives in.
    assert RUNBOOK_URL.endswith(RUNBOOK_PATH)


# Written out: the dashboards whose annotation marks the two alerts this test makes fire.
EXPECTED_MARKS = {
    "system-overview": {"DjangoDown"},
    "application-performance": {"DjangoDown"},
    "database-performance": set(),
    "infrastructure-health": {"DjangoDown", "TargetDown"},
    "containers": set(),
    "probes": set(),
    "celery": set(),
}


def test_annotation_queries_return_the_firing_alerts_of_their_dashboard(prometheus):
    end = time.time()
    models = build_dashboards()
    assert set(models) == set(EXPECTED_MARKS)
    for uid, model in models.items():
        (annotation,) = model["annotations"]["list"]
        expr = _grafana_expr(annotation["expr"])
        instant = prometheus.query(expr)
        ranged = prometheus.query_range(expr, end - 30, end, 1)
        assert {s["metric"]["alertname"] for s in instant} == EXPECTED_MARKS[uid], uid
        assert {s["metric"]["alertname"] for s in ranged} == EXPECTED_MARKS[uid], uid
        # What the annotation's title and text read: the alert, its instance, its severity.
        for series in ranged:
            assert series["metric"]["instance"] and series["metric"]["severity"] in ("critical", "warning"), series
