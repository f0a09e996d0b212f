"""blackbox_exporter's configuration file: the probe module Prometheus asks for. Plain Python."""

from __future__ import annotations

from typing import Any

from components.types import not_allowed
from components.yaml_text import dump_plain_yaml

CONFIG_PATH = "/etc/blackbox_exporter/config.yml"
CA_PATH = "/etc/blackbox_exporter/ca.pem"
# The module every probe of the `blackbox` job uses: an HTTP GET that must answer 2xx. For an
# https URL it also reports the certificate chain's expiry (probe_ssl_earliest_cert_expiry).
HTTP_MODULE = "http_2xx"
PROBE_PATH = "/probe"

_PEM_BLOCK = "-----BEGIN CERTIFICATE-----"
PEM_HELP = "PEM text of one or more CA certificates (-----BEGIN CERTIFICATE----- ...), or empty for none"


def pem_certificates(value: Any) -> str:
    """Empty, or PEM certificate blocks only (no private key: this reaches a plain file)."""
    if not isinstance(value, str):
        raise not_allowed(PEM_HELP)
    text = value.strip()
    if text and (not text.startswith(_PEM_BLOCK) or not text.endswith("-----END CERTIFICATE-----")
                 or "PRIVATE KEY" in text):
        raise not_allowed(PEM_HELP)
    return text + "\n" if text else ""


def render_blackbox_config(ca_file: str | None = None) -> str:
    """config.yml; `ca_file`: the CAs that signed the probed https sites (None: the system's)."""
    http: dict[str, Any] = {"preferred_ip_protocol": "ip4", "follow_redirects": True}
    if ca_file:
        http["tls_config"] = {"ca_file": ca_file}
    # The probe's own timeout stays under the scrape timeout Prometheus sends along.
    modules = {HTTP_MODULE: {"prober": "http", "timeout": "5s", "http": http}}
    return dump_plain_yaml({"modules": modules}, sort_keys=True)


def config_file(inputs: Any) -> str:
    return render_blackbox_config(CA_PATH if inputs.get("caCertificate") else None)


def ca_file(inputs: Any) -> str | None:
    return inputs.get("caCertificate") or None
