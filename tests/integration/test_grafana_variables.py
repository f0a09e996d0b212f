"""Grafana's variable substitution as the panel checks do it (pure, no services needed)."""

from __future__ import annotations

import pytest

from .panels import grafana_rate_interval, substitute, without_zero_fallback


def test_rate_interval_is_at_least_four_scrapes_and_step_plus_scrape():
    assert grafana_rate_interval(step_s=2, scrape_s=2) == 8
    assert grafana_rate_interval(step_s=15, scrape_s=2) == 17
    assert grafana_rate_interval(step_s=15, scrape_s=15) == 60
    assert grafana_rate_interval(step_s=1, scrape_s=15) == 60  # $__interval never below the scrape interval


def test_substitute_fills_builtins_and_variables_and_keeps_promql_dollars():
    expr = ('label_replace(rate(x{ds="${datasource}"}[$__rate_interval]), "a", "$1", "b", "(.*)")'
            ' + $__interval_ms + count_over_time(y[$__interval]) + z[$__range]')
    out = substitute(expr, step_s=10, scrape_s=2, range_s=300, variables={"datasource": "prometheus"})
    assert out == ('label_replace(rate(x{ds="prometheus"}[12s]), "a", "$1", "b", "(.*)")'
                   ' + 10000 + count_over_time(y[10s]) + z[300s]')


def test_substitute_refuses_unknown_variables():
    with pytest.raises(ValueError, match="unresolved"):
        substitute("up{job=\"$job\"}", step_s=10, scrape_s=2, range_s=300, variables={})


def test_zero_fallback_is_stripped():
    assert without_zero_fallback("(sum(rate(a[1m]))) or on() vector(0)") == "(sum(rate(a[1m])))"
    assert without_zero_fallback(
        '(sum by (m) (b)) or on() label_replace(vector(0), "m", "(none yet)", "", "")') == "(sum by (m) (b))"
