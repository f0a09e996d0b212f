"""Which targets each fixed job scrapes: the stack's own services, then the configured extra
ones (other hosts, servers, app processes) with their labels. Plain Python, no Pulumi import:
the program and the tests assemble `prometheus.yml`'s targets the same way."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from components.config import StackConfig
from components.exporters.table import BY_NAME, EXPORTER_NAMES


def scrape_targets(cfg: StackConfig, *, prometheus: Any, grafana: Any, exporters: Mapping[str, Any],
                   demo_django: Any | None = None, demo_probes: Sequence[str] = ()) -> dict[str, list[Any]]:
    """job -> targets for render_prometheus_config. `exporters` maps an enabled exporter to its
    own target; `demo_django` (demo mode) replaces the configured Django targets. A prober's
    job (blackbox) lists the URLs it probes: `demo_probes` (the demo site), then the configured
    ones; a prober without a running exporter probes nothing."""
    def configured(job: str) -> list[Any]:
        return [{"address": t.address, "labels": t.rendered_labels()} for t in cfg.targets.of(job)]

    def probes(job: str) -> list[Any]:
        if job not in exporters:
            return []
        return [{"address": url, "labels": {"instance": url}} for url in demo_probes] + configured(job)

    return {
        "prometheus": [prometheus],
        "grafana": [grafana],
        "django": [demo_django] if demo_django is not None else configured("django"),
        **{job: probes(job) if BY_NAME[job].prober else
           ([exporters[job]] if job in exporters else []) + configured(job) for job in EXPORTER_NAMES},
    }


def prober_addresses(exporters: Mapping[str, Any]) -> dict[str, Any]:
    """job -> the address Prometheus sends a prober job's probes to (its running exporter)."""
    return {job: target for job, target in exporters.items() if BY_NAME[job].prober}
