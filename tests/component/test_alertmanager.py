"""Alertmanager under mocks: off by default; on, a secret config and Prometheus sending to it."""

from __future__ import annotations

import pytest
import yaml

from components.alertmanager.config import render_alertmanager_config
from components.config import AlertmanagerConfig, ConfigError
from tests.component.harness import Program, SecretValue, run_program
from tests.component.test_stack import VOLUME, assert_no_plaintext, containers, image_of

HOOK = "https://hooks.example.org/services/T000/very-secret-token"
SLACK = "https://hooks.slack.com/services/T1/B2/another-secret"
RECEIVERS = [{"name": "oncall", "type": "webhook", "url": HOOK},
             {"name": "chat", "type": "slack", "api_url": SLACK, "channel": "#alerts"}]


def prometheus_yml(program: Program) -> dict:
    uploads = containers(program)["prometheus"].inputs["uploads"]
    return yaml.safe_load(next(u["content"] for u in uploads if u["file"] == "/etc/prometheus/prometheus.yml"))


@pytest.fixture(scope="module")
def enabled() -> Program:
    config = {"demo": True, "alertmanager": {"enabled": True, "port": 9094, "groupWait": "10s",
                                             "receivers": RECEIVERS}}
    return run_program(config, ["alertmanager"])


def test_off_by_default():
    program = run_program({"demo": True})
    assert "alertmanager" not in containers(program)
    assert "alerting" not in prometheus_yml(program)
    assert "alertmanagerUrl" not in program.outputs


def test_container_with_secret_rendered_config(enabled):
    # `alertmanager` is stored as a secret (as `pulumi config set --secret --path` of a receiver
    # does), so everything it configures is a secret input; the rendered file always is.
    container = containers(enabled)["alertmanager"]
    assert image_of(enabled, container) == SecretValue("prom/alertmanager:v0.28.1")
    assert container.inputs["ports"] == SecretValue(
        [{"internal": 9093, "external": 9094, "ip": "127.0.0.1", "protocol": "tcp"}])
    assert container.inputs["uploads"] == SecretValue([{
        "file": "/etc/alertmanager/alertmanager.yml",
        "content": render_alertmanager_config(AlertmanagerConfig.model_validate(
            {"enabled": True, "receivers": RECEIVERS, "groupWait": "10s"})),
    }])
    # Clustering off: a single instance, which would otherwise exit without a private address.
    assert container.inputs["command"] == SecretValue(["--config.file=/etc/alertmanager/alertmanager.yml",
                                                       "--storage.path=/alertmanager", "--cluster.listen-address="])
    assert container.inputs["healthcheck"]["tests"] == [
        "CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:9093/-/ready"]
    assert container.inputs["restart"] == SecretValue("unless-stopped")
    assert container.inputs["memory"] == SecretValue(256)
    assert set(container.options["additionalSecretOutputs"]) == {
        "restart", "memory", "networksAdvanced", "ports", "command", "uploads"}
    volume = next(v for v in enabled.of_type(VOLUME) if v.name == "alertmanager-data")
    assert volume.inputs["name"] == "monitoring-dev-alertmanager-data"
    # Retained on delete, not protected: `enabled: false` must be able to drop it from the stack.
    assert volume.options["retainOnDelete"] is True and volume.options["protect"] is False
    assert enabled.outputs["alertmanagerUrl"] == ("http://127.0.0.1:9094", True)


def test_rendered_config_is_secret_even_when_the_key_is_not():
    program = run_program({"demo": True, "alertmanager": {"enabled": True, "receivers": RECEIVERS}})
    container = containers(program)["alertmanager"]
    (upload,) = container.inputs["uploads"]
    assert isinstance(upload["content"], SecretValue)
    assert container.inputs["restart"] == "unless-stopped"


BEAT = "https://hc-ping.example.com/heartbeat-secret-uuid"
HEARTBEAT_CONFIG = {"enabled": True, "receivers": [{**RECEIVERS[0], "severities": ["critical"]},
                                                   {**RECEIVERS[1], "severities": ["warning"]}],
                    "heartbeat": {"url": BEAT, "repeatInterval": "2m"}}


@pytest.mark.parametrize("secret_keys", [["alertmanager"], []], ids=["key-secret", "key-plain"])
def test_heartbeat_url_reaches_the_uploaded_config_as_a_secret_only(secret_keys):
    # `--secret --path alertmanager.heartbeat.url` makes `alertmanager` a secret key; even
    # without it, the URL goes nowhere but the rendered file, which is always secret.
    program = run_program({"demo": True, "alertmanager": HEARTBEAT_CONFIG}, secret_keys)
    container = containers(program)["alertmanager"]
    uploads = container.inputs["uploads"]
    # Secret as a whole (every input of a secret key is) or the file's content on its own.
    (upload,) = uploads.value if isinstance(uploads, SecretValue) else uploads
    content = upload["content"]
    assert isinstance(uploads, SecretValue) or isinstance(content, SecretValue)
    rendered = yaml.safe_load(content.value if isinstance(content, SecretValue) else content)
    assert {"name": "heartbeat", "webhook_configs": [{"url": BEAT, "send_resolved": False}]} in rendered["receivers"]
    assert rendered["route"]["routes"][0] == {
        "receiver": "heartbeat", "matchers": ['alertname="Watchdog"'], "continue": False,
        "group_wait": "0s", "group_interval": "2m", "repeat_interval": "1m"}
    assert "uploads" in container.options["additionalSecretOutputs"]
    assert_no_plaintext(program, ["heartbeat-secret-uuid", "very-secret-token", "another-secret"])
    for name, (value, is_secret) in program.outputs.items():
        assert is_secret or "heartbeat-secret-uuid" not in str(value), name


def test_prometheus_sends_alerts_to_it(enabled):
    assert prometheus_yml(enabled)["alerting"] == {
        "alertmanagers": [{"static_configs": [{"targets": ["monitoring-dev-alertmanager:9093"]}]}]}


def test_receiver_credentials_never_in_plaintext(enabled):
    assert_no_plaintext(enabled, ["very-secret-token", "another-secret"])


@pytest.mark.parametrize("alertmanager, key", [
    ({"enabled": True}, "alertmanager.receivers"),
    ({"enabled": True, "receivers": [{"name": "x", "type": "pager"}]}, "alertmanager.receivers[0].type"),
    ({"enabled": True, "receivers": RECEIVERS, "groupInterval": "5 minutes"}, "alertmanager.groupInterval"),
    ({"enabled": True, "receivers": RECEIVERS, "port": 9090}, "alertmanager.port"),
    ({**HEARTBEAT_CONFIG, "heartbeat": {"url": "very-secret-token"}}, "alertmanager.heartbeat.url"),
    ({"enabled": True, "receivers": [{**RECEIVERS[0], "severities": ["critical"]}]}, "alertmanager.receivers"),
])
def test_bad_alertmanager_config_registers_nothing(alertmanager, key):
    program = Program()
    with pytest.raises(ConfigError) as failure:
        run_program({"demo": True, "alertmanager": alertmanager}, ["alertmanager"], program=program)
    assert f"monitoring:{key}:" in str(failure.value)
    assert "very-secret-token" not in str(failure.value)
    assert program.resources == []
