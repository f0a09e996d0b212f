"""Routing on real software: the Watchdog's heartbeat and severity routing, through a real
Alertmanager running the config `render_alertmanager_config` renders from a validated config.

Self-contained: its own Alertmanager, three webhook receivers (heartbeat, pager, chat) and a
Prometheus that evaluates the product's rules (`load_rule_files(for_override="1s")`, 1s
evaluation) and sends to that Alertmanager. Short intervals come from configuration only
(`alertmanager.heartbeat.repeatInterval`, groupWait/groupInterval), never from editing files.
The severity tests send alerts to Alertmanager's API as Prometheus does: what is under test
is where Alertmanager delivers them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import pytest

from components.alertmanager.config import render_alertmanager_config
from components.config import load_config
from components.prometheus.rules import load_rule_files

from . import services
from .alerting_services import (
    Notification,
    WebhookReceiver,
    alerting_prometheus,
    alertmanager_server,
    missing_alerting_requirements,
    webhook_receiver,
)

ENVIRONMENT = "routing-test"
HEARTBEAT_EVERY = 2.0  # seconds: alertmanager.heartbeat.repeatInterval below
HEARTBEATS = 3
TIMEOUT = 30.0
# Proving that something did NOT arrive: wait this long after what did arrive on the same
# Alertmanager with the same group_wait (1s) and group_interval (1s).
ABSENCE_MARGIN = 3.0


@pytest.fixture(scope="module", autouse=True)
def alerting_requirements():
    missing = missing_alerting_requirements()
    if missing:
        message = "alert routing test needs: " + "; ".join(missing)
        if os.environ.get("CI", "") != "":
            pytest.fail(f"CI is set and {message}", pytrace=False)
        pytest.skip(message)


@pytest.fixture(scope="module")
def hooks():
    with webhook_receiver() as heartbeat, webhook_receiver() as pager, webhook_receiver() as chat:
        yield {"heartbeat": heartbeat, "pager": pager, "chat": chat}


@pytest.fixture(scope="module")
def alertmanager(hooks):
    # Through the config model, as the stack does: validated once, then rendered.
    config = load_config({"demo": True, "alertmanager": {
        "enabled": True,
        "receivers": [{"name": "pager", "type": "webhook", "url": hooks["pager"].url, "severities": ["critical"]},
                      {"name": "chat", "type": "webhook", "url": hooks["chat"].url, "severities": ["warning"]}],
        "heartbeat": {"url": hooks["heartbeat"].url, "repeatInterval": f"{HEARTBEAT_EVERY:.0f}s"},
        "groupWait": "1s", "groupInterval": "1s", "repeatInterval": "1h"}})
    with alertmanager_server(render_alertmanager_config(config.alertmanager)) as am:
        yield am


@pytest.fixture(scope="module")
def prometheus(alertmanager):
    # The Watchdog fires at the first evaluations, before Prometheus has discovered the
    # Alertmanager (that send is dropped); a 1s resend delay (default 1m) resends it at once.
    with alerting_prometheus({}, rule_texts=load_rule_files(for_override="1s"),
                             alertmanager_targets=[alertmanager.address], scrape_interval="1s",
                             evaluation_interval="1s", scrape_timeout="900ms",
                             external_labels={"environment": ENVIRONMENT},
                             flags=["--rules.alert.resend-delay=1s"]) as prom:
        yield prom


def alerts_in(notification: Notification) -> list[dict]:
    return [a for a in notification.body.get("alerts", []) if isinstance(a, dict)]


def names_at(hook: WebhookReceiver, keep: Callable[[dict], bool] = lambda a: True) -> set[str]:
    return {a["labels"].get("alertname") for n in hook.notifications() for a in alerts_in(n) if keep(a)}


def wait_for_alert(hook: WebhookReceiver, alertname: str, what: str) -> Notification:
    found = hook.wait_for(lambda body: any(a.get("labels", {}).get("alertname") == alertname
                                           for a in body.get("alerts", [])), timeout=TIMEOUT)
    assert found is not None, f"{what}: no {alertname} within {TIMEOUT:.0f}s; received:\n{hook.describe()}"
    return found


@pytest.fixture(scope="module")
def heartbeats(hooks, prometheus, alertmanager) -> list[Notification]:
    """The first HEARTBEATS notifications at the heartbeat receiver (bounded wait)."""
    hook = hooks["heartbeat"]
    services.wait_until(lambda: len(hook.notifications()) >= HEARTBEATS, timeout=TIMEOUT, interval=0.2,
                        what=f"{HEARTBEATS} notifications at the heartbeat receiver "
                             f"(received:\n{hook.describe()}\nAlertmanager alerts: {alertmanager.alerts()})",
                        proc=alertmanager.process)
    return hook.notifications()[:HEARTBEATS]


def test_watchdog_reaches_the_heartbeat_every_repeat_interval(heartbeats):
    for notification in heartbeats:
        assert notification.path == "/alerts"
        assert notification.body["receiver"] == "heartbeat"
        (alert,) = alerts_in(notification)
        assert alert["status"] == "firing"
        assert alert["labels"] == {"alertname": "Watchdog", "severity": "none", "environment": ENVIRONMENT}
    times = [n.received_at for n in heartbeats]
    gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
    # At repeatInterval, not twice it (what group_interval equal to repeat_interval would give).
    assert all(0.5 * HEARTBEAT_EVERY <= gap <= 1.5 * HEARTBEAT_EVERY for gap in gaps), gaps


def test_watchdog_reaches_no_person(heartbeats, hooks, alertmanager):
    (watchdog,) = [a for a in alertmanager.alerts() if a["labels"]["alertname"] == "Watchdog"]
    assert [r["name"] for r in watchdog["receivers"]] == ["heartbeat"]
    # Three heartbeats span 2 x 2s: the 1s group_wait of the people's routes is long past.
    for name in ("pager", "chat"):
        assert "Watchdog" not in names_at(hooks[name]), f"{name} got the Watchdog:\n{hooks[name].describe()}"
    # Nothing but the Watchdog reaches the heartbeat.
    assert names_at(hooks["heartbeat"]) == {"Watchdog"}


def probe(alertname: str, severity: str, instance: str) -> dict:
    return {"labels": {"alertname": alertname, "severity": severity, "instance": instance, "job": "probe",
                       "environment": ENVIRONMENT},
            "annotations": {"summary": f"{alertname} on {instance}"}}


def test_warning_reaches_chat_only_and_critical_reaches_pager(hooks, alertmanager):
    alertmanager.post_alerts([probe("ProbeCritical", "critical", "c:1"), probe("ProbeWarning", "warning", "w:1")])
    at_pager = wait_for_alert(hooks["pager"], "ProbeCritical", "pager (critical)")
    at_chat = wait_for_alert(hooks["chat"], "ProbeWarning", "chat (warning)")
    assert all(a["labels"]["severity"] == "critical" for a in alerts_in(at_pager))
    assert all(a["labels"]["severity"] == "warning" for a in alerts_in(at_chat))
    time.sleep(ABSENCE_MARGIN)
    assert "ProbeWarning" not in names_at(hooks["pager"]), hooks["pager"].describe()
    assert "ProbeCritical" not in names_at(hooks["chat"]), hooks["chat"].describe()
    assert not names_at(hooks["heartbeat"], lambda a: a["labels"]["alertname"] != "Watchdog")


def test_critical_inhibits_warnings_of_its_instance_only(hooks, alertmanager):
    alertmanager.post_alerts([probe("InhibitingCritical", "critical", "shared:1")])
    services.wait_until(lambda: any(a["labels"]["alertname"] == "InhibitingCritical" for a in alertmanager.alerts()),
                        timeout=10, what="Alertmanager to hold InhibitingCritical")
    alertmanager.post_alerts([probe("InhibitedWarning", "warning", "shared:1"),
                              probe("OtherInstanceWarning", "warning", "other:1")])
    wait_for_alert(hooks["pager"], "InhibitingCritical", "pager (the inhibiting critical)")
    wait_for_alert(hooks["chat"], "OtherInstanceWarning", "chat (a warning of another instance)")

    def status(name: str) -> dict:
        (alert,) = [a for a in alertmanager.alerts() if a["labels"]["alertname"] == name]
        return alert["status"]

    assert status("InhibitedWarning")["state"] == "suppressed" and status("InhibitedWarning")["inhibitedBy"]
    assert status("OtherInstanceWarning")["state"] == "active"
    time.sleep(ABSENCE_MARGIN)
    assert "InhibitedWarning" not in names_at(hooks["chat"]), hooks["chat"].describe()
