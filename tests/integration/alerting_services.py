"""Launchers for the end-to-end alert test: a webhook receiver, Alertmanager, and a
Prometheus that evaluates the product's rules and sends to that Alertmanager.

Same conventions as `services.py` (whose helpers they reuse): 127.0.0.1 only, free
ports, a temporary directory per service removed on exit, processes stopped with
terminate -> wait -> kill of their process group.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

from . import services
from .services import HOST, Process, ServiceError, running, temp_dir, wait_until

# Binaries of this test -> Debian package, for the skip message.
ALERTING_BINARIES = {
    "prometheus-alertmanager": "prometheus-alertmanager",
    "amtool": "prometheus-alertmanager",
    "prometheus": "prometheus",
    "promtool": "prometheus",
    "redis-server": "redis-server",
    "prometheus-redis-exporter": "prometheus-redis-exporter",
}


def missing_alerting_requirements() -> list[str]:
    return [
        f"{binary} (apt-get install {package})"
        for binary, package in ALERTING_BINARIES.items()
        if shutil.which(binary) is None
    ]


# ---------------------------------------------------------------------------
# webhook receiver


@dataclass
class Notification:
    received_at: float  # time.monotonic()
    path: str
    body: dict


@dataclass
class WebhookReceiver:
    """Records every JSON body POSTed to it (thread-safe)."""

    port: int = 0
    host: str = HOST
    _notifications: list[Notification] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _cond: threading.Condition | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/alerts"

    def record(self, path: str, body: dict) -> None:
        assert self._cond is not None
        with self._cond:
            self._notifications.append(Notification(time.monotonic(), path, body))
            self._cond.notify_all()

    def notifications(self) -> list[Notification]:
        with self._lock:
            return list(self._notifications)

    def wait_for(self, predicate, *, timeout: float) -> Notification | None:
        """The first notification (in arrival order) matching `predicate`, waiting up to `timeout` s."""
        assert self._cond is not None
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for n in self._notifications:
                    if predicate(n.body):
                        return n
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(timeout=min(remaining, 0.5))

    def describe(self) -> str:
        """What was received, short enough for an assertion message."""
        lines = []
        for i, n in enumerate(self.notifications()):
            body = n.body
            alerts = [
                f"{a.get('labels', {}).get('alertname')}[{a.get('status')}]"
                f"{{{', '.join(f'{k}={v}' for k, v in sorted(a.get('labels', {}).items()) if k != 'alertname')}}}"
                for a in body.get("alerts", []) if isinstance(a, dict)
            ] if isinstance(body, dict) else []
            status = body.get("status") if isinstance(body, dict) else None
            lines.append(f"  #{i} POST {n.path}: status={status!r} alerts={alerts}")
        return "\n".join(lines) if lines else "  (nothing)"


@contextlib.contextmanager
def webhook_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    receiver._cond = threading.Condition(receiver._lock)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            try:
                body = json.loads(raw)
            except ValueError:
                body = {"_unparsed": raw.decode("utf-8", "replace")}
            receiver.record(self.path, body)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format, *args) -> None:  # noqa: A002 - quiet
            pass

    server = ThreadingHTTPServer((HOST, 0), Handler)
    server.daemon_threads = True
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              name="webhook-receiver", daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# ---------------------------------------------------------------------------
# Alertmanager


def amtool_check_config(config_path: Path) -> str:
    return services.run_checked(["amtool", "check-config", str(config_path)], what="amtool check-config",
                                timeout=30)


@dataclass
class Alertmanager(services.Listening):
    port: int
    config_path: Path
    config_text: str
    process: Process
    host: str = HOST

    def alerts(self) -> list[dict]:
        return requests.get(f"{self.url}/api/v2/alerts", timeout=5).json()

    def post_alerts(self, alerts: Sequence[Mapping[str, Mapping[str, str]]], *, lasting: float = 600) -> None:
        """Send `alerts` ({"labels": ..., "annotations": ...}) as Prometheus does, firing for `lasting` s."""
        ends = datetime.now(UTC) + timedelta(seconds=lasting)
        body = [{"annotations": {}, **alert, "endsAt": ends.isoformat()} for alert in alerts]
        response = requests.post(f"{self.url}/api/v2/alerts", json=body, timeout=5)
        response.raise_for_status()


@contextlib.contextmanager
def alertmanager_server(config_text: str) -> Iterator[Alertmanager]:
    """Alertmanager with `config_text`, checked by amtool first; clustering off."""
    with temp_dir("alertmanager") as tmp:
        config = tmp / "alertmanager.yml"
        config.write_text(config_text)
        config.chmod(0o600)
        amtool_check_config(config)
        port = services.free_port()
        process = Process(
            "alertmanager",
            [
                "prometheus-alertmanager", f"--config.file={config}", f"--storage.path={tmp / 'data'}",
                f"--web.listen-address={HOST}:{port}", "--cluster.listen-address=",
                "--log.level=info",
            ],
            tmp / "alertmanager.log", cwd=tmp,
        )
        am = Alertmanager(port=port, config_path=config, config_text=config_text, process=process)
        with running(process):
            wait_until(lambda: services.http_ok(f"{am.url}/-/ready"), timeout=30,
                       what="Alertmanager /-/ready", proc=process)
            yield am


# ---------------------------------------------------------------------------
# Prometheus with rules and an Alertmanager


@contextlib.contextmanager
def alerting_prometheus(
    targets: Mapping[str, Sequence[str]],
    *,
    rule_texts: Mapping[str, str],
    alertmanager_targets: Sequence[str],
    scrape_interval: str = "1s",
    evaluation_interval: str = "1s",
    scrape_timeout: str = "1s",
    probers: Mapping[str, str] | None = None,
    external_labels: Mapping[str, str] | None = None,
    flags: Sequence[str] = (),
) -> Iterator[services.Prometheus]:
    """Prometheus running the product's rendered config, with `rule_texts` ({file name: YAML})
    written next to it (every group at `evaluation_interval`, the dashboards' 2-minute groups too)
    and sending alerts to `alertmanager_targets`; promtool checks it first."""
    with temp_dir("prometheus-rules") as rules_dir:
        rule_paths = []
        for name, text in rule_texts.items():
            path = rules_dir / name
            path.write_text(services.at_evaluation_interval(text))
            rule_paths.append(str(path))
        with services.prometheus_server(
            targets, scrape_interval=scrape_interval, scrape_timeout=scrape_timeout, rule_files=rule_paths,
            evaluation_interval=evaluation_interval, alertmanager_targets=alertmanager_targets,
            external_labels=external_labels, flags=flags, probers=probers,
        ) as prom:
            yield prom


def rule_health(prom: services.Prometheus) -> list[dict]:
    """One row per rule: group, file, name, health, lastError, and the group's lastEvaluation."""
    rows = []
    for group in prom.api("rules")["groups"]:
        for rule in group.get("rules", []):
            rows.append({
                "file": Path(group.get("file", "")).name,
                "group": group.get("name"),
                "name": rule.get("name"),
                "type": rule.get("type"),
                "health": rule.get("health"),
                "lastError": rule.get("lastError", ""),
                "group_last_evaluation": group.get("lastEvaluation"),
            })
    return rows


__all__ = [
    "ALERTING_BINARIES", "Alertmanager", "Notification", "ServiceError", "WebhookReceiver",
    "alerting_prometheus", "alertmanager_server", "amtool_check_config", "missing_alerting_requirements",
    "rule_health", "webhook_receiver",
]
