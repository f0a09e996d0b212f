"""The whole program under Pulumi mocks: the exact inputs and options of every resource."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from components.config import ConfigError, default_images
from components.prometheus.alert_links import RUNBOOK_PATH, AlertLinks
from components.prometheus.config import render_prometheus_config
from components.prometheus.rules import load_rule_files
from tests.component.harness import Program, SecretValue, run_program

DEFAULT_IMAGES = default_images()
CONTAINER = "docker:index/container:Container"
IMAGE = "docker:index/remoteImage:RemoteImage"
VOLUME = "docker:index/volume:Volume"
NETWORK = "docker:index/network:Network"
PASSWORD = "correct-horse-battery-staple"
DSN = "postgresql://monitor:pg-secret-pass@db.internal:5432/app?sslmode=require"
REDIS_PASSWORD = "redis-secret-pass"

# The production-like config: every exporter on, credentials as secrets.
PROD = {"postgresDsn": DSN, "redisPassword": REDIS_PASSWORD, "grafanaAdminPassword": PASSWORD}
PROD_SECRETS = ("postgresDsn", "redisPassword", "grafanaAdminPassword")

# container resource name -> (container name in dev, config image key)
EXPECTED_CONTAINERS = {
    "prometheus": ("monitoring-dev-prometheus", "prometheus"),
    "grafana": ("monitoring-dev-grafana", "grafana"),
    "node-exporter": ("monitoring-dev-node-exporter", "node"),
    "postgres-exporter": ("monitoring-dev-postgres-exporter", "postgres"),
    "redis-exporter": ("monitoring-dev-redis-exporter", "redis"),
    "nginx-exporter": ("monitoring-dev-nginx-exporter", "nginx"),
    "celery-exporter": ("monitoring-dev-celery-exporter", "celery"),
    "blackbox-exporter": ("monitoring-dev-blackbox-exporter", "blackbox"),
    "cadvisor-exporter": ("monitoring-dev-cadvisor-exporter", "cadvisor"),
}


@pytest.fixture(scope="module")
def prod() -> Program:
    return run_program(PROD, PROD_SECRETS)


@pytest.fixture(scope="module")
def dev() -> Program:
    # The dev stack file's values: demo on, loopback.
    dev_file = yaml.safe_load(Path("Pulumi.dev.yaml").read_text())["config"]
    return run_program({k.split(":", 1)[1]: v for k, v in dev_file.items()})


def containers(program: Program) -> dict:
    return {r.name: r for r in program.of_type(CONTAINER)}


def env_of(container) -> dict:
    result = {}
    for entry in container.inputs.get("envs", []):
        secret = isinstance(entry, SecretValue)
        key, _, value = (entry.value if secret else entry).partition("=")
        result[key] = SecretValue(value) if secret else value
    return result


def image_of(program: Program, container) -> str:
    """The RemoteImage reference whose computed imageId the container runs."""
    return program.one(IMAGE, program.image_ids[container.inputs["image"]]).inputs["name"]


def test_every_container_of_the_stack_with_its_pinned_image(prod):
    found = containers(prod)
    assert set(found) == set(EXPECTED_CONTAINERS)
    for resource_name, (container_name, image_key) in EXPECTED_CONTAINERS.items():
        container = found[resource_name]
        assert container.inputs["name"] == container_name
        assert image_of(prod, container) == DEFAULT_IMAGES[image_key]
    for image in prod.of_type(IMAGE):
        reference = image.inputs["name"]
        assert ":" in reference.rsplit("/", 1)[-1] and not reference.endswith(":latest"), reference
        assert image.inputs["keepLocally"] is True


def test_every_container_has_restart_policy_memory_limit_and_the_stack_network(prod):
    for container in prod.of_type(CONTAINER):
        assert container.inputs["restart"] == "unless-stopped"
        assert container.inputs["memory"] > 0
        if container.name == "node-exporter":  # the host's network: see test_exporter_commands_...
            assert container.inputs["networkMode"] == "host" and "networksAdvanced" not in container.inputs
            continue
        assert container.inputs["networksAdvanced"][0]["name"] == "monitoring-dev-net"
    network = prod.one(NETWORK, "network")
    assert network.inputs["name"] == "monitoring-dev-net" and network.inputs["driver"] == "bridge"


def test_memory_and_restart_come_from_config():
    program = run_program({**PROD, "restartPolicy": "always",
                           "prometheus": {"memoryMb": 2048}, "exporters": {"node": {"memoryMb": 64}}}, PROD_SECRETS)
    found = containers(program)
    assert found["prometheus"].inputs["memory"] == 2048
    assert found["node-exporter"].inputs["memory"] == 64
    assert {c.inputs["restart"] for c in found.values()} == {"always"}


def test_only_prometheus_and_grafana_publish_ports_bound_to_loopback(prod):
    published = {c.name: c.inputs.get("ports", []) for c in prod.of_type(CONTAINER) if c.inputs.get("ports")}
    assert published == {
        "prometheus": [{"internal": 9090, "external": 9090, "ip": "127.0.0.1", "protocol": "tcp"}],
        "grafana": [{"internal": 3000, "external": 3000, "ip": "127.0.0.1", "protocol": "tcp"}],
    }


def test_ports_follow_bind_address_and_configured_ports():
    program = run_program({**PROD, "bindAddress": "10.1.2.3", "tls": {"enabled": True}, "grafana": {"port": 3300},
                           "prometheus": {"port": 9999}}, PROD_SECRETS)
    found = containers(program)
    assert found["grafana"].inputs["ports"] == [{"internal": 3000, "external": 3300, "ip": "10.1.2.3", "protocol": "tcp"}]
    assert found["prometheus"].inputs["ports"] == [{"internal": 9090, "external": 9999, "ip": "10.1.2.3", "protocol": "tcp"}]
    assert program.outputs["grafanaUrl"] == ("https://10.1.2.3:3300", False)
    assert program.outputs["prometheusUrl"] == ("https://10.1.2.3:9999", False)


def test_prometheus_runs_the_rendered_config_and_rules(prod):
    container = containers(prod)["prometheus"]
    uploads = {u["file"]: u["content"] for u in container.inputs["uploads"]}
    expected_yml = render_prometheus_config(
        scrape_interval="15s", evaluation_interval="15s", scrape_timeout="10s",
        rule_files=["/etc/prometheus/rules/*.yml"],
        targets={
            "prometheus": ["localhost:9090"],
            "grafana": ["monitoring-dev-grafana:3000"],
            # On the host's network, listening on the stack network's gateway (Docker's answer, faked).
            "node": ["172.30.0.1:9100"],
            "postgres": ["monitoring-dev-postgres-exporter:9187"],
            "redis": ["monitoring-dev-redis-exporter:9121"],
            "nginx": ["monitoring-dev-nginx-exporter:9113"],
            "celery": ["monitoring-dev-celery-exporter:5555"],
            "cadvisor": ["monitoring-dev-cadvisor-exporter:8080"],
            "django": ["django:8000"],
        },
        # Grafana's /metrics needs basic auth; the password is in a secret file, not in prometheus.yml.
        basic_auth={"grafana": ("prometheus", "/etc/prometheus/secrets/grafana-metrics-password")},
        external_labels={"environment": "dev"})
    assert uploads.pop("/etc/prometheus/prometheus.yml") == expected_yml
    metrics_password = uploads.pop("/etc/prometheus/secrets/grafana-metrics-password")
    assert isinstance(metrics_password, SecretValue)
    assert env_of(containers(prod)["grafana"])["GF_METRICS_BASIC_AUTH_PASSWORD"] == metrics_password
    # With every alert's links: the runbook in the repository, the dashboard under the default root URL.
    links = AlertLinks(runbook_url=RUNBOOK_PATH, grafana_url="http://127.0.0.1:3000/")
    assert uploads == {f"/etc/prometheus/rules/{name}": text for name, text in load_rule_files(links=links).items()}
    assert uploads, "rule files are uploaded"
    assert container.inputs["command"] == [
        "--config.file=/etc/prometheus/prometheus.yml",
        "--storage.tsdb.path=/prometheus",
        "--storage.tsdb.retention.time=15d",
        "--query.timeout=30s",
        "--query.max-samples=10000000",
        "--query.max-concurrency=20",
    ]  # Prometheus 3 ships no console templates: no --web.console.* flags
    assert container.inputs["volumes"] == [{"containerPath": "/prometheus", "volumeName": "monitoring-dev-prometheus-data"}]
    assert container.inputs["healthcheck"] == {
        "tests": ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:9090/-/ready"],
        "interval": "15s", "timeout": "5s", "retries": 5, "startPeriod": "20s"}
    assert container.inputs["wait"] is True


def test_scrape_settings_and_retention_come_from_config():
    program = run_program({**PROD, "prometheus": {"retention": "30d", "scrapeInterval": "30s",
                                                  "scrapeTimeout": "20s", "evaluationInterval": "1m"},
                           "targets": {"django": ["web-1:8000", "web-2:8000"]}}, PROD_SECRETS)
    container = containers(program)["prometheus"]
    rendered = yaml.safe_load(next(u["content"] for u in container.inputs["uploads"]
                                   if u["file"] == "/etc/prometheus/prometheus.yml"))
    assert rendered["global"] == {"scrape_interval": "30s", "scrape_timeout": "20s", "evaluation_interval": "1m",
                                  # Alerts and remote-written series say which environment they are from.
                                  "external_labels": {"environment": "dev"}}
    django = next(j for j in rendered["scrape_configs"] if j["job_name"] == "django")
    assert django["static_configs"] == [{"targets": ["web-1:8000", "web-2:8000"]}]
    assert "--storage.tsdb.retention.time=30d" in container.inputs["command"]


def test_query_limits_come_from_config():
    program = run_program({**PROD, "prometheus": {"queryTimeout": "1m30s", "queryMaxSamples": "5000000",
                                                  "queryMaxConcurrency": 4, "memoryMb": 2048}}, PROD_SECRETS)
    container = containers(program)["prometheus"]
    assert container.inputs["command"][3:] == [
        "--query.timeout=1m30s", "--query.max-samples=5000000", "--query.max-concurrency=4"]
    assert container.inputs["memory"] == 2048


def test_grafana_is_locked_down_with_a_secret_admin_password(prod):
    container = containers(prod)["grafana"]
    env = env_of(container)
    assert env["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
    assert env["GF_USERS_ALLOW_SIGN_UP"] == "false"
    assert env["GF_USERS_ALLOW_ORG_CREATE"] == "false"
    assert env["GF_AUTH_PROXY_ENABLED"] == "false" and env["GF_PUBLIC_DASHBOARDS_ENABLED"] == "false"
    assert env["GF_METRICS_ENABLED"] == "true" and env["GF_METRICS_BASIC_AUTH_USERNAME"] == "prometheus"
    assert isinstance(env["GF_METRICS_BASIC_AUTH_PASSWORD"], SecretValue)
    assert env["GF_SECURITY_ADMIN_USER"] == "admin"
    assert env["GF_SECURITY_ADMIN_PASSWORD"] == SecretValue(PASSWORD)
    assert env["GF_SERVER_ROOT_URL"] == "http://127.0.0.1:3000/"
    assert env["GF_SECURITY_COOKIE_SECURE"] == "false"
    assert container.inputs["healthcheck"]["tests"] == [
        "CMD", "curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:3000/api/health"]
    assert container.inputs["wait"] is True
    assert container.inputs["volumes"] == [{"containerPath": "/var/lib/grafana", "volumeName": "monitoring-dev-grafana-data"}]
    # The generated password stays registered (and protected) even when one is configured: going
    # from generated to configured must not delete a protected resource.
    generated = prod.one("random:index/randomPassword:RandomPassword", "grafana-admin-password")
    assert generated.options["protect"] is True
    assert prod.outputs["grafanaAdminPassword"] == (PASSWORD, True)
    assert prod.outputs["grafanaAdminUser"] == ("admin", False)


def test_grafana_password_is_generated_when_unset(dev):
    generated = dev.one("random:index/randomPassword:RandomPassword", "grafana-admin-password")
    assert generated.inputs["length"] == 32
    value, secret = dev.outputs["grafanaAdminPassword"]
    assert secret and value.startswith("generated-")
    env = env_of(containers(dev)["grafana"])
    assert env["GF_SECURITY_ADMIN_PASSWORD"] == SecretValue(value)


def test_grafana_settings_from_config():
    program = run_program({**PROD, "grafana": {"adminUser": "ops", "rootUrl": "https://grafana.example.org/",
                                               "plugins": ["grafana-clock-panel@2.1.8"]}}, PROD_SECRETS)
    env = env_of(containers(program)["grafana"])
    assert env["GF_SECURITY_ADMIN_USER"] == "ops"
    assert env["GF_SERVER_ROOT_URL"] == "https://grafana.example.org/"
    assert env["GF_SECURITY_COOKIE_SECURE"] == "true"
    assert env["GF_PLUGINS_PREINSTALL"] == "grafana-clock-panel@2.1.8"


def test_data_volumes_survive_replacement_and_destroy(prod):
    volumes = {v.name: v for v in prod.of_type(VOLUME)}
    assert set(volumes) == {"prometheus-data", "grafana-data"}
    assert volumes["prometheus-data"].inputs["name"] == "monitoring-dev-prometheus-data"
    assert volumes["grafana-data"].inputs["name"] == "monitoring-dev-grafana-data"
    for volume in volumes.values():
        assert volume.options["retainOnDelete"] is True
        assert volume.options["protect"] is True


def test_containers_with_secret_env_declare_envs_secret(prod):
    for container in prod.of_type(CONTAINER):
        has_secret_env = any(isinstance(e, SecretValue) for e in container.inputs.get("envs", []))
        has_secret_file = any(isinstance(u["content"], SecretValue) for u in container.inputs.get("uploads", []))
        declared = ["envs"] * has_secret_env + ["uploads"] * has_secret_file
        assert container.options["additionalSecretOutputs"] == declared, container.name


def test_exporter_credentials_are_secrets(prod):
    found = containers(prod)
    assert env_of(found["postgres-exporter"]) == {"DATA_SOURCE_NAME": SecretValue(DSN)}
    assert env_of(found["redis-exporter"]) == {"REDIS_ADDR": "redis://redis:6379",
                                                "REDIS_PASSWORD": SecretValue(REDIS_PASSWORD)}
    assert env_of(found["celery-exporter"]) == {"CELERY_BROKER_URL": SecretValue("redis://redis:6379/0"),
                                                 "FLOWER_PORT": "5555"}


def _plaintext_strings(value):
    if isinstance(value, SecretValue):
        return
    if isinstance(value, dict):
        for v in value.values():
            yield from _plaintext_strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _plaintext_strings(v)
    elif isinstance(value, str):
        yield value


def assert_no_plaintext(program: Program, secrets) -> None:
    """No input of any resource carries one of `secrets` outside a secret value."""
    for resource in program.resources:
        for text in _plaintext_strings(resource.inputs):
            for secret in secrets:
                assert secret not in text, f"{resource.type} {resource.name} carries a credential in plaintext"


@pytest.mark.parametrize("program_name", ["prod", "dev"])
def test_no_credential_appears_in_plaintext(program_name, request):
    program = request.getfixturevalue(program_name)
    secrets = [PASSWORD, DSN, "pg-secret-pass", REDIS_PASSWORD]
    if program_name == "dev":
        secrets.append(program.outputs["grafanaAdminPassword"][0])
    assert_no_plaintext(program, secrets)


def test_exporter_commands_healthchecks_and_host_access(prod):
    found = containers(prod)
    node = found["node-exporter"].inputs
    # The host's network namespace (host interfaces for Network Traffic), listening only on the
    # stack network's gateway: Prometheus reaches it there, nothing outside the host does.
    assert node["networkMode"] == "host" and "networksAdvanced" not in node and not node.get("ports")
    assert node["command"] == ["--path.rootfs=/host", "--web.listen-address=172.30.0.1:9100"]
    assert node["pidMode"] == "host"
    # Plain read-only bind, no `rslave` propagation (refused where / is a private mount).
    assert node["mounts"] == [{"target": "/host", "source": "/", "type": "bind", "readOnly": True}]
    assert node["healthcheck"]["tests"] == ["CMD", "wget", "-q", "-O", "/dev/null", "http://172.30.0.1:9100/"]
    assert found["postgres-exporter"].inputs["healthcheck"]["tests"][1] == "wget"
    # scratch images: no shell, no healthcheck
    assert "healthcheck" not in found["redis-exporter"].inputs
    assert "healthcheck" not in found["nginx-exporter"].inputs
    assert found["nginx-exporter"].inputs["command"] == ["--nginx.scrape-uri=http://nginx:8080/stub_status"]
    assert found["celery-exporter"].inputs["command"] == ["celery", "flower", "--port=5555"]
    assert found["celery-exporter"].inputs["healthcheck"]["tests"][1] == "python"
    for name in ("node-exporter", "postgres-exporter", "redis-exporter", "nginx-exporter", "celery-exporter",
                 "cadvisor-exporter"):
        assert "ports" not in found[name].inputs or found[name].inputs["ports"] == []
        assert found[name].inputs.get("wait") is False


def test_cadvisor_reads_the_host_read_only_without_privileges(prod):
    cadvisor = containers(prod)["cadvisor-exporter"].inputs
    # The host paths cAdvisor reads, every one a read-only bind; nothing else of the host.
    assert cadvisor["mounts"] == [
        {"target": target, "source": source, "type": "bind", "readOnly": True}
        for source, target in (("/", "/rootfs"), ("/var/run", "/var/run"), ("/sys", "/sys"),
                               ("/var/lib/docker/", "/var/lib/docker"))]
    # Least privilege: not privileged, no added capability or device, not the host's PID or network namespace.
    for key in ("privileged", "capabilities", "devices", "pidMode", "networkMode"):
        assert key not in cadvisor, key
    assert cadvisor["networksAdvanced"] == [{"name": "monitoring-dev-net"}]
    assert cadvisor["command"] == [
        "--docker_only=true", "--enable_metrics=cpu,memory,network", "--store_container_labels=false",
        "--whitelisted_container_labels=com.docker.compose.service", "--housekeeping_interval=10s",
        "--allow_dynamic_housekeeping=false"]
    assert cadvisor["healthcheck"]["tests"] == ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/healthz"]
    assert cadvisor["memory"] == 256


def test_disabled_exporters_are_not_created_nor_scraped():
    program = run_program({"exporters": {"postgres": {"enabled": False}, "nginx": {"enabled": "false"}},
                           "redisPassword": REDIS_PASSWORD}, ["redisPassword"])
    assert set(containers(program)) == set(EXPECTED_CONTAINERS) - {"postgres-exporter", "nginx-exporter"}
    prometheus = containers(program)["prometheus"]
    rendered = yaml.safe_load(prometheus.inputs["uploads"][0]["content"])
    assert [j["job_name"] for j in rendered["scrape_configs"]] == [
        "prometheus", "grafana", "django", "node", "redis", "celery", "cadvisor"]


def test_exporter_settings_come_from_config():
    program = run_program({**PROD, "exporters": {
        "redis": {"address": "redis://cache.internal:6380"},
        "nginx": {"scrapeUri": "http://proxy.internal:8081/status", "image": "nginx/nginx-prometheus-exporter:1.4.2"},
        "celery": {"brokerUrl": "amqp://mq.internal:5672//"}}}, PROD_SECRETS)
    found = containers(program)
    assert env_of(found["redis-exporter"])["REDIS_ADDR"] == "redis://cache.internal:6380"
    assert found["nginx-exporter"].inputs["command"] == ["--nginx.scrape-uri=http://proxy.internal:8081/status"]
    assert image_of(program, found["nginx-exporter"]) == "nginx/nginx-prometheus-exporter:1.4.2"
    assert env_of(found["celery-exporter"])["CELERY_BROKER_URL"] == SecretValue("amqp://mq.internal:5672//")


def test_joining_an_existing_network_creates_none():
    program = run_program({**PROD, "network": "platform"}, PROD_SECRETS)
    assert program.of_type(NETWORK) == []
    assert ("docker:index/getNetwork:getNetwork", {"name": "platform"}) in program.invokes
    for container in program.of_type(CONTAINER):
        if container.name != "node-exporter":
            assert container.inputs["networksAdvanced"][0]["name"] == "platform"
    # node_exporter listens on that network's gateway, read from Docker.
    node = containers(program)["node-exporter"].inputs
    assert "--web.listen-address=172.30.0.1:9100" in node["command"]


def test_components_use_type_tokens_and_parent_their_children(prod):
    components = {r.urn: r for r in prod.resources if not r.custom}
    assert {r.type for r in components.values()} == {
        "monitoring:index:StackNetwork", "monitoring:index:PrometheusServer",
        "monitoring:index:GrafanaServer", "monitoring:index:Exporter", "monitoring:index:GrafanaContent"}
    for resource in prod.resources:
        if resource.custom:
            assert resource.options["parent"] in components, f"{resource.name} has no component parent"
            parent = components[resource.options["parent"]].name
            assert resource.name == parent or resource.name.startswith(f"{parent}-"), resource.name


def test_containers_depend_on_their_image(prod):
    images = {r.name: r.urn for r in prod.of_type(IMAGE)}
    for container in prod.of_type(CONTAINER):
        assert container.options["propertyDependencies"]["image"] == [images[f"{container.name}-image"]]


def test_dev_stack_registers_the_stack_without_credentials_of_its_own(dev):
    # demo mode: no DSN is needed; every container is still there
    assert set(containers(dev)) >= set(EXPECTED_CONTAINERS)


@pytest.mark.parametrize("config, key", [
    ({"grafana": {"port": 70000}}, "grafana.port"),
    ({"grafana": {"image": "grafana/grafana:latest"}}, "grafana.image"),
    ({"prometheus": {"retention": "15days"}}, "prometheus.retention"),
    ({"exporters": {"mysql": {}}}, "exporters.mysql"),
    ({"prometheus": {"scrapeTimeout": "20s"}}, "prometheus.scrapeTimeout"),
    ({"bindAddress": "localhost"}, "bindAddress"),
    ({"grafanaAdminPassword": "short"}, "grafanaAdminPassword"),
    ({"prometheus": {"port": 3000}}, "prometheus.port"),
    ({"demo": False, "postgresDsn": None}, "postgresDsn"),
])
def test_bad_config_registers_no_resource(config, key):
    program = Program()
    full = {"demo": True, **config}
    full = {k: v for k, v in full.items() if v is not None}
    with pytest.raises(ConfigError) as failure:
        run_program(full, [k for k in full if k in PROD_SECRETS], program=program)
    assert f"monitoring:{key}:" in str(failure.value)
    assert program.resources == []


# Every key with a value no default has, so each can be looked for in what the program registers.
EVERY_KEY = {
    "tls": {"enabled": True, "hosts": ["tls-host-marker.example"]},
    "prometheusPassword": "prometheus-password-marker", "alertmanagerPassword": "alertmanager-password-marker",
    "bindAddress": "10.77.66.55", "network": "platform-net-marker", "restartPolicy": "on-failure",
    "grafana": {"port": 3777, "image": "grafana/grafana:12.1.7", "adminUser": "admin-marker",
                "rootUrl": "https://grafana-marker.example.com/", "plugins": ["plugin-marker@1.2.3"],
                "memoryMb": 777},
    "grafanaAdminPassword": PASSWORD,
    "prometheus": {"port": 9777, "image": "prom/prometheus:v3.7.7", "retention": "77d", "user": "prom-user-marker",
                   "scrapeInterval": "17s", "evaluationInterval": "27s", "scrapeTimeout": "7s"},
    "exporters": {"redis": {"address": "redis://redis-marker:6379"},
                  "nginx": {"scrapeUri": "http://nginx-marker:8080/stub_status"},
                  "celery": {"brokerUrl": "amqp://broker-marker:5672//"}},
    "postgresDsn": DSN, "redisPassword": REDIS_PASSWORD,
    "targets": {"django": ["django-marker:8000"]},
    "alertmanager": {"enabled": True, "port": 9778, "image": "prom/alertmanager:v0.28.7", "user": "am-user-marker",
                     "receivers": [{"name": "receiver-marker", "type": "webhook", "url": "http://hook-marker:9/"}],
                     "heartbeat": {"url": "https://heartbeat-marker.example/ping", "repeatInterval": "7m"}},
}
MARKERS = ["10.77.66.55", "platform-net-marker", "on-failure", "3777", "12.1.7", "admin-marker", "grafana-marker",
           "plugin-marker", "9777", "v3.7.7", "77d", "17s", "27s", "redis-marker", "nginx-marker", "broker-marker",
           "django-marker", "9778", "v0.28.7", "receiver-marker", "hook-marker", "heartbeat-marker", PASSWORD,
           "pg-secret-pass", "tls-host-marker", "prometheus-password-marker", "alertmanager-password-marker",
           "prom-user-marker", "am-user-marker",
           REDIS_PASSWORD]


def test_every_key_stored_as_a_secret_stays_one_wherever_it_goes():
    # `pulumi config set --secret` on any key: the engine says so, and no value of it may reach
    # state or a preview in plaintext, nor an output unmarked.
    program = run_program(EVERY_KEY, list(EVERY_KEY))
    assert_no_plaintext(program, MARKERS)
    memories = {c.name: c.inputs["memory"] for c in program.of_type(CONTAINER)}
    assert memories["grafana"] == SecretValue(777)
    for name, (value, is_secret) in program.outputs.items():
        shown = str(value)
        assert is_secret or not any(marker in shown for marker in MARKERS), name


def test_the_same_config_without_secret_keys_shows_its_values():
    # The check above is not vacuous: unmarked, the values are right there.
    program = run_program(EVERY_KEY, ["grafanaAdminPassword", "postgresDsn", "redisPassword", "prometheusPassword",
                                      "alertmanagerPassword"])
    texts = [t for r in program.resources for t in _plaintext_strings(r.inputs)]
    for marker in ("10.77.66.55", "on-failure", "admin-marker", "grafana-marker", "77d", "redis-marker",
                   "nginx-marker", "django-marker", "v3.7.7", "tls-host-marker", "prom-user-marker", "am-user-marker"):
        assert any(marker in text for text in texts), marker
    assert program.outputs["grafanaUrl"] == ("https://10.77.66.55:3777", False)


def _as_policy_sees_with_markers(value):
    """Recorded inputs with secrets as pulumi_policy.Secret, the form that keeps secretness."""
    from pulumi_policy import Secret

    if isinstance(value, SecretValue):
        return Secret(_as_policy_sees_with_markers(value.value))
    if isinstance(value, dict):
        return {k: _as_policy_sees_with_markers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_policy_sees_with_markers(v) for v in value]
    return value


@pytest.mark.parametrize("config, secret_keys", [
    ({"demo": True}, ()),
    (PROD, PROD_SECRETS),
    ({**PROD, "tls": {"enabled": True}, "alertmanager": {"enabled": True, "receivers": [
        {"name": "mail", "type": "email", "to": "a@b.c", "from": "x@b.c", "smarthost": "smtp:25",
         "auth_username": "u", "auth_password": "smtp-hunter2"},
        {"name": "chat", "type": "slack", "api_url": "https://hooks.slack.com/services/T/B/x", "channel": "#a"}],
        "heartbeat": {"url": "https://hc-ping.com/0b8e1c7a-token"}}},
     PROD_SECRETS),
    (EVERY_KEY, list(EVERY_KEY)),
], ids=["dev", "prod", "alertmanager", "every-key-secret"])
def test_every_credential_the_program_passes_is_a_secret_output(config, secret_keys):
    # What lets the policy pack trust additionalSecretOutputs (it cannot see secret markers):
    # with the markers kept, its own detector finds no credential outside a secret anywhere.
    from policy.policies import plaintext_credentials

    program = run_program(config, secret_keys)
    for container in program.of_type(CONTAINER):
        assert plaintext_credentials(_as_policy_sees_with_markers(container.inputs)) == [], container.name
        declared = set(container.options["additionalSecretOutputs"])
        for prop in ("envs", "command", "uploads"):
            value = container.inputs.get(prop)
            has_secret = isinstance(value, SecretValue) or (
                isinstance(value, list) and any(isinstance(v, SecretValue) or (
                    isinstance(v, dict) and isinstance(v.get("content"), SecretValue)) for v in value))
            assert has_secret == (prop in declared), (container.name, prop)  # declared exactly where secret


def test_grafana_api_url_is_where_the_provider_connects():
    # CI: `pulumi up` on a runner reaches Grafana through an SSH forward, not the published port.
    lan = {**PROD, "bindAddress": "10.0.4.12", "tls": {"enabled": True}}
    program = run_program({**lan, "grafana": {"apiUrl": "https://127.0.0.1:13000"}}, PROD_SECRETS)
    provider = program.one("pulumi:providers:grafana", "grafana-content-provider")
    assert provider.inputs["url"] == "https://127.0.0.1:13000"
    assert program.outputs["grafanaUrl"] == ("https://10.0.4.12:3000", False)  # what people open is unchanged
    without = run_program(lan, PROD_SECRETS)
    assert without.one("pulumi:providers:grafana", "grafana-content-provider").inputs["url"] == "https://10.0.4.12:3000"


def test_a_fleet_extra_targets_with_readable_instances_and_environment_labels():
    program = run_program({**PROD, "prometheus": {"externalLabels": {"region": "eu-west-1"}}, "targets": {
        "node": ["10.0.1.5:9100", {"address": "10.0.1.6:9100", "labels": {"host": "web-2", "role": "app"}}],
        "postgres": [{"address": "pg-exporter-2:9187", "labels": {"instance": "orders-db"}}],
        "django": [{"address": "10.0.1.5:8000", "labels": {"host": "web-1"}}, "10.0.1.6:8000"],
    }}, PROD_SECRETS, stack="staging")
    rendered = yaml.safe_load(next(u["content"] for u in containers(program)["prometheus"].inputs["uploads"]
                                   if u["file"] == "/etc/prometheus/prometheus.yml"))
    jobs = {job["job_name"]: job["static_configs"] for job in rendered["scrape_configs"]}
    # The stack's own exporter first, then the extra targets; a `host` label names the instance.
    assert jobs["node"] == [
        {"targets": ["172.30.0.1:9100", "10.0.1.5:9100"]},
        {"targets": ["10.0.1.6:9100"], "labels": {"host": "web-2", "role": "app", "instance": "web-2:9100"}}]
    assert jobs["postgres"][-1] == {"targets": ["pg-exporter-2:9187"], "labels": {"instance": "orders-db"}}
    assert jobs["django"] == [{"targets": ["10.0.1.6:8000"]},
                              {"targets": ["10.0.1.5:8000"], "labels": {"host": "web-1", "instance": "web-1:8000"}}]
    assert rendered["global"]["external_labels"] == {"environment": "staging", "region": "eu-west-1"}


REMOTE_WRITE = [
    {"url": "https://vm.example.com/api/v1/write", "basicAuth": {"username": "writer", "password": "vm-hunter2"},
     "headers": {"X-Scope-OrgID": "platform"},
     "writeRelabelConfigs": [{"sourceLabels": ["__name__"], "regex": "go_gc_.*", "action": "drop"}]},
    {"url": "https://mimir.example.com/api/v1/push", "bearerToken": "mimir-hunter2"},
]


def test_remote_write_and_the_long_term_data_source_keep_their_credentials_secret():
    program = run_program({**PROD, "prometheus": {"remoteWrite": REMOTE_WRITE}, "grafana": {"longTerm": {
        "url": "https://vm.example.com", "basicAuth": {"username": "reader", "password": "reader-hunter2"}}}},
        PROD_SECRETS)
    prometheus = containers(program)["prometheus"]
    uploads = {u["file"]: u["content"] for u in prometheus.inputs["uploads"]}
    rendered = yaml.safe_load(uploads["/etc/prometheus/prometheus.yml"])
    assert rendered["remote_write"] == [
        {"url": "https://vm.example.com/api/v1/write",
         "basic_auth": {"username": "writer", "password_file": "/etc/prometheus/secrets/remote-write-0-password"},
         "headers": {"X-Scope-OrgID": "platform"},
         "write_relabel_configs": [{"source_labels": ["__name__"], "regex": "go_gc_.*", "action": "drop"}]},
        {"url": "https://mimir.example.com/api/v1/push",
         "authorization": {"type": "Bearer", "credentials_file": "/etc/prometheus/secrets/remote-write-1-token"}},
    ]
    assert uploads["/etc/prometheus/secrets/remote-write-0-password"] == SecretValue("vm-hunter2")
    assert uploads["/etc/prometheus/secrets/remote-write-1-token"] == SecretValue("mimir-hunter2")
    long_term = program.one("grafana:oss/dataSource:DataSource", "grafana-content-long-term")
    assert long_term.inputs["uid"] == "long-term" and long_term.inputs["url"] == "https://vm.example.com"
    assert long_term.inputs["basicAuthEnabled"] is True and long_term.inputs["basicAuthUsername"] == "reader"
    assert isinstance(long_term.inputs["secureJsonDataEncoded"], SecretValue)
    assert program.one("grafana:oss/dataSource:DataSource", "grafana-content-prometheus").inputs["isDefault"] is True
    assert_no_plaintext(program, ["vm-hunter2", "mimir-hunter2", "reader-hunter2"])


CA_PEM = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n"


def test_blackbox_probes_the_demo_site_and_the_configured_urls_through_its_rendered_config():
    from components.exporters.blackbox import CA_PATH, CONFIG_PATH, render_blackbox_config

    program = run_program({"demo": True, "targets": {"blackbox": ["https://shop.example.com/",
                                                                  {"url": "https://api.example.com/health",
                                                                   "labels": {"role": "api"}}]},
                           "exporters": {"blackbox": {"caCertificate": CA_PEM}}})
    container = containers(program)["blackbox-exporter"]
    assert image_of(program, container) == "prom/blackbox-exporter:v0.28.0"
    assert container.inputs["command"] == [f"--config.file={CONFIG_PATH}"]
    assert container.inputs["healthcheck"]["tests"] == ["CMD", "wget", "-q", "-O", "/dev/null",
                                                        "http://127.0.0.1:9115/-/healthy"]
    uploads = {u["file"]: u["content"] for u in container.inputs["uploads"]}
    assert uploads == {CONFIG_PATH: render_blackbox_config(CA_PATH), CA_PATH: CA_PEM}
    prometheus_yml = yaml.safe_load(next(u["content"] for u in containers(program)["prometheus"].inputs["uploads"]
                                         if u["file"].endswith("prometheus.yml")))
    (job,) = [j for j in prometheus_yml["scrape_configs"] if j["job_name"] == "blackbox"]
    probed = [(c["targets"], c["labels"]) for c in job["static_configs"]]
    site = probed[0][0][0].rsplit("/", 1)[0]
    assert site.startswith("http://") and site.endswith("-nginx:8080")  # the demo site through nginx
    assert probed == [([f"{site}/"], {"instance": f"{site}/"}), ([f"{site}/healthz"], {"instance": f"{site}/healthz"}),
                      (["https://shop.example.com/"], {"instance": "https://shop.example.com/"}),
                      (["https://api.example.com/health"], {"role": "api", "instance": "https://api.example.com/health"})]
    assert job["metrics_path"] == "/probe" and job["params"] == {"module": ["http_2xx"]}
    assert job["relabel_configs"][-1] == {"target_label": "__address__",
                                          "replacement": f"{container.inputs['name']}:9115"}


def test_blackbox_without_a_ca_writes_only_its_config_and_without_urls_is_not_scraped(prod):
    from components.exporters.blackbox import CONFIG_PATH, render_blackbox_config

    uploads = {u["file"]: u["content"] for u in containers(prod)["blackbox-exporter"].inputs["uploads"]}
    assert uploads == {CONFIG_PATH: render_blackbox_config()}
    prometheus_yml = next(u["content"] for u in containers(prod)["prometheus"].inputs["uploads"]
                          if u["file"].endswith("prometheus.yml"))
    assert "job_name: blackbox" not in prometheus_yml  # nothing to probe outside demo mode until URLs are set


def _uploaded_alerts(program: Program) -> dict[str, dict]:
    uploads = {u["file"]: u["content"] for u in containers(program)["prometheus"].inputs["uploads"]}
    text = uploads["/etc/prometheus/rules/alerts.yml"]
    text = text.value if isinstance(text, SecretValue) else text
    return {rule["alert"]: rule for group in yaml.safe_load(text)["groups"] for rule in group["rules"]}


def test_alert_links_follow_root_url_and_runbook_url():
    program = run_program({**PROD, "grafana": {"rootUrl": "https://grafana.example.com/ops/"},
                           "prometheus": {"runbookUrl": "https://git.example.com/acme/monitoring/-/blob/main/docs/runbooks.md"}},
                          PROD_SECRETS)
    alerts = _uploaded_alerts(program)
    assert alerts["RedisDown"]["annotations"]["runbook_url"] == \
        "https://git.example.com/acme/monitoring/-/blob/main/docs/runbooks.md#redisdown"
    assert alerts["RedisDown"]["annotations"]["dashboard_url"] == "https://grafana.example.com/ops/d/infrastructure-health"
    assert alerts["ProbeSlow"]["annotations"]["dashboard_url"] == "https://grafana.example.com/ops/d/probes"
    # The same base as the dashboardUrls output.
    assert program.outputs["dashboardUrls"][0]["probes"] == "https://grafana.example.com/ops/d/probes"


def test_rule_files_are_secret_when_a_url_they_carry_is():
    program = run_program({**PROD, "grafana": {"rootUrl": "https://grafana.internal.example/"}},
                          (*PROD_SECRETS, "grafana"))
    uploads = {u["file"]: u["content"] for u in containers(program)["prometheus"].inputs["uploads"]}
    rules = {path: text for path, text in uploads.items() if path.startswith("/etc/prometheus/rules/")}
    assert rules and all(isinstance(text, SecretValue) for text in rules.values())
    assert "https://grafana.internal.example/d/" in rules["/etc/prometheus/rules/alerts.yml"].value
    # Not secret otherwise.
    plain = {u["file"]: u["content"] for u in containers(run_program(PROD, PROD_SECRETS))["prometheus"].inputs["uploads"]}
    assert isinstance(plain["/etc/prometheus/rules/alerts.yml"], str)
