"""The Prometheus rule files under `rules/`, as text ready to upload.

Plain Python, no Pulumi import. `load_rule_files()` returns the files as they are in the
repository; `load_rule_files(for_override="5s")` returns them with every alert's `for:`
replaced, which is how the end-to-end alert test gets fast alerts through configuration
instead of editing the files.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

RULES_DIR = Path(__file__).resolve().parent.parent / "rules"

# Prometheus' duration syntax (units in this order, each at most once), as
# model.ParseDuration accepts it in Prometheus 2.x and 3.x. "0" alone is allowed too.
_DURATION_RE = re.compile(r"^(?:0|(?:\d+y)?(?:\d+w)?(?:\d+d)?(?:\d+h)?(?:\d+m)?(?:\d+s)?(?:\d+ms)?)$")
_DURATION_HELP = "a Prometheus duration such as 30s, 5m, 1h30m or 0 (units y, w, d, h, m, s, ms, in that order)"


def is_duration(value: Any) -> bool:
    """True when `value` is a non-empty Prometheus duration string."""
    return isinstance(value, str) and value != "" and _DURATION_RE.match(value) is not None


def rule_file_paths() -> list[Path]:
    """The rule files (`rules/*.yml`, not the tests in `rules/tests/`), sorted by name."""
    return sorted(p for p in RULES_DIR.glob("*.yml") if p.is_file())


def load_rule_files(for_override: str | None = None) -> dict[str, str]:
    """Return {file name: YAML text} for every rule file, in name order.

    With `for_override`, every alerting rule's `for:` is set to that duration (added
    where an alert has none); recording rules are unchanged. Raises ValueError when
    `for_override` is not a Prometheus duration.
    """
    if for_override is not None and not is_duration(for_override):
        raise ValueError(f"for_override: {for_override!r} is not allowed: {_DURATION_HELP}")
    files: dict[str, str] = {}
    for path in rule_file_paths():
        text = path.read_text(encoding="utf-8")
        if for_override is not None:
            text = _override_for(path.name, text, for_override)
        files[path.name] = text
    return files


def _override_for(name: str, text: str, duration: str) -> str:
    doc = yaml.safe_load(text) or {}
    groups = doc.get("groups") if isinstance(doc, dict) else None
    if not isinstance(groups, list):
        raise ValueError(f"rules/{name}: not a Prometheus rule file (no groups list)")
    alerts = [rule for group in groups for rule in (group.get("rules") or []) if "alert" in rule]
    if not alerts:
        return text  # recording rules only: nothing to change
    for rule in alerts:
        rule["for"] = duration
    header = f"# Generated from rules/{name} with every alert's `for:` set to {duration}.\n"
    return header + yaml.dump(doc, Dumper=_BlockDumper, sort_keys=False, default_flow_style=False,
                              allow_unicode=True, width=1000)


class _BlockDumper(yaml.SafeDumper):
    """SafeDumper that writes multi-line strings (PromQL expressions) as `|` blocks."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_BlockDumper.add_representer(str, _represent_str)
