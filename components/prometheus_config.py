"""Renders `prometheus.yml`: one scrape job per fixed job name that has targets.

Plain Python, no Pulumi import. The same text runs in the stack's container (targets are
container names on the stack network) and in the integration tests (loopback targets).
The output stays within what both Prometheus 2.42 (the tests) and 3.x (the image) accept.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import yaml

# Job names are part of the product's contract: dashboards and rules select on them.
JOB_NAMES = ("prometheus", "grafana", "node", "postgres", "redis", "nginx", "django", "celery")
METRICS_PATHS = {job: "/metrics" for job in JOB_NAMES}


def render_prometheus_config(
    *,
    scrape_interval: str,
    evaluation_interval: str,
    scrape_timeout: str,
    targets: Mapping[str, Sequence[str]],
    rule_files: Sequence[str] = (),
    alertmanager_targets: Sequence[str] = (),
) -> str:
    """Return prometheus.yml text. `targets` maps job name -> host:port list."""
    unknown = sorted(set(targets) - set(JOB_NAMES))
    if unknown:
        raise ValueError(f"targets: unknown job name(s) {unknown}; allowed: {', '.join(JOB_NAMES)}")
    config: dict = {
        "global": {
            "scrape_interval": scrape_interval,
            "scrape_timeout": scrape_timeout,
            "evaluation_interval": evaluation_interval,
        },
    }
    if rule_files:
        config["rule_files"] = list(rule_files)
    if alertmanager_targets:
        config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": list(alertmanager_targets)}]}]}
    config["scrape_configs"] = [
        {
            "job_name": job,
            "metrics_path": METRICS_PATHS[job],
            "static_configs": [{"targets": list(targets[job])}],
        }
        for job in JOB_NAMES
        if targets.get(job)
    ]
    return yaml.safe_dump(config, sort_keys=False, default_flow_style=False)
