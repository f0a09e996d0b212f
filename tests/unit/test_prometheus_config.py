"""prometheus.yml renderer: fixed jobs, only those with targets, and `promtool check config`
(Debian's Prometheus 2.42 on the test machine) accepts what it renders."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from components.prometheus.config import JOB_NAMES, render_prometheus_config
from tests.tools import require_tool

INTERVALS = {"scrape_interval": "15s", "evaluation_interval": "30s", "scrape_timeout": "10s"}
EVERY_JOB = {
    "prometheus": ["localhost:9090"],
    "grafana": ["grafana:3000"],
    "node": ["node-exporter:9100"],
    "postgres": ["postgres-exporter:9187"],
    "redis": ["redis-exporter:9121"],
    "nginx": ["nginx-exporter:9113"],
    "django": ["web-1:8000", "web-2:8000"],
    "celery": ["flower:5555"],
    "blackbox": ["https://shop.example.com/", "http://web:8080/healthz"],
    "cadvisor": ["cadvisor:8080"],
}
PROBER = {"blackbox": "blackbox-exporter:9115"}
# Keys Prometheus 2.42 knows in each section it renders (a subset is all the renderer may use).
GLOBAL_KEYS_2_42 = {"scrape_interval", "scrape_timeout", "evaluation_interval", "external_labels",
                    "query_log_file", "body_size_limit", "sample_limit", "label_limit",
                    "label_name_length_limit", "label_value_length_limit", "target_limit"}
SCRAPE_KEYS_2_42 = {"job_name", "honor_labels", "honor_timestamps", "params", "scrape_interval",
                    "scrape_timeout", "metrics_path", "scheme", "static_configs", "relabel_configs",
                    "metric_relabel_configs", "sample_limit", "target_limit", "basic_auth", "tls_config",
                    "authorization", "follow_redirects", "enable_http2", "body_size_limit", "label_limit"}
# Prometheus 3 only: 2.42 rejects them as unknown fields.
PROMETHEUS_3_ONLY = ("scrape_protocols", "fallback_scrape_protocol", "metric_name_validation_scheme",
                     "always_scrape_classic_histograms", "convert_classic_histograms_to_nhcb",
                     "scrape_failure_log_file", "rule_query_offset", "enable_compression", "runtime")


def render(**kwargs) -> str:
    return render_prometheus_config(**{**INTERVALS, **kwargs})


def parsed(**kwargs) -> dict:
    return yaml.safe_load(render(**kwargs))


def jobs(config: dict) -> list[str]:
    return [s["job_name"] for s in config.get("scrape_configs", [])]


# --------------------------------------------------------------------------- structure


def test_job_names_are_the_fixed_contract():
    # Rules and dashboards select on these names: the exporter table may add jobs, never rename these.
    assert set(JOB_NAMES) >= {"prometheus", "grafana", "node", "postgres", "redis", "nginx", "django", "celery",
                             "cadvisor"}
    assert len(set(JOB_NAMES)) == len(JOB_NAMES)


def test_only_jobs_with_targets_are_rendered():
    config = parsed(targets={"node": ["node:9100"], "redis": [], "django": ["django:8000"], "celery": ()})
    assert jobs(config) == ["django", "node"]


def test_no_targets_renders_no_jobs():
    config = parsed(targets={})
    assert config["scrape_configs"] == []


def test_jobs_in_fixed_order_whatever_the_order_given():
    reversed_targets = dict(reversed(list(EVERY_JOB.items())))
    assert list(reversed_targets)[0] == "cadvisor"
    assert jobs(parsed(targets=reversed_targets, probers=PROBER)) == list(JOB_NAMES)


def test_every_job_rendered_with_its_targets_and_metrics_path():
    config = parsed(targets=EVERY_JOB, probers=PROBER)
    assert jobs(config) == list(JOB_NAMES)
    for scrape in config["scrape_configs"]:
        job = scrape["job_name"]
        if job in PROBER:
            continue
        assert scrape["metrics_path"] == "/metrics"
        assert scrape["static_configs"] == [{"targets": EVERY_JOB[job]}]


def test_a_prober_job_sends_each_url_to_the_prober():
    urls = [{"address": "https://shop.example.com/", "labels": {"instance": "shop"}},
            {"address": "http://web:8080/healthz", "labels": {"instance": "http://web:8080/healthz", "role": "site"}}]
    (scrape,) = parsed(targets={"blackbox": urls}, probers=PROBER)["scrape_configs"]
    assert scrape == {
        "job_name": "blackbox", "metrics_path": "/probe", "params": {"module": ["http_2xx"]},
        "static_configs": [{"targets": [u["address"]], "labels": u["labels"]} for u in urls],
        "relabel_configs": [{"source_labels": ["__address__"], "target_label": "__param_target"},
                            {"target_label": "__address__", "replacement": "blackbox-exporter:9115"}],
    }


def test_a_prober_job_without_its_prober_is_left_out_and_its_targets_must_be_urls():
    assert jobs(parsed(targets={"node": ["n:1"], "blackbox": ["https://a.example/"]})) == ["node"]
    with pytest.raises(ValueError, match="targets.blackbox"):
        render(targets={"blackbox": ["a.example:443"]}, probers=PROBER)
    with pytest.raises(ValueError, match="not prober jobs"):
        render(targets={"node": ["n:1"]}, probers={"node": "n:1"})


def test_intervals_and_timeout_in_global():
    config = parsed(scrape_interval="1m", evaluation_interval="2m", scrape_timeout="45s", targets={"node": ["n:1"]})
    assert config["global"] == {"scrape_interval": "1m", "evaluation_interval": "2m", "scrape_timeout": "45s"}
    for scrape in config["scrape_configs"]:  # per-job overrides would hide the configured values
        assert "scrape_interval" not in scrape and "scrape_timeout" not in scrape


def test_top_level_sections_without_rules_or_alerting():
    config = parsed(targets={"node": ["n:1"]})
    assert list(config) == ["global", "scrape_configs"]


def test_empty_rule_files_and_alertmanagers_render_no_sections():
    config = parsed(targets={"node": ["n:1"]}, rule_files=[], alertmanager_targets=())
    assert "rule_files" not in config and "alerting" not in config


def test_rule_files_when_given():
    config = parsed(targets={"node": ["n:1"]}, rule_files=("rules/a.yml", "rules/b.yml"))
    assert config["rule_files"] == ["rules/a.yml", "rules/b.yml"]
    assert "alerting" not in config


def test_alerting_when_given():
    config = parsed(targets={"node": ["n:1"]}, alertmanager_targets=["alertmanager:9093"])
    assert config["alerting"] == {"alertmanagers": [{"static_configs": [{"targets": ["alertmanager:9093"]}]}]}
    assert "rule_files" not in config


def test_unknown_job_name_raises_value_error_naming_it():
    with pytest.raises(ValueError, match="mysql"):
        render(targets={"node": ["n:1"], "mysql": ["db:9104"]})


def test_every_unknown_job_named():
    with pytest.raises(ValueError) as info:
        render(targets={"Node": ["n:1"], "flower": ["f:5555"]})
    assert "Node" in str(info.value) and "flower" in str(info.value)


def test_unknown_job_rejected_even_without_targets():
    with pytest.raises(ValueError, match="celery_exporter"):
        render(targets={"celery_exporter": []})


def test_output_is_yaml_with_string_targets_and_no_aliases():
    shared = ["shared:9000"]
    text = render(targets={"node": shared, "nginx": shared}, rule_files=["r.yml"],
                  alertmanager_targets=["am:9093"])
    assert "&id" not in text and "*id" not in text  # no YAML anchors/aliases
    config = yaml.safe_load(text)
    assert isinstance(config, dict)
    for scrape in config["scrape_configs"]:
        for target in scrape["static_configs"][0]["targets"]:
            assert isinstance(target, str)


def test_targets_not_mutated_and_tuples_accepted():
    targets = {"node": ("n:1", "n:2")}
    assert parsed(targets=targets)["scrape_configs"][0]["static_configs"] == [{"targets": ["n:1", "n:2"]}]
    assert targets == {"node": ("n:1", "n:2")}


def test_no_key_prometheus_2_42_would_reject():
    config = parsed(targets=EVERY_JOB, rule_files=["rules/x.yml"], alertmanager_targets=["am:9093"])
    assert set(config) <= {"global", "rule_files", "alerting", "scrape_configs"}
    assert set(config["global"]) <= GLOBAL_KEYS_2_42
    for scrape in config["scrape_configs"]:
        assert set(scrape) <= SCRAPE_KEYS_2_42
    text = render(targets=EVERY_JOB, rule_files=["rules/x.yml"], alertmanager_targets=["am:9093"])
    for key in PROMETHEUS_3_ONLY:
        assert key not in text


# --------------------------------------------------------------------------- promtool

PROMTOOL_CANDIDATES = ("promtool", "/usr/bin/promtool")


def find_promtool(candidates=PROMTOOL_CANDIDATES) -> str:
    """Path of promtool; skips locally when missing (naming the package), fails on CI."""
    return require_tool("promtool", "prometheus", candidates)

def test_missing_promtool_skips_locally(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="`prometheus`"):
        find_promtool(("/nonexistent/promtool",))


def test_missing_promtool_fails_on_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="`prometheus`"):
        find_promtool(("/nonexistent/promtool",))


RULES = """\
groups:
  - name: test
    rules:
      - alert: TargetDown
        expr: up == 0
        for: 5m
"""


def promtool_check(tmp_path, text: str) -> subprocess.CompletedProcess:
    path = tmp_path / "prometheus.yml"
    path.write_text(text)
    return subprocess.run([find_promtool(), "check", "config", str(path)], capture_output=True, text=True,
                          timeout=60, cwd=tmp_path)


def test_promtool_accepts_config_with_every_job_rules_and_alerting(tmp_path):
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "alerts.yml").write_text(RULES)
    text = render(targets=EVERY_JOB, rule_files=["rules/alerts.yml"], alertmanager_targets=["alertmanager:9093"],
                  probers=PROBER)
    assert jobs(yaml.safe_load(text)) == list(JOB_NAMES)
    result = promtool_check(tmp_path, text)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout + result.stderr


def test_promtool_accepts_config_from_stack_defaults(tmp_path):
    from components.config import load_config

    cfg = load_config({"demo": "true"}).prometheus
    text = render_prometheus_config(scrape_interval=cfg.scrape_interval, evaluation_interval=cfg.evaluation_interval,
                                    scrape_timeout=cfg.scrape_timeout,
                                    targets={"prometheus": ["127.0.0.1:9090"], "node": ["[::1]:9100"]})
    result = promtool_check(tmp_path, text)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_check_is_real_it_rejects_timeout_longer_than_interval(tmp_path):
    # Negative control: proves the promtool step can fail on a config Prometheus rejects.
    text = render_prometheus_config(scrape_interval="15s", evaluation_interval="15s", scrape_timeout="20s",
                                    targets={"node": ["n:9100"]})
    result = promtool_check(tmp_path, text)
    assert result.returncode != 0
    assert "timeout" in (result.stdout + result.stderr).lower()
