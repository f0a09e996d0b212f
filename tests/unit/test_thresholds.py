"""Thresholds have one home, components/thresholds.py: the alert rules and the dashboards agree.

`rules/*.yml` are hand-written YAML, so nothing makes them read components/thresholds.py: these
tests parse the rules and check each alert's constant, comparison direction and wording against
its Threshold. The dashboards do read the module; the tests check that each panel SPEC ties to a
threshold actually shows it (steps, scale) and that no panel hard-codes a threshold of its own.
The expectations below are written independently of the implementation (panel titles, the
expression shapes of rules/alerts.yml), so a number changed on one side only fails a test.
"""

from __future__ import annotations

import math
import re

import pytest

from components import thresholds as th
from components.prometheus.rules import rule_entries, rule_file_paths
from components.thresholds import RULE_WINDOW, THRESHOLDS, Threshold, steps
from components.types import duration_ms
from dashboards import build_dashboards

# --- rule files ----------------------------------------------------------------------------

RULE_FILES = rule_file_paths()


ALERTS = rule_entries("alert")
RECORDS = rule_entries("record")
RECORDED = {rule["record"] for rule in RECORDS}

# Module attribute name -> Threshold: the names make readable test ids and error messages.
THRESHOLD_NAMES = {name: value for name, value in vars(th).items() if isinstance(value, Threshold)}
NAME_OF = {id(value): name for name, value in THRESHOLD_NAMES.items()}
ALERTED = [t for t in THRESHOLDS if t.alert]
# Thresholds whose yellow step has an alert of its own (a warning before the critical one).
WARNED = [t for t in THRESHOLDS if t.yellow_alert]

# Alerts that compare a recorded series with a constant but have no Threshold, on purpose:
# the disk-fill prediction's 60% is a pre-condition of a trend alert, not a level any panel shows.
NO_THRESHOLD = {"HostDiskWillFillIn24Hours"}


def _tid(threshold: Threshold) -> str:
    return NAME_OF.get(id(threshold), repr(threshold))


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


# --- a small PromQL reader: top-level comparisons against a number --------------------------

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_COMMENT = re.compile(r"#[^\n]*")
_BRACES = re.compile(r"\{[^{}]*\}")  # label matchers: `!=`, `=~` are not comparisons
_BRACKETS = re.compile(r"\[[^\[\]]*\]")  # range selectors and subqueries
_SET_OPERATOR = re.compile(r"\b(?:and|or|unless)\b")
_COMPARISON = re.compile(r"==|!=|>=|<=|>|<")
_NUMBER = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
_BOOL = re.compile(r"^bool\b\s*")


def _mask_nested(text: str) -> str:
    """`text` with everything inside parentheses blanked out (the parentheses stay): what is
    left is the expression's top level."""
    out, depth = [], 0
    for char in text:
        if char == "(":
            out.append(char if depth == 0 else " ")
            depth += 1
        elif char == ")":
            depth -= 1
            out.append(char if depth == 0 else " ")
        else:
            out.append(char if depth == 0 else " ")
    assert depth == 0, f"unbalanced parentheses in {text!r}"
    return "".join(out)


def top_level_comparisons(expr: str) -> list[tuple[str, str, float, bool]]:
    """(left operand, operator, number, bool modifier) for every comparison with a number on its
    right that applies at the top level of `expr`, one per `and`/`or`/`unless` operand (the
    set operators bind more loosely than comparisons). Comparisons are left-associative, so
    the last comparison operator of an operand is the one applied to its result. The left
    operand is returned with label matchers and the insides of parentheses removed, so a bare
    series reads as its name (`instance:node_cpu_utilisation:ratio`)."""
    text = _COMMENT.sub("", _STRING.sub('""', expr))
    text = _BRACKETS.sub("", _BRACES.sub("", text))
    found = []
    for clause in _SET_OPERATOR.split(_mask_nested(text)):
        operators = list(_COMPARISON.finditer(clause))
        if not operators:
            continue
        last = operators[-1]
        left, right = clause[: last.start()].strip(), clause[last.end():].strip()
        modifier = _BOOL.match(right)
        if modifier:
            right = right[modifier.end():]
        if _NUMBER.fullmatch(right):
            found.append((" ".join(left.split()), last.group(), float(right), bool(modifier)))
    return found


def threshold_comparison(expr: str) -> tuple[str, str, float, bool]:
    """The comparison that decides when the alert fires: the one applied to a recorded series
    (e.g. `instance:node_cpu_utilisation:ratio > 0.80`), else the one at the end of `expr`."""
    comparisons = top_level_comparisons(expr)
    on_records = [c for c in comparisons if c[0] in RECORDED]
    assert len(on_records) <= 1, f"several comparisons of recorded series in {expr!r}: {on_records}"
    if on_records:
        return on_records[0]
    assert comparisons, f"no top-level comparison against a number in {expr!r}"
    return comparisons[-1]


def test_promql_reader():
    """The reader itself, on the shapes rules/alerts.yml uses (a broken reader would make the
    threshold tests below pass or fail for the wrong reason)."""
    assert top_level_comparisons("instance:node_cpu_utilisation:ratio > 0.80") == [
        ("instance:node_cpu_utilisation:ratio", ">", 0.80, False)]
    assert top_level_comparisons('pg:cache_hit:ratio{job="postgres", x!="a>b"} < .9') == [
        ("pg:cache_hit:ratio", "<", 0.9, False)]
    two = top_level_comparisons(
        'a:b:ratio > 0.60\nand\npredict_linear(x{job="node", m!=""}[6h], 24 * 3600) < 0')
    assert two == [("a:b:ratio", ">", 0.60, False), ("predict_linear( )", "<", 0.0, False)]
    assert threshold_comparison(
        "instance_mountpoint:node_filesystem_utilisation:ratio > 0.60 and predict_linear(y[6h], 1) < 0"
    ) == ("instance_mountpoint:node_filesystem_utilisation:ratio", ">", 0.60, False)
    # Comparisons inside parentheses or a function are not the top level.
    assert top_level_comparisons("(sum(x) or on (job) 0 * max(up == 1)) < 1") == [("( )", "<", 1.0, False)]
    assert top_level_comparisons("sum(rate(x[5m])) > bool 0") == [("sum( )", ">", 0.0, True)]
    assert top_level_comparisons("a > b") == []
    assert top_level_comparisons("a >= 1e-3") == [("a", ">=", 0.001, False)]


# --- 0. the module itself ---------------------------------------------------------------------


def test_every_threshold_is_listed():
    """A Threshold defined in components/thresholds.py but missing from THRESHOLDS would escape
    every test below."""
    assert {NAME_OF[id(t)] for t in THRESHOLDS} == set(THRESHOLD_NAMES)
    assert len(THRESHOLDS) == len({id(t) for t in THRESHOLDS})
    assert len(ALERTED) >= 8, "fewer thresholded alerts than the eight SPEC names"
    assert len({t.alert for t in ALERTED}) == len(ALERTED), "two thresholds name the same alert"


def test_rule_files_found():
    assert {p.name for p in RULE_FILES} >= {"alerts.yml", "recording.yml"}
    assert ALERTS and RECORDS


# --- 1. each alert compares with its Threshold's value ----------------------------------------


@pytest.mark.parametrize("threshold", ALERTED, ids=_tid)
def test_alert_uses_threshold(threshold: Threshold):
    rules = [rule for rule in ALERTS if rule["alert"] == threshold.alert]
    assert len(rules) == 1, f"{threshold.alert}: {len(rules)} alerting rules in rules/*.yml, expected 1"
    expr = rules[0]["expr"]
    left, operator, value, has_bool = threshold_comparison(expr)
    assert not has_bool, f"{threshold.alert}: `bool` comparison always returns a sample: {expr!r}"
    assert left in RECORDED, f"{threshold.alert}: compares {left!r}, not a series of rules/recording.yml"
    expected_operator = "<" if threshold.floor else ">"
    assert operator == expected_operator, (
        f"{threshold.alert}: `{operator}`, but the threshold is {'a floor' if threshold.floor else 'a ceiling'}"
        f" (expected `{expected_operator}`): {expr!r}")
    assert _close(value, threshold.alert_value), (
        f"{threshold.alert}: rules compare with {value}, {_tid(threshold)}.alert_value is "
        f"{threshold.alert_value} (red={threshold.red}, ratio={threshold.ratio})")


@pytest.mark.parametrize("threshold", WARNED, ids=_tid)
def test_warning_alert_uses_the_yellow_step(threshold: Threshold):
    (rule,) = [rule for rule in ALERTS if rule["alert"] == threshold.yellow_alert]
    left, operator, value, _ = threshold_comparison(rule["expr"])
    (critical,) = [r for r in ALERTS if r["alert"] == threshold.alert]
    assert left == threshold_comparison(critical["expr"])[0], "the warning and the critical alert read one series"
    assert operator == ("<" if threshold.floor else ">")
    assert threshold.yellow_alert_value is not None and _close(value, threshold.yellow_alert_value)


def test_alert_constants_have_a_home():
    """The other direction: an alert that compares a recorded series with a constant has a
    Threshold (a new alert with a hand-written number, or a renamed one, fails here)."""
    thresholded = {t.alert for t in ALERTED} | {t.yellow_alert for t in WARNED}
    names = {rule["alert"] for rule in ALERTS}
    assert names >= NO_THRESHOLD, f"stale exemptions: {sorted(NO_THRESHOLD - names)}"
    assert not NO_THRESHOLD & thresholded, "an exempted alert now has a Threshold: drop the exemption"
    homeless = sorted(
        rule["alert"] for rule in ALERTS
        if rule["alert"] not in thresholded | NO_THRESHOLD
        and any(left in RECORDED for left, *_ in top_level_comparisons(rule["expr"])))
    assert not homeless, f"alerts comparing a recorded series with a constant but no Threshold: {homeless}"


# --- 2. the annotations state the same number -------------------------------------------------

_PERCENT = re.compile(r"(?<![\w.])([0-9]+(?:\.[0-9]+)?)\s?%")
_DURATION = re.compile(r"(?<![\w.])([0-9]+(?:\.[0-9]+)?)\s?(ms|s)(?![A-Za-z])")
_DAYS = re.compile(r"(?:at|within) ([0-9]+(?:\.[0-9]+)?) days")


def stated_figures(rule: dict) -> tuple[list[float], list[float], list[float]]:
    """(percentages, durations in seconds, thresholds in days: "at 14 days", "within 3 days")
    written in a rule's annotations."""
    text = " ".join(str(v) for v in (rule.get("annotations") or {}).values())
    percents = [float(m.group(1)) for m in _PERCENT.finditer(text)]
    seconds = [float(n) / (1000 if unit == "ms" else 1) for n, unit in _DURATION.findall(text)]
    days = [float(n) for n in _DAYS.findall(text)]
    return percents, seconds, days


def stated_counts(rule: dict, events: str) -> list[float]:
    """Counts of `events` written in a rule's annotations: "more than 3 restarts" -> [3.0]."""
    text = " ".join(str(v) for v in (rule.get("annotations") or {}).values())
    return [float(n) for n in re.findall(rf"(?<![\w.])([0-9]+) {re.escape(events)}\b", text)]


def test_figure_reader():
    assert stated_figures({"annotations": {"a": "above 80%, threshold 12.5 %", "b": "target 500ms"}}) == (
        [80.0, 12.5], [0.5], [])
    assert stated_figures({"annotations": {"a": "last 5 minutes, 24 hours, 5xx, p95, 2s"}}) == ([], [2.0], [])
    assert stated_figures({"annotations": {"a": "expires within 3 days", "b": "in 2.0 days (at 14 days)"}}) == (
        [], [], [3.0, 14.0])
    assert stated_counts({"annotations": {"a": "started 6 times in 15 minutes (more than 3 restarts)"}},
                         "restarts") == [3.0]


STATED = [(t, t.alert, t.red) for t in ALERTED] + [(t, t.yellow_alert, t.yellow) for t in WARNED]


@pytest.mark.parametrize(("threshold", "alert", "value"), STATED, ids=[a for _, a, _ in STATED])
def test_annotations_state_threshold(threshold: Threshold, alert: str, value: float):
    (rule,) = [rule for rule in ALERTS if rule["alert"] == alert]
    percents, seconds, days = stated_figures(rule)
    # Ratio thresholds are percentages in words, counts "N <events>"; the others are in the panel's unit.
    figures = (stated_counts(rule, threshold.events) if threshold.events
               else percents if threshold.ratio else days if threshold.unit == "d" else seconds)
    assert figures, f"{alert}: the annotations do not state the threshold: {rule['annotations']}"
    wrong = [f for f in figures if not _close(f, value)]
    assert not wrong, (
        f"{alert}: annotations state {wrong}, {_tid(threshold)} is {value}"
        f"{'%' if threshold.ratio else ' s'}: {rule['annotations']}")


def test_annotation_coverage():
    """Every thresholded alert states its number (checked above); and no other alert states
    a percentage or a latency in words that no Threshold backs."""
    thresholded = {t.alert for t in ALERTED} | {t.yellow_alert for t in WARNED}
    counted = {t.alert: t.events for t in ALERTED if t.events}
    covered = {rule["alert"] for rule in ALERTS if rule["alert"] in thresholded and (
        stated_counts(rule, counted[rule["alert"]]) if rule["alert"] in counted else any(stated_figures(rule)))}
    assert len(covered) >= 8 and covered == thresholded
    unbacked = sorted(rule["alert"] for rule in ALERTS if rule["alert"] not in thresholded and any(stated_figures(rule)))
    assert not unbacked, f"alerts stating a threshold in words without a Threshold: {unbacked}"


# --- 3. the dashboards show the thresholds ----------------------------------------------------

# (dashboard uid, panel title) -> (Threshold, unit). SPEC section 5 ties these panels to a
# threshold. Ratio thresholds are shown on a 0-100 scale: percent, or the connection count
# against the default max_connections of 100.
PANELS: dict[tuple[str, str], tuple[Threshold, str]] = {
    ("system-overview", "CPU Usage"): (th.CPU_PERCENT, "percent"),
    ("system-overview", "Memory Usage"): (th.MEMORY_PERCENT, "percent"),
    ("system-overview", "Disk Usage"): (th.DISK_PERCENT, "percent"),
    ("system-overview", "Response Time p50/p95"): (th.LATENCY_P95_SECONDS, "s"),
    ("application-performance", "Error Rate"): (th.HTTP_5XX_PERCENT, "percent"),
    ("application-performance", "Response Time p95"): (th.LATENCY_P95_SECONDS, "s"),
    ("database-performance", "Active Connections"): (th.PG_CONNECTIONS, "short"),
    ("database-performance", "Cache Hit Ratio"): (th.PG_CACHE_HIT_PERCENT, "percent"),
    ("containers", "Memory Usage of Limit"): (th.CONTAINER_MEMORY_PERCENT, "percent"),
    ("containers", "Restarts (last 15 min)"): (th.CONTAINER_RESTARTS, "short"),
    ("probes", "Probe Latency"): (th.PROBE_SECONDS, "s"),
    ("probes", "Certificate Expiry"): (th.CERTIFICATE_DAYS, "d"),
    ("celery", "Task Failure Ratio"): (th.CELERY_FAILURE_PERCENT, "percent"),
    ("celery", "Queue Backlog"): (th.CELERY_BACKLOG_TASKS, "short"),
}
# Thresholds no panel shows.
NOT_SHOWN = {id(th.REDIS_MEMORY_PERCENT)}
# Panels whose colour steps are not a threshold (up/down status colouring).
NOT_THRESHOLDS = {("infrastructure-health", "Service Health Status"), ("probes", "Probe Status")}


@pytest.fixture(scope="module")
def panels() -> dict[tuple[str, str], list[dict]]:
    """(uid, title) -> the panels with that title (rows' nested panels included)."""
    found: dict[tuple[str, str], list[dict]] = {}
    for uid, model in build_dashboards().items():
        for panel in model.get("panels", []):
            for inner in [panel, *panel.get("panels", [])]:
                found.setdefault((uid, inner.get("title", "")), []).append(inner)
    return found


def grafana_steps(threshold: Threshold) -> list[dict]:
    return [{"value": value, "color": color} for value, color in steps(threshold)]


def _steps_of(panel: dict) -> list[dict]:
    return panel["fieldConfig"]["defaults"]["thresholds"]["steps"]


def _same_steps(actual: list[tuple], expected: list[tuple]) -> bool:
    """Same colours in the same order, bounds equal as floats (the base bound None on both)."""
    if len(actual) != len(expected):
        return False
    return all(
        ca == ce and (va is None if ve is None else va is not None and _close(va, ve))
        for (va, ca), (ve, ce) in zip(actual, expected, strict=True))


@pytest.mark.parametrize("key", list(PANELS), ids=lambda k: f"{k[0]}/{k[1]}")
def test_panel_shows_threshold(panels, key):
    threshold, unit = PANELS[key]
    assert len(panels.get(key, [])) == 1, f"{key}: {len(panels.get(key, []))} panels with this title"
    (panel,) = panels[key]
    defaults = panel["fieldConfig"]["defaults"]
    assert defaults["thresholds"]["mode"] == "absolute", key  # "percentage" would rescale the steps
    actual = [(s["value"], s["color"]) for s in _steps_of(panel)]
    expected = [(s["value"], s["color"]) for s in grafana_steps(threshold)]
    assert _same_steps(actual, expected), f"{key}: steps {actual}, {_tid(threshold)} gives {expected}"
    assert defaults.get("unit") == unit, key
    if threshold.ratio:
        # The panel's full scale is 100, so the red step / 100 is the alert's ratio.
        assert defaults.get("max") == 100, f"{key}: a ratio threshold on a scale other than 0-100"


def test_every_threshold_is_shown(panels):
    shown = {id(t) for t, _ in PANELS.values()}
    missing = [_tid(t) for t in THRESHOLDS if id(t) not in shown | NOT_SHOWN]
    assert not missing, f"thresholds no panel shows: {missing}"
    assert not shown & NOT_SHOWN, "a threshold listed as not shown is now shown: update NOT_SHOWN"


def test_no_panel_hard_codes_a_threshold(panels):
    """A panel with colour steps beyond the green base is one of the panels above (whose steps
    come from a Threshold) or a status panel: no threshold lives in a dashboard module."""
    stray = sorted(
        key for key, found in panels.items() for panel in found
        if key not in PANELS and key not in NOT_THRESHOLDS
        and [(s["value"], s["color"]) for s in _steps_of(panel)] != [(None, "green")])
    assert not stray, f"panels with thresholds of their own: {stray}"
    assert set(panels) >= NOT_THRESHOLDS, "stale NOT_THRESHOLDS entry"


# --- 4. every rule window is at least RULE_WINDOW ---------------------------------------------

_RANGE = re.compile(r"\[([^\[\]]*)\]")


def range_selectors(expr: str) -> list[str]:
    """The range of every range selector and subquery (`[5m]`, `[30m:1m]` -> `30m`)."""
    text = _COMMENT.sub("", _STRING.sub('""', expr))
    return [match.group(1).split(":")[0].strip() for match in _RANGE.finditer(text)]


def test_range_reader():
    assert range_selectors('rate(x{a=~"[0-9]+"}[5m]) + max_over_time(y[30m:1m]) # [1s]') == ["5m", "30m"]


def test_rule_windows_at_least_rule_window():
    """The config model caps the scrape and evaluation intervals at RULE_WINDOW /
    SAMPLES_PER_WINDOW: that holds enough samples only if no rule uses a shorter window."""
    minimum = duration_ms(RULE_WINDOW)
    windows = [(rule.get("alert") or rule.get("record"), window)
               for rule in ALERTS + RECORDS for window in range_selectors(rule["expr"])]
    assert windows, "no range selector found in rules/*.yml"
    short = [(name, window) for name, window in windows if duration_ms(window) < minimum]
    assert not short, f"windows shorter than RULE_WINDOW={RULE_WINDOW}: {short}"
    assert any(duration_ms(window) == minimum for _, window in windows), (
        f"no rule uses RULE_WINDOW={RULE_WINDOW}: {sorted({w for _, w in windows})}")
