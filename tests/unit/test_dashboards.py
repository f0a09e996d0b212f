"""Unit tests for the dashboards package (SPEC section 5).

The expected panels are written out here as a table, independently of the
implementation's own tables, so that a change to either side fails a test.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dashboards import DASHBOARD_UIDS, build_dashboards, dashboard_json, iter_panel_queries
from dashboards.queries import TOP_N_RANKED_OVER
from tests.tools import require_tool

REPO_ROOT = Path(__file__).resolve().parents[2]
# Vendored from shared/grafana-schemas (see its README): the lint runs on every clone.
SCHEMA_DIR = REPO_ROOT / "tests" / "fixtures" / "grafana-schemas"

DS_REF = {"type": "prometheus", "uid": "${datasource}"}
# record name -> expression, of rules/recording.yml
RECORDS = {rule["record"]: rule["expr"] for group in yaml.safe_load((REPO_ROOT / "rules" / "recording.yml").read_text())
           ["groups"] for rule in group["rules"] if "record" in rule}


def expanded(expr: str) -> str:
    """`expr` with every recorded series replaced by (its rule's expression): what a panel reads in the end."""
    return re.sub(r"(?<![\w:])[a-z_]+:[A-Za-z0-9_]+:[a-z0-9_]+\b",
                  lambda m: f"({RECORDS[m.group(0)].strip()})" if m.group(0) in RECORDS else m.group(0), expr)
JOBS = {"prometheus", "grafana", "node", "postgres", "redis", "nginx", "django", "celery", "blackbox", "cadvisor"}
VARIABLE_NAMES = {"environment", "host", "django_instance", "pg_instance", "redis_instance", "datname", "probe",
                  "docker_host", "container", "flower", "broker"}

G, R, Y = "green", "red", "yellow"
BASE = ((None, G),)  # panels for which SPEC lists no thresholds: a single green base step

# uid -> [(title, type, unit, threshold steps)], in SPEC order. Units marked
# "SPEC" are given by SPEC section 5; the others are our choice for what SPEC
# describes (e.g. "commits per second" -> ops/sec), pinned so they cannot drift.
EXPECTED = {
    "system-overview": [
        ("CPU Usage", "gauge", "percent", ((None, G), (80, R))),  # SPEC
        ("Memory Usage", "gauge", "percent", ((None, G), (70, Y), (85, R))),  # SPEC
        ("Disk Usage", "gauge", "percent", ((None, G), (75, Y), (90, R))),  # SPEC
        ("Database Connections", "timeseries", "short", BASE),
        ("HTTP Requests per Second", "timeseries", "reqps", BASE),
        ("Response Time p50/p95", "timeseries", "s", ((None, G), (0.5, R))),  # SPEC: s, 500 ms line
    ],
    "application-performance": [
        ("HTTP Response Status Codes", "timeseries", "reqps", BASE),
        ("Error Rate", "gauge", "percent", ((None, G), (1, Y), (5, R))),  # SPEC
        ("Response Time p95", "gauge", "s", ((None, G), (0.5, R))),  # SPEC
        ("Response Time by Endpoint", "timeseries", "s", BASE),
        ("Requests per Second by Endpoint", "timeseries", "reqps", BASE),
        ("Database Operations by Model", "timeseries", "ops", BASE),
        ("Exceptions by Type", "timeseries", "eps", BASE),
    ],
    "database-performance": [
        ("Active Connections", "gauge", "short", ((None, G), (50, Y), (80, R))),  # SPEC
        ("Cache Hit Ratio", "gauge", "percent", ((None, R), (90, G))),  # SPEC
        ("Transactions per Second", "gauge", "ops", BASE),
        ("Database Size", "gauge", "bytes", BASE),  # SPEC: bytes
        ("Database Operations per Second", "timeseries", "rowsps", BASE),
        ("Connection Usage", "timeseries", "short", BASE),
        ("Cache Performance", "timeseries", "percent", BASE),
        ("Transaction Activity", "timeseries", "ops", BASE),
    ],
    "infrastructure-health": [
        ("CPU Usage Over Time", "timeseries", "percent", BASE),  # SPEC: percent
        ("Memory Usage", "timeseries", "bytes", BASE),  # SPEC: bytes
        ("Disk Usage", "timeseries", "bytes", BASE),  # SPEC: bytes
        ("Network Traffic", "timeseries", "Bps", BASE),  # SPEC: bytes per second
        ("Redis Memory Usage", "timeseries", "bytes", BASE),  # SPEC: bytes
        ("Redis Activity", "timeseries", "short", BASE),
        ("Service Health Status", "bargauge", "none", ((None, R), (1, G))),  # SPEC: green up, red down
    ],
    "containers": [
        ("CPU Usage by Container", "timeseries", "percent", BASE),
        ("Memory Working Set by Container", "timeseries", "bytes", BASE),
        ("Memory Usage of Limit", "timeseries", "percent", ((None, G), (80, Y), (90, R))),
        ("Restarts (last 15 min)", "timeseries", "short", ((None, G), (3, R))),
        ("Network Traffic by Container", "timeseries", "Bps", BASE),
    ],
    # Beyond SPEC's 28: containers (cAdvisor) and probes of the site (blackbox_exporter).
    "probes": [
        ("Probe Status", "bargauge", "none", ((None, R), (1, G))),
        ("Certificate Expiry", "bargauge", "d", ((None, R), (3, Y), (14, G))),
        ("Probe Latency", "timeseries", "s", ((None, G), (1, Y), (2, R))),
    ],
    # Celery (issue item 3): Flower's task events and the broker's queue lengths.
    "celery": [
        ("Task Throughput by State", "timeseries", "ops", BASE),
        ("Task Failure Ratio", "timeseries", "percent", ((None, G), (5, Y), (10, R))),
        ("Task Runtime p95 by Task", "timeseries", "s", BASE),
        ("Tasks Executing", "timeseries", "short", BASE),
        ("Queue Backlog", "timeseries", "short", ((None, G), (100, R))),
    ],
}
EXPECTED_COUNTS = {
    "system-overview": 6,
    "application-performance": 7,
    "database-performance": 8,
    "infrastructure-health": 7,
    "containers": 5,
    "probes": 3,
    "celery": 5,
}
SPEC_DASHBOARDS = ("system-overview", "application-performance", "database-performance", "infrastructure-health")


@pytest.fixture(scope="module")
def models():
    return build_dashboards()


def all_panels(models):
    for uid in DASHBOARD_UIDS:
        for panel in models[uid]["panels"]:
            yield uid, panel


def all_targets(models):
    for uid, panel in all_panels(models):
        for target in panel.get("targets", []):
            yield uid, panel, target


def panel_by_title(models, uid, title):
    matches = [p for p in models[uid]["panels"] if p["title"] == title]
    assert len(matches) == 1, f"{uid}: {len(matches)} panels titled {title!r}"
    return matches[0]


def exprs_of(panel):
    return [t["expr"] for t in panel["targets"]]


# --- structure --------------------------------------------------------------


def test_uids_and_order(models):
    assert DASHBOARD_UIDS == (
        "system-overview",
        "application-performance",
        "database-performance",
        "infrastructure-health",
        "containers",
        "probes",
        "celery",
    )
    assert list(models) == list(DASHBOARD_UIDS)
    for uid, model in models.items():
        assert model["uid"] == uid


def test_panel_counts(models):
    assert sum(len(models[uid]["panels"]) for uid in SPEC_DASHBOARDS) == 28  # SPEC's 28, then ours
    for uid, count in EXPECTED_COUNTS.items():
        assert len(models[uid]["panels"]) == count, uid
        assert len(EXPECTED[uid]) == count, uid


@pytest.mark.parametrize("uid", list(EXPECTED))
def test_titles_types_units_thresholds(models, uid):
    actual = []
    for panel in models[uid]["panels"]:
        defaults = panel["fieldConfig"]["defaults"]
        assert defaults["thresholds"]["mode"] == "absolute", panel["title"]
        steps = tuple((s["value"], s["color"]) for s in defaults["thresholds"]["steps"])
        actual.append((panel["title"], panel["type"], defaults.get("unit"), steps))
    assert actual == EXPECTED[uid]


def test_dashboard_settings(models):
    for uid, model in models.items():
        assert "id" not in model, uid
        assert model["refresh"] == "30s"
        assert model["editable"] is True
        assert model["time"] == {"from": "now-1h", "to": "now"}
        assert "monitoring" in model["tags"]
        assert model["title"]
        # Classic v1 JSON model (not the v2 "spec/elements" format of Grafana 13).
        assert model["schemaVersion"] == 41
        assert "elements" not in model and "spec" not in model


def test_datasource_variable(models):
    for uid, model in models.items():
        variables = model["templating"]["list"]
        ds_vars = [v for v in variables if v["name"] == "datasource"]
        assert len(ds_vars) == 1, uid
        var = ds_vars[0]
        assert var["type"] == "datasource"
        assert var["query"] == "prometheus"
        assert var["current"]["value"] == "prometheus"  # our data source's uid
        assert var["current"]["text"] == "Prometheus"


def test_datasource_references(models):
    for uid, model in models.items():
        text = json.dumps(model)
        assert "DS_PROMETHEUS" not in text and "__inputs" not in text, uid
    for uid, panel in all_panels(models):
        assert panel["datasource"] == DS_REF, (uid, panel["title"])
    for uid, panel, target in all_targets(models):
        assert target["datasource"] == DS_REF, (uid, panel["title"], target.get("refId"))


def test_panel_ids_and_grid(models):
    for uid, model in models.items():
        ids = [p["id"] for p in model["panels"]]
        assert all(isinstance(i, int) and i > 0 for i in ids), uid
        assert len(ids) == len(set(ids)), uid
        cells = set()
        for panel in model["panels"]:
            pos = panel["gridPos"]
            assert pos["w"] > 0 and pos["h"] > 0 and pos["x"] >= 0 and pos["y"] >= 0
            assert pos["x"] + pos["w"] <= 24, (uid, panel["title"])
            for x in range(pos["x"], pos["x"] + pos["w"]):
                for y in range(pos["y"], pos["y"] + pos["h"]):
                    assert (x, y) not in cells, f"{uid}: {panel['title']} overlaps another panel"
                    cells.add((x, y))


def test_targets_have_expr_and_unique_ref_ids(models):
    for uid, panel in all_panels(models):
        targets = panel["targets"]
        assert targets, (uid, panel["title"])
        ref_ids = [t["refId"] for t in targets]
        assert ref_ids == [chr(ord("A") + i) for i in range(len(targets))], (uid, panel["title"])
        for target in targets:
            assert isinstance(target["expr"], str) and target["expr"].strip(), (uid, panel["title"])


def test_iter_panel_queries(models):
    for uid, model in models.items():
        yielded = list(iter_panel_queries(model))
        expected = [(p["title"], t["refId"], t["expr"]) for p in model["panels"] for t in p["targets"]]
        assert yielded == expected, uid


# --- queries ------------------------------------------------------------------


def _calls(expr, function):
    """Arguments of every call of `function` in expr."""
    for match in re.finditer(rf"\b{function}\(", expr):
        depth, start = 1, match.end()
        for i in range(start, len(expr)):
            depth += {"(": 1, ")": -1}.get(expr[i], 0)
            if depth == 0:
                yield expr[start:i]
                break
        else:
            pytest.fail(f"unbalanced parentheses in {expr}")


def test_rates_use_rate_interval(models):
    seen = 0
    for _uid, panel, target in all_targets(models):
        expr = target["expr"]
        for function in ("rate", "irate", "increase"):
            for argument in _calls(expr, function):
                seen += 1
                assert argument.rstrip().endswith("[$__rate_interval]"), (panel["title"], expr)
        # No fixed range windows anywhere, but the hour a top-N panel ranks its series over, once.
        for window, anchored in re.findall(r"\[([^\]]*)\](\s*@\s*end\(\))?", expr):
            assert window == "$__rate_interval" or (window == TOP_N_RANKED_OVER and anchored), (panel["title"], expr)
    assert seen > 0


def test_jobs_are_fixed_names(models):
    for _uid, panel, target in all_targets(models):
        jobs = re.findall(r'\bjob\s*=~?\s*"([^"]*)"', target["expr"])
        assert jobs, (panel["title"], target["expr"])
        assert set(jobs) <= JOBS, (panel["title"], target["expr"])
        # Only Grafana's `$__rate_interval` and the dashboards' own variables.
        assert set(re.findall(r"\$(\w+)", target["expr"])) <= {"__rate_interval", *VARIABLE_NAMES}, target["expr"]


def test_pg_stat_activity_count_is_summed(models):
    found = 0
    for _uid, _panel, target in all_targets(models):
        expr = expanded(target["expr"])
        for match in re.finditer(r"pg_stat_activity_count", expr):
            found += 1
            assert re.search(r"\bsum(\s+by\s*\([^)]*\))?\s*\(\s*$", expr[: match.start()]), expr
    assert found >= 3


def test_pg_per_database_metrics_filter_datname(models):
    found = 0
    for _uid, _panel, target in all_targets(models):
        # Recorded per-database series too: their panels filter them, and their rules the raw ones.
        expr = expanded(target["expr"])
        for selector in re.findall(r"(pg_stat_database_\w+|pg_database_size_bytes)\{([^}]*)\}", expr):
            found += 1
            labels = selector[1]
            # Drops the shared datid="0" row (empty datname) and the templates, keeps the app database.
            assert 'datname!=""' in labels, expr
            assert 'datname!~"template.*"' in labels, expr
            assert "postgres" not in labels.replace('job="postgres"', ""), expr
        # No unfiltered use of a per-database metric.
        for metric in re.finditer(r"(?<![\w:])(pg_stat_database_\w+|pg_database_size_bytes)\b", expr):
            assert expr[metric.end() : metric.end() + 1] == "{", expr
    assert found >= 10


def test_postgres_panels_use_expected_metrics(models):
    db = "database-performance"
    assert "pg_settings_max_connections" in " ".join(exprs_of(panel_by_title(models, db, "Connection Usage")))
    hit = " ".join(exprs_of(panel_by_title(models, db, "Cache Hit Ratio")))
    assert "blks_hit" in hit and "blks_read" in hit
    activity = exprs_of(panel_by_title(models, db, "Transaction Activity"))
    assert "xact_commit" in activity[0] and "xact_rollback" in activity[1]
    ops = exprs_of(panel_by_title(models, db, "Database Operations per Second"))
    assert ["tup_inserted" in ops[0], "tup_updated" in ops[1], "tup_deleted" in ops[2]] == [True] * 3
    assert "pg_database_size_bytes" in exprs_of(panel_by_title(models, db, "Database Size"))[0]


def test_django_metric_names(models):
    text = " ".join(expanded(t["expr"]) for _, _, t in all_targets(models))
    for name in (
        "django_http_requests_total_by_method_total",
        "django_http_responses_total_by_status_view_method_total",
        "django_http_requests_total_by_view_transport_method_total",
        "django_model_inserts_total",
        "django_model_updates_total",
        "django_model_deletes_total",
        "django_http_exceptions_total_by_type_total",
    ):
        assert name in text, name
    # raw django-prometheus names (not recorded series such as job:django_...:p95_5m)
    for metric in re.findall(r"(?<![\w:$])django_\w+", text):
        assert metric.endswith(("_total", "_bucket")), metric


def test_recorded_series_used_by_panels_are_defined_by_the_rules(models):
    """Panels that read a recording rule's series must name a rule that exists."""
    recorded = set(RECORDS)
    used = {name for _, _, t in all_targets(models)
            for name in re.findall(r"\b[a-z_]+:[a-z0-9_]+:[a-z0-9_]+\b", t["expr"])}
    assert used, "the latency panels read recorded series"
    assert used <= recorded, used - recorded
    p95 = panel_by_title(models, "application-performance", "Response Time by Endpoint")
    assert p95["targets"][0]["expr"].startswith("instance_view_method:django_http_requests_latency_seconds:p95_5m")
    # The latency panels read the histogram through those rules.
    assert all("django_http_requests_latency_seconds_by_view_method_bucket" in RECORDS[name]
               for name in used if "latency" in name)


def test_status_codes_panel(models):
    panel = panel_by_title(models, "application-performance", "HTTP Response Status Codes")
    assert panel["fieldConfig"]["defaults"]["custom"]["stacking"]["mode"] == "normal"
    legends = [t["legendFormat"] for t in panel["targets"]]
    assert legends == ["{{instance}} 2xx", "{{instance}} 4xx", "{{instance}} 5xx"]
    for target, cls in zip(panel["targets"], ("2xx", "4xx", "5xx"), strict=True):
        assert f'status_class="{cls}"' in target["expr"]
    # The record names the class after the status' first digit: 201 is 2xx, 404 4xx (promtool-tested).
    assert '"status_class", "${1}xx", "status", "([1-5])[0-9][0-9]"' in expanded(panel["targets"][0]["expr"])


def test_response_time_threshold_line(models):
    panel = panel_by_title(models, "system-overview", "Response Time p50/p95")
    assert panel["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"]["mode"] in ("line", "dashed")
    exprs = exprs_of(panel)
    # The per-instance quantiles recorded by rules (fixed 5m windows), not raw buckets.
    assert exprs[0].startswith("instance:django_http_requests_latency_seconds:p50_5m{")
    assert exprs[1].startswith("instance:django_http_requests_latency_seconds:p95_5m{")


def test_redis_memory_shows_max_and_explains_zero(models):
    panel = panel_by_title(models, "infrastructure-health", "Redis Memory Usage")
    exprs = exprs_of(panel)
    assert any("redis_memory_used_bytes" in e for e in exprs)
    max_targets = [t for t in panel["targets"] if "redis_memory_max_bytes" in t["expr"]]
    assert max_targets and not any(t.get("hide") for t in max_targets)
    assert "0" in max_targets[0]["legendFormat"]
    assert "no" in panel["description"].lower() and "0" in panel["description"]
    # Never divide by maxmemory anywhere (0 when unset).
    for _, _, target in all_targets(models):
        assert not re.search(r"/\s*\(?\s*\w*\(?redis_memory_max_bytes", target["expr"])


def test_service_health(models):
    panel = panel_by_title(models, "infrastructure-health", "Service Health Status")
    assert panel["type"] == "bargauge"
    by_legend = {t["legendFormat"]: t["expr"] for t in panel["targets"]}
    assert set(by_legend) == {f"{name} {{{{instance}}}}" for name in
                              ("Django", "Host", "PostgreSQL", "Redis", "Celery", "nginx")}
    by_name = {legend.split()[0]: expr for legend, expr in by_legend.items()}
    assert 'pg_up{job="postgres",' in by_name["PostgreSQL"]
    assert 'redis_up{job="redis",' in by_name["Redis"]
    assert 'nginx_up{job="nginx",' in by_name["nginx"]
    assert 'up{job="django",' in by_name["Django"]
    assert 'up{job="node",' in by_name["Host"]
    assert 'up{job="celery",' in by_name["Celery"]
    # one bar per instance, never one number for a whole job
    for expr in by_legend.values():
        assert re.match(r"max by \(environment, instance\) \(", expr), expr
    # the workers, not only Flower the exporter (SPEC section 7: show the service)
    assert by_name["Celery"].startswith('max by (environment, instance) (flower_worker_online{job="celery",')
    mappings = panel["fieldConfig"]["defaults"]["mappings"]
    options = {}
    for mapping in mappings:
        assert mapping["type"] == "value"
        options.update(mapping["options"])
    assert (options["1"]["text"], options["1"]["color"]) == ("UP", "green")
    assert (options["0"]["text"], options["0"]["color"]) == ("DOWN", "red")


# --- output -------------------------------------------------------------------


def test_json_is_deterministic():
    first = {uid: dashboard_json(m) for uid, m in build_dashboards().items()}
    second = {uid: dashboard_json(m) for uid, m in build_dashboards().items()}
    assert first == second
    for _uid, text in first.items():
        assert text.endswith("\n")
        model = json.loads(text)
        assert text == json.dumps(model, sort_keys=True, indent=2) + "\n"


def test_cli_writes_dashboard_json(tmp_path):
    out = tmp_path / "nested" / "out"
    result = subprocess.run(
        [sys.executable, "-m", "dashboards", str(out)], cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    models = build_dashboards()
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{uid}.json" for uid in DASHBOARD_UIDS)
    for uid, model in models.items():
        assert (out / f"{uid}.json").read_text(encoding="utf-8") == dashboard_json(model)
        assert f"{uid}.json" in result.stdout


@pytest.mark.parametrize("argv", [[], ["a", "b"]])
def test_cli_bad_usage(argv):
    result = subprocess.run(
        [sys.executable, "-m", "dashboards", *argv], cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "usage" in result.stderr.lower()


def test_cli_out_dir_is_a_file(tmp_path):
    target = tmp_path / "file"
    target.write_text("x")
    result = subprocess.run(
        [sys.executable, "-m", "dashboards", str(target)], cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert result.returncode != 0 and "not a directory" in result.stderr


# --- JSON schemas (grafana-foundation-sdk jsonschema/, draft-07) ---------------

PANEL_SCHEMAS = {"timeseries": "timeseries", "gauge": "gauge", "bargauge": "bargauge"}
BASE_URI = "https://grafana-schemas.invalid/"


@pytest.fixture(scope="module")
def schema_registry():
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT7

    registry = Registry()
    for path in sorted(SCHEMA_DIR.glob("*.jsonschema.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        registry = registry.with_resource(BASE_URI + path.name, Resource.from_contents(contents, DRAFT7))
    return registry


def _errors(registry, schema_file, pointer, instance):
    """Schema errors of instance against `schema_file#pointer` (all $refs resolved via the registry)."""
    from jsonschema import Draft7Validator

    ref = BASE_URI + schema_file + (f"#{pointer}" if pointer else "")
    validator = Draft7Validator({"$ref": ref}, registry=registry)
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))
    ]


def test_schema_files_are_draft7_with_definitions(schema_registry):
    for name in ("dashboard", "timeseries", "gauge", "bargauge", "prometheus", "common"):
        contents = json.loads((SCHEMA_DIR / f"{name}.jsonschema.json").read_text(encoding="utf-8"))
        assert contents["$schema"] == "http://json-schema.org/draft-07/schema#"
        assert "definitions" in contents


def test_dashboards_validate_against_dashboard_schema(schema_registry, models):
    for uid, model in models.items():
        assert _errors(schema_registry, "dashboard.jsonschema.json", "", model) == [], uid


def test_panel_options_and_custom_validate(schema_registry, models):
    for uid, panel in all_panels(models):
        schema_file = PANEL_SCHEMAS[panel["type"]] + ".jsonschema.json"
        where = f"{uid}: {panel['title']}"
        assert _errors(schema_registry, schema_file, "/definitions/Options", panel["options"]) == [], where
        custom = panel["fieldConfig"]["defaults"].get("custom")
        definitions = json.loads((SCHEMA_DIR / schema_file).read_text(encoding="utf-8"))["definitions"]
        if "FieldConfig" in definitions:
            assert custom is not None, where
            assert _errors(schema_registry, schema_file, "/definitions/FieldConfig", custom) == [], where
        else:
            # gauge and bargauge define no custom field config: there must be none.
            assert not custom, where


def test_targets_validate_against_prometheus_schema(schema_registry, models):
    for uid, panel, target in all_targets(models):
        where = f"{uid}: {panel['title']} {target['refId']}"
        assert _errors(schema_registry, "prometheus.jsonschema.json", "", target) == [], where


def test_schema_check_catches_errors(schema_registry):
    # The validation above is not vacuous: a bad target and bad options are rejected.
    assert _errors(schema_registry, "prometheus.jsonschema.json", "", {"refId": "A", "exprr": "up"})
    assert _errors(schema_registry, "gauge.jsonschema.json", "/definitions/Options", {"orientation": "sideways"})


# --- PromQL parse check with promtool -----------------------------------------


def _promtool():
    return require_tool("promtool", "prometheus")

def _check_rules(promtool, tmp_path, exprs):
    rules = {
        "groups": [
            {
                "name": "dashboard-queries",
                "rules": [
                    {"record": f"dashboard:query_{i}",
                     "expr": expr.replace("$__rate_interval", "1m")}
                    for i, expr in enumerate(exprs)
                ],
            }
        ]
    }
    path = tmp_path / "rules.yml"
    path.write_text(yaml.safe_dump(rules, sort_keys=False), encoding="utf-8")
    return subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True)


def test_promql_parses(tmp_path, models):
    promtool = _promtool()
    exprs = [expr for model in models.values() for _, _, expr in iter_panel_queries(model)]
    assert len(exprs) >= 33
    result = _check_rules(promtool, tmp_path, exprs)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(exprs)} rules found" in result.stdout


def test_promql_check_rejects_bad_query(tmp_path):
    promtool = _promtool()
    result = _check_rules(promtool, tmp_path, ["sum(rate(up[$__rate_interval])"])
    assert result.returncode != 0


# --- template variables (a fleet: environment and instances) --------------------

EXPECTED_VARIABLES = {
    "system-overview": ["environment", "host", "pg_instance", "django_instance"],
    "application-performance": ["environment", "django_instance"],
    "database-performance": ["environment", "pg_instance", "datname"],
    "infrastructure-health": ["environment", "host", "redis_instance"],
    "containers": ["environment", "docker_host", "container"],
    "probes": ["environment", "probe"],
    "celery": ["environment", "flower", "broker"],
}
# The job whose instances each instance variable lists.
VARIABLE_JOB = {"host": "node", "django_instance": "django", "pg_instance": "postgres", "redis_instance": "redis",
                "docker_host": "cadvisor", "probe": "blackbox", "flower": "celery", "broker": "redis"}


def query_variables(model):
    return [v for v in model["templating"]["list"] if v["type"] == "query"]


def test_dashboards_have_their_instance_variables_in_order(models):
    assert {uid: [v["name"] for v in query_variables(m)] for uid, m in models.items()} == EXPECTED_VARIABLES
    for model in models.values():
        assert model["templating"]["list"][0]["name"] == "datasource"


def test_variables_are_multi_with_an_all_that_matches_absent_labels(models):
    for uid, model in models.items():
        for var in query_variables(model):
            where = (uid, var["name"])
            assert var["datasource"] == DS_REF, where
            assert var["multi"] is True and var["includeAll"] is True, where
            # `.*` matches a series without the label (a single host without environment labels);
            # Grafana's default All would be the list of values, which does not.
            assert var["allValue"] == ".*", where
            assert var["current"]["value"] == "$__all", where
            assert var["refresh"] == 2, where  # on time range change: new instances appear
            assert var["label"], where


def test_variable_queries_use_label_values_on_fixed_jobs(models):
    for uid, model in models.items():
        for var in query_variables(model):
            match = re.fullmatch(r"label_values\((\w+)\{(.*)\}, (\w+)\)", var["query"])
            if var["name"] == "environment":
                assert var["query"] == "label_values(up, environment)", uid
                continue
            assert match, (uid, var["query"])
            metric, matchers, label = match.groups()
            assert 'environment=~"$environment"' in matchers, (uid, var["query"])
            if var["name"] == "datname":
                assert (metric, label) == ("pg_database_size_bytes", "datname")
                assert 'job="postgres"' in matchers and 'instance=~"$pg_instance"' in matchers
                assert 'datname!~"template.*"' in matchers
            elif var["name"] == "container":
                # Container names of the Docker hosts picked; the root cgroup (no name) is no container.
                assert (metric, label) == ("container_start_time_seconds", "name")
                assert 'job="cadvisor"' in matchers and 'name!=""' in matchers
                assert 'instance=~"$docker_host"' in matchers
            else:
                # `up`: an instance that is down can still be picked (and shows DOWN).
                assert (metric, label) == ("up", "instance"), var["query"]
                assert f'job="{VARIABLE_JOB[var["name"]]}"' in matchers


def test_variables_are_defined_before_use(models):
    for uid, model in models.items():
        defined = {"datasource"}
        for var in model["templating"]["list"]:
            used = set(re.findall(r"\$(\w+)", json.dumps(var.get("query", ""))))
            assert used <= defined, (uid, var["name"], used - defined)
            defined.add(var["name"])
        for _, _, expr in iter_panel_queries(model):
            assert set(re.findall(r"\$(\w+)", expr)) - {"__rate_interval"} <= defined, (uid, expr)


SELECTOR = re.compile(r"([a-zA-Z_:][\w:]*)\{([^}]*)\}")


def test_every_selector_is_narrowed_by_the_dashboards_variables(models):
    """Every series a panel reads is filtered by the environment and, for a job with an
    instance variable on that dashboard, by that variable (and the database by datname)."""
    checked = 0
    for uid, model in models.items():
        names = {v["name"] for v in query_variables(model)}
        for title, _, expr in iter_panel_queries(model):
            for metric, matchers in SELECTOR.findall(expr):
                checked += 1
                assert 'environment=~"$environment"' in matchers, (uid, title, metric)
                (job,) = re.findall(r'job="(\w+)"', matchers)
                wanted = [name for name, j in VARIABLE_JOB.items() if j == job and name in names]
                if job == "node" and "Service Health" in title:
                    wanted = ["host"]
                for name in wanted:
                    assert f'instance=~"${name}"' in matchers, (uid, title, metric)
                if "datname" in names and (metric.startswith("pg_stat_database_") or metric == "pg_database_size_bytes"):
                    assert 'datname=~"$datname"' in matchers, (uid, title, metric)
                if job == "cadvisor":
                    # Containers only (not the root cgroup), narrowed by the Container variable.
                    assert 'name!=""' in matchers and 'name=~"$container"' in matchers, (uid, title, metric)
    assert checked > 60


def _keeps_instances(expr: str) -> bool:
    # Every aggregation keeps the instance, or the series read is recorded per instance.
    aggregations = re.findall(r"\b(sum|avg|max|min|count)\s*(by\s*\(([^)]*)\))?\s*\(", expr)
    recorded = re.findall(r"\b(\w+):\w+:\w+\{", expr)
    return all(by and "instance" in labels for _, by, labels in aggregations) and all(
        level.startswith("instance") for level in recorded)


def test_gauges_show_one_value_per_instance_and_legends_name_it(models):
    for uid, panel in all_panels(models):
        for target in panel["targets"]:
            assert _keeps_instances(target["expr"]), (uid, panel["title"], target["expr"])
            assert "{{instance}}" in target["legendFormat"], (uid, panel["title"], target["legendFormat"])


def test_keeps_instances_catches_a_fleet_average():
    assert not _keeps_instances('avg(rate(node_cpu_seconds_total{job="node"}[5m]))')
    assert not _keeps_instances('sum by (method) (rate(x{job="django"}[5m]))')
    assert not _keeps_instances('job:django_http_requests_latency_seconds:p95_5m{job="django"}')
    assert _keeps_instances('sum by (environment, instance) (x{job="redis"})')



# --- containers (cAdvisor) ----------------------------------------------------------------------


def test_container_panels_read_cadvisor_metrics_per_container(models):
    uid = "containers"
    for panel in models[uid]["panels"]:
        for target in panel["targets"]:
            # One series per container of a host: the legend names both, aggregations keep the name.
            assert target["legendFormat"].startswith("{{name}} on {{instance}}"), target["legendFormat"]
            # The records they read included.
            for labels in re.findall(r"\bby\s*\(([^)]*)\)", expanded(target["expr"])):
                assert "name" in [label.strip() for label in labels.split(",")], target["expr"]
    cpu = exprs_of(panel_by_title(models, uid, "CPU Usage by Container"))
    assert cpu == [f"100 * instance_name:container_cpu_usage_seconds:rate5m{{{CONTAINER_SELECTOR}}}"]
    assert 'rate(container_cpu_usage_seconds_total{job="cadvisor",name!=""}[5m])' in expanded(cpu[0])
    working_set, limit = exprs_of(panel_by_title(models, uid, "Memory Working Set by Container"))
    assert "container_memory_working_set_bytes{" in expanded(working_set)
    # A limit of 0 is cAdvisor's "no limit": never drawn as a line at 0.
    assert '(container_spec_memory_limit_bytes{job="cadvisor",name!=""} > 0)' in expanded(limit)
    assert exprs_of(panel_by_title(models, uid, "Memory Usage of Limit")) == [
        f"100 * instance_name:container_memory_limit_utilisation:ratio{{{CONTAINER_SELECTOR}}}"]
    assert exprs_of(panel_by_title(models, uid, "Restarts (last 15 min)")) == [
        f"instance_name:container_start_time_seconds:changes15m{{{CONTAINER_SELECTOR}}}"]
    received, sent = exprs_of(panel_by_title(models, uid, "Network Traffic by Container"))
    assert "rate(container_network_receive_bytes_total{" in expanded(received)
    assert "rate(container_network_transmit_bytes_total{" in expanded(sent)


CONTAINER_SELECTOR = 'job="cadvisor",name!="",environment=~"$environment",instance=~"$docker_host",name=~"$container"'


# --- firing alerts as annotations, links between dashboards ------------------------------------


def _alert_annotations(model):
    return [a for a in model.get("annotations", {}).get("list", []) if a.get("expr", "").startswith("ALERTS{")]


def _alertnames(expr):
    match = re.fullmatch(r'ALERTS\{alertstate="firing", alertname=~"([A-Za-z0-9|]+)", environment=~"\$environment"\}',
                         expr)
    assert match, expr
    return set(match.group(1).split("|"))


def test_firing_alerts_annotation(models):
    from components.prometheus.alert_links import ALERT_DASHBOARDS
    from components.prometheus.rules import rule_entries

    alert_names = {rule["alert"] for rule in rule_entries("alert")}
    marked = set()
    for uid, model in models.items():
        (annotation,) = _alert_annotations(model)
        assert annotation["name"] == "Firing alerts"
        assert annotation["enable"] is True and annotation["hide"] is False
        assert annotation["datasource"] == DS_REF
        assert annotation["iconColor"] == "red"
        assert annotation["titleFormat"] == "{{alertname}} ({{severity}})"
        assert annotation["textFormat"] == "{{alertname}} firing on {{instance}}"
        assert annotation["tagKeys"] == "alertname,severity,instance"
        assert annotation["useValueForTime"] is False
        names = _alertnames(annotation["expr"])
        assert names <= alert_names, (uid, names - alert_names)
        # Each alert marks the dashboard its dashboard_url opens.
        assert {a for a, shown in ALERT_DASHBOARDS.items() if shown.link == uid} - {"Watchdog"} <= names, uid
        # Annotations show on time series panels: every dashboard has one.
        assert any(p["type"] == "timeseries" for p in model["panels"]), uid
        marked |= names
    # Every alert but the always-firing Watchdog is marked somewhere; the Watchdog nowhere.
    assert marked == alert_names - {"Watchdog"}


def test_firing_alerts_annotation_per_dashboard(models):
    # Written out here: which dashboards mark which alerts.
    expected = {
        "system-overview": {"DjangoDown", "DjangoHighErrorRate", "DjangoHighLatencyP95", "PostgresDown",
                            "PostgresTooManyConnections"},
        "application-performance": {"DjangoHighErrorRate", "DjangoHighLatencyP95", "DjangoDown"},
        "database-performance": {"PostgresLowCacheHitRatio", "PostgresTooManyConnections", "PostgresDown"},
        "containers": {"ContainerMemoryNearLimit", "ContainerRestartLoop"},
        "probes": {"ProbeFailed", "ProbeSlow", "ProbeCertificateExpiresIn14Days", "ProbeCertificateExpiresIn3Days"},
    }
    for uid, names in expected.items():
        (annotation,) = _alert_annotations(models[uid])
        assert _alertnames(annotation["expr"]) == names, uid
    (infra,) = _alert_annotations(models["infrastructure-health"])
    assert {"HostHighCpuUsage", "HostDiskAlmostFull", "RedisMemoryNearMax", "RedisDown", "TargetDown",
            "PrometheusRuleEvaluationFailures"} <= _alertnames(infra["expr"])


def test_annotation_queries_parse(tmp_path, models):
    exprs = [a["expr"] for model in models.values() for a in _alert_annotations(model)]
    assert len(exprs) == len(DASHBOARD_UIDS)
    result = _check_rules(_promtool(), tmp_path, exprs)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dashboards_link_to_each_other(models):
    for uid, model in models.items():
        (link,) = model["links"]
        assert link == {"title": "Dashboards", "type": "dashboards", "tags": ["monitoring"], "asDropdown": False,
                        "icon": "external link", "tooltip": "", "targetBlank": False,
                        # The variables picked and the time range carry over.
                        "includeVars": True, "keepTime": True}, uid
        # Grafana lists the dashboards carrying every tag of the link: all of ours do.
        assert set(link["tags"]) <= set(model["tags"]), uid


def test_annotation_and_link_schema_check_catches_errors(schema_registry, models):
    model = json.loads(json.dumps(models["probes"]))
    model["annotations"]["list"][0]["titleFormatt"] = "{{alertname}}"
    assert _errors(schema_registry, "dashboard.jsonschema.json", "", model)
    model = json.loads(json.dumps(models["probes"]))
    del model["links"][0]["keepTime"]
    assert _errors(schema_registry, "dashboard.jsonschema.json", "", model)


# --- celery (Flower and the broker's queues) ------------------------------------------------------------


CELERY_SELECTOR = 'job="celery",environment=~"$environment",instance=~"$flower"'


def test_celery_panels_read_flower_and_the_broker_queues(models):
    uid = "celery"
    (throughput,) = exprs_of(panel_by_title(models, uid, "Task Throughput by State"))
    assert throughput == f"instance_type:flower_events:rate5m{{{CELERY_SELECTOR}}}"
    assert "sum by (job, instance, type) (rate(flower_events_total{job=\"celery\",type=~\"task-.*\"}[5m]))" in (
        expanded(throughput))
    # The failure ratio the alert judges, recorded over a fixed 5m window.
    assert exprs_of(panel_by_title(models, uid, "Task Failure Ratio")) == [
        f"100 * instance:flower_task_failures:ratio_rate5m{{{CELERY_SELECTOR}}}"]
    (runtime,) = exprs_of(panel_by_title(models, uid, "Task Runtime p95 by Task"))
    assert runtime.startswith(f"instance_task:flower_task_runtime_seconds:p95_5m{{{CELERY_SELECTOR}}} and on "
                              "(environment, instance, task) topk(10, ")
    assert "histogram_quantile(0.95, sum by (job, instance, task, le) (rate(flower_task_runtime_seconds_bucket{" in (
        expanded(runtime))
    (executing,) = exprs_of(panel_by_title(models, uid, "Tasks Executing"))
    assert executing == f"instance_worker:flower_worker_executing_tasks:max{{{CELERY_SELECTOR}}}"
    assert "flower_worker_number_of_currently_executing_tasks{" in expanded(executing)
    backlog = panel_by_title(models, uid, "Queue Backlog")
    assert exprs_of(backlog) == ['max by (environment, instance, db, key) (redis_key_size{job="redis",'
                                 'environment=~"$environment",instance=~"$broker"})']
    # Legends name the instance and what the series is of (state, task, worker, queue).
    legends = {p["title"]: p["targets"][0]["legendFormat"] for p in models[uid]["panels"]}
    assert legends == {"Task Throughput by State": "{{instance}} {{type}}", "Task Failure Ratio": "{{instance}}",
                       "Task Runtime p95 by Task": "{{instance}} {{task}}",
                       "Tasks Executing": "{{instance}} {{worker}}", "Queue Backlog": "{{instance}} {{db}} {{key}}"}
    for title in ("Task Failure Ratio", "Queue Backlog"):
        assert panel_by_title(models, uid, title)["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"][
            "mode"] == "dashed", title
