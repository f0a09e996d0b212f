"""Grafana dashboards of the monitoring stack, as classic (v1) JSON models.

Pure Python (grafana-foundation-sdk builders); never imports pulumi.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping
from types import MappingProxyType

from . import (
    application_performance,
    celery,
    containers,
    database_performance,
    infrastructure_health,
    probes,
    system_overview,
)

_MODULES = (system_overview, application_performance, database_performance, infrastructure_health, containers, probes,
            celery)

DASHBOARD_UIDS: tuple[str, ...] = tuple(module.UID for module in _MODULES)


def build_dashboards() -> dict[str, dict]:
    """uid -> dashboard JSON model (plain dicts, no `id`), in DASHBOARD_UIDS order."""
    return {module.UID: module.build() for module in _MODULES}


def dashboard_json(model: dict) -> str:
    """Deterministic serialisation of a dashboard model."""
    return json.dumps(model, sort_keys=True, indent=2) + "\n"


# The dashboards take no input: built once per process, not again on every program run under mocks.
@functools.cache
def dashboard_texts() -> Mapping[str, str]:
    """uid -> dashboard_json of each model of build_dashboards (what the program uploads), read-only."""
    return MappingProxyType({uid: dashboard_json(model) for uid, model in build_dashboards().items()})


def iter_panel_queries(model: dict) -> Iterator[tuple[str, str, str]]:
    """Yield (panel_title, ref_id, expr) for every target of every panel (rows included)."""
    for panel in model.get("panels", []):
        for inner in [panel, *panel.get("panels", [])]:
            for target in inner.get("targets", []) or []:
                yield inner.get("title", ""), target.get("refId", ""), target.get("expr", "")


__all__ = ["DASHBOARD_UIDS", "build_dashboards", "dashboard_json", "dashboard_texts", "iter_panel_queries"]
