"""TLS and basic auth on every published port (`tls.enabled`), under Pulumi mocks: the certificate
resources, the secret uploads, Grafana's env and data source, the outputs, and the bind rule of
the config model and the policy pack for each bind with TLS on and off."""

from __future__ import annotations

import json

import bcrypt
import pytest
import yaml

from components.config import ConfigError
from policy import policies
from tests.component.harness import Program, SecretValue, run_program
from tests.component.test_stack import CONTAINER, PROD, PROD_SECRETS, _as_policy_sees_with_markers, containers, env_of
from tests.unit.test_policies import analyze_args, violations

TLS = {**PROD, "tls": {"enabled": True}, "alertmanager": {
    "enabled": True, "receivers": [{"name": "hook", "type": "webhook", "url": "http://hook:9/"}]}}
PRIVATE_KEY = "tls:index/privateKey:PrivateKey"
SELF_SIGNED = "tls:index/selfSignedCert:SelfSignedCert"
REQUEST = "tls:index/certRequest:CertRequest"
SIGNED = "tls:index/locallySignedCert:LocallySignedCert"
DATA_SOURCE = "grafana:oss/dataSource:DataSource"
PROVIDER = "pulumi:providers:grafana"
CA_PEM = "-----BEGIN CERTIFICATE-----\nfake-cert-web-access-ca\n-----END CERTIFICATE-----\n"
SERVER_PEM = "-----BEGIN CERTIFICATE-----\nfake-cert-web-access-server-cert\n-----END CERTIFICATE-----\n"
SERVER_KEY = "-----BEGIN EC PRIVATE KEY-----\nfake-key-web-access-server-key\n-----END EC PRIVATE KEY-----\n"
OWN_CERT = "-----BEGIN CERTIFICATE-----\nb3du\n-----END CERTIFICATE-----\n"
OWN_KEY = "-----BEGIN PRIVATE KEY-----\na2V5\n-----END PRIVATE KEY-----\n"
OWN_CA = "-----BEGIN CERTIFICATE-----\nY2E=\n-----END CERTIFICATE-----\n"


@pytest.fixture(scope="module")
def tls() -> Program:
    return run_program({**TLS, "bindAddress": "0.0.0.0"}, PROD_SECRETS)


def uploads(program: Program, name: str) -> dict:
    return {u["file"]: u["content"] for u in containers(program)[name].inputs["uploads"]}


def plain(value):
    return value.value if isinstance(value, SecretValue) else value


def test_a_ca_and_a_server_certificate_are_generated_with_pulumi_tls(tls):
    keys = {r.name: r.inputs for r in tls.of_type(PRIVATE_KEY)}
    assert keys == {"web-access-ca-key": {"algorithm": "ECDSA", "ecdsaCurve": "P256"},
                    "web-access-server-key": {"algorithm": "ECDSA", "ecdsaCurve": "P256"}}
    ca = tls.one(SELF_SIGNED, "web-access-ca").inputs
    assert ca["isCaCertificate"] is True and ca["validityPeriodHours"] == 87600
    assert ca["allowedUses"] == ["cert_signing", "crl_signing", "digital_signature"]
    assert ca["subject"]["commonName"] == "monitoring-dev CA"
    # The CA's key reaches it as a secret (pulumi-tls marks privateKeyPem secret).
    assert isinstance(ca["privateKeyPem"], SecretValue)
    request = tls.one(REQUEST, "web-access-server-request").inputs
    assert request["dnsNames"] == ["monitoring-dev-prometheus", "monitoring-dev-grafana",
                                   "monitoring-dev-alertmanager", "localhost"]
    # The wildcard is not an address a certificate can name; loopback is (healthchecks, the provider).
    assert request["ipAddresses"] == ["127.0.0.1", "::1"]
    signed = tls.one(SIGNED, "web-access-server-cert").inputs
    assert signed["caCertPem"] == CA_PEM and isinstance(signed["caPrivateKeyPem"], SecretValue)
    assert signed["allowedUses"] == ["digital_signature", "key_encipherment", "server_auth"]
    assert (signed["validityPeriodHours"], signed["earlyRenewalHours"]) == (8760, 720)


def test_the_certificate_names_the_lan_address_public_host_and_extra_hosts():
    program = run_program({**TLS, "bindAddress": "10.0.4.12", "tls": {"enabled": True, "hosts": [
        "monitoring.internal", "192.168.7.7"]}, "grafana": {"rootUrl": "https://grafana.example.org/"}}, PROD_SECRETS)
    request = program.one(REQUEST, "web-access-server-request").inputs
    assert request["ipAddresses"] == ["127.0.0.1", "::1", "10.0.4.12", "192.168.7.7"]
    assert request["dnsNames"][-2:] == ["grafana.example.org", "monitoring.internal"]


def test_prometheus_serves_https_with_basic_auth_from_a_secret_web_config(tls):
    prometheus = containers(tls)["prometheus"]
    files = uploads(tls, "prometheus")
    assert "--web.config.file=/etc/prometheus/web.yml" in prometheus.inputs["command"]
    web = yaml.safe_load(plain(files["/etc/prometheus/web.yml"]))
    assert isinstance(files["/etc/prometheus/web.yml"], SecretValue)
    assert web["tls_server_config"] == {"cert_file": "/etc/prometheus/tls/server.crt",
                                        "key_file": "/etc/prometheus/tls/server.key", "min_version": "TLS12"}
    password = tls.outputs["prometheusPassword"][0]
    # The hash is one bcrypt accepts for the generated password; the password itself is in no file but its own.
    assert bcrypt.checkpw(password.encode(), web["basic_auth_users"]["prometheus"].encode())
    assert password not in plain(files["/etc/prometheus/web.yml"])
    assert files["/etc/prometheus/secrets/prometheus-password"] == SecretValue(password)
    assert files["/etc/prometheus/tls/server.key"] == SecretValue(SERVER_KEY)
    assert files["/etc/prometheus/tls/server.crt"] == SERVER_PEM and files["/etc/prometheus/tls/ca.crt"] == CA_PEM
    assert "uploads" in prometheus.options["additionalSecretOutputs"]


def test_prometheus_scrapes_itself_and_grafana_and_alerts_over_tls(tls):
    rendered = yaml.safe_load(uploads(tls, "prometheus")["/etc/prometheus/prometheus.yml"])
    jobs = {job["job_name"]: job for job in rendered["scrape_configs"]}
    ca = "/etc/prometheus/tls/ca.crt"
    assert jobs["prometheus"]["scheme"] == "https"
    assert jobs["prometheus"]["basic_auth"] == {"username": "prometheus",
                                                "password_file": "/etc/prometheus/secrets/prometheus-password"}
    assert jobs["prometheus"]["tls_config"] == {"ca_file": ca, "server_name": "monitoring-dev-prometheus"}
    assert jobs["grafana"]["scheme"] == "https"
    assert jobs["grafana"]["tls_config"] == {"ca_file": ca, "server_name": "monitoring-dev-grafana"}
    assert jobs["node"].get("scheme") is None  # the exporters stay on the stack network, plain
    alerting = rendered["alerting"]["alertmanagers"][0]
    assert alerting["scheme"] == "https"
    assert alerting["basic_auth"] == {"username": "alertmanager",
                                      "password_file": "/etc/prometheus/secrets/alertmanager-password"}
    assert alerting["tls_config"] == {"ca_file": ca, "server_name": "monitoring-dev-alertmanager"}
    password = tls.outputs["alertmanagerPassword"][0]
    assert uploads(tls, "prometheus")["/etc/prometheus/secrets/alertmanager-password"] == SecretValue(password)


def test_healthchecks_use_https_the_ca_and_the_password_file(tls):
    found = containers(tls)
    assert found["prometheus"].inputs["healthcheck"]["tests"] == [
        "CMD", "promtool", "check", "ready", "--url=https://localhost:9090",
        "--http.config.file=/etc/prometheus/healthcheck.yml"]
    client = yaml.safe_load(uploads(tls, "prometheus")["/etc/prometheus/healthcheck.yml"])
    assert client == {"basic_auth": {"username": "prometheus",
                                     "password_file": "/etc/prometheus/secrets/prometheus-password"},
                      "tls_config": {"ca_file": "/etc/prometheus/tls/ca.crt",
                                     "server_name": "monitoring-dev-prometheus"}}
    assert found["alertmanager"].inputs["healthcheck"]["tests"] == [
        "CMD", "amtool", "--alertmanager.url=https://localhost:9093",
        "--http.config.file=/etc/alertmanager/healthcheck.yml", "config", "show"]
    assert found["grafana"].inputs["healthcheck"]["tests"] == [
        "CMD", "curl", "-fsS", "-o", "/dev/null", "--cacert", "/etc/grafana/tls/ca.crt",
        "--resolve", "monitoring-dev-grafana:3000:127.0.0.1", "https://monitoring-dev-grafana:3000/api/health"]


def test_alertmanager_serves_https_with_its_own_login(tls):
    alertmanager = containers(tls)["alertmanager"]
    files = uploads(tls, "alertmanager")
    assert "--web.config.file=/etc/alertmanager/web.yml" in alertmanager.inputs["command"]
    web = yaml.safe_load(plain(files["/etc/alertmanager/web.yml"]))
    password = tls.outputs["alertmanagerPassword"][0]
    assert bcrypt.checkpw(password.encode(), web["basic_auth_users"]["alertmanager"].encode())
    assert files["/etc/alertmanager/tls/server.key"] == SecretValue(SERVER_KEY)
    assert password != tls.outputs["prometheusPassword"][0]


def test_grafana_serves_https_and_its_data_source_logs_in_and_trusts_the_ca(tls):
    grafana = containers(tls)["grafana"]
    env = env_of(grafana)
    assert (env["GF_SERVER_PROTOCOL"], env["GF_SERVER_CERT_FILE"], env["GF_SERVER_CERT_KEY"]) == (
        "https", "/etc/grafana/tls/server.crt", "/etc/grafana/tls/server.key")
    assert env["GF_SERVER_ROOT_URL"] == "https://0.0.0.0:3000/" and env["GF_SECURITY_COOKIE_SECURE"] == "true"
    assert uploads(tls, "grafana")["/etc/grafana/tls/server.key"] == SecretValue(SERVER_KEY)
    source = tls.one(DATA_SOURCE, "grafana-content-prometheus").inputs
    assert source["url"] == "https://monitoring-dev-prometheus:9090"
    assert (source["basicAuthEnabled"], source["basicAuthUsername"]) == (True, "prometheus")
    json_data = json.loads(source["jsonDataEncoded"])
    assert (json_data["tlsAuthWithCACert"], json_data["serverName"]) == (True, "monitoring-dev-prometheus")
    assert isinstance(source["secureJsonDataEncoded"], SecretValue)
    assert json.loads(source["secureJsonDataEncoded"].value) == {
        "basicAuthPassword": tls.outputs["prometheusPassword"][0], "tlsCACert": CA_PEM}
    provider = tls.one(PROVIDER, "grafana-content-provider").inputs
    assert provider["url"] == "https://127.0.0.1:3000" and provider["caCert"] == CA_PEM


def test_outputs_the_ca_and_the_logins_passwords_as_secrets(tls):
    outputs = tls.outputs
    assert outputs["tlsCaCertificate"] == (CA_PEM, False)
    assert outputs["prometheusUser"] == ("prometheus", False)
    assert outputs["alertmanagerUser"] == ("alertmanager", False)
    assert outputs["prometheusPassword"][1] is True and outputs["alertmanagerPassword"][1] is True
    assert outputs["prometheusUrl"] == ("https://0.0.0.0:9090", False)
    assert outputs["alertmanagerUrl"] == ("https://0.0.0.0:9093", False)


def test_configured_passwords_and_your_own_certificate_replace_the_generated_ones():
    program = run_program({**TLS, "tls": {"enabled": True, "certificate": OWN_CERT, "privateKey": OWN_KEY,
                                          "caCertificate": OWN_CA, "serverName": "monitoring.example.org"},
                           "prometheusPassword": "prometheus-pass-123", "alertmanagerPassword": "alertmgr-pass-123"},
                          [*PROD_SECRETS, "tls", "prometheusPassword", "alertmanagerPassword"])
    assert not [r for r in program.resources if r.type.startswith("tls:")]
    assert not [r for r in program.resources if r.name.endswith(("prometheus-password", "alertmanager-password"))]
    # `tls` stored as a secret: every input of the servers it configures is one, uploads whole.
    prometheus = containers(program)["prometheus"]
    assert isinstance(prometheus.inputs["uploads"], SecretValue)
    files = {u["file"]: plain(u["content"]) for u in prometheus.inputs["uploads"].value}
    assert files["/etc/prometheus/tls/server.key"] == OWN_KEY
    assert files["/etc/prometheus/tls/server.crt"] == OWN_CERT
    assert files["/etc/prometheus/tls/ca.crt"] == OWN_CA
    web = yaml.safe_load(plain(files["/etc/prometheus/web.yml"]))
    assert bcrypt.checkpw(b"prometheus-pass-123", web["basic_auth_users"]["prometheus"].encode())
    rendered = yaml.safe_load(plain(files["/etc/prometheus/prometheus.yml"]))
    assert rendered["alerting"]["alertmanagers"][0]["tls_config"]["server_name"] == "monitoring.example.org"
    assert program.outputs["prometheusPassword"] == ("prometheus-pass-123", True)
    assert program.outputs["tlsCaCertificate"] == (OWN_CA, True)


def test_the_hash_stays_the_same_from_one_run_to_the_next():
    # The salt is a RandomId in the state: re-running does not re-upload the web config (no restart).
    first, second = (yaml.safe_load(plain(uploads(run_program(TLS, PROD_SECRETS), "prometheus")["/etc/prometheus/web.yml"]))
                     for _ in range(2))
    assert first == second


def test_tls_off_adds_nothing(request):
    program = run_program(PROD, PROD_SECRETS)
    assert not [r for r in program.resources if r.type.startswith("tls:") or "web-access" in r.name]
    assert not {"tlsCaCertificate", "prometheusPassword", "prometheusUser"} & set(program.outputs)
    prometheus = containers(program)["prometheus"]
    assert not any("web.config" in arg for arg in prometheus.inputs["command"])
    assert "GF_SERVER_PROTOCOL" not in env_of(containers(program)["grafana"])


# --- the bind rule: config model and policy pack, each bind with TLS on and off ------------------

BINDS = [("127.0.0.1", False), ("::1", False), ("10.0.4.12", True), ("0.0.0.0", True), ("::", True),
         ("fd00::12", True)]


@pytest.mark.parametrize("bind, beyond", BINDS)
def test_the_config_model_allows_a_bind_beyond_loopback_only_with_tls(bind, beyond):
    config = {**PROD, "bindAddress": bind}
    if beyond:
        with pytest.raises(ConfigError) as failure:
            run_program(config, PROD_SECRETS)
        assert f'monitoring:bindAddress: "{bind}" is not allowed' in str(failure.value)
        assert "pulumi config set --path tls.enabled true" in str(failure.value)
    else:
        run_program(config, PROD_SECRETS)
    run_program({**config, "tls": {"enabled": True}}, PROD_SECRETS)


@pytest.mark.parametrize("bind, beyond", BINDS)
def test_the_policy_pack_passes_what_the_program_registers_for_every_bind(bind, beyond):
    # With TLS on, every published container passes; with TLS off on a loopback bind too.
    for config in ([{**TLS, "bindAddress": bind}] + ([] if beyond else [{**PROD, "bindAddress": bind}])):
        program = run_program(config, PROD_SECRETS)
        for container in program.of_type(CONTAINER):
            props = _as_policy_sees_with_markers(container.inputs)
            args = analyze_args(CONTAINER, policies._plain(props), name=container.name)
            assert violations("tls-beyond-loopback", args) == [], (bind, container.name)


def test_the_policy_pack_refuses_the_program_s_plain_containers_moved_beyond_loopback():
    # The same containers as registered with TLS off, their ports moved to a wildcard: each is refused.
    program = run_program(PROD, PROD_SECRETS)
    published = [c for c in program.of_type(CONTAINER) if c.inputs.get("ports")]
    assert {c.name for c in published} == {"prometheus", "grafana"}
    for container in published:
        inputs = {**container.inputs, "ports": [{**port, "ip": "0.0.0.0"} for port in container.inputs["ports"]]}
        args = analyze_args(CONTAINER, policies._plain(_as_policy_sees_with_markers(inputs)), name=container.name)
        found = violations("tls-beyond-loopback", args)
        assert len(found) == 1 and "tls.enabled true" in found[0], container.name
