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
    assert without_zero_fallback(
        "(sum by (environment, instance) (rate(a[1m]))) or on (environment, instance) 0 * sum by "
        "(environment, instance) (rate(b[1m]))") == "(sum by (environment, instance) (rate(a[1m])))"
    assert without_zero_fallback(
        '(sum by (environment, instance, m) (a)) or on (environment, instance) label_replace(0 * sum by '
        '(environment, instance) (b), "m", "(none yet)", "", "")') == "(sum by (environment, instance, m) (a))"
    assert without_zero_fallback("sum(a) or sum(b)") == "sum(a) or sum(b)"


def test_the_dashboards_fallbacks_are_recognised():
    """The fallback checks of test_panels.py run on these: never on an empty set."""
    from .panels import dashboard_queries

    with_fallback = [q.id for q in dashboard_queries() if without_zero_fallback(q.expr) != q.expr]
    assert {q.split("/")[1] for q in with_fallback} == {
        "HTTP Response Status Codes", "Database Operations by Model", "Exceptions by Type"}


def test_multi_values_are_regex_escaped_and_joined_as_grafana_does():
    from .panels import grafana_regex_value

    assert grafana_regex_value(["web-1:9100"]) == "web-1:9100"
    # `.` would match any character: Grafana escapes it (a doubled backslash in the PromQL string).
    assert grafana_regex_value(["10.0.0.1:9100", "db(1)"]) == r"(10\\.0\\.0\\.1:9100|db\\(1\\))"


def test_template_values_all_single_and_several():
    from .panels import ALL, template_values

    model = {"templating": {"list": [
        {"type": "datasource", "name": "datasource"},
        {"type": "query", "name": "host", "multi": True, "includeAll": True, "allValue": ".*",
         "current": {"value": "$__all"}},
        {"type": "query", "name": "single", "multi": False, "includeAll": False, "current": {"value": "a.b"}},
    ]}}
    assert template_values(model) == {"datasource": "prometheus", "host": ".*", "single": "a.b"}
    assert template_values(model, {"host": ["a:1"]})["host"] == "a:1"
    assert template_values(model, {"host": ["a:1", "b:2"]})["host"] == "(a:1|b:2)"
    assert template_values(model, {"host": ALL}, datasource="long-term")["datasource"] == "long-term"
    with pytest.raises(ValueError, match="no All"):
        template_values(model, {"single": ALL})


def test_label_values_request_fills_variables():
    from .panels import label_values_request

    assert label_values_request("label_values(up, environment)", {}) == ("environment", "up")
    assert label_values_request('label_values(up{job="node",environment=~"$environment"}, instance)',
                                {"environment": ".*"}) == ("instance", 'up{job="node",environment=~".*"}')
    with pytest.raises(ValueError, match="not a label_values"):
        label_values_request("query_result(up)", {})
