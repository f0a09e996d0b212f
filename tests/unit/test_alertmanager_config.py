"""components.alertmanager.config: amtool accepts what it renders; every bad input is named."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from components.alertmanager.config import render_alertmanager_config as render_validated
from components.config import AlertmanagerConfig, ConfigError, load_config
from tests.tools import require_tool

WEBHOOK = {"name": "hook", "type": "webhook", "url": "http://127.0.0.1:5001/alerts?token=s3cr3t-webhook"}
EMAIL = {"name": "oncall-mail", "type": "email", "to": "ops@example.com, dev@example.com",
         "from": "Monitoring <alerts@example.com>", "smarthost": "smtp.example.com:587",
         "auth_username": "alerts@example.com", "auth_password": "s3cr3t-smtp"}
SLACK = {"name": "slack", "type": "slack", "api_url": "https://hooks.slack.com/services/T000/B000/s3cr3t",
         "channel": "#alerts"}


def render_alertmanager_config(receivers, group_by=None, **timings) -> str:
    """Validate as the config model does, then render (the only way the stack renders)."""
    keys = {"group_wait": "groupWait", "group_interval": "groupInterval", "repeat_interval": "repeatInterval"}
    config = AlertmanagerConfig.model_validate(
        {"enabled": True, "receivers": receivers, **{keys[k]: v for k, v in timings.items()}})
    return render_validated(config) if group_by is None else render_validated(config, group_by=group_by)


def _amtool() -> str:
    return require_tool("amtool", "prometheus-alertmanager")

def _check(tmp_path: Path, text: str) -> None:
    path = tmp_path / "alertmanager.yml"
    path.write_text(text, encoding="utf-8")
    result = subprocess.run([_amtool(), "check-config", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "receivers",
    [[WEBHOOK], [EMAIL], [SLACK], [WEBHOOK, EMAIL, SLACK],
     [{"name": "relay", "type": "email", "to": "ops@example.com", "from": "alerts@example.com",
       "smarthost": "localhost:25", "require_tls": False}]],
    ids=["webhook", "email", "slack", "all-three", "email-no-auth"],
)
def test_amtool_accepts_rendered_config(tmp_path: Path, receivers):
    _check(tmp_path, render_alertmanager_config(receivers=receivers))


def test_amtool_accepts_short_intervals_and_group_by_all(tmp_path: Path):
    text = render_alertmanager_config(receivers=[WEBHOOK], group_wait="0s", group_interval="1s",
                                      repeat_interval="1m", group_by=["..."])
    _check(tmp_path, text)
    route = yaml.safe_load(text)["route"]
    assert (route["group_wait"], route["group_interval"], route["repeat_interval"]) == ("0s", "1s", "1m")
    assert route["group_by"] == ["..."]


def test_structure_routes_every_alert_to_every_receiver():
    config = yaml.safe_load(render_alertmanager_config(receivers=[WEBHOOK, EMAIL, SLACK]))
    route = config["route"]
    assert route["receiver"] == "hook"
    # Grouped per environment first: one notification never mixes staging with production.
    assert route["group_by"] == ["environment", "alertname", "job"]
    assert (route["group_wait"], route["group_interval"], route["repeat_interval"]) == ("30s", "5m", "4h")
    assert route["routes"] == [{"receiver": n, "continue": True} for n in ("hook", "oncall-mail", "slack")]
    assert [r["name"] for r in config["receivers"]] == ["hook", "oncall-mail", "slack"]
    assert config["global"] == {"resolve_timeout": "5m"}


def test_structure_receivers():
    hook, mail, slack = yaml.safe_load(render_alertmanager_config(receivers=[WEBHOOK, EMAIL, SLACK]))["receivers"]
    assert hook["webhook_configs"] == [{"url": WEBHOOK["url"], "send_resolved": True}]
    assert mail["email_configs"] == [{k: EMAIL[k] for k in ("to", "from", "smarthost", "auth_username",
                                                            "auth_password")}]
    (slack_config,) = slack["slack_configs"]
    assert slack_config["api_url"] == SLACK["api_url"]
    assert slack_config["channel"] == "#alerts"
    assert slack_config["send_resolved"] is True
    assert "{{ .Annotations.summary }}" in slack_config["text"]
    assert set(hook) == {"name", "webhook_configs"} and set(mail) == {"name", "email_configs"}


def test_inhibit_rules_refer_to_existing_alerts():
    from components.prometheus.rules import load_rule_files

    alerts = {rule["alert"] for text in load_rule_files().values()
              for group in yaml.safe_load(text)["groups"] for rule in group["rules"] if "alert" in rule}
    config = yaml.safe_load(render_alertmanager_config(receivers=[WEBHOOK]))
    names = set()
    for rule in config["inhibit_rules"]:
        for matcher in rule["source_matchers"] + rule["target_matchers"]:
            value = matcher.split("=", 1)[1].lstrip("~").strip('"')
            names.update(value.split("|"))
    assert names and names <= alerts


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
}


@pytest.mark.parametrize("receivers,timings,key,allowed", BAD.values(), ids=BAD.keys())
def test_bad_receivers_and_timings_named_by_the_config_model(receivers, timings, key, allowed):
    with pytest.raises(ConfigError) as info:
        load_config({"demo": True, "alertmanager": {"enabled": True, "receivers": receivers, **timings}})
    mine = [p for p in info.value.problems if p.startswith(f"monitoring:{key}: ")]
    assert len(mine) == 1, info.value.problems
    assert allowed in mine[0], mine[0]


def test_bad_value_is_shown():
    with pytest.raises(ConfigError, match=r'"pagerduty" is not allowed'):
        load_config({"demo": True, "alertmanager": {"enabled": True, "receivers": [{**WEBHOOK, "type": "pagerduty"}]}})


@pytest.mark.parametrize("receivers", [[{**WEBHOOK, "url": "ftp://user:hunter2@x"}],
                                       [{**SLACK, "api_url": "hunter2"}],
                                       [{**SLACK, "api_key": "hunter2"}],
                                       {**WEBHOOK, "url": "http://x/hunter2"},
                                       [{**EMAIL, "auth_password": "hunter2", "auth_username": None}]],
                         ids=["webhook url", "slack api_url", "misspelt key", "receiver instead of list",
                              "password without user"])
def test_errors_never_print_credentials(receivers):
    with pytest.raises(ConfigError) as info:
        load_config({"demo": True, "alertmanager": {"enabled": True, "receivers": receivers}})
    assert "hunter2" not in str(info.value)


@pytest.mark.parametrize("group_by", [["alertname", "bad-label"], "alertname x"])
def test_renderer_refuses_bad_group_by(group_by):
    with pytest.raises(ValueError, match="group_by"):
        render_alertmanager_config([WEBHOOK], group_by=group_by)
