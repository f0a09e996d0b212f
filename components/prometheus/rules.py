"""The Prometheus rule files under `rules/`, as text ready to upload.

Plain Python, no Pulumi import: the Prometheus package's loader of the rule files in `rules/`.
`load_rule_files()` returns the files as they are in the repository;
`load_rule_files(for_override="5s")` returns them with every alert's `for:` replaced, which is
how the end-to-end alert test gets fast alerts through configuration instead of editing the files;
`load_rule_files(links=AlertLinks(...))` adds every alert's `runbook_url` and `dashboard_url`
annotations (from `alert_links.ALERT_DASHBOARDS`), which is what the stack uploads. The files in
`rules/` carry neither link, so `promtool test rules` runs on them as they are.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml

from components.prometheus.alert_links import AlertLinks
from components.types import DURATION_HELP, NotAllowed, duration_ms
from components.yaml_text import dump_yaml

RULES_DIR = Path(__file__).resolve().parents[2] / "rules"


def rule_file_paths() -> list[Path]:
    """The rule files (`rules/*.yml`, not the tests in `rules/tests/`), sorted by name."""
    return sorted(p for p in RULES_DIR.glob("*.yml") if p.is_file())


def rule_entries(kind: str) -> list[dict[str, Any]]:
    """Every rule of every rule file that has `kind` (`alert` or `record`), in file order."""
    found: list[dict[str, Any]] = []
    for path in rule_file_paths():
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]:
            found += [rule for rule in group["rules"] if kind in rule]
    return found


def load_rule_files(for_override: str | None = None, links: AlertLinks | None = None) -> dict[str, str]:
    """Return {file name: YAML text} for every rule file, in name order.

    With `for_override`, every alerting rule's `for:` is set to that duration (added
    where an alert has none); with `links`, every alert gets its `runbook_url` and
    `dashboard_url` annotations. Recording rules are unchanged. Raises ValueError when
    `for_override` is not a Prometheus duration, or an alert has no entry in
    ALERT_DASHBOARDS or already sets one of the link annotations itself.
    """
    if for_override is not None:
        try:
            duration_ms(for_override)
        except NotAllowed:
            raise ValueError(f"for_override: {for_override!r} is not allowed: {DURATION_HELP}") from None
    files: dict[str, str] = {}
    for path in rule_file_paths():
        text = path.read_text(encoding="utf-8")
        if for_override is not None or links is not None:
            text = _render(path.name, text, for_override, links)
        files[path.name] = text
    return files


# Pure in its hashable arguments (the file's text among them): runs under mocks render the same files again.
@functools.lru_cache(maxsize=32)
def _render(name: str, text: str, duration: str | None, links: AlertLinks | None) -> str:
    doc = yaml.safe_load(text) or {}
    groups = doc.get("groups") if isinstance(doc, dict) else None
    if not isinstance(groups, list):
        raise ValueError(f"rules/{name}: not a Prometheus rule file (no groups list)")
    alerts = [rule for group in groups for rule in (group.get("rules") or []) if "alert" in rule]
    if not alerts:
        return text  # recording rules only: nothing to change
    changes = []
    if duration is not None:
        changes.append(f"every alert's `for:` set to {duration}")
        for rule in alerts:
            rule["for"] = duration
    if links is not None:
        changes.append("runbook_url and dashboard_url added to every alert")
        for rule in alerts:
            added = links.annotations(rule["alert"], f"rules/{name}")
            annotations = rule.setdefault("annotations", {})
            if set(annotations) & set(added):
                # One home: the links come from alert_links.py, never from the YAML.
                raise ValueError(f"rules/{name}: alert {rule['alert']!r} sets {sorted(set(annotations) & set(added))} "
                                 f"itself; the program adds them (components/prometheus/alert_links.py)")
            annotations.update(added)
    header = f"# Generated from rules/{name} with {' and '.join(changes)}.\n"
    return header + dump_yaml(doc)
