"""Renders `alertmanager.yml` from the receivers of the `monitoring:alertmanager` config.

Plain Python, no Pulumi import. Credentials (a webhook `url`, an email `auth_password`,
a Slack `api_url`) arrive here as plain strings; the Pulumi layer keeps the rendered
text a secret. Error messages never print a credential, only its length.

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
from typing import Any, Mapping, Sequence
from urllib.parse import urlsplit

import yaml

from components.rules import is_duration

RECEIVER_TYPES = ("webhook", "email", "slack")
# Keys of each receiver type besides `name` and `type`: required, then optional.
_REQUIRED = {"webhook": ("url",), "email": ("to", "from", "smarthost"), "slack": ("api_url", "channel")}
_OPTIONAL = {"webhook": (), "email": ("auth_username", "auth_password", "require_tls"), "slack": ()}
# Credentials: set them with `pulumi config set --secret`; never echoed in errors.
SECRET_KEYS = frozenset({"url", "auth_password", "api_url"})

_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_LABEL_RE = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_ADDRESS = r"[^@\s<>,\"]+@[^@\s<>,\"]+"
_ADDRESS_RE = re.compile(_ADDRESS)
_FROM_RE = re.compile(rf"{_ADDRESS}|[^<>\"]+ <{_ADDRESS}>")
_HOSTPORT_RE = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):([0-9]{1,5})")
_DURATION_HELP = "a Prometheus duration such as 30s, 5m or 4h"

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


def _shown(key: str, value: Any) -> str:
    if key.rsplit(".", 1)[-1] in SECRET_KEYS and isinstance(value, str):
        return f"<secret, {len(value)} characters>"
    if isinstance(value, Mapping):  # may hold credentials: show its shape only
        return f"<object with keys {', '.join(sorted(map(str, value)))}>"
    if isinstance(value, (list, tuple)) and value:
        return f"<list of {len(value)} items>"
    return repr(value)


def _fail(key: str, value: Any, allowed: str) -> ValueError:
    return ValueError(f"{key}: {_shown(key, value)} is not allowed: {allowed}")


def _duration(key: str, value: Any, *, positive: bool) -> str:
    if not is_duration(value) or (positive and not re.search(r"[1-9]", value)):
        raise _fail(key, value, f"{_DURATION_HELP}{', greater than zero' if positive else ''}")
    return value


def _url(key: str, value: Any) -> str:
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in value):
        raise _fail(key, value, "an http:// or https:// URL with a host")
    return value


def _string(key: str, value: Any, pattern: re.Pattern[str], allowed: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise _fail(key, value, allowed)
    return value


def _receiver(index: int, raw: Any, names: set[str]) -> dict:
    key = f"alertmanager.receivers[{index}]"
    if not isinstance(raw, Mapping):
        raise _fail(key, raw, "an object with name, type and the keys of its type")
    name = _string(f"{key}.name", raw.get("name"), _NAME_RE,
                   "a name of letters, digits, '_', '.' or '-', starting with a letter or digit")
    if name in names:
        raise _fail(f"{key}.name", name, "a name no other receiver has")
    names.add(name)
    kind = raw.get("type")
    if kind not in RECEIVER_TYPES:
        raise _fail(f"{key}.type", kind, f"one of {', '.join(RECEIVER_TYPES)}")
    allowed_keys = ("name", "type", *_REQUIRED[kind], *_OPTIONAL[kind])
    for extra in sorted(set(raw) - set(allowed_keys), key=str):
        # The value is not shown: a misspelt key may well hold a credential.
        raise ValueError(f"{key}.{extra}: not a key of a {kind} receiver; its keys: {', '.join(allowed_keys)}")
    for required in _REQUIRED[kind]:
        if raw.get(required) is None:
            raise ValueError(f"{key}.{required}: missing, and required for a {kind} receiver "
                             f"(keys: {', '.join(_REQUIRED[kind])})")

    if kind == "webhook":
        config: dict[str, Any] = {"url": _url(f"{key}.url", raw["url"]), "send_resolved": True}
        return {"name": name, "webhook_configs": [config]}

    if kind == "slack":
        channel = _string(f"{key}.channel", raw["channel"], re.compile(r"\S+"),
                          "a Slack channel such as #alerts (no spaces)")
        config = {"api_url": _url(f"{key}.api_url", raw["api_url"]), "channel": channel,
                  "send_resolved": True, "title": _SLACK_TITLE, "text": _SLACK_TEXT}
        return {"name": name, "slack_configs": [config]}

    # email
    to = raw["to"]
    if not isinstance(to, str) or not all(_ADDRESS_RE.fullmatch(part.strip()) for part in to.split(",")):
        raise _fail(f"{key}.to", to, "one email address, or several separated by commas")
    sender = _string(f"{key}.from", raw["from"], _FROM_RE,
                     "an email address such as alerts@example.com or 'Alerts <alerts@example.com>'")
    smarthost = raw["smarthost"]
    match = _HOSTPORT_RE.fullmatch(smarthost) if isinstance(smarthost, str) else None
    if not match or not 1 <= int(match.group(2)) <= 65535:
        raise _fail(f"{key}.smarthost", smarthost, "host:port of the SMTP server, port 1-65535, e.g. smtp.example.com:587")
    config = {"to": to, "from": sender, "smarthost": smarthost}
    username, password = raw.get("auth_username"), raw.get("auth_password")
    for field, value, other in (("auth_username", username, password), ("auth_password", password, username)):
        if value is None and other is not None:
            raise ValueError(f"{key}.{field}: missing: auth_username and auth_password go together")
        if value is not None and (not isinstance(value, str) or not value):
            raise _fail(f"{key}.{field}", value, "a non-empty string")
    if username is not None:
        config["auth_username"] = username
        config["auth_password"] = password
    if raw.get("require_tls") is not None:
        if not isinstance(raw["require_tls"], bool):
            raise _fail(f"{key}.require_tls", raw["require_tls"], "true or false")
        config["require_tls"] = raw["require_tls"]
    return {"name": name, "email_configs": [config]}


def render_alertmanager_config(
    *,
    receivers: Sequence[Mapping[str, Any]],
    group_wait: str = "30s",
    group_interval: str = "5m",
    repeat_interval: str = "4h",
    group_by: Sequence[str] = ("alertname", "job"),
) -> str:
    """Return alertmanager.yml text routing every alert to every receiver.

    Each receiver is {"name", "type": "webhook"|"email"|"slack", ...}: webhook `url`;
    email `to`, `from`, `smarthost` (host:port) and optional `auth_username` +
    `auth_password`, `require_tls`; slack `api_url`, `channel`. Raises ValueError naming
    the key (e.g. `alertmanager.receivers[1].type`), the value and what is allowed.
    """
    if isinstance(receivers, (str, bytes, Mapping)) or not isinstance(receivers, Sequence) or not receivers:
        raise _fail("alertmanager.receivers", receivers, "a list of at least one receiver")
    names: set[str] = set()
    rendered = [_receiver(i, raw, names) for i, raw in enumerate(receivers)]

    if isinstance(group_by, (str, bytes)) or not isinstance(group_by, Sequence):
        raise _fail("group_by", group_by, "a list of label names, or ['...'] to group by all labels")
    labels = list(group_by)
    if labels != ["..."]:
        for i, label in enumerate(labels):
            _string(f"group_by[{i}]", label, _LABEL_RE, "a label name such as alertname, or '...' alone")
        if len(set(labels)) != len(labels):
            raise _fail("group_by", group_by, "label names listed once each")

    route: dict[str, Any] = {
        "receiver": rendered[0]["name"],
        "group_by": labels,
        "group_wait": _duration("group_wait", group_wait, positive=False),
        "group_interval": _duration("group_interval", group_interval, positive=True),
        "repeat_interval": _duration("repeat_interval", repeat_interval, positive=True),
        "routes": [{"receiver": r["name"], "continue": True} for r in rendered],
    }
    config = {
        "global": {"resolve_timeout": "5m"},
        "route": route,
        "inhibit_rules": [dict(rule) for rule in INHIBIT_RULES],
        "receivers": rendered,
    }
    header = ("# alertmanager.yml rendered by components/alertmanager_config.py.\n"
              "# It holds receiver credentials: keep it secret.\n")
    return header + yaml.dump(config, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True,
                              width=1000)


class _Dumper(yaml.SafeDumper):
    """SafeDumper that writes multi-line strings (the Slack text template) as `|` blocks."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_Dumper.add_representer(str, _represent_str)
