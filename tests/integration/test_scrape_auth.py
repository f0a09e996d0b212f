"""Grafana's /metrics behind basic auth, scraped the way the stack renders it: a real Prometheus
reads the password from `password_file` (the secret upload), never from prometheus.yml."""

from __future__ import annotations

import base64
import contextlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from components.grafana.server import METRICS_USER
from tests.integration import services

PASSWORD = "Gm7qT2vX9pL4sK8wR1zN5bY3"


@contextlib.contextmanager
def metrics_behind_basic_auth():
    """A stand-in for Grafana's /metrics with GF_METRICS_BASIC_AUTH_* set: 401 without them."""
    expected = "Basic " + base64.b64encode(f"{METRICS_USER}:{PASSWORD}".encode()).decode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            if self.headers.get("Authorization") != expected:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="Grafana"')
                self.end_headers()
                return
            body = b"# TYPE grafana_build_info gauge\ngrafana_build_info{version=\"12.2.0\"} 1\n"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer((services.HOST, 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{services.HOST}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _health(password: str, tmp_path: Path) -> tuple[str, str]:
    password_file = tmp_path / "grafana-metrics-password"
    password_file.write_text(password, encoding="utf-8")
    with metrics_behind_basic_auth() as target, services.prometheus_server(
            {"grafana": [target]}, scrape_interval="1s", scrape_timeout="500ms", rule_files=[],
            basic_auth={"grafana": (METRICS_USER, str(password_file))}) as prom:
        assert PASSWORD not in prom.config_text  # the password stays in its file
        services.wait_until(lambda: any(t["labels"]["job"] == "grafana" and t["health"] != "unknown"
                                        for t in prom.active_targets()), timeout=20, what="a grafana scrape")
        target_state = next(t for t in prom.active_targets() if t["labels"]["job"] == "grafana")
        return target_state["health"], target_state.get("lastError", "")


@pytest.mark.parametrize("password, health", [(PASSWORD, "up"), ("a-wrong-password", "down")],
                         ids=["right", "wrong"])
def test_prometheus_scrapes_grafana_metrics_with_the_password_file(tmp_path, password, health):
    found, error = _health(password, tmp_path)
    assert found == health, error
    if health == "down":
        assert "401" in error
