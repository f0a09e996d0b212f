"""The Grafana server: pinned image, locked down, admin password a Pulumi secret."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pulumi
import pulumi_docker as docker
import pulumi_random as random

from components.config import GrafanaConfig
from components.containers import ServiceArgs, published_server, published_url, secret_env, service_spec
from components.grafana.startup import ENTRYPOINT
from components.web_access import WebServing
from components.web_config import ServerFiles

PORT = 3000
# With TLS: the certificate, its key and the CA (for the healthcheck) under /etc/grafana.
FILES = ServerFiles("/etc/grafana")

# Locked down: no anonymous access, no sign-up, no org creation, nothing sent home.
# Who Prometheus scrapes Grafana's /metrics as.
METRICS_USER = "prometheus"

LOCKDOWN_ENV = {
    "GF_AUTH_ANONYMOUS_ENABLED": "false",
    "GF_USERS_ALLOW_SIGN_UP": "false",
    "GF_USERS_ALLOW_ORG_CREATE": "false",
    "GF_AUTH_DISABLE_LOGIN_FORM": "false",
    "GF_SECURITY_DISABLE_GRAVATAR": "true",
    "GF_ANALYTICS_REPORTING_ENABLED": "false",
    "GF_ANALYTICS_CHECK_FOR_UPDATES": "false",
    "GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES": "false",
    # No login through a trusted header, no dashboards shared outside authentication.
    "GF_AUTH_PROXY_ENABLED": "false",
    "GF_PUBLIC_DASHBOARDS_ENABLED": "false",
    # /metrics is served on the published port too: only with basic auth (Prometheus has it).
    "GF_METRICS_ENABLED": "true",
    "GF_METRICS_BASIC_AUTH_USERNAME": METRICS_USER,
}


@dataclass(kw_only=True)
class GrafanaServerArgs(ServiceArgs):
    config: GrafanaConfig
    # The configured password as a secret Output, or None to generate one.
    admin_password: pulumi.Input[str] | None
    # https on its port (tls.enabled), or None: plain http. Grafana has its own login.
    web: WebServing | None = None


class GrafanaServer(pulumi.ComponentResource):
    # For type checkers only: Pulumi reads a component's class annotations again at every registration.
    if TYPE_CHECKING:
        container: docker.Container
        url: pulumi.Output[str]
        # host:port on the stack network, for Prometheus' grafana job.
        target: str
        admin_user: pulumi.Output[str]
        admin_password: pulumi.Output[str]
        # Basic auth password of /metrics (user METRICS_USER), for Prometheus' grafana job.
        metrics_password: pulumi.Output[str]

    def __init__(self, resource_name: str, args: GrafanaServerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("monitoring:index:GrafanaServer", resource_name, None, opts)
        cfg = args.config
        # Always registered and protected: `make down` (destroy --exclude-protected) keeps it,
        # so the next `make up` logs in with the password Grafana's retained database has, and
        # setting grafanaAdminPassword later does not try to delete a protected resource.
        generated = random.RandomPassword(f"{resource_name}-admin-password", length=32, special=True,
                                          override_special="-_.", min_lower=1, min_upper=1, min_numeric=1,
                                          opts=pulumi.ResourceOptions(parent=self, protect=True))
        password: pulumi.Input[str] = generated.result if args.admin_password is None else args.admin_password
        self.admin_password = pulumi.Output.secret(password)
        user = pulumi.Output.from_input(cfg.admin_user)
        self.admin_user = pulumi.Output.secret(user) if args.secret else user

        env = {**LOCKDOWN_ENV, "GF_SECURITY_ADMIN_USER": cfg.admin_user, "GF_SERVER_ROOT_URL": cfg.public_url,
               # Served over https (behind a proxy): session cookies only travel over https.
               "GF_SECURITY_COOKIE_SECURE": str(cfg.public_url.startswith("https://")).lower()}
        if cfg.plugins:
            env["GF_PLUGINS_PREINSTALL"] = ",".join(cfg.plugins)
        web = args.web
        # grafana/grafana ships curl; /api/health answers without a login.
        healthcheck = ["curl", "-fsS", "-o", "/dev/null", f"http://127.0.0.1:{PORT}/api/health"]
        uploads = []
        if web is not None:
            env.update({"GF_SERVER_PROTOCOL": "https", "GF_SERVER_CERT_FILE": FILES.cert,
                        "GF_SERVER_CERT_KEY": FILES.key})
            uploads = web.tls_uploads(FILES)
            # Verified against the CA under the name its clients check, reached on loopback.
            healthcheck = ["curl", "-fsS", "-o", "/dev/null", "--cacert", FILES.ca,
                           "--resolve", f"{web.server_name}:{PORT}:127.0.0.1",
                           f"https://{web.server_name}:{PORT}/api/health"]
        envs: list[pulumi.Input[str]] = [f"{k}={v}" for k, v in sorted(env.items())]
        envs.append(secret_env("GF_SECURITY_ADMIN_PASSWORD", self.admin_password))
        # Regenerated with the stack if lost: Grafana and Prometheus always get it together.
        metrics = random.RandomPassword(f"{resource_name}-metrics-password", length=32, special=False,
                                        opts=pulumi.ResourceOptions(parent=self))
        self.metrics_password = pulumi.Output.secret(metrics.result)
        envs.append(secret_env("GF_METRICS_BASIC_AUTH_PASSWORD", self.metrics_password))

        spec = service_spec(
            "grafana", cfg, args,
            envs=envs,
            # Sets the admin password from the environment at every start (a rotation applies).
            entrypoint=ENTRYPOINT,
            healthcheck=healthcheck,
            uploads=uploads, secret_uploads=web is not None,
        )
        self.container = published_server(resource_name, self, spec=spec, port=PORT, host_port=cfg.port,
                                          data_path="/var/lib/grafana")
        self.url = published_url(args.placement.bind_address, cfg.port, args.secret or args.placement.secret,
                                 "https" if web is not None else "http")
        self.target = f"{spec.container_name}:{PORT}"
        self.register_outputs({"url": self.url, "admin_user": self.admin_user,
                               "admin_password": self.admin_password})
