"""The stack config model (SPEC section 4): defaults, accepted forms, and every bad input.

Every bad input must fail with one problem line `monitoring:<key>: <value> is not allowed:
<what is allowed>` naming the exact key and showing the bad value (secrets: only their
length). Values are tried both as Pulumi stores them (strings, objects as JSON text) and
as parsed Python values.
"""

from __future__ import annotations

import json
import re

import pytest
from pydantic import SecretStr

from components.config import (
    MIN_PASSWORD_LENGTH,
    RESTART_POLICIES,
    TOP_LEVEL_KEYS,
    ConfigError,
    StackConfig,
    default_images,
    load_config,
    values_in_namespace,
)
from components.exporters.table import EXPORTER_NAMES
from components.types import NotAllowed, duration_ms, parse_image

DSN = "postgresql://monitor:s3cret-dsn-pw@db:5432/app?sslmode=disable"
PASSWORD = "correct-horse-battery"
DIGEST = "sha256:" + "0123456789abcdef" * 4
# Base for bad-input cases: valid on its own (a DSN, demo off), so exactly one problem shows.
BASE = {"postgresDsn": DSN}
HOOK = {"name": "ops", "type": "webhook", "url": "http://hook:9000/"}

_LINE_RE = re.compile(r"^monitoring:(?P<key>[^ ]+?): (?P<value>.*) is not allowed: (?P<allowed>.+)$")


def as_pulumi(values: dict) -> dict:
    """What Pulumi stores: every value a string, objects and lists as JSON text."""
    out = {}
    for key, value in values.items():
        if value is None or isinstance(value, str):
            out[key] = value
        elif isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, (dict, list)):
            out[key] = json.dumps(value)
        else:
            out[key] = str(value)
    return out


@pytest.fixture(params=["parsed", "pulumi"])
def form(request):
    """Converts a values dict to the form under test."""
    return (lambda v: dict(v)) if request.param == "parsed" else as_pulumi


def problems_of(values: dict) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(values)
    assert info.value.problems, "ConfigError raised with no problem lines"
    return info.value.problems


def parse_line(line: str) -> dict:
    match = _LINE_RE.match(line)
    assert match, f"problem line not of the form 'monitoring:<key>: <value> is not allowed: ...': {line!r}"
    return match.groupdict()


def only_problem(values: dict) -> dict:
    problems = problems_of(values)
    assert len(problems) == 1, f"expected exactly one problem, got {problems}"
    return parse_line(problems[0])


# --------------------------------------------------------------------------- defaults


@pytest.fixture
def defaults() -> StackConfig:
    return load_config({"postgresDsn": DSN})


def revealed(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


def test_defaults_are_accepted_by_their_own_checks(defaults):
    # Defaults are not validated when used: dumped and read again, they must pass every check.
    again = load_config(_to_values(defaults))
    assert again == defaults
    assert defaults.grafana.root_url == f"http://127.0.0.1:{defaults.grafana.port}/"
    assert revealed(defaults.postgres_dsn) == DSN


def test_default_images_are_pinned():
    for name, image in default_images().items():
        parse_image(image)  # raises when not pinned to one build
        assert not image.startswith("grafana/grafana-oss"), name  # no longer updated upstream


def test_every_exporter_enabled_by_default_in_table_order(defaults):
    assert [e.name for e in defaults.enabled_exporters()] == list(EXPORTER_NAMES)


def test_scrape_timeout_default_never_exceeds_a_short_interval():
    assert load_config({**BASE, "prometheus": {"scrapeInterval": "5s"}}).prometheus.scrape_timeout == "5s"
    assert load_config({**BASE, "prometheus": {"scrapeInterval": "30s"}}).prometheus.scrape_timeout == "10s"


def test_empty_config_outside_demo_needs_only_the_postgres_dsn():
    line = only_problem({})
    assert line["key"] == "postgresDsn"
    assert line["value"] == "null"


def test_none_values_mean_not_given(form):
    cfg = load_config(form({"postgresDsn": DSN, "bindAddress": None, "grafana": None, "network": None,
                            "someUnknownKey": None}))
    assert cfg.bind_address == "127.0.0.1"
    assert cfg.grafana.port == 3000


# --------------------------------------------------------------------------- good input

FULL = {
    "tls": {"enabled": True, "hosts": ["monitoring.internal", "10.1.2.4"]},
    "prometheusPassword": "prometheus-password-1", "alertmanagerPassword": "alertmanager-password-1",
    "bindAddress": "10.1.2.3",
    "network": "platform_net",
    "demo": False,
    "restartPolicy": "always",
    "grafana": {"port": 3300, "image": "grafana/grafana:12.1.1", "adminUser": "ops.admin",
                "rootUrl": "https://grafana.example.com/", "plugins": ["grafana-clock-panel@2.1.8"],
                "memoryMb": 768},
    "grafanaAdminPassword": PASSWORD,
    "prometheus": {"port": 9191, "image": "prom/prometheus@" + DIGEST, "retention": "30d",
                   "scrapeInterval": "30s", "evaluationInterval": "1m", "scrapeTimeout": "30s",
                   "memoryMb": 2048, "queryTimeout": "2m", "queryMaxSamples": "50000000", "queryMaxConcurrency": 8},
    "exporters": {
        "node": {"enabled": True, "image": "prom/node-exporter:v1.9.0", "memoryMb": 64},
        "postgres": {"enabled": True},
        "redis": {"address": "cache.internal:6380", "enabled": "true"},
        "nginx": {"scrapeUri": "https://web:8443/nginx_status", "enabled": False},
        "celery": {"brokerUrl": "amqp://guest:guest@rabbit:5672//", "image": "mher/flower:2.0.1"},
        "cadvisor": {"image": "ghcr.io/google/cadvisor:v0.60.4", "memoryMb": 192},
    },
    "postgresDsn": DSN,
    "redisPassword": "redis-pw",
    "targets": {"django": ["web-1:8000", "web-2:8001", "[fd00::5]:8000"]},
    "alertmanager": {"enabled": True, "port": 9393, "image": "prom/alertmanager:v0.28.0",
                     "receivers": [{"name": "ops", "type": "webhook", "url": "http://hook:9000/",
                                    "severities": ["critical", "warning"]},
                                   {"name": "pager", "type": "webhook", "url": "http://pager:9000/",
                                    "severities": ["critical"]}],
                     "heartbeat": {"url": "https://hc-ping.example.com/uuid-1", "repeatInterval": "2m"},
                     "memoryMb": 128},
}


def test_full_config_every_value_read(form):
    cfg = load_config(form(FULL))
    assert cfg.bind_address == "10.1.2.3"
    assert cfg.network == "platform_net"
    assert cfg.demo is False
    assert cfg.restart_policy == "always"
    assert (cfg.grafana.port, cfg.grafana.image, cfg.grafana.admin_user, cfg.grafana.root_url,
            cfg.grafana.plugins, cfg.grafana.memory_mb) == (
        3300, "grafana/grafana:12.1.1", "ops.admin", "https://grafana.example.com/",
        ("grafana-clock-panel@2.1.8",), 768)
    assert revealed(cfg.grafana_admin_password) == PASSWORD
    p = cfg.prometheus
    assert (p.port, p.image, p.retention, p.scrape_interval, p.evaluation_interval, p.scrape_timeout,
            p.memory_mb, p.query_timeout, p.query_max_samples, p.query_max_concurrency) == (
        9191, "prom/prometheus@" + DIGEST, "30d", "30s", "1m", "30s", 2048, "2m", 50_000_000, 8)
    ex = cfg.exporters
    assert (ex["node"].image, ex["node"].memory_mb) == ("prom/node-exporter:v1.9.0", 64)
    assert ex["redis"].enabled is True and ex["redis"].settings["address"] == "cache.internal:6380"
    assert ex["nginx"].enabled is False
    assert ex["nginx"].settings["scrapeUri"] == "https://web:8443/nginx_status"
    assert ex["celery"].settings["brokerUrl"] == "amqp://guest:guest@rabbit:5672//"
    assert (ex["cadvisor"].image, ex["cadvisor"].memory_mb) == ("ghcr.io/google/cadvisor:v0.60.4", 192)
    assert [e.name for e in cfg.enabled_exporters()] == ["node", "postgres", "redis", "celery", "blackbox", "cadvisor"]
    assert revealed(cfg.postgres_dsn) == DSN
    assert revealed(cfg.redis_password) == "redis-pw"
    assert [t.address for t in cfg.django_targets] == ["web-1:8000", "web-2:8001", "[fd00::5]:8000"]
    a = cfg.alertmanager
    assert (a.enabled, a.port, a.image, a.memory_mb) == (True, 9393, "prom/alertmanager:v0.28.0", 128)
    assert [r.model_dump(mode="json") | {"url": revealed(r.url)} for r in a.receivers] == FULL["alertmanager"]["receivers"]
    assert a.heartbeat is not None
    assert (revealed(a.heartbeat.url), a.heartbeat.repeat_interval) == ("https://hc-ping.example.com/uuid-1", "2m")


def test_alertmanager_routing_defaults():
    a = load_config({"demo": True, "alertmanager": {"enabled": True, "receivers": [HOOK]}}).alertmanager
    assert a.heartbeat is None
    assert a.receivers[0].severities == ("critical", "warning")
    beat = load_config({"demo": True, "alertmanager": {"enabled": True, "receivers": [HOOK], "heartbeat": {
        "url": "https://hc-ping.example.com/uuid-1"}}}).alertmanager.heartbeat
    assert beat is not None and beat.repeat_interval == "1m"


def _reveal(value):
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, dict):
        return {k: _reveal(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_reveal(v) for v in value]
    return value


def _to_values(cfg: StackConfig) -> dict:
    """Writes a StackConfig back as raw `monitoring:*` values, secrets revealed."""
    return _reveal(cfg.model_dump(by_alias=True, exclude_none=True))


@pytest.mark.parametrize("values", [FULL, {"postgresDsn": DSN}, {"demo": "true"}], ids=["full", "defaults", "demo"])
def test_config_round_trips(form, values):
    first = load_config(form(values))
    again = load_config(form(_to_values(first)))
    assert again == first


def test_pulumi_strings_and_parsed_values_give_the_same_config():
    assert load_config(as_pulumi(FULL)) == load_config(dict(FULL))


@pytest.mark.parametrize("text, expected", [("true", True), ("false", False), ("True", True), ("FALSE", False),
                                            (True, True), (False, False)])
def test_demo_flag_forms(text, expected):
    assert load_config({"demo": text, "postgresDsn": DSN}).demo is expected


def test_ports_given_as_strings_are_numbers():
    cfg = load_config({**BASE, "grafana": {"port": "3001"}, "prometheus": json.dumps({"port": "9091"})})
    assert (cfg.grafana.port, cfg.prometheus.port) == (3001, 9091)


@pytest.mark.parametrize("policy", RESTART_POLICIES)
def test_every_restart_policy_accepted(policy):
    assert load_config({**BASE, "restartPolicy": policy}).restart_policy == policy


@pytest.mark.parametrize("image", [
    "prom/prometheus@" + DIGEST,
    "prom/prometheus:v3.7.3@" + DIGEST,
    "registry.example.com:5000/prom/prometheus:v3.7.3",
    "localhost:5000/prometheus@" + DIGEST,
])
def test_pinned_images_and_digests_accepted(form, image):
    assert load_config(form({**BASE, "prometheus": {"image": image}})).prometheus.image == image


TLS_ON = {"tls": {"enabled": True}}


@pytest.mark.parametrize("spelling, canonical", [("0.0.0.0", "0.0.0.0"), ("::0", "::"),
                                                 ("0:0:0:0:0:0:0:0", "::"), ("0:0::1", "::1")])
def test_bind_address_is_an_ip_kept_in_canonical_form(spelling, canonical):
    assert load_config({**BASE, **TLS_ON, "bindAddress": spelling}).bind_address == canonical


@pytest.mark.parametrize("address, tls, root_url", [
    ("::1", {}, "http://[::1]:3000/"), ("127.0.0.2", {}, "http://127.0.0.2:3000/"),
    ("::1", TLS_ON, "https://[::1]:3000/"),
    ("fd00::10", TLS_ON, "https://[fd00::10]:3000/"), ("192.168.1.5", TLS_ON, "https://192.168.1.5:3000/")])
def test_bind_address_ip_accepted_and_default_root_url(address, tls, root_url):
    cfg = load_config({**BASE, **tls, "bindAddress": address})
    assert cfg.bind_address == address
    assert cfg.grafana.root_url == root_url


@pytest.mark.parametrize("address", ["0.0.0.0", "::", "::0", "10.1.2.3", "192.168.1.5", "fd00::10",
                                     "::ffff:0.0.0.0", "::ffff:10.0.0.1"])
def test_bind_beyond_loopback_without_tls_is_refused_saying_how_to_enable_it(address):
    with pytest.raises(ConfigError) as failure:
        load_config({**BASE, "bindAddress": address})
    (line,) = failure.value.problems
    assert line.startswith("monitoring:bindAddress: ") and "is not allowed: a loopback address" in line
    assert "pulumi config set --path tls.enabled true" in line
    with pytest.raises(ConfigError):
        load_config({**BASE, "bindAddress": address, "tls": {"enabled": False}})


@pytest.mark.parametrize("config, key, allowed", [
    ({"prometheusPassword": "long-enough-pass"}, "prometheusPassword", "no password while tls.enabled is false"),
    ({**TLS_ON, "prometheusPassword": "short"}, "prometheusPassword", "at least 12 characters"),
    ({"tls": {"enabled": True, "certificate": "not a pem"}}, "tls.certificate", "PEM certificates"),
    ({"tls": {"enabled": True, "certificate": "-----BEGIN CERTIFICATE-----\nYQ==\n-----END CERTIFICATE-----\n"}},
     "tls.privateKey", "certificate and privateKey, both or neither"),
    ({"tls": {"enabled": True, "certificate": "-----BEGIN CERTIFICATE-----\nYQ==\n-----END CERTIFICATE-----\n",
              "privateKey": "-----BEGIN PRIVATE KEY-----\nYQ==\n-----END PRIVATE KEY-----\n"}},
     "tls.caCertificate", "the PEM CA certificate that issued tls.certificate"),
    ({"tls": {"enabled": True, "hosts": ["two words"]}}, "tls.hosts[0]", "a DNS name or an IP address"),
    ({"prometheus": {"user": "a b"}}, "prometheus.user", "a user name"),
])
def test_tls_and_login_problems_name_key_value_and_what_is_allowed(config, key, allowed):
    with pytest.raises(ConfigError) as failure:
        load_config({**BASE, **config})
    lines = [line for line in failure.value.problems if line.startswith(f"monitoring:{key}: ")]
    assert len(lines) == 1 and allowed in lines[0], failure.value.problems
    line = lines[0]
    assert "long-enough-pass" not in line and "YQ==" not in line  # secrets shown by length only


def test_default_root_url_follows_grafana_port():
    assert load_config({**BASE, "grafana": {"port": 3456}}).grafana.root_url == "http://127.0.0.1:3456/"


def test_scrape_timeout_equal_to_interval_accepted():
    cfg = load_config({**BASE, "prometheus": {"scrapeInterval": "30s", "scrapeTimeout": "30s"}})
    assert cfg.prometheus.scrape_timeout == "30s"


def test_scrape_timeout_compared_as_durations_not_text():
    # "1m" sorts before "30s" as text; as durations 30s < 1m, so it is fine.
    cfg = load_config({**BASE, "prometheus": {"scrapeInterval": "1m", "scrapeTimeout": "30s"}})
    assert cfg.prometheus.scrape_timeout == "30s"


def test_disabled_alertmanager_port_may_equal_another_port():
    cfg = load_config({**BASE, "alertmanager": {"enabled": False, "port": 3000}})
    assert cfg.alertmanager.enabled is False


def test_postgres_without_dsn_accepted_in_demo(form):
    cfg = load_config(form({"demo": True}))
    assert cfg.demo is True and cfg.postgres_dsn is None and cfg.exporters["postgres"].enabled


def test_postgres_without_dsn_accepted_when_postgres_exporter_disabled(form):
    cfg = load_config(form({"exporters": {"postgres": {"enabled": False}}}))
    assert cfg.exporters["postgres"].enabled is False and cfg.postgres_dsn is None
    assert "postgres" not in [e.name for e in cfg.enabled_exporters()]


def test_postgres_dsn_accepted_with_both_schemes():
    assert revealed(load_config({"postgresDsn": "postgres://u:p@h:5432/d"}).postgres_dsn) == "postgres://u:p@h:5432/d"


def test_password_of_exactly_min_length_accepted():
    pw = "x" * MIN_PASSWORD_LENGTH
    assert revealed(load_config({**BASE, "grafanaAdminPassword": pw}).grafana_admin_password) == pw


def test_secrets_never_in_repr():
    cfg = load_config({**BASE, "grafanaAdminPassword": PASSWORD, "redisPassword": "redis-pw-value"})
    text = repr(cfg) + str(cfg)
    for secret in (PASSWORD, "redis-pw-value", DSN, "s3cret-dsn-pw"):
        assert secret not in text



def test_values_in_namespace():
    assert values_in_namespace({"monitoring:demo": "true", "aws:region": "x", "monitoringx:y": 1}) == {"demo": "true"}


# --------------------------------------------------------------------------- bad input

# (id, values merged onto BASE, key named in the problem line, the bad value as shown (JSON),
#  a word the "allowed" part must contain)
BAD = [
    # ports
    ("grafana-port-0", {"grafana": {"port": 0}}, "grafana.port", 0, "1 to 65535"),
    ("grafana-port-65536", {"grafana": {"port": 65536}}, "grafana.port", 65536, "1 to 65535"),
    ("grafana-port-negative", {"grafana": {"port": -1}}, "grafana.port", -1, "1 to 65535"),
    ("prometheus-port-string-70000", {"prometheus": {"port": "70000"}}, "prometheus.port", "70000", "1 to 65535"),
    ("prometheus-port-not-a-number", {"prometheus": {"port": "ninety"}}, "prometheus.port", "ninety", "1 to 65535"),
    ("prometheus-port-empty", {"prometheus": {"port": ""}}, "prometheus.port", "", "1 to 65535"),
    ("grafana-port-float", {"grafana": {"port": 3000.5}}, "grafana.port", 3000.5, "1 to 65535"),
    ("grafana-port-bool", {"grafana": {"port": True}}, "grafana.port", True, "1 to 65535"),
    ("grafana-port-list", {"grafana": {"port": [3000]}}, "grafana.port", [3000], "1 to 65535"),
    # "²".isdigit() is True but int("²") raises: must be a problem line, not a crash
    ("grafana-port-superscript-digit", {"grafana": {"port": "²"}}, "grafana.port", "²", "1 to 65535"),
    ("alertmanager-port-99999", {"alertmanager": {"enabled": True, "port": 99999,
                                                  "receivers": [HOOK]}},
     "alertmanager.port", 99999, "1 to 65535"),
    # two services on one host port
    ("prometheus-on-grafana-port", {"prometheus": {"port": 3000}}, "prometheus.port", 3000, "grafana.port"),
    ("grafana-on-prometheus-port", {"grafana": {"port": "9090"}}, "prometheus.port", 9090, "grafana.port"),
    ("alertmanager-on-grafana-port", {"alertmanager": {"enabled": True, "port": 3000,
                                                       "receivers": [HOOK]}},
     "alertmanager.port", 3000, "grafana.port"),
    ("alertmanager-on-prometheus-port", {"alertmanager": {"enabled": "true", "port": 9090,
                                                          "receivers": [HOOK]}},
     "alertmanager.port", 9090, "prometheus.port"),
    # durations
    ("retention-15days", {"prometheus": {"retention": "15days"}}, "prometheus.retention", "15days", "duration"),
    ("retention-space", {"prometheus": {"retention": "15 d"}}, "prometheus.retention", "15 d", "duration"),
    ("retention-units-out-of-order", {"prometheus": {"retention": "1m1h"}}, "prometheus.retention", "1m1h", "duration"),
    ("retention-zero", {"prometheus": {"retention": "0s"}}, "prometheus.retention", "0s", "duration"),
    ("retention-number", {"prometheus": {"retention": 15}}, "prometheus.retention", 15, "duration"),
    ("query-timeout-no-unit", {"prometheus": {"queryTimeout": "30"}}, "prometheus.queryTimeout", "30", "duration"),
    ("query-timeout-too-long", {"prometheus": {"queryTimeout": "1h"}}, "prometheus.queryTimeout", "1h", "to 10m"),
    ("query-max-samples-too-few", {"prometheus": {"queryMaxSamples": 1000}}, "prometheus.queryMaxSamples", 1000,
     "from 1000000 to 1000000000"),
    ("query-max-samples-float", {"prometheus": {"queryMaxSamples": "2e7"}}, "prometheus.queryMaxSamples", "2e7",
     "whole number"),
    ("query-max-concurrency-zero", {"prometheus": {"queryMaxConcurrency": 0}}, "prometheus.queryMaxConcurrency", 0,
     "from 1 to 200"),
    ("query-max-concurrency-bool", {"prometheus": {"queryMaxConcurrency": True}}, "prometheus.queryMaxConcurrency",
     True, "whole number"),
    ("scrape-interval-no-unit", {"prometheus": {"scrapeInterval": "15"}}, "prometheus.scrapeInterval", "15", "duration"),
    ("evaluation-interval-fraction", {"prometheus": {"evaluationInterval": "1.5m"}},
     "prometheus.evaluationInterval", "1.5m", "duration"),
    ("scrape-timeout-uppercase", {"prometheus": {"scrapeTimeout": "10S"}}, "prometheus.scrapeTimeout", "10S", "duration"),
    ("scrape-timeout-longer-than-default-interval", {"prometheus": {"scrapeTimeout": "20s"}},
     "prometheus.scrapeTimeout", "20s", "15s"),
    ("scrape-timeout-longer-than-interval", {"prometheus": {"scrapeInterval": "30s", "scrapeTimeout": "1m"}},
     "prometheus.scrapeTimeout", "1m", "30s"),
    # exporters
    ("exporters-not-an-object", {"exporters": ["node"]}, "exporters", ["node"], "object"),
    ("exporter-entry-bad-json", {"exporters": {"node": "{enabled: false}"}}, "exporters.node", "{enabled: false}", "JSON"),
    ("exporter-enabled-not-bool", {"exporters": {"redis": {"enabled": "yes"}}}, "exporters.redis.enabled", "yes", "true or false"),
    ("exporter-memory-too-small", {"exporters": {"node": {"memoryMb": 8}}}, "exporters.node.memoryMb", 8, "16"),
    # unknown keys inside objects (value shown)
    # images
    ("image-latest", {"grafana": {"image": "grafana/grafana:latest"}}, "grafana.image", "grafana/grafana:latest", "latest"),
    ("image-no-tag", {"prometheus": {"image": "prom/prometheus"}}, "prometheus.image", "prom/prometheus", "tag"),
    ("image-empty-tag", {"prometheus": {"image": "prom/prometheus:"}}, "prometheus.image", "prom/prometheus:", "tag"),
    ("image-registry-port-no-tag", {"prometheus": {"image": "localhost:5000/prometheus"}}, "prometheus.image",
     "localhost:5000/prometheus", "tag"),
    ("image-exporter-latest", {"exporters": {"nginx": {"image": "nginx/nginx-prometheus-exporter:latest"}}},
     "exporters.nginx.image", "nginx/nginx-prometheus-exporter:latest", "latest"),
    ("image-alertmanager-no-tag", {"alertmanager": {"image": "prom/alertmanager"}}, "alertmanager.image",
     "prom/alertmanager", "tag"),
    ("image-empty", {"grafana": {"image": ""}}, "grafana.image", "", "tag"),
    ("digest-short", {"prometheus": {"image": "prom/prometheus@sha256:abc123"}}, "prometheus.image",
     "prom/prometheus@sha256:abc123", "sha256"),
    ("digest-uppercase-hex", {"prometheus": {"image": "prom/prometheus@sha256:" + "A" * 64}}, "prometheus.image",
     "prom/prometheus@sha256:" + "A" * 64, "sha256"),
    ("digest-wrong-algorithm", {"prometheus": {"image": "prom/prometheus@md5:" + "a" * 32}}, "prometheus.image",
     "prom/prometheus@md5:" + "a" * 32, "sha256"),
    # "name:tag@" has an empty digest: docker rejects it as an invalid reference
    ("digest-empty-after-tag", {"prometheus": {"image": "prom/prometheus:v3.7.3@"}}, "prometheus.image",
     "prom/prometheus:v3.7.3@", "sha256"),
    # bind address, network, flags
    ("bind-localhost", {"bindAddress": "localhost"}, "bindAddress", "localhost", "IP"),
    ("bind-hostname", {"bindAddress": "grafana.example.com"}, "bindAddress", "grafana.example.com", "IP"),
    ("bind-bad-octet", {"bindAddress": "256.1.1.1"}, "bindAddress", "256.1.1.1", "IP"),
    ("bind-with-port", {"bindAddress": "127.0.0.1:80"}, "bindAddress", "127.0.0.1:80", "IP"),
    ("bind-bracketed-ipv6", {"bindAddress": "[::1]"}, "bindAddress", "[::1]", "IP"),
    ("network-bad-chars", {"network": "my network!"}, "network", "my network!", "Docker network"),
    ("network-empty", {"network": ""}, "network", "", "Docker network"),
    ("demo-not-bool", {"demo": "yes", "postgresDsn": DSN}, "demo", "yes", "true or false"),
    # restart policy
    ("restart-unknown", {"restartPolicy": "sometimes"}, "restartPolicy", "sometimes", "unless-stopped"),
    ("restart-wrong-case", {"restartPolicy": "Always"}, "restartPolicy", "Always", "unless-stopped"),
    # bad JSON / non-objects
    ("grafana-bad-json", {"grafana": "{port: 3000}"}, "grafana", "{port: 3000}", "JSON"),
    ("prometheus-bad-json", {"prometheus": '{"port": 9090'}, "prometheus", '{"port": 9090', "JSON"),
    ("targets-bad-json", {"targets": "django:8000"}, "targets", "django:8000", "JSON"),
    ("alertmanager-json-list", {"alertmanager": "[1, 2]"}, "alertmanager", [1, 2], "object"),
    # grafana fields
    ("grafana-admin-user-space", {"grafana": {"adminUser": "ad min"}}, "grafana.adminUser", "ad min", "user name"),
    ("grafana-admin-user-empty", {"grafana": {"adminUser": ""}}, "grafana.adminUser", "", "user name"),
    ("grafana-root-url-no-scheme", {"grafana": {"rootUrl": "grafana.example.com"}}, "grafana.rootUrl",
     "grafana.example.com", "http"),
    ("grafana-memory-too-small", {"grafana": {"memoryMb": 64}}, "grafana.memoryMb", 64, "128"),
    # runbookUrl: each alert appends #<anchor>, and rule files and notifications are not secret.
    ("runbook-url-fragment", {"prometheus": {"runbookUrl": "https://git.example.com/r.md#top"}},
     "prometheus.runbookUrl", "https://git.example.com/r.md#top", "without a #fragment"),
    ("runbook-url-repository-path", {"prometheus": {"runbookUrl": "docs/runbooks.md"}}, "prometheus.runbookUrl",
     "docs/runbooks.md", "http:// or https://"),
    ("runbook-url-userinfo", {"prometheus": {"runbookUrl": "https://ci:tok@git.example.com/r.md"}},
     "prometheus.runbookUrl", "https://<userinfo hidden>@git.example.com/r.md", "without credentials"),
    ("runbook-url-token", {"prometheus": {"runbookUrl": "https://git.example.com/r.md?token=abc"}},
     "prometheus.runbookUrl", "https://git.example.com/r.md?token=<hidden>", "without credentials"),
    ("prometheus-memory-not-int", {"prometheus": {"memoryMb": "lots"}}, "prometheus.memoryMb", "lots", "256"),
    # plugin pins
    ("plugin-unpinned", {"grafana": {"plugins": ["grafana-clock-panel"]}}, "grafana.plugins[0]",
     "grafana-clock-panel", "@"),
    ("plugin-pinned-latest", {"grafana": {"plugins": ["grafana-clock-panel@latest"]}}, "grafana.plugins[0]",
     "grafana-clock-panel@latest", "@"),
    ("plugin-uppercase", {"grafana": {"plugins": ["Grafana-Clock-Panel@2.1.8"]}}, "grafana.plugins[0]",
     "Grafana-Clock-Panel@2.1.8", "@"),
    ("plugin-second-bad", {"grafana": {"plugins": ["grafana-clock-panel@2.1.8", "grafana-piechart-panel"]}},
     "grafana.plugins[1]", "grafana-piechart-panel", "@"),
    ("plugins-not-a-list", {"grafana": {"plugins": "grafana-clock-panel@2.1.8"}}, "grafana.plugins",
     "grafana-clock-panel@2.1.8", "list"),
    ("plugins-empty-id", {"grafana": {"plugins": [""]}}, "grafana.plugins[0]", "", "@"),
    # targets.django
    ("django-empty-list", {"targets": {"django": []}}, "targets.django", [], "non-empty list"),
    ("django-not-a-list", {"targets": {"django": "django:8000"}}, "targets.django", "django:8000", "list"),
    ("django-no-port", {"targets": {"django": ["django"]}}, "targets.django[0]", "django", "host:port"),
    ("django-port-0", {"targets": {"django": ["django:0"]}}, "targets.django[0]", "django:0", "host:port"),
    ("django-port-99999", {"targets": {"django": ["django:99999"]}}, "targets.django[0]", "django:99999", "host:port"),
    ("django-url", {"targets": {"django": ["http://django:8000"]}}, "targets.django[0]", "http://django:8000", "host:port"),
    ("django-second-not-string", {"targets": {"django": ["django:8000", 8000]}}, "targets.django[1]", 8000, "object"),
    ("django-bare-ipv6", {"targets": {"django": ["::1:8000"]}}, "targets.django[0]", "::1:8000", "host:port"),
    # exporter settings
    ("nginx-uri-no-scheme", {"exporters": {"nginx": {"scrapeUri": "nginx:8080/stub_status"}}},
     "exporters.nginx.scrapeUri", "nginx:8080/stub_status", "http"),
    ("nginx-uri-empty", {"exporters": {"nginx": {"scrapeUri": ""}}}, "exporters.nginx.scrapeUri", "", "http://"),
    ("nginx-uri-not-string", {"exporters": {"nginx": {"scrapeUri": 8080}}}, "exporters.nginx.scrapeUri", 8080, "http://"),
    ("redis-address-no-port", {"exporters": {"redis": {"address": "redis"}}}, "exporters.redis.address", "redis", "host:port"),
    ("redis-address-http", {"exporters": {"redis": {"address": "http://redis:6379"}}}, "exporters.redis.address",
     "http://redis:6379", "host:port"),
    ("redis-address-port-name", {"exporters": {"redis": {"address": "redis://redis:port"}}},
     "exporters.redis.address", "redis://redis:port", "host:port"),
    # a port outside 1-65535 is bad wherever it appears (SPEC section 4)
    ("redis-address-port-99999", {"exporters": {"redis": {"address": "redis://redis:99999"}}},
     "exporters.redis.address", "redis://redis:99999", "host:port"),
    ("celery-broker-no-scheme", {"exporters": {"celery": {"brokerUrl": "redis:6379/0"}}},
     "exporters.celery.brokerUrl", "redis:6379/0", "redis://"),
    # redis_exporter's single-key checks: db<N>=<key>, comma-separated, nothing it would read differently
    ("redis-keys-space", {"exporters": {"redis": {"checkSingleKeys": "db0=cel ery"}}},
     "exporters.redis.checkSingleKeys", "db0=cel ery", "db<N>=<key>"),
    ("redis-keys-empty-item", {"exporters": {"redis": {"checkSingleKeys": "db0=celery,"}}},
     "exporters.redis.checkSingleKeys", "db0=celery,", "comma-separated"),
    ("redis-keys-bad-db", {"exporters": {"redis": {"checkSingleKeys": "database0=celery"}}},
     "exporters.redis.checkSingleKeys", "database0=celery", "db<N>=<key>"),
    ("redis-keys-two-equals", {"exporters": {"redis": {"checkSingleKeys": "db0=a=b"}}},
     "exporters.redis.checkSingleKeys", "db0=a=b", "'='"),
    ("redis-keys-escaped", {"exporters": {"redis": {"checkSingleKeys": "db0=a%2Cb"}}},
     "exporters.redis.checkSingleKeys", "db0=a%2Cb", "'%'"),
    ("redis-keys-not-string", {"exporters": {"redis": {"checkSingleKeys": ["db0=celery"]}}},
     "exporters.redis.checkSingleKeys", ["db0=celery"], "db<N>=<key>"),
    ("celery-broker-http", {"exporters": {"celery": {"brokerUrl": "http://flower:5555"}}},
     "exporters.celery.brokerUrl", "http://flower:5555", "amqp://"),
    ("alertmanager-enabled-not-bool", {"alertmanager": {"enabled": "maybe"}}, "alertmanager.enabled", "maybe", "true or false"),
]


UNKNOWN_KEYS = [
    ("unknown-exporter", {"exporters": {"mysql": {"enabled": True}}}, "exporters.mysql", {"enabled": True}, "node"),
    ("unknown-key-grafana", {"grafana": {"theme": "dark"}}, "grafana.theme", "dark", "adminUser"),
    ("unknown-key-prometheus", {"prometheus": {"retentionTime": "15d"}}, "prometheus.retentionTime", "15d", "retention"),
    ("unknown-key-exporter", {"exporters": {"node": {"port": 9100}}}, "exporters.node.port", 9100, "enabled"),
    ("unknown-key-redis-exporter", {"exporters": {"redis": {"addr": "redis:6379"}}}, "exporters.redis.addr",
     "redis:6379", "address"),
    ("unknown-key-targets", {"targets": {"flask": ["app:5000"]}}, "targets.flask", ["app:5000"], "django"),
    ("unknown-key-alertmanager", {"alertmanager": {"route": {"receiver": "x"}}}, "alertmanager.route",
     {"receiver": "x"}, "receivers"),
]


@pytest.mark.parametrize("values, key, value, allowed_word", [c[1:] for c in UNKNOWN_KEYS], ids=[c[0] for c in UNKNOWN_KEYS])
def test_unknown_key_inside_an_object_is_named_but_its_value_not_shown(form, values, key, value, allowed_word):
    # It may be a misspelt secret (grafana.adminPassword): the value is never printed.
    problems = problems_of(form({**BASE, **values}))
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"monitoring:{key}: is not a known key (value not shown)")
    assert allowed_word in problems[0]
    assert json.dumps(value) not in problems[0]


@pytest.mark.parametrize("values, key, shown, allowed_word", [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_input_names_key_and_value(form, values, key, shown, allowed_word):
    line = only_problem(form({**BASE, **values}))
    assert line["key"] == key
    # A list or object given as JSON text is shown as that text.
    assert json.loads(line["value"]) in (shown, json.dumps(shown))
    assert allowed_word.lower() in line["allowed"].lower()


# Alertmanager receivers are judged by the alertmanager.yml renderer when alertmanager is enabled.
# It shows values with Python repr (the rest of the model uses JSON): either is accepted here.
ALERTMANAGER_BAD = [
    ("enabled-no-receivers", {"enabled": True}, "alertmanager.receivers", [], "receiver"),
    ("enabled-empty-receivers", {"enabled": "true", "receivers": []}, "alertmanager.receivers", [], "receiver"),
    ("unknown-receiver-type", {"enabled": True, "receivers": [{"name": "p", "type": "pagerduty"}]},
     "alertmanager.receivers[0].type", "pagerduty", "webhook"),
    ("receiver-without-type", {"enabled": True, "receivers": [{"name": "p"}]},
     "alertmanager.receivers[0].type", None, "slack"),
    ("second-receiver-type-wrong-case", {"enabled": True, "receivers": [HOOK, {"name": "b", "type": "Slack"}]},
     "alertmanager.receivers[1].type", "Slack", "slack"),
]


@pytest.mark.parametrize("alertmanager, key, shown, allowed_word", [c[1:] for c in ALERTMANAGER_BAD],
                         ids=[c[0] for c in ALERTMANAGER_BAD])
def test_bad_alertmanager_receivers(form, alertmanager, key, shown, allowed_word):
    line = only_problem(form({**BASE, "alertmanager": alertmanager}))
    assert line["key"] == key
    assert line["value"] in (json.dumps(shown), repr(shown))
    assert allowed_word.lower() in line["allowed"].lower()


def test_receiver_credentials_never_shown(form):
    bad_url = "hooks.example.com/T0KEN-abc123"  # no scheme: not allowed, and a credential
    with pytest.raises(ConfigError) as info:
        load_config(form({**BASE, "alertmanager": {"enabled": True, "receivers": [
            {"name": "ops", "type": "webhook", "url": bad_url}]}}))
    assert any(p.startswith("monitoring:alertmanager.receivers[0].url: ") for p in info.value.problems)
    assert "T0KEN" not in str(info.value)


@pytest.mark.parametrize("value", [127, True, 3.5], ids=["int", "bool", "float"])
def test_bind_address_that_is_not_a_string_is_rejected(value):
    # Parsed values are accepted as input, but a number is not an IP address text
    # (ipaddress.ip_address(127) would read it as 0.0.0.127).
    line = only_problem({**BASE, "bindAddress": value})
    assert line["key"] == "bindAddress"
    assert json.loads(line["value"]) == value


def test_unknown_top_level_key_named_without_its_value(form):
    problems = problems_of(form({**BASE, "grafanaAdminPasword": "hunter2-is-my-password"}))
    assert len(problems) == 1
    line = problems[0]
    assert line.startswith("monitoring:grafanaAdminPasword: ")
    assert "hunter2" not in line
    assert "value not shown" in line
    for key in TOP_LEVEL_KEYS:
        assert key in line  # lists what is allowed


def test_postgres_exporter_enabled_without_dsn_outside_demo(form):
    for values in ({}, {"demo": False}, {"demo": "false"}, {"exporters": {"postgres": {"enabled": True}}}):
        line = only_problem(form(values))
        assert line["key"] == "postgresDsn"
        assert line["value"] == "null"
        assert "demo" in line["allowed"] and "exporters.postgres.enabled" in line["allowed"]


# Secrets: (values, key, length of the secret as shown). The value itself must never appear.
BAD_SECRETS = [
    ("password-short", {"grafanaAdminPassword": "Sh0rt!pw"}, "grafanaAdminPassword", "Sh0rt!pw", 8),
    ("password-11", {"grafanaAdminPassword": "abcdefghijk"}, "grafanaAdminPassword", "abcdefghijk", 11),
    ("password-empty", {"grafanaAdminPassword": ""}, "grafanaAdminPassword", None, 0),
    ("dsn-not-postgres-url", {"postgresDsn": "mysql://root:t0psecret@db/app"}, "postgresDsn", "t0psecret",
     len("mysql://root:t0psecret@db/app")),
    ("dsn-key-value-form", {"postgresDsn": "host=db user=u password=kv-secret"}, "postgresDsn", "kv-secret",
     len("host=db user=u password=kv-secret")),
    ("heartbeat-url-not-http", {"alertmanager": {"heartbeat": {"url": "hc-ping.example.com/beat-secret"}}},
     "alertmanager.heartbeat.url", "beat-secret", len("hc-ping.example.com/beat-secret")),
    # The URL typed where the object goes: `--path alertmanager.heartbeat https://...`.
    ("heartbeat-bare-url", {"alertmanager": {"heartbeat": "https://hc.example.com/beat-secret"}},
     "alertmanager.heartbeat", "beat-secret", len("https://hc.example.com/beat-secret")),
    ("receivers-a-list-of-urls", {"alertmanager": {"receivers": ["https://hook.example.com/hook-secret"]}},
     "alertmanager.receivers[0]", "hook-secret", len("https://hook.example.com/hook-secret")),
]


@pytest.mark.parametrize("values, key, secret, length", [c[1:] for c in BAD_SECRETS], ids=[c[0] for c in BAD_SECRETS])
def test_bad_secret_names_key_and_length_never_value(form, values, key, secret, length):
    with pytest.raises(ConfigError) as info:
        load_config(form({**BASE, **values}))
    problems = info.value.problems
    mine = [parse_line(p) for p in problems if p.startswith(f"monitoring:{key}: ")]
    assert len(mine) == 1, problems
    assert mine[0]["value"] == f"<secret, {length} characters>"
    if secret:
        for text in (str(info.value), repr(info.value), *problems, repr(info.value.args)):
            assert secret not in text


def test_short_password_message_says_twelve():
    line = only_problem({**BASE, "grafanaAdminPassword": "short"})
    assert "12" in line["allowed"]


def test_non_string_secret_not_shown():
    line = only_problem({**BASE, "redisPassword": 123456789})
    assert line["key"] == "redisPassword"
    assert line["value"] == "<secret, 9 characters>"


def test_several_problems_reported_together():
    values = {
        "bindAddress": "localhost",
        "grafana": {"port": 70000, "image": "grafana/grafana:latest"},
        "grafanaAdminPassword": "tooshort",
        "prometheus": json.dumps({"retention": "15days", "scrapeTimeout": "20s"}),
        "exporters": {"mysql": {}},
        "nonsense": "x",
    }
    with pytest.raises(ConfigError) as info:
        load_config(values)
    keys = [parse_line(p)["key"] if "is not allowed" in p else p.split(": ")[0].removeprefix("monitoring:")
            for p in info.value.problems]
    # postgresDsn is not judged while exporters (which say whether it is needed) is itself wrong.
    assert sorted(keys) == sorted([
        "nonsense", "bindAddress", "grafana.port", "grafana.image", "grafanaAdminPassword",
        "prometheus.retention", "prometheus.scrapeTimeout", "exporters.mysql",
    ])
    assert len(info.value.problems) == 8
    message = str(info.value)
    assert message.startswith("invalid stack config:")
    assert all(p in message for p in info.value.problems)
    assert "tooshort" not in message


def test_config_error_is_a_value_error():
    assert issubclass(ConfigError, ValueError)
    with pytest.raises(ValueError):
        load_config({**BASE, "grafana": {"port": 0}})


# --------------------------------------------------------------------------- duration_ms

@pytest.mark.parametrize("text, ms", [
    ("15s", 15_000), ("10s", 10_000), ("1m", 60_000), ("1h30m", 5_400_000), ("15d", 15 * 86_400_000),
    ("2w", 14 * 86_400_000), ("1y", 365 * 86_400_000), ("500ms", 500), ("1m30s500ms", 90_500),
    ("1y2w3d4h5m6s7ms", 365 * 86_400_000 + 17 * 86_400_000 + 4 * 3_600_000 + 5 * 60_000 + 6_000 + 7),
    ("0s", 0), ("0", 0), ("90s", 90_000),
])
def test_duration_ms_valid(text, ms):
    assert duration_ms(text) == ms


@pytest.mark.parametrize("text", ["", "15", "15days", "15 s", "1.5m", "1m1h", "30s1m", "15S", "-1s", "s", "1h 30m",
                                  None, 15, "5ms1s"])
def test_duration_ms_invalid(text):
    with pytest.raises(NotAllowed):
        duration_ms(text)


# --------------------------------------------------------------------------- values the services reject

# Each passed an older validator and then failed (or silently misbehaved) in Prometheus,
# Alertmanager, Grafana or Docker. (id, values merged onto BASE, key, a word of "allowed")
REJECTED_AT_START = [
    # `re.match(...$)` accepts a trailing newline; Prometheus keeps such a target "unknown" forever.
    ("django-target-trailing-newline", {"targets": {"django": ["web:8000\n"]}}, "targets.django[0]", "host:port"),
    ("django-target-leading-space", {"targets": {"django": [" web:8000"]}}, "targets.django[0]", "host:port"),
    # `\d` accepts digits that int() converts but Go does not.
    ("django-target-arabic-digits", {"targets": {"django": ["web:\u0668\u0660\u0660\u0660"]}},
     "targets.django[0]", "host:port"),
    ("port-fullwidth-digits", {"grafana": {"port": "\uff13\uff10\uff10\uff10"}}, "grafana.port", "1 to 65535"),
    ("retention-arabic-digits", {"prometheus": {"retention": "\u0661\u0665d"}}, "prometheus.retention", "duration"),
    ("duration-trailing-newline", {"prometheus": {"scrapeInterval": "15s\n"}}, "prometheus.scrapeInterval",
     "duration"),
    ("django-target-label-too-long", {"targets": {"django": ["a" * 64 + ":8000"]}}, "targets.django[0]", "host:port"),
    ("django-target-bad-ipv4", {"targets": {"django": ["300.1.1.1:8000"]}}, "targets.django[0]", "host:port"),
    ("django-target-port-leading-zero", {"targets": {"django": ["web:08000"]}}, "targets.django[0]", "host:port"),
    # Rules use fixed 5m windows: longer intervals leave rate() with too few samples to ever fire.
    ("scrape-interval-6m", {"prometheus": {"scrapeInterval": "6m", "scrapeTimeout": "10s"}},
     "prometheus.scrapeInterval", "5m windows"),
    ("scrape-interval-2m", {"prometheus": {"scrapeInterval": "2m", "scrapeTimeout": "10s"}},
     "prometheus.scrapeInterval", "5m windows"),
    ("evaluation-interval-5m", {"prometheus": {"evaluationInterval": "5m"}}, "prometheus.evaluationInterval",
     "5m windows"),
    ("retention-1h", {"prometheus": {"retention": "1h"}}, "prometheus.retention", "from 2h"),
    ("retention-past-int64", {"prometheus": {"retention": "300y"}}, "prometheus.retention", "100y"),
    ("scrape-interval-0s", {"prometheus": {"scrapeInterval": "0s"}}, "prometheus.scrapeInterval", "from 1s"),
    # Docker's predefined networks: no name resolution between containers, or no network at all.
    ("network-bridge", {"network": "bridge"}, "network", "not bridge"),
    ("network-host", {"network": "host"}, "network", "not bridge, host, none"),
    ("network-none", {"network": "none"}, "network", "not bridge, host, none"),
    ("network-too-long", {"network": "n" * 64}, "network", "at most 63"),
    # URLs as strictly as Go's net/url.
    ("root-url-space", {"grafana": {"rootUrl": "https://grafana.example.com/a b"}}, "grafana.rootUrl", "no spaces"),
    ("root-url-no-host", {"grafana": {"rootUrl": "https:///path"}}, "grafana.rootUrl", "with a host"),
    ("root-url-bad-port", {"grafana": {"rootUrl": "https://grafana.example.com:99999/"}}, "grafana.rootUrl",
     "1-65535"),
    ("root-url-bad-escape", {"grafana": {"rootUrl": "https://grafana.example.com/%zz"}}, "grafana.rootUrl",
     "with a host"),
    ("root-url-non-ascii", {"grafana": {"rootUrl": "https://grafana.example.com/caf\u00e9"}}, "grafana.rootUrl",
     "non-ASCII"),
    ("nginx-uri-newline", {"exporters": {"nginx": {"scrapeUri": "http://nginx:8080/stub_status\n"}}},
     "exporters.nginx.scrapeUri", "http://"),
    # Image references as Docker parses them.
    ("image-uppercase-repository", {"grafana": {"image": "Grafana/grafana:12.2.0"}}, "grafana.image", "pinned"),
    ("image-floating-main", {"grafana": {"image": "grafana/grafana:main"}}, "grafana.image", "moving tag"),
    ("image-tag-newline", {"grafana": {"image": "grafana/grafana:12.2.0\n"}}, "grafana.image", "pinned"),
    ("image-tag-too-long", {"grafana": {"image": "grafana/grafana:" + "1" * 129}}, "grafana.image", "pinned"),
    # Bind addresses: a zone index cannot be bound by Docker; leading zeros are ambiguous.
    ("bind-zone-index", {"bindAddress": "fe80::1%eth0"}, "bindAddress", "IP"),
    ("bind-leading-zero", {"bindAddress": "127.000.000.001"}, "bindAddress", "IP"),
    ("bind-trailing-newline", {"bindAddress": "127.0.0.1\n"}, "bindAddress", "IP"),
    ("plugin-non-ascii-version", {"grafana": {"plugins": ["grafana-clock-panel@\u0662.1.8"]}},
     "grafana.plugins[0]", "@"),
    ("memory-absurd", {"prometheus": {"memoryMb": 10**9}}, "prometheus.memoryMb", "megabytes"),
]


@pytest.mark.parametrize("values, key, allowed_word", [c[1:] for c in REJECTED_AT_START],
                         ids=[c[0] for c in REJECTED_AT_START])
def test_values_the_services_reject_fail_at_program_start(form, values, key, allowed_word):
    line = only_problem(form({**BASE, **values}))
    assert line["key"] == key
    assert allowed_word.lower() in line["allowed"].lower(), line


def test_a_key_stored_as_secret_is_never_printed():
    # `pulumi config set --secret --path grafana.rootUrl ...` makes the whole `grafana` key secret.
    with pytest.raises(ConfigError) as info:
        load_config({**BASE, "grafana": {"rootUrl": "https://grafana.example.com/?token=hunter2 x"}},
                    secret_keys=["grafana"])
    (line,) = info.value.problems
    assert line.startswith("monitoring:grafana.rootUrl: <secret, ")
    assert "hunter2" not in str(info.value)


def test_url_userinfo_is_never_printed():
    with pytest.raises(ConfigError) as info:
        load_config({**BASE, "exporters": {"celery": {"brokerUrl": "amqp://flower:hunter2@mq:99999//"}}})
    assert "hunter2" not in str(info.value)
    assert "<userinfo hidden>" in str(info.value)


def test_secret_keys_are_remembered():
    cfg = load_config({**BASE, "grafana": {"port": 3001}}, secret_keys=["grafana", "postgresDsn"])
    assert cfg.is_secret("grafana") and cfg.is_secret("prometheus", "grafana") and not cfg.is_secret("prometheus")


@pytest.mark.parametrize("exporters, key, pointer", [
    ({"redis": {"address": "redis://:hunter2@cache:6379"}}, "exporters.redis.address", "redisPassword"),
    ({"redis": {"address": "redis://default:hunter2@cache:6379"}}, "exporters.redis.address", "redisPassword"),
    ({"nginx": {"scrapeUri": "http://stats:hunter2@nginx:8080/stub_status"}}, "exporters.nginx.scrapeUri", "--secret"),
    ({"nginx": {"scrapeUri": "http://nginx:8080/stub_status?token=hunter2"}}, "exporters.nginx.scrapeUri", "--secret"),
])
def test_credentials_in_urls_that_reach_plaintext_inputs_are_refused(exporters, key, pointer):
    line = only_problem({**BASE, "exporters": exporters})
    assert line["key"] == key and pointer in line["allowed"]
    assert "hunter2" not in line["value"]  # neither userinfo nor a token parameter is shown


def test_credentials_in_urls_are_fine_when_the_key_is_a_secret_or_the_value_always_is():
    # Stored with --secret, every input `exporters` feeds is a secret; the broker URL always is one.
    uri = "http://stats:pw@nginx:8080/stub_status"
    assert load_config({**BASE, "exporters": {"nginx": {"scrapeUri": uri}}}, ["exporters"]).exporters["nginx"].settings
    assert load_config({**BASE, "exporters": {"celery": {"brokerUrl": "pyamqp://guest:pw@mq:5672//"}}})


@pytest.mark.parametrize("scheme", ["amqp", "amqps", "pyamqp", "redis", "rediss", "sentinel"])
def test_celery_broker_schemes_celery_accepts(scheme):
    broker = f"{scheme}://mq.internal:5672/0"
    assert load_config({**BASE, "exporters": {"celery": {"brokerUrl": broker}}}).exporters["celery"].brokerUrl == broker


def test_a_broker_url_error_never_prints_its_password():
    problems = problems_of({**BASE, "exporters": {"celery": {"brokerUrl": "kafka://flower:hunter2@mq:9092"}}})
    assert "hunter2" not in "\n".join(problems)


@pytest.mark.parametrize("targets, key, allowed_word", [
    ({"node": [{"address": "h:9100", "labels": {"job": "x"}}]}, "targets.node[0].labels.job", "not `job`"),
    ({"node": [{"address": "h:9100", "labels": {"__name__": "x"}}]}, "targets.node[0].labels.__name__", "__"),
    ({"node": [{"address": "h:9100", "labels": {"1st": "x"}}]}, "targets.node[0].labels.1st", "label name"),
    ({"node": [{"address": "h:9100", "labels": {"host": "a\nb"}}]}, "targets.node[0].labels.host", "control"),
    ({"node": [{"address": "h:9100", "labels": {"host": ""}}]}, "targets.node[0].labels.host", "non-empty"),
    ({"node": ["h:9100", "h:9100"]}, "targets.node[1]", "instance"),
    ({"redis": [{"address": "a:9121", "labels": {"host": "x"}}, {"address": "b:9121", "labels": {"instance": "x:9121"}}]},
     "targets.redis[1]", "instance"),
    ({"node": ["h:9100\n"]}, "targets.node[0]", "host:port"),
    ({"mysql": ["h:9104"]}, "targets.mysql", None),
])
def test_extra_targets_and_their_labels_are_checked(targets, key, allowed_word):
    problems = problems_of({**BASE, "targets": targets})
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"monitoring:{key}: ")
    if allowed_word:
        assert allowed_word in parse_line(problems[0])["allowed"]


def test_external_labels_are_checked():
    line = only_problem({**BASE, "prometheus": {"externalLabels": {"job": "x"}}})
    assert line["key"] == "prometheus.externalLabels.job"


@pytest.mark.parametrize("remote_write, key, allowed_word", [
    ([{"url": "https://u:hunter2@vm.example.com/api/v1/write"}], "prometheus.remoteWrite[0].url", "basicAuth"),
    ([{"url": "https://vm.example.com/w?token=hunter2"}], "prometheus.remoteWrite[0].url", "bearerToken"),
    ([{"url": "https://vm/w", "basicAuth": {"username": "u", "password": "p"}, "bearerToken": "t"}],
     "prometheus.remoteWrite[0].bearerToken", "not both"),
    ([{"url": "https://vm/w", "writeRelabelConfigs": [{"regex": "(?!go_).*", "action": "keep"}]}],
     "prometheus.remoteWrite[0].writeRelabelConfigs[0].regex", "RE2"),
    ([{"url": "https://vm/w", "writeRelabelConfigs": [{"action": "hashmod"}]}],
     "prometheus.remoteWrite[0].writeRelabelConfigs[0].action", "labeldrop"),
    ([{"url": "ftp://vm/w"}], "prometheus.remoteWrite[0].url", "http"),
])
def test_remote_write_is_checked(remote_write, key, allowed_word):
    line = only_problem({**BASE, "prometheus": {"remoteWrite": remote_write}})
    assert line["key"] == key and allowed_word in line["allowed"]
    assert "hunter2" not in line["value"]


def test_runbook_url_default_and_set():
    assert load_config(BASE).prometheus.runbook_url is None
    url = "https://github.com/acme/monitoring/blob/main/docs/runbooks.md"
    assert load_config({**BASE, "prometheus": {"runbookUrl": url}}).prometheus.runbook_url == url


@pytest.mark.parametrize("keys", ["db0=celery", "celery", "db0=celery,db0=emails,db12=reports.high", ""])
def test_redis_single_key_checks_accepted_as_given(keys):
    cfg = load_config({**BASE, "exporters": {"redis": {"checkSingleKeys": keys}}})
    assert cfg.exporters["redis"].settings["checkSingleKeys"] == keys


def test_redis_single_key_checks_default_to_celerys_queue_on_the_command_line():
    from components.exporters.table import BY_NAME

    cfg = load_config(BASE)
    assert cfg.exporters["redis"].settings["checkSingleKeys"] == "db0=celery"
    # The row renders it into redis_exporter's flag (the same in 1.45 and 1.79).
    assert BY_NAME["redis"].args(cfg.exporters["redis"].settings) == ["--check-single-keys=db0=celery"]


# The first entry equal to an earlier one is named (index and value), whatever follows it.
REPEATS = {
    "receiver name": ({"alertmanager": {"enabled": True, "receivers": [
        HOOK, {**HOOK, "name": "b"}, {**HOOK, "name": "b"}, HOOK]}},
        "alertmanager.receivers[2].name", None, "a name no other receiver has"),
    "target instance": ({"targets": {"django": [
        "web:8000", {"address": "web-1:8000", "labels": {"instance": "app"}},
        {"address": "web-2:8000", "labels": {"instance": "app"}}, "web:8000"]}},
        "targets.django[2]", "web-2:8000", "a target whose instance (app) no other target of the job has"),
    "severity": ({"alertmanager": {"enabled": True, "receivers": [
        {**HOOK, "severities": ["warning", "critical", "critical", "warning"]}]}},
        "alertmanager.receivers[0].severities[2]", "critical", "a severity not already listed"),
}


@pytest.mark.parametrize("values, key, shown, allowed", REPEATS.values(), ids=list(REPEATS))
def test_a_repeat_is_named_at_its_first_index(form, values, key, shown, allowed):
    line = only_problem(form({**BASE, **values}))
    assert (line["key"], line["allowed"]) == (key, allowed)
    # A receiver's fields are shown as secrets (the list holds webhook URLs): only the others' value.
    assert shown is None or json.loads(line["value"]) == shown
