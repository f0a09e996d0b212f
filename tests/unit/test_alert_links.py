"""Every alert links somewhere useful: its runbook section (docs/runbooks.md) and its dashboard.

The runbook checks follow each rendered `runbook_url` into the document through GitHub's own
heading-anchor rules (written out here, not taken from alert_links.py), so an alert added to
rules/ without a section fails here.
"""

from __future__ import annotations

import re
import subprocess
import unicodedata
from pathlib import Path

import pytest
import yaml

from components.prometheus import rules as rules_module
from components.prometheus.alert_links import (
    ALERT_DASHBOARDS,
    NOT_ANNOTATED,
    RUNBOOK_PATH,
    AlertLinks,
    annotated_alerts,
)
from components.prometheus.rules import load_rule_files, rule_entries
from dashboards import DASHBOARD_UIDS
from tests.tools import require_tool

REPO_ROOT = Path(__file__).resolve().parents[2]
RUNBOOK = REPO_ROOT / RUNBOOK_PATH
ALERT_NAMES = [rule["alert"] for rule in rule_entries("alert")]
PARTS = ("What it means.", "First checks.", "Usual fixes.")
GRAFANA = "http://127.0.0.1:3000/"


def github_anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation but `-` and `_` dropped, spaces to `-`."""
    text = unicodedata.normalize("NFKC", heading).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def sections(text: str) -> dict[str, tuple[str, str]]:
    """anchor -> (heading, body) of every `## ` section (duplicates get GitHub's -1, -2 suffixes)."""
    found: dict[str, tuple[str, str]] = {}
    parts = re.split(r"^## +(.+?)\s*$", text, flags=re.MULTILINE)
    for heading, body in zip(parts[1::2], parts[2::2], strict=True):
        anchor, n = github_anchor(heading), 0
        while anchor in found:
            n += 1
            anchor = f"{github_anchor(heading)}-{n}"
        found[anchor] = (heading, body)
    return found


def runbook_problems(text: str, alerts: list[str]) -> list[str]:
    """What is wrong with the runbook document for these alerts (empty: nothing)."""
    problems = []
    by_heading = {heading: body for heading, body in sections(text).values()}
    for alert in alerts:
        body = by_heading.get(alert)
        if body is None:
            problems.append(f"{alert}: no `## {alert}` section in {RUNBOOK_PATH}")
            continue
        for part in PARTS:
            label = f"**{part}**"
            if body.count(label) != 1:
                problems.append(f"{alert}: section has {body.count(label)} {label!r} (one expected)")
        checks = body.split("**First checks.**", 1)[-1].split("**Usual fixes.**", 1)[0]
        if "`" not in checks:
            problems.append(f"{alert}: first checks name no query or command (`...`)")
        for paragraph in re.split(r"\*\*(?:What it means|First checks|Usual fixes)\.\*\*", body)[1:]:
            if len(paragraph.split()) < 15:
                problems.append(f"{alert}: a part of its section has fewer than 15 words")
    stale = sorted(set(by_heading) - set(alerts))
    if stale:
        problems.append(f"sections for alerts that do not exist: {stale}")
    return problems


@pytest.fixture(scope="module")
def runbook_text() -> str:
    return RUNBOOK.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def rendered() -> dict[str, str]:
    return load_rule_files(links=AlertLinks(runbook_url=RUNBOOK_PATH, grafana_url=GRAFANA))


def rendered_alerts(files: dict[str, str]) -> dict[str, dict]:
    return {rule["alert"]: rule for text in files.values() for group in yaml.safe_load(text)["groups"]
            for rule in group["rules"] if "alert" in rule}


# --- the table ----------------------------------------------------------------------------------


def test_table_names_exactly_the_alerts_of_the_rule_files():
    assert sorted(ALERT_DASHBOARDS) == sorted(ALERT_NAMES)
    assert set(ALERT_DASHBOARDS) >= NOT_ANNOTATED


@pytest.mark.parametrize("alert", sorted(ALERT_DASHBOARDS))
def test_every_dashboard_of_the_table_exists(alert: str):
    shown = ALERT_DASHBOARDS[alert]
    assert shown.link in DASHBOARD_UIDS, (alert, shown.link)
    assert set(shown.also) <= set(DASHBOARD_UIDS), (alert, shown.also)
    assert shown.link not in shown.also and len(set(shown.also)) == len(shown.also), alert


def test_annotated_alerts_per_dashboard():
    assert annotated_alerts("containers") == ("ContainerMemoryNearLimit", "ContainerRestartLoop")
    assert annotated_alerts("system-overview") == ("DjangoDown", "DjangoHighErrorRate", "DjangoHighLatencyP95",
                                                   "PostgresDown", "PostgresTooManyConnections")
    assert "Watchdog" not in {a for uid in DASHBOARD_UIDS for a in annotated_alerts(uid)}
    assert annotated_alerts("no-such-dashboard") == ()
    # Every alert but the Watchdog marks at least its own dashboard.
    marked = {a for uid in DASHBOARD_UIDS for a in annotated_alerts(uid)}
    assert marked == set(ALERT_NAMES) - NOT_ANNOTATED


# --- the runbook document -----------------------------------------------------------------------


def test_runbook_has_a_written_section_per_alert(runbook_text: str):
    assert runbook_problems(runbook_text, ALERT_NAMES) == []


def test_runbook_sections_are_not_boilerplate(runbook_text: str):
    bodies = {heading: body for heading, body in sections(runbook_text).values()}
    meanings = [bodies[a].split("**First checks.**")[0] for a in ALERT_NAMES]
    assert len(set(meanings)) == len(meanings)
    for alert in ALERT_NAMES:
        lines = [line.strip() for line in bodies[alert].splitlines() if len(line.strip()) > 40]
        others = {line.strip() for a in ALERT_NAMES if a != alert for line in bodies[a].splitlines()}
        # Most of a section's lines are its own.
        assert sum(line not in others for line in lines) >= len(lines) * 0.8, alert


def test_runbook_check_catches_a_missing_or_hollow_section(runbook_text: str):
    without = re.sub(r"^## RedisDown\n.*?(?=^## )", "", runbook_text, flags=re.MULTILINE | re.DOTALL)
    assert runbook_problems(without, ALERT_NAMES) == [f"RedisDown: no `## RedisDown` section in {RUNBOOK_PATH}"]
    hollow = runbook_text + "\n## NewCeleryAlert\n\n**What it means.** TODO\n"
    problems = runbook_problems(hollow, [*ALERT_NAMES, "NewCeleryAlert"])
    assert "NewCeleryAlert: section has 0 '**First checks.**' (one expected)" in problems
    assert "NewCeleryAlert: a part of its section has fewer than 15 words" in problems
    assert runbook_problems(runbook_text, [a for a in ALERT_NAMES if a != "Watchdog"]) == \
        ["sections for alerts that do not exist: ['Watchdog']"]


def test_github_anchor_rules():
    assert github_anchor("HostHighCpuUsage") == "hosthighcpuusage"
    assert github_anchor("Alert links: runbooks, dashboards") == "alert-links-runbooks-dashboards"
    assert list(sections("## A\nx\n## A\ny\n")) == ["a", "a-1"]


# --- the rendered rule files --------------------------------------------------------------------


@pytest.mark.parametrize("alert", ALERT_NAMES)
def test_runbook_url_leads_to_the_alerts_section(rendered: dict[str, str], runbook_text: str, alert: str):
    url = rendered_alerts(rendered)[alert]["annotations"]["runbook_url"]
    path, _, anchor = url.partition("#")
    assert (REPO_ROOT / path).resolve() == RUNBOOK.resolve()
    heading, body = sections(runbook_text)[anchor]
    assert heading == alert
    assert "**What it means.**" in body


@pytest.mark.parametrize("alert", ALERT_NAMES)
def test_dashboard_url_names_the_alerts_dashboard(rendered: dict[str, str], alert: str):
    url = rendered_alerts(rendered)[alert]["annotations"]["dashboard_url"]
    match = re.fullmatch(r"http://127\.0\.0\.1:3000/d/([a-z0-9-]+)", url)
    assert match, url
    assert match.group(1) in DASHBOARD_UIDS
    assert match.group(1) == ALERT_DASHBOARDS[alert].link


def test_links_change_nothing_else(rendered: dict[str, str]):
    raw = load_rule_files()
    assert rendered["recording.yml"] == raw["recording.yml"]
    assert rendered["alerts.yml"].startswith(
        "# Generated from rules/alerts.yml with runbook_url and dashboard_url added to every alert.\n")
    before = yaml.safe_load(raw["alerts.yml"])
    after = yaml.safe_load(rendered["alerts.yml"])
    for group_before, group_after in zip(before["groups"], after["groups"], strict=True):
        assert group_before["name"] == group_after["name"]
        for rule_before, rule_after in zip(group_before["rules"], group_after["rules"], strict=True):
            annotations = dict(rule_after["annotations"])
            assert set(annotations) - set(rule_before["annotations"]) == {"runbook_url", "dashboard_url"}
            del annotations["runbook_url"], annotations["dashboard_url"]
            assert {**rule_after, "annotations": annotations} == rule_before


def test_configured_bases():
    links = AlertLinks(runbook_url="https://git.example.com/acme/mon/blob/main/docs/runbooks.md",
                       grafana_url="https://ops.example.com/grafana")
    alerts = rendered_alerts(load_rule_files(links=links))
    assert alerts["PostgresDown"]["annotations"] == {
        **alerts["PostgresDown"]["annotations"],
        "runbook_url": "https://git.example.com/acme/mon/blob/main/docs/runbooks.md#postgresdown",
        "dashboard_url": "https://ops.example.com/grafana/d/infrastructure-health",
    }
    # A root URL with or without its trailing slash gives the same links.
    slash = AlertLinks(runbook_url=links.runbook_url, grafana_url="https://ops.example.com/grafana/")
    assert load_rule_files(links=slash) == load_rule_files(links=links)


def test_links_and_for_override_together():
    files = load_rule_files(for_override="1s", links=AlertLinks(runbook_url=RUNBOOK_PATH, grafana_url=GRAFANA))
    assert files["alerts.yml"].startswith("# Generated from rules/alerts.yml with every alert's `for:` set to 1s "
                                          "and runbook_url and dashboard_url added to every alert.\n")
    for alert in rendered_alerts(files).values():
        assert alert["for"] == "1s"
        assert alert["annotations"]["runbook_url"].startswith(f"{RUNBOOK_PATH}#")


@pytest.mark.parametrize("for_override", [None, "5s"])
def test_rendered_rules_pass_promtool(tmp_path: Path, for_override: str | None):
    promtool = require_tool("promtool", "prometheus")
    links = AlertLinks(runbook_url="https://git.example.com/r.md", grafana_url="https://grafana.example.com/")
    for name, text in load_rule_files(for_override=for_override, links=links).items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        result = subprocess.run([promtool, "check", "rules", str(tmp_path / name)], capture_output=True, text=True,
                                timeout=60)
        assert result.returncode == 0, result.stdout + result.stderr


def _rules_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, annotations: dict[str, str], alert: str) -> None:
    rule = {"alert": alert, "expr": "up == 0", "for": "1m", "labels": {"severity": "warning"},
            "annotations": annotations}
    (tmp_path / "alerts.yml").write_text(yaml.safe_dump({"groups": [{"name": "g", "rules": [rule]}]}))
    monkeypatch.setattr(rules_module, "RULES_DIR", tmp_path)


def test_an_alert_missing_from_the_table_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    _rules_dir(tmp_path, monkeypatch, {"summary": "s"}, "CeleryQueueTooLong")
    with pytest.raises(ValueError) as info:
        load_rule_files(links=AlertLinks(runbook_url=RUNBOOK_PATH, grafana_url=GRAFANA))
    assert str(info.value) == (
        "rules/alerts.yml: alert 'CeleryQueueTooLong' has no dashboard: add it to ALERT_DASHBOARDS in "
        "components/prometheus/alert_links.py (and its section to docs/runbooks.md)")
    # Without links the file loads as it is: only rendering needs the table.
    assert "CeleryQueueTooLong" in load_rule_files()["alerts.yml"]


def test_an_alert_setting_its_own_link_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    _rules_dir(tmp_path, monkeypatch, {"runbook_url": "https://elsewhere.example/"}, "RedisDown")
    with pytest.raises(ValueError) as info:
        load_rule_files(links=AlertLinks(runbook_url=RUNBOOK_PATH, grafana_url=GRAFANA))
    assert str(info.value) == ("rules/alerts.yml: alert 'RedisDown' sets ['runbook_url'] itself; the program adds "
                               "them (components/prometheus/alert_links.py)")
