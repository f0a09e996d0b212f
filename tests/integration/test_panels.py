"""Every query of every panel of the four dashboards returns at least one series,
as a range query (last 5 minutes) and as an instant query, with Grafana's variables filled in."""

from __future__ import annotations

import dataclasses

import pytest

from .panels import evaluate, without_zero_fallback


@pytest.mark.parametrize("mode", ["range", "instant"])
def test_panel_query_returns_data(prometheus_ready, panel_query, mode):
    result = evaluate(prometheus_ready, panel_query, mode=mode, range_s=300, step_s=10)
    assert result.error is None, (
        f"dashboard {panel_query.dashboard!r}, panel {panel_query.panel!r}, refId {panel_query.ref_id}: "
        f"{mode} query failed: {result.error}\n  {result.promql}"
    )
    assert result.series > 0, (
        f"dashboard {panel_query.dashboard!r}, panel {panel_query.panel!r}, refId {panel_query.ref_id}: "
        f"{mode} query returned no series\n  {result.promql}"
    )


@pytest.mark.parametrize("mode", ["range", "instant"])
def test_panel_query_has_data_beyond_its_zero_fallback(prometheus_ready, fallback_query, mode):
    """`X or on() vector(0)` always answers, even when X names a metric that does not exist:
    check X alone has data (the workload produces every kind of event)."""
    core = dataclasses.replace(fallback_query, expr=without_zero_fallback(fallback_query.expr))
    result = evaluate(prometheus_ready, core, mode=mode, range_s=300, step_s=10)
    assert result.error is None, f"{fallback_query.id} without its fallback: {result.error}\n  {result.promql}"
    assert result.series > 0, (
        f"dashboard {fallback_query.dashboard!r}, panel {fallback_query.panel!r}, refId {fallback_query.ref_id}: "
        f"only the zero fallback answers ({mode})\n  {result.promql}"
    )
