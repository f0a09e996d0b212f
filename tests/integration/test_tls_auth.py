"""TLS and basic auth on real software: Debian's Prometheus 2.42 and Alertmanager 0.25 run the web
configuration files the program renders (`components.web_config`, same functions), with a
certificate made as the program makes it (the same profile: ECDSA P-256, a CA, a server certificate
naming the stack's names, the same uses), here with openssl since pulumi-tls runs only under the
engine. The servers verify the bcrypt hashes themselves; Prometheus scrapes itself and delivers its
alerts to Alertmanager through TLS and basic auth, as the rendered `prometheus.yml` says.
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import yaml

from components.alertmanager.config import render_alertmanager_config
from components.config import load_config
from components.prometheus.config import render_prometheus_config
from components.prometheus.rules import load_rule_files
from components.web_config import (
    CA_VALIDITY_HOURS,
    OPENSSL_CURVE,
    SERVER_VALIDITY_HOURS,
    bcrypt_hash,
    certificate_names,
    client_settings,
    render_client_config,
    render_web_config,
)

from . import services
from .alerting_services import WebhookReceiver, webhook_receiver
from .services import HOST, Process, running, temp_dir, wait_until

PROMETHEUS_NAME, ALERTMANAGER_NAME = "monitoring-itest-prometheus", "monitoring-itest-alertmanager"
BINARIES = {"prometheus": "prometheus", "promtool": "prometheus", "prometheus-alertmanager": "prometheus-alertmanager",
            "amtool": "prometheus-alertmanager", "openssl": "openssl"}
# openssl's names for the uses pulumi-tls is given (components.web_config.CA_USES / SERVER_USES).
CA_EXTENSIONS = ("basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\n"
                 "subjectKeyIdentifier=hash\n")
SERVER_EXTENSIONS = ("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
                     "extendedKeyUsage=serverAuth\nsubjectAltName={names}\n")


@pytest.fixture(scope="module", autouse=True)
def requirements():
    missing = [f"{b} (apt-get install {p})" for b, p in BINARIES.items() if shutil.which(b) is None]
    if missing:
        message = "TLS test needs: " + "; ".join(missing)
        if os.environ.get("CI", "") != "":
            pytest.fail(f"CI is set and {message}", pytrace=False)
        pytest.skip(message)


def openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


@dataclass
class Pki:
    ca: Path
    cert: Path
    key: Path
    other_ca: Path  # a CA that signed nothing here: a client trusting it must refuse the servers


def make_ca(directory: Path, name: str) -> tuple[Path, Path]:
    key, cert = directory / f"{name}.key", directory / f"{name}.crt"
    (directory / f"{name}.ext").write_text(CA_EXTENSIONS)
    openssl("ecparam", "-name", OPENSSL_CURVE, "-genkey", "-noout", "-out", str(key))
    openssl("req", "-x509", "-new", "-key", str(key), "-subj", f"/O=monitoring/CN={name}", "-days",
            str(CA_VALIDITY_HOURS // 24), "-extensions", "v3_ca", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature", "-out", str(cert))
    return key, cert


@pytest.fixture(scope="module")
def pki() -> Iterator[Pki]:
    with temp_dir("tls-pki") as tmp:
        ca_key, ca = make_ca(tmp, "monitoring-itest CA")
        _, other_ca = make_ca(tmp, "elsewhere CA")
        dns, ips = certificate_names(containers=[PROMETHEUS_NAME, ALERTMANAGER_NAME], bind_address=HOST)
        names = ",".join([*(f"DNS:{n}" for n in dns), *(f"IP:{i}" for i in ips)])
        key, request, cert = tmp / "server.key", tmp / "server.csr", tmp / "server.crt"
        (tmp / "server.ext").write_text(SERVER_EXTENSIONS.format(names=names))
        openssl("ecparam", "-name", OPENSSL_CURVE, "-genkey", "-noout", "-out", str(key))
        openssl("req", "-new", "-key", str(key), "-subj", f"/O=monitoring/CN={dns[0]}", "-out", str(request))
        openssl("x509", "-req", "-in", str(request), "-CA", str(ca), "-CAkey", str(ca_key), "-CAcreateserial",
                "-days", str(SERVER_VALIDITY_HOURS // 24), "-extfile", str(tmp / "server.ext"), "-out", str(cert))
        yield Pki(ca=ca, cert=cert, key=key, other_ca=other_ca)


@dataclass
class Login:
    user: str
    password: str
    password_file: Path

    @property
    def auth(self) -> tuple[str, str]:
        return (self.user, self.password)


def login(directory: Path, user: str) -> tuple[Login, str]:
    """A login as the program makes one: a random password, its bcrypt hash with a random 16-byte salt."""
    password = secrets.token_urlsafe(24)
    path = directory / f"{user}-password"
    path.write_text(password)
    path.chmod(0o600)
    return Login(user, password, path), bcrypt_hash(password, base64.b64encode(os.urandom(16)).decode())


@dataclass
class Server:
    name: str
    port: int
    login: Login
    web_config: Path
    client_config: Path
    process: Process

    @property
    def url(self) -> str:
        return f"https://{HOST}:{self.port}"


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(0o600)
    return path


@contextlib.contextmanager
def serve(name: str, server_name: str, pki: Pki, user: str, command) -> Iterator[Server]:
    """One server with the rendered web config, checked by promtool first, ready over https with its login."""
    with temp_dir(name) as tmp:
        credentials, hashed = login(tmp, user)
        web_config = write(tmp / "web.yml", render_web_config(cert_file=str(pki.cert), key_file=str(pki.key),
                                                              users={user: hashed}))
        services.run_checked(["promtool", "check", "web-config", str(web_config)], what="promtool check web-config")
        client = write(tmp / "healthcheck.yml", render_client_config(
            ca_file=str(pki.ca), server_name=server_name, username=user, password_file=str(credentials.password_file)))
        port = services.free_port()
        process = Process(name, command(tmp, port, web_config), tmp / f"{name}.log", cwd=tmp)
        server = Server(name, port, credentials, web_config, client, process)
        with running(process):
            wait_until(lambda: requests.get(f"{server.url}/-/ready", auth=credentials.auth, verify=str(pki.ca),
                                            timeout=2).status_code == 200,
                       timeout=30, what=f"{name} /-/ready over https", proc=process)
            yield server


@pytest.fixture(scope="module")
def heartbeat() -> Iterator[WebhookReceiver]:
    with webhook_receiver() as receiver:
        yield receiver


@pytest.fixture(scope="module")
def alertmanager(pki, heartbeat) -> Iterator[Server]:
    # The Watchdog's heartbeat is a real webhook: the alert's whole path runs in TLS mode.
    config = load_config({"demo": True, "alertmanager": {
        "enabled": True, "receivers": [{"name": "hook", "type": "webhook", "url": f"http://{HOST}:9/unused"}],
        "heartbeat": {"url": heartbeat.url, "repeatInterval": "2s"},
        "groupWait": "1s", "groupInterval": "1s"}})
    text = render_alertmanager_config(config.alertmanager)

    def command(tmp: Path, port: int, web_config: Path) -> list[str]:
        path = write(tmp / "alertmanager.yml", text)
        return ["prometheus-alertmanager", f"--config.file={path}", f"--storage.path={tmp / 'data'}",
                f"--web.listen-address={HOST}:{port}", "--cluster.listen-address=", f"--web.config.file={web_config}"]

    with serve("alertmanager", ALERTMANAGER_NAME, pki, "alertmanager", command) as server:
        yield server


@pytest.fixture(scope="module")
def prometheus(pki, alertmanager) -> Iterator[Server]:
    rules = load_rule_files(for_override="1s")

    def command(tmp: Path, port: int, web_config: Path) -> list[str]:
        rule_paths = [str(write(tmp / name, text)) for name, text in rules.items()]
        text = render_prometheus_config(
            scrape_interval="1s", evaluation_interval="1s", scrape_timeout="900ms",
            targets={"prometheus": [f"{HOST}:{port}"]}, rule_files=rule_paths,
            alertmanager_targets=[alertmanager.address], https={
                # As the stack renders them: the CA, the container's name, the password in a file.
                "prometheus": client_settings(ca_file=str(pki.ca), server_name=PROMETHEUS_NAME, username="prometheus",
                                              password_file=str(tmp / "prometheus-password")),
                "alertmanager": client_settings(ca_file=str(pki.ca), server_name=ALERTMANAGER_NAME,
                                                username="alertmanager",
                                                password_file=str(alertmanager.login.password_file))})
        path = write(tmp / "prometheus.yml", text)
        services.promtool_check_config(path)
        return ["prometheus", f"--config.file={path}", f"--storage.tsdb.path={tmp / 'data'}",
                f"--web.listen-address={HOST}:{port}", f"--web.config.file={web_config}", "--log.level=warn",
                "--rules.alert.resend-delay=1s"]

    with serve("prometheus", PROMETHEUS_NAME, pki, "prometheus", command) as server:
        yield server


# Address used by the alertmanager fixture's server in prometheus.yml.
Server.address = property(lambda self: f"{HOST}:{self.port}")  # type: ignore[attr-defined]


@pytest.fixture(params=["prometheus", "alertmanager"])
def server(request, prometheus, alertmanager) -> Server:
    return {"prometheus": prometheus, "alertmanager": alertmanager}[request.param]


def test_promtool_accepts_every_rendered_web_config(server):
    out = services.run_checked(["promtool", "check", "web-config", str(server.web_config)],
                               what="promtool check web-config")
    assert "SUCCESS" in out, out
    assert server.login.password not in server.web_config.read_text()  # only the bcrypt hash


def test_basic_auth_is_checked_by_the_server_itself(server, pki):
    ready = f"{server.url}/-/ready"
    assert requests.get(ready, verify=str(pki.ca), timeout=5).status_code == 401
    wrong = (server.login.user, server.login.password + "x")
    assert requests.get(ready, auth=wrong, verify=str(pki.ca), timeout=5).status_code == 401
    assert requests.get(ready, auth=("nobody", server.login.password), verify=str(pki.ca), timeout=5).status_code == 401
    assert requests.get(ready, auth=server.login.auth, verify=str(pki.ca), timeout=5).status_code == 200


def test_only_tls_verified_against_the_ca(server, pki):
    # Plain http gets Go's "client sent an HTTP request to an HTTPS server", never the page.
    plain = requests.get(f"http://{HOST}:{server.port}/-/ready", auth=server.login.auth, timeout=5)
    assert plain.status_code == 400 and "HTTPS" in plain.text
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"{server.url}/-/ready", auth=server.login.auth, verify=str(pki.other_ca), timeout=5)


def test_prometheus_scrapes_itself_over_tls_with_basic_auth(prometheus, pki):
    def up() -> list[dict]:
        return requests.get(f"{prometheus.url}/api/v1/targets", auth=prometheus.login.auth, verify=str(pki.ca),
                            timeout=5).json()["data"]["activeTargets"]

    wait_until(lambda: [t["health"] for t in up()] == ["up"], timeout=20, what="the prometheus job up over https",
               proc=prometheus.process)
    target = up()[0]
    assert target["scrapeUrl"].startswith("https://") and target["lastError"] == ""


def test_prometheus_delivers_alerts_to_alertmanager_over_tls_with_basic_auth(prometheus, alertmanager, pki):
    def watchdogs() -> list[dict]:
        alerts = requests.get(f"{alertmanager.url}/api/v2/alerts", auth=alertmanager.login.auth,
                              verify=str(pki.ca), timeout=5).json()
        return [a for a in alerts if a["labels"].get("alertname") == "Watchdog"]

    wait_until(lambda: bool(watchdogs()), timeout=30, what="the Watchdog at Alertmanager", proc=prometheus.process)
    active = requests.get(f"{prometheus.url}/api/v1/alertmanagers", auth=prometheus.login.auth, verify=str(pki.ca),
                          timeout=5).json()["data"]["activeAlertmanagers"]
    assert [a["url"] for a in active] == [f"https://{alertmanager.address}/api/v2/alerts"]
    sent = requests.get(f"{prometheus.url}/api/v1/query", params={"query": "prometheus_notifications_errors_total"},
                        auth=prometheus.login.auth, verify=str(pki.ca), timeout=5).json()["data"]["result"]
    assert sent and all(float(s["value"][1]) == 0 for s in sent), sent


def test_the_healthchecks_client_configs_log_in(prometheus, alertmanager):
    # What the containers' healthchecks read (--http.config.file). amtool runs exactly as Alertmanager's.
    out = services.run_checked(["amtool", f"--alertmanager.url={alertmanager.url}",
                                f"--http.config.file={alertmanager.client_config}", "config", "show"],
                               what="amtool config show over https")
    assert "route:" in out, out
    # Prometheus 3's `promtool check ready --http.config.file` is not in Debian's promtool 2.42 (no flag):
    # its file holds exactly the settings of the self-scrape that Prometheus ran above (target up).
    config_file = next(a.split("=", 1)[1] for a in prometheus.process.args if a.startswith("--config.file="))
    job = next(j for j in yaml.safe_load(Path(config_file).read_text())["scrape_configs"]
               if j["job_name"] == "prometheus")
    client = yaml.safe_load(prometheus.client_config.read_text())
    assert client == {"basic_auth": job["basic_auth"], "tls_config": job["tls_config"]}
    assert client["tls_config"]["server_name"] == PROMETHEUS_NAME


def test_the_watchdog_reaches_the_heartbeat_webhook_through_tls_and_basic_auth(prometheus, alertmanager, heartbeat):
    """End to end in TLS mode: Prometheus (https, basic auth) -> Alertmanager (https, basic auth)
    -> the heartbeat receiver, as the stack routes it."""
    def is_watchdog(body: dict) -> bool:
        return any(a.get("labels", {}).get("alertname") == "Watchdog" for a in body.get("alerts", []))

    assert heartbeat.wait_for(is_watchdog, timeout=40) is not None, heartbeat.describe()

