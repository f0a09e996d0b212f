"""End to end alerting: the product's rules, evaluated by a real Prometheus, reach a webhook
through a real Alertmanager configured by the product's renderer.

Self-contained: this module starts its OWN Redis, redis_exporter, Prometheus (rendered by
`render_prometheus_config`, rules of `load_rule_files(for_override="1s")`), Alertmanager
(rendered by `render_alertmanager_config`) and a webhook receiver, so stopping Redis here
does not touch the session's services. Fast alerts come from configuration (`for:` override,
1s scrape/evaluation, 1s group_wait/group_interval), never from editing the rule files.
"""

from __future__ import annotations

import os
import time

import pytest
import yaml

from components.alertmanager.config import render_alertmanager_config
from components.config import load_config
from components.prometheus.rules import load_rule_files

from . import services
from .alerting_services import (
    alerting_prometheus,
    alertmanager_server,
    amtool_check_config,
    missing_alerting_requirements,
    rule_health,
    webhook_receiver,
)

ALERT = "RedisDown"
FIRING_TIMEOUT = 30.0
RESOLVED_TIMEOUT = 30.0
RULES_TIMEOUT = 20.0
MIN_EVALUATIONS = 3
WATCHDOG_ABSENCE = 3.0


@pytest.fixture(scope="module", autouse=True)
def alerting_requirements():
    missing = missing_alerting_requirements()
    if missing:
        message = "end-to-end alert test needs: " + "; ".join(missing)
        if os.environ.get("CI", "") != "":
            pytest.fail(f"CI is set and {message}", pytrace=False)
        pytest.skip(message)


@pytest.fixture(scope="module")
def webhook():
    with webhook_receiver() as receiver:
        yield receiver


@pytest.fixture(scope="module")
def alertmanager_config_text(webhook):
    # Through the config model, as the stack does: validated once, then rendered.
    config = load_config({"demo": True, "alertmanager": {
        "enabled": True, "receivers": [{"name": "hook", "type": "webhook", "url": webhook.url}],
        "groupWait": "1s", "groupInterval": "1s", "repeatInterval": "1h"}})
    return render_alertmanager_config(config.alertmanager, group_by=("alertname", "job"))


@pytest.fixture(scope="module")
def alertmanager(alertmanager_config_text):
    with alertmanager_server(alertmanager_config_text) as am:
        yield am


@pytest.fixture(scope="module")
def alert_redis():
    """This module's own Redis: the test stops and restarts it."""
    with services.redis_server() as r:
        yield r


@pytest.fixture(scope="module")
def alert_redis_exporter(alert_redis):
    with services.redis_exporter(alert_redis) as e:
        yield e


@pytest.fixture(scope="module")
def fast_rules():
    return load_rule_files(for_override="1s")


@pytest.fixture(scope="module")
def alert_prometheus(alert_redis_exporter, alertmanager, fast_rules):
    with alerting_prometheus(
        {"redis": [alert_redis_exporter.address]},
        rule_texts=fast_rules,
        alertmanager_targets=[alertmanager.address],
        scrape_interval="1s", evaluation_interval="1s", scrape_timeout="900ms",
        # The Watchdog's first sends precede the Alertmanager's discovery: resent after 1s, not 1m.
        flags=["--rules.alert.resend-delay=1s"],
    ) as prom:
        yield prom


@pytest.fixture(scope="module")
def rules_evaluated(alert_prometheus):
    """Every rule group has been evaluated at least MIN_EVALUATIONS times (bounded wait)."""
    prom = alert_prometheus
    groups = {g["name"] for g in prom.api("rules")["groups"]}
    assert groups, "Prometheus loaded no rule groups"

    def enough() -> bool:
        result = prom.query("prometheus_rule_group_iterations_total")
        counts = {s["metric"].get("rule_group", ""): float(s["value"][1]) for s in result}
        return len(counts) >= len(groups) and min(counts.values()) >= MIN_EVALUATIONS

    services.wait_until(enough, timeout=RULES_TIMEOUT, interval=0.5,
                        what=f"{MIN_EVALUATIONS} evaluations of every rule group", proc=prom.process)
    return prom


# ---------------------------------------------------------------------------


def test_rendered_alertmanager_config_passes_amtool(alertmanager):
    out = amtool_check_config(alertmanager.config_path)
    assert "SUCCESS" in out, out
    config = yaml.safe_load(alertmanager.config_text)
    hooks = [c for r in config["receivers"] for c in r.get("webhook_configs", [])]
    assert hooks and all(c.get("send_resolved") for c in hooks), config["receivers"]


def test_rendered_prometheus_config_sends_to_alertmanager(alert_prometheus, alertmanager):
    config = yaml.safe_load(alert_prometheus.config_text)
    targets = [t for am in config["alerting"]["alertmanagers"] for sc in am["static_configs"]
               for t in sc["targets"]]
    assert targets == [alertmanager.address]

    def discovered() -> bool:
        active = alert_prometheus.api("alertmanagers")["activeAlertmanagers"]
        return any(alertmanager.address in a["url"] for a in active)

    services.wait_until(discovered, timeout=10, what="Prometheus to list the Alertmanager as active")


def test_rules_load_with_no_evaluation_errors(rules_evaluated, fast_rules):
    prom = rules_evaluated
    rows = rule_health(prom)
    assert {r["file"] for r in rows} == set(fast_rules), "rule files Prometheus loaded"
    alerts = [r for r in rows if r["type"] == "alerting"]
    assert any(r["name"] == ALERT for r in alerts), f"{ALERT} not among the loaded alerts"
    bad = [r for r in rows if r["health"] not in ("ok", "unknown") or r["lastError"]]
    assert not bad, "rules with evaluation errors:\n" + "\n".join(
        f"  {r['file']}/{r['group']}/{r['name']}: health={r['health']} lastError={r['lastError']!r}" for r in bad)
    failures = prom.query("sum(prometheus_rule_evaluation_failures_total)")
    assert failures and float(failures[0]["value"][1]) == 0, f"rule evaluation failures: {failures}"


def _has_alert(body: dict, status: str) -> bool:
    return (
        isinstance(body, dict)
        and body.get("status") == status
        and any(a.get("labels", {}).get("alertname") == ALERT and a.get("status") == status
                for a in body.get("alerts", []))
    )


def test_redis_down_alert_fires_and_resolves_at_webhook(rules_evaluated, alert_redis, webhook, alertmanager):
    prom = rules_evaluated
    # Baseline: Redis is up as Prometheus sees it, and nothing about it was sent.
    services.wait_until(
        lambda: [float(s["value"][1]) for s in prom.query('redis_up{job="redis"}')] == [1.0],
        timeout=10, what='redis_up{job="redis"} == 1 before the fault',
    )
    assert not any(_has_alert(n.body, "firing") for n in webhook.notifications()), (
        f"{ALERT} fired before Redis was stopped; webhook received:\n{webhook.describe()}")

    stopped_at = time.monotonic()
    alert_redis.stop()
    try:
        firing = webhook.wait_for(lambda body: _has_alert(body, "firing"), timeout=FIRING_TIMEOUT)
        assert firing is not None, (
            f"no 'firing' notification for {ALERT} within {FIRING_TIMEOUT:.0f}s of stopping Redis; "
            f"webhook received:\n{webhook.describe()}\n"
            f"Prometheus alerts: {prom.api('alerts')['alerts']}\n"
            f"Alertmanager alerts: {alertmanager.alerts()}\n{alertmanager.process.log_tail(15)}")
        fired_after = firing.received_at - stopped_at
        alert = next(a for a in firing.body["alerts"] if a["labels"].get("alertname") == ALERT)
        assert alert["labels"].get("severity") == "critical", alert
        assert alert["labels"].get("job") == "redis", alert
        assert alert["annotations"].get("summary"), alert
    finally:
        restarted_at = time.monotonic()
        alert_redis.start()  # same port: the exporter and Prometheus find it again

    resolved = webhook.wait_for(
        lambda body: _has_alert(body, "resolved"), timeout=RESOLVED_TIMEOUT)
    assert resolved is not None, (
        f"no 'resolved' notification for {ALERT} within {RESOLVED_TIMEOUT:.0f}s of restarting Redis; "
        f"webhook received:\n{webhook.describe()}\n"
        f"Prometheus alerts: {prom.api('alerts')['alerts']}\n"
        f"Alertmanager alerts: {alertmanager.alerts()}\n{alertmanager.process.log_tail(15)}")
    assert resolved.received_at > firing.received_at
    resolved_after = resolved.received_at - restarted_at
    print(f"\n{ALERT}: firing at webhook {fired_after:.1f}s after stopping Redis, "
          f"resolved {resolved_after:.1f}s after restarting it")


def test_watchdog_without_heartbeat_reaches_no_receiver(rules_evaluated, alertmanager, webhook):
    # No alertmanager.heartbeat here: the Watchdog ends at the null receiver, which sends nothing.
    def held() -> list[dict]:
        return [a for a in alertmanager.alerts() if a["labels"].get("alertname") == "Watchdog"]

    services.wait_until(lambda: bool(held()), timeout=FIRING_TIMEOUT, what="Alertmanager to hold the Watchdog",
                        proc=alertmanager.process)
    assert [r["name"] for r in held()[0]["receivers"]] == ["null"]
    time.sleep(WATCHDOG_ABSENCE)  # past the 1s group_wait and group_interval of the hook's route
    assert not any(a.get("labels", {}).get("alertname") == "Watchdog"
                   for n in webhook.notifications() for a in n.body.get("alerts", [])), webhook.describe()
