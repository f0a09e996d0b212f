"""Unit tests for components/grafana/datasource.py (pure, no pulumi)."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.grafana.datasource import render_datasource_json_data

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_json_data_exact():
    # Key names as Grafana's Prometheus data source reads them (PromOptions).
    assert render_datasource_json_data("15s", "3.7.3") == {
        "httpMethod": "POST",
        "timeInterval": "15s",
        "queryTimeout": "60s",
        "prometheusType": "Prometheus",
        "prometheusVersion": "3.7.3",
        "cacheLevel": "High",
        "incrementalQuerying": True,
    }


def test_time_interval_follows_scrape_interval():
    # $__rate_interval is derived from timeInterval: it must be the real scrape interval.
    assert render_datasource_json_data("30s", "3.7.3")["timeInterval"] == "30s"
    assert render_datasource_json_data("5s", "2.42.0")["prometheusVersion"] == "2.42.0"


def test_image_tag_style_version_is_normalised():
    assert render_datasource_json_data("15s", "v3.7.3")["prometheusVersion"] == "3.7.3"


def test_incremental_querying_is_a_real_boolean():
    assert render_datasource_json_data("15s", "3.7.3")["incrementalQuerying"] is True


def test_returns_a_fresh_dict_each_call():
    first = render_datasource_json_data("15s", "3.7.3")
    first["httpMethod"] = "GET"
    assert render_datasource_json_data("15s", "3.7.3")["httpMethod"] == "POST"


@pytest.mark.parametrize(
    ("scrape_interval", "version"),
    [("", "3.7.3"), ("   ", "3.7.3"), ("15s", ""), (None, "3.7.3"), ("15s", None), ("15 seconds", "3.7.3"),
     ("15s\n", "3.7.3")],
)
def test_rejects_empty_values(scrape_interval, version):
    with pytest.raises(ValueError):
        render_datasource_json_data(scrape_interval, version)
