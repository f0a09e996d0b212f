"""The config Prometheus runs is the product's rendering, valid for promtool, and every target is up."""

from __future__ import annotations

from pathlib import Path

import yaml

from . import services

JOBS = {"prometheus", "node", "postgres", "redis", "nginx", "django", "celery", "blackbox"}


def test_promtool_check_config_passes_on_rendered_config(prometheus):
    out = services.promtool_check_config(prometheus.config_path)
    assert "SUCCESS" in out


def test_rendered_config_has_every_job_but_grafana_and_loads_rule_files(prometheus):
    config = yaml.safe_load(prometheus.config_text)
    jobs = {job["job_name"] for job in config["scrape_configs"]}
    assert jobs == JOBS
    targets = [t for job in config["scrape_configs"] for sc in job["static_configs"] for t in sc["targets"]]
    # host:port, and the prober's URLs (http and https) on loopback too
    assert all(t.split("://", 1)[-1].startswith("127.0.0.1:") for t in targets), targets
    # The repository's files, each group at the suite's evaluation interval.
    loaded = config.get("rule_files", [])
    assert [Path(f).name for f in loaded] == [Path(f).name for f in services.repo_rule_files()]
    for copy, source in zip(loaded, services.repo_rule_files(), strict=True):
        groups = yaml.safe_load(Path(source).read_text())["groups"]
        for group in groups:
            group.pop("interval", None)
        assert yaml.safe_load(Path(copy).read_text())["groups"] == groups


def test_every_scrape_target_is_up(prometheus):
    active = services.wait_for_targets_up(prometheus, timeout=30)
    assert {t["labels"]["job"] for t in active} == JOBS


def test_rule_files_are_loaded(prometheus):
    groups = prometheus.api("rules")["groups"]
    assert {g["file"] for g in groups} == set(yaml.safe_load(prometheus.config_text)["rule_files"])
    assert {Path(g["file"]).name for g in groups} == {Path(f).name for f in services.repo_rule_files()}
