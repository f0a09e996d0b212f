"""Alertmanager: routes Prometheus' alerts to the configured receivers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pulumi
import pulumi_docker as docker

from components.alertmanager.config import render_alertmanager_config
from components.config import AlertmanagerConfig
from components.containers import ServiceArgs, published_server, published_url, service_spec
from components.web_access import WebServing
from components.web_config import ServerFiles

CONFIG_PATH = "/etc/alertmanager/alertmanager.yml"
PORT = 9093
FILES = ServerFiles("/etc/alertmanager")
# Its own password, for the healthcheck (amtool).
OWN_PASSWORD_FILE = "/etc/alertmanager/secrets/alertmanager-password"


@dataclass(kw_only=True)
class AlertmanagerArgs(ServiceArgs):
    config: AlertmanagerConfig
    # https and basic auth on its port (tls.enabled), or None: plain http.
    web: WebServing | None = None


class Alertmanager(pulumi.ComponentResource):
    # For type checkers only: Pulumi reads a component's class annotations again at every registration.
    if TYPE_CHECKING:
        container: docker.Container
        target: str
        url: pulumi.Output[str]

    def __init__(self, resource_name: str, args: AlertmanagerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("monitoring:index:Alertmanager", resource_name, None, opts)
        cfg = args.config
        # Receivers carry webhook URLs, SMTP passwords and Slack URLs: the whole file is a secret.
        rendered = pulumi.Output.secret(render_alertmanager_config(cfg))
        # One instance: clustering off (on by default, it exits without a private address).
        command = [f"--config.file={CONFIG_PATH}", "--storage.path=/alertmanager", "--cluster.listen-address="]
        # prom/alertmanager is busybox-based: wget, no curl.
        healthcheck = ["wget", "-q", "-O", "/dev/null", f"http://127.0.0.1:{PORT}/-/ready"]
        uploads = [docker.ContainerUploadArgsDict(file=CONFIG_PATH, content=rendered)]
        web = args.web
        if web is not None:
            uploads += web.server_uploads(FILES, OWN_PASSWORD_FILE)
            command.append(f"--web.config.file={FILES.web_config}")
            # Every path asks for the password: amtool (in the image) reads the status API over https with it.
            healthcheck = ["amtool", f"--alertmanager.url=https://localhost:{PORT}",
                           f"--http.config.file={FILES.client_config}", "config", "show"]
        spec = service_spec("alertmanager", cfg, args, command=command, healthcheck=healthcheck,
                            uploads=uploads, secret_uploads=True)
        # Silences and the notification log: worth keeping (retained on delete), not worth
        # blocking `enabled: false` for, which a protected volume would.
        self.container = published_server(resource_name, self, spec=spec, port=PORT, host_port=cfg.port,
                                          data_path="/alertmanager", protect_data=False)
        self.target = f"{spec.container_name}:{PORT}"
        self.url = published_url(args.placement.bind_address, cfg.port, args.secret or args.placement.secret,
                                 "https" if web is not None else "http")
        self.register_outputs({"url": self.url, "target": self.target})
