"""Serving beyond loopback, as data: the web configuration file of Prometheus and Alertmanager
(exporter-toolkit's format, `--web.config.file`), the client settings that reach them (scrapes,
alerting, the healthchecks' `--http.config.file`), the bcrypt hashes, and the certificate the
program generates (algorithm, validity, uses, names).

Plain Python, no Pulumi import: the program and the integration tests render the same files,
and the tests make their certificate with openssl from the same profile.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import bcrypt

from components.types import is_all_interfaces, parse_ip
from components.yaml_text import dump_plain_yaml

# The certificate the program generates with pulumi-tls (and the tests with openssl).
KEY_ALGORITHM, ECDSA_CURVE = "ECDSA", "P256"
OPENSSL_CURVE = "prime256v1"
CA_VALIDITY_HOURS = 10 * 365 * 24
SERVER_VALIDITY_HOURS = 365 * 24
# `pulumi up` replaces the server certificate this long before it expires.
SERVER_EARLY_RENEWAL_HOURS = 30 * 24
CA_USES = ("cert_signing", "crl_signing", "digital_signature")
SERVER_USES = ("digital_signature", "key_encipherment", "server_auth")
# Oldest TLS version the servers accept (exporter-toolkit's `min_version`; Grafana's default is the same).
MIN_TLS_VERSION = "TLS12"
# bcrypt work factor of the stored hashes: exporter-toolkit caches a verified password, so only
# the first request of each client pays it.
BCRYPT_COST = 10
BCRYPT_SALT_BYTES = 16

# Where the files live in every server's container (each under its own config directory).
TLS_DIR = "tls"
CA_FILE, CERT_FILE, KEY_FILE = "ca.crt", "server.crt", "server.key"
WEB_CONFIG_FILE = "web.yml"
CLIENT_CONFIG_FILE = "healthcheck.yml"


@dataclass(frozen=True)
class ServerFiles:
    """The paths one server's container holds (`root` is its config directory)."""

    root: str

    @property
    def ca(self) -> str:
        return f"{self.root}/{TLS_DIR}/{CA_FILE}"

    @property
    def cert(self) -> str:
        return f"{self.root}/{TLS_DIR}/{CERT_FILE}"

    @property
    def key(self) -> str:
        return f"{self.root}/{TLS_DIR}/{KEY_FILE}"

    @property
    def web_config(self) -> str:
        return f"{self.root}/{WEB_CONFIG_FILE}"

    @property
    def client_config(self) -> str:
        return f"{self.root}/{CLIENT_CONFIG_FILE}"


def _dump(config: Mapping[str, Any]) -> str:
    return dump_plain_yaml(dict(config))


def render_web_config(*, cert_file: str, key_file: str, users: Mapping[str, str]) -> str:
    """`--web.config.file` text: https only (from TLS 1.2) and basic auth for `users` (name -> bcrypt
    hash). Never a password: only hashes, which the server compares with bcrypt."""
    if not users:
        raise ValueError("users: at least one user (a server beyond loopback is never open)")
    for name, hashed in users.items():
        if not hashed.startswith(("$2a$", "$2b$", "$2y$")):
            raise ValueError(f"users.{name}: not a bcrypt hash ($2a$/$2b$/$2y$); pass the hash, never the password")
    return _dump({
        "tls_server_config": {"cert_file": cert_file, "key_file": key_file, "min_version": MIN_TLS_VERSION},
        "basic_auth_users": dict(users),
    })


def client_settings(*, ca_file: str, server_name: str, username: str | None = None,
                    password_file: str | None = None) -> dict[str, Any]:
    """The `http_config` a client of one of these servers uses: the CA it trusts, the name it checks
    the certificate against, and (when the server asks for it) basic auth read from a file."""
    settings: dict[str, Any] = {}
    if username is not None:
        if password_file is None:
            raise ValueError("password_file: required with a username (the password stays in that file)")
        settings["basic_auth"] = {"username": username, "password_file": password_file}
    settings["tls_config"] = {"ca_file": ca_file, "server_name": server_name}
    return settings


def render_client_config(**settings: Any) -> str:
    """`--http.config.file` text (promtool, amtool): the same settings as a scrape's."""
    return _dump(client_settings(**settings))


def bcrypt_salt(random_bytes: bytes) -> bytes:
    """A bcrypt salt (`$2b$<cost>$` and 22 characters) from 16 random bytes, kept in the stack's
    state so the hash, and the uploaded web config with it, only change with the password."""
    if len(random_bytes) != BCRYPT_SALT_BYTES:
        raise ValueError(f"random_bytes: {len(random_bytes)} bytes; a bcrypt salt takes {BCRYPT_SALT_BYTES}")
    standard = base64.b64encode(random_bytes).decode().rstrip("=")
    # bcrypt's own base64 alphabet (./A-Za-z0-9); 16 bytes are 22 characters, the last one canonical.
    encoded = standard.translate(str.maketrans(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
        "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"))
    return f"$2b${BCRYPT_COST:02d}${encoded}".encode()


def bcrypt_hash(password: str, salt_b64: str) -> str:
    """The bcrypt hash of `password` with the salt made from `salt_b64` (16 bytes, standard base64)."""
    if not password:
        raise ValueError("password: empty")
    return bcrypt.hashpw(password.encode(), bcrypt_salt(base64.b64decode(salt_b64))).decode()


def certificate_names(*, containers: Sequence[str], bind_address: str, public_hosts: Iterable[str] = (),
                      extra: Iterable[str] = ()) -> tuple[list[str], list[str]]:
    """(DNS names, IP addresses) of the generated server certificate: the containers (the stack's own
    clients reach them by name), localhost and loopback (the healthchecks, the Grafana provider), the
    bind address unless it is a wildcard, the public URL's host and `tls.hosts`."""
    dns: list[str] = []
    ips: list[str] = []
    for name in [*containers, "localhost", "127.0.0.1", "::1", bind_address, *public_hosts, *extra]:
        try:
            address = parse_ip(name.strip("[]"))
        except Exception:  # noqa: BLE001 - not an address: a DNS name
            if name not in dns:
                dns.append(name)
            continue
        if not is_all_interfaces(str(address)) and str(address) not in ips:
            ips.append(str(address))
    return dns, ips
