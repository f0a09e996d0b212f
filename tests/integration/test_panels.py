"""Every query of every panel of the four dashboards returns at least one series,
as a range query (last 5 minutes) and as an instant query, with Grafana's variables filled in."""

from __future__ import annotations

import pytest

from .panels import evaluate


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
