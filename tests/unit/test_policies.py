"""The CrossGuard policies in policy/policies.py, on good and bad resources.

Resources are given as the engine sends them: type tokens, camelCase inputs, in wire
form (a secret is `{SPECIAL_SIG_KEY: SPECIAL_SECRET_SIG, "value": ...}`). `analyze_args`
turns them into ResourceValidationArgs with the same two calls pulumi-policy 1.21.0's
`Analyze` makes (`deserialize_properties`, then `unknown_checking_proxy`), so a policy
sees exactly what it sees under `pulumi preview`: secrets as plaintext, preview
unknowns behind a proxy that raises.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from google.protobuf import json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResourceOptions,
    ResourceValidationArgs,
    Secret,
)
from pulumi_policy.deserialize import SPECIAL_SECRET_SIG, SPECIAL_SIG_KEY, deserialize_properties
from pulumi_policy.policy import _PolicyAnalyzerServicer
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

from components.web_config import render_web_config
from policy import policies as p
from policy.policies import POLICIES

CONTAINER, REMOTE_IMAGE, VOLUME, GRAFANA_PROVIDER = p.CONTAINER, p.REMOTE_IMAGE, p.VOLUME, p.GRAFANA_PROVIDER
IMAGE_ID = "sha256:" + "ab" * 32


def secret(value: Any) -> dict:
    """A secret input in the engine's wire form."""
    return {SPECIAL_SIG_KEY: SPECIAL_SECRET_SIG, "value": value}


def options(protect: bool = False, additional_secret_outputs: Sequence[str] = ()) -> PolicyResourceOptions:
    return PolicyResourceOptions(protect, [], None, [], PolicyCustomTimeouts(0, 0, 0),
                                 list(additional_secret_outputs), None)


def analyze_args(resource_type: str, inputs: dict, name: str = "res", config: dict | None = None,
                 **opts: Any) -> ResourceValidationArgs:
    props = unknown_checking_proxy(deserialize_properties(inputs))
    urn = f"urn:pulumi:dev::monitoring::{resource_type}::{name}"
    return ResourceValidationArgs(resource_type, props, urn, name, options(**opts), None, config)


def violations(policy_name: str, args: ResourceValidationArgs) -> list[str]:
    policy = next(x for x in POLICIES if x.name == policy_name)
    found: list[str] = []
    policy.validate(args, lambda message, urn=None: found.append(message))
    return found


def container(**inputs: Any) -> dict:
    base = {
        "name": "monitoring-dev-prometheus",
        "image": "prom/prometheus:v3.7.3",
        "ports": [{"internal": 9090, "external": 9090, "ip": "127.0.0.1", "protocol": "tcp"}],
        "envs": [],
        "healthcheck": {"tests": ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:9090/-/ready"],
                        "interval": "15s", "timeout": "5s", "retries": 5, "startPeriod": "20s"},
        "restart": "unless-stopped",
    }
    base.update(inputs)
    return {k: v for k, v in base.items() if v is not None}


GRAFANA_ENVS = ["GF_AUTH_ANONYMOUS_ENABLED=false", "GF_USERS_ALLOW_SIGN_UP=false",
                "GF_USERS_ALLOW_ORG_CREATE=false", "GF_SECURITY_ADMIN_USER=admin", "GF_AUTH_PROXY_ENABLED=false",
                "GF_PUBLIC_DASHBOARDS_ENABLED=false", "GF_METRICS_ENABLED=true",
                "GF_METRICS_BASIC_AUTH_USERNAME=prometheus"]


def grafana(envs: list) -> dict:
    return container(name="monitoring-dev-grafana", image=IMAGE_ID, envs=envs,
                     ports=[{"internal": 3000, "external": 3000, "ip": "127.0.0.1", "protocol": "tcp"}])


# --- the pack itself -------------------------------------------------------------------

def test_policy_names_and_levels():
    levels = {x.name: x.enforcement_level for x in POLICIES}
    assert levels == {
        "pinned-images": EnforcementLevel.MANDATORY,
        "tls-beyond-loopback": EnforcementLevel.MANDATORY,
        "grafana-locked-down": EnforcementLevel.MANDATORY,
        "no-plaintext-credentials": EnforcementLevel.MANDATORY,
        "protected-data-volumes": EnforcementLevel.MANDATORY,
        "container-healthcheck": EnforcementLevel.ADVISORY,
        "least-privilege": EnforcementLevel.MANDATORY,
    }
    for policy in POLICIES:
        assert policy.description


# --- pinned-images ---------------------------------------------------------------------

@pytest.mark.parametrize("reference", [
    "prom/prometheus:v3.7.3",
    "quay.io/prometheuscommunity/postgres-exporter:v0.18.1",
    "registry.local:5000/grafana/grafana:12.2.0",
    "grafana/grafana@sha256:" + "0f" * 32,
    "grafana/grafana:12.2.0@sha256:" + "0f" * 32,
])
def test_pinned_images_accepts_exact_tags_and_digests(reference):
    assert violations("pinned-images", analyze_args(REMOTE_IMAGE, {"name": reference, "keepLocally": True})) == []
    assert violations("pinned-images", analyze_args(CONTAINER, container(image=reference))) == []


@pytest.mark.parametrize("reference, problem", [
    ("prom/prometheus", "no tag"),
    ("prom/prometheus:latest", "`latest`"),
    ("registry.local:5000/grafana/grafana", "no tag"),
    ("grafana/grafana:main", "`main`"),
])
def test_pinned_images_rejects_latest_and_missing_tags(reference, problem):
    found = violations("pinned-images", analyze_args(REMOTE_IMAGE, {"name": reference}, name="prometheus-image"))
    assert len(found) == 1 and problem in found[0] and reference in found[0]
    assert len(violations("pinned-images", analyze_args(CONTAINER, container(image=reference)))) == 1


def test_pinned_images_skips_image_ids_and_preview_unknowns():
    # Containers started from RemoteImage.image_id: an id when known, unknown in preview.
    assert violations("pinned-images", analyze_args(CONTAINER, container(image=IMAGE_ID))) == []
    assert violations("pinned-images", analyze_args(CONTAINER, container(image=UNKNOWN_STRING_VALUE))) == []


# --- tls-beyond-loopback ---------------------------------------------------------------

def _port(ip: Any) -> dict:
    port = {"internal": 3000, "external": 3000, "protocol": "tcp"}
    if ip is not None:
        port["ip"] = ip
    return port


HASH = "$2b$10$" + "a" * 53
WEB_CONFIG = render_web_config(cert_file="/etc/prometheus/tls/server.crt", key_file="/etc/prometheus/tls/server.key",
                               users={"prometheus": HASH})
BEYOND = ["0.0.0.0", "::", "", None, "::0", "0:0:0:0:0:0:0:0", "::ffff:0.0.0.0", "[::]", "0000::", " 0.0.0.0 ",
          "10.0.0.5", "192.168.1.20", "fd00::12"]


def served(web_config: Any = WEB_CONFIG, flag: str = "--web.config.file=/etc/prometheus/web.yml", **inputs: Any) -> dict:
    """A Prometheus-like container with a web config upload (as the program renders it)."""
    return container(command=["--config.file=/etc/prometheus/prometheus.yml", flag],
                     uploads=[{"file": "/etc/prometheus/web.yml", "content": web_config}], **inputs)


@pytest.mark.parametrize("ip", ["127.0.0.1", "::1", "127.0.0.2", "::ffff:127.0.0.1"])
def test_tls_beyond_loopback_accepts_loopback_without_tls(ip):
    assert violations("tls-beyond-loopback", analyze_args(CONTAINER, container(ports=[_port(ip)]))) == []


@pytest.mark.parametrize("ip", BEYOND)
def test_tls_beyond_loopback_rejects_plain_ports_beyond_loopback(ip):
    # Every spelling of "all interfaces" is parsed as one, not compared as text; a LAN address counts too.
    found = violations("tls-beyond-loopback",
                       analyze_args(CONTAINER, container(ports=[_port("127.0.0.1"), _port(ip)])))
    assert len(found) == 1 and "3000" in found[0] and "tls.enabled true" in found[0]


@pytest.mark.parametrize("ip", BEYOND)
def test_tls_beyond_loopback_accepts_a_web_config_with_tls_and_users(ip):
    assert violations("tls-beyond-loopback", analyze_args(CONTAINER, served(ports=[_port(ip)]))) == []
    # The engine hands the policy the secret upload's plaintext; a Secret wrapper is read through too.
    assert violations("tls-beyond-loopback", analyze_args(CONTAINER, served(secret(WEB_CONFIG), ports=[_port(ip)]))) == []


@pytest.mark.parametrize("web_config", [
    "tls_server_config:\n  cert_file: /c\n  key_file: /k\n",  # TLS, nobody asked who is there
    f"basic_auth_users:\n  prometheus: {HASH}\n",  # a password sent in clear
    "basic_auth_users: {}\ntls_server_config:\n  cert_file: /c\n",  # no user at all
])
def test_tls_beyond_loopback_rejects_a_web_config_without_both(web_config):
    assert len(violations("tls-beyond-loopback", analyze_args(CONTAINER, served(web_config, ports=[_port("0.0.0.0")])))) == 1


def test_tls_beyond_loopback_rejects_a_flag_naming_another_file():
    found = violations("tls-beyond-loopback", analyze_args(
        CONTAINER, served(flag="--web.config.file=/elsewhere.yml", ports=[_port("10.0.0.5")])))
    assert len(found) == 1


def test_tls_beyond_loopback_accepts_grafana_over_https_only():
    env = [f"{k}={v}" for k, v in p.GRAFANA_REQUIRED_ENV.items()]
    https = container(envs=[*env, "GF_SERVER_PROTOCOL=https"], ports=[_port("0.0.0.0")])
    plain = container(envs=[*env, "GF_SERVER_PROTOCOL=http"], ports=[_port("0.0.0.0")])
    assert violations("tls-beyond-loopback", analyze_args(CONTAINER, https)) == []
    assert len(violations("tls-beyond-loopback", analyze_args(CONTAINER, plain))) == 1


def test_tls_beyond_loopback_waits_for_unknowns_and_ignores_containers_without_ports():
    assert violations("tls-beyond-loopback", analyze_args(CONTAINER, container(ports=None))) == []
    unknown = served(UNKNOWN_STRING_VALUE, ports=[_port("0.0.0.0")])
    assert violations("tls-beyond-loopback", analyze_args(CONTAINER, unknown)) == []


# --- grafana-locked-down ---------------------------------------------------------------

def test_grafana_locked_down_accepts_the_locked_env():
    assert violations("grafana-locked-down", analyze_args(CONTAINER, grafana(GRAFANA_ENVS))) == []


@pytest.mark.parametrize("drop, replace", [
    ("GF_AUTH_ANONYMOUS_ENABLED=false", "GF_AUTH_ANONYMOUS_ENABLED=true"),
    ("GF_USERS_ALLOW_SIGN_UP=false", "GF_USERS_ALLOW_SIGN_UP=true"),
    ("GF_USERS_ALLOW_ORG_CREATE=false", None),
    ("GF_AUTH_ANONYMOUS_ENABLED=false", None),
    ("GF_AUTH_PROXY_ENABLED=false", "GF_AUTH_PROXY_ENABLED=true"),
    ("GF_PUBLIC_DASHBOARDS_ENABLED=false", None),
    ("GF_METRICS_BASIC_AUTH_USERNAME=prometheus", None),
])
def test_grafana_locked_down_rejects_open_or_missing_settings(drop, replace):
    envs = [e for e in GRAFANA_ENVS if e != drop] + ([replace] if replace else [])
    found = violations("grafana-locked-down", analyze_args(CONTAINER, grafana(envs), name="grafana"))
    assert len(found) == 1 and drop.split("=")[0] in found[0]


def test_grafana_locked_down_accepts_metrics_off_without_basic_auth():
    envs = [e for e in GRAFANA_ENVS if not e.startswith("GF_METRICS")] + ["GF_METRICS_ENABLED=false"]
    assert violations("grafana-locked-down", analyze_args(CONTAINER, grafana(envs))) == []


def test_grafana_locked_down_recognises_grafana_by_image_reference():
    envs = ["GF_AUTH_ANONYMOUS_ENABLED=true"]
    args = analyze_args(CONTAINER, container(name="dashboards", image="grafana/grafana:12.2.0", envs=envs))
    assert len(violations("grafana-locked-down", args)) == 5


def test_grafana_locked_down_ignores_other_containers():
    assert violations("grafana-locked-down", analyze_args(CONTAINER, container(envs=[]))) == []


# --- no-plaintext-credentials ----------------------------------------------------------

def test_secrets_reach_analyze_as_plaintext():
    """The finding the policy is built on: the validation path loses secretness."""
    props = unknown_checking_proxy(deserialize_properties({"envs": [secret("REDIS_PASSWORD=hunter2")]}))
    assert list(props["envs"]) == ["REDIS_PASSWORD=hunter2"]
    # The remediation path keeps it, as Secret wrappers behind a proxy.
    kept = deserialize_properties({"envs": [secret("REDIS_PASSWORD=hunter2")]}, True)
    assert isinstance(kept["__target"]["envs"][0], Secret)


@pytest.mark.parametrize("entry", [
    "DATA_SOURCE_NAME=postgresql://exporter:s3cret@db:5432/app?sslmode=disable",
    "REDIS_PASSWORD=hunter2",
    "GF_SECURITY_ADMIN_PASSWORD=correct-horse-battery",
    "SLACK_API_KEY=xoxb-1",
    "GITHUB_TOKEN=ghp_x",
    "CELERY_BROKER_URL=redis://:hunter2@redis:6379/0",
    # Names by substring, not only whole words.
    "REDIS_PASS=hunter2",
    "DB_PASSWD=hunter2",
    "GF_SECURITY_SECRET_KEY=hunter2",
    "MY_APIKEY=hunter2",
    "REDISCLI_AUTH=hunter2",
    # Values whatever the name: a password parameter, a chat webhook.
    "SCRAPE_URI=http://nginx:8080/stub_status?password=hunter2",
    "ALERT_URL=https://hooks.slack.com/services/T000/B000/hunter2",
    "NOTIFY=https://discord.com/api/webhooks/1/hunter2",
])
def test_no_plaintext_credentials_rejects_plaintext(entry):
    envs = ["FLOWER_PORT=5555", entry]
    found = violations("no-plaintext-credentials", analyze_args(CONTAINER, container(envs=envs), name="exp"))
    assert len(found) == 1 and entry.split("=")[0] in found[0]
    assert entry.split("=", 1)[1] not in found[0]  # never echo the credential


@pytest.mark.parametrize("envs", [
    [secret("REDIS_PASSWORD=hunter2")],
    secret(["REDIS_ADDR=redis://redis:6379", "REDIS_PASSWORD=hunter2"]),
])
def test_no_plaintext_credentials_accepts_secrets_declared_secret(envs):
    # As `pulumi preview` delivers it: plaintext, with `envs` in additionalSecretOutputs.
    args = analyze_args(CONTAINER, container(envs=envs), additional_secret_outputs=["envs"])
    assert violations("no-plaintext-credentials", args) == []
    # The same secret without the declaration is indistinguishable from plaintext there.
    assert len(violations("no-plaintext-credentials", analyze_args(CONTAINER, container(envs=envs)))) == 1


def test_no_plaintext_credentials_accepts_values_marked_secret():
    # The SDK's secret-preserving form (remediation path, or a future Analyze that keeps secrets).
    props = deserialize_properties({"envs": ["REDIS_ADDR=redis:6379", secret("REDIS_PASSWORD=hunter2")]}, True)
    args = ResourceValidationArgs(CONTAINER, props, "urn", "redis", options(), None)
    assert violations("no-plaintext-credentials", args) == []


@pytest.mark.parametrize("entry", [
    "GF_AUTH_ANONYMOUS_ENABLED=false",
    "GF_SECURITY_ADMIN_PASSWORD__FILE=/run/secrets/grafana_admin",
    "REDIS_PASSWORD=",
    "CELERY_BROKER_URL=redis://redis:6379/0",
    "GF_PATHS_DATA=/var/lib/grafana",
    "GF_AUTH_PROXY_ENABLED=false",
    "GF_SECURITY_COOKIE_SECURE=true",
    "CACHE_KEY_PREFIX=1",
])
def test_no_plaintext_credentials_ignores_non_credentials(entry):
    assert violations("no-plaintext-credentials", analyze_args(CONTAINER, container(envs=[entry]))) == []


def test_no_plaintext_credentials_grafana_provider_auth():
    inputs = {"url": "http://127.0.0.1:3000", "auth": secret("admin:correct-horse-battery")}
    declared = analyze_args(GRAFANA_PROVIDER, inputs, name="grafana", additional_secret_outputs=["auth"])
    assert violations("no-plaintext-credentials", declared) == []
    plain = analyze_args(GRAFANA_PROVIDER, {"url": "http://127.0.0.1:3000", "auth": "admin:hunter2"}, name="grafana")
    found = violations("no-plaintext-credentials", plain)
    assert len(found) == 1 and "auth" in found[0] and "hunter2" not in found[0]


# --- protected-data-volumes ------------------------------------------------------------

@pytest.mark.parametrize("volume", ["monitoring-dev-prometheus-data", "monitoring-dev-grafana-data"])
def test_protected_data_volumes(volume):
    assert violations("protected-data-volumes", analyze_args(VOLUME, {"name": volume}, protect=True)) == []
    found = violations("protected-data-volumes", analyze_args(VOLUME, {"name": volume}, name="data"))
    assert len(found) == 1 and volume in found[0]


def test_protected_data_volumes_uses_resource_name_and_ignores_other_volumes():
    assert len(violations("protected-data-volumes", analyze_args(VOLUME, {}, name="grafana-data"))) == 1
    assert violations("protected-data-volumes", analyze_args(VOLUME, {"name": "postgres-demo-data"})) == []


def test_protected_data_volumes_accepts_retain_on_delete_where_exposed():
    args = analyze_args(VOLUME, {"name": "prometheus-data"})
    args.opts.retain_on_delete = True  # not sent by pulumi-policy 1.21.0; honoured if a later SDK does
    assert violations("protected-data-volumes", args) == []


# --- container-healthcheck -------------------------------------------------------------

def test_container_healthcheck_present():
    assert violations("container-healthcheck", analyze_args(CONTAINER, container())) == []


@pytest.mark.parametrize("healthcheck", [None, {"tests": []}, {"tests": ["NONE"]}])
def test_container_healthcheck_missing(healthcheck):
    found = violations("container-healthcheck", analyze_args(CONTAINER, container(healthcheck=healthcheck)))
    assert len(found) == 1


@pytest.mark.parametrize("inputs", [
    {"image": "oliver006/redis_exporter:v1.79.0"},
    {"image": "docker.io/nginx/nginx-prometheus-exporter:1.5.1"},
    {"image": "gcr.io/distroless/static-debian12:nonroot"},
    {"image": IMAGE_ID, "name": "monitoring-dev-redis-exporter"},
    {"image": IMAGE_ID, "name": "monitoring-dev-nginx-exporter"},
])
def test_container_healthcheck_exempts_shellless_images(inputs):
    args = analyze_args(CONTAINER, container(healthcheck=None, **inputs))
    assert violations("container-healthcheck", args) == []


def test_container_healthcheck_busybox_exporters_are_not_exempt():
    for image in ("prom/node-exporter:v1.10.2", "quay.io/prometheuscommunity/postgres-exporter:v0.18.1"):
        args = analyze_args(CONTAINER, container(name="exp", image=image, healthcheck=None))
        assert len(violations("container-healthcheck", args)) == 1


def test_container_healthcheck_exempt_config():
    args = analyze_args(CONTAINER, container(name="custom-scratch", healthcheck=None), config={"exempt": ["scratch"]})
    assert violations("container-healthcheck", args) == []


# --- through the analyzer, as the CLI runs the pack -----------------------------------

def _servicer() -> _PolicyAnalyzerServicer:
    return _PolicyAnalyzerServicer("monitoring-guardrails", "1.0.0", POLICIES, EnforcementLevel.ADVISORY)


def analyze(resource_type: str, name: str, inputs: dict, protect: bool = False,
            additional_secret_outputs: Sequence[str] = ()) -> list[tuple[str, int, str]]:
    """Run every policy via the gRPC servicer's Analyze: (policy, enforcement level, message) per finding."""
    properties = struct_pb2.Struct()
    json_format.ParseDict(inputs, properties)
    request = analyzer_pb2.AnalyzeRequest(
        type=resource_type, name=name, urn=f"urn:pulumi:dev::monitoring::{resource_type}::{name}",
        properties=properties,
        options=analyzer_pb2.AnalyzerResourceOptions(protect=protect,
                                                     additionalSecretOutputs=list(additional_secret_outputs)))
    response = _servicer().Analyze(request, None)
    return [(d.policyName, d.enforcementLevel, d.message) for d in response.diagnostics]


def test_analyze_reports_levels_and_handles_preview_unknowns():
    bad = container(image="prom/prometheus:latest", ports=[_port("0.0.0.0")], healthcheck=None,
                    envs=["REDIS_PASSWORD=hunter2"])
    found = {name: level for name, level, _ in analyze(CONTAINER, "bad", bad)}
    assert found == {"pinned-images": analyzer_pb2.MANDATORY, "tls-beyond-loopback": analyzer_pb2.MANDATORY,
                     "no-plaintext-credentials": analyzer_pb2.MANDATORY,
                     "container-healthcheck": analyzer_pb2.ADVISORY}
    # Preview: the image is RemoteImage.image_id, still unknown. No policy trips on it.
    assert analyze(CONTAINER, "good", container(image=UNKNOWN_STRING_VALUE)) == []


# --- least-privilege --------------------------------------------------------------------

READ_ONLY_BINDS = [{"target": "/rootfs", "source": "/", "type": "bind", "readOnly": True},
                   {"target": "/sys", "source": "/sys", "type": "bind", "readOnly": True}]


@pytest.mark.parametrize("inputs", [
    {},
    {"mounts": READ_ONLY_BINDS, "privileged": False},
    {"volumes": [{"volumeName": "monitoring-dev-prometheus-data", "containerPath": "/prometheus"},
                 {"hostPath": "/etc/ssl", "containerPath": "/etc/ssl", "readOnly": True}]},
    {"capabilities": {"drops": ["ALL"]}, "devices": []},
    # Preview: values not known yet are not judged.
    {"privileged": UNKNOWN_STRING_VALUE, "mounts": UNKNOWN_STRING_VALUE},
])
def test_least_privilege_accepts_read_only_host_access(inputs):
    assert violations("least-privilege", analyze_args(CONTAINER, container(**inputs))) == []


@pytest.mark.parametrize(("inputs", "problem"), [
    ({"privileged": True}, "runs privileged"),
    ({"capabilities": {"adds": ["SYS_ADMIN"]}}, "adds capabilities ['SYS_ADMIN']"),
    ({"devices": [{"hostPath": "/dev/kmsg"}]}, "is given host devices ['/dev/kmsg']"),
    ({"mounts": [READ_ONLY_BINDS[0], {"target": "/var/run", "source": "/var/run", "type": "bind"}]},
     "binds host path /var/run at /var/run writable"),
    ({"mounts": [{"target": "/sys", "source": "/sys", "type": "bind", "readOnly": False}]},
     "binds host path /sys at /sys writable"),
    ({"volumes": [{"hostPath": "/var/lib/docker", "containerPath": "/var/lib/docker"}]},
     "binds host path /var/lib/docker at /var/lib/docker writable"),
])
def test_least_privilege_rejects_privileges_and_writable_host_binds(inputs, problem):
    found = violations("least-privilege", analyze_args(CONTAINER, container(**inputs), name="cadvisor"))
    assert len(found) == 1 and found[0].startswith(f"cadvisor: {problem}"), found


def test_least_privilege_holds_for_every_exporter_row_with_host_access():
    """The exporter table's host paths reach the container as read-only binds, and the policy
    passes the containers the program builds from them (node_exporter, cAdvisor)."""
    from components.exporters.table import EXPORTERS

    rows = [row for row in EXPORTERS if row.host_mounts]
    assert {row.name for row in rows} >= {"node", "cadvisor"}
    for row in rows:
        mounts = [{"target": m.target, "source": m.source, "type": "bind", "readOnly": True} for m in row.host_mounts]
        args = analyze_args(CONTAINER, container(name=row.service, image=row.image, mounts=mounts))
        assert violations("least-privilege", args) == [], row.name


# --- the product's dev stack under mocks -----------------------------------------------

def _wire(value: Any) -> Any:
    """A harness record's inputs back in the engine's wire form (secrets signed)."""
    from tests.component.harness import SecretValue

    if isinstance(value, SecretValue):
        return secret(_wire(value.value))
    if isinstance(value, dict):
        return {k: _wire(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_wire(v) for v in value]
    return value


def test_dev_stack_passes_every_policy():
    """The dev stack (Pulumi.dev.yaml's config) as `pulumi preview --policy-pack policy` would judge it.

    Each recorded resource goes through the analyzer exactly as the engine hands it over:
    inputs with secrets signed (Analyze then strips the marker), `protect` and
    `additionalSecretOutputs` as the only options the analyzer protocol carries.
    """
    from pathlib import Path

    import yaml

    from tests.component.harness import run_program

    root = Path(__file__).resolve().parents[2]
    dev_yaml = root / "Pulumi.dev.yaml"
    # Before Pulumi.dev.yaml exists: the dev stack per the spec (demo workload on, loopback defaults).
    stack_file = yaml.safe_load(dev_yaml.read_text()) if dev_yaml.exists() else {"config": {"monitoring:demo": True}}
    config, secret_keys = {}, []
    for key, value in ((stack_file or {}).get("config") or {}).items():
        short = key.split(":", 1)[1] if ":" in key else key
        if isinstance(value, dict) and "secure" in value:
            # Encrypted with the stack's passphrase: stand in a valid value of the same kind.
            value, _ = "test-" + short + "-0123456789", secret_keys.append(short)
        config[short] = value
    program = run_program(config, secret_keys)

    assert program.resources, "the harness recorded no resources"
    findings = []
    for record in program.resources:
        options = record.options or {}
        for policy_name, level, message in analyze(record.type, record.name, _wire(record.inputs),
                                          protect=bool(options.get("protect")),
                                          additional_secret_outputs=options.get("additionalSecretOutputs") or ()):
            findings.append(f"{policy_name} ({analyzer_pb2.EnforcementLevel.Name(level)}): "
                            f"{message.splitlines()[-1]}")
    assert findings == [], "\n".join(findings)


@pytest.mark.parametrize("reference", [
    "prom/prometheus:v3.7.3", "prom/prometheus", "prom/prometheus:latest", "grafana/grafana:main",
    "grafana/grafana:Stable", "registry.local:5000/grafana/grafana:12.2.0", "prom/prometheus@sha256:" + "a" * 64,
    "prom/prometheus@sha256:" + "A" * 64, "prom/prometheus:v3.7.3\n", "Prom/prometheus:v3.7.3",
    "prom/prometheus:" + "1" * 129, "prom//prometheus:v1", "localhost/prometheus:v1",
])
def test_pinned_images_agrees_with_the_config_model(reference):
    # One ImageRef type: what the config accepts at program start, the policy accepts at preview.
    from components.config import ConfigError, load_config

    try:
        load_config({"demo": True, "prometheus": {"image": reference}})
        accepted = True
    except ConfigError:
        accepted = False
    found = violations("pinned-images", analyze_args(REMOTE_IMAGE, {"name": reference}, name="prometheus-image"))
    assert (found == []) == accepted, found


def test_shellless_exporters_come_from_the_exporter_table():
    from components.exporters.table import EXPORTERS

    for row in EXPORTERS:
        args = analyze_args(CONTAINER, container(image=row.image, healthcheck=None), name=row.service)
        assert (violations("container-healthcheck", args) == []) == (row.healthcheck is None), row.name


@pytest.mark.parametrize("command", [
    ["--nginx.scrape-uri=http://stats:hunter2@nginx:8080/stub_status"],
    ["redis-server", "--requirepass", "x", "--masterauth=hunter2", "--password=hunter2"],
    ["--web.config.token=hunter2"],
])
def test_no_plaintext_credentials_looks_at_command_arguments(command):
    found = violations("no-plaintext-credentials", analyze_args(CONTAINER, container(command=command), name="exp"))
    assert found and all("command argument" in f and "hunter2" not in f for f in found)
    declared = analyze_args(CONTAINER, container(command=command), additional_secret_outputs=["command"])
    assert violations("no-plaintext-credentials", declared) == []


@pytest.mark.parametrize("content", [
    "requirepass hunter2\n",
    "receivers:\n- name: x\n  email_configs:\n  - auth_password: hunter2\n",
    "scrape_configs:\n- job_name: grafana\n  basic_auth:\n    password: hunter2\n",
    "url: https://hooks.slack.com/services/T0/B0/hunter2\n",
])
def test_no_plaintext_credentials_looks_at_uploaded_files(content):
    uploads = [{"file": "/etc/app.conf", "content": content}]
    found = violations("no-plaintext-credentials", analyze_args(CONTAINER, container(uploads=uploads), name="app"))
    assert len(found) == 1 and "/etc/app.conf" in found[0] and "hunter2" not in found[0]
    secret_file = [{"file": "/etc/app.conf", "content": secret(content)}]
    marked = deserialize_properties({**container(), "uploads": secret_file}, True)
    assert violations("no-plaintext-credentials", ResourceValidationArgs(CONTAINER, marked, "urn", "app", options(),
                                                                         None)) == []


def test_no_plaintext_credentials_ignores_ordinary_files():
    uploads = [{"file": "/etc/prometheus/prometheus.yml", "content": "global:\n  scrape_interval: 15s\n"},
               {"file": "/etc/nginx/conf.d/default.conf", "content": "location / { proxy_pass http://app:8000; }\n"}]
    assert violations("no-plaintext-credentials", analyze_args(CONTAINER, container(uploads=uploads))) == []


def test_a_password_file_path_is_not_a_credential():
    uploads = [{"file": "/etc/prometheus/prometheus.yml",
                "content": "  basic_auth:\n    username: prometheus\n    password_file: /etc/prometheus/secrets/x\n"}]
    assert violations("no-plaintext-credentials", analyze_args(CONTAINER, container(uploads=uploads))) == []


def test_grafana_tls_key_path_is_not_a_credential_but_a_key_in_it_is():
    assert p.plaintext_credentials({"envs": ["GF_SERVER_CERT_KEY=/etc/grafana/tls/server.key"]}) == []
    assert p.plaintext_credentials({"envs": ["GF_SERVER_CERT_KEY=-----BEGIN EC PRIVATE KEY-----"]}) == [
        ("envs", "env GF_SERVER_CERT_KEY")]
