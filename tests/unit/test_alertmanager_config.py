"""components.alertmanager.config: amtool accepts what it renders; every bad input is named."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from components.alertmanager.config import INHIBIT_RULES
from components.alertmanager.config import render_alertmanager_config as render_validated
from components.config import AlertmanagerConfig, ConfigError, load_config
from tests.tools import require_tool

WEBHOOK = {"name": "hook", "type": "webhook", "url": "http://127.0.0.1:5001/alerts?token=s3cr3t-webhook"}
EMAIL = {"name": "oncall-mail", "type": "email", "to": "ops@example.com, dev@example.com",
         "from": "Monitoring <alerts@example.com>", "smarthost": "smtp.example.com:587",
         "auth_username": "alerts@example.com", "auth_password": "s3cr3t-smtp"}
SLACK = {"name": "slack", "type": "slack", "api_url": "https://hooks.slack.com/services/T000/B000/s3cr3t",
         "channel": "#alerts"}


HEARTBEAT = {"url": "https://hc-ping.example.com/s3cr3t-heartbeat-uuid"}


def render_alertmanager_config(receivers, group_by=None, heartbeat=None, **timings) -> str:
    """Validate as the config model does, then render (the only way the stack renders)."""
    keys = {"group_wait": "groupWait", "group_interval": "groupInterval", "repeat_interval": "repeatInterval"}
    config = AlertmanagerConfig.model_validate(
        {"enabled": True, "receivers": receivers, **{keys[k]: v for k, v in timings.items()},
         **({} if heartbeat is None else {"heartbeat": heartbeat})})
    return render_validated(config) if group_by is None else render_validated(config, group_by=group_by)


def _amtool() -> str:
    return require_tool("amtool", "prometheus-alertmanager")

def _check(tmp_path: Path, text: str) -> None:
    path = tmp_path / "alertmanager.yml"
    path.write_text(text, encoding="utf-8")
    result = subprocess.run([_amtool(), "check-config", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


PAGER = {**WEBHOOK, "name": "pager", "severities": ["critical"]}
CHAT = {**SLACK, "name": "chat", "severities": ["warning"]}


@pytest.mark.parametrize(
    "receivers, heartbeat",
    [([WEBHOOK], None), ([EMAIL], None), ([SLACK], None), ([WEBHOOK, EMAIL, SLACK], None),
     ([{"name": "relay", "type": "email", "to": "ops@example.com", "from": "alerts@example.com",
        "smarthost": "localhost:25", "require_tls": False}], None),
     ([PAGER, CHAT], HEARTBEAT), ([WEBHOOK], {**HEARTBEAT, "repeatInterval": "1s"}),
     ([PAGER, CHAT, {**EMAIL, "severities": ["warning", "critical"]}], {**HEARTBEAT, "repeatInterval": "1d"})],
    ids=["webhook", "email", "slack", "all-three", "email-no-auth", "pager-chat-heartbeat", "heartbeat-1s",
         "heartbeat-1d"],
)
def test_amtool_accepts_rendered_config(tmp_path: Path, receivers, heartbeat):
    _check(tmp_path, render_alertmanager_config(receivers=receivers, heartbeat=heartbeat))


def test_amtool_accepts_short_intervals_and_group_by_all(tmp_path: Path):
    text = render_alertmanager_config(receivers=[WEBHOOK], group_wait="0s", group_interval="1s",
                                      repeat_interval="1m", group_by=["..."])
    _check(tmp_path, text)
    route = yaml.safe_load(text)["route"]
    assert (route["group_wait"], route["group_interval"], route["repeat_interval"]) == ("0s", "1s", "1m")
    assert route["group_by"] == ["..."]


def test_structure_default_severities_route_every_alert_to_every_receiver():
    config = yaml.safe_load(render_alertmanager_config(receivers=[WEBHOOK, EMAIL, SLACK]))
    route = config["route"]
    # The root's receiver gets what no route takes: nothing, the model sees to that.
    assert route["receiver"] == "null"
    # Grouped per environment first: one notification never mixes staging with production.
    assert route["group_by"] == ["environment", "alertname", "job"]
    assert (route["group_wait"], route["group_interval"], route["repeat_interval"]) == ("30s", "5m", "4h")
    assert route["routes"] == [
        {"receiver": "null", "matchers": ['alertname="Watchdog"'], "continue": False},
        *({"receiver": n, "matchers": ['severity=~"critical|warning"'], "continue": True}
          for n in ("hook", "oncall-mail", "slack"))]
    assert [r["name"] for r in config["receivers"]] == ["hook", "oncall-mail", "slack", "null"]
    assert config["receivers"][-1] == {"name": "null"}  # no integration: notifications go nowhere
    assert config["global"] == {"resolve_timeout": "5m"}


def test_structure_severities_and_heartbeat():
    both = {**EMAIL, "severities": ["warning", "critical"]}  # written in any order, rendered in one
    config = yaml.safe_load(render_alertmanager_config(receivers=[PAGER, CHAT, both],
                                                       heartbeat={**HEARTBEAT, "repeatInterval": "5m"}))
    assert config["route"]["receiver"] == "null"
    assert config["route"]["routes"] == [
        # First and without continue: the Watchdog stops here. group_interval 5m with a shorter
        # repeat_interval: a notification at every tick, every 5 minutes.
        {"receiver": "heartbeat", "matchers": ['alertname="Watchdog"'], "continue": False,
         "group_wait": "0s", "group_interval": "5m", "repeat_interval": "2m30s"},
        {"receiver": "pager", "matchers": ['severity=~"critical"'], "continue": True},
        {"receiver": "chat", "matchers": ['severity=~"warning"'], "continue": True},
        {"receiver": "oncall-mail", "matchers": ['severity=~"critical|warning"'], "continue": True},
    ]
    assert config["receivers"][-2:] == [
        {"name": "null"},
        # Not resolved: a dead man's switch service would count that message as a heartbeat too.
        {"name": "heartbeat", "webhook_configs": [{"url": HEARTBEAT["url"], "send_resolved": False}]}]


@pytest.mark.parametrize("repeat, group_interval, repeat_interval", [
    ("1s", "1s", "500ms"), ("1m", "1m", "30s"), ("1m1s", "1m1s", "30s500ms"), ("1d", "1d", "12h")])
def test_heartbeat_intervals(repeat, group_interval, repeat_interval):
    (watchdog, _) = yaml.safe_load(render_alertmanager_config(
        receivers=[WEBHOOK], heartbeat={**HEARTBEAT, "repeatInterval": repeat}))["route"]["routes"]
    assert (watchdog["group_wait"], watchdog["group_interval"], watchdog["repeat_interval"]) == (
        "0s", group_interval, repeat_interval)


def test_heartbeat_default_repeat_interval_is_a_minute():
    (watchdog, _) = yaml.safe_load(render_alertmanager_config(receivers=[WEBHOOK], heartbeat=HEARTBEAT))[
        "route"]["routes"]
    assert watchdog["group_interval"] == "1m"


def _routes_test(tmp_path: Path, text: str, labels: dict[str, str]) -> set[str]:
    """The receivers real amtool resolves for an alert with `labels` under `text`."""
    path = tmp_path / "alertmanager.yml"
    path.write_text(text, encoding="utf-8")
    result = subprocess.run([_amtool(), "config", "routes", "test", f"--config.file={path}",
                             *(f"{k}={v}" for k, v in labels.items())], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    return set(result.stdout.strip().split(","))


@pytest.mark.parametrize("heartbeat, watchdog_to", [(HEARTBEAT, "heartbeat"), (None, "null")],
                         ids=["heartbeat", "no-heartbeat"])
def test_amtool_resolves_receivers_by_severity(tmp_path: Path, heartbeat, watchdog_to):
    text = render_alertmanager_config(receivers=[PAGER, CHAT, {**EMAIL, "name": "mail"}], heartbeat=heartbeat)
    resolve = lambda **labels: _routes_test(tmp_path, text, {"environment": "prod", "instance": "a:1", **labels})  # noqa: E731
    assert resolve(alertname="RedisDown", severity="critical") == {"pager", "mail"}
    assert resolve(alertname="TargetDown", severity="warning") == {"chat", "mail"}
    # The Watchdog reaches no person whatever labels it carries.
    assert resolve(alertname="Watchdog", severity="none") == {watchdog_to}
    assert resolve(alertname="Watchdog", severity="critical") == {watchdog_to}
    # A severity nobody lists (no rule has one) ends at the root's null receiver.
    assert resolve(alertname="Other", severity="info") == {"null"}


def test_structure_receivers():
    hook, mail, slack, _ = yaml.safe_load(render_alertmanager_config(receivers=[WEBHOOK, EMAIL, SLACK]))["receivers"]
    assert hook["webhook_configs"] == [{"url": WEBHOOK["url"], "send_resolved": True}]
    assert mail["email_configs"] == [{k: EMAIL[k] for k in ("to", "from", "smarthost", "auth_username",
                                                            "auth_password")}]
    (slack_config,) = slack["slack_configs"]
    assert slack_config["api_url"] == SLACK["api_url"]
    assert slack_config["channel"] == "#alerts"
    assert slack_config["send_resolved"] is True
    assert "{{ .Annotations.summary }}" in slack_config["text"]
    # Each alert's links (added to every alert by the rule renderer), when it has them.
    assert "{{ if .Annotations.runbook_url }}Runbook: {{ .Annotations.runbook_url }}\n{{ end }}" in slack_config["text"]
    assert "{{ if .Annotations.dashboard_url }}Dashboard: {{ .Annotations.dashboard_url }}\n{{ end }}" in \
        slack_config["text"]
    assert set(hook) == {"name", "webhook_configs"} and set(mail) == {"name", "email_configs"}


def test_inhibit_rules_refer_to_existing_alerts_and_severities():
    from components.prometheus.rules import rule_entries

    alerts = rule_entries("alert")
    config = yaml.safe_load(render_alertmanager_config(receivers=[WEBHOOK]))
    values: dict[str, set[str]] = {"alertname": set(), "severity": set()}
    for rule in config["inhibit_rules"]:
        for matcher in rule["source_matchers"] + rule["target_matchers"]:
            label, value = matcher.split("=", 1)
            values[label].update(value.lstrip("~").strip('"').split("|"))
    assert values["alertname"] and values["alertname"] <= {a["alert"] for a in alerts}
    assert values["severity"] == {a["labels"]["severity"] for a in alerts} - {"none"}


def test_critical_inhibits_warning_of_the_same_instance():
    rules = yaml.safe_load(render_alertmanager_config(receivers=[WEBHOOK]))["inhibit_rules"]
    assert rules[:2] == [dict(r) for r in INHIBIT_RULES[:2]]  # the alert-specific ones are kept
    # Any critical alert of an instance, not only one of the same name: no alertname has two severities.
    assert rules[2] == {"source_matchers": ['severity="critical"'], "target_matchers": ['severity="warning"'],
                        "equal": ["environment", "instance"]}


def test_no_alertname_has_two_severities():
    # Why the severity inhibition leaves alertname out of `equal`: with it, it would match nothing.
    from components.prometheus.rules import rule_entries

    severities: dict[str, set[str]] = {}
    for alert in rule_entries("alert"):
        severities.setdefault(alert["alert"], set()).add(alert["labels"]["severity"])
    assert all(len(found) == 1 for found in severities.values()), severities


def test_deterministic():
    assert render_alertmanager_config(receivers=[WEBHOOK, SLACK]) == render_alertmanager_config(
        receivers=[dict(WEBHOOK), dict(SLACK)])


def _without(mapping: dict, key: str) -> dict:
    return {k: v for k, v in mapping.items() if k != key}


# (receivers, alertmanager timings, key named in the problem line, text expected in it)
BAD = {
    "no receivers": ([], {}, "alertmanager.receivers", "at least one receiver"),
    "receivers not a list": (WEBHOOK, {}, "alertmanager.receivers", "a list"),
    "receiver not an object": ([WEBHOOK, "slack"], {}, "alertmanager.receivers[1]", "an object"),
    "unknown type": ([WEBHOOK, {**SLACK, "type": "pagerduty"}], {}, "alertmanager.receivers[1].type",
                     "one of webhook, email, slack"),
    "missing type": ([_without(WEBHOOK, "type")], {}, "alertmanager.receivers[0].type", "one of"),
    "missing name": ([_without(WEBHOOK, "name")], {}, "alertmanager.receivers[0].name", "is missing"),
    "bad name": ([{**WEBHOOK, "name": "on call"}], {}, "alertmanager.receivers[0].name", "a name of letters"),
    "duplicate name": ([WEBHOOK, {**SLACK, "name": "hook"}], {}, "alertmanager.receivers[1].name",
                       "no other receiver"),
    "unknown key": ([{**WEBHOOK, "channel": "#x"}], {}, "alertmanager.receivers[0].channel",
                    "is not a known key"),
    "webhook without url": ([_without(WEBHOOK, "url")], {}, "alertmanager.receivers[0].url", "is missing"),
    "webhook bad url": ([{**WEBHOOK, "url": "ftp://example.com/x"}], {}, "alertmanager.receivers[0].url",
                        "http:// or https://"),
    "webhook url with a space": ([{**WEBHOOK, "url": "http://example.com/a b"}], {},
                                 "alertmanager.receivers[0].url", "no spaces"),
    "webhook url not a string": ([{**WEBHOOK, "url": 42}], {}, "alertmanager.receivers[0].url", "URL"),
    "slack without channel": ([_without(SLACK, "channel")], {}, "alertmanager.receivers[0].channel", "is missing"),
    "slack without api_url": ([_without(SLACK, "api_url")], {}, "alertmanager.receivers[0].api_url", "is missing"),
    "slack bad channel": ([{**SLACK, "channel": "my alerts"}], {}, "alertmanager.receivers[0].channel",
                          "Slack channel"),
    "slack bad api_url": ([{**SLACK, "api_url": "hooks.slack.com/x"}], {}, "alertmanager.receivers[0].api_url",
                          "URL"),
    "email without to": ([_without(EMAIL, "to")], {}, "alertmanager.receivers[0].to", "is missing"),
    "email without from": ([_without(EMAIL, "from")], {}, "alertmanager.receivers[0].from", "is missing"),
    "email without smarthost": ([_without(EMAIL, "smarthost")], {}, "alertmanager.receivers[0].smarthost",
                                "is missing"),
    "email bad to": ([{**EMAIL, "to": "ops"}], {}, "alertmanager.receivers[0].to", "email address"),
    "email bad from": ([{**EMAIL, "from": "alerts"}], {}, "alertmanager.receivers[0].from", "email address"),
    "email smarthost without port": ([{**EMAIL, "smarthost": "smtp.example.com"}], {},
                                     "alertmanager.receivers[0].smarthost", "host:port"),
    "email smarthost bad port": ([{**EMAIL, "smarthost": "smtp.example.com:70000"}], {},
                                 "alertmanager.receivers[0].smarthost", "port from 1 to 65535"),
    "email password without username": ([_without(EMAIL, "auth_username")], {},
                                        "alertmanager.receivers[0].auth_password", "both or neither"),
    "email username without password": ([_without(EMAIL, "auth_password")], {},
                                        "alertmanager.receivers[0].auth_password", "both or neither"),
    "email empty password": ([{**EMAIL, "auth_password": ""}], {}, "alertmanager.receivers[0].auth_password",
                             "non-empty string"),
    "email require_tls not bool": ([{**EMAIL, "require_tls": "yes"}], {}, "alertmanager.receivers[0].require_tls",
                                   "true or false"),
    "bad group_wait": ([WEBHOOK], {"groupWait": "30 seconds"}, "alertmanager.groupWait", "Prometheus duration"),
    "zero group_interval": ([WEBHOOK], {"groupInterval": "0s"}, "alertmanager.groupInterval", "from 1s"),
    "bad repeat_interval": ([WEBHOOK], {"repeatInterval": "4hours"}, "alertmanager.repeatInterval",
                            "Prometheus duration"),
    "repeat_interval past retention": ([WEBHOOK], {"repeatInterval": "1w"}, "alertmanager.repeatInterval", "to 5d"),
    "group_wait with newline": ([WEBHOOK], {"groupWait": "30s\n"}, "alertmanager.groupWait", "duration"),
    "unknown severity": ([{**WEBHOOK, "severities": ["critical", "page"]}], {},
                         "alertmanager.receivers[0].severities[1]", "one of critical, warning"),
    "severity none": ([{**WEBHOOK, "severities": ["none"]}], {}, "alertmanager.receivers[0].severities[0]",
                      "one of critical, warning"),
    "severity twice": ([{**WEBHOOK, "severities": ["warning", "critical", "warning"]}], {},
                       "alertmanager.receivers[0].severities[2]", "not already listed"),
    "no severities": ([{**WEBHOOK, "severities": []}], {}, "alertmanager.receivers[0].severities",
                      "a non-empty list of severities from critical, warning"),
    "severities a word": ([{**WEBHOOK, "severities": "critical"}], {}, "alertmanager.receivers[0].severities",
                          "a non-empty list"),
    "warning reaches nobody": ([PAGER, {**EMAIL, "severities": ["critical"]}], {}, "alertmanager.receivers",
                               "none lists warning (pager: critical; oncall-mail: critical)"),
    "critical reaches nobody": ([CHAT], {}, "alertmanager.receivers", "none lists critical (chat: warning)"),
    "reserved name heartbeat": ([{**WEBHOOK, "name": "heartbeat"}], {}, "alertmanager.receivers[0].name",
                                "other than heartbeat and null"),
    "reserved name null": ([{**WEBHOOK, "name": "null"}], {}, "alertmanager.receivers[0].name",
                           "other than heartbeat and null"),
    "heartbeat not an object": ([WEBHOOK], {"heartbeat": HEARTBEAT["url"]}, "alertmanager.heartbeat", "object"),
    "heartbeat without url": ([WEBHOOK], {"heartbeat": {"repeatInterval": "1m"}}, "alertmanager.heartbeat.url",
                              "is missing"),
    "heartbeat bad url": ([WEBHOOK], {"heartbeat": {"url": "hc-ping.example.com/x"}}, "alertmanager.heartbeat.url",
                          "http:// or https://"),
    "heartbeat unknown key": ([WEBHOOK], {"heartbeat": {**HEARTBEAT, "interval": "1m"}},
                              "alertmanager.heartbeat.interval", "allowed: repeatInterval, url"),
    "heartbeat zero repeat": ([WEBHOOK], {"heartbeat": {**HEARTBEAT, "repeatInterval": "0s"}},
                              "alertmanager.heartbeat.repeatInterval", "from 1s to 1d"),
    "heartbeat repeat too long": ([WEBHOOK], {"heartbeat": {**HEARTBEAT, "repeatInterval": "2d"}},
                                  "alertmanager.heartbeat.repeatInterval", "from 1s to 1d"),
    "heartbeat bad repeat": ([WEBHOOK], {"heartbeat": {**HEARTBEAT, "repeatInterval": "1 minute"}},
                             "alertmanager.heartbeat.repeatInterval", "Prometheus duration"),
}


@pytest.mark.parametrize("receivers,timings,key,allowed", BAD.values(), ids=BAD.keys())
def test_bad_receivers_and_timings_named_by_the_config_model(receivers, timings, key, allowed):
    with pytest.raises(ConfigError) as info:
        load_config({"demo": True, "alertmanager": {"enabled": True, "receivers": receivers, **timings}})
    mine = [p for p in info.value.problems if p.startswith(f"monitoring:{key}: ")]
    assert len(mine) == 1, info.value.problems
    assert allowed in mine[0], mine[0]


@pytest.mark.parametrize("receivers, timings, shown", [
    ([{**WEBHOOK, "type": "pagerduty"}], {}, '"pagerduty" is not allowed'),
    ([{**WEBHOOK, "severities": ["critical", "page"]}], {}, '"page" is not allowed'),
    ([WEBHOOK], {"heartbeat": {**HEARTBEAT, "repeatInterval": "2d"}}, '"2d" is not allowed'),
], ids=["type", "severity", "heartbeat repeat"])
def test_bad_value_is_shown(receivers, timings, shown):
    with pytest.raises(ConfigError, match=shown):
        load_config({"demo": True, "alertmanager": {"enabled": True, "receivers": receivers, **timings}})


@pytest.mark.parametrize("receivers", [[{**WEBHOOK, "url": "ftp://user:hunter2@x"}],
                                       [{**SLACK, "api_url": "hunter2"}],
                                       [{**SLACK, "api_key": "hunter2"}],
                                       {**WEBHOOK, "url": "http://x/hunter2"},
                                       [{**EMAIL, "auth_password": "hunter2", "auth_username": None}],
                                       ([WEBHOOK], {"url": "ftp://hunter2"}),
                                       ([WEBHOOK], {"url": "https://x/hunter2", "repeatInterval": "0s"}),
                                       ([WEBHOOK], {"uri": "https://x/hunter2"}),
                                       ([WEBHOOK], "https://x/hunter2")],
                         ids=["webhook url", "slack api_url", "misspelt key", "receiver instead of list",
                              "password without user", "heartbeat url", "heartbeat with a bad repeat",
                              "heartbeat misspelt url", "heartbeat a bare url"])
def test_errors_never_print_credentials(receivers):
    receivers, heartbeat = receivers if isinstance(receivers, tuple) else (receivers, None)
    alertmanager = {"enabled": True, "receivers": receivers, **({} if heartbeat is None else {"heartbeat": heartbeat})}
    with pytest.raises(ConfigError) as info:
        load_config({"demo": True, "alertmanager": alertmanager})
    assert "hunter2" not in str(info.value)


@pytest.mark.parametrize("group_by", [["alertname", "bad-label"], "alertname x"])
def test_renderer_refuses_bad_group_by(group_by):
    with pytest.raises(ValueError, match="group_by"):
        render_alertmanager_config([WEBHOOK], group_by=group_by)
