"""Renders `alertmanager.yml` from the receivers of the `monitoring:alertmanager` config.

Plain Python, no Pulumi import. The receivers arrive validated (components.config); the
credentials in them (webhook `url`, email `auth_password`, Slack `api_url`, the heartbeat
`url`) are SecretStr and are revealed only into this text, which the Pulumi layer keeps a secret.

Routing, first match wins at the top:
- the Watchdog (always firing, rules/alerts.yml) goes to the heartbeat receiver, or to the
  null receiver when no heartbeat is configured, and stops there: it never reaches a person;
- every other alert goes to each receiver whose `severities` list its `severity` label: one
  route per receiver with a `severity=~"..."` matcher and `continue: true`, so a critical
  alert can page and reach the chat channel too. The model makes sure every severity is
  listed by some receiver, so the root's null receiver (Alertmanager needs one) gets nothing.

The output stays within what Alertmanager 0.25 (Debian's amtool, the tests) and the
pinned prom/alertmanager:v0.28.1 image both accept.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from components.config.model import (
    SEVERITIES,
    AlertmanagerConfig,
    EmailReceiver,
    HeartbeatConfig,
    SlackReceiver,
    WebhookReceiver,
)
from components.types import duration_ms, format_duration
from components.yaml_text import dump_yaml

_LABEL_RE = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")

WATCHDOG = "Watchdog"
HEARTBEAT_RECEIVER = "heartbeat"
NULL_RECEIVER = "null"

# A service-down alert says more than the TargetDown of the same target; a full disk
# says more than the prediction that it will fill.
INHIBIT_RULES = (
    {
        "source_matchers": ['alertname=~"DjangoDown|CeleryFlowerDown"'],
        "target_matchers": ['alertname="TargetDown"'],
        "equal": ["job", "instance"],
    },
    {
        "source_matchers": ['alertname="HostDiskAlmostFull"'],
        "target_matchers": ['alertname="HostDiskWillFillIn24Hours"'],
        "equal": ["instance", "mountpoint"],
    },
    # While something critical fires for an instance, its warnings are noise (a page is already
    # out). Not per alertname: every alert has a single severity, so that rule would never match.
    {
        "source_matchers": ['severity="critical"'],
        "target_matchers": ['severity="warning"'],
        "equal": ["environment", "instance"],
    },
)

_SLACK_TITLE = ('[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}] '
                '{{ .CommonLabels.alertname }}')
# The links every alert carries (components/prometheus/alert_links.py): where to start, what to look at.
_SLACK_TEXT = ("{{ range .Alerts }}*{{ .Annotations.summary }}* ({{ .Labels.severity }})\n"
               "{{ .Annotations.description }}\n"
               "{{ if .Annotations.runbook_url }}Runbook: {{ .Annotations.runbook_url }}\n{{ end }}"
               "{{ if .Annotations.dashboard_url }}Dashboard: {{ .Annotations.dashboard_url }}\n{{ end }}{{ end }}")


def _receiver(receiver: WebhookReceiver | EmailReceiver | SlackReceiver) -> dict[str, Any]:
    if isinstance(receiver, WebhookReceiver):
        return {"name": receiver.name,
                "webhook_configs": [{"url": receiver.url.get_secret_value(), "send_resolved": True}]}
    if isinstance(receiver, SlackReceiver):
        return {"name": receiver.name, "slack_configs": [{
            "api_url": receiver.api_url.get_secret_value(), "channel": receiver.channel,
            "send_resolved": True, "title": _SLACK_TITLE, "text": _SLACK_TEXT}]}
    email: dict[str, Any] = {"to": receiver.to, "from": receiver.from_, "smarthost": receiver.smarthost}
    if receiver.auth_username is not None and receiver.auth_password is not None:
        email["auth_username"] = receiver.auth_username
        email["auth_password"] = receiver.auth_password.get_secret_value()
    if receiver.require_tls is not None:
        email["require_tls"] = receiver.require_tls
    return {"name": receiver.name, "email_configs": [email]}


def _heartbeat(heartbeat: HeartbeatConfig) -> dict[str, Any]:
    # No resolved message: a dead man's switch service counts any request as a sign of life.
    return {"name": HEARTBEAT_RECEIVER,
            "webhook_configs": [{"url": heartbeat.url.get_secret_value(), "send_resolved": False}]}


def _watchdog_route(heartbeat: HeartbeatConfig | None) -> dict[str, Any]:
    route: dict[str, Any] = {"receiver": NULL_RECEIVER if heartbeat is None else HEARTBEAT_RECEIVER,
                             "matchers": [f'alertname="{WATCHDOG}"'], "continue": False}
    if heartbeat is not None:
        # A repeat is due only when a group_interval tick finds the last send older than
        # repeat_interval; equal, that is every other tick (2x): below it, every tick sends.
        every = duration_ms(heartbeat.repeat_interval)
        route.update({"group_wait": "0s", "group_interval": heartbeat.repeat_interval,
                      "repeat_interval": format_duration(every // 2)})
    return route


def _severity_matcher(severities: Sequence[str]) -> str:
    return f'severity=~"{"|".join(s for s in SEVERITIES if s in severities)}"'


def render_alertmanager_config(config: AlertmanagerConfig,
                               group_by: Sequence[str] = ("environment", "alertname", "job")) -> str:
    """alertmanager.yml text of a validated config: the Watchdog to the heartbeat, every other
    alert to each receiver that lists its severity.

    `group_by` is a list of label names, or ["..."] to group by all labels.
    """
    if not config.receivers:
        raise ValueError("alertmanager.receivers: at least one receiver is needed to render alertmanager.yml")
    if list(group_by) != ["..."] and not all(_LABEL_RE.fullmatch(label) for label in group_by):
        raise ValueError(f"group_by: {list(group_by)!r} is not a list of label names (or ['...'])")
    rendered = [_receiver(receiver) for receiver in config.receivers]
    route: dict[str, Any] = {
        "receiver": NULL_RECEIVER,
        "group_by": list(group_by),
        "group_wait": config.group_wait,
        "group_interval": config.group_interval,
        "repeat_interval": config.repeat_interval,
        "routes": [_watchdog_route(config.heartbeat)] + [
            {"receiver": receiver.name, "matchers": [_severity_matcher(receiver.severities)], "continue": True}
            for receiver in config.receivers],
    }
    extra = [{"name": NULL_RECEIVER}] + ([] if config.heartbeat is None else [_heartbeat(config.heartbeat)])
    document = {
        "global": {"resolve_timeout": "5m"},
        "route": route,
        "inhibit_rules": [dict(rule) for rule in INHIBIT_RULES],
        "receivers": rendered + extra,
    }
    header = ("# alertmanager.yml rendered by components/alertmanager/config.py.\n"
              "# It holds receiver credentials: keep it secret.\n")
    return header + dump_yaml(document)
