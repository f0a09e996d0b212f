"""Renders `alertmanager.yml` from the receivers of the `monitoring:alertmanager` config.

Plain Python, no Pulumi import. The receivers arrive validated (components.config); the
credentials in them (webhook `url`, email `auth_password`, Slack `api_url`) are SecretStr and
are revealed only into this text, which the Pulumi layer keeps a secret.

Routing: every alert goes to every receiver. The root route names the first receiver
(Alertmanager needs one) and holds the grouping; under it there is one route per receiver,
without matchers and with `continue: true`, so each receiver gets each notification once
and the root receiver is never used on its own. A person who lists a webhook and a Slack
channel expects both to be told; a "first receiver only" route would silently drop the rest.

The output stays within what Alertmanager 0.25 (Debian's amtool, the tests) and the
pinned prom/alertmanager:v0.28.1 image both accept.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from components.config.model import AlertmanagerConfig, EmailReceiver, SlackReceiver, WebhookReceiver
from components.yaml_text import dump_yaml

_LABEL_RE = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")

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
)

_SLACK_TITLE = ('[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}] '
                '{{ .CommonLabels.alertname }}')
_SLACK_TEXT = ("{{ range .Alerts }}*{{ .Annotations.summary }}* ({{ .Labels.severity }})\n"
               "{{ .Annotations.description }}\n{{ end }}")


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


def render_alertmanager_config(config: AlertmanagerConfig,
                               group_by: Sequence[str] = ("environment", "alertname", "job")) -> str:
    """alertmanager.yml text routing every alert to every receiver of a validated config.

    `group_by` is a list of label names, or ["..."] to group by all labels.
    """
    if not config.receivers:
        raise ValueError("alertmanager.receivers: at least one receiver is needed to render alertmanager.yml")
    if list(group_by) != ["..."] and not all(_LABEL_RE.fullmatch(label) for label in group_by):
        raise ValueError(f"group_by: {list(group_by)!r} is not a list of label names (or ['...'])")
    rendered = [_receiver(receiver) for receiver in config.receivers]
    route: dict[str, Any] = {
        "receiver": rendered[0]["name"],
        "group_by": list(group_by),
        "group_wait": config.group_wait,
        "group_interval": config.group_interval,
        "repeat_interval": config.repeat_interval,
        "routes": [{"receiver": r["name"], "continue": True} for r in rendered],
    }
    document = {
        "global": {"resolve_timeout": "5m"},
        "route": route,
        "inhibit_rules": [dict(rule) for rule in INHIBIT_RULES],
        "receivers": rendered,
    }
    header = ("# alertmanager.yml rendered by components/alertmanager/config.py.\n"
              "# It holds receiver credentials: keep it secret.\n")
    return header + dump_yaml(document)
