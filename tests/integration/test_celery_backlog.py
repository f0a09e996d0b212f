"""The Celery backlog on real software: the worker stops while producers keep sending tasks.

Self-contained: this module runs its OWN Redis (the broker), Celery worker, Flower, redis_exporter
(started with the redis row's rendered arguments: `--check-single-keys=db0=celery`, Celery's
default queue), a Prometheus evaluating the product's rules (`load_rule_files(for_override="1s")`,
1s scrape and evaluation) and an Alertmanager (rendered by `render_alertmanager_config`) sending to
a webhook receiver, so stopping the worker here leaves the session's services alone.

Checked: the Celery dashboard's Queue Backlog query, evaluated as Grafana does, reads 0 while the
worker keeps up and rises while it is stopped; CeleryQueueBacklogGrowing reaches the webhook for
exactly that queue (and CeleryWorkersNotTakingTasks does not fire: the stopped worker went offline,
CeleryNoWorkersOnline's case); with the worker back, the queue drains and the alert resolves.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator

import pytest
from celery import Celery

from components.alertmanager.config import render_alertmanager_config
from components.config import load_config
from components.prometheus.rules import load_rule_files

from . import services
from .alerting_services import (
    WebhookReceiver,
    alerting_prometheus,
    alertmanager_server,
    missing_alerting_requirements,
    webhook_receiver,
)
from .panels import live_dashboards, substitute, template_values

ALERT = "CeleryQueueBacklogGrowing"
TASK = "shop.tasks.add"
# Producers' pace while the worker is stopped: past the alert's 100 tasks within seconds.
SEND_EVERY = 0.03
FIRING_TIMEOUT = 90.0
RESOLVED_TIMEOUT = 90.0


@pytest.fixture(scope="module", autouse=True)
def alerting_requirements():
    missing = missing_alerting_requirements()
    if missing:
        message = "Celery backlog test needs: " + "; ".join(missing)
        if os.environ.get("CI", "") != "":
            pytest.fail(f"CI is set and {message}", pytrace=False)
        pytest.skip(message)


@pytest.fixture(scope="module")
def webhook() -> Iterator[WebhookReceiver]:
    with webhook_receiver() as receiver:
        yield receiver


@pytest.fixture(scope="module")
def alertmanager(webhook):
    config = load_config({"demo": True, "alertmanager": {
        "enabled": True, "receivers": [{"name": "hook", "type": "webhook", "url": webhook.url}],
        "groupWait": "1s", "groupInterval": "1s", "repeatInterval": "1h"}})
    with alertmanager_server(render_alertmanager_config(config.alertmanager, group_by=("alertname", "job"))) as am:
        yield am


@pytest.fixture(scope="module")
def broker():
    """This module's own Redis: the broker whose queue backs up."""
    with services.redis_server() as r:
        yield r


@pytest.fixture(scope="module")
def celery_stack(postgres, broker):
    """Its own worker, Flower and redis_exporter on that broker (the database is only read by the
    demo app's settings: the tasks sent here never touch it)."""
    app = services.celery_app(postgres, broker)
    with services.celery_worker(app) as worker, services.flower(app) as flower, \
            services.redis_exporter(broker) as exporter:
        yield worker, flower, exporter


@pytest.fixture(scope="module")
def prometheus(celery_stack, alertmanager):
    _, flower, exporter = celery_stack
    with alerting_prometheus(
        {"redis": [exporter.address], "celery": [flower.address]},
        rule_texts=load_rule_files(for_override="1s"),
        alertmanager_targets=[alertmanager.address],
        scrape_interval="1s", evaluation_interval="1s", scrape_timeout="900ms",
        flags=["--rules.alert.resend-delay=1s"],
    ) as prom:
        services.wait_for_targets_up(prom, timeout=30)
        yield prom


class Producers:
    """Sends TASK to the broker every SEND_EVERY seconds in a thread, as the app's producers do."""

    def __init__(self, broker_url: str):
        self.client = Celery(broker=broker_url)
        self.sent = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="producers", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(SEND_EVERY):
            self.client.send_task(TASK, args=(2, 3))
            self.sent += 1

    def __enter__(self) -> Producers:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self.client.close()


def backlog_query(prom: services.Prometheus) -> str:
    """The Celery dashboard's Queue Backlog query with its variables at All, as Grafana sends it."""
    model = live_dashboards()["celery"]
    (expr,) = [t["expr"] for p in model["panels"] if p["title"] == "Queue Backlog" for t in p["targets"]]
    return substitute(expr, step_s=prom.scrape_interval_s, scrape_s=prom.scrape_interval_s, range_s=300,
                      variables=template_values(model))


def backlog(prom: services.Prometheus, query: str) -> dict[tuple[str, str], float]:
    return {(s["metric"]["db"], s["metric"]["key"]): float(s["value"][1]) for s in prom.query(query)}


def _has_alert(body: dict, status: str) -> bool:
    return isinstance(body, dict) and body.get("status") == status and any(
        a.get("labels", {}).get("alertname") == ALERT and a.get("status") == status for a in body.get("alerts", []))


def test_backlog_rises_and_alerts_while_the_worker_is_stopped(prometheus, celery_stack, broker, webhook,
                                                               alertmanager):
    worker, _, exporter = celery_stack
    prom = prometheus
    query = backlog_query(prom)
    # Baseline: the worker keeps up, the queue reads 0 (the key does not even exist), nothing was sent.
    with Producers(broker.url) as producers:
        services.wait_until(lambda: prom.query(f'flower_events_total{{job="celery",type="task-succeeded",'
                                               f'task="{TASK}"}} > 10'),
                            timeout=60, what="the worker to run the producers' tasks")
        assert backlog(prom, query) == {("db0", "celery"): 0.0}
        assert not any(_has_alert(n.body, "firing") for n in webhook.notifications()), webhook.describe()

        stopped_at = time.time()
        worker.process.stop()
        try:
            services.wait_until(lambda: backlog(prom, query)[("db0", "celery")] > 150, timeout=60,
                                what="the Queue Backlog panel to pass 150 tasks")
            firing = webhook.wait_for(lambda body: _has_alert(body, "firing"), timeout=FIRING_TIMEOUT)
            assert firing is not None, (
                f"no firing {ALERT} within {FIRING_TIMEOUT:.0f}s; webhook received:\n{webhook.describe()}\n"
                f"Prometheus alerts: {prom.api('alerts')['alerts']}\n{alertmanager.process.log_tail(15)}")
            # The panel's query rose over the outage (a range query as Grafana draws it).
            (series,) = prom.query_range(query, stopped_at - 5, time.time(), 1)
            values = [float(v) for _, v in series["values"]]
            assert values[0] == 0 and values[-1] > 150 and values[-1] == max(values), values
            assert producers.sent > values[-1]
            (alert,) = [a for a in firing.body["alerts"] if a["labels"]["alertname"] == ALERT]
            assert {k: alert["labels"][k] for k in ("severity", "job", "instance", "db", "key")} == {
                "severity": "warning", "job": "redis", "instance": exporter.address, "db": "db0", "key": "celery"}
            assert "Queue celery (db0)" in alert["annotations"]["description"], alert["annotations"]
            # The stopped worker said goodbye (worker-offline): no online worker, so not "stuck".
            assert not prom.query('ALERTS{alertname="CeleryWorkersNotTakingTasks"}')
        finally:
            worker.start_again()

    # The worker drains the queue: no longer growing, the alert resolves.
    resolved = webhook.wait_for(lambda body: _has_alert(body, "resolved"), timeout=RESOLVED_TIMEOUT)
    assert resolved is not None, f"{ALERT} did not resolve; webhook received:\n{webhook.describe()}"
    services.wait_until(lambda: backlog(prom, query)[("db0", "celery")] == 0, timeout=60,
                        what="the worker to drain the queue")
