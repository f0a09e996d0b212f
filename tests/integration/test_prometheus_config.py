"""The config Prometheus runs is the product's rendering, valid for promtool, and every target is up."""

from __future__ import annotations

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
    assert config.get("rule_files", []) == services.repo_rule_files()


def test_every_scrape_target_is_up(prometheus):
    active = services.wait_for_targets_up(prometheus, timeout=30)
    assert {t["labels"]["job"] for t in active} == JOBS


def test_rule_files_are_loaded(prometheus):
    if not services.repo_rule_files():
        return
    groups = prometheus.api("rules")["groups"]
    assert {g["file"] for g in groups} == set(services.repo_rule_files())
