"""Rule files: promtool checks and unit tests, conventions, and components.prometheus.rules."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from components import thresholds
from components.prometheus.rules import RULES_DIR, load_rule_files, rule_entries, rule_file_paths
from components.types import duration_ms
from tests.tools import require_tool

RULE_FILES = rule_file_paths()
TEST_FILES = sorted((RULES_DIR / "tests").glob("*.yml"))


def _promtool() -> str:
    return require_tool("promtool", "prometheus")

ALERTS = rule_entries("alert")
RECORDS = rule_entries("record")
# The dead man's switch: always firing, so no `for:`, no quiet case, no instance; checked on its own.
WATCHDOG = "Watchdog"
PAGED = [a for a in ALERTS if a["alert"] != WATCHDOG]


def test_rule_files_present():
    assert [p.name for p in RULE_FILES] == ["alerts.yml", "recording.yml"]
    assert TEST_FILES, "no promtool tests in rules/tests/"
    assert ALERTS and RECORDS


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: p.name)
def test_promtool_check_rules(path: Path):
    result = subprocess.run([_promtool(), "check", "rules", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", TEST_FILES, ids=lambda p: p.name)
def test_promtool_test_rules(path: Path):
    result = subprocess.run([_promtool(), "test", "rules", str(path)], capture_output=True, text=True,
                            timeout=120, cwd=path.parent)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", TEST_FILES, ids=lambda p: p.name)
def test_promtool_tests_load_every_rule_file(path: Path):
    test = yaml.safe_load(path.read_text(encoding="utf-8"))
    loaded = sorted((path.parent / f).resolve().name for f in test["rule_files"])
    assert loaded == [p.name for p in RULE_FILES]


@pytest.mark.parametrize("alert", PAGED, ids=lambda a: a["alert"])
def test_alert_has_for_severity_summary_description(alert: dict):
    assert duration_ms(alert.get("for")) > 0, f"{alert['alert']}: for: {alert.get('for')!r}"
    assert alert.get("labels", {}).get("severity") in ("critical", "warning")
    annotations = alert.get("annotations", {})
    for key in ("summary", "description"):
        assert isinstance(annotations.get(key), str) and len(annotations[key]) > 20, f"{alert['alert']}: {key}"
    # Says where: every description names the instance or job it is about.
    assert re.search(r"\{\{ \$labels\.(instance|job) \}\}", annotations["description"]), alert["alert"]


def test_watchdog_always_fires_for_the_heartbeat_alone():
    (watchdog,) = [a for a in ALERTS if a["alert"] == WATCHDOG]
    assert watchdog["expr"] == "vector(1)"
    assert "for" not in watchdog, "a for: only delays the first heartbeat after a restart"
    # `none`: no receiver's severities can list it (components.config.model.SEVERITIES).
    assert watchdog["labels"] == {"severity": "none"}
    for key in ("summary", "description"):
        assert len(watchdog["annotations"][key]) > 20, key


def test_alert_names_unique():
    names = [a["alert"] for a in ALERTS]
    assert len(names) == len(set(names))


def test_issue_alerts_exist():
    expected = {
        "HostHighCpuUsage", "HostHighMemoryUsage", "HostDiskAlmostFull", "HostDiskWillFillIn24Hours",
        "DjangoHighErrorRate", "DjangoHighLatencyP95", "PostgresLowCacheHitRatio", "PostgresTooManyConnections",
        "RedisMemoryNearMax", "DjangoDown", "PostgresDown", "RedisDown", "NginxDown", "CeleryNoWorkersOnline",
        "CeleryFlowerDown", "TargetDown", "PrometheusConfigReloadFailed", "PrometheusRuleEvaluationFailures",
        "PrometheusRemoteWriteFailing", "PrometheusRemoteWriteBehind", "Watchdog",
        "ProbeFailed", "ProbeSlow", "ProbeCertificateExpiresIn14Days", "ProbeCertificateExpiresIn3Days",
        "ContainerMemoryNearLimit", "ContainerRestartLoop",
        "CeleryHighTaskFailureRatio", "CeleryQueueBacklogGrowing", "CeleryWorkersNotTakingTasks",
    }
    assert {a["alert"] for a in ALERTS} == expected


def test_record_names_follow_convention():
    for rule in RECORDS:
        assert re.fullmatch(r"[a-z_]+:[a-z0-9_]+:[a-z0-9_]+", rule["record"]), rule["record"]
    assert len({r["record"] for r in RECORDS}) == len(RECORDS)


def test_rules_use_fixed_windows():
    for path in RULE_FILES:
        assert "$__" not in path.read_text(encoding="utf-8"), f"{path.name} uses a Grafana variable"


def _promtool_cases() -> tuple[set[str], set[str], set[str]]:
    firing, quiet, exprs = set(), set(), set()
    for path in TEST_FILES:
        for case in yaml.safe_load(path.read_text(encoding="utf-8"))["tests"]:
            for check in case.get("alert_rule_test") or []:
                (firing if check.get("exp_alerts") else quiet).add(check["alertname"])
            exprs.update(check["expr"] for check in case.get("promql_expr_test") or [])
    return firing, quiet, exprs


def _firing_cases() -> list[tuple[str, str, dict]]:
    """(alert name, eval_time, expected alert) of every firing promtool case."""
    found = []
    for path in TEST_FILES:
        for case in yaml.safe_load(path.read_text(encoding="utf-8"))["tests"]:
            for check in case.get("alert_rule_test") or []:
                found += [(check["alertname"], str(check["eval_time"]), alert) for alert in check.get("exp_alerts")
                          or []]
    return found


@pytest.mark.parametrize("alert", PAGED, ids=lambda a: a["alert"])
def test_every_alert_has_firing_and_quiet_case(alert: dict):
    firing, quiet, _ = _promtool_cases()
    assert alert["alert"] in firing, f"no promtool case where {alert['alert']} fires"
    assert alert["alert"] in quiet, f"no promtool case where {alert['alert']} does not fire (exp_alerts: [])"


def test_watchdog_fires_from_the_first_evaluation_and_keeps_firing():
    # Its promtool cases: firing at 0m (no `for:`) and much later; a quiet case cannot exist.
    _, quiet, _ = _promtool_cases()
    times = {eval_time for name, eval_time, _ in _firing_cases() if name == WATCHDOG}
    assert {"0m", "1d"} <= times, times
    assert WATCHDOG not in quiet


def test_every_firing_case_names_an_instance():
    # The critical-inhibits-warning rule is `equal: [environment, instance]`, and Alertmanager
    # takes two missing labels as equal: an alert without `instance` would inhibit far too much.
    without = sorted({name for name, _, alert in _firing_cases()
                      if name != WATCHDOG and not alert.get("exp_labels", {}).get("instance")})
    assert not without, f"alerts firing without an instance label: {without}"


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: r["record"])
def test_every_recording_rule_tested(record: dict):
    _, _, exprs = _promtool_cases()
    assert record["record"] in exprs, f"no promql_expr_test for {record['record']}"


# components.prometheus.rules ---------------------------------------------------------------------


def test_load_rule_files_as_in_repository():
    files = load_rule_files()
    assert list(files) == ["alerts.yml", "recording.yml"]
    for name, text in files.items():
        assert text == (RULES_DIR / name).read_text(encoding="utf-8")


def test_an_edited_rule_file_is_rendered_anew(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # The rendering is memoised on the file's text, not its name: an edit between runs shows.
    from components.prometheus import rules as rules_module

    monkeypatch.setattr(rules_module, "RULES_DIR", tmp_path)
    rule = {"alert": "RedisDown", "expr": "redis_up == 0", "labels": {"severity": "critical"}}
    for expr in ("redis_up == 0", "redis_up < 1", "redis_up == 0"):
        (tmp_path / "alerts.yml").write_text(yaml.safe_dump({"groups": [{"name": "g", "rules": [{**rule, "expr": expr}]}]}))
        rendered = yaml.safe_load(load_rule_files(for_override="5s")["alerts.yml"])
        assert rendered["groups"][0]["rules"][0] == {**rule, "expr": expr, "for": "5s"}


@pytest.mark.parametrize("override", ["5s", "1m30s", "500ms", "0s", "0", "2h"])
def test_for_override_replaces_every_for(override: str):
    files = load_rule_files(for_override=override)
    assert files == load_rule_files(for_override=override)  # deterministic
    assert list(files) == ["alerts.yml", "recording.yml"]
    original = {name: yaml.safe_load(text) for name, text in load_rule_files().items()}
    changed = {name: yaml.safe_load(text) for name, text in files.items()}
    seen = 0
    for name in files:
        for group_before, group_after in zip(original[name]["groups"], changed[name]["groups"], strict=True):
            for before, after in zip(group_before["rules"], group_after["rules"], strict=True):
                if "alert" in before:
                    seen += 1
                    assert after["for"] == override
                    assert {k: v for k, v in after.items() if k != "for"} == \
                           {k: v for k, v in before.items() if k != "for"}
                else:
                    assert after == before
    assert seen == len(ALERTS)


def test_overridden_rules_pass_promtool(tmp_path: Path):
    promtool = _promtool()
    for name, text in load_rule_files(for_override="5s").items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        result = subprocess.run([promtool, "check", "rules", str(tmp_path / name)], capture_output=True, text=True,
                                timeout=60)
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("bad", ["", "5", "5 s", "5sec", "1m5h", "-1m", "15days", "1.5m", 5, True])
def test_for_override_rejects_bad_duration(bad):
    with pytest.raises(ValueError) as info:
        load_rule_files(for_override=bad)
    message = str(info.value)
    assert message.startswith("for_override: ")
    assert repr(bad) in message
    assert "Prometheus duration" in message


# --- the dashboards' groups (recorded every 2 minutes for the time-series panels) -----------------

GROUPS = [group for path in RULE_FILES for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]]
DASHBOARD_GROUPS = [group for group in GROUPS if group["name"].endswith(".dashboards")]


def test_dashboard_groups_record_every_2_minutes_and_only_they_set_an_interval():
    assert {g["name"] for g in DASHBOARD_GROUPS} == {
        "node.dashboards", "django.dashboards", "postgres.dashboards", "redis.dashboards", "celery.dashboards",
        "containers.dashboards"}
    assert {g["name"]: g.get("interval") for g in GROUPS if "interval" in g} == {
        g["name"]: "2m" for g in DASHBOARD_GROUPS}


@pytest.mark.parametrize("path", TEST_FILES, ids=lambda p: p.name)
def test_promtool_tests_evaluate_on_every_dashboard_group_evaluation(path: Path):
    # promtool 2.42 evaluates every group at the test file's evaluation_interval, ignoring a group's own
    # `interval:`; 1m divides 2m, so a record tested at an even minute is what Prometheus records then.
    test = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert test["evaluation_interval"] == "1m"
    recorded = {rule["record"] for group in DASHBOARD_GROUPS for rule in group["rules"]}
    for case in test["tests"]:
        for check in case.get("promql_expr_test", []):
            if check["expr"] in recorded:
                assert duration_ms(check["eval_time"]) % duration_ms("2m") == 0, (check["expr"], check["eval_time"])


def test_panel_descriptions_state_the_dashboard_groups_interval():
    import dashboards

    stated = {m for model in dashboards.build_dashboards().values() for panel in model["panels"]
              for m in re.findall(r"[Rr]ecorded every ([^,.;)]*)", panel.get("description", ""))}
    assert stated == {"2 minutes"}


def _selector_of(expr: str, metric: str) -> str:
    match = re.search(rf"(?<![\w:]){metric}\{{([^}}]*)\}}", expr)
    assert match, f"{metric} not read with a selector in {expr}"
    return match.group(1)


@pytest.mark.parametrize(("metric", "selector"), [
    ("node_network_receive_bytes_total", thresholds.NET_DEV),
    ("node_network_transmit_bytes_total", thresholds.NET_DEV),
    ("node_filesystem_avail_bytes", thresholds.ROOT_FS),
    ("node_filesystem_size_bytes", thresholds.ROOT_FS),
    ("pg_stat_database_xact_commit", thresholds.PG_DB),
    ("pg_stat_database_blks_hit", thresholds.PG_DB),
    ("container_cpu_usage_seconds_total", thresholds.CONTAINERS),
    ("container_memory_working_set_bytes", thresholds.CONTAINERS),
])
def test_dashboard_records_use_the_shared_selectors(metric: str, selector: str):
    """The records select what the panels selected before them: components/thresholds.py's selectors."""
    reading = [rule for group in DASHBOARD_GROUPS for rule in group["rules"] if re.search(rf"\b{metric}\{{", rule["expr"])]
    assert reading, metric
    for rule in reading:
        assert _selector_of(rule["expr"], metric) == selector, rule["record"]
