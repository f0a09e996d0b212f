"""Which targets each fixed job scrapes: the stack's own services, then the configured extra
ones (other hosts, servers, app processes) with their labels. Plain Python, no Pulumi import:
the program and the tests assemble `prometheus.yml`'s targets the same way."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from components.config import StackConfig
from components.exporters.table import EXPORTER_NAMES


def scrape_targets(cfg: StackConfig, *, prometheus: Any, grafana: Any, exporters: Mapping[str, Any],
                   demo_django: Any | None = None) -> dict[str, list[Any]]:
    """job -> targets for render_prometheus_config. `exporters` maps an enabled exporter to its
    own target; `demo_django` (demo mode) replaces the configured Django targets."""
    def configured(job: str) -> list[Any]:
        return [{"address": t.address, "labels": t.rendered_labels()} for t in cfg.targets.of(job)]

    return {
        "prometheus": [prometheus],
        "grafana": [grafana],
        "django": [demo_django] if demo_django is not None else configured("django"),
        **{job: ([exporters[job]] if job in exporters else []) + configured(job) for job in EXPORTER_NAMES},
    }
