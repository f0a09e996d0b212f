"""Serving beyond loopback: the stack's certificate (generated with pulumi-tls, or your own) and the
basic auth logins of Prometheus and Alertmanager (passwords from config or pulumi-random, bcrypt
hashes with a salt kept in the state). What the servers upload is rendered by components.web_config.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_docker as docker
import pulumi_random as random
import pulumi_tls as tls
from pydantic import SecretStr

from components.config.model import TlsConfig
from components.web_config import (
    BCRYPT_SALT_BYTES,
    CA_USES,
    CA_VALIDITY_HOURS,
    ECDSA_CURVE,
    KEY_ALGORITHM,
    SERVER_EARLY_RENEWAL_HOURS,
    SERVER_USES,
    SERVER_VALIDITY_HOURS,
    ServerFiles,
    bcrypt_hash,
    certificate_names,
    render_client_config,
    render_web_config,
)


@dataclass
class Login:
    """A basic auth user of one server: the password (secret) and its bcrypt hash."""

    user: str
    password: pulumi.Output[str]
    password_hash: pulumi.Output[str]


@dataclass
class WebServing:
    """What one server needs to serve https (and, with a login, to ask for basic auth)."""

    ca_pem: pulumi.Input[str]
    cert_pem: pulumi.Input[str]
    key_pem: pulumi.Output[str]
    # The name its clients (and its own healthcheck) check the certificate against.
    server_name: str
    login: Login | None = None

    def tls_uploads(self, files: ServerFiles) -> list[docker.ContainerUploadArgsDict]:
        """The CA, the certificate and the key (a secret) at the server's paths."""
        return [docker.ContainerUploadArgsDict(file=files.ca, content=self.ca_pem),
                docker.ContainerUploadArgsDict(file=files.cert, content=self.cert_pem),
                docker.ContainerUploadArgsDict(file=files.key, content=pulumi.Output.secret(self.key_pem))]

    def server_uploads(self, files: ServerFiles, password_file: str) -> list[docker.ContainerUploadArgsDict]:
        """Prometheus' or Alertmanager's: the TLS files, the web config (https, basic auth with the
        bcrypt hash), its own password (a secret file) and the client config its healthcheck reads."""
        login = self.login
        if login is None:
            raise ValueError("a server beyond loopback asks for a password: give it a login")
        # Only the bcrypt hash, but the whole file is a secret upload.
        web_config = login.password_hash.apply(lambda hashed: render_web_config(
            cert_file=files.cert, key_file=files.key, users={login.user: hashed}))
        return [
            *self.tls_uploads(files),
            docker.ContainerUploadArgsDict(file=files.web_config, content=pulumi.Output.secret(web_config)),
            docker.ContainerUploadArgsDict(file=password_file, content=pulumi.Output.secret(login.password)),
            docker.ContainerUploadArgsDict(file=files.client_config, content=render_client_config(
                ca_file=files.ca, server_name=self.server_name, username=login.user, password_file=password_file)),
        ]


@dataclass
class WebAccessArgs:
    config: TlsConfig
    # service -> its container name (the generated certificate names them all).
    containers: Mapping[str, str]
    bind_address: str
    # `<project>-<stack>`: the CA's name, so a browser's list of trusted CAs says which stack.
    name_prefix: str = "monitoring"
    # Hosts of the URLs people open (grafana.rootUrl): named by the generated certificate too.
    public_hosts: tuple[str, ...] = ()
    # service -> (user, configured password or None to generate one).
    logins: Mapping[str, tuple[str, SecretStr | None]] = field(default_factory=dict)
    # `tls` was stored as a secret: the CA certificate output is one too.
    secret: bool = False
    # bindAddress, grafana or tls was stored as a secret: so are the names the certificate lists.
    secret_names: bool = False


class WebAccess(pulumi.ComponentResource):
    # For type checkers only: Pulumi reads a component's class annotations again at every registration.
    if TYPE_CHECKING:
        ca_pem: pulumi.Output[str]
        logins: dict[str, Login]

    def __init__(self, resource_name: str, args: WebAccessArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("monitoring:index:WebAccess", resource_name, None, opts)
        cfg = args.config
        child = pulumi.ResourceOptions(parent=self)
        cert_pem: pulumi.Input[str]
        if cfg.certificate is not None and cfg.private_key is not None and cfg.ca_certificate is not None:
            ca_pem: pulumi.Input[str] = cfg.ca_certificate
            cert_pem = pulumi.Output.secret(cfg.certificate.get_secret_value())
            key_pem = pulumi.Output.secret(cfg.private_key.get_secret_value())
        else:
            ca_key = tls.PrivateKey(f"{resource_name}-ca-key", algorithm=KEY_ALGORITHM, ecdsa_curve=ECDSA_CURVE,
                                    opts=child)
            ca = tls.SelfSignedCert(
                f"{resource_name}-ca", private_key_pem=ca_key.private_key_pem, is_ca_certificate=True,
                validity_period_hours=CA_VALIDITY_HOURS, allowed_uses=list(CA_USES),
                subject=tls.SelfSignedCertSubjectArgs(common_name=f"{args.name_prefix} CA", organization="monitoring"),
                opts=child)
            server_key = tls.PrivateKey(f"{resource_name}-server-key", algorithm=KEY_ALGORITHM,
                                        ecdsa_curve=ECDSA_CURVE, opts=child)
            dns_names, ip_addresses = certificate_names(
                containers=list(args.containers.values()), bind_address=args.bind_address,
                public_hosts=args.public_hosts, extra=cfg.hosts)
            names: dict[str, Any] = {"dns_names": dns_names, "ip_addresses": ip_addresses}
            if args.secret_names:
                names = {key: pulumi.Output.secret(value) for key, value in names.items()}
            request = tls.CertRequest(
                f"{resource_name}-server-request", private_key_pem=server_key.private_key_pem, **names,
                subject=tls.CertRequestSubjectArgs(common_name=dns_names[0], organization="monitoring"),
                opts=child)
            signed = tls.LocallySignedCert(
                f"{resource_name}-server-cert", cert_request_pem=request.cert_request_pem,
                ca_private_key_pem=ca_key.private_key_pem, ca_cert_pem=ca.cert_pem,
                validity_period_hours=SERVER_VALIDITY_HOURS, early_renewal_hours=SERVER_EARLY_RENEWAL_HOURS,
                allowed_uses=list(SERVER_USES), opts=child)
            ca_pem, cert_pem, key_pem = ca.cert_pem, signed.cert_pem, pulumi.Output.secret(server_key.private_key_pem)
        self.ca_pem = pulumi.Output.secret(ca_pem) if args.secret else pulumi.Output.from_input(ca_pem)
        self._cert_pem, self._key_pem = cert_pem, key_pem
        self._server_name = cfg.server_name
        self._containers = dict(args.containers)

        self.logins = {}
        for service, (user, configured) in args.logins.items():
            if configured is not None:
                password = pulumi.Output.secret(configured.get_secret_value())
            else:
                generated = random.RandomPassword(f"{resource_name}-{service}-password", length=32, special=True,
                                                  override_special="-_.", min_lower=1, min_upper=1,
                                                  min_numeric=1, opts=child)
                password = pulumi.Output.secret(generated.result)
            # The salt lives in the state: the hash (and the web config) changes only with the password.
            salt = random.RandomId(f"{resource_name}-{service}-salt", byte_length=BCRYPT_SALT_BYTES, opts=child)
            hashed = pulumi.Output.all(password, salt.b64_std).apply(lambda both: bcrypt_hash(both[0], both[1]))
            self.logins[service] = Login(user=user, password=password, password_hash=pulumi.Output.secret(hashed))
        self.register_outputs({"ca_pem": self.ca_pem})

    def serving(self, service: str) -> WebServing:
        """What `service` serves https with, and its login if it has one."""
        return WebServing(ca_pem=self.ca_pem, cert_pem=self._cert_pem, key_pem=self._key_pem,
                          server_name=self._server_name or self._containers[service],
                          login=self.logins.get(service))
